/**
 * PySpark's API-reference examples for DataFrame, Column, GroupedData and DataFrameNaFunctions
 * (pyspark.sql.DataFrame.*, Column.*, GroupedData.*), with their data, their calls (camelCase,
 * options objects for keyword arguments) and the outputs the docs print, in process and on a
 * local cluster of 3 workers. Where the docs' row order comes from Spark's partitioning, a sort
 * is added and said so.
 */
import { describe, expect, it } from 'vitest';
import { F } from '../../src/index.js';
import { explainText, forEachMode, schemaLines, showLines, table } from './doc-examples-support.js';

forEachMode('PySpark DataFrame examples', (spark) => {
  const people = () =>
    spark().createDataFrame(
      [
        [2, 'Alice'],
        [5, 'Bob'],
      ],
      ['age', 'name'],
    );

  describe('projections', () => {
    it('select("*") and select(df.name, (df.age + 10).alias("age"))', async () => {
      const df = people();
      expect(await showLines(df.select('*'))).toEqual(
        table('+---+-----+', '|age| name|', '+---+-----+', '|  2|Alice|', '|  5|  Bob|', '+---+-----+'),
      );
      expect(await showLines(df.select(df.get('name'), df.col('age').plus(10).alias('age')))).toEqual(
        table('+-----+---+', '| name|age|', '+-----+---+', '|Alice| 12|', '|  Bob| 15|', '+-----+---+'),
      );
    });

    it('selectExpr("age * 2", "abs(age)")', async () => {
      expect(await showLines(people().selectExpr('age * 2', 'abs(age)'))).toEqual(
        table(
          '+---------+--------+',
          '|(age * 2)|abs(age)|',
          '+---------+--------+',
          '|        4|       2|',
          '|       10|       5|',
          '+---------+--------+',
        ),
      );
    });

    it('filter / where with a Column and with a SQL string', async () => {
      const df = people();
      expect(await df.filter(df.col('age').gt(3)).collect()).toEqual([{ age: 5, name: 'Bob' }]);
      expect(await df.where(df.col('age').equalTo(2)).collect()).toEqual([{ age: 2, name: 'Alice' }]);
      expect(await df.filter('age > 3').collect()).toEqual([{ age: 5, name: 'Bob' }]);
      expect(await df.where('age = 2').collect()).toEqual([{ age: 2, name: 'Alice' }]);
      expect(await df.filter(df.col('name').startswith('Al').and(df.col('age').gt(1))).collect()).toEqual([
        { age: 2, name: 'Alice' },
      ]);
    });

    it('withColumn, withColumns, withColumnRenamed, withColumnsRenamed', async () => {
      const df = people();
      expect(await showLines(df.withColumn('age2', df.col('age').plus(2)))).toEqual(
        table(
          '+---+-----+----+',
          '|age| name|age2|',
          '+---+-----+----+',
          '|  2|Alice|   4|',
          '|  5|  Bob|   7|',
          '+---+-----+----+',
        ),
      );
      expect(
        await showLines(df.withColumns({ age2: df.col('age').plus(2), age3: df.col('age').plus(3) })),
      ).toEqual(
        table(
          '+---+-----+----+----+',
          '|age| name|age2|age3|',
          '+---+-----+----+----+',
          '|  2|Alice|   4|   5|',
          '|  5|  Bob|   7|   8|',
          '+---+-----+----+----+',
        ),
      );
      expect(df.withColumnRenamed('age', 'age2').columns).toEqual(['age2', 'name']);
      expect(df.withColumnsRenamed({ age: 'age2', name: 'name2' }).columns).toEqual(['age2', 'name2']);
      // A column that does not exist: a no-op.
      expect(df.withColumnRenamed('missing', 'x').columns).toEqual(['age', 'name']);
    });

    it('drop by name, by Column, unknown names ignored', async () => {
      const df = people();
      expect(await showLines(df.drop('age'))).toEqual(
        table('+-----+', '| name|', '+-----+', '|Alice|', '|  Bob|', '+-----+'),
      );
      expect(df.drop(df.col('age')).columns).toEqual(['name']);
      expect(df.drop('age', 'name').columns).toEqual([]);
      expect(df.drop('nope').columns).toEqual(['age', 'name']);
    });
  });

  describe('de-duplication', () => {
    it('distinct().count() and dropDuplicates()', async () => {
      const df = spark().createDataFrame(
        [
          [14, 'Tom'],
          [23, 'Alice'],
          [23, 'Alice'],
        ],
        ['age', 'name'],
      );
      expect(await df.distinct().count()).toBe(2);
      expect(await df.dropDuplicates().orderBy('age').collect()).toEqual([
        { age: 14, name: 'Tom' },
        { age: 23, name: 'Alice' },
      ]);
    });

    it("dropDuplicates(['name', 'height'])", async () => {
      const df = spark().createDataFrame(
        [
          ['Alice', 5, 80],
          ['Alice', 5, 80],
          ['Alice', 10, 80],
        ],
        ['name', 'age', 'height'],
      );
      expect(await df.dropDuplicates().orderBy('age').collect()).toEqual([
        { name: 'Alice', age: 5, height: 80 },
        { name: 'Alice', age: 10, height: 80 },
      ]);
      const one = await df.dropDuplicates(['name', 'height']).collect();
      expect(one).toHaveLength(1);
      expect(one[0]!.name).toBe('Alice');
      expect(one[0]!.height).toBe(80);
    });
  });

  describe('GroupedData', () => {
    const grouped = () =>
      spark().createDataFrame(
        [
          [2, 'Alice'],
          [3, 'Alice'],
          [5, 'Bob'],
          [10, 'Bob'],
        ],
        ['age', 'name'],
      );

    it("agg({ age: 'sum' }), agg(F.min(df.age)), count(), avg, max, min, sum", async () => {
      const df = grouped();
      expect(await showLines(df.groupBy('name').agg({ age: 'sum' }).sort('name'))).toEqual(
        table(
          '+-----+--------+',
          '| name|sum(age)|',
          '+-----+--------+',
          '|Alice|       5|',
          '|  Bob|      15|',
          '+-----+--------+',
        ),
      );
      expect(
        await showLines(
          df
            .groupBy(df.col('name'))
            .agg(F.min(df.col('age')))
            .sort('name'),
        ),
      ).toEqual(
        table(
          '+-----+--------+',
          '| name|min(age)|',
          '+-----+--------+',
          '|Alice|       2|',
          '|  Bob|       5|',
          '+-----+--------+',
        ),
      );
      expect(await showLines(df.groupBy('name').count().sort('name'))).toEqual(
        table(
          '+-----+-----+',
          '| name|count|',
          '+-----+-----+',
          '|Alice|    2|',
          '|  Bob|    2|',
          '+-----+-----+',
        ),
      );
      expect(await df.groupBy('name').avg('age').sort('name').collect()).toEqual([
        { name: 'Alice', 'avg(age)': 2.5 },
        { name: 'Bob', 'avg(age)': 7.5 },
      ]);
      expect(await df.groupBy('name').mean('age').sort('name').collect()).toEqual([
        { name: 'Alice', 'avg(age)': 2.5 },
        { name: 'Bob', 'avg(age)': 7.5 },
      ]);
      expect(await df.groupBy('name').max('age').sort('name').collect()).toEqual([
        { name: 'Alice', 'max(age)': 3 },
        { name: 'Bob', 'max(age)': 10 },
      ]);
      expect(await df.groupBy('name').min('age').sort('name').collect()).toEqual([
        { name: 'Alice', 'min(age)': 2 },
        { name: 'Bob', 'min(age)': 5 },
      ]);
      expect(await df.groupBy('name').sum('age').sort('name').collect()).toEqual([
        { name: 'Alice', 'sum(age)': 5 },
        { name: 'Bob', 'sum(age)': 15 },
      ]);
      // df.agg: the whole DataFrame as one group.
      expect(await df.agg(F.min('age'), F.max('age')).collect()).toEqual([{ 'min(age)': 2, 'max(age)': 10 }]);
      expect(await df.agg({ age: 'max' }).collect()).toEqual([{ 'max(age)': 10 }]);
    });

    it('groupBy(...).count() ordered by a column', async () => {
      const df = spark().createDataFrame(
        [
          [2, 'Alice'],
          [2, 'Bob'],
          [2, 'Bob'],
          [5, 'Bob'],
        ],
        ['age', 'name'],
      );
      expect(await showLines(df.groupBy('name', df.col('age')).count().sort('name', 'age'))).toEqual(
        table(
          '+-----+---+-----+',
          '| name|age|count|',
          '+-----+---+-----+',
          '|Alice|  2|    1|',
          '|  Bob|  2|    2|',
          '|  Bob|  5|    1|',
          '+-----+---+-----+',
        ),
      );
    });

    it("pivot('course', ['dotNET', 'Java']).sum('earnings')", async () => {
      const df = spark().createDataFrame(
        [
          ['dotNET', 2012, 10000],
          ['Java', 2012, 20000],
          ['dotNET', 2012, 5000],
          ['dotNET', 2013, 48000],
          ['Java', 2013, 30000],
        ],
        ['course', 'year', 'earnings'],
      );
      expect(
        await showLines(df.groupBy('year').pivot('course', ['dotNET', 'Java']).sum('earnings').sort('year')),
      ).toEqual(
        table(
          '+----+------+-----+',
          '|year|dotNET| Java|',
          '+----+------+-----+',
          '|2012| 15000|20000|',
          '|2013| 48000|30000|',
          '+----+------+-----+',
        ),
      );
    });

    it("pivot('course') without values: the distinct values found by a job", async () => {
      const df = spark().createDataFrame(
        [
          ['dotNET', 2012, 10000],
          ['Java', 2012, 20000],
          ['dotNET', 2012, 5000],
          ['dotNET', 2013, 48000],
          ['Java', 2013, 30000],
        ],
        ['course', 'year', 'earnings'],
      );
      // PySpark runs the job in pivot(): here pivot() without values returns a Promise.
      const grouped = await df.groupBy('year').pivot('course');
      // The values sorted as Spark sorts them ('Java' < 'dotNET').
      expect(await showLines(grouped.sum('earnings').sort('year'))).toEqual(
        table(
          '+----+-----+------+',
          '|year| Java|dotNET|',
          '+----+-----+------+',
          '|2012|20000| 15000|',
          '|2013|30000| 48000|',
          '+----+-----+------+',
        ),
      );
      const years = (await df.groupBy('course').pivot('year')).agg(F.sum('earnings')).orderBy('course');
      expect(years.columns).toEqual(['course', '2012', '2013']);
      expect(await years.collect()).toEqual([
        { course: 'Java', 2012: 20000, 2013: 30000 },
        { course: 'dotNET', 2012: 15000, 2013: 48000 },
      ]);
    });
  });

  describe('joins', () => {
    const df = () =>
      spark()
        .createDataFrame([
          [2, 'Alice'],
          [5, 'Bob'],
        ])
        .toDF('age', 'name');
    const df2 = () =>
      spark().createDataFrame([
        { height: 80, name: 'Tom' },
        { height: 85, name: 'Bob' },
      ]);
    const df3 = () =>
      spark().createDataFrame([
        { age: 2, name: 'Alice' },
        { age: 5, name: 'Bob' },
      ]);

    it('collect() of a join whose sides share column names keeps every column (by position)', async () => {
      const left = df();
      const right = spark().createDataFrame([['Carl', 9]], ['name', 'age']);
      const j = left.crossJoin(right).orderBy(left.col('age'));
      expect(j.columns).toEqual(['age', 'name', 'name', 'age']);
      const rows = await j.collect();
      // The named properties are PySpark's asDict(): the last value of each name, in first-seen order.
      expect(rows).toEqual([
        { age: 9, name: 'Carl' },
        { age: 9, name: 'Carl' },
      ]);
      expect(Object.keys(rows[0]!)).toEqual(['age', 'name']);
      // Every value by position, as PySpark's row[0], row[1], …
      expect(rows.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
        [2, 'Alice', 'Carl', 9],
        [5, 'Bob', 'Carl', 9],
      ]);
      const r3 = df3();
      const eq = await left
        .join(r3, left.col('name').equalTo(r3.col('name')))
        .orderBy(left.col('age'))
        .collect();
      expect(eq.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
        [2, 'Alice', 2, 'Alice'],
        [5, 'Bob', 5, 'Bob'],
      ]);
      // df.rdd's rows too, inside the task (a row crossing the wire keeps its named properties).
      const viaRdd = await j.rdd.map((r: Record<number, unknown>) => [r[0], r[1], r[2], r[3]]).collect();
      expect(viaRdd.sort()).toEqual([
        [2, 'Alice', 'Carl', 9],
        [5, 'Bob', 'Carl', 9],
      ]);
    });

    it("join(df2, 'name') selecting df.name and df2.height", async () => {
      const a = df();
      const b = df2();
      expect(await a.join(b, 'name').select(a.col('name'), b.col('height')).collect()).toEqual([
        { name: 'Bob', height: 85 },
      ]);
      expect(await showLines(a.join(b, 'name'))).toEqual(
        table(
          '+----+---+------+',
          '|name|age|height|',
          '+----+---+------+',
          '| Bob|  5|    85|',
          '+----+---+------+',
        ),
      );
    });

    it("join(df2, df.name == df2.name, 'outer') sorted by desc(name)", async () => {
      const a = df();
      const b = df2();
      const joined = a.join(b, a.col('name').equalTo(b.col('name')), 'outer');
      expect(await joined.select(a.col('name'), b.col('height')).sort(F.desc('name')).collect()).toEqual([
        { name: 'Bob', height: 85 },
        { name: 'Alice', height: null },
        { name: null, height: 80 },
      ]);
      // Both `name` columns keep their own values in show().
      expect(await showLines(joined.sort(F.desc(a.col('name'))))).toEqual(
        table(
          '+----+-----+------+----+',
          '| age| name|height|name|',
          '+----+-----+------+----+',
          '|   5|  Bob|    85| Bob|',
          '|   2|Alice|  NULL|NULL|',
          '|NULL| NULL|    80| Tom|',
          '+----+-----+------+----+',
        ),
      );
    });

    it("join(df2, 'name', 'outer'): one merged name column", async () => {
      expect(
        await df().join(df2(), 'name', 'outer').select('name', 'height').sort(F.desc('name')).collect(),
      ).toEqual([
        { name: 'Tom', height: 80 },
        { name: 'Bob', height: 85 },
        { name: 'Alice', height: null },
      ]);
    });

    it('join with a list of Column conditions, and with names', async () => {
      const a = df();
      const c = df3();
      const cond = [a.col('name').equalTo(c.col('name')), a.col('age').equalTo(c.col('age'))];
      expect(
        await a.join(c, cond, 'outer').select(a.col('name'), c.col('age')).sort('name').collect(),
      ).toEqual([
        { name: 'Alice', age: 2 },
        { name: 'Bob', age: 5 },
      ]);
      expect(
        await a.join(c, ['name', 'age']).select(a.col('name'), a.col('age')).sort('name').collect(),
      ).toEqual([
        { name: 'Alice', age: 2 },
        { name: 'Bob', age: 5 },
      ]);
    });

    it('every how: inner, left, right, full, semi, anti, cross (and their spellings)', async () => {
      const a = df();
      const b = df2();
      const rows = async (how: string) => a.join(b, 'name', how).sort('name').collect();
      expect(await rows('inner')).toEqual([{ name: 'Bob', age: 5, height: 85 }]);
      for (const how of ['left', 'leftouter', 'left_outer'])
        expect(await rows(how)).toEqual([
          { name: 'Alice', age: 2, height: null },
          { name: 'Bob', age: 5, height: 85 },
        ]);
      for (const how of ['right', 'rightouter', 'right_outer'])
        expect(await rows(how)).toEqual([
          { name: 'Bob', age: 5, height: 85 },
          { name: 'Tom', age: null, height: 80 },
        ]);
      for (const how of ['outer', 'full', 'fullouter', 'full_outer'])
        expect(await rows(how)).toEqual([
          { name: 'Alice', age: 2, height: null },
          { name: 'Bob', age: 5, height: 85 },
          { name: 'Tom', age: null, height: 80 },
        ]);
      for (const how of ['semi', 'leftsemi', 'left_semi'])
        expect(await rows(how)).toEqual([{ age: 5, name: 'Bob' }]);
      for (const how of ['anti', 'leftanti', 'left_anti'])
        expect(await rows(how)).toEqual([{ age: 2, name: 'Alice' }]);
      expect(await a.join(b.select('height'), undefined, 'cross').count()).toBe(4);
      expect(() => a.join(b, 'name', 'sideways')).toThrow(/UNSUPPORTED_JOIN_TYPE/);
    });

    it('crossJoin(df2.select("height"))', async () => {
      const a = df();
      const b = df2();
      expect(
        await showLines(
          a.crossJoin(b.select('height')).select('age', 'name', b.col('height')).sort('age', 'height'),
        ),
      ).toEqual(
        table(
          '+---+-----+------+',
          '|age| name|height|',
          '+---+-----+------+',
          '|  2|Alice|    80|',
          '|  2|Alice|    85|',
          '|  5|  Bob|    80|',
          '|  5|  Bob|    85|',
          '+---+-----+------+',
        ),
      );
    });
  });

  describe('set operations', () => {
    it('union / unionAll keep duplicates, by position', async () => {
      const d1 = spark().createDataFrame(
        [
          [2, 'Alice'],
          [5, 'Bob'],
        ],
        ['id', 'value'],
      );
      const d2 = spark().createDataFrame(
        [
          [3, 'Charlie'],
          [4, 'Dave'],
        ],
        ['id', 'value'],
      );
      expect(await showLines(d1.union(d2).orderBy('id'))).toEqual(
        table(
          '+---+-------+',
          '| id|  value|',
          '+---+-------+',
          '|  2|  Alice|',
          '|  3|Charlie|',
          '|  4|   Dave|',
          '|  5|    Bob|',
          '+---+-------+',
        ),
      );
      expect(await d1.unionAll(d1).count()).toBe(4);
    });

    it('unionByName, with allowMissingColumns', async () => {
      const d1 = spark().createDataFrame([[1, 2, 3]], ['col0', 'col1', 'col2']);
      const d2 = spark().createDataFrame([[4, 5, 6]], ['col1', 'col2', 'col0']);
      expect(await showLines(d1.unionByName(d2).orderBy('col0'))).toEqual(
        table(
          '+----+----+----+',
          '|col0|col1|col2|',
          '+----+----+----+',
          '|   1|   2|   3|',
          '|   6|   4|   5|',
          '+----+----+----+',
        ),
      );
      const d3 = spark().createDataFrame([[4, 5, 6]], ['col1', 'col2', 'col3']);
      expect(await showLines(d1.unionByName(d3, true).orderBy('col1'))).toEqual(
        table(
          '+----+----+----+----+',
          '|col0|col1|col2|col3|',
          '+----+----+----+----+',
          '|   1|   2|   3|NULL|',
          '|NULL|   4|   5|   6|',
          '+----+----+----+----+',
        ),
      );
    });

    it('intersect, intersectAll, exceptAll, subtract', async () => {
      const df1 = spark().createDataFrame(
        [
          ['a', 1],
          ['a', 1],
          ['b', 3],
          ['c', 4],
        ],
        ['C1', 'C2'],
      );
      const df2 = spark().createDataFrame(
        [
          ['a', 1],
          ['a', 1],
          ['b', 3],
        ],
        ['C1', 'C2'],
      );
      expect(await df1.intersect(df2).sort('C1', 'C2').collect()).toEqual([
        { C1: 'a', C2: 1 },
        { C1: 'b', C2: 3 },
      ]);
      expect(await df1.intersectAll(df2).sort('C1', 'C2').collect()).toEqual([
        { C1: 'a', C2: 1 },
        { C1: 'a', C2: 1 },
        { C1: 'b', C2: 3 },
      ]);
      const e1 = spark().createDataFrame(
        [
          ['a', 1],
          ['a', 1],
          ['a', 1],
          ['a', 2],
          ['b', 3],
          ['c', 4],
        ],
        ['C1', 'C2'],
      );
      const e2 = spark().createDataFrame(
        [
          ['a', 1],
          ['b', 3],
        ],
        ['C1', 'C2'],
      );
      expect(await showLines(e1.exceptAll(e2).sort('C1', 'C2'))).toEqual(
        table(
          '+---+---+',
          '| C1| C2|',
          '+---+---+',
          '|  a|  1|',
          '|  a|  1|',
          '|  a|  2|',
          '|  c|  4|',
          '+---+---+',
        ),
      );
      expect(await e1.subtract(e2).sort('C1', 'C2').collect()).toEqual([
        { C1: 'a', C2: 2 },
        { C1: 'c', C2: 4 },
      ]);
    });
  });

  describe('ordering and limits', () => {
    it('sort / orderBy with desc(), ascending=false, lists and ordinals', async () => {
      const df = people();
      const desc = [
        { age: 5, name: 'Bob' },
        { age: 2, name: 'Alice' },
      ];
      expect(await df.sort(df.col('age').desc()).collect()).toEqual(desc);
      expect(await df.sort('age', { ascending: false }).collect()).toEqual(desc);
      expect(await df.orderBy(df.col('age').desc()).collect()).toEqual(desc);
      expect(await df.sort(F.desc('age')).collect()).toEqual(desc);
      const df2 = spark().createDataFrame(
        [
          [2, 'Alice'],
          [2, 'Bob'],
          [5, 'Bob'],
        ],
        ['age', 'name'],
      );
      expect(await df2.orderBy(F.desc('age'), 'name').collect()).toEqual([
        { age: 5, name: 'Bob' },
        { age: 2, name: 'Alice' },
        { age: 2, name: 'Bob' },
      ]);
      expect(await df2.orderBy(['age', 'name'], { ascending: [false, false] }).collect()).toEqual([
        { age: 5, name: 'Bob' },
        { age: 2, name: 'Bob' },
        { age: 2, name: 'Alice' },
      ]);
      // PySpark 4: 1-based ordinals, negative for descending.
      expect(await df2.sort(-1, 2).collect()).toEqual([
        { age: 5, name: 'Bob' },
        { age: 2, name: 'Alice' },
        { age: 2, name: 'Bob' },
      ]);
    });

    it('limit and offset', async () => {
      const df = spark().createDataFrame(
        [
          [14, 'Tom'],
          [23, 'Alice'],
          [16, 'Bob'],
        ],
        ['age', 'name'],
      );
      expect(await df.orderBy('age').limit(1).collect()).toEqual([{ age: 14, name: 'Tom' }]);
      expect(await df.limit(0).collect()).toEqual([]);
      expect(await showLines(df.limit(0))).toEqual(
        table('+---+----+', '|age|name|', '+---+----+', '+---+----+'),
      );
      expect(await df.orderBy('age').offset(1).collect()).toEqual([
        { age: 16, name: 'Bob' },
        { age: 23, name: 'Alice' },
      ]);
      expect(await df.offset(10).collect()).toEqual([]);
    });
  });

  describe('statistics', () => {
    const stats = () =>
      spark().createDataFrame(
        [
          ['Bob', 13, 40.3, 150.5],
          ['Alice', 12, 37.8, 142.3],
          ['Tom', 11, 44.1, 142.2],
        ],
        ['name', 'age', 'weight', 'height'],
      );

    it("describe(['age'])", async () => {
      expect(await showLines(stats().describe(['age']))).toEqual(
        table(
          '+-------+----+',
          '|summary| age|',
          '+-------+----+',
          '|  count|   3|',
          '|   mean|12.0|',
          '| stddev| 1.0|',
          '|    min|  11|',
          '|    max|  13|',
          '+-------+----+',
        ),
      );
    });

    it('describe() of every column (stddev to the last digits aside)', async () => {
      const rows = await stats().describe().collect();
      expect(rows.map((r) => [r.summary, r.name, r.age, r.height])).toEqual([
        ['count', '3', '3', '3'],
        ['mean', null, '12.0', '145.0'],
        ['stddev', null, '1.0', '4.763402145525822'],
        ['min', 'Alice', '11', '142.2'],
        ['max', 'Tom', '13', '150.5'],
      ]);
      expect(rows.map((r) => r.weight).filter((_, i) => i !== 2)).toEqual([
        '3',
        '40.73333333333333',
        '37.8',
        '44.1',
      ]);
      // The docs print 3.1722757341273704 (Spark's streaming central moments); DuckDB's stddev
      // differs in the last bits.
      expect(Number(rows[2]!.weight)).toBeCloseTo(3.1722757341273704, 12);
    });

    it("summary() and summary('count', 'min', '25%', '75%', 'max')", async () => {
      const df = stats().select('age', 'weight', 'height');
      const rows = await df.summary().collect();
      expect(rows.map((r) => r.summary)).toEqual([
        'count',
        'mean',
        'stddev',
        'min',
        '25%',
        '50%',
        '75%',
        'max',
      ]);
      expect(rows.filter((r) => r.summary !== 'stddev')).toEqual([
        { summary: 'count', age: '3', weight: '3', height: '3' },
        { summary: 'mean', age: '12.0', weight: '40.73333333333333', height: '145.0' },
        { summary: 'min', age: '11', weight: '37.8', height: '142.2' },
        { summary: '25%', age: '11', weight: '37.8', height: '142.2' },
        { summary: '50%', age: '12', weight: '40.3', height: '142.3' },
        { summary: '75%', age: '13', weight: '44.1', height: '150.5' },
        { summary: 'max', age: '13', weight: '44.1', height: '150.5' },
      ]);
      expect(await showLines(df.summary('count', 'min', '25%', '75%', 'max'))).toEqual(
        table(
          '+-------+---+------+------+',
          '|summary|age|weight|height|',
          '+-------+---+------+------+',
          '|  count|  3|     3|     3|',
          '|    min| 11|  37.8| 142.2|',
          '|    25%| 11|  37.8| 142.2|',
          '|    75%| 13|  44.1| 150.5|',
          '|    max| 13|  44.1| 150.5|',
          '+-------+---+------+------+',
        ),
      );
    });
  });

  describe('missing values (na)', () => {
    const nulls = () =>
      spark().createDataFrame(
        [
          [10, 80.5, 'Alice', null],
          [5, null, 'Bob', null],
          [null, null, 'Tom', null],
          [null, null, null, true],
        ],
        ['age', 'height', 'name', 'bool'],
      );

    it('na.fill(50), fillna(false), fillna({ age: 50, name: "unknown" })', async () => {
      expect(await showLines(nulls().na.fill(50))).toEqual(
        table(
          '+---+------+-----+----+',
          '|age|height| name|bool|',
          '+---+------+-----+----+',
          '| 10|  80.5|Alice|NULL|',
          '|  5|  50.0|  Bob|NULL|',
          '| 50|  50.0|  Tom|NULL|',
          '| 50|  50.0| NULL|true|',
          '+---+------+-----+----+',
        ),
      );
      expect(await showLines(nulls().fillna(false))).toEqual(
        table(
          '+----+------+-----+-----+',
          '| age|height| name| bool|',
          '+----+------+-----+-----+',
          '|  10|  80.5|Alice|false|',
          '|   5|  NULL|  Bob|false|',
          '|NULL|  NULL|  Tom|false|',
          '|NULL|  NULL| NULL| true|',
          '+----+------+-----+-----+',
        ),
      );
      expect(await showLines(nulls().fillna({ age: 50, name: 'unknown' }))).toEqual(
        table(
          '+---+------+-------+----+',
          '|age|height|   name|bool|',
          '+---+------+-------+----+',
          '| 10|  80.5|  Alice|NULL|',
          '|  5|  NULL|    Bob|NULL|',
          '| 50|  NULL|    Tom|NULL|',
          '| 50|  NULL|unknown|true|',
          '+---+------+-------+----+',
        ),
      );
      expect((await nulls().fillna('unknown', 'name').collect()).map((r) => r.name)).toEqual([
        'Alice',
        'Bob',
        'Tom',
        'unknown',
      ]);
    });

    it('na.drop(), dropna("all"), dropna(thresh=2), subset', async () => {
      const df = spark().createDataFrame(
        [
          [10, 80.5, 'Alice'],
          [5, null, 'Bob'],
          [null, null, 'Tom'],
          [null, null, null],
        ],
        ['age', 'height', 'name'],
      );
      expect(await showLines(df.na.drop())).toEqual(
        table(
          '+---+------+-----+',
          '|age|height| name|',
          '+---+------+-----+',
          '| 10|  80.5|Alice|',
          '+---+------+-----+',
        ),
      );
      expect((await df.dropna('all').collect()).map((r) => r.name)).toEqual(['Alice', 'Bob', 'Tom']);
      expect((await df.dropna('any', 2).collect()).map((r) => r.name)).toEqual(['Alice', 'Bob']);
      expect((await df.dropna('any', undefined, ['age', 'name']).collect()).map((r) => r.name)).toEqual([
        'Alice',
        'Bob',
      ]);
      // NaN counts as missing in a double column.
      const nan = spark().createDataFrame(
        [
          [1, NaN],
          [2, 1.5],
        ],
        ['id', 'v'],
      );
      expect(await nan.na.drop().collect()).toEqual([{ id: 2, v: 1.5 }]);
    });

    it('na.replace(10, 20), replace("Alice", null), lists and dicts', async () => {
      expect((await nulls().na.replace(10, 20).collect()).map((r) => r.age)).toEqual([20, 5, null, null]);
      expect((await nulls().na.replace('Alice', null).collect()).map((r) => r.name)).toEqual([
        null,
        'Bob',
        'Tom',
        null,
      ]);
      expect(
        (await nulls().na.replace(['Alice', 'Bob'], ['A', 'B'], 'name').collect()).map((r) => r.name),
      ).toEqual(['A', 'B', 'Tom', null]);
      expect((await nulls().replace({ Alice: null }).collect()).map((r) => r.name)).toEqual([
        null,
        'Bob',
        'Tom',
        null,
      ]);
    });
  });

  describe('actions and schema', () => {
    const df = () =>
      spark().createDataFrame(
        [
          [14, 'Tom'],
          [23, 'Alice'],
          [16, 'Bob'],
        ],
        ['age', 'name'],
      );

    it('tail, createTempView (twice fails), isNaN, drop_duplicates and groupby (the docs examples)', async () => {
      expect(await df().tail(1)).toEqual([{ age: 16, name: 'Bob' }]);
      const people = df();
      people.createTempView('people_tail_docs');
      const back = await spark().sql('SELECT * FROM people_tail_docs');
      expect(await back.orderBy('age').collect()).toEqual(await people.orderBy('age').collect());
      expect(() => people.createTempView('people_tail_docs')).toThrow(
        expect.objectContaining({ errorClass: 'TEMP_TABLE_OR_VIEW_ALREADY_EXISTS' }),
      );
      spark().catalog.dropTempView('people_tail_docs');
      const h = spark().createDataFrame(
        [
          ['Tom', 80.0],
          ['Alice', NaN],
        ],
        'name STRING, height DOUBLE',
      );
      expect(await h.filter(h.col('height').isNaN()).collect()).toEqual([{ name: 'Alice', height: NaN }]);
      const d = spark().createDataFrame(
        [
          ['Alice', 5, 80],
          ['Alice', 5, 80],
          ['Alice', 10, 80],
        ],
        ['name', 'age', 'height'],
      );
      expect(await d.drop_duplicates().orderBy('age').collect()).toEqual([
        { name: 'Alice', age: 5, height: 80 },
        { name: 'Alice', age: 10, height: 80 },
      ]);
      expect(await d.drop_duplicates(['name', 'height']).count()).toBe(1);
      expect(await d.groupby('name').count().collect()).toEqual([{ name: 'Alice', count: 3 }]);
    });

    it('collect, take, head, first, count, isEmpty, columns, dtypes', async () => {
      const d = df().orderBy('age');
      expect(await d.collect()).toEqual([
        { age: 14, name: 'Tom' },
        { age: 16, name: 'Bob' },
        { age: 23, name: 'Alice' },
      ]);
      expect(await d.take(2)).toEqual([
        { age: 14, name: 'Tom' },
        { age: 16, name: 'Bob' },
      ]);
      expect(await d.head()).toEqual({ age: 14, name: 'Tom' });
      expect(await d.head(1)).toEqual([{ age: 14, name: 'Tom' }]);
      expect(await d.first()).toEqual({ age: 14, name: 'Tom' });
      expect(await df().count()).toBe(3);
      expect(await df().isEmpty()).toBe(false);
      expect(await spark().createDataFrame([], 'a STRING').isEmpty()).toBe(true);
      expect(await df().filter('age > 100').first()).toBeNull();
      expect(df().columns).toEqual(['age', 'name']);
      expect(df().dtypes).toEqual([
        ['age', 'bigint'],
        ['name', 'string'],
      ]);
      expect(spark().createDataFrame([[1, 'a']], 'age INT, name STRING').dtypes).toEqual([
        ['age', 'int'],
        ['name', 'string'],
      ]);
    });

    it('printSchema, and printSchema(level) of a nested schema', () => {
      expect(schemaLines(df())).toEqual([
        'root',
        ' |-- age: long (nullable = true)',
        ' |-- name: string (nullable = true)',
      ]);
      const nested = spark()
        .createDataFrame([[1]], ['x'])
        .select(F.struct(F.lit(1).alias('a'), F.struct(F.lit(2).alias('c')).alias('b')).alias('a'));
      expect(schemaLines(nested)).toEqual([
        'root',
        ' |-- a: struct (nullable = true)',
        ' |    |-- a: integer (nullable = true)',
        ' |    |-- b: struct (nullable = true)',
        ' |    |    |-- c: integer (nullable = true)',
      ]);
      expect(schemaLines(nested, 1)).toEqual(['root', ' |-- a: struct (nullable = true)']);
    });

    it('show(), show(2), show(truncate=3), show(vertical=true), show(truncate=false)', async () => {
      const d = spark()
        .createDataFrame(
          [
            [14, 'Tom'],
            [23, 'Alice'],
            [16, 'Bob'],
            [19, 'This is a super long name'],
          ],
          ['age', 'name'],
        )
        .orderBy('age');
      expect(await showLines(d)).toEqual(
        table(
          '+---+--------------------+',
          '|age|                name|',
          '+---+--------------------+',
          '| 14|                 Tom|',
          '| 16|                 Bob|',
          '| 19|This is a super l...|',
          '| 23|               Alice|',
          '+---+--------------------+',
        ),
      );
      expect(await showLines(d, 2)).toEqual(
        table(
          '+---+----+',
          '|age|name|',
          '+---+----+',
          '| 14| Tom|',
          '| 16| Bob|',
          '+---+----+',
          'only showing top 2 rows',
        ),
      );
      expect(await showLines(d, 20, 3)).toEqual(
        table(
          '+---+----+',
          '|age|name|',
          '+---+----+',
          '| 14| Tom|',
          '| 16| Bob|',
          '| 19| Thi|',
          '| 23| Ali|',
          '+---+----+',
        ),
      );
      expect(await showLines(d, { truncate: false })).toEqual(
        table(
          '+---+-------------------------+',
          '|age|name                     |',
          '+---+-------------------------+',
          '|14 |Tom                      |',
          '|16 |Bob                      |',
          '|19 |This is a super long name|',
          '|23 |Alice                    |',
          '+---+-------------------------+',
        ),
      );
      expect(await showLines(d, { n: 2, vertical: true })).toEqual(
        table(
          '-RECORD 0---',
          ' age  | 14  ',
          ' name | Tom ',
          '-RECORD 1---',
          ' age  | 16  ',
          ' name | Bob ',
          'only showing top 2 rows',
        ),
      );
    });

    it('explain() runs and prints the physical plan with its stage lines', () => {
      const d = df().filter('age > 15').groupBy('name').count();
      const simple = explainText(d);
      expect(simple.startsWith('== Physical Plan ==\n')).toBe(true);
      expect(simple).toMatch(/Stage \d+ \(\d+ tasks?\)/);
      const extended = explainText(d, true);
      expect(extended).toContain('== Analyzed Logical Plan ==');
      expect(extended).toContain('== Physical Plan ==');
      expect(() => explainText(d, 'nonsense')).toThrow(/Unknown explain mode/);
    });

    it('createOrReplaceTempView + spark.sql', async () => {
      df().createOrReplaceTempView('people');
      const res = await spark().sql('SELECT name, age + 1 FROM people WHERE age > 15 ORDER BY age');
      expect(await showLines(res)).toEqual(
        table(
          '+-----+---------+',
          '| name|(age + 1)|',
          '+-----+---------+',
          '|  Bob|       17|',
          '|Alice|       24|',
          '+-----+---------+',
        ),
      );
      spark()
        .createDataFrame([[1, 'x']], ['id', 'v'])
        .createOrReplaceTempView('people');
      expect(await (await spark().sql('SELECT * FROM people')).collect()).toEqual([{ id: 1, v: 'x' }]);
      expect(spark().catalog.dropTempView('people')).toBe(true);
    });

    it('spark.sql with args: named (:name) and positional (?) parameter markers, as PySpark documents', async () => {
      const named = await spark().sql('SELECT * FROM range(10) WHERE id > :minId', { minId: 7 });
      expect(await showLines(named)).toEqual(table('+---+', '| id|', '+---+', '|  8|', '|  9|', '+---+'));
      const positional = await spark().sql('SELECT * FROM range(10) WHERE id > ? AND id < ?', [5, 8]);
      expect(await positional.collect()).toEqual([{ id: 6 }, { id: 7 }]);
      // A Column as a value (PySpark: create_map(lit('a'), lit(1))), and a marker inside parentheses.
      const m = await spark().sql("SELECT element_at(:m, 'a') AS C, (:s) AS s", {
        m: F.create_map(F.lit('a'), F.lit(1)),
        s: "it's",
      });
      expect(await m.collect()).toEqual([{ C: 1, s: "it's" }]);
      // Unbound markers reject before any job runs, naming the marker.
      await expect(spark().sql('SELECT :nope AS x', { other: 1 })).rejects.toMatchObject({
        errorClass: 'UNBOUND_SQL_PARAMETER',
        messageParameters: { name: 'nope' },
      });
      await expect(spark().sql('SELECT :x AS x')).rejects.toThrow(
        /^\[UNBOUND_SQL_PARAMETER\] Found the unbound parameter: x\. Please, fix `args`/,
      );
      await expect(spark().sql('SELECT ?, ? AS b', [1])).rejects.toMatchObject({
        errorClass: 'UNBOUND_SQL_PARAMETER',
        messageParameters: { name: '_10' },
      });
    });
  });
});

