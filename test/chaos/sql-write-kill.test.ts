/**
 * A DataFrame write on 3 worker daemons with one of them SIGKILLed in the middle of writing its
 * partition: a UDF holds partition 2's task inside its `COPY` for a while, and the worker running
 * it is killed once that task's attempt directory holds its open part file. The output has
 * exactly the rows written (none lost, none twice), one file per partition with Spark's names,
 * `_SUCCESS`, and no temporary directory. The fault fired: the victim ran partition 2 and was
 * killed mid-write (its attempt directory and file existed, uncommitted), it was reported lost,
 * and another worker ran partition 2 again. Timeouts are shortened as in the other chaos tests.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark } from '../../src/index.js';
import type { ProgressEvent } from '../../src/client/progress.js';
import type { LocalWorker } from '../../src/client/local-cluster.js';

const FAST = { heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000, noWorkerGraceMs: 5000 } as const;
const ROWS = 60_000;
const PARTITIONS = 6;
const SLOW_ID = 25_000; // in partition 2 (ids 20000–29999), past its first chunks

describe('chaos: a worker SIGKILLed in the middle of a write', () => {
  let sc: MicroSpark | undefined;
  let root: string;
  let victimPid: number | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'microspark-write-kill-'));
  });
  afterAll(async () => {
    await sc?.stop();
    if (victimPid !== undefined)
      try {
        process.kill(victimPid, 'SIGKILL');
      } catch {
        // already gone
      }
    await rm(root, { recursive: true, force: true });
  });

  it('leaves exactly the rows, once each, and no temporary files', async () => {
    sc = await MicroSpark.local({ workers: 3, slotsPerWorker: 1, defaultParallelism: 3, ...FAST });
    const spark = sc.session;
    const out = join(root, 'out');
    // Blocks its task's thread for 2.5 s at one id (every attempt: the retry is slow too).
    const slow = F.udf(
      (x: number, env: { id: number }) => {
        if (x === env.id) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
        return x;
      },
      'long',
      { id: SLOW_ID },
    );
    const df = spark
      .range(0, ROWS, 1, PARTITIONS)
      .select(slow(F.col('id')).alias('id'), F.col('id').mod(7).alias('k'));

    const events: ProgressEvent[] = [];
    let runningOn: string | undefined; // the worker running partition 2, latest attempt
    sc.onProgress((e) => {
      events.push(e);
      if (e.type === 'task' && e.partition === 2 && e.state === 'running') runningOn = e.worker;
    });

    let victim: LocalWorker | undefined;
    let atKill: { attempt: string; files: string[] } | undefined;
    let writing = true;
    const written = df.write.parquet(out).finally(() => {
      writing = false;
    });
    // Watch for partition 2's attempt directory with its part file open, then kill its worker.
    while (writing && victim === undefined) {
      await new Promise((r) => setTimeout(r, 20));
      const temporary = join(out, '_temporary');
      const jobs = existsSync(temporary) ? await readdir(temporary) : [];
      for (const job of jobs) {
        const attempts = join(temporary, job, '_temporary');
        const names = existsSync(attempts) ? await readdir(attempts).catch(() => []) : [];
        const attempt = names.find((n) => n.startsWith('attempt_00002_'));
        if (!attempt || runningOn === undefined) continue;
        const files = await readdir(join(attempts, attempt)).catch(() => [] as string[]);
        if (files.length === 0) continue;
        victim = sc.localWorkers.find((w) => w.node === runningOn);
        if (!victim) continue;
        victimPid = victim.child.pid;
        atKill = { attempt, files };
        victim.child.kill('SIGKILL');
        break;
      }
    }
    await written;

    // The fault fired: the victim was killed while writing partition 2, before its commit.
    expect(victim).toBeDefined();
    expect(atKill!.files).toHaveLength(1);
    expect(atKill!.files[0]).toMatch(/^part-00002-[0-9a-f-]{36}-c000\.snappy\.parquet$/);
    const lost = events.filter((e) => e.type === 'worker' && e.state === 'lost');
    expect(lost.map((e) => (e.type === 'worker' ? e.node : ''))).toEqual([victim!.node]);
    const done2 = events.filter((e) => e.type === 'task' && e.partition === 2 && e.state === 'done');
    expect(done2).toHaveLength(1);
    expect(done2[0]!.type === 'task' && done2[0]!.worker).not.toBe(victim!.node);

    // Exactly the rows, once each: one file per partition of one job, no temporary directory.
    const entries = (await readdir(out)).sort();
    expect(entries.filter((f) => !f.startsWith('part-'))).toEqual(['_SUCCESS']);
    const parts = entries.filter((f) => f.startsWith('part-'));
    expect(parts.map((f) => f.slice(0, 10))).toEqual(
      [...Array(PARTITIONS).keys()].map((p) => `part-0000${p}`),
    );
    expect(new Set(parts.map((f) => f.slice(11, 47))).size).toBe(1);
    (await spark.read.parquet(out)).createOrReplaceTempView('written');
    const [stats] = await (
      await spark.sql(
        'SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi, sum(id) AS s, sum(k) AS sk FROM written',
      )
    ).collect();
    const sumK = [...Array(ROWS).keys()].reduce((a, i) => a + (i % 7), 0);
    expect(stats).toEqual({ n: ROWS, d: ROWS, lo: 0, hi: ROWS - 1, s: (ROWS * (ROWS - 1)) / 2, sk: sumK });
  }, 90_000);
});
