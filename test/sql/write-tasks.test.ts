/**
 * Writes done by the tasks, in process and on a local cluster of 3 workers: one file per
 * non-empty partition with Spark's names (`part-00003-<job uuid>-c000.snappy.parquet`, the first
 * partition always, for the schema), `_SUCCESS` and no `_temporary` left; a sorted DataFrame's
 * files hold its ranges in order; partitionBy and append keep every job's files apart. A task's
 * commit: a second attempt of a committed partition discards its own files; an attempt after the
 * job ended fails without creating anything.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark } from '../../src/index.js';
import { runFragment, type FragmentTask, type WriteReport } from '../../src/sql/exec/fragment.js';

const JOB = '00000000-0000-4000-8000-000000000000';
const PART = /^part-(\d{5})-([0-9a-f-]{36})-c000\.(snappy\.parquet|csv|json|txt)$/;

let root: string;
let dirs = 0;
const fresh = () => join(root, `w${++dirs}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'microspark-write-tasks-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The part files of a directory: partition numbers and job ids, in name order. */
async function parts(dir: string): Promise<Array<{ name: string; partition: number; job: string }>> {
  return (await readdir(dir))
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((name) => {
      const m = PART.exec(name);
      if (!m) throw new Error(`not a Spark part file name: ${name}`);
      return { name, partition: Number(m[1]), job: m[2]! };
    });
}

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`df.write: each task writes its own partition (${mode})`, () => {
    let sc: MicroSpark;
    beforeAll(async () => {
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 3 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1 });
      sc.session.conf.set('spark.sql.shuffle.partitions', 3);
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
    });

    it('one file per non-empty partition, Spark names, _SUCCESS, no _temporary', async () => {
      const d = fresh();
      // 6 partitions of 100 ids: only the first two keep rows.
      await sc.session.range(0, 600, 1, 6).filter('id < 150').write.parquet(d);
      const files = await parts(d);
      expect(files.map((f) => f.partition)).toEqual([0, 1]);
      expect(new Set(files.map((f) => f.job)).size).toBe(1);
      expect((await readdir(d)).sort()).toEqual([...files.map((f) => f.name), '_SUCCESS'].sort());
      const back = await sc.session.read.parquet(d);
      const ids = (await back.orderBy('id').collect()).map((r) => r.id);
      expect(ids).toEqual([...Array(150).keys()]);
    });

    it('an empty DataFrame still writes partition 0, with the schema', async () => {
      const d = fresh();
      await sc.session.range(0, 600, 1, 6).filter('id < 0').write.parquet(d);
      expect((await parts(d)).map((f) => f.partition)).toEqual([0]);
      const back = await sc.session.read.parquet(d);
      expect(back.dtypes).toEqual([['id', 'bigint']]);
      expect(await back.count()).toBe(0);
    });

    it("a sorted DataFrame's files hold its ranges in order", async () => {
      const d = fresh();
      // A range exchange even for these few rows (a small input would be sorted in one task).
      sc.session.conf.set('spark.microspark.sql.smallInputThreshold', -1);
      try {
        await sc.session.range(0, 1000, 1, 4).orderBy(F.col('id').desc()).write.parquet(d);
      } finally {
        sc.session.conf.unset('spark.microspark.sql.smallInputThreshold');
      }
      const files = await parts(d);
      expect(files.map((f) => f.partition)).toEqual([0, 1, 2]); // spark.sql.shuffle.partitions
      const ids: unknown[] = [];
      for (const f of files) {
        const rows = await (await sc.session.read.parquet(join(d, f.name))).collect();
        ids.push(...rows.map((r) => r.id));
      }
      expect(ids).toEqual([...Array(1000).keys()].reverse());
    });

    it('partitionBy and append: every job keeps its own file names, nothing left behind', async () => {
      const d = fresh();
      const df = sc.session.range(0, 300, 1, 3).withColumn('k', F.col('id').mod(2));
      await df.write.partitionBy('k').parquet(d);
      await df.write.mode('append').partitionBy('k').parquet(d);
      expect((await readdir(d)).sort()).toEqual(['_SUCCESS', 'k=0', 'k=1']);
      for (const k of ['k=0', 'k=1']) {
        const files = await parts(join(d, k));
        // 3 partitions × 2 jobs, each file named by its partition and its job.
        expect(files.map((f) => f.partition)).toEqual([0, 0, 1, 1, 2, 2]);
        expect(new Set(files.map((f) => f.job)).size).toBe(2);
      }
      const back = await sc.session.read.parquet(d);
      expect(await back.count()).toBe(600);
      expect(await back.filter(F.col('k').equalTo(1)).count()).toBe(300);
    });
  });
}

describe('a write task commits once', () => {
  const task = (jobDir: string): FragmentTask => ({
    sql: 'SELECT * FROM in0',
    inputs: [{ kind: 'range', name: 'in0', start: 0, end: 30, step: 1, n: 3, column: 'c1' }],
    output: {
      kind: 'write',
      jobDir,
      jobId: JOB,
      select: 'c1 AS "id"',
      options: ['FORMAT parquet'],
      partitionBy: [],
      ext: 'snappy.parquet',
    },
  });
  const report = (out: Awaited<ReturnType<typeof runFragment>>) =>
    JSON.parse(new TextDecoder().decode(out[0]![1])) as WriteReport;

  it('a second attempt of a committed partition keeps the first one’s file and leaves nothing', async () => {
    const jobDir = join(fresh(), '_temporary', JOB);
    await mkdir(join(jobDir, '_temporary'), { recursive: true });
    expect(report(await runFragment(task(jobDir), 1, [[]]))).toEqual({ rows: 10, committed: true });
    const file = join(jobDir, 'task_00001', `part-00001-${JOB}-c000.snappy.parquet`);
    const first = (await stat(file)).mtimeMs;
    expect(report(await runFragment(task(jobDir), 1, [[]]))).toEqual({ rows: 10, committed: false });
    expect(await readdir(join(jobDir, '_temporary'))).toEqual([]);
    expect(await readdir(join(jobDir, 'task_00001'))).toEqual([`part-00001-${JOB}-c000.snappy.parquet`]);
    expect((await stat(file)).mtimeMs).toBe(first);
  });

  it('a straggler after the job ended fails without making any directory', async () => {
    const out = fresh();
    await mkdir(out);
    const jobDir = join(out, '_temporary', JOB);
    await expect(runFragment(task(jobDir), 0, [[]])).rejects.toThrow(/ENOENT/);
    expect(await readdir(out)).toEqual([]);
  });
});
