/**
 * A function written in Rust: Levenshtein distance over pairs of strings, element by element and one
 * batch per partition. The guest is test/wasm/fixtures/rust/strdist.rs (ABI: docs/WASM.md), built with
 * Debian's rustc (wasm32-unknown-unknown, no crates) by `npm run wasm:fixtures`; the build is committed.
 *   npx microspark run examples/wasm-rust.ts --local 2
 */
import type { MicroSpark, WasmModule } from '../src/index.js'; // in your project: from 'microspark'

export default async function main(sc: MicroSpark): Promise<void> {
  const m = await sc.wasm('test/wasm/fixtures/rust/strdist.wasm', { maxMemoryMb: 16, timeoutMs: 5000 });
  const pairs = sc.parallelize(
    [
      ['kitten', 'sitting'],
      ['flaw', 'lawn'],
      ['intention', 'execution'],
      ['spark', 'shark'],
    ],
    2,
  );
  const each = await pairs.map((p, env: { m: WasmModule }) => env.m.distance(p) as number, { m }).collect();
  const batched = await pairs
    .mapPartitions((it, env: { m: WasmModule }) => env.m.distances([...it]) as number[], { m })
    .collect();
  console.log('element by element:', each); // [3, 2, 5, 1]
  console.log('one call per partition:', batched); // the same
  console.log('a numeric export on the client:', m.fnv1a(42));
}
