/**
 * A worker killed (SIGKILL) while it runs a WebAssembly task: the lease is re-posted, another
 * worker instantiates the module and the action gives the in-process result. Timeouts are
 * shortened (heartbeat 200 ms, dead after 1 s) as in test/chaos.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MicroSpark, type WasmModule } from '../../src/index.js';
import { wat } from './guests.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000, noWorkerGraceMs: 2000 } as const;
const contexts: MicroSpark[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(contexts.splice(0).map((sc) => sc.stop()));
});

async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Each element burns ~80 M guest iterations, so each task runs for a while inside the guest. */
async function run(sc: MicroSpark, g: WasmModule) {
  return sc
    .parallelize([1, 2, 3, 4, 5, 6], 3)
    .map((x, env: { g: WasmModule }) => env.g.burn(x, 80) as number, { g })
    .collect();
}

describe('WASM: a worker killed while running a WASM task', () => {
  it('the task is re-run on another worker; the result equals the in-process one', async () => {
    const bytes = await wat('guest.wat');
    const local = await MicroSpark.inProcess();
    contexts.push(local);
    const expected = await run(local, await local.wasm(bytes, { name: 'g' }));
    expect(expected).toEqual([2, 4, 6, 8, 10, 12]);

    const sc = await MicroSpark.local({ workers: 3, defaultParallelism: 3, ...FAST });
    contexts.push(sc);
    const cluster = sc.cluster!;
    const g = await sc.wasm(bytes, { name: 'g' });
    const action = run(sc, g);
    const [, holder] = await waitFor(() => [...cluster.leases()][0]);
    const victim = sc.localWorkers.find((w) => w.node === holder)!;
    pids.push(victim.child.pid!);
    const exited = new Promise<NodeJS.Signals | null>((r) => victim.child.once('exit', (_c, s) => r(s)));
    process.kill(victim.child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL'); // the fault fired
    expect(await action).toEqual(expected);
    expect(cluster.counters.reannounced).toBeGreaterThanOrEqual(1); // its lease was re-posted
    // The survivors still serve WASM tasks.
    expect(
      await sc
        .parallelize([7, 8], 2)
        .map((x, env: { g: WasmModule }) => env.g.score(x), { g })
        .collect(),
    ).toEqual([50, 65]);
  }, 60_000);
});
