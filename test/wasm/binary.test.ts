/**
 * The pieces under sc.wasm, in process: reading export signatures and memories from the binary,
 * capping the memory maximum, the ABI's convention rules, and the instance's life in a thread
 * (kept across tasks, replaced after a trap).
 */
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { MicroSpark, WasmModuleError, type WasmModule } from '../../src/index.js';
import { capMemory, parseModule } from '../../src/wasm/binary.js';
import { inspectGuest } from '../../src/wasm/guest.js';
import { WebAssemblyApi } from '../../src/wasm/wasm-api.js';
import { wat } from './guests.js';

async function fromText(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('inline.wat', text);
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

const COUNTER = `(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "microspark_abi_version") (result i32) (i32.const 1))
  (func (export "next") (param $x i32) (result i32)
    (if (i32.eq (local.get $x) (i32.const -1)) (then unreachable))
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n)))`;

describe('WASM binary and ABI', () => {
  it('reads export signatures and the memory, and caps the maximum', async () => {
    const bytes = await wat('guest.wat');
    const shape = parseModule(bytes);
    expect(shape.imports).toEqual([]);
    expect(shape.memories).toEqual([{ flags: 0, min: 1 }]);
    const byName = new Map(shape.exports.map((e) => [e.name, e]));
    expect(byName.get('score')?.type).toEqual({ params: ['f64'], results: ['f64'] });
    expect(byName.get('echo')?.type).toEqual({ params: ['i32', 'i32'], results: ['i64'] });
    expect(byName.get('memory')).toEqual({ name: 'memory', kind: 'memory' });
    const capped = capMemory(bytes, 32);
    expect(parseModule(capped).memories).toEqual([{ flags: 1, min: 1, max: 32 }]);
    const inst = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(capped));
    const mem = inst.exports.memory as { grow(n: number): number };
    expect(mem.grow(31)).toBe(1);
    expect(() => mem.grow(1)).toThrow(RangeError);
  });

  it('a value signature needs alloc/dealloc unless listed in native', async () => {
    const bytes = await fromText(`(module
      (memory (export "memory") 1)
      (func (export "microspark_abi_version") (result i32) (i32.const 1))
      (func (export "pack") (param i32 i32) (result i64)
        (i64.or (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 32)) (i64.extend_i32_u (local.get 1)))))`);
    expect(() => inspectGuest('p', bytes, { wasi: false, native: [] })).toThrow(
      new WasmModuleError(
        "module 'p': pack(i32, i32) -> i64 is a value function, which needs exports alloc(i32) -> i32 and " +
          "dealloc(i32, i32) (ABI); list it in { native: ['pack'] } if it takes numbers",
        'p',
        'pack',
      ),
    );
    const info = inspectGuest('p', bytes, { wasi: false, native: ['pack'] });
    expect(info.functions.map((f) => [f.name, f.convention])).toEqual([['pack', 'number']]);
    const sc = await MicroSpark.inProcess();
    try {
      const m = await sc.wasm(bytes, { name: 'p', native: ['pack'] });
      expect(m.pack(1, 2)).toBe(2 ** 32 + 2);
    } finally {
      await sc.stop();
    }
  });

  it('an instance lives across tasks of a thread and is replaced after a trap', async () => {
    const sc = await MicroSpark.inProcess();
    try {
      const c = await sc.wasm(await fromText(COUNTER), { name: 'c' });
      const run = (xs: number[]) =>
        sc
          .parallelize(xs, 1)
          .map((x, env: { c: WasmModule }) => env.c.next(x) as number, { c })
          .collect();
      expect(await run([0, 0, 0])).toEqual([1, 2, 3]);
      expect(await run([0, 0])).toEqual([4, 5]);
      await expect(run([-1])).rejects.toThrow(/c\.next trapped: unreachable/);
      expect(await run([0, 0])).toEqual([1, 2]);
    } finally {
      await sc.stop();
    }
  });
});
