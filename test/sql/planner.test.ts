/**
 * The distributed planner's stages for representative queries, as `explain` prints them (attribute
 * ids removed): partial and final aggregation, raw exchange for DISTINCT aggregates, broadcast and
 * shuffled joins, IN subqueries as semi joins, comma joins reordered with their conditions and
 * filters pushed to their side; global sorts as a range exchange, ORDER BY … LIMIT as a top-k.
 * A planner change shows up here as a diff.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark, type DataFrame } from '../../src/index.js';
import { duckdb } from '../../src/sql/exec/fragment.js';
import { sqlString } from '../../src/sql/types.js';

let sc: MicroSpark;
let big: DataFrame;
let small: DataFrame;

const plan = (df: DataFrame, mode: 'simple' | 'extended' = 'simple') =>
  df.engine.explain(df._plan, mode).replace(/#\d+/g, '');

/** The optimized logical plan's section of `explain('extended')`. */
const optimizedPlan = (df: DataFrame) => {
  const text = plan(df, 'extended');
  return text.slice(text.indexOf('== Optimized Logical Plan =='), text.indexOf('== Physical Plan =='));
};

beforeAll(async () => {
  sc = await MicroSpark.inProcess({ defaultParallelism: 3 });
  big = sc.session.range(0, 1000, 1, 4).withColumn('k', F.col('id').mod(10));
  small = sc.session.createDataFrame(
    [
      [1, 'a'],
      [2, 'b'],
    ],
    'k LONG, name STRING',
  );
  big.createOrReplaceTempView('big');
  small.createOrReplaceTempView('small');
});

afterAll(async () => {
  await sc.stop();
});