forEachMode('PySpark Column examples', (spark) => {
  const df = () =>
    spark().createDataFrame(
      [
        [2, 'Alice'],
        [5, 'Bob'],
      ],
      ['age', 'name'],
    );

  it('alias, name, cast (and its generated name), astype', async () => {
    const d = df();
    expect(await d.select(d.col('age').alias('age2')).collect()).toEqual([{ age2: 2 }, { age2: 5 }]);
    expect(await d.select(d.col('age').name('a')).collect()).toEqual([{ a: 2 }, { a: 5 }]);
    expect(await d.select(d.col('age').cast('string').alias('ages')).collect()).toEqual([
      { ages: '2' },
      { ages: '5' },
    ]);
    expect(d.select(d.col('age').cast('string')).columns).toEqual(['CAST(age AS STRING)']);
    expect(d.select(d.col('age').astype('int')).dtypes).toEqual([['CAST(age AS INT)', 'int']]);
  });

  it('isNull, isNotNull, isin, between', async () => {
    const n = spark().createDataFrame([
      { name: 'Tom', height: 80 },
      { name: 'Alice', height: null },
    ]);
    expect(await n.filter(n.col('height').isNull()).collect()).toEqual([{ name: 'Alice', height: null }]);
    expect(await n.filter(n.col('height').isNotNull()).collect()).toEqual([{ name: 'Tom', height: 80 }]);
    const d = df();
    expect(await d.filter(d.col('name').isin('Bob', 'Mike')).collect()).toEqual([{ age: 5, name: 'Bob' }]);
    expect(await d.filter(d.col('age').isin([1, 2, 3])).collect()).toEqual([{ age: 2, name: 'Alice' }]);
    expect(await showLines(d.select(d.col('name'), d.col('age').between(2, 4)))).toEqual(
      table(
        '+-----+---------------------------+',
        '| name|((age >= 2) AND (age <= 4))|',
        '+-----+---------------------------+',
        '|Alice|                       true|',
        '|  Bob|                      false|',
        '+-----+---------------------------+',
      ),
    );
  });

  it('like, ilike, rlike, startswith, endswith, contains, substr', async () => {
    const d = df();
    const names = async (c: ReturnType<typeof d.col>) => (await d.filter(c).collect()).map((r) => r.name);
    expect(await names(d.col('name').like('Al%'))).toEqual(['Alice']);
    expect(await names(d.col('name').ilike('%Ice'))).toEqual(['Alice']);
    expect(await names(d.col('name').rlike('ice$'))).toEqual(['Alice']);
    expect(await names(d.col('name').startswith('Al'))).toEqual(['Alice']);
    expect(await names(d.col('name').startswith('^Al'))).toEqual([]);
    expect(await names(d.col('name').endswith('ice'))).toEqual(['Alice']);
    expect(await names(d.col('name').endswith('ice$'))).toEqual([]);
    expect(await names(d.col('name').contains('o'))).toEqual(['Bob']);
    expect(await d.select(d.col('name').substr(1, 3).alias('col')).collect()).toEqual([
      { col: 'Ali' },
      { col: 'Bob' },
    ]);
  });

  it('when / otherwise and the CASE WHEN names', async () => {
    const d = df();
    expect(
      await showLines(
        d.select(d.col('name'), F.when(d.col('age').gt(4), 1).when(d.col('age').lt(3), -1).otherwise(0)),
      ),
    ).toEqual(
      table(
        '+-----+------------------------------------------------------------+',
        '| name|CASE WHEN (age > 4) THEN 1 WHEN (age < 3) THEN -1 ELSE 0 END|',
        '+-----+------------------------------------------------------------+',
        '|Alice|                                                          -1|',
        '|  Bob|                                                           1|',
        '+-----+------------------------------------------------------------+',
      ),
    );
    expect(await showLines(d.select(d.col('name'), F.when(d.col('age').gt(3), 1).otherwise(0)))).toEqual(
      table(
        '+-----+-------------------------------------+',
        '| name|CASE WHEN (age > 3) THEN 1 ELSE 0 END|',
        '+-----+-------------------------------------+',
        '|Alice|                                    0|',
        '|  Bob|                                    1|',
        '+-----+-------------------------------------+',
      ),
    );
    expect(await d.select(F.when(d.col('age').gt(3), 1).alias('x')).collect()).toEqual([
      { x: null },
      { x: 1 },
    ]);
  });

  it('getItem on an array, getField on a struct', async () => {
    const arr = spark().createDataFrame([[[1, 2], 'x']], ['l', 'd']);
    expect(await showLines(arr.select(arr.col('l').getItem(0)))).toEqual(
      table('+----+', '|l[0]|', '+----+', '|   1|', '+----+'),
    );
    const s = spark()
      .createDataFrame([[1]], ['x'])
      .select(F.struct(F.lit(1).alias('a'), F.lit('b').alias('b')).alias('r'));
    expect(await s.select(s.col('r').getField('b')).collect()).toEqual([{ 'r.b': 'b' }]);
    expect(await s.select(F.col('r').getField('a')).collect()).toEqual([{ 'r.a': 1 }]);
  });

  it("getItem('key') on a map column from createDataFrame([[[1, 2], new Map([['key', 'value']])]])", async () => {
    const df = spark().createDataFrame([[[1, 2], new Map([['key', 'value']])]], ['l', 'd']);
    expect(df.dtypes).toEqual([
      ['l', 'array<bigint>'],
      ['d', 'map<string,string>'],
    ]);
    expect(await showLines(df.select(df.col('l').getItem(0), df.col('d').getItem('key')))).toEqual(
      table('+----+------+', '|l[0]|d[key]|', '+----+------+', '|   1| value|', '+----+------+'),
    );
    expect(await df.collect()).toEqual([{ l: [1, 2], d: new Map([['key', 'value']]) }]);
    expect(await df.select(df.col('d').getItem('nope').alias('v')).collect()).toEqual([{ v: null }]);
  });

  it('asc, desc and their nulls first/last variants', async () => {
    const n = spark().createDataFrame(
      [
        ['Tom', 80],
        [null, 60],
        ['Alice', null],
      ],
      ['name', 'height'],
    );
    const order = async (c: ReturnType<typeof n.col>) =>
      (await n.select('name').orderBy(c).collect()).map((r) => r.name);
    expect(await order(n.col('name').asc())).toEqual([null, 'Alice', 'Tom']);
    expect(await order(n.col('name').asc_nulls_first())).toEqual([null, 'Alice', 'Tom']);
    expect(await order(n.col('name').asc_nulls_last())).toEqual(['Alice', 'Tom', null]);
    expect(await order(n.col('name').desc())).toEqual(['Tom', 'Alice', null]);
    expect(await order(n.col('name').desc_nulls_first())).toEqual([null, 'Tom', 'Alice']);
    expect(await order(n.col('name').desc_nulls_last())).toEqual(['Tom', 'Alice', null]);
  });

  it('eqNullSafe against a value, NULL and in a join (NaN = NaN)', async () => {
    const d1 = spark().createDataFrame([
      { id: 1, value: 'foo' },
      { id: 2, value: null },
    ]);
    expect(
      await showLines(
        d1.select(
          d1.col('value').eqNullSafe('foo'),
          d1.col('value').eqNullSafe(null),
          d1.col('value').equalTo(null),
        ),
      ),
    ).toEqual(
      table(
        '+---------------+----------------+--------------+',
        '|(value <=> foo)|(value <=> NULL)|(value = NULL)|',
        '+---------------+----------------+--------------+',
        '|           true|           false|          NULL|',
        '|          false|            true|          NULL|',
        '+---------------+----------------+--------------+',
      ),
    );
    const a = spark().createDataFrame([
      { id: 1, value: NaN },
      { id: 2, value: 42.0 },
      { id: 3, value: null },
    ]);
    const b = spark().createDataFrame([
      { id: 1, value: NaN },
      { id: 2, value: 42.0 },
      { id: 3, value: null },
    ]);
    expect(await a.join(b, a.col('value').eqNullSafe(b.col('value'))).count()).toBe(3);
  });

  it('arithmetic, comparison, logical and bitwise operators with their names', async () => {
    const d = df();
    expect(
      await showLines(
        d.select(
          d.col('age').plus(1),
          d.col('age').minus(1),
          d.col('age').multiply(2),
          d.col('age').divide(2),
          d.col('age').mod(2),
          d.col('age').pow(2),
          d.col('age').negate(),
        ),
      ),
    ).toEqual(
      table(
        '+---------+---------+---------+---------+---------+-------------+-------+',
        '|(age + 1)|(age - 1)|(age * 2)|(age / 2)|(age % 2)|POWER(age, 2)|(- age)|',
        '+---------+---------+---------+---------+---------+-------------+-------+',
        '|        3|        1|        4|      1.0|        0|          4.0|     -2|',
        '|        6|        4|       10|      2.5|        1|         25.0|     -5|',
        '+---------+---------+---------+---------+---------+-------------+-------+',
      ),
    );
    const a = d.col('age');
    expect(
      await d
        .select(
          a.gt(2),
          a.geq(2),
          a.lt(5),
          a.leq(2),
          a.notEqual(2),
          a.equalTo(2),
          a.gt(2).and(a.lt(10)),
          a.gt(2).or(a.lt(1)),
          a.gt(2).not(),
        )
        .collect(),
    ).toEqual([
      {
        '(age > 2)': false,
        '(age >= 2)': true,
        '(age < 5)': true,
        '(age <= 2)': true,
        '(age != 2)': false,
        '(age = 2)': true,
        '((age > 2) AND (age < 10))': false,
        '((age > 2) OR (age < 1))': false,
        '(NOT (age > 2))': true,
      },
      {
        '(age > 2)': true,
        '(age >= 2)': true,
        '(age < 5)': false,
        '(age <= 2)': false,
        '(age != 2)': true,
        '(age = 2)': false,
        '((age > 2) AND (age < 10))': true,
        '((age > 2) OR (age < 1))': true,
        '(NOT (age > 2))': false,
      },
    ]);
    const bits = spark().createDataFrame([{ a: 170, b: 75 }]);
    expect(
      await bits
        .select(
          F.col('a').bitwiseAND(F.col('b')),
          F.col('a').bitwiseOR(F.col('b')),
          F.col('a').bitwiseXOR(F.col('b')),
        )
        .collect(),
    ).toEqual([{ '(a & b)': 10, '(a | b)': 235, '(a ^ b)': 225 }]);
  });
});
