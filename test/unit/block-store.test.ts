/**
 * The partition server's block store: memory up to a budget, least-recently-used spill to disk,
 * owners, listing, closing, concurrent use of one id, and file names that never escape the
 * spill directory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOperationError } from '../../src/protocol/errors.js';
import { BlockStore } from '../../src/partition-server/block-store.js';
import { mulberry32 } from '../../src/rdd/random.js';

const root = mkdtempSync(join(tmpdir(), 'microspark-block-store-'));
let dirs = 0;
const stores: BlockStore[] = [];

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

/** A fresh spill directory path (not created: the store creates it) and a store over it. */
function makeStore(memoryBytes: number): { store: BlockStore; dir: string } {
  const dir = join(root, `store-${++dirs}`);
  const store = new BlockStore({ memoryBytes, dir });
  stores.push(store);
  return { store, dir };
}

/** `n` bytes all equal to `fill`, so a block's content says which put it came from. */
function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Block file names: store tag, hash of the id, sequence number; nothing of the raw id. */
const FILE_NAME = /^[0-9a-f]{8}-[0-9a-f]{32}-\d+\.blk$/;

describe('BlockStore', () => {
  it('round-trips a block and reports it', async () => {
    const { store } = makeStore(1000);
    const data = Uint8Array.from([1, 2, 3, 250]);
    await store.put('rdd:a:0', data, 'action:1');
    expect(store.has('rdd:a:0')).toBe(true);
    expect(store.has('rdd:a:1')).toBe(false);
    expect(store.sizeOf('rdd:a:0')).toBe(4);
    expect(store.sizeOf('rdd:a:1')).toBeUndefined();
    expect(await store.get('rdd:a:0')).toEqual(Uint8Array.from([1, 2, 3, 250]));
    expect(await store.get('rdd:a:1')).toBeUndefined();
    expect(store.list()).toEqual([{ id: 'rdd:a:0', bytes: 4, onDisk: false, owner: 'action:1' }]);
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 4, diskBytes: 0, spills: 0, spilledBytes: 0 });
    await store.put('empty', new Uint8Array(0), 'action:1');
    expect(await store.get('empty')).toEqual(new Uint8Array(0));
    expect(store.stats()).toEqual({ blocks: 2, memoryBytes: 4, diskBytes: 0, spills: 0, spilledBytes: 0 });
    expect(await store.delete('rdd:a:0')).toBe(true);
    expect(await store.delete('rdd:a:0')).toBe(false);
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 0, diskBytes: 0, spills: 0, spilledBytes: 0 });
  });

  it('replaces a block, in memory and on disk, without leaving its old file', async () => {
    const { store, dir } = makeStore(100);
    await store.put('b', bytes(10, 1), 'action:1');
    await store.put('b', bytes(20, 2), 'action:2');
    expect(await store.get('b')).toEqual(bytes(20, 2));
    expect(store.sizeOf('b')).toBe(20);
    expect(store.list()).toEqual([{ id: 'b', bytes: 20, onDisk: false, owner: 'action:2' }]);
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 20, diskBytes: 0, spills: 0, spilledBytes: 0 });
    // The old owner no longer holds it.
    expect(await store.deleteOwner('action:1')).toBe(0);

    await store.put('b', bytes(150, 3), 'action:2'); // oversize: on disk
    expect(files(dir)).toHaveLength(1);
    expect(store.stats()).toEqual({
      blocks: 1,
      memoryBytes: 0,
      diskBytes: 150,
      spills: 1,
      spilledBytes: 150,
    });
    await store.put('b', bytes(5, 4), 'action:2'); // back in memory; the file is gone
    expect(files(dir)).toEqual([]);
    expect(await store.get('b')).toEqual(bytes(5, 4));
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 5, diskBytes: 0, spills: 1, spilledBytes: 150 });
  });

  it('keeps memory within the budget and spills the least recently used block first', async () => {
    const { store, dir } = makeStore(100);
    await store.put('a', bytes(40, 1), 'o');
    await store.put('b', bytes(40, 2), 'o');
    expect(store.stats()).toEqual({ blocks: 2, memoryBytes: 80, diskBytes: 0, spills: 0, spilledBytes: 0 });
    expect(files(dir)).toEqual([]); // nothing spilled, nothing created

    await store.get('a'); // a is now more recent than b
    await store.put('c', bytes(40, 3), 'o'); // 120 > 100: b goes
    expect(store.list().map((b) => [b.id, b.onDisk])).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
    ]);
    expect(store.stats()).toEqual({ blocks: 3, memoryBytes: 80, diskBytes: 40, spills: 1, spilledBytes: 40 });
    expect(files(dir)).toHaveLength(1);

    await store.put('d', bytes(20, 4), 'o'); // exactly 100: fits, no spill
    expect(store.stats()).toEqual({
      blocks: 4,
      memoryBytes: 100,
      diskBytes: 40,
      spills: 1,
      spilledBytes: 40,
    });

    // Use order now a, c, d (oldest first); touch a and d: c is the least recently used.
    await store.get('a');
    await store.get('d');
    await store.put('e', bytes(30, 5), 'o'); // 130 > 100: c (40) goes, 90
    expect(
      store
        .list()
        .filter((b) => b.onDisk)
        .map((b) => b.id),
    ).toEqual(['b', 'c']);
    expect(store.stats()).toEqual({ blocks: 5, memoryBytes: 90, diskBytes: 80, spills: 2, spilledBytes: 80 });

    await store.put('f', bytes(60, 6), 'o'); // 150 > 100: a (40) then d (20) go, 90
    expect(
      store
        .list()
        .filter((b) => b.onDisk)
        .map((b) => b.id),
    ).toEqual(['a', 'b', 'c', 'd']);
    expect(
      store
        .list()
        .filter((b) => !b.onDisk)
        .map((b) => b.id),
    ).toEqual(['e', 'f']);
    const settled = { blocks: 6, memoryBytes: 90, diskBytes: 140, spills: 4, spilledBytes: 140 };
    expect(store.stats()).toEqual(settled);
    expect(files(dir)).toHaveLength(4);
    for (const f of files(dir)) expect(f).toMatch(FILE_NAME);

    // Every block still reads back whole, from wherever it is.
    const fills: Record<string, [number, number]> = {
      a: [40, 1],
      b: [40, 2],
      c: [40, 3],
      d: [20, 4],
      e: [30, 5],
      f: [60, 6],
    };
    for (const [id, [n, fill]] of Object.entries(fills)) expect(await store.get(id)).toEqual(bytes(n, fill));
    expect(store.stats()).toEqual(settled); // reads moved nothing
  });

  it('writes a block larger than the whole budget straight to disk', async () => {
    const { store, dir } = makeStore(100);
    await store.put('small', bytes(60, 1), 'o');
    await store.put('big', bytes(101, 2), 'o');
    expect(store.list()).toEqual([
      { id: 'big', bytes: 101, onDisk: true, owner: 'o' },
      { id: 'small', bytes: 60, onDisk: false, owner: 'o' },
    ]);
    expect(store.stats()).toEqual({
      blocks: 2,
      memoryBytes: 60,
      diskBytes: 101,
      spills: 1,
      spilledBytes: 101,
    });
    expect(files(dir)).toHaveLength(1);
    expect(await store.get('big')).toEqual(bytes(101, 2));
  });

  it('reads a spilled block back byte for byte, and leaves it on disk', async () => {
    const { store, dir } = makeStore(1024);
    const rand = mulberry32(7);
    const payload = Uint8Array.from({ length: 1000 }, () => Math.floor(rand() * 256));
    const noise = randomBytes(3000); // bigger than the budget: on disk too
    await store.put('p', payload, 'o');
    await store.put('q', bytes(1000, 9), 'o'); // p spills
    await store.put('r', noise, 'o');
    expect(store.list().map((b) => [b.id, b.onDisk])).toEqual([
      ['p', true],
      ['q', false],
      ['r', true],
    ]);
    const p = await store.get('p');
    expect(p).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(p)).toBe(false);
    expect(p).toEqual(payload);
    expect(Buffer.compare(Buffer.from(p!), Buffer.from(payload))).toBe(0);
    expect(Buffer.from((await store.get('r'))!).equals(noise)).toBe(true);
    // Reading did not promote (and so did not evict q): no new spill, same files.
    expect(store.list().map((b) => [b.id, b.onDisk])).toEqual([
      ['p', true],
      ['q', false],
      ['r', true],
    ]);
    expect(store.stats()).toEqual({
      blocks: 3,
      memoryBytes: 1000,
      diskBytes: 4000,
      spills: 2,
      spilledBytes: 4000,
    });
    expect(files(dir)).toHaveLength(2);
  });

  it("deleteOwner removes exactly that owner's blocks, from memory and disk", async () => {
    const { store, dir } = makeStore(100);
    await store.put('x1', bytes(30, 1), 'action:x');
    await store.put('y1', bytes(30, 2), 'cache:y');
    await store.put('x2', bytes(30, 3), 'action:x');
    await store.put('y2', bytes(30, 4), 'cache:y'); // x1 spills
    await store.put('x3', bytes(200, 5), 'action:x'); // on disk
    await store.put('y3', bytes(200, 6), 'cache:y'); // on disk
    expect(store.list().map((b) => [b.id, b.onDisk])).toEqual([
      ['x1', true],
      ['x2', false],
      ['x3', true],
      ['y1', false],
      ['y2', false],
      ['y3', true],
    ]);
    expect(files(dir)).toHaveLength(3);
    const yFiles = files(dir).slice(); // compared below: only x's files may go

    expect(await store.deleteOwner('action:x')).toBe(3);
    expect(store.list().map((b) => b.id)).toEqual(['y1', 'y2', 'y3']);
    expect(store.stats()).toEqual({
      blocks: 3,
      memoryBytes: 60,
      diskBytes: 200,
      spills: 3,
      spilledBytes: 430,
    });
    expect(files(dir)).toHaveLength(1);
    expect(yFiles).toContain(files(dir)[0]);
    expect(await store.get('x1')).toBeUndefined();
    expect(await store.get('y3')).toEqual(bytes(200, 6));
    expect(await store.get('y1')).toEqual(bytes(30, 2));

    expect(await store.deleteOwner('action:x')).toBe(0);
    expect(await store.deleteOwner('nobody')).toBe(0);
    expect(await store.deleteOwner('cache:y')).toBe(3);
    expect(files(dir)).toEqual([]);
    expect(store.stats()).toEqual({ blocks: 0, memoryBytes: 0, diskBytes: 0, spills: 3, spilledBytes: 430 });
  });

  it('lists blocks by id prefix, sorted', async () => {
    const { store } = makeStore(100);
    await store.put('rdd:b:1', bytes(3, 0), 'o1');
    await store.put('shuffle:s:0:0', bytes(200, 0), 'o2');
    await store.put('rdd:a:0', bytes(2, 0), 'o1');
    await store.put('rdd:b:0', bytes(1, 0), 'o2');
    expect(store.list('rdd:b:')).toEqual([
      { id: 'rdd:b:0', bytes: 1, onDisk: false, owner: 'o2' },
      { id: 'rdd:b:1', bytes: 3, onDisk: false, owner: 'o1' },
    ]);
    expect(store.list('rdd:').map((b) => b.id)).toEqual(['rdd:a:0', 'rdd:b:0', 'rdd:b:1']);
    expect(store.list('shuffle:')).toEqual([{ id: 'shuffle:s:0:0', bytes: 200, onDisk: true, owner: 'o2' }]);
    expect(store.list('nothing')).toEqual([]);
    expect(store.list('')).toHaveLength(4);
    expect(store.list()).toHaveLength(4);
  });

  it('close removes the spill files and the directory it created; later use rejects', async () => {
    const { store, dir } = makeStore(10);
    await store.put('a', bytes(8, 1), 'o');
    await store.put('b', bytes(8, 2), 'o'); // a spills
    await store.put('c', bytes(50, 3), 'o'); // on disk
    expect(files(dir)).toHaveLength(2);
    await store.close();
    expect(existsSync(dir)).toBe(false);
    await store.close(); // idempotent
    await expect(store.put('d', bytes(1, 0), 'o')).rejects.toThrow(InvalidOperationError);
    await expect(store.put('d', bytes(1, 0), 'o')).rejects.toThrow(/BlockStore .* is closed/);
    await expect(store.get('a')).rejects.toThrow(InvalidOperationError);
    await expect(store.delete('a')).rejects.toThrow(InvalidOperationError);
    await expect(store.deleteOwner('o')).rejects.toThrow(InvalidOperationError);
    expect(() => store.has('a')).toThrow(InvalidOperationError);
    expect(() => store.sizeOf('a')).toThrow(InvalidOperationError);
    expect(() => store.list()).toThrow(InvalidOperationError);
    expect(() => store.stats()).toThrow(InvalidOperationError);
  });

  it('close leaves a directory it did not create, and files it did not write', async () => {
    const dir = join(root, 'shared-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'someone-else.txt'), 'keep me');
    const store = new BlockStore({ memoryBytes: 10, dir });
    stores.push(store);
    await store.put('a', bytes(20, 1), 'o');
    expect(files(dir)).toHaveLength(2);
    await store.close();
    expect(files(dir)).toEqual(['someone-else.txt']);
  });

  it('close waits for spills in flight and still removes their files', async () => {
    const { store, dir } = makeStore(10);
    const puts = Array.from({ length: 20 }, (_, i) => store.put(`k${i}`, bytes(i % 2 ? 8 : 30, i), 'o'));
    await store.close();
    await Promise.allSettled(puts);
    expect(existsSync(dir)).toBe(false);
  });

  it('concurrent puts, gets and deletes of one id leave a consistent state', async () => {
    const { store, dir } = makeStore(100);
    await store.put('other-1', bytes(40, 201), 'o');
    await store.put('other-2', bytes(40, 202), 'o');
    const rand = mulberry32(42);
    const sizes = Array.from({ length: 60 }, () => [10, 30, 50, 90, 150][Math.floor(rand() * 5)]!);
    const ops: Promise<unknown>[] = [];
    const seen: (Uint8Array | undefined)[] = [];
    sizes.forEach((n, i) => {
      // A delete now and then, always before a put, so every get has a version to see.
      if (i % 7 === 3) ops.push(store.delete('hot'));
      ops.push(store.put('hot', bytes(n, i), i % 3 === 0 ? 'a' : 'b'));
      ops.push(store.get('hot').then((d) => seen.push(d)));
    });
    await Promise.all(ops);

    // Every read saw one whole version: its length matches the put its fill byte names.
    expect(seen).toHaveLength(60);
    for (const d of seen) {
      expect(d).toBeDefined();
      const fill = d![0]!;
      expect(d!.length).toBe(sizes[fill]);
      expect(d!.every((b) => b === fill)).toBe(true);
    }
    // The last put wins.
    const last = sizes.length - 1;
    expect(await store.get('hot')).toEqual(bytes(sizes[last]!, last));
    expect(store.sizeOf('hot')).toBe(sizes[last]);
    const list = store.list();
    expect(list.map((b) => b.id)).toEqual(['hot', 'other-1', 'other-2']);
    expect(list.find((b) => b.id === 'hot')!.owner).toBe(last % 3 === 0 ? 'a' : 'b');
    // Totals agree with the listing, memory is within budget, and one file per block on disk.
    const mem = list.filter((b) => !b.onDisk).reduce((s, b) => s + b.bytes, 0);
    const disk = list.filter((b) => b.onDisk).reduce((s, b) => s + b.bytes, 0);
    const stats = store.stats();
    expect(stats.blocks).toBe(3);
    expect(stats.memoryBytes).toBe(mem);
    expect(stats.diskBytes).toBe(disk);
    expect(mem).toBeLessThanOrEqual(100);
    expect(files(dir)).toHaveLength(list.filter((b) => b.onDisk).length);
    expect(await store.get('other-1')).toEqual(bytes(40, 201));
    expect(await store.get('other-2')).toEqual(bytes(40, 202));

    // A second burst ending in a delete leaves nothing of 'hot', on disk either.
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => store.put('hot', bytes(i % 2 ? 150 : 60, i), 'a')),
      store.delete('hot'),
    ]);
    expect(store.has('hot')).toBe(false);
    expect(await store.deleteOwner('a')).toBe(0);
    const after = store.list();
    expect(after.map((b) => b.id)).toEqual(['other-1', 'other-2']);
    expect(files(dir)).toHaveLength(after.filter((b) => b.onDisk).length);
  });

  it('a read in flight from disk survives a delete and a replace of its block', async () => {
    const { store, dir } = makeStore(10);
    await store.put('d', bytes(500, 7), 'o'); // on disk
    const reading = store.get('d'); // the file read has started
    const deleting = store.delete('d');
    const replacing = store.put('d', bytes(600, 8), 'o');
    const readingNew = store.get('d');
    expect(await reading).toEqual(bytes(500, 7));
    expect(await deleting).toBe(true);
    await replacing;
    expect(await readingNew).toEqual(bytes(600, 8));
    expect(files(dir)).toHaveLength(1);
    expect(store.stats()).toEqual({
      blocks: 1,
      memoryBytes: 0,
      diskBytes: 600,
      spills: 2,
      spilledBytes: 1100,
    });
  });

  it('interleaved puts, gets and deletes over time never expose a torn block or break the budget', async () => {
    const { store, dir } = makeStore(100);
    const rand = mulberry32(99);
    const sizes = Array.from({ length: 80 }, () => [10, 45, 70, 120][Math.floor(rand() * 4)]!);
    const ticks = () => new Promise<void>((r) => setTimeout(r, Math.floor(rand() * 3)));
    let torn = 0;
    let overBudget = 0;
    let reads = 0;
    const check = () => {
      const st = store.stats();
      if (st.memoryBytes > 100) overBudget++;
    };
    const ops = sizes.map(async (n, i) => {
      await ticks();
      const id = `k${i % 4}`;
      if (i % 5 === 4) await store.delete(id);
      else await store.put(id, bytes(n, i), 'o');
      check();
      await ticks();
      const d = await store.get(id);
      reads++;
      if (d !== undefined && (d.length !== sizes[d[0]!] || !d.every((b) => b === d[0]))) torn++;
      check();
    });
    await Promise.all(ops);
    expect(reads).toBe(80);
    expect(torn).toBe(0);
    expect(overBudget).toBe(0);
    const list = store.list();
    const st = store.stats();
    expect(st.blocks).toBe(list.length);
    expect(st.memoryBytes).toBe(list.filter((b) => !b.onDisk).reduce((s, b) => s + b.bytes, 0));
    expect(st.diskBytes).toBe(list.filter((b) => b.onDisk).reduce((s, b) => s + b.bytes, 0));
    expect(files(dir)).toHaveLength(list.filter((b) => b.onDisk).length);
    for (const b of list) {
      const d = (await store.get(b.id))!;
      expect(d.length).toBe(b.bytes);
      expect(sizes[d[0]!]).toBe(b.bytes);
    }
  });

  it('ids with "/" or ".." never become paths outside the directory', async () => {
    const base = join(root, 'escape-base');
    const dir = join(base, 'spill');
    const store = new BlockStore({ memoryBytes: 1, dir });
    stores.push(store);
    const ids = [
      '../escaped',
      '../../escaped',
      '..',
      '.',
      '/tmp/escaped',
      'a/b/c',
      '..\\..\\escaped',
      `${'../'.repeat(40)}etc/passwd`,
      'x'.repeat(5000),
      'nul\u0000byte',
    ];
    for (const [i, id] of ids.entries()) await store.put(id, bytes(16, i), 'o');
    expect(store.stats()).toEqual({
      blocks: ids.length,
      memoryBytes: 0,
      diskBytes: 16 * ids.length,
      spills: 10,
      spilledBytes: 16 * ids.length,
    });
    expect(readdirSync(base)).toEqual(['spill']);
    const names = files(dir);
    expect(names).toHaveLength(ids.length);
    for (const f of names) expect(f).toMatch(FILE_NAME);
    expect(existsSync(join(root, 'escaped'))).toBe(false);
    expect(existsSync(join(base, 'escaped'))).toBe(false);
    for (const [i, id] of ids.entries()) expect(await store.get(id)).toEqual(bytes(16, i));
  });

  it('rejects ids and owners that are not non-empty strings, and bad data', async () => {
    const { store } = makeStore(100);
    const bad: unknown[] = ['', 42, undefined, null, {}];
    for (const id of bad) {
      await expect(store.put(id as string, bytes(1, 0), 'o')).rejects.toThrow(InvalidOperationError);
      await expect(store.get(id as string)).rejects.toThrow(InvalidOperationError);
      await expect(store.delete(id as string)).rejects.toThrow(InvalidOperationError);
      expect(() => store.has(id as string)).toThrow(InvalidOperationError);
      expect(() => store.sizeOf(id as string)).toThrow(InvalidOperationError);
      await expect(store.put('k', bytes(1, 0), id as string)).rejects.toThrow(InvalidOperationError);
      await expect(store.deleteOwner(id as string)).rejects.toThrow(InvalidOperationError);
    }
    await expect(store.put('k', [1, 2] as unknown as Uint8Array, 'o')).rejects.toThrow(InvalidOperationError);
    await expect(store.put('', bytes(1, 0), 'o')).rejects.toThrow(/non-empty string, got ""/);
    expect(store.stats()).toEqual({ blocks: 0, memoryBytes: 0, diskBytes: 0, spills: 0, spilledBytes: 0 });
  });

  it('validates its options', () => {
    for (const memoryBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      expect(() => new BlockStore({ memoryBytes: memoryBytes as number, dir: root })).toThrow(
        InvalidOperationError,
      );
    }
    expect(() => new BlockStore({ memoryBytes: 10, dir: '' })).toThrow(InvalidOperationError);
  });

  it('a failed spill rejects the put, keeps no block under its id and the evicted block in memory', async () => {
    const notADir = join(root, 'not-a-dir');
    writeFileSync(notADir, 'a file where the spill directory should be');
    const store = new BlockStore({ memoryBytes: 10, dir: notADir });
    stores.push(store);
    await store.put('a', bytes(8, 1), 'o');
    await expect(store.put('b', bytes(8, 2), 'o')).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(store.list()).toEqual([{ id: 'a', bytes: 8, onDisk: false, owner: 'o' }]);
    expect(store.stats()).toEqual({ blocks: 1, memoryBytes: 8, diskBytes: 0, spills: 0, spilledBytes: 0 });
    await expect(store.put('big', bytes(20, 3), 'o')).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(store.has('big')).toBe(false);
    expect(await store.get('a')).toEqual(bytes(8, 1));
    // A replacement that fails also leaves no block under the id (the old version is dropped).
    await expect(store.put('a', bytes(30, 4), 'o')).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(store.stats()).toEqual({ blocks: 0, memoryBytes: 0, diskBytes: 0, spills: 0, spilledBytes: 0 });
    await store.close();
  });
});
