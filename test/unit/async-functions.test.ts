/**
 * Async functions in transformations and actions: awaited, a bounded window of elements in flight
 * per partition, results in input order, in process and on a local cluster. Methods that call
 * their function synchronously refuse an async one when it is defined. Functions are shipped as
 * source: they use only their arguments and env.
 */
/* eslint-disable @typescript-eslint/require-await -- async functions without an await are what users write */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FunctionShippingError,
  RemoteError,
  SerializationError,
  TaskFailedError,
  type MicroSpark,
} from '../../src/index.js';
import { ASYNC_CONCURRENCY } from '../../src/rdd/runner.js';
import { modes } from '../support/modes.js';

/** The error `fn` throws synchronously (fails the test if it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw');
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (e: unknown) => e as Error,
  );
}

describe.each(modes)('async functions ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create(4);
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('map awaits an async function and keeps the order when later elements finish first', async () => {
    const out = await sc
      .parallelize([1, 2, 3, 4, 5, 6, 7, 8], 2)
      .map(async (x) => {
        await new Promise((r) => setTimeout(r, (9 - x) * 3));
        return x * 2;
      })
      .collect();
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('filter awaits the predicate: count() counts only what it keeps', async () => {
    const rdd = sc.parallelize([1, 2, 3, 4, 5], 2).filter(async (x) => {
      await Promise.resolve();
      return x > 2;
    });
    expect(await rdd.count()).toBe(3);
    expect(await rdd.collect()).toEqual([3, 4, 5]);
  });

  it('flatMap awaits a promise of an array, and iterates an async generator', async () => {
    expect(
      await sc
        .parallelize([1, 2, 3], 2)
        .flatMap(async (x) => [x, x * 10])
        .collect(),
    ).toEqual([1, 10, 2, 20, 3, 30]);
    expect(
      await sc
        .parallelize([1, 2], 1)
        .flatMap(async function* (x) {
          yield x;
          await Promise.resolve();
          yield -x;
        })
        .collect(),
    ).toEqual([1, -1, 2, -2]);
  });

  it('mapValues, flatMapValues and keyBy await their functions, mixed with sync steps', async () => {
    const pairs = sc.parallelize(
      [
        ['a', 1],
        ['b', 2],
      ] as Array<[string, number]>,
      2,
    );
    expect(
      await pairs
        .mapValues(async (v) => v * 10)
        .map(([k, v]) => [k.toUpperCase(), v + 1] as [string, number])
        .flatMapValues(async (v) => [v, -v])
        .collect(),
    ).toEqual([
      ['A', 11],
      ['A', -11],
      ['B', 21],
      ['B', -21],
    ]);
    expect(
      await sc
        .parallelize([3, 4, 5], 2)
        .keyBy(async (x) => x % 2)
        .collect(),
    ).toEqual([
      [1, 3],
      [0, 4],
      [1, 5],
    ]);
  });

  it('groupBy and sortBy with an async key function (they key through keyBy)', async () => {
    const grouped = await sc
      .parallelize([1, 2, 3, 4, 5, 6], 3)
      .groupBy(async (x) => x % 3)
      .mapValues((v) => [...v].sort((a, b) => a - b))
      .sortByKey()
      .collect();
    expect(grouped).toEqual([
      [0, [3, 6]],
      [1, [1, 4]],
      [2, [2, 5]],
    ]);
    expect(
      await sc
        .parallelize([5, 1, 4, 2, 3], 2)
        .sortBy(async (x) => -x)
        .collect(),
    ).toEqual([5, 4, 3, 2, 1]);
  });

  it('foreach awaits an async function before the action resolves', async () => {
    const acc = sc.accumulator(0);
    await sc.parallelize([1, 2, 3, 4], 2).foreach(
      async (x, env) => {
        await new Promise((r) => setTimeout(r, 2));
        env.acc.add(x);
      },
      { acc },
    );
    expect(acc.value).toBe(10);
  });

  it('mapPartitions and mapPartitionsWithIndex take async generators and promises of arrays', async () => {
    const rdd = sc.parallelize([1, 2, 3, 4], 2);
    expect(
      await rdd
        .mapPartitions(async function* (it) {
          for (const x of it) {
            await Promise.resolve();
            yield x * 3;
          }
        })
        .collect(),
    ).toEqual([3, 6, 9, 12]);
    expect(await rdd.mapPartitions(async (it) => [[...it].reduce((a, b) => a + b, 0)]).collect()).toEqual([
      3, 7,
    ]);
    expect(await rdd.mapPartitionsWithIndex(async (i, it) => [...it].map((x) => [i, x])).collect()).toEqual([
      [0, 1],
      [0, 2],
      [1, 3],
      [1, 4],
    ]);
  });

  it(`keeps at most ${ASYNC_CONCURRENCY} elements of a partition in flight, and really runs them concurrently`, async () => {
    const token = `inflight-${Math.random()}`;
    const seen = await sc
      .parallelize(
        Array.from({ length: 50 }, (_, i) => i),
        1,
      )
      .map(
        async (x, env) => {
          const g = globalThis as unknown as Record<string, { now: number; max: number } | undefined>;
          const s = (g[env.token] ??= { now: 0, max: 0 });
          s.now++;
          s.max = Math.max(s.max, s.now);
          await new Promise((r) => setTimeout(r, 3));
          s.now--;
          return [x, s.max];
        },
        { token },
      )
      .collect();
    expect(seen.map(([x]) => x)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Math.max(...seen.map((e) => e[1]!))).toBe(ASYNC_CONCURRENCY);
  });

  it('take() stops early through an async chain and returns the first elements', async () => {
    expect(
      await sc
        .range(0, 1000, 1, 2)
        .map(async (x) => x * x)
        .take(5),
    ).toEqual([0, 1, 4, 9, 16]);
  });

  it('an async function that rejects fails the task with the remote error', async () => {
    const err = await rejection(
      sc
        .parallelize([1, 2, 3], 1)
        .map(async (x) => {
          await Promise.resolve();
          if (x === 2) throw new RangeError(`no ${x}`);
          return x;
        })
        .collect(),
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    const cause = (err as TaskFailedError).cause as RemoteError;
    expect([cause.remoteName, cause.message]).toEqual(['RangeError', 'no 2']);
  });

  it('a sync chain still runs as the generated fused loop; an async one does not', async () => {
    const stackOf = async (p: Promise<unknown>): Promise<string> =>
      (((await rejection(p)) as TaskFailedError).cause as RemoteError).remoteStack ?? '';
    const sync = await stackOf(
      sc
        .parallelize([1], 1)
        .map((x) => x + 1)
        .filter((x) => {
          if (x === 2) throw new Error('sync');
          return true;
        })
        .collect(),
    );
    expect(sync).toContain('at fused (microspark-fused-chain:');
    const async_ = await stackOf(
      sc
        .parallelize([1], 1)
        .map((x) => x + 1)
        .filter(async (x) => {
          if (x === 2) throw new Error('async');
          return true;
        })
        .collect(),
    );
    expect(async_).not.toContain('microspark-fused-chain');
  });

  it('refuses async functions where the method calls them synchronously, naming the method', async () => {
    const rdd = sc.parallelize([1, 2]);
    const pairs = sc.parallelize([['a', 1]] as Array<[string, number]>);
    // The types refuse these too; the casts check the run-time refusal that JavaScript callers get.
    const add = (async (a: number, b: number) => a + b) as never;
    const cases: Array<[string, () => unknown]> = [
      ['rdd.reduce', () => rdd.reduce(add)],
      ['rdd.fold', () => rdd.fold(0, add)],
      ['rdd.aggregate', () => rdd.aggregate(0, add, add)],
      ['rdd.reduceByKey', () => pairs.reduceByKey(add)],
      ['rdd.sortByKey', () => pairs.sortByKey(true, undefined, async (k) => k)],
      ['rdd.partitionBy (partitionFunc)', () => pairs.partitionBy(2, (async () => 0) as never)],
    ];
    for (const [where, call] of cases) {
      let err: Error | undefined;
      try {
        const r = call();
        // reduce, fold and aggregate are actions: the refusal arrives as their rejection, before any job
        if (r instanceof Promise) err = await rejection(r);
      } catch (e) {
        err = e as Error;
      }
      if (err === undefined) throw new Error(`${where} did not refuse`);
      expect(err).toBeInstanceOf(FunctionShippingError);
      expect(err.message.startsWith(`${where}: an async function cannot be used with`)).toBe(true);
    }
  });

  it('refuses a function as a data element of parallelize, naming where it is', () => {
    const err = thrown(() => sc.parallelize([1, { a: [2, () => 1] }]));
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toContain('parallelize: the data holds a function at data[1].a[1]');
    expect(thrown(() => sc.parallelize([() => 1])).message).toContain('a function at data[0];');
  });
});
