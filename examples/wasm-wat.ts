/**
 * A function written in the WebAssembly text format, compiled here with the `wabt` package (a dev
 * dependency). Also shows the sandbox: a call past `timeoutMs` fails its task with TaskTimeoutError
 * (on a worker its task thread is terminated) and the context carries on.
 *   npx microspark run examples/wasm-wat.ts --local 2
 */
import wabtInit from 'wabt';
import type { MicroSpark, WasmModule } from '../src/index.js'; // in your project: from 'microspark'

const WAT = `(module
  (memory (export "memory") 1)
  (func (export "microspark_abi_version") (result i32) (i32.const 1))
  (func (export "score") (param f64) (result f64)
    (f64.add (f64.mul (local.get 0) (local.get 0)) (f64.const 1)))
  (func (export "spin") (param f64) (result f64) (loop (br 0)) (local.get 0)))`;

export default async function main(sc: MicroSpark): Promise<void> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('score.wat', WAT);
  const m = await sc.wasm(new Uint8Array(mod.toBinary({}).buffer), { name: 'score', timeoutMs: 200 });
  mod.destroy();
  console.log(
    await sc
      .range(0, 8, 1, 2)
      .map((x, env: { m: WasmModule }) => env.m.score(x) as number, { m })
      .collect(),
  );
  try {
    await sc
      .parallelize([1], 1)
      .map((x, env: { m: WasmModule }) => env.m.spin(x) as number, { m })
      .collect();
  } catch (e) {
    console.log('as expected:', (e as Error & { cause?: Error }).cause?.message);
  }
  console.log(
    'still serving:',
    await sc
      .parallelize([3], 1)
      .map((x, env: { m: WasmModule }) => env.m.score(x) as number, { m })
      .collect(),
  );
}
