/**
 * TaskPool: encoded tasks run in worker threads with the same results as in-process, services are
 * answered across threads, and user code that throws, exits, crashes in a timer, loops forever or
 * exhausts its heap ends its task (and at most its thread), never the pool.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { decode, encode } from '../../src/protocol/codec.js';
import { Accumulator } from '../../src/rdd/accumulator.js';
import { Broadcast } from '../../src/rdd/broadcast.js';
import { lib, shipFunction } from '../../src/rdd/functions.js';
import type {
  NodeOf,
  NodeOp,
  NodeParams,
  NodeSpec,
  ShuffleSpec,
  TaskDesc,
  TaskOutputSpec,
} from '../../src/rdd/lineage.js';
import { runTask, type ShuffleRead, type TaskResult } from '../../src/rdd/runner.js';
import { bucketOf, type MapOutput } from '../../src/rdd/map-output.js';
import {
  TaskPool,
  threadEntry,
  type PoolServices,
  type TaskOutcome,
  type TaskPoolOptions,
} from '../../src/worker/task-pool.js';
import { sharedCpus } from '../../src/worker/worker.js';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'microspark-task-pool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let pools: TaskPool[] = [];
function makePool(options: TaskPoolOptions): TaskPool {
  const pool = new TaskPool(options);
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  for (const p of pools) expect(p.live).toBe(0);
  pools = [];
});

// --- lineages built by hand

function node<K extends NodeOp>(
  op: K,
  n: number,
  parents: string[],
  p: NodeParams[K],
  shuffles: ShuffleSpec[] = [],
): NodeOf<K> {
  return { op, n, parents, shuffles, p };
}

const COLLECT: TaskOutputSpec = { kind: 'result', fn: lib('collect') };
/** range(0, 10) in 2 partitions: [0..4], [5..9]. */
const RANGE = node('range', 2, [], { start: 0, step: 1, count: 10 });

function task(
  nodes: Record<string, NodeSpec>,
  root: string,
  partition: number,
  output: TaskOutputSpec = COLLECT,
): TaskDesc {
  return { stageId: 1, attempt: 0, nodes, root, partition, output };
}

const rangeTask = (partition: number) => task({ r: RANGE }, 'r', partition);

function mapTask(fn: (...args: any[]) => unknown, partition: number, env?: unknown): TaskDesc {
  const m = node('map', 2, ['r'], { f: shipFunction(fn, env, 'test.map') });
  return task({ r: RANGE, m }, 'm', partition);
}

/** A source-less one-partition task whose only element goes through `fn`. */
function oneTask(fn: (...args: any[]) => unknown): TaskDesc {
  const r = node('range', 1, [], { start: 1, step: 1, count: 1 });
  return task({ r, m: node('map', 1, ['r'], { f: shipFunction(fn, undefined, 'test.map') }) }, 'm', 0);
}

function loopTask(): TaskDesc {
  return oneTask((x: number) => {
    let i = x;
    for (;;) if (++i < 0) return i; // never: i only grows
  });
}

