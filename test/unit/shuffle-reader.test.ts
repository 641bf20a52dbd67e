/**
 * The reducer's fetch: buckets from many map outputs at once, never more requested-and-unreceived
 * bytes than the bound (counted by an instrumented fetch), results in map order, empty buckets
 * skipped without a request, local and remote bytes and blocks counted apart, and a failure
 * naming its map output.
 */
import { describe, expect, it } from 'vitest';
import { FetchFailedError } from '../../src/protocol/errors.js';
import { readShuffleBuckets, type BucketSource } from '../../src/worker/shuffle-reader.js';

/** A bucket of `n` bytes whose values say which map wrote them. */
const bucket = (map: number, n: number) => new Uint8Array(n).fill(map + 1);

/** Remote holders whose replies arrive after a random-ish delay, counting bytes in flight. */
function instrumented(sizes: readonly number[], announce: boolean) {
  const stats = { inFlight: 0, maxInFlight: 0, requests: 0, maxConcurrent: 0, concurrent: 0 };
  const sources = sizes.map((n, m): BucketSource => {
    const data = bucket(m, n);
    return {
      kind: 'remote',
      ...(announce && { bytes: n }),
      fetch: async (offset, length) => {
        stats.requests++;
        stats.inFlight += length;
        stats.concurrent++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
        await new Promise((r) => setTimeout(r, (m * 7 + offset) % 5));
        stats.inFlight -= length;
        stats.concurrent--;
        return { data: data.subarray(offset, offset + length), total: n };
      },
    };
  });
  return { sources, stats };
}

const fail = (m: number, e: Error) => new FetchFailedError(`map ${m}: ${e.message}`, 'sh', m);

describe('readShuffleBuckets', () => {
  it('never has more bytes in flight than the bound, and keeps map order', async () => {
    const sizes = [1000, 0, 2500, 300, 4096, 1, 999];
    const { sources, stats } = instrumented(sizes, false);
    const read = await readShuffleBuckets(sources, { maxBytesInFlight: 2048, chunkBytes: 1024, fail });
    expect(read.buckets.map((b) => b.byteLength)).toEqual(sizes);
    read.buckets.forEach((b, m) => expect(b.every((x) => x === m + 1)).toBe(true));
    expect(stats.maxInFlight).toBeLessThanOrEqual(2048);
    // Two 1 KiB reservations fit in the bound: fetches did overlap, up to two at a time.
    expect(stats.maxConcurrent).toBe(2);
    // Sizes unknown: every bucket takes ceil(n / 1024) chunks, and an empty one a request too.
    expect(stats.requests).toBe(1 + 1 + 3 + 1 + 4 + 1 + 1);
    expect(read.requests).toBe(stats.requests);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect([read.remoteBytes, read.remoteBlocks, read.localBytes, read.localBlocks]).toEqual([
      total,
      6,
      0,
      0,
    ]);
  });

  it('reserves only what an announced bucket can bring back, and skips empty ones', async () => {
    const sizes = [100, 200, 300, 400, 500];
    const { sources, stats } = instrumented(sizes, true);
    const all: BucketSource[] = [...sources, { kind: 'empty' }];
    const read = await readShuffleBuckets(all, { maxBytesInFlight: 1000, chunkBytes: 4096, fail });
    expect(read.buckets.map((b) => b.byteLength)).toEqual([...sizes, 0]);
    expect(stats.maxInFlight).toBeLessThanOrEqual(1000);
    // 100 + 200 + 300 + 400 fit at once; 500 waits for room (reservations are granted in order).
    expect(stats.maxConcurrent).toBe(4);
    expect([stats.requests, read.skipped]).toEqual([5, 1]);
  });

  it('caps a chunk at the bound when the bound is below the chunk size', async () => {
    const { sources, stats } = instrumented([10_000], false);
    const read = await readShuffleBuckets(sources, { maxBytesInFlight: 3000, chunkBytes: 1 << 20, fail });
    expect(read.buckets[0]!.byteLength).toBe(10_000);
    expect([stats.requests, stats.maxInFlight]).toEqual([4, 3000]);
  });

  it('counts local and remote reads apart (blocks are non-empty buckets)', async () => {
    const local = (m: number, n: number): BucketSource => ({
      kind: 'local',
      read: () => Promise.resolve(bucket(m, n)),
    });
    const { sources } = instrumented([0, 7, 0, 11], true);
    const mixed = [local(0, 5), sources[1]!, local(2, 0), sources[3]!, { kind: 'empty' } as const];
    const read = await readShuffleBuckets(mixed, { maxBytesInFlight: 1 << 20, chunkBytes: 1 << 20, fail });
    expect(read.buckets.map((b) => b.byteLength)).toEqual([5, 7, 0, 11, 0]);
    expect(read).toMatchObject({ localBytes: 5, localBlocks: 1, remoteBytes: 18, remoteBlocks: 2 });
    expect([read.requests, read.skipped]).toEqual([2, 1]);
  });

  it('fails with the error naming the map output that could not be fetched', async () => {
    const { sources } = instrumented([10, 10, 10], true);
    const broken: BucketSource = {
      kind: 'remote',
      fetch: () => Promise.reject(new Error('no live peer at tcp://127.0.0.1:9')),
    };
    const err = await readShuffleBuckets([sources[0]!, broken, sources[2]!], {
      maxBytesInFlight: 100,
      chunkBytes: 10,
      fail,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    expect((err as FetchFailedError).message).toBe('map 1: no live peer at tcp://127.0.0.1:9');
    expect((err as FetchFailedError).mapIndex).toBe(1);
  });

  it('refuses a reply larger than the request (it would break the bound) and a changing total', async () => {
    const big: BucketSource = {
      kind: 'remote',
      fetch: (offset) => Promise.resolve({ data: new Uint8Array(offset === 0 ? 20 : 0), total: 40 }),
    };
    await expect(readShuffleBuckets([big], { maxBytesInFlight: 10, chunkBytes: 10, fail })).rejects.toThrow(
      'map 0: a chunk of 20 bytes answered a request for 10',
    );
    let calls = 0;
    const shifting: BucketSource = {
      kind: 'remote',
      fetch: () => Promise.resolve({ data: new Uint8Array(10), total: 30 + 10 * calls++ }),
    };
    await expect(
      readShuffleBuckets([shifting], { maxBytesInFlight: 10, chunkBytes: 10, fail }),
    ).rejects.toThrow('map 0: the bucket changed while being fetched (30 then 40 bytes)');
  });
});
