/**
 * The sort-shuffle layout: a map output is one block (its buckets concatenated in reduce order)
 * with an index of n + 1 offsets in the same store entry. Exact offsets, an empty bucket, the
 * last bucket, a spilled output read back by range, and drop by prefix taking data and index.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/partition-server/block-store.js';
import { mapDataId, parseBlockId, shuffleBlockId, shufflePrefix } from '../../src/protocol/block-ids.js';
import { InvalidOperationError } from '../../src/protocol/errors.js';
import { bucketOf, bucketRange, bucketSizes, packMapOutput } from '../../src/rdd/map-output.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'microspark-mapout-'));
  dirs.push(d);
  return d;
};
const bytes = (...xs: number[]) => new Uint8Array(xs);
const plain = (b: Uint8Array | undefined) => (b ? Array.from(b) : undefined);

// Four reduce partitions: bucket 1 and the last one (3) are empty.
const buckets = [bytes(1, 2, 3), bytes(), bytes(4, 5, 6, 7, 8), bytes()];

describe('packMapOutput', () => {
  it('concatenates the buckets in reduce order with n + 1 offsets', () => {
    const out = packMapOutput(buckets);
    expect(out.index).toEqual([0, 3, 3, 8, 8]);
    expect(plain(out.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(bucketSizes(out.index)).toEqual([3, 0, 5, 0]);
    expect(buckets.map((_, r) => plain(bucketOf(out, r)))).toEqual([[1, 2, 3], [], [4, 5, 6, 7, 8], []]);
    expect(bucketRange(out.index, 2)).toEqual([3, 8]);
    expect(() => bucketRange(out.index, 4)).toThrow('no bucket 4: the map output has 4');
  });

  it('packs a map output without reduce partitions as an empty block', () => {
    expect(packMapOutput([])).toEqual({ data: new Uint8Array(0), index: [0] });
  });
});

describe('a map output in the block store', () => {
  const sid = 'abcdefghij_1234567890a';

  it('keeps the index with the data and reads each bucket by range', async () => {
    const store = new BlockStore({ memoryBytes: 1024, dir: tempDir() });
    const out = packMapOutput(buckets);
    await store.put(mapDataId(sid, 0), out.data, 'action:1', out.index);
    expect(store.list()).toEqual([{ id: mapDataId(sid, 0), bytes: 8, onDisk: false, owner: 'action:1' }]);
    expect(store.indexOf(mapDataId(sid, 0))).toEqual([0, 3, 3, 8, 8]);
    const ranges = [0, 1, 2, 3].map((r) => bucketRange(out.index, r));
    const read = await Promise.all(ranges.map(([a, b]) => store.getRange(mapDataId(sid, 0), a, b)));
    expect(read.map(plain)).toEqual([[1, 2, 3], [], [4, 5, 6, 7, 8], []]);
    await store.close();
  });

  it('refuses an index that does not cover the block, and a range outside it', async () => {
    const store = new BlockStore({ memoryBytes: 1024, dir: tempDir() });
    const data = bytes(1, 2, 3);
    await expect(store.put('b', data, 'o', [0, 2])).rejects.toThrow(
      "block b: its index must be offsets from 0 to the block's 3 bytes, never decreasing; it ends at 2",
    );
    await expect(store.put('b', data, 'o', [0, 2, 1, 3])).rejects.toThrow('offset 2 is 1 after 2');
    await expect(store.put('b', data, 'o', [1, 3])).rejects.toBeInstanceOf(InvalidOperationError);
    expect(store.has('b')).toBe(false);
    await store.put('b', data, 'o', [0, 3]);
    await expect(store.getRange('b', 2, 4)).rejects.toThrow(
      'block b has 3 bytes: cannot read the range [2, 4)',
    );
    expect(await store.getRange('missing', 0, 0)).toBeUndefined();
    await store.close();
  });

  it('reads a spilled map output back by range, only that range', async () => {
    const dir = tempDir();
    // A budget below the output's size: it goes straight to disk.
    const store = new BlockStore({ memoryBytes: 4, dir });
    const out = packMapOutput(buckets);
    await store.put(mapDataId(sid, 1), out.data, 'action:1', out.index);
    expect(store.list()[0]!.onDisk).toBe(true);
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 0, diskBytes: 8, spills: 1, spilledBytes: 8 });
    expect(store.indexOf(mapDataId(sid, 1))).toEqual([0, 3, 3, 8, 8]);
    const last = await store.getRange(mapDataId(sid, 1), 3, 8);
    expect(plain(last)).toEqual([4, 5, 6, 7, 8]);
    expect(last!.byteLength).toBe(5);
    expect(plain(await store.getRange(mapDataId(sid, 1), 3, 3))).toEqual([]);
    await store.close();
  });

  it('drops data and index together by the shuffle prefix, spilled file included', async () => {
    const dir = tempDir();
    const store = new BlockStore({ memoryBytes: 10, dir });
    for (const m of [0, 1]) {
      const out = packMapOutput(buckets);
      await store.put(mapDataId(sid, m), out.data, 'action:1', out.index);
    }
    await store.put(mapDataId('other_shuffle_id_22chr', 0), bytes(9), 'action:1', [0, 1]);
    expect(store.stats().spills).toBe(1); // the second output pushed the first to disk
    expect(readdirSync(dir)).toHaveLength(1);
    const mine = store.list(shufflePrefix(sid)).map((b) => b.id);
    expect(mine).toEqual([mapDataId(sid, 0), mapDataId(sid, 1)]);
    for (const id of mine) expect(await store.delete(id)).toBe(true);
    for (const m of [0, 1]) {
      expect(store.indexOf(mapDataId(sid, m))).toBeUndefined();
      expect(await store.getRange(mapDataId(sid, m), 0, 0)).toBeUndefined();
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(store.list().map((b) => b.id)).toEqual([mapDataId('other_shuffle_id_22chr', 0)]);
    await store.close();
  });

  it('names a bucket that the holder resolves to the data block of its map output', () => {
    const b = parseBlockId(shuffleBlockId(sid, 5, 2));
    expect(b).toEqual({ kind: 'shuffle', shuffleId: sid, map: 5, reduce: 2 });
    expect(mapDataId(sid, 5)).toBe(`shuffle_${sid}_5.data`);
  });
});
