/**
 * A function written in AssemblyScript, compiled here with the `assemblyscript` package (a dev
 * dependency): x * x + 1 over numbers, element by element and as one in-place f64 batch per
 * partition (`mapF64`), and a string function. Guest: test/wasm/fixtures/as/guest.ts.
 *   npx microspark run examples/wasm-assemblyscript.ts --local 2
 */
import { readFileSync } from 'node:fs';
import asc from 'assemblyscript/asc';
import type { MicroSpark, WasmModule } from '../src/index.js'; // in your project: from 'microspark'

export default async function main(sc: MicroSpark): Promise<void> {
  const source = readFileSync('test/wasm/fixtures/as/guest.ts', 'utf8');
  // The stub runtime and no abort import: a guest imports nothing unless granted.
  const out = await asc.compileString(
    { 'guest.ts': source },
    { optimizeLevel: 3, runtime: 'stub', use: ['abort='] },
  );
  if (out.error || !out.binary) throw new Error(`asc failed: ${String(out.error)}`);
  const m = await sc.wasm(out.binary, { name: 'guest' });
  const xs = sc.range(0, 10, 1, 2);
  console.log(await xs.map((x, env: { m: WasmModule }) => env.m.score(x) as number, { m }).collect());
  console.log(
    await xs.mapPartitions((it, env: { m: WasmModule }) => env.m.mapF64('score_all', it), { m }).collect(),
  );
  console.log(
    await sc
      .parallelize(['hello', 'wasm'])
      .map((s, env: { m: WasmModule }) => env.m.shout(s) as string, { m })
      .collect(),
  );
}