/** Services over maps, counting calls. */
class TestServices implements PoolServices {
  readonly calls: string[] = [];
  constructor(
    readonly slices = new Map<string, Uint8Array[]>(),
    readonly shuffles = new Map<string, MapOutput[]>(),
    readonly broadcasts = new Map<string, unknown>(),
  ) {}
  readSlice(dataId: string, slice: number): Promise<Uint8Array> {
    this.calls.push(`readSlice ${dataId} ${slice}`);
    const s = this.slices.get(dataId)?.[slice];
    return s ? Promise.resolve(s) : Promise.reject(new RangeError(`no slice ${dataId}/${slice}`));
  }
  readShuffle(shuffleId: string, part: number, numMaps: number): Promise<ShuffleRead> {
    this.calls.push(`readShuffle ${shuffleId} ${part} ${numMaps}`);
    const maps = this.shuffles.get(shuffleId);
    if (!maps) return Promise.reject(new RangeError(`no shuffle ${shuffleId}`));
    const buckets = maps.map((out) => bucketOf(out, part));
    const bytes = buckets.reduce((n, b) => n + b.byteLength, 0);
    const blocks = buckets.filter((b) => b.byteLength > 0).length;
    return Promise.resolve({
      buckets,
      localBytes: 0,
      localBlocks: 0,
      remoteBytes: bytes,
      remoteBlocks: blocks,
    });
  }
  readBlock(id: string): Promise<Uint8Array | undefined> {
    this.calls.push(`readBlock ${id}`);
    return Promise.resolve(undefined);
  }
  broadcastValue(id: string): Promise<unknown> {
    this.calls.push(`broadcastValue ${id}`);
    return this.broadcasts.has(id)
      ? Promise.resolve(this.broadcasts.get(id))
      : Promise.reject(new RangeError(`no broadcast ${id}`));
  }
}

/** The task run in-process through the wire encoding, as the in-process backend does. */
async function inProcess(desc: TaskDesc, services: PoolServices): Promise<TaskResult> {
  const r = await runTask(decode<TaskDesc>(encode(desc)), services);
  return decode<TaskResult>(encode(r));
}

/** A task's result without its measured times (they differ between two runs of it). */
function untimed(r: TaskResult): TaskResult {
  if (!r.metrics) return r;
  // CPU time is measured only on task threads (not in process): a time, like the others.
  const { executorRunTime: _r, gcTime: _g, shuffleFetchWaitTime: _f, executorCpuTime: _c, ...sizes } = r.metrics; // prettier-ignore
  return { ...r, metrics: sizes as TaskResult['metrics'] };
}

function expectOk(o: TaskOutcome): TaskResult {
  if (!o.ok) expect.fail(`task failed: ${o.error.name}: ${o.error.message}\n${o.error.stack ?? ''}`);
  return o.result;
}

function expectError(o: TaskOutcome, name: string, userError: boolean) {
  expect(o.ok).toBe(false);
  if (o.ok) throw new Error('unreachable');
  expect(o.error.name).toBe(name);
  expect(o.userError).toBe(userError);
  return o;
}

/** Bytes as plain numbers (Buffer and Uint8Array compare equal). */
const plain = (b: Uint8Array | undefined) => (b ? Array.from(b) : undefined);

const noServices = new TestServices();

describe('TaskPool options and thread entry', () => {
  it('validates threads and taskTimeoutMs', () => {
    for (const threads of [0, -1, 1.5, Number.NaN])
      expect(() => new TaskPool({ threads })).toThrow(RangeError);
    expect(() => new TaskPool({ threads: 1, taskTimeoutMs: 0 })).toThrow(RangeError);
    for (const recycleHeapMb of [-1, Number.NaN, Infinity])
      expect(() => new TaskPool({ threads: 1, recycleHeapMb })).toThrow(RangeError);
    for (const cpus of [0, 3, 1.5]) expect(() => new TaskPool({ threads: 2, cpus })).toThrow(RangeError);
    const pool = new TaskPool({ threads: 3 });
    expect([pool.size, pool.cpus, pool.busy, pool.live, pool.queued]).toEqual([3, 3, 0, 0, 0]);
  });

  it('runs task-thread.ts through tsx from source and task-thread.js when built', () => {
    const src = threadEntry();
    expect(src.typescript).toBe(true);
    expect(src.file.pathname.endsWith('/src/worker/task-thread.ts')).toBe(true);
    expect(src.options.eval).toBe(true);
    expect(src.options.execArgv?.some((a) => a.includes('tsx'))).toBe(false);

    const dist = join(tmp, 'dist-worker');
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'task-thread.js'), '');
    const built = threadEntry(pathToFileURL(join(dist, 'task-pool.js')));
    expect(built.typescript).toBe(false);
    expect(built.filename).toEqual(pathToFileURL(join(dist, 'task-thread.js')));
    expect(built.options).toEqual({});
  });
});

