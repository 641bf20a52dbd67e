/**
 * `m.destroy()` on the client reaches every worker of a local cluster: each drops its copy of the
 * module's bytes, its compiled module, and each task thread its instance (counted in the pool's
 * WebAssembly stats, which workers publish in their records); another module stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, type WasmModule } from '../../src/index.js';
import type { WasmPoolStats } from '../../src/worker/task-pool.js';
import { wat } from './guests.js';

type Env = { a: WasmModule; b: WasmModule };

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('WasmModule.destroy on a local cluster of 2 daemons', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.local({ workers: 2, defaultParallelism: 4, heartbeatMs: 200 });
  }, 30_000);
  afterAll(async () => {
    await sc?.stop();
  });

  it('drops the compiled module and every instance on every worker; the other module stays', async () => {
    const bytes = await wat('guest.wat');
    const a = await sc.wasm(bytes, { name: 'a' });
    const b = await sc.wasm(bytes, { name: 'b' });
    const xs = Array.from({ length: 16 }, (_, i) => i);
    // Each element also says which daemon (pid) and which task thread (a tag in its global scope) ran it.
    const out = await sc
      .parallelize(xs, 16)
      .map(
        (x, env: Env) => {
          const g = globalThis as unknown as { __tag?: number; process: { pid: number } };
          g.__tag ??= Math.random();
          return [(env.a.score(x) as number) + (env.b.score(x) as number), g.process.pid, g.__tag] as const;
        },
        { a, b },
      )
      .collect();
    expect(out.map((r) => r[0])).toEqual(xs.map((x) => 2 * (x * x + 1)));
    const daemons = new Set(out.map((r) => r[1])).size;
    const threads = new Set(out.map((r) => `${r[1]}/${r[2]}`)).size;
    expect(daemons).toBeGreaterThanOrEqual(1);

    const total = (k: keyof WasmPoolStats) =>
      sc.cluster!.workerStatus().reduce((n, w) => n + (w.wasm?.[k] ?? 0), 0);
    // Two modules on each daemon that ran a task, two instances on each thread that did.
    await waitFor(() => total('compiled') === 2 * daemons && total('instantiated') === 2 * threads);
    expect([total('cached'), total('dropped'), total('instancesDropped')]).toEqual([2 * daemons, 0, 0]);

    a.destroy();
    await waitFor(() => total('instancesDropped') === threads && total('dropped') === daemons);
    expect(total('cached')).toBe(daemons);
    expect(total('compiled')).toBe(2 * daemons);
    expect(() => a.toEnvRef()).toThrow(/destroyed/);

    // b still works from the caches (no new compilation or instance).
    const again = await sc
      .parallelize(xs, 16)
      .map((x, env: { b: WasmModule }) => env.b.score(x) as number, { b })
      .collect();
    expect(again).toEqual(xs.map((x) => x * x + 1));
    await new Promise((r) => setTimeout(r, 500)); // two heartbeats: the records are current
    expect(total('compiled')).toBe(2 * daemons);
    expect(total('dropped')).toBe(daemons);
  }, 60_000);
});
