/**
 * Persistence: cache/persist reuse computed partitions (proved with an accumulator that counts
 * computations), unpersist drops them, storage levels, toDebugString, reliable and local
 * checkpoints, and content ids (equal pipelines built separately are one content).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  InvalidOperationError,
  StorageLevel,
  type Accumulator,
  type MicroSpark,
  type RDD,
} from '../../src/index.js';
import { modes } from '../support/modes.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs a reliable checkpoint in a child process first: if checkpointing never finishes (it can
 * starve the event loop, so no test timeout would fire), the checkpoint tests below fail with
 * this explanation instead of hanging the whole run.
 */
function probeReliableCheckpoint(dir: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const script = join(dir, 'checkpoint-probe.mts');
  writeFileSync(
    script,
    `import { MicroSpark } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
const sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
sc.setCheckpointDir(${JSON.stringify(join(dir, 'probe-checkpoints'))});
const rdd = sc.parallelize([1, 2, 3, 4], 2).map((x) => x * 2);
rdd.checkpoint();
const out = await rdd.collect();
process.stdout.write(JSON.stringify({ out, checkpointed: rdd.isCheckpointed() }));
await sc.stop();
`,
  );
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { cwd: ROOT, timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err) {
          done({
            ok: false,
            why:
              (err.killed
                ? 'checkpoint + collect did not finish within 15 s (killed); '
                : `child failed: ${err.message}; `) + `stdout=${stdout} stderr=${stderr.slice(0, 2000)}`,
          });
          return;
        }
        const r = JSON.parse(stdout) as { out: number[]; checkpointed: boolean };
        if (JSON.stringify(r.out) !== '[2,4,6,8]' || !r.checkpointed)
          done({ ok: false, why: `unexpected result ${stdout}` });
        else done({ ok: true });
      },
    );
  });
}

/** A pipeline whose map counts, in `acc`, how many elements it computed. */
function counted(sc: MicroSpark, acc: Accumulator<number>, n = 10, slices = 4): RDD<number> {
  return sc
    .parallelize(
      Array.from({ length: n }, (_, i) => i + 1),
      slices,
    )
    .map(
      (x, env) => {
        env.acc.add(1);
        return x * 2;
      },
      { acc },
    );
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => (i + 1) * 2);