describe('TaskPool runs tasks', () => {
  it('runs range and map tasks on 2 threads with the in-process results', async () => {
    const pool = makePool({ threads: 2 });
    const descs = [
      rangeTask(0),
      rangeTask(1),
      mapTask((x: number) => x * x, 0),
      mapTask((x: number) => x * x, 1),
      mapTask((x: number, env: { k: number }) => ({ x, y: x + env.k }), 0, { k: 100 }),
      mapTask((x: number, env: { k: number }) => ({ x, y: x + env.k }), 1, { k: 100 }),
    ];
    const outcomes = await Promise.all(descs.map((d) => pool.run(encode(d), noServices)));
    const results = outcomes.map((o) => expectOk(o).result);
    expect(results.slice(0, 4)).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [0, 1, 4, 9, 16],
      [25, 36, 49, 64, 81],
    ]);
    expect(results[5]).toEqual([5, 6, 7, 8, 9].map((x) => ({ x, y: x + 100 })));
    for (let i = 0; i < descs.length; i++) {
      expect(untimed(expectOk(outcomes[i]!))).toEqual(untimed(await inProcess(descs[i]!, noServices)));
    }
    expect(pool.live).toBe(2);
    expect(pool.busy).toBe(0);
  });

  it('prestart() starts every thread before any task, and they run tasks at once', async () => {
    const pool = makePool({ threads: 2 });
    expect(pool.live).toBe(0);
    pool.prestart();
    expect(pool.live).toBe(2);
    pool.prestart(); // idempotent
    expect(pool.live).toBe(2);
    const desc = rangeTask(1);
    expect(expectOk(await pool.run(encode(desc), noServices)).result).toEqual([5, 6, 7, 8, 9]);
    expect(pool.live).toBe(2);
  });

  it('runs the next task on the thread that finished last (one heap grows, not each)', async () => {
    const pool = makePool({ threads: 2 });
    pool.prestart();
    // Made from text, so that vitest's transform leaves their import() alone.
    const threadIdAfter = (ms: number) =>
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a function from text on purpose (see above)
      new Function(
        `return async () => { await new Promise((r) => setTimeout(r, ${ms})); return (await import('node:worker_threads')).threadId; }`,
      )() as () => Promise<number>;
    const r = node('range', 1, [], { start: 1, step: 1, count: 1 });
    const threadOf = (ms: number) =>
      encode(
        task(
          { r, m: node('map', 1, ['r'], { f: shipFunction(threadIdAfter(ms), undefined, 'rdd.map') }) },
          'm',
          0,
        ),
      );
    const idOf = async (p: Promise<TaskOutcome>) => (expectOk(await p).result as number[])[0];
    // Both threads run one task; the second one finishes last.
    const [first, last] = await Promise.all([
      idOf(pool.run(threadOf(500), noServices)),
      idOf(pool.run(threadOf(1000), noServices)),
    ]);
    expect(first).not.toBe(last);
    for (let i = 0; i < 4; i++) expect(await idOf(pool.run(threadOf(0), noServices))).toBe(last);
    expect(pool.live).toBe(2);
  });

  it('queues FIFO when all threads are busy', async () => {
    const pool = makePool({ threads: 2 });
    const n = 6;
    const slices = Array.from({ length: n }, (_, i) => encode([i * 10, i * 10 + 1]));
    const started: number[] = [];
    const finished: number[] = [];
    const gates = Array.from({ length: n }, () => {
      let open!: () => void;
      const promise = new Promise<void>((r) => (open = r));
      return { promise, open };
    });
    const par = node('parallelize', n, [], { dataId: 'fifo' });
    const runs = Array.from({ length: n }, (_, i) => {
      const services = new TestServices();
      services.readSlice = async (_dataId, slice) => {
        started.push(i);
        await gates[i]!.promise;
        return slices[slice]!;
      };
      return pool.run(encode(task({ p: par }, 'p', i)), services).then((o) => {
        finished.push(i);
        return o;
      });
    });
    await vi.waitFor(() => expect(started.length).toBe(2), { timeout: 10_000 });
    expect([...started].sort((a, b) => a - b)).toEqual([0, 1]);
    expect([pool.busy, pool.queued, pool.live]).toEqual([2, 4, 2]);
    for (let i = 0; i < n; i++) {
      gates[i]!.open();
      expect(expectOk(await runs[i]!).result).toEqual([i * 10, i * 10 + 1]);
      // Task i's thread is free: the oldest queued task (i + 2) starts on it, and only that one.
      if (i + 2 < n) await vi.waitFor(() => expect(started.length).toBe(i + 3));
      expect(started.length).toBe(Math.min(n, i + 3));
    }
    expect(started.slice(2)).toEqual([2, 3, 4, 5]);
    expect(finished).toEqual([0, 1, 2, 3, 4, 5]);
    expect([pool.busy, pool.queued]).toEqual([0, 0]);
  });

  it("reads a 'parallelize' slice through the services, once per task", async () => {
    const pool = makePool({ threads: 1 });
    const data = [
      [1, 'a'],
      [2, 'b'],
      [3, 'c', { deep: [true, null] }],
    ];
    const services = new TestServices(new Map([['d1', data.map((s) => encode(s))]]));
    const par = node('parallelize', 3, [], { dataId: 'd1' });
    const m = node('map', 3, ['p'], {
      f: shipFunction((x: unknown) => [x, typeof x], undefined, 'test.map'),
    });
    const outcomes: TaskOutcome[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await pool.run(encode(task({ p: par, m }, 'm', i)), services));
    expect(outcomes.map((o) => expectOk(o).result)).toEqual(data.map((s) => s.map((x) => [x, typeof x])));
    expect(services.calls).toEqual(['readSlice d1 0', 'readSlice d1 1', 'readSlice d1 2']);
    // The slices the services handed out are still usable (copied, not transferred away).
    expect(data.map((_, i) => decode(services.slices.get('d1')![i]!))).toEqual(data);

    // A service that fails fails the task, but not as a user error.
    const missing = await pool.run(
      encode(task({ p: node('parallelize', 1, [], { dataId: 'gone' }) }, 'p', 0)),
      services,
    );
    const o = expectError(missing, 'RangeError', false);
    expect(o.service).toBe('readSlice');
    expect(o.error.message).toBe('no slice gone/0');
    expect(services.calls).toHaveLength(4);
  });

  it('writes shuffle buckets and reads them back through readShuffle', async () => {
    const pool = makePool({ threads: 2 });
    const pairs = node('map', 2, ['r'], {
      f: shipFunction((x: number) => [x % 3, x], undefined, 'test.map'),
    });
    const shuffle: ShuffleSpec = {
      id: 'sh1',
      parent: 'pairs',
      numMaps: 2,
      partitioner: { kind: 'hash', n: 2 },
      agg: { merge: lib('add'), combine: lib('add') },
      mapSideCombine: true,
    };
    const nodes = { r: RANGE, pairs, red: node('shuffled', 2, [], {}, [shuffle]) };
    const services = new TestServices();
    const mapDescs = [0, 1].map((m) => task(nodes, 'pairs', m, { kind: 'shuffle', shuffle }));
    const maps = await Promise.all(mapDescs.map((d) => pool.run(encode(d), services)));
    const outputs = maps.map((o) => expectOk(o).mapOutput!);
    for (let m = 0; m < 2; m++) {
      const expected = (await inProcess(mapDescs[m]!, services)).mapOutput!;
      expect(plain(outputs[m]!.data)).toEqual(plain(expected.data));
      expect(outputs[m]!.index).toEqual(expected.index);
    }
    services.shuffles.set('sh1', outputs);
    const reduced = await Promise.all([0, 1].map((p) => pool.run(encode(task(nodes, 'red', p)), services)));
    const all = reduced.flatMap((o) => expectOk(o).result as Array<[number, number]>);
    expect(all.sort((a, b) => a[0] - b[0])).toEqual([
      [0, 0 + 3 + 6 + 9],
      [1, 1 + 4 + 7],
      [2, 2 + 5 + 8],
    ]);
    expect(services.calls.sort()).toEqual(['readShuffle sh1 0 2', 'readShuffle sh1 1 2']);
    // The reducers' read metrics crossed the thread boundary as the services reported them.
    const metrics = reduced.map((o) => expectOk(o).metrics!);
    const sizes = [0, 1].map((p) => outputs.reduce((n, out) => n + bucketOf(out, p).byteLength, 0));
    expect(
      metrics.map((m) => [m.shuffleRemoteBytesRead, m.shuffleLocalBytesRead, m.shuffleReadBytes]),
    ).toEqual(sizes.map((n) => [n, 0, n]));
    expect(metrics.map((m) => m.shuffleRemoteBlocksFetched)).toEqual([2, 2]);
  });

  it('fetches broadcast values and returns accumulator updates', async () => {
    const pool = makePool({ threads: 1 });
    const b = new Broadcast('bc1', { k: 10 }, { releaseBroadcast: () => {} });
    const acc = new Accumulator('acc1', 0, undefined);
    const desc = mapTask(
      (x: number, env: { b: { value: { k: number } }; acc: { add(v: number): void } }) => {
        env.acc.add(x);
        return x * env.b.value.k;
      },
      1,
      { b, acc },
    );
    const services = new TestServices(undefined, undefined, new Map([['bc1', { k: 10 }]]));
    const r = expectOk(await pool.run(encode(desc), services));
    expect(r.result).toEqual([50, 60, 70, 80, 90]);
    expect(r.accumulators).toEqual([['acc1', 5 + 6 + 7 + 8 + 9]]);
    expect(services.calls).toEqual(['broadcastValue bc1']);
    expect(untimed(r)).toEqual(untimed(await inProcess(desc, services)));
  });
  it('runs at most `cpus` CPU-bound tasks at once; other tasks take the free threads meanwhile', async () => {
    const pool = makePool({ threads: 3, cpus: 1 });
    pool.prestart();
    const n = 4;
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const par = node('parallelize', n, [], { dataId: 'cpus' });
    const start = (name: string, partition: number, cpuBound: boolean) => {
      const services = new TestServices();
      services.readSlice = async () => {
        started.push(name);
        await new Promise<void>((r) => gates.set(name, r));
        return encode([partition]);
      };
      return pool.run(encode(task({ p: par }, 'p', partition)), services, { cpuBound });
    };
    // Two CPU-bound tasks, then two others: the second CPU-bound one waits for the first, and
    // the two others run beside the first at once.
    const runs = [
      start('cpu0', 0, true),
      start('cpu1', 1, true),
      start('io2', 2, false),
      start('io3', 3, false),
    ];
    await vi.waitFor(() => expect(started.length).toBe(3), { timeout: 10_000 });
    expect([...started].sort()).toEqual(['cpu0', 'io2', 'io3']); // the threads start them in any order
    expect([pool.busy, pool.queued]).toEqual([3, 1]);
    gates.get('io2')!();
    expect(expectOk(await runs[2]!).result).toEqual([2]);
    // A thread is free, but the only queued task is CPU-bound and one such runs.
    await new Promise((r) => setTimeout(r, 100));
    expect(started.length).toBe(3);
    expect([pool.busy, pool.queued]).toEqual([2, 1]);
    gates.get('cpu0')!();
    expect(expectOk(await runs[0]!).result).toEqual([0]);
    await vi.waitFor(() => expect(started.length).toBe(4));
    expect(started[3]).toBe('cpu1');
    gates.get('cpu1')!();
    gates.get('io3')!();
    expect((await Promise.all(runs)).map((o) => expectOk(o).result)).toEqual([[0], [1], [2], [3]]);
    expect([pool.busy, pool.queued]).toEqual([0, 0]);
  });

  it('setCpus: a queued CPU-bound task starts at once when the limit rises; the limit stays in 1..threads', async () => {
    const pool = makePool({ threads: 2, cpus: 1 });
    pool.prestart();
    const started: number[] = [];
    const gates: Array<() => void> = [];
    const par = node('parallelize', 2, [], { dataId: 'set-cpus' });
    const runs = [0, 1].map((partition) => {
      const services = new TestServices();
      services.readSlice = async () => {
        started.push(partition);
        await new Promise<void>((r) => (gates[partition] = r));
        return encode([partition]);
      };
      return pool.run(encode(task({ p: par }, 'p', partition)), services, { cpuBound: true });
    });
    await vi.waitFor(() => expect(started).toEqual([0]), { timeout: 10_000 });
    expect(pool.queued).toBe(1);
    pool.setCpus(2);
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    gates[0]!();
    gates[1]!();
    expect((await Promise.all(runs)).map((o) => expectOk(o).result)).toEqual([[0], [1]]);
    pool.setCpus(5);
    expect(pool.cpus).toBe(2);
    pool.setCpus(0);
    expect(pool.cpus).toBe(1);
  });

  it('sharedCpus: the CPUs over the live workers on the host, at least 1, at most the slots', () => {
    expect(sharedCpus(2, 1, 2)).toBe(2); // one daemon per machine: every CPU
    expect(sharedCpus(2, 2, 2)).toBe(1); // a local cluster of 2 on 2 CPUs
    expect(sharedCpus(2, 3, 2)).toBe(1); // never 0
    expect(sharedCpus(8, 2, 8)).toBe(4);
    expect(sharedCpus(8, 1, 3)).toBe(3); // never above the slots
    expect(sharedCpus(2, 0, 2)).toBe(2);
  });
});

