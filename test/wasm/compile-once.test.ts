/**
 * A worker compiles a WebAssembly module once (in its task pool, the daemon's main thread) and each
 * task thread instantiates it once: with 2 slots and 4 tasks, 1 compilation and 2 instances, no
 * thread compiling on its own; a thread replaced after a timeout instantiates the cached module
 * again without a new compilation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { encode } from '../../src/protocol/codec.js';
import { Broadcast } from '../../src/rdd/broadcast.js';
import { lib, shipFunction } from '../../src/rdd/functions.js';
import type { NodeSpec, TaskDesc } from '../../src/rdd/lineage.js';
import type { TaskResult } from '../../src/rdd/runner.js';
import type { WasmSpec } from '../../src/wasm/guest.js';
import { WasmModule, prepareWasm } from '../../src/wasm/module.js';
import { TaskPool, type PoolServices, type TaskOutcome } from '../../src/worker/task-pool.js';

/** `bump()` counts its calls per instance; `spin()` never returns. */
const COUNTER_WAT = `(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "microspark_abi_version") (result i32) (i32.const 1))
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))
  (func (export "spin") (result i32) (loop $l (br $l)) (i32.const 0)))`;

async function counterSpec(): Promise<WasmSpec> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('counter.wat', COUNTER_WAT);
  try {
    return await prepareWasm(new Uint8Array(mod.toBinary({}).buffer), { name: 'counter', timeoutMs: 300 });
  } finally {
    mod.destroy();
  }
}

function services(id: string, spec: WasmSpec): PoolServices & { fetches: number } {
  const none = () => Promise.reject(new RangeError('not in this test'));
  const s = {
    fetches: 0,
    readSlice: none,
    readShuffle: none,
    readBlock: none,
    broadcastValue: (bid: string) => {
      s.fetches++;
      return bid === id ? Promise.resolve(spec) : Promise.reject(new RangeError(`no broadcast ${bid}`));
    },
  };
  return s;
}

/** A one-element task: `fn(1, env)` with env `{ m }`. */
function oneTask(fn: (x: number, env: { m: WasmModule }) => unknown, m?: WasmModule): TaskDesc {
  const range: NodeSpec = {
    op: 'range',
    n: 1,
    parents: [],
    shuffles: [],
    p: { start: 1, step: 1, count: 1 },
  };
  const f = shipFunction(fn, m === undefined ? undefined : { m }, 'test.map');
  const map: NodeSpec = { op: 'map', n: 1, parents: ['r'], shuffles: [], p: { f } };
  return {
    stageId: 1,
    attempt: 0,
    nodes: { r: range, m: map },
    root: 'm',
    partition: 0,
    output: { kind: 'result', fn: lib('collect') },
  };
}

function ok(o: TaskOutcome): TaskResult {
  if (!o.ok) expect.fail(`task failed: ${o.error.name}: ${o.error.message}`);
  return o.result;
}

/** The pool's WebAssembly counters before anything happened. */
const NONE = {
  compiled: 0,
  instantiated: 0,
  compiledInThreads: 0,
  cached: 0,
  dropped: 0,
  instancesDropped: 0,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pool: TaskPool | undefined;
afterEach(async () => {
  await pool?.close();
  expect(pool?.live ?? 0).toBe(0);
  pool = undefined;
});

describe('WebAssembly modules on a worker', () => {
  it('are compiled once per pool and instantiated once per thread (2 slots, 4 tasks)', async () => {
    const spec = await counterSpec();
    const m = new WasmModule(spec, new Broadcast('wasm-counter', spec, { releaseBroadcast: () => {} }));
    const svc = services(m.id, spec);
    pool = new TaskPool({ threads: 2 });
    pool.prestart();
    // Until both threads have run a task (each tags its global scope), so both are idle and ready.
    const slow = oneTask(() => {
      const g = globalThis as { __tag?: number };
      g.__tag ??= Math.random();
      const until = Date.now() + 50;
      while (Date.now() < until);
      return g.__tag;
    });
    const tags = new Set<unknown>();
    for (let round = 0; tags.size < 2 && round < 100; round++) {
      const rs = await Promise.all([pool.run(encode(slow), svc), pool.run(encode(slow), svc)]);
      for (const r of rs) tags.add((ok(r).result as unknown[])[0]);
    }
    expect(tags.size).toBe(2);
    expect(pool.wasmStats).toEqual({ ...NONE });

    const bump = oneTask((_x, env) => [(globalThis as { __tag?: number }).__tag, env.m.bump() as number], m);
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => pool!.run(encode(bump), svc)));
    const byThread = new Map<unknown, number[]>();
    for (const o of outcomes) {
      const [tag, n] = (ok(o).result as [[unknown, number]])[0];
      byThread.set(tag, [...(byThread.get(tag) ?? []), n]);
    }
    // Both threads ran some; each thread's calls went to one instance (its count goes 1, 2, …).
    expect(byThread.size).toBe(2);
    for (const counts of byThread.values())
      expect([...counts].sort((a, b) => a - b)).toEqual(counts.map((_, i) => i + 1));
    expect(pool.wasmStats).toEqual({ ...NONE, compiled: 1, instantiated: 2, cached: 1 });
    // The threads fetched the spec once per task, the pool once to compile it.
    expect(svc.fetches).toBe(4 + 1);

    // A call past its timeout ends its thread; the new thread gets the cached module (no new compile).
    const spin = oneTask((_x, env) => env.m.spin(), m);
    const timedOut = await pool.run(encode(spin), svc);
    expect(timedOut.ok).toBe(false);
    expect(!timedOut.ok && timedOut.error.name).toBe('TaskTimeoutError');
    const slowBump = oneTask((_x, env) => {
      const until = Date.now() + 50;
      while (Date.now() < until);
      return env.m.bump() as number;
    }, m);
    // Until the replacement thread has run one (the surviving one may take both of a pair).
    for (let round = 0; pool.wasmStats.instantiated < 3 && round < 100; round++)
      for (const o of await Promise.all([1, 2].map(() => pool!.run(encode(slowBump), svc)))) ok(o);
    expect(pool.wasmStats).toEqual({ ...NONE, compiled: 1, instantiated: 3, cached: 1 });

    // The module is destroyed: the pool drops its compiled module, each live thread its instance
    // (the timed-out thread's died with it: 2 of the 3). A later task starts from nothing: the
    // pool compiles it again and the thread's new instance counts from 1.
    pool.forgetWasm([m.id]);
    for (let i = 0; pool.wasmStats.instancesDropped < 2 && i < 200; i++) await sleep(10);
    expect(pool.wasmStats).toEqual({
      ...NONE,
      compiled: 1,
      instantiated: 3,
      dropped: 1,
      instancesDropped: 2,
    });
    const again = ok(await pool.run(encode(bump), svc)).result as [[unknown, number]];
    expect(again[0][1]).toBe(1);
    expect(pool.wasmStats).toEqual({
      ...NONE,
      compiled: 2,
      instantiated: 4,
      cached: 1,
      dropped: 1,
      instancesDropped: 2,
    });
  }, 30_000);
});
