/**
 * DataFrames and RDDs, in process and on a local cluster of 3 workers: `df.rdd` is an RDD of row
 * objects decoded inside the tasks (its lineage ends in the SQL stage, not in client data), and
 * `rdd.toDF()` / `spark.createDataFrame(rdd, schema)` read an RDD's rows encoded on the workers,
 * with the schema inferred from the first elements or given, and values refused when they do
 * not fit it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, F } from '../../src/index.js';
import { TaskFailedError, type RemoteError } from '../../src/protocol/errors.js';
import { AnalysisException } from '../../src/sql/errors.js';

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`DataFrames and RDDs (${mode})`, () => {
    let sc: MicroSpark;
    beforeAll(async () => {
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 3, maxTaskFailures: 1 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1, maxTaskFailures: 1 });
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
    });

    it('df.rdd is an RDD of rows computed on the workers', async () => {
      const spark = sc.session;
      const df = spark.createDataFrame([
        { id: 1, name: 'a', tags: ['x'], when: new Date('2024-01-02T00:00:00Z') },
        { id: 2, name: null, tags: [], when: null },
        { id: 3, name: 'c', tags: null, when: new Date('2024-03-04T05:06:07Z') },
      ]);
      const rdd = df.filter(F.col('id').gt(1)).rdd;
      // One partition per partition of the client rows (the context's default parallelism).
      expect(rdd.getNumPartitions()).toBe(sc.defaultParallelism);
      expect(rdd.toDebugString()).toMatch(/^\(\d+\) MapPartitionsRDD\[\d+\].*\n \| {2}SQLStageRDD/);
      expect(await rdd.collect()).toEqual([
        { id: 2, name: null, tags: [], when: null },
        { id: 3, name: 'c', tags: null, when: new Date('2024-03-04T05:06:07Z') },
      ]);
      const grouped = await spark
        .range(0, 10, 1, 2)
        .groupBy(F.col('id').mod(3).alias('k'))
        .agg(F.count('*').alias('n'))
        .rdd.map((r) => [r.k as number, (r.n as number) * 100] as [number, number])
        .reduceByKey((a, b) => a + b)
        .sortByKey()
        .collect();
      expect(grouped).toEqual([
        [0, 400],
        [1, 300],
        [2, 300],
      ]);
    });

    it('df.rdd refuses an uncorrelated scalar subquery (it needs a job first)', async () => {
      const spark = sc.session;
      spark.range(5).createOrReplaceTempView('rdd_ids');
      const df = await spark.sql('SELECT id FROM rdd_ids WHERE id > (SELECT avg(id) FROM rdd_ids)');
      expect(() => df.rdd).toThrow(AnalysisException);
      expect(await df.collect()).toEqual([{ id: 3 }, { id: 4 }]);
    });

    it('rdd.toDF infers the schema from the first elements; createDataFrame(rdd, schema) uses the one given', async () => {
      const spark = sc.session;
      const rdd = sc.parallelize(
        [
          { k: 'a', v: 1, at: new Date('2020-01-01T00:00:00Z') },
          { k: 'b', v: 2.5, at: null },
          { k: 'c', v: null, at: null },
          { k: 'a', v: 4, at: null },
        ],
        2,
      );
      const df = await rdd.toDF();
      expect(df.schema.simpleString()).toBe('struct<k:string,v:double,at:timestamp>');
      expect(await df.groupBy('k').agg(F.sum('v').alias('s')).orderBy('k').collect()).toEqual([
        { k: 'a', s: 5 },
        { k: 'b', s: 2.5 },
        { k: 'c', s: null },
      ]);
      const named = await sc
        .parallelize(
          [
            [1, 'x'],
            [2, 'y'],
            [3, null],
          ],
          3,
        )
        .toDF(['n', 's']);
      expect(named.schema.simpleString()).toBe('struct<n:bigint,s:string>');
      const typed = await spark.createDataFrame(
        sc.parallelize([
          [1, 'x', [1.5, 2]],
          [2, 'y', null],
        ]),
        'n INT, s STRING, xs ARRAY<DOUBLE>',
      );
      typed.createOrReplaceTempView('rdd_typed');
      expect(
        await (await spark.sql('SELECT n * 10 AS m, s, xs FROM rdd_typed ORDER BY n')).collect(),
      ).toEqual([
        { m: 10, s: 'x', xs: [1.5, 2] },
        { m: 20, s: 'y', xs: null },
      ]);
      // Round trip: df.rdd → toDF.
      const again = await typed.rdd.map((r) => ({ n2: (r.n as number) * 2, s: r.s })).toDF();
      expect(await again.orderBy('n2').collect()).toEqual([
        { n2: 2, s: 'x' },
        { n2: 4, s: 'y' },
      ]);
      // unpersist of a DataFrame over an RDD leaves its data alone
      typed.unpersist();
      expect(await typed.count()).toBe(2);
    });

    it('refuses a value that does not fit the schema, naming the field', async () => {
      const df = await sc.session.createDataFrame(
        sc.parallelize([
          [1, 'x'],
          ['one', 'y'],
        ]),
        'n LONG, s STRING',
      );
      let err: unknown;
      try {
        await df.collect();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(((err as TaskFailedError).cause as RemoteError).message).toBe(
        "[CANNOT_ACCEPT_OBJECT_IN_TYPE] field n: bigint can not accept object 'one' of type string.",
      );
    });
  });
}