describe('distributed planner', () => {
  it('plans an aggregate twice: partial before the hash exchange, final after it', () => {
    expect(plan(big.groupBy('k').agg(F.sum('id')))).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange hashpartitioning(k, 3)
  Aggregate [k], [k, sum(id)]
  +- Project [id, (id % 10) AS k]
     +- Range (0, 1000, step=1)

Stage 1 (3 tasks) → Result
  Aggregate [k], [k, sum(id)]
  +- ShuffleRead stage 0 (hash)
`);
  });

  it('exchanges rows, not partial results, for a DISTINCT aggregate', () => {
    expect(plan(big.groupBy('k').agg(F.countDistinct('id')))).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange hashpartitioning(k, 3)
  Project [id, (id % 10) AS k]
  +- Range (0, 1000, step=1)

Stage 1 (3 tasks) → Result
  Aggregate [k], [k, count(DISTINCT id)]
  +- ShuffleRead stage 0 (hash)
`);
  });

  it('broadcasts the small side of a join to every partition of the large one', () => {
    expect(plan(big.join(small, 'k'))).toBe(`== Physical Plan ==
Stage 0 (2 tasks) → BroadcastExchange (4 partitions)
  LocalRelation [k, name]

Stage 1 (4 tasks) → Result
  Project [k, id, name]
  +- Join Inner, (k = k)
     :- Project [id, (id % 10) AS k]
     :  +- Range (0, 1000, step=1)
     +- ShuffleRead stage 0 (broadcast)
`);
  });

  it('hashes both sides on the join keys when broadcast joins are off', () => {
    sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
    try {
      expect(plan(big.join(small, 'k'))).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange hashpartitioning(k, 3)
  Project [id, (id % 10) AS k]
  +- Range (0, 1000, step=1)

Stage 1 (2 tasks) → Exchange hashpartitioning(k, 3)
  LocalRelation [k, name]

Stage 2 (3 tasks) → Result
  Project [k, id, name]
  +- Join Inner, (k = k)
     :- ShuffleRead stage 0 (hash)
     +- ShuffleRead stage 1 (hash)
`);
    } finally {
      sc.session.conf.unset('spark.sql.autoBroadcastJoinThreshold');
    }
  });

  it('turns IN into a semi join below the inner join, gives a comma join its condition and pushes filters to their side', async () => {
    const df = await sc.session.sql(
      "select b.id from big b, small s where b.k = s.k and s.name = 'a' and b.id in (select id from big where id < 5)",
    );
    const optimized = optimizedPlan(df);
    // The semi join goes below the inner join, to the side holding b.id.
    expect(optimized).toBe(`== Optimized Logical Plan ==
Project [id]
+- Join Inner, (k = k)
   :- Join LeftSemi, (id = id)
   :  :- SubqueryAlias [id, k]
   :  :  +- SubqueryAlias [id, k]
   :  :     +- Project [id, (id % 10) AS k]
   :  :        +- Range (0, 1000, step=1)
   :  +- Project [id]
   :     +- SubqueryAlias [id]
   :        +- Project [id]
   :           +- Filter (id < 5)
   :              +- Range (0, 1000, step=1)
   +- Project [k]
      +- SubqueryAlias [k, name]
         +- SubqueryAlias [k, name]
            +- Filter (name = a)
               +- LocalRelation [k, name]

`);
    expect(await df.collect()).toEqual([{ id: 1 }]);
  });
  it('prunes columns through reordered joins: each exchange carries only the columns read above it', async () => {
    // Q9's shape: a comma join in an order without conditions between neighbours, wide tables,
    // a filter on a column nothing above reads.
    const dir = await mkdtemp(join(tmpdir(), 'microspark-prune-'));
    for (const t of ['a', 'b', 'c']) await mkdir(join(dir, t));
    const conn = await (await duckdb()).connect();
    try {
      const write = (name: string, select: string) =>
        conn.run(`COPY (${select}) TO ${sqlString(join(dir, name))} (FORMAT parquet)`);
      await write(
        'a/0.parquet',
        "SELECT i AS ak, i % 5 AS av, 'name ' || i AS aname, repeat('a', 40) AS acomment FROM range(100) r(i)",
      );
      for (const f of [0, 1]) {
        await write(
          `b/${f}.parquet`,
          `SELECT i AS bk, i % 100 AS bak, repeat('b', 40) AS bcomment FROM range(${f * 500}, ${(f + 1) * 500}) r(i)`,
        );
        await write(
          `c/${f}.parquet`,
          `SELECT i AS ck, i % 1000 AS cbk, i * 0.5 AS cv, repeat('c', 40) AS ccomment FROM range(${f * 5000}, ${(f + 1) * 5000}) r(i)`,
        );
      }
      for (const t of ['a', 'b', 'c'])
        (await sc.session.read.parquet(join(dir, t))).createOrReplaceTempView(`prune_${t}`);
      sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
      const df = await sc.session.sql(`select av, sum(cv) as s from prune_c, prune_a, prune_b
        where prune_a.ak = prune_b.bak and prune_b.bk = prune_c.cbk and prune_a.aname like '%1%' group by av`);
      // Stage 2 hashes (cv, bak), not the four columns of its join; stage 3 reads aname, ships (ak, av).
      expect(plan(df)).toBe(`== Physical Plan ==
Stage 0 (2 tasks) → Exchange hashpartitioning(cbk, 3)
  SubqueryAlias [cbk, cv]
  +- Relation parquet [cbk,cv]

Stage 1 (2 tasks) → Exchange hashpartitioning(bk, 3)
  SubqueryAlias [bk, bak]
  +- Relation parquet [bk,bak]

Stage 2 (3 tasks) → Exchange hashpartitioning(bak, 3)
  Project [cv, bak]
  +- Join Inner, (bk = cbk)
     :- ShuffleRead stage 0 (hash)
     +- ShuffleRead stage 1 (hash)

Stage 3 (1 tasks) → Exchange hashpartitioning(ak, 3)
  SubqueryAlias [ak, av]
  +- Relation parquet [ak,av] PushedFilters: [aname LIKE %1%]

Stage 4 (3 tasks) → Exchange hashpartitioning(av, 3)
  Aggregate [av], [av, sum(cv)]
  +- Project [cv, av]
     +- Join Inner, (ak = bak)
        :- ShuffleRead stage 2 (hash)
        +- ShuffleRead stage 3 (hash)

Stage 5 (3 tasks) → Result
  Aggregate [av], [av, s]
  +- ShuffleRead stage 4 (hash)
`);
      const want =
        await conn.runAndReadAll(`select av, sum(cv) as s from ${['c', 'a', 'b'].map((t) => `read_parquet(${sqlString(join(dir, t, '*.parquet'))}) ${t}`).join(', ')}
        where a.ak = b.bak and b.bk = c.cbk and a.aname like '%1%' group by av order by av`);
      const got = (await df.collect()).map((r) => [r.av, r.s]).sort((x, y) => Number(x[0]) - Number(y[0]));
      expect(got).toEqual(want.getRowsJS().map((r) => [Number(r[0]), Number(r[1])]));
    } finally {
      sc.session.conf.unset('spark.sql.autoBroadcastJoinThreshold');
      conn.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns a correlated scalar subquery with an aggregate into a left join with the aggregate by its key', async () => {
    sc.session
      .createDataFrame(
        [
          [1, 10],
          [2, 5],
          [3, 7],
          [4, null],
        ],
        'k INT, v INT',
      )
      .createOrReplaceTempView('corr_o');
    sc.session
      .createDataFrame(
        [
          [1, 4],
          [1, 8],
          [2, 1],
          [2, 3],
          [4, 2],
        ],
        'k INT, x INT',
      )
      .createOrReplaceTempView('corr_i');
    // k 1: 10 > 2 * 6 no; k 2: 5 > 2 * 2 yes; k 3: no rows, NULL; k 4: v NULL.
    const df = await sc.session.sql(
      'select k from corr_o where v > (select 2 * avg(x) from corr_i where corr_i.k = corr_o.k) order by k',
    );
    const optimized = optimizedPlan(df);
    expect(optimized).toBe(`== Optimized Logical Plan ==
Sort [k ASC NULLS FIRST], true
+- Project [k]
   +- Project [k]
      +- Filter (v > (2 * avg(x)))
         +- Join Left, (k = k0)
            :- SubqueryAlias [k, v]
            :  +- LocalRelation [k, v]
            +- Aggregate [k], [k0, (2 * avg(x))]
               +- SubqueryAlias [k, x]
                  +- LocalRelation [k, x]

`);
    expect(await df.collect()).toEqual([{ k: 2 }]);
    // count(*) over no rows is 0, not NULL: that subquery stays as it is (k 3 kept, 7 >= 0).
    const counted = await sc.session.sql(
      'select k from corr_o where coalesce(v, 0) >= (select count(*) from corr_i where corr_i.k = corr_o.k) order by k',
    );
    expect(plan(counted, 'extended')).not.toContain('Join Left');
    expect(await counted.collect()).toEqual([{ k: 1 }, { k: 2 }, { k: 3 }]);
  });

  it('judges a join side by its kept columns and a filter guess, not its file bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'microspark-estimate-'));
    const conn = await (await duckdb()).connect();
    try {
      for (const t of ['w', 'f']) await mkdir(join(dir, t));
      for (const p of [0, 1]) {
        // w: 4 columns, two of them wide hashes; f: 2 columns, 10,000 rows a file.
        await conn.run(
          `COPY (SELECT i AS wk, i % 7 AS flag, md5(i::VARCHAR) AS c1, md5((i + 1)::VARCHAR) AS c2 FROM range(${p * 1000}, ${(p + 1) * 1000}) r(i)) TO ${sqlString(join(dir, 'w', `${p}.parquet`))} (FORMAT parquet)`,
        );
        await conn.run(
          `COPY (SELECT i AS fid, hash(i) % 2000 AS fk FROM range(${p * 10000}, ${(p + 1) * 10000}) r(i)) TO ${sqlString(join(dir, 'f', `${p}.parquet`))} (FORMAT parquet)`,
        );
      }
      const bytes = async (t: string) =>
        (await stat(join(dir, t, '0.parquet'))).size + (await stat(join(dir, t, '1.parquet'))).size;
      const [w, f] = [await bytes('w'), await bytes('f')];
      // w read for 1 of its 4 columns (flag only in the pushed filter): w / 4, and a quarter of
      // that with the filter. The threshold lies between.
      const threshold = Math.ceil(w / 8);
      expect(threshold).toBeLessThan(Math.min(w / 4, f));
      sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', threshold);
      for (const t of ['w', 'f'])
        (await sc.session.read.parquet(join(dir, t))).createOrReplaceTempView(`est_${t}`);
      const filtered = await sc.session.sql('select fid from est_f join est_w on fk = wk where flag = 3');
      expect(plan(filtered)).toContain(`Stage 0 (2 tasks) → BroadcastExchange (2 partitions)
  SubqueryAlias [wk]
  +- Relation parquet [wk] PushedFilters: [(flag = 3)]`);
      const unfiltered = await sc.session.sql('select fid from est_f join est_w on fk = wk');
      expect(plan(unfiltered)).not.toContain('BroadcastExchange');
      const want = await conn.runAndReadAll(
        `select count(*) from read_parquet(${sqlString(join(dir, 'f', '*.parquet'))}) f join read_parquet(${sqlString(join(dir, 'w', '*.parquet'))}) w on fk = wk where flag = 3`,
      );
      expect((await filtered.collect()).length).toBe(Number(want.getRowsJS()[0]![0]));
    } finally {
      sc.session.conf.unset('spark.sql.autoBroadcastJoinThreshold');
      conn.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('plans a global sort as a range exchange on its keys, then a sort of each partition', () => {
    sc.session.conf.set('spark.microspark.sql.smallInputThreshold', -1);
    try {
      expect(plan(big.orderBy(F.col('k').desc(), 'id'))).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange rangepartitioning(k DESC NULLS LAST, id ASC NULLS FIRST, 3)
  Project [id, (id % 10) AS k]
  +- Range (0, 1000, step=1)

Stage 1 (3 tasks) → Result
  Sort [k DESC NULLS LAST, id ASC NULLS FIRST], true
  +- ShuffleRead stage 0 (range)
`);
    } finally {
      sc.session.conf.unset('spark.microspark.sql.smallInputThreshold');
    }
  });

  it('gathers a small input to one partition and sorts it there: no sampling job, no range exchange', async () => {
    // Client rows (64 bytes estimated) and a 1,000-row range (8,000 bytes) are under the 1 MB default.
    expect(plan(small.orderBy('name'))).toBe(`== Physical Plan ==
Stage 0 (2 tasks) → Exchange SinglePartition
  LocalRelation [k, name]

Stage 1 (1 tasks) → Result
  Sort [name ASC NULLS FIRST], true
  +- ShuffleRead stage 0 (single)
`);
    const sorted = big.orderBy(F.col('k').desc(), 'id');
    expect(plan(sorted)).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange SinglePartition
  Project [id, (id % 10) AS k]
  +- Range (0, 1000, step=1)

Stage 1 (1 tasks) → Result
  Sort [k DESC NULLS LAST, id ASC NULLS FIRST], true
  +- ShuffleRead stage 0 (single)
`);
    const rows = await sorted.collect();
    expect(rows.length).toBe(1000);
    expect(rows.slice(0, 3).map((r) => [r.id, r.k])).toEqual([
      [9, 9],
      [19, 9],
      [29, 9],
    ]);
    expect(rows.slice(-2).map((r) => [r.id, r.k])).toEqual([
      [980, 0],
      [990, 0],
    ]);
    // Under a threshold of 7,999 bytes the range is not small: a range exchange again.
    sc.session.conf.set('spark.microspark.sql.smallInputThreshold', '7999');
    try {
      expect(plan(sorted)).toContain('Exchange rangepartitioning(k DESC NULLS LAST, id ASC NULLS FIRST, 3)');
    } finally {
      sc.session.conf.unset('spark.microspark.sql.smallInputThreshold');
    }
    expect(plan(small.coalesce(1).orderBy('name'))).toBe(`== Physical Plan ==
Stage 0 (2 tasks) → Exchange SinglePartition
  LocalRelation [k, name]

Stage 1 (1 tasks) → Result
  Sort [name ASC NULLS FIRST], true
  +- ShuffleRead stage 0 (single)
`);
  });

  it('reads a small cached view in one task: count(*) is one stage, not partial + exchange + final', async () => {
    const t = sc.session.range(0, 1000, 1, 3).cache();
    t.createOrReplaceTempView('cached_t');
    const df = await sc.session.sql('select count(*) as n from cached_t');
    expect(await df.collect()).toEqual([{ n: 1000 }]);
    // The cache is built now (3 partitions): explain plans it as the action did.
    expect(plan(df)).toBe(`== Physical Plan ==
Stage 0 (1 tasks) → Result
  Aggregate [], [n]
  +- SubqueryAlias [id]
     +- InMemoryRelation [id], every partition in one task
`);
    // spark_partition_id() still sees the view's 3 partitions.
    const ids = await (
      await sc.session.sql('select distinct spark_partition_id() as p from cached_t order by p')
    ).collect();
    expect(ids).toEqual([{ p: 0 }, { p: 1 }, { p: 2 }]);
  });

  it('never counts a DataFrame over an RDD as small (its size is unknown)', async () => {
    const rdd = sc.parallelize([1, 2, 3, 4, 5, 6], 3).map((x) => ({ x }));
    const df = await sc.session.createDataFrame(rdd, 'x LONG');
    const agg = df.agg(F.count('x').alias('n'));
    expect(await agg.collect()).toEqual([{ n: 6 }]);
    expect(plan(agg)).toContain('Stage 1 (1 tasks) → Result');
    expect(plan(agg)).toContain('Stage 0 (3 tasks) → Exchange SinglePartition');
    // Nor broadcast: the client rows are, to the RDD's partitions.
    expect(plan(small.join(df, small.col('k').equalTo(df.col('x')))))
      .toContain(`Stage 0 (2 tasks) → BroadcastExchange (3 partitions)
  LocalRelation [k, name]`);
  });

  it('plans ORDER BY … LIMIT as a top-k: limit + offset rows per partition, gathered, sorted and cut', async () => {
    const df = await sc.session.sql('select id from big order by k desc, id limit 5 offset 2');
    expect(plan(df)).toBe(`== Physical Plan ==
Stage 0 (4 tasks) → Exchange SinglePartition
  GlobalLimit 7
  +- Sort [k DESC NULLS LAST, id ASC NULLS FIRST], false
     +- Project [id, k]
        +- SubqueryAlias [id, k]
           +- Project [id, (id % 10) AS k]
              +- Range (0, 1000, step=1)

Stage 1 (1 tasks) → Result
  GlobalLimit 5, 2
  +- Project [id]
     +- Sort [k DESC NULLS LAST, id ASC NULLS FIRST], true
        +- ShuffleRead stage 0 (single)
`);
    expect(await df.collect()).toEqual([29, 39, 49, 59, 69].map((id) => ({ id })));
  });
});

describe('adaptive execution', () => {
  /** The plans the action ran (its `sql` progress events) and the shuffle map stages it started. */
  const run = async (sql: string) => {
    const plans: string[] = [];
    let mapStages = 0;
    const off = sc.onProgress((e) => {
      if (e.type === 'sql') plans.push(e.plan.replace(/#\d+/g, ''));
      if (e.type === 'stage' && e.kind === 'shuffle-map' && e.state === 'submitted') mapStages++;
    });
    try {
      const df = await sc.session.sql(sql);
      return { rows: (await df.collect()).map((r) => ({ ...r })), static: plan(df), plans, mapStages };
    } finally {
      off();
    }
  };

  beforeAll(() => {
    // 100,000 rows: 800 KB estimated; with `id < 10`, a quarter of that is guessed, 10 rows kept.
    sc.session.range(0, 100000, 1, 4).createOrReplaceTempView('many');
  });

  it('broadcasts a join side that proved small once its stage ran, reading its hash exchange whole', async () => {
    sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', '64k');
    try {
      const q =
        'select count(*) as n, sum(m.id) as s from many m join (select id as fid from many where id < 10) f on m.id = f.fid';
      const r = await run(q);
      expect(r.rows).toEqual([{ n: 10, s: 45 }]);
      // Planned statically, both sides are hashed (the filtered side's 200 KB guess is over 64 KB).
      expect(r.static).toContain('Exchange hashpartitioning(fid, 3)');
      expect(r.plans).toEqual([
        `== Physical Plan ==
Stage 0 (4 tasks) → Exchange hashpartitioning(fid, 3)
  SubqueryAlias [fid]
  +- Project [id AS fid]
     +- SubqueryAlias [id]
        +- Filter (id < 10)
           +- Range (0, 100000, step=1)

Stage 1 (4 tasks) → Exchange SinglePartition
  Aggregate [], [count(1), sum(id)]
  +- Join Inner, (id = fid)
     :- SubqueryAlias [id]
     :  +- SubqueryAlias [id]
     :     +- Range (0, 100000, step=1)
     +- ShuffleRead stage 0 (hash, whole: adaptive broadcast)

Stage 2 (1 tasks) → Result
  Aggregate [], [n, s]
  +- ShuffleRead stage 1 (single)
`,
      ]);
      // The side's stage ran once (its own job), then the probe's partial aggregate: 2 map stages.
      expect(r.mapStages).toBe(2);
    } finally {
      sc.session.conf.unset('spark.sql.autoBroadcastJoinThreshold');
    }
  });

  it('keeps the hash join when the side that ran is large, reusing its exchange; off, the static plan runs', async () => {
    sc.session.conf.set('spark.sql.autoBroadcastJoinThreshold', '64k');
    try {
      const q =
        'select count(*) as n, sum(m.id) as s from many m join (select id as fid from many where id < 90000) f on m.id = f.fid';
      const r = await run(q);
      expect(r.rows).toEqual([{ n: 90000, s: 4049955000 }]);
      expect(r.plans).toEqual([
        `== Physical Plan ==
Stage 0 (4 tasks) → Exchange hashpartitioning(id, 3)
  SubqueryAlias [id]
  +- SubqueryAlias [id]
     +- Range (0, 100000, step=1)

Stage 1 (4 tasks) → Exchange hashpartitioning(fid, 3)
  SubqueryAlias [fid]
  +- Project [id AS fid]
     +- SubqueryAlias [id]
        +- Filter (id < 90000)
           +- Range (0, 100000, step=1)

Stage 2 (3 tasks) → Exchange SinglePartition
  Aggregate [], [count(1), sum(id)]
  +- Join Inner, (id = fid)
     :- ShuffleRead stage 0 (hash)
     +- ShuffleRead stage 1 (hash)

Stage 3 (1 tasks) → Result
  Aggregate [], [n, s]
  +- ShuffleRead stage 2 (single)
`,
      ]);
      // It is the static plan, and the filtered side's stage ran once (in its own job): 3 map stages.
      expect(r.plans).toEqual([r.static]);
      expect(r.mapStages).toBe(3);
      sc.session.conf.set('spark.sql.adaptive.enabled', 'false');
      const small = await run(q.replace('90000', '10'));
      expect(small.rows).toEqual([{ n: 10, s: 45 }]);
      expect(small.plans).toEqual([small.static]);
    } finally {
      sc.session.conf.unset('spark.sql.autoBroadcastJoinThreshold');
      sc.session.conf.unset('spark.sql.adaptive.enabled');
    }
  });
});