describe('TaskPool replaces threads whose heap grew', () => {
  it('replaces a thread after a task only when no task waits for it, and a prestarted pool at once', async () => {
    // Every thread's heap is larger than 1 MiB after a task: each idle moment replaces it.
    const pool = makePool({ threads: 1, recycleHeapMb: 1 });
    const three = await Promise.all([0, 1, 0].map((p) => pool.run(encode(rangeTask(p)), noServices)));
    expect(three.map((o) => expectOk(o).result)).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [0, 1, 2, 3, 4],
    ]);
    expect(pool.recycled).toBe(1); // after the last of the three, not between them
    await vi.waitFor(() => expect(pool.live).toBe(0)); // not prestarted: no successor until a task comes
    expect(expectOk(await pool.run(encode(rangeTask(1)), noServices)).result).toEqual([5, 6, 7, 8, 9]);
    expect(pool.recycled).toBe(2);

    const pre = makePool({ threads: 2, recycleHeapMb: 1 });
    pre.prestart();
    expect(expectOk(await pre.run(encode(rangeTask(0)), noServices)).result).toEqual([0, 1, 2, 3, 4]);
    expect(pre.recycled).toBe(1);
    await vi.waitFor(() => expect(pre.live).toBe(2)); // the successor started, the old thread ended
    expect(expectOk(await pre.run(encode(rangeTask(1)), noServices)).result).toEqual([5, 6, 7, 8, 9]);
    expect(pre.recycled).toBe(2);
  });

  it('keeps threads by default after small tasks, and always with recycleHeapMb 0', async () => {
    for (const options of [{ threads: 1 }, { threads: 1, recycleHeapMb: 0 }]) {
      const pool = makePool(options);
      for (const p of [0, 1]) expectOk(await pool.run(encode(rangeTask(p)), noServices));
      expect([pool.recycled, pool.live]).toEqual([0, 1]);
    }
  });
});