describe.each(modes)('persistence ($name)', (mode) => {
  let sc: MicroSpark;
  let root: string;
  let probe: Promise<{ ok: true } | { ok: false; why: string }>;
  const requireCheckpointProbe = async (): Promise<void> => {
    const r = await probe;
    if (!r.ok)
      throw new Error(`reliable checkpointing is broken, not running this test in-process: ${r.why}`);
  };

  beforeAll(async () => {
    sc = await mode.create(4);
    root = mkdtempSync(join(tmpdir(), 'microspark-persistence-'));
    probe = probeReliableCheckpoint(root);
  });
  afterAll(async () => {
    await sc.stop();
    await probe;
    rmSync(root, { recursive: true, force: true });
  });

  describe('cache and persist', () => {
    it('without cache, each action recomputes (the baseline)', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc);
      expect(await rdd.collect()).toEqual(range(10));
      expect(acc.value).toBe(10);
      expect(await rdd.count()).toBe(10);
      expect(acc.value).toBe(20);
    });

    it('a second action reuses the cached blocks', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc).cache();
      expect(await rdd.collect()).toEqual(range(10));
      expect(acc.value).toBe(10);
      expect(await rdd.count()).toBe(10);
      expect(await rdd.collect()).toEqual(range(10));
      expect(await rdd.map((x) => x + 1).sum()).toBe(range(10).reduce((a, b) => a + b, 0) + 10);
      expect(acc.value).toBe(10);
    });

    it('coalesce over cached partitions reads their blocks in order, some missing ones computed', async () => {
      const acc = sc.accumulator(0);
      const rdd = sc
        .parallelize(range(60), 6)
        .map((x, env) => (env.acc.add(1), x), { acc })
        .cache();
      // take computes (and caches) only the first partitions; the coalesced reads compute the rest.
      expect(await rdd.take(15)).toEqual(range(15));
      expect(acc.value).toBeLessThan(60);
      expect(await rdd.coalesce(2).glom().collect()).toEqual([range(30), range(60).slice(30)]);
      expect(await rdd.coalesce(1).collect()).toEqual(range(60));
      expect(acc.value).toBe(60);
    });

    it('persist(level) reuses blocks too', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc).persist(StorageLevel.MEMORY_AND_DISK);
      await rdd.count();
      await rdd.count();
      expect(acc.value).toBe(10);
    });

    it('reuses cached blocks below a shuffle without recomputing the map side', async () => {
      const acc = sc.accumulator(0);
      const pairs = counted(sc, acc)
        .map((x) => [x % 3, x] as [number, number])
        .cache();
      const sums = pairs.reduceByKey((a, b) => a + b).sortByKey();
      const expected = [
        [0, 6 + 12 + 18],
        [1, 4 + 10 + 16],
        [2, 2 + 8 + 14 + 20],
      ];
      expect(await sums.collect()).toEqual(expected);
      expect(acc.value).toBe(10);
      expect(await sums.collect()).toEqual(expected);
      expect(
        await pairs
          .groupByKey()
          .mapValues((vs) => vs.length)
          .sortByKey()
          .collect(),
      ).toEqual([
        [0, 3],
        [1, 3],
        [2, 4],
      ]);
      expect(acc.value).toBe(10);
    });

    it('reuses the partitions that are stored and computes the others', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc, 8, 4).cache(); // 2 elements per partition
      expect(await sc.runJob(rdd, (it) => [...it], [1])).toEqual([6, 8]);
      expect(acc.value).toBe(2);
      expect(await rdd.collect()).toEqual(range(8));
      expect(acc.value).toBe(8);
      expect(await rdd.collect()).toEqual(range(8));
      expect(acc.value).toBe(8);
    });

    it('unpersist drops the blocks: the next action recomputes', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc).cache();
      await rdd.count();
      expect(acc.value).toBe(10);
      expect(rdd.unpersist()).toBe(rdd);
      expect(rdd.isCached).toBe(false);
      await rdd.count();
      expect(acc.value).toBe(20);
      await rdd.count();
      expect(acc.value).toBe(30);
    });

    it('can be cached again after unpersist', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc).cache();
      await rdd.count();
      rdd.unpersist().persist(StorageLevel.DISK_ONLY);
      await rdd.count();
      await rdd.count();
      expect(acc.value).toBe(20);
    });
  });

  describe('storage levels', () => {
    it('getStorageLevel and isCached follow cache, persist and unpersist', () => {
      const rdd = sc.parallelize([1, 2, 3]).map((x) => x);
      expect(rdd.isCached).toBe(false);
      expect(rdd.getStorageLevel().equals(StorageLevel.NONE)).toBe(true);
      expect(rdd.cache()).toBe(rdd);
      expect(rdd.isCached).toBe(true);
      expect(rdd.getStorageLevel().equals(StorageLevel.MEMORY_ONLY)).toBe(true);
      expect(rdd.persist(StorageLevel.MEMORY_ONLY)).toBe(rdd);
      rdd.unpersist();
      expect(rdd.isCached).toBe(false);
      expect(rdd.getStorageLevel()).toBe(StorageLevel.NONE);
    });

    it('refuses changing the level once set', () => {
      const rdd = sc.parallelize([1, 2, 3]).cache();
      expect(() => rdd.persist(StorageLevel.MEMORY_AND_DISK)).toThrow(InvalidOperationError);
      expect(() => rdd.persist(StorageLevel.MEMORY_AND_DISK)).toThrow(/Cannot change storage level/);
      expect(rdd.getStorageLevel().equals(StorageLevel.MEMORY_ONLY)).toBe(true);
      const disk = sc.parallelize([1]).persist(StorageLevel.DISK_ONLY);
      expect(() => disk.cache()).toThrow(InvalidOperationError);
      // An equal level is not a change.
      expect(disk.persist(new StorageLevel(true, false, false, false, 1))).toBe(disk);
    });

    it('has PySpark constants and Spark descriptions', () => {
      const flags = (l: StorageLevel) => [
        l.useDisk,
        l.useMemory,
        l.useOffHeap,
        l.deserialized,
        l.replication,
      ];
      expect(flags(StorageLevel.NONE)).toEqual([false, false, false, false, 1]);
      expect(flags(StorageLevel.DISK_ONLY)).toEqual([true, false, false, false, 1]);
      expect(flags(StorageLevel.DISK_ONLY_2)).toEqual([true, false, false, false, 2]);
      expect(flags(StorageLevel.DISK_ONLY_3)).toEqual([true, false, false, false, 3]);
      expect(flags(StorageLevel.MEMORY_ONLY)).toEqual([false, true, false, false, 1]);
      expect(flags(StorageLevel.MEMORY_ONLY_2)).toEqual([false, true, false, false, 2]);
      expect(flags(StorageLevel.MEMORY_AND_DISK)).toEqual([true, true, false, false, 1]);
      expect(flags(StorageLevel.MEMORY_AND_DISK_2)).toEqual([true, true, false, false, 2]);
      expect(flags(StorageLevel.OFF_HEAP)).toEqual([true, true, true, false, 1]);
      expect(flags(StorageLevel.MEMORY_AND_DISK_DESER)).toEqual([true, true, false, true, 1]);

      expect(String(StorageLevel.MEMORY_ONLY)).toBe('Memory Serialized 1x Replicated');
      expect(StorageLevel.MEMORY_ONLY_2.toString()).toBe('Memory Serialized 2x Replicated');
      expect(StorageLevel.MEMORY_AND_DISK.toString()).toBe('Disk Memory Serialized 1x Replicated');
      expect(StorageLevel.DISK_ONLY.toString()).toBe('Disk Serialized 1x Replicated');
      expect(StorageLevel.DISK_ONLY_3.toString()).toBe('Disk Serialized 3x Replicated');
      expect(StorageLevel.MEMORY_AND_DISK_DESER.toString()).toBe('Disk Memory Deserialized 1x Replicated');
      expect(StorageLevel.OFF_HEAP.toString()).toBe('Disk Memory (off heap) Serialized 1x Replicated');
      expect(StorageLevel.NONE.toString()).toBe('Serialized 1x Replicated');
      expect(inspect(StorageLevel.MEMORY_ONLY)).toBe('StorageLevel(false, true, false, false, 1)');

      expect(StorageLevel.MEMORY_ONLY.equals(new StorageLevel(false, true, false, false))).toBe(true);
      expect(StorageLevel.MEMORY_ONLY.equals(StorageLevel.MEMORY_ONLY_2)).toBe(false);
    });
  });

  describe('toDebugString', () => {
    it('shows the storage level, and a CachedPartitions line once an action stored blocks', async () => {
      const rdd = sc
        .parallelize([1, 2, 3, 4, 5, 6], 3)
        .map((x) => x * 2)
        .cache();
      const before = rdd.toDebugString();
      expect(before.split('\n')[0]).toMatch(
        /^\(3\) MapPartitionsRDD\[\d+\] at map at .* \[Memory Serialized 1x Replicated\]$/,
      );
      expect(before).not.toContain('CachedPartitions');
      await rdd.collect();
      const after = rdd.toDebugString().split('\n');
      expect(after[0]).toContain('[Memory Serialized 1x Replicated]');
      expect(after[1]).toMatch(/^ \|\s+CachedPartitions: 3; MemorySize: \d+\.\d (B|KiB); DiskSize: 0\.0 B$/);
      expect(after[2]).toMatch(/^ \| {2}ParallelCollectionRDD\[\d+\] at parallelize at .* \[\]$/);
      rdd.unpersist();
      const dropped = rdd.toDebugString();
      expect(dropped).not.toContain('CachedPartitions');
      expect(dropped.split('\n')[0]).toMatch(/ \[\]$/);
    });

    it('counts only the partitions stored so far', async () => {
      const rdd = sc.parallelize([1, 2, 3, 4], 4).cache();
      await sc.runJob(rdd, (it) => [...it], [0, 2]);
      expect(rdd.toDebugString()).toContain('CachedPartitions: 2;');
    });

    it('shows a cached parent below a shuffle', async () => {
      const pairs = sc
        .parallelize([1, 2, 3, 4], 2)
        .map((x) => [x % 2, x] as [number, number])
        .cache();
      const sums = pairs.reduceByKey((a, b) => a + b);
      await sums.collect();
      // On a cluster the map tasks' cached blocks are announced by their workers' records, which
      // may reach the client just after the action ends: wait until both are heard.
      await vi.waitFor(() => expect(sums.toDebugString()).toContain('CachedPartitions: 2;'), {
        timeout: 5_000,
      });
      const lines = sums.toDebugString().split('\n');
      expect(lines[0]).toMatch(/^\(2\) ShuffledRDD/);
      expect(lines[1]).toMatch(
        /^ \+-\(2\) MapPartitionsRDD\[\d+\] at map at .* \[Memory Serialized 1x Replicated\]$/,
      );
      expect(lines[2]).toMatch(/^ {4}\| {6}CachedPartitions: 2; /);
      expect(lines[3]).toMatch(/^ {4}\| {2}ParallelCollectionRDD/);
    });
  });

  describe('checkpoint', () => {
    it('without setCheckpointDir is refused', async () => {
      const fresh = await mode.create(4);
      try {
        expect(fresh.getCheckpointDir()).toBeNull();
        const rdd = fresh.parallelize([1, 2]).map((x) => x);
        expect(() => rdd.checkpoint()).toThrow(InvalidOperationError);
        expect(() => rdd.checkpoint()).toThrow(/setCheckpointDir/);
        expect(rdd.isCheckpointed()).toBe(false);
      } finally {
        await fresh.stop();
      }
    });

    it('completes an action on a checkpointed RDD (checked in a child process first)', async () => {
      const r = await probe;
      expect(r.ok ? 'ok' : r.why).toBe('ok');
    });

    it('writes the partitions after an action, truncates the lineage and reads them back', async () => {
      await requireCheckpointProbe();
      const dir = join(root, 'checkpoints');
      sc.setCheckpointDir(dir);
      expect(sc.getCheckpointDir()).toBe(resolve(dir));
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc, 10, 3);
      rdd.checkpoint();
      expect(rdd.isCheckpointed()).toBe(false);
      expect(rdd.getCheckpointFile()).toBeNull();
      expect(rdd.toDebugString()).toContain('ParallelCollectionRDD');

      expect(await rdd.collect()).toEqual(range(10));
      expect(rdd.isCheckpointed()).toBe(true);
      const file = rdd.getCheckpointFile()!;
      expect(file.startsWith(resolve(dir))).toBe(true);
      expect(readdirSync(file).sort()).toEqual(['part-00000', 'part-00001', 'part-00002']);

      const computed = acc.value;
      expect(await rdd.collect()).toEqual(range(10));
      expect(await rdd.map((x) => x + 1).collect()).toEqual(range(10).map((x) => x + 1));
      expect(acc.value).toBe(computed); // read from the files, not recomputed
      expect(rdd.toDebugString()).not.toContain('ParallelCollectionRDD');
      // Spark's layout after a checkpoint: the RDD, then its checkpoint data as the only parent.
      expect(rdd.toDebugString().split('\n')).toHaveLength(2);
      expect(rdd.toDebugString().split('\n')[1]).toMatch(
        /^ \| {2}ReliableCheckpointRDD\[\d+\] at checkpoint at /,
      );
    });

    it('checkpoints a shuffled RDD', async () => {
      await requireCheckpointProbe();
      sc.setCheckpointDir(join(root, 'checkpoints-shuffle'));
      const sums = sc
        .parallelize(['a', 'b', 'a', 'c', 'a', 'b'], 3)
        .map((w) => [w, 1] as [string, number])
        .reduceByKey((a, b) => a + b, 2);
      sums.checkpoint();
      const expected = [
        ['a', 3],
        ['b', 2],
        ['c', 1],
      ];
      expect((await sums.collect()).sort()).toEqual(expected);
      expect(sums.isCheckpointed()).toBe(true);
      expect(existsSync(join(sums.getCheckpointFile()!, 'part-00001'))).toBe(true);
      expect((await sums.collect()).sort()).toEqual(expected);
      // Spark's layout: the RDD stays, its only parent is the checkpoint data, no shuffle below.
      expect(sums.toDebugString().split('\n')[1]).toMatch(
        /^ \| {2}ReliableCheckpointRDD\[\d+\] at checkpoint at /,
      );
      expect(sums.toDebugString()).not.toContain('+-');
      expect(await sums.sortByKey().keys().collect()).toEqual(['a', 'b', 'c']);
    });
  });

  describe('localCheckpoint', () => {
    it('persists the RDD so later actions reuse it', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc);
      rdd.localCheckpoint();
      expect(rdd.isLocallyCheckpointed()).toBe(true);
      expect(rdd.getStorageLevel().equals(StorageLevel.MEMORY_AND_DISK)).toBe(true);
      // As in PySpark 4: checkpointed once a job has materialized it, and no checkpoint file.
      expect(rdd.isCheckpointed()).toBe(false);
      expect(await rdd.collect()).toEqual(range(10));
      expect(rdd.isCheckpointed()).toBe(true);
      expect(rdd.getCheckpointFile()).toBeNull();
      expect(await rdd.collect()).toEqual(range(10));
      expect(await rdd.filter((x) => x > 10).count()).toBe(5);
      expect(acc.value).toBe(10);
      expect(rdd.toDebugString()).toContain('[Disk Memory Serialized 1x Replicated]');
    });

    it('keeps an already chosen storage level', async () => {
      const acc = sc.accumulator(0);
      const rdd = counted(sc, acc).cache();
      rdd.localCheckpoint();
      expect(rdd.getStorageLevel().equals(StorageLevel.MEMORY_ONLY)).toBe(true);
      await rdd.count();
      await rdd.count();
      expect(acc.value).toBe(10);
    });
  });

  describe('content ids', () => {
    it('are equal for identical pipelines built separately', () => {
      const build = () =>
        sc
          .parallelize([1, 2, 3, 4], 2)
          .map((x, env) => x * env.k, { k: 2 })
          .filter((x) => x > 2)
          .map((x) => [x % 2, x] as [number, number])
          .reduceByKey((a, b) => a + b, 3);
      const a = build();
      const b = build();
      expect(a.id).not.toBe(b.id);
      expect(a.contentId).toBe(b.contentId);
      expect(a.contentId).toMatch(/^[\w-]{22}$/);
      // Naming and persisting do not change the content.
      const c = build().setName('named').cache();
      expect(c.contentId).toBe(a.contentId);
    });

    it('differ for different functions, env, data or partitioning', () => {
      const base = sc.parallelize([1, 2, 3], 2);
      const id = (r: RDD<unknown>) => r.contentId;
      const ref = id(base.map((x) => x * 2));
      expect(id(sc.parallelize([1, 2, 3], 2).map((x) => x * 2))).toBe(ref);
      expect(id(base.map((x) => x * 3))).not.toBe(ref);
      expect(id(base.map((y) => y * 2))).not.toBe(ref);
      expect(id(base.filter((x) => x * 2))).not.toBe(ref);
      expect(id(base.map((x) => x * 2, undefined, { preservesPartitioning: true }))).toBe(ref);

      const withK = (k: number) => id(base.map((x, env) => x * env.k, { k }));
      expect(withK(2)).toBe(withK(2));
      expect(withK(2)).not.toBe(withK(3));
      const withF = (f: (x: number) => number) => id(base.map((x, env) => env.f(x), { f }));
      expect(withF((x) => x + 1)).toBe(withF((x) => x + 1));
      expect(withF((x) => x + 1)).not.toBe(withF((x) => x + 2));

      expect(id(sc.parallelize([1, 2, 4], 2).map((x) => x * 2))).not.toBe(ref);
      expect(id(sc.parallelize([1, 2, 3], 3).map((x) => x * 2))).not.toBe(ref);
      const pairs = sc.parallelize<[number, number]>([[1, 1]], 2);
      expect(id(pairs.reduceByKey((a, b) => a + b, 2))).not.toBe(id(pairs.reduceByKey((a, b) => a + b, 3)));
      expect(id(pairs.reduceByKey((a, b) => a + b))).not.toBe(id(pairs.reduceByKey((a, b) => a * b)));
    });

    it('differ for different broadcast variables and accumulators in env', () => {
      const base = sc.parallelize([1, 2, 3]);
      const b1 = sc.broadcast(1);
      const b2 = sc.broadcast(1);
      expect(base.map((x, env) => x + env.b.value, { b: b1 }).contentId).toBe(
        base.map((x, env) => x + env.b.value, { b: b1 }).contentId,
      );
      expect(base.map((x, env) => x + env.b.value, { b: b1 }).contentId).not.toBe(
        base.map((x, env) => x + env.b.value, { b: b2 }).contentId,
      );
    });

    it('identical pipelines over large data stay usable when the other one is garbage collected', async () => {
      // Data above the inline limit (64 KiB) is hosted by the client under its content hash.
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const data = Array.from({ length: 20_000 }, (_, i) => `element ${i}`);
      const survivor = sc.parallelize(data, 2);
      let other: RDD<string> | undefined = sc.parallelize(data, 2);
      expect(other.contentId).toBe(survivor.contentId);
      expect(await other.count()).toBe(20_000);
      const ref = new WeakRef(other);
      other = undefined;
      const tick = () => new Promise((r) => setTimeout(r, 10));
      let collected = false;
      for (let i = 0; i < 10 && !collected; i++) {
        // deref() keeps its target alive until the current job ends: collect in a later job.
        await tick();
        gc();
        await tick();
        collected = ref.deref() === undefined;
      }
      // Nothing may keep a finished action's RDD alive (a leaked abort listener once did, on a cluster).
      expect(collected).toBe(true);
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10)); // let finalization callbacks run
      }
      expect(await survivor.count()).toBe(20_000);
    });
  });
});