describe('TaskPool survives user code', () => {
  it('reports a throw as a user error with the remote stack, on a thread that lives on', async () => {
    const pool = makePool({ threads: 1 });
    const desc = mapTask((x: number) => {
      if (x === 3) throw new TypeError(`bad x ${x}`);
      return x;
    }, 0);
    const o = expectError(await pool.run(encode(desc), noServices), 'TypeError', true);
    expect(o.error.message).toBe('bad x 3');
    expect(o.error.stack).toContain('TypeError: bad x 3');
    expect(o.error.stack).toContain('microspark-fn');
    expect(expectOk(await pool.run(encode(rangeTask(0)), noServices)).result).toEqual([0, 1, 2, 3, 4]);
    expect(pool.live).toBe(1);
  });

  it('reports process.exit in user code as a dead thread, and replaces the thread', async () => {
    const pool = makePool({ threads: 1 });
    const desc = oneTask((x: number) => {
      globalThis.process.exit(3);
      return x;
    });
    const o = expectError(await pool.run(encode(desc), noServices), 'WorkerThreadDied', false);
    expect(o.error.message).toBe('the task thread died: exited with code 3');
    expect(o.error.data).toEqual({ exitCode: 3 });
    expect(expectOk(await pool.run(encode(rangeTask(1)), noServices)).result).toEqual([5, 6, 7, 8, 9]);
    expect(pool.live).toBe(1);
  });

  it('reports an uncaught exception in a timer as a dead thread', async () => {
    const pool = makePool({ threads: 1 });
    const f = shipFunction(
      async function* (_it: Iterator<unknown>) {
        globalThis.setTimeout(() => {
          throw new Error('late boom');
        }, 10);
        await new Promise(() => {});
        yield 1;
      },
      undefined,
      'rdd.mapPartitions',
    );
    const desc = task({ r: RANGE, mp: node('mapPartitions', 2, ['r'], { f }) }, 'mp', 0);
    const o = expectError(await pool.run(encode(desc), noServices), 'WorkerThreadDied', false);
    expect(o.error.message).toBe('the task thread died: uncaught Error: late boom');
    expect(expectOk(await pool.run(encode(rangeTask(0)), noServices)).result).toEqual([0, 1, 2, 3, 4]);
  });

  it('reports a thread out of memory as TaskOutOfMemoryError (a task failure) and replaces the thread', async () => {
    const pool = makePool({ threads: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    const desc = oneTask((x: number) => {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(10_000).fill(x));
    });
    const o = expectError(await pool.run(encode(desc), noServices), 'TaskOutOfMemoryError', true);
    expect(o.error.message).toMatch(
      /ran out of memory: a task thread's heap is limited to 32 MiB by the worker's --task-heap/,
    );
    expect(o.error.data).toEqual({ heapMb: 32 });
    expect(expectOk(await pool.run(encode(rangeTask(0)), noServices)).result).toEqual([0, 1, 2, 3, 4]);
  });

  it('kills an endless loop after taskTimeoutMs and stays usable', async () => {
    const pool = makePool({ threads: 1, taskTimeoutMs: 300 });
    expectOk(await pool.run(encode(rangeTask(0)), noServices)); // thread started: time the task only
    const t0 = performance.now();
    const o = expectError(await pool.run(encode(loopTask()), noServices), 'TaskTimeoutError', true);
    const elapsed = performance.now() - t0;
    expect(o.error.message).toBe('task exceeded 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(299);
    expect(elapsed).toBeLessThan(1000);
    expect(expectOk(await pool.run(encode(rangeTask(1)), noServices)).result).toEqual([5, 6, 7, 8, 9]);
    await vi.waitFor(() => expect(pool.live).toBe(1)); // the looping thread is gone
  });

  it('cancels a running task, a queued task and an already aborted one by signal', async () => {
    const pool = makePool({ threads: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.run(encode(loopTask()), noServices, { signal: running.signal });
    const second = pool.run(encode(rangeTask(0)), noServices, { signal: queued.signal });
    await vi.waitFor(() => expect(pool.busy).toBe(1), { timeout: 10_000 });
    expect(pool.queued).toBe(1);
    queued.abort();
    expect(expectError(await second, 'JobCancelledError', false).error.message).toBe(
      'the task was cancelled',
    );
    expect(pool.busy).toBe(1); // the loop still runs
    running.abort();
    expectError(await first, 'JobCancelledError', false);
    expect(pool.busy).toBe(0);
    expectError(
      await pool.run(encode(rangeTask(0)), noServices, { signal: AbortSignal.abort() }),
      'JobCancelledError',
      false,
    );
    const after = new AbortController();
    expect(
      expectOk(await pool.run(encode(rangeTask(1)), noServices, { signal: after.signal })).result,
    ).toEqual([5, 6, 7, 8, 9]);
    after.abort(); // after the task ended: no effect
    expect(pool.busy).toBe(0);
  });

  it('close() ends running and queued tasks as worker errors and leaves no threads', async () => {
    const pool = makePool({ threads: 2 });
    const runs = [0, 1, 2].map(() => pool.run(encode(loopTask()), noServices));
    await vi.waitFor(() => expect(pool.busy).toBe(2), { timeout: 10_000 });
    expect(pool.queued).toBe(1);
    await pool.close();
    for (const o of await Promise.all(runs)) {
      expect(expectError(o, 'TaskPoolClosedError', false).error.message).toBe('the task pool was closed');
    }
    expect([pool.live, pool.busy, pool.queued]).toEqual([0, 0, 0]);
    expectError(await pool.run(encode(rangeTask(0)), noServices), 'TaskPoolClosedError', false);
    await pool.close(); // idempotent
  });

  it('lets the process exit: idle threads do not hold it, close() ends them', async () => {
    const script = join(tmp, 'pool-exit.mts');
    const url = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, p)).href);
    writeFileSync(
      script,
      `import { TaskPool } from ${url('src/worker/task-pool.ts')};
import { encode } from ${url('src/protocol/codec.ts')};
import { lib } from ${url('src/rdd/functions.ts')};
const pool = new TaskPool({ threads: 2 });
const r = { op: 'range', n: 1, parents: [], shuffles: [], p: { start: 0, step: 1, count: 3 } };
const task = encode({ stageId: 0, attempt: 0, nodes: { r }, root: 'r', partition: 0, output: { kind: 'result', fn: lib('collect') } });
const none = () => Promise.reject(new Error('none'));
const o = await pool.run(task, { readSlice: none, readShuffle: none, readBlock: none, broadcastValue: none });
process.stdout.write(JSON.stringify(o));
if (process.argv[2] === 'close') await pool.close();
`,
    );
    const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
    for (const mode of ['close', 'idle']) {
      const out = await new Promise<string>((done, fail) => {
        execFile(
          process.execPath,
          [tsx, script, mode],
          { cwd: ROOT, timeout: 20_000 },
          (err, stdout, stderr) => {
            if (err) fail(new Error(`${mode}: ${err.message} (killed: ${err.killed}) stderr=${stderr}`));
            else done(stdout);
          },
        );
      });
      const o = JSON.parse(out);
      expect(o).toMatchObject({
        ok: true,
        result: { result: [0, 1, 2], blocks: [], accumulators: [] },
      });
      expect(Object.keys(o.result).sort()).toEqual(['accumulators', 'blocks', 'metrics', 'result']);
      expect(o.result.metrics).toMatchObject({ inputRecords: 0, shuffleWriteRecords: 0, sqlRows: 0 });
    }
  });
});
