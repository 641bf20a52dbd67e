/**
 * PySpark's API-reference examples for pyspark.sql.functions and Window (string, math, null,
 * date, collection, aggregate and window functions), with their data and the outputs the docs
 * print, in process and on a local cluster of 3 workers. The session time zone is UTC (the docs
 * set America/Los_Angeles for the unix-time examples; the values here are the UTC ones).
 */
import { describe, expect, it } from 'vitest';
import { F, RemoteError, TaskFailedError, Window } from '../../src/index.js';
import { forEachMode, schemaLines, showLines, table } from './doc-examples-support.js';

forEachMode('PySpark functions examples', (spark) => {
  const one = (...cols: Parameters<ReturnType<typeof spark>['range']>) => spark().range(...cols);

  describe('strings', () => {
    it('concat, concat_ws, upper, lower, length, trim/ltrim/rtrim, lpad/rpad', async () => {
      const s = spark().createDataFrame([['abcd', '123']], ['s', 'd']);
      expect(await s.select(F.concat(s.col('s'), s.col('d')).alias('s')).collect()).toEqual([
        { s: 'abcd123' },
      ]);
      expect(await s.select(F.concat_ws('-', s.col('s'), s.col('d')).alias('s')).collect()).toEqual([
        { s: 'abcd-123' },
      ]);
      const v = spark().createDataFrame([['Spark SQL'], ['PySpark'], [null]], ['value']);
      expect(await showLines(v.select(F.upper('value'), F.lower('value'), F.length('value')))).toEqual(
        table(
          '+------------+------------+-------------+',
          '|upper(value)|lower(value)|length(value)|',
          '+------------+------------+-------------+',
          '|   SPARK SQL|   spark sql|            9|',
          '|     PYSPARK|     pyspark|            7|',
          '|        NULL|        NULL|         NULL|',
          '+------------+------------+-------------+',
        ),
      );
      const t = spark().createDataFrame([['   Spark'], ['Spark  '], [' Spark']], ['value']);
      expect(
        await t
          .select(F.trim('value').alias('r'), F.ltrim('value').alias('l'), F.rtrim('value').alias('rt'))
          .collect(),
      ).toEqual([
        { r: 'Spark', l: 'Spark', rt: '   Spark' },
        { r: 'Spark', l: 'Spark  ', rt: 'Spark' },
        { r: 'Spark', l: 'Spark', rt: ' Spark' },
      ]);
      const p = spark().createDataFrame([['abcd']], ['s']);
      expect(await p.select(F.lpad('s', 6, '#').alias('s')).collect()).toEqual([{ s: '##abcd' }]);
      expect(await p.select(F.rpad('s', 6, '#').alias('s')).collect()).toEqual([{ s: 'abcd##' }]);
    });

    it('substring, instr, regexp_extract, regexp_replace, split, initcap, translate', async () => {
      const p = spark().createDataFrame([['abcd']], ['s']);
      expect(await p.select(F.substring('s', 1, 2).alias('s')).collect()).toEqual([{ s: 'ab' }]);
      expect(await p.select(F.instr('s', 'b').alias('s')).collect()).toEqual([{ s: 2 }]);
      const r = spark().createDataFrame([['100-200']], ['str']);
      expect(await r.select(F.regexp_extract('str', '(\\d+)-(\\d+)', 1).alias('d')).collect()).toEqual([
        { d: '100' },
      ]);
      expect(await r.select(F.regexp_extract('str', '(\\d+)', 1).alias('d')).collect()).toEqual([
        { d: '100' },
      ]);
      expect(await r.select(F.regexp_extract('str', '(a+)(b)?(c)', 2).alias('d')).collect()).toEqual([
        { d: '' },
      ]);
      expect(await r.select(F.regexp_replace('str', '(\\d+)', '--').alias('d')).collect()).toEqual([
        { d: '-----' },
      ]);
      const sp = spark().createDataFrame([['oneAtwoBthreeC']], ['s']);
      expect(await sp.select(F.split('s', '[ABC]', -1).alias('s')).collect()).toEqual([
        { s: ['one', 'two', 'three', ''] },
      ]);
      expect(
        await spark()
          .createDataFrame([['ab cd']], ['a'])
          .select(F.initcap('a').alias('v'))
          .collect(),
      ).toEqual([{ v: 'Ab Cd' }]);
      expect(
        await spark()
          .createDataFrame([['translate']], ['a'])
          .select(F.translate('a', 'rnlt', '123').alias('r'))
          .collect(),
      ).toEqual([{ r: '1a2s3ae' }]);
    });

    it("split('s', '[ABC]', 2): the limit caps the array, the last element keeps the rest", async () => {
      const sp = spark().createDataFrame([['oneAtwoBthreeC']], ['s']);
      expect(await sp.select(F.split('s', '[ABC]', 2).alias('s')).collect()).toEqual([
        { s: ['one', 'twoBthreeC'] },
      ]);
      // Java's String.split: limit 1 keeps the whole string; an empty pattern splits characters.
      expect(
        await sp
          .select(
            F.split('s', '[ABC]', 1).alias('a'),
            F.split('s', '', 3).alias('b'),
            F.split('s', 'C', 5).alias('c'),
          )
          .collect(),
      ).toEqual([{ a: ['oneAtwoBthreeC'], b: ['o', 'n', 'eAtwoBthreeC'], c: ['oneAtwoBthree', ''] }]);
    });

    it('format_string, reverse, repeat, md5, sha1, sha2, base64, unbase64', async () => {
      expect(
        await spark()
          .createDataFrame([[5, 'hello']], ['a', 'b'])
          .select(F.format_string('%d %s', 'a', 'b').alias('v'))
          .collect(),
      ).toEqual([{ v: '5 hello' }]);
      expect(
        await spark()
          .createDataFrame([['Spark SQL']], ['data'])
          .select(F.reverse('data').alias('s'))
          .collect(),
      ).toEqual([{ s: 'LQS krapS' }]);
      expect(
        await spark()
          .createDataFrame([['ab']], ['s'])
          .select(F.repeat('s', 3).alias('s'))
          .collect(),
      ).toEqual([{ s: 'ababab' }]);
      const abc = spark().createDataFrame([['ABC']], ['a']);
      expect(await abc.select(F.md5('a').alias('hash')).collect()).toEqual([
        { hash: '902fbdd2b1df0c4f70b4a5d23525e932' },
      ]);
      expect(await abc.select(F.sha1('a').alias('hash')).collect()).toEqual([
        { hash: '3c01bdbb26f358bab27f267924aa2c9a03fcfdb8' },
      ]);
      const names = spark().createDataFrame([['Alice'], ['Bob']], ['name']);
      expect(await showLines(names.select(F.sha2('name', 256).alias('sha2')), { truncate: false })).toEqual(
        table(
          '+----------------------------------------------------------------+',
          '|sha2                                                            |',
          '+----------------------------------------------------------------+',
          '|3bc51062973c458d5a6f2d8d64a023246354ad7e064b1e4e009ec8a0699a3043|',
          '|cd9fb1e148ccd8442e5aa74904cc73bf6fb54d1d54d333bd596aa9bb4bb4e961|',
          '+----------------------------------------------------------------+',
        ),
      );
      const v = spark().createDataFrame([['Spark SQL'], ['PySpark'], ['Pandas API']], ['value']);
      expect(await showLines(v.select(F.base64('value')))).toEqual(
        table(
          '+----------------+',
          '|   base64(value)|',
          '+----------------+',
          '|    U3BhcmsgU1FM|',
          '|    UHlTcGFyaw==|',
          '|UGFuZGFzIEFQSQ==|',
          '+----------------+',
        ),
      );
      const b = await spark()
        .createDataFrame([['U3BhcmsgU1FM'], ['UHlTcGFyaw==']], ['value'])
        .select(F.unbase64('value').alias('b'))
        .collect();
      expect(b.map((r) => Buffer.from(r.b as Uint8Array).toString())).toEqual(['Spark SQL', 'PySpark']);
    });

    it('sha2: 224, 256 (0 is 256), 384 and 512 bits; any other length is NULL', async () => {
      // Spark's SQL reference: sha2('Spark', 256); the other digests are sha224sum … sha512sum's.
      const r = await (
        await spark().sql(
          "SELECT sha2('Spark', 256) AS s256, sha2('Spark', 0) AS s0, sha2('Spark', 224) AS s224, sha2('Spark', 384) AS s384, sha2('Spark', 512) AS s512, sha2('Spark', 1) AS s1, sha2('Spark', 128) AS s128, sha2(CAST(NULL AS STRING), 256) AS n, sha2(CAST('Spark' AS BINARY), 256) AS b",
        )
      ).collect();
      const s256 = '529bc3b07127ecb7e53a4dcf1991d9152c24537d919178022b2c42657f79a26b';
      expect(r).toEqual([
        {
          s256,
          s0: s256,
          s224: 'dbeab94971678d36af2195851c0f7485775a2a7c60073d62fc04549c',
          s384: '1e40b8d06c248a1cc32428c22582b6219d072283078fa140d9ad297ecadf2cabefc341b857ad36226aa8d6d79f2ab67d',
          s512: '44844a586c54c9a212da1dbfe05c5f1705de1af5fda1f0d36297623249b279fd8f0ccec03f888f4fb13bf7cd83fdad58591c797f81121a23cfdd5e0897795238',
          s1: null,
          s128: null,
          n: null,
          b: s256,
        },
      ]);
      const names = spark().createDataFrame([['Alice'], ['Bob']], ['name']);
      expect(
        await names.select(F.sha2('name', 224).alias('h'), F.sha2('name', 7).alias('x')).collect(),
      ).toEqual([
        { h: '6874ecdbdb214ee888e37c8c983e2f1c9c0ed16907b519704db42bb6', x: null },
        { h: '279f0aba2b90ee54755e3772e7f4bd5599e46400617a7c080b955b9c', x: null },
      ]);
    });

    it("crc32('ABC') = 2743272264", async () => {
      const abc = spark().createDataFrame([['ABC']], ['a']);
      expect(await abc.select(F.crc32('a').alias('crc32')).collect()).toEqual([{ crc32: 2743272264 }]);
    });

    it("hash('c1') of 'ABC' = -757602832 (Spark's Murmur3); xxhash64", async () => {
      const df = spark().createDataFrame([['ABC', 'DEF']], ['c1', 'c2']);
      expect(await showLines(df.select('*', F.hash('c1')))).toEqual(
        table(
          '+---+---+----------+',
          '| c1| c2|  hash(c1)|',
          '+---+---+----------+',
          '|ABC|DEF|-757602832|',
          '+---+---+----------+',
        ),
      );
      expect(await df.select(F.hash('c1', df.col('c2')).alias('hash')).collect()).toEqual([
        { hash: 599895104 },
      ]);
      expect(await df.select(F.hash('*').alias('hash')).collect()).toEqual([{ hash: 599895104 }]);
      // Beyond 2^53 a long is a bigint.
      expect(
        await df.select(F.xxhash64('c1').alias('a'), F.xxhash64('c1', df.col('c2')).alias('b')).collect(),
      ).toEqual([{ a: 4105715581806190027n, b: 3233247871021311208n }]);
      // Spark's SQL reference: ints hash as 4 bytes, arrays element by element.
      const sql = await spark().sql(
        "SELECT hash('Spark', array(123), 2) AS h, xxhash64('Spark', array(123), 2) AS x, hash(1) AS one, hash(NULL) AS n",
      );
      expect(await sql.collect()).toEqual([
        { h: -1321691492, x: 5602566077635097486n, one: -559580957, n: 42 },
      ]);
    });
  });

  describe('ANSI mode (spark.sql.ansi.enabled, true by default as in Spark 4)', () => {
    const failure = async (
      run: () => Promise<unknown>,
    ): Promise<{ name: string; message: string; data: unknown }> => {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      const cause = (err as TaskFailedError).cause as RemoteError;
      expect(cause).toBeInstanceOf(RemoteError);
      return { name: cause.remoteName, message: cause.message, data: cause.remoteData };
    };
    const ANSI_OFF = ' If necessary set "spark.sql.ansi.enabled" to "false" to bypass this error.';

    it('on: invalid casts, division by zero and integer overflow raise SparkRuntimeException', async () => {
      expect(spark().conf.get('spark.sql.ansi.enabled')).toBe(undefined);
      expect(await failure(async () => (await spark().sql("SELECT CAST('a' AS INT)")).collect())).toEqual({
        name: 'SparkRuntimeException',
        message: `[CAST_INVALID_INPUT] The value 'a' of the type "STRING" cannot be cast to "INT" because it is malformed. Correct the value as per the syntax, or change its target type. Use \`try_cast\` to tolerate malformed input and return NULL instead.${ANSI_OFF} SQLSTATE: 22018`,
        data: {
          errorClass: 'CAST_INVALID_INPUT',
          messageParameters: {
            expression: "'a'",
            sourceType: '"STRING"',
            targetType: '"INT"',
            ansiConfig: '"spark.sql.ansi.enabled"',
          },
        },
      });
      const df = spark().createDataFrame(
        [
          [6000, 15],
          [1990, 0],
        ],
        ['a', 'b'],
      );
      expect(await failure(() => df.select(F.col('a').divide(F.col('b'))).collect())).toEqual({
        name: 'SparkRuntimeException',
        message: `[DIVIDE_BY_ZERO] Division by zero. Use \`try_divide\` to tolerate divisor being 0 and return NULL instead.${ANSI_OFF} SQLSTATE: 22012`,
        data: { errorClass: 'DIVIDE_BY_ZERO', messageParameters: { config: '"spark.sql.ansi.enabled"' } },
      });
      // An integral type takes digits only under ANSI (Spark's toIntExact).
      expect(
        await failure(async () => (await spark().sql("SELECT CAST('1.5' AS INT)")).collect()),
      ).toMatchObject({
        data: { errorClass: 'CAST_INVALID_INPUT', messageParameters: { expression: "'1.5'" } },
      });
      expect(
        await failure(async () => (await spark().sql('SELECT CAST(3000000000L AS INT)')).collect()),
      ).toEqual({
        name: 'SparkRuntimeException',
        message: `[CAST_OVERFLOW] The value 3000000000L of the type "BIGINT" cannot be cast to "INT" due to an overflow. Use \`try_cast\` to tolerate overflow and return NULL instead.${ANSI_OFF} SQLSTATE: 22003`,
        data: {
          errorClass: 'CAST_OVERFLOW',
          messageParameters: {
            value: '3000000000L',
            sourceType: '"BIGINT"',
            targetType: '"INT"',
            ansiConfig: '"spark.sql.ansi.enabled"',
          },
        },
      });
      expect(await failure(async () => (await spark().sql('SELECT 5 % 0')).collect())).toMatchObject({
        data: { errorClass: 'DIVIDE_BY_ZERO' },
      });
      expect(await failure(async () => (await spark().sql('SELECT 2147483647 + 1')).collect())).toEqual({
        name: 'SparkRuntimeException',
        message: `[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_add' to tolerate overflow and return NULL instead.${ANSI_OFF} SQLSTATE: 22003`,
        data: {
          errorClass: 'ARITHMETIC_OVERFLOW',
          messageParameters: {
            message: 'integer overflow',
            alternative: " Use 'try_add' to tolerate overflow and return NULL instead.",
            config: '"spark.sql.ansi.enabled"',
          },
        },
      });
      // Valid input, NULL, a NULL dividend and the try_ functions do not fail.
      expect(
        await (
          await spark().sql(
            "SELECT CAST(' 12 ' AS INT) AS a, CAST(NULL AS STRING) AS n, CAST('2020-01-02' AS DATE) AS d, try_cast('a' AS INT) AS t, CAST(NULL AS INT) / 0 AS z",
          )
        ).collect(),
      ).toEqual([{ a: 12, n: null, d: new Date('2020-01-02T00:00:00Z'), t: null, z: null }]);
      // PySpark's try_divide example.
      expect(
        await showLines(
          spark()
            .createDataFrame(
              [
                [6000, 15],
                [1990, 2],
              ],
              ['a', 'b'],
            )
            .select(F.try_divide('a', 'b')),
        ),
      ).toEqual(
        table(
          '+----------------+',
          '|try_divide(a, b)|',
          '+----------------+',
          '|           400.0|',
          '|           995.0|',
          '+----------------+',
        ),
      );
      expect(
        await df
          .select(F.try_divide('a', 'b').alias('q'), F.try_add(F.lit(2147483647), F.lit(1)).alias('s'))
          .collect(),
      ).toEqual([
        { q: 400, s: null },
        { q: null, s: null },
      ]);
    });

    it('on: a sum of longs that overflows is ARITHMETIC_OVERFLOW, a double cast out of range CAST_OVERFLOW', async () => {
      // Spark's try_sum example: sum(col) over 9223372036854775807L and 1L overflows (try_sum NULL).
      const sumOverflow = {
        name: 'SparkRuntimeException',
        message: `[ARITHMETIC_OVERFLOW] long overflow. Use 'try_sum' to tolerate overflow and return NULL instead.${ANSI_OFF} SQLSTATE: 22003`,
        data: {
          errorClass: 'ARITHMETIC_OVERFLOW',
          messageParameters: {
            message: 'long overflow',
            alternative: " Use 'try_sum' to tolerate overflow and return NULL instead.",
            config: '"spark.sql.ansi.enabled"',
          },
        },
      };
      expect(
        await failure(async () =>
          (
            await spark().sql('SELECT sum(col) FROM VALUES (9223372036854775807L), (1L) AS tab(col)')
          ).collect(),
        ),
      ).toEqual(sumOverflow);
      // Across partitions (partial sums, then their sum) and per group.
      const big = spark().createDataFrame(
        [
          [1, 9223372036854775807n],
          [1, 1n],
          [2, 5n],
        ],
        'k INT, v LONG',
      );
      expect(await failure(() => big.repartition(3).agg(F.sum('v')).collect())).toEqual(sumOverflow);
      expect(await failure(() => big.repartition(3).groupBy('k').sum('v').collect())).toEqual(sumOverflow);
      // avg of longs does not overflow: its sum is not a long.
      expect(
        await big
          .repartition(3)
          .groupBy('k')
          .agg(F.avg('v').alias('a'), F.count('v').alias('n'))
          .orderBy('k')
          .collect(),
      ).toEqual([
        { k: 1, a: 4611686018427387904, n: 2 },
        { k: 2, a: 5, n: 1 },
      ]);
      expect(
        await (
          await spark().sql(
            'SELECT avg(col) AS a FROM VALUES (9223372036854775807L), (9223372036854775807L) AS tab(col)',
          )
        ).collect(),
      ).toEqual([{ a: 2 ** 63 }]);
      // A sum that fits is a long, exactly.
      expect(
        await big.filter('k = 1 OR v = 5').filter('v < 10').agg(F.sum('v').alias('s')).collect(),
      ).toEqual([{ s: 6 }]);
      const castOverflow = (value: string, source: string, target: string) => ({
        name: 'SparkRuntimeException',
        message: `[CAST_OVERFLOW] The value ${value} of the type "${source}" cannot be cast to "${target}" due to an overflow. Use \`try_cast\` to tolerate overflow and return NULL instead.${ANSI_OFF} SQLSTATE: 22003`,
        data: {
          errorClass: 'CAST_OVERFLOW',
          messageParameters: {
            value,
            sourceType: `"${source}"`,
            targetType: `"${target}"`,
            ansiConfig: '"spark.sql.ansi.enabled"',
          },
        },
      });
      const cast = async (sql: string) => failure(async () => (await spark().sql(sql)).collect());
      expect(await cast('SELECT CAST(1e20D AS INT)')).toEqual(castOverflow('1.0E20D', 'DOUBLE', 'INT'));
      expect(await cast('SELECT CAST(-1.5e19D AS BIGINT)')).toEqual(
        castOverflow('-1.5E19D', 'DOUBLE', 'BIGINT'),
      );
      expect(await cast('SELECT CAST(40000.5D AS SMALLINT)')).toEqual(
        castOverflow('40000.5D', 'DOUBLE', 'SMALLINT'),
      );
      expect(await cast("SELECT CAST(CAST('NaN' AS DOUBLE) AS INT)")).toEqual(
        castOverflow('NaN', 'DOUBLE', 'INT'),
      );
      expect(await cast('SELECT CAST(CAST(3e9D AS FLOAT) AS INT)')).toEqual(
        castOverflow('3.0E9', 'FLOAT', 'INT'),
      );
      const d = spark().createDataFrame([[1e20]], 'd DOUBLE');
      expect(await failure(() => d.select(F.col('d').cast('int')).collect())).toEqual(
        castOverflow('1.0E20D', 'DOUBLE', 'INT'),
      );
      // In range, a fraction truncates; try_cast is NULL.
      expect(
        await (
          await spark().sql(
            'SELECT CAST(2147483647.9D AS INT) AS i, CAST(-9.2e18D AS BIGINT) AS l, try_cast(1e20D AS INT) AS t',
          )
        ).collect(),
      ).toEqual([{ i: 2147483647, l: -9200000000000000000n, t: null }]);
    });

    it('off: NULL for invalid casts and division by zero, integer overflow wraps around (Spark 3 legacy)', async () => {
      spark().conf.set('spark.sql.ansi.enabled', false);
      try {
        expect(
          await showLines(await spark().sql("SELECT 2147483647 + 1, CAST('a' AS INT), 1 / 0, 5 % 0")),
        ).toEqual(
          table(
            '+----------------+--------------+-------+-------+',
            '|(2147483647 + 1)|CAST(a AS INT)|(1 / 0)|(5 % 0)|',
            '+----------------+--------------+-------+-------+',
            '|     -2147483648|          NULL|   NULL|   NULL|',
            '+----------------+--------------+-------+-------+',
          ),
        );
        // Long arithmetic wraps as Java's does.
        expect(
          await (
            await spark().sql('SELECT 9223372036854775807L * 3 AS m, -9223372036854775808L - 1 AS s')
          ).collect(),
        ).toEqual([{ m: 9223372036854775805n, s: 9223372036854775807n }]);
        // Without ANSI a fraction truncates and a narrowing cast wraps, as Spark 3's casts did.
        expect(
          await (
            await spark().sql(
              "SELECT CAST('1.5' AS INT) AS i, CAST(3000000000L AS INT) AS n, CAST(300 AS TINYINT) AS b, CAST(7 AS BIGINT) AS w",
            )
          ).collect(),
        ).toEqual([{ i: 1, n: -1294967296, b: 44, w: 7 }]);
        // A sum of longs wraps (try_sum's documented contrast); a double cast saturates, NaN is 0,
        // and a short takes the saturated int's low bits, as Java's (int) and (short) casts.
        expect(
          await (
            await spark().sql('SELECT sum(col) AS s FROM VALUES (9223372036854775807L), (1L) AS tab(col)')
          ).collect(),
        ).toEqual([{ s: -9223372036854775808n }]);
        const big = spark().createDataFrame([[9223372036854775807n], [3n], [4n]], 'v LONG');
        expect(await big.repartition(3).agg(F.sum('v').alias('s')).collect()).toEqual([
          { s: -9223372036854775802n },
        ]);
        expect(await showLines(big.groupBy().sum('v'))).toEqual(
          table(
            '+--------------------+',
            '|              sum(v)|',
            '+--------------------+',
            '|-9223372036854775802|',
            '+--------------------+',
          ),
        );
        expect(
          await (
            await spark().sql(
              "SELECT CAST(1e20D AS INT) AS i, CAST(-1e20D AS BIGINT) AS l, CAST(CAST('NaN' AS DOUBLE) AS INT) AS n, CAST(1e20D AS SMALLINT) AS s, CAST(-7.9D AS INT) AS t",
            )
          ).collect(),
        ).toEqual([{ i: 2147483647, l: -9223372036854775808n, n: 0, s: -1, t: -7 }]);
        const df = spark().createDataFrame(
          [
            [6000, 15],
            [1990, 0],
          ],
          ['a', 'b'],
        );
        expect(await df.select(F.col('a').divide(F.col('b')).alias('q')).collect()).toEqual([
          { q: 400 },
          { q: null },
        ]);
      } finally {
        spark().conf.unset('spark.sql.ansi.enabled');
      }
    });
  });

  describe('math', () => {
    it('abs, round/bround (HALF_UP vs HALF_EVEN), floor/ceil names, sqrt/exp/log family, pow, signum', async () => {
      expect(
        await showLines(
          spark()
            .createDataFrame([[-1], [0], [1]], ['value'])
            .select(F.abs('value')),
        ),
      ).toEqual(
        table(
          '+----------+',
          '|abs(value)|',
          '+----------+',
          '|         1|',
          '|         0|',
          '|         1|',
          '+----------+',
        ),
      );
      expect(
        await spark()
          .createDataFrame([[2.5]], ['a'])
          .select(F.round('a', 0).alias('r'))
          .collect(),
      ).toEqual([{ r: 3 }]);
      expect(
        await spark()
          .createDataFrame([[2.5]], ['a'])
          .select(F.bround('a', 0).alias('r'))
          .collect(),
      ).toEqual([{ r: 2 }]);
      expect(
        await showLines(
          one(1).select(
            F.round(F.lit(2.5)),
            F.round(F.lit(-2.5)),
            F.round(F.lit(2.345), 2),
            F.bround(F.lit(3.5)),
          ),
        ),
      ).toEqual(
        table(
          '+-------------+--------------+---------------+--------------+',
          '|round(2.5, 0)|round(-2.5, 0)|round(2.345, 2)|bround(3.5, 0)|',
          '+-------------+--------------+---------------+--------------+',
          '|          3.0|          -3.0|           2.35|           4.0|',
          '+-------------+--------------+---------------+--------------+',
        ),
      );
      expect(await showLines(one(1).select(F.floor(F.lit(2.5)), F.ceil(F.lit(-0.1))))).toEqual(
        table(
          '+----------+----------+',
          '|FLOOR(2.5)|CEIL(-0.1)|',
          '+----------+----------+',
          '|         2|         0|',
          '+----------+----------+',
        ),
      );
      expect(
        await one(1)
          .select(
            F.sqrt(F.lit(4)).alias('sqrt'),
            F.exp(F.lit(0)).alias('exp'),
            F.log(F.lit(Math.E)).alias('ln'),
            F.log(2.0, F.lit(8)).alias('log2_8'),
            F.log10(F.lit(100)).alias('log10'),
            F.log2(F.lit(8)).alias('log2'),
          )
          .collect(),
      ).toEqual([{ sqrt: 2, exp: 1, ln: 1, log2_8: 3, log10: 2, log2: 3 }]);
      expect(one(1).select(F.log(F.lit(Math.E))).columns).toEqual(['ln(2.718281828459045)']);
      expect(
        await one(1)
          .select(F.pow(F.lit(3), F.lit(2)))
          .first(),
      ).toEqual({ 'POWER(3, 2)': 9 });
      expect(await showLines(one(1).select(F.signum(F.lit(-5)), F.signum(F.lit(6))))).toEqual(
        table(
          '+----------+---------+',
          '|SIGNUM(-5)|SIGNUM(6)|',
          '+----------+---------+',
          '|      -1.0|      1.0|',
          '+----------+---------+',
        ),
      );
      const g = spark().createDataFrame([[1, 4, 3]], ['a', 'b', 'c']);
      expect(
        await g
          .select(F.greatest('a', 'b', 'c').alias('greatest'), F.least('a', 'b', 'c').alias('least'))
          .collect(),
      ).toEqual([{ greatest: 4, least: 1 }]);
    });

    it('Spark arithmetic: / is fractional, div is integral, % keeps the sign, pmod does not', async () => {
      expect(
        await one(1).selectExpr('7 / 2 AS q', '7 div 2 AS d', '-7 % 3 AS m', 'pmod(-7, 3) AS p').collect(),
      ).toEqual([{ q: 3.5, d: 3, m: -1, p: 2 }]);
    });
  });

  describe('nulls, literals and expressions', () => {
    it('e(), pi() and ln(e()) (the docs examples)', async () => {
      expect(await showLines(spark().range(1).select(F.e()))).toEqual(
        table(
          '+-----------------+',
          '|              E()|',
          '+-----------------+',
          '|2.718281828459045|',
          '+-----------------+',
        ),
      );
      expect(await showLines(spark().range(1).select(F.pi()))).toEqual(
        table(
          '+-----------------+',
          '|             PI()|',
          '+-----------------+',
          '|3.141592653589793|',
          '+-----------------+',
        ),
      );
      expect(await showLines(spark().range(1).select(F.ln(F.e())))).toEqual(
        table('+-------+', '|ln(E())|', '+-------+', '|    1.0|', '+-------+'),
      );
      expect(await (await spark().sql('SELECT pi() AS p, e() AS e')).collect()).toEqual([
        { p: Math.PI, e: Math.E },
      ]);
    });

    it('spark_partition_id and monotonically_increasing_id over range(0, 10, 1, 2) (the docs example)', async () => {
      const ids = (p: number, n: number) => (p === 0 ? String(n) : String(8589934592 + n));
      expect(
        await showLines(
          spark().range(0, 10, 1, 2).select('*', F.spark_partition_id(), F.monotonically_increasing_id()),
        ),
      ).toEqual(
        table(
          '+---+--------------------+-----------------------------+',
          '| id|SPARK_PARTITION_ID()|monotonically_increasing_id()|',
          '+---+--------------------+-----------------------------+',
          ...Array.from({ length: 10 }, (_, id) => {
            const p = id < 5 ? 0 : 1;
            return `|${String(id).padStart(3)}|${String(p).padStart(20)}|${ids(p, id % 5).padStart(29)}|`;
          }),
          '+---+--------------------+-----------------------------+',
        ),
      );
    });

    it('asc/desc_nulls_first/last, isnotnull, negative, try_subtract, try_multiply (the docs examples)', async () => {
      const df = spark().createDataFrame(
        [
          [1, 'Bob'],
          [0, null],
          [2, 'Alice'],
        ],
        ['age', 'name'],
      );
      const rows = (...ages: number[]) =>
        table(
          '+---+-----+',
          '|age| name|',
          '+---+-----+',
          ...ages.map((a) => ({ 0: '|  0| NULL|', 1: '|  1|  Bob|', 2: '|  2|Alice|' })[a as 0 | 1 | 2]),
          '+---+-----+',
        );
      expect(await showLines(df.sort(F.asc_nulls_first(df.col('name'))))).toEqual(rows(0, 2, 1));
      expect(await showLines(df.sort(F.asc_nulls_last('name')))).toEqual(rows(2, 1, 0));
      expect(await showLines(df.sort(F.desc_nulls_first('name')))).toEqual(rows(0, 1, 2));
      expect(await showLines(df.sort(F.desc_nulls_last(df.col('name'))))).toEqual(rows(1, 2, 0));
      const g = spark().createDataFrame(
        [
          [1, 'Bob', null],
          [0, null, 'Z'],
          [2, 'Alice', 'Y'],
        ],
        'age BIGINT, name STRING, grade STRING',
      );
      expect(
        await showLines(g.sort(F.asc_nulls_first(g.col('name')), F.asc_nulls_first(g.col('grade')))),
      ).toEqual(
        table(
          '+---+-----+-----+',
          '|age| name|grade|',
          '+---+-----+-----+',
          '|  0| NULL|    Z|',
          '|  2|Alice|    Y|',
          '|  1|  Bob| NULL|',
          '+---+-----+-----+',
        ),
      );
      const e = spark().createDataFrame([[null], [1]], 'e BIGINT');
      expect(await e.select(F.isnotnull(e.col('e')).alias('r')).collect()).toEqual([
        { r: false },
        { r: true },
      ]);
      expect(await showLines(spark().range(3).select(F.negative('id')))).toEqual(
        table(
          '+------------+',
          '|negative(id)|',
          '+------------+',
          '|           0|',
          '|          -1|',
          '|          -2|',
          '+------------+',
        ),
      );
      const ab = spark().createDataFrame(
        [
          [6000, 15],
          [1990, 2],
        ],
        ['a', 'b'],
      );
      expect(await ab.select(F.try_subtract(ab.col('a'), ab.col('b')).alias('r')).collect()).toEqual([
        { r: 5985 },
        { r: 1988 },
      ]);
      expect(await ab.select(F.try_multiply(ab.col('a'), ab.col('b')).alias('r')).collect()).toEqual([
        { r: 90000 },
        { r: 3980 },
      ]);
      const bd = spark().createDataFrame(
        [
          [1982, 15],
          [1990, 2],
        ],
        ['birth', 'age'],
      );
      expect(await showLines(bd.select('*', F.try_subtract('birth', 'age')))).toEqual(
        table(
          '+-----+---+------------------------+',
          '|birth|age|try_subtract(birth, age)|',
          '+-----+---+------------------------+',
          '| 1982| 15|                    1967|',
          '| 1990|  2|                    1988|',
          '+-----+---+------------------------+',
        ),
      );
    });

    it('coalesce, isnull, isnan, nanvl, nullif, ifnull, nvl, typeof, expr, lit', async () => {
      const c = spark().createDataFrame(
        [
          [null, null],
          [1, null],
          [null, 2],
        ],
        ['a', 'b'],
      );
      expect(await showLines(c.select('a', 'b', F.coalesce('a', 'b')))).toEqual(
        table(
          '+----+----+--------------+',
          '|   a|   b|coalesce(a, b)|',
          '+----+----+--------------+',
          '|NULL|NULL|          NULL|',
          '|   1|NULL|             1|',
          '|NULL|   2|             2|',
          '+----+----+--------------+',
        ),
      );
      const n = spark().createDataFrame(
        [
          [1, null],
          [null, 2],
        ],
        ['a', 'b'],
      );
      expect(await n.select(F.isnull('a').alias('r1'), F.isnull(F.col('b')).alias('r2')).collect()).toEqual([
        { r1: false, r2: true },
        { r1: true, r2: false },
      ]);
      const nan = spark().createDataFrame(
        [
          [1.0, NaN],
          [NaN, 2.0],
        ],
        ['a', 'b'],
      );
      expect(await nan.select(F.isnan('a').alias('r1'), F.isnan(nan.col('b')).alias('r2')).collect()).toEqual(
        [
          { r1: false, r2: true },
          { r1: true, r2: false },
        ],
      );
      expect(
        await nan
          .select(F.nanvl('a', 'b').alias('r1'), F.nanvl(nan.col('a'), nan.col('b')).alias('r2'))
          .collect(),
      ).toEqual([
        { r1: 1, r2: 1 },
        { r1: 2, r2: 2 },
      ]);
      const z = spark().createDataFrame(
        [
          [null, 8],
          [1, 1],
        ],
        ['a', 'b'],
      );
      expect(
        await z
          .select(F.nullif('a', 'b').alias('r'), F.ifnull('a', 'b').alias('i'), F.nvl('a', 'b').alias('n'))
          .collect(),
      ).toEqual([
        { r: null, i: 8, n: 8 },
        { r: null, i: 1, n: 1 },
      ]);
      expect(
        await spark()
          .createDataFrame([[1]], ['a'])
          .select(F.typeof('a').alias('r'))
          .collect(),
      ).toEqual([{ r: 'bigint' }]);
      const names = spark().createDataFrame([['Alice'], ['Bob']], ['name']);
      expect(await showLines(names.select('name', F.expr('length(name)')))).toEqual(
        table(
          '+-----+------------+',
          '| name|length(name)|',
          '+-----+------------+',
          '|Alice|           5|',
          '|  Bob|           3|',
          '+-----+------------+',
        ),
      );
      expect(
        await showLines(one(1).select(F.lit(5).alias('height'), F.lit(true), F.lit('x'), F.lit(null))),
      ).toEqual(
        table(
          '+------+----+---+----+',
          '|height|true|  x|NULL|',
          '+------+----+---+----+',
          '|     5|true|  x|NULL|',
          '+------+----+---+----+',
        ),
      );
    });
  });

  describe('dates and times', () => {
    it('to_date, to_timestamp, date_format and the date parts', async () => {
      const dt = spark().createDataFrame([['2015-04-08 13:08:15']], ['dt']);
      expect(await showLines(dt.select(F.to_date(dt.col('dt')).alias('date')))).toEqual(
        table('+----------+', '|      date|', '+----------+', '|2015-04-08|', '+----------+'),
      );
      expect(
        await showLines(dt.select(F.to_date(dt.col('dt'), 'yyyy-MM-dd HH:mm:ss').alias('date'))),
      ).toEqual(table('+----------+', '|      date|', '+----------+', '|2015-04-08|', '+----------+'));
      const ts = spark()
        .createDataFrame([['1997-02-28 10:30:00']], ['t'])
        .select(F.to_timestamp('t').alias('dt'));
      expect(ts.dtypes).toEqual([['dt', 'timestamp']]);
      expect(await showLines(ts)).toEqual(
        table(
          '+-------------------+',
          '|                 dt|',
          '+-------------------+',
          '|1997-02-28 10:30:00|',
          '+-------------------+',
        ),
      );
      expect(
        await spark()
          .createDataFrame([['2015-04-08']], ['dt'])
          .select(F.date_format('dt', 'MM/dd/yyy').alias('date'))
          .collect(),
      ).toEqual([{ date: '04/08/2015' }]);
      const d = spark()
        .createDataFrame([['2015-04-08']], ['dt'])
        .select(F.to_date('dt').alias('dt'));
      expect(
        await d
          .select(
            F.year('dt'),
            F.month('dt'),
            F.dayofmonth('dt'),
            F.dayofweek('dt'),
            F.dayofyear('dt'),
            F.weekofyear('dt'),
            F.quarter('dt'),
          )
          .collect(),
      ).toEqual([
        {
          'year(dt)': 2015,
          'month(dt)': 4,
          'dayofmonth(dt)': 8,
          'dayofweek(dt)': 4,
          'dayofyear(dt)': 98,
          'weekofyear(dt)': 15,
          'quarter(dt)': 2,
        },
      ]);
      const t2 = spark()
        .createDataFrame([['2015-04-08 13:08:15']], ['ts'])
        .select(F.to_timestamp('ts').alias('ts'));
      expect(await t2.select(F.hour('ts'), F.minute('ts'), F.second('ts')).collect()).toEqual([
        { 'hour(ts)': 13, 'minute(ts)': 8, 'second(ts)': 15 },
      ]);
    });

    it('date_add, date_sub, datediff, add_months, months_between, date_trunc, trunc, last_day', async () => {
      const df = spark().createDataFrame([['2015-04-08', 2]], ['dt', 'add']);
      const dt = F.to_date('dt');
      expect(await df.select(F.date_add(dt, 1).alias('next_date')).collect()).toEqual(
        [{ next_date: '2015-04-09' }].map((r) => ({ next_date: new Date(r.next_date) })),
      );
      const asDay = async (c: ReturnType<typeof F.col>) =>
        ((await df.select(c.alias('v')).first())!.v as Date).toISOString().slice(0, 10);
      expect(await asDay(F.date_add(dt, F.col('add').cast('integer')))).toBe('2015-04-10');
      expect(await asDay(F.date_sub(dt, 1))).toBe('2015-04-07');
      expect(await asDay(F.add_months(dt, 1))).toBe('2015-05-08');
      expect(await asDay(F.add_months(dt, F.col('add').cast('integer')))).toBe('2015-06-08');
      const dd = spark().createDataFrame([['2015-04-08', '2015-05-10']], ['d1', 'd2']);
      expect(await dd.select(F.datediff(F.to_date('d1'), F.to_date('d2')).alias('diff')).collect()).toEqual([
        { diff: -32 },
      ]);
      const mb = spark().createDataFrame([['1997-02-28 10:30:00', '1996-10-30']], ['date1', 'date2']);
      expect(
        await mb
          .select(F.months_between(F.to_timestamp('date1'), F.to_date('date2')).alias('months'))
          .collect(),
      ).toEqual([{ months: 3.94959677 }]);
      expect(
        await mb
          .select(F.months_between(F.to_timestamp('date1'), F.to_date('date2'), false).alias('months'))
          .collect(),
      ).toEqual([{ months: 3.9495967741935485 }]);
      const tt = spark().createDataFrame([['1997-02-28 05:02:11']], ['t']);
      expect(
        await showLines(
          tt.select(
            F.date_trunc('year', F.to_timestamp('t')).alias('year'),
            F.date_trunc('mon', F.to_timestamp('t')).alias('month'),
          ),
        ),
      ).toEqual(
        table(
          '+-------------------+-------------------+',
          '|               year|              month|',
          '+-------------------+-------------------+',
          '|1997-01-01 00:00:00|1997-02-01 00:00:00|',
          '+-------------------+-------------------+',
        ),
      );
      const dtr = spark().createDataFrame([['1997-02-28']], ['d']);
      expect(
        await showLines(
          dtr.select(
            F.trunc(F.to_date('d'), 'year').alias('year'),
            F.trunc(F.to_date('d'), 'mon').alias('month'),
          ),
        ),
      ).toEqual(
        table(
          '+----------+----------+',
          '|      year|     month|',
          '+----------+----------+',
          '|1997-01-01|1997-02-01|',
          '+----------+----------+',
        ),
      );
      expect(
        await showLines(
          spark()
            .createDataFrame([['1997-02-10']], ['d'])
            .select(F.last_day(F.to_date('d')).alias('date')),
        ),
      ).toEqual(table('+----------+', '|      date|', '+----------+', '|1997-02-28|', '+----------+'));
    });

    it('unix_timestamp and from_unixtime (UTC session)', async () => {
      expect(
        await spark()
          .createDataFrame([['2015-04-08']], ['dt'])
          .select(F.unix_timestamp('dt', 'yyyy-MM-dd').alias('unix_time'))
          .collect(),
      ).toEqual([{ unix_time: 1428451200 }]);
      expect(
        await spark()
          .createDataFrame([[1428476400]], ['unix_time'])
          .select(F.from_unixtime('unix_time').alias('ts'))
          .collect(),
      ).toEqual([{ ts: '2015-04-08 07:00:00' }]);
    });
  });

  describe('collections', () => {
    it('array, array_contains, size, element_at, sort_array, array_distinct, array_join, reverse, concat', async () => {
      const ar = spark().createDataFrame([[['a', 'b', 'c']], [[]]], ['data']);
      expect(await showLines(ar.select(F.array_contains(ar.col('data'), 'a')))).toEqual(
        table(
          '+-----------------------+',
          '|array_contains(data, a)|',
          '+-----------------------+',
          '|                   true|',
          '|                  false|',
          '+-----------------------+',
        ),
      );
      const p = spark().createDataFrame(
        [
          ['Alice', 2],
          ['Bob', 5],
        ],
        ['name', 'age'],
      );
      expect(await p.select(F.array('age', 'age').alias('arr')).collect()).toEqual([
        { arr: [2, 2] },
        { arr: [5, 5] },
      ]);
      expect(
        await spark()
          .createDataFrame([[[1, 2, 3]], [[1]], [[]]], ['data'])
          .select(F.size('data'))
          .collect(),
      ).toEqual([{ 'size(data)': 3 }, { 'size(data)': 1 }, { 'size(data)': 0 }]);
      const abc = spark().createDataFrame([[['a', 'b', 'c']]], ['data']);
      expect(
        await abc.select(F.element_at('data', 1).alias('e'), F.element_at('data', -1).alias('l')).collect(),
      ).toEqual([{ e: 'a', l: 'c' }]);
      const s = spark().createDataFrame([[[2, 1, null, 3]], [[1]], [[]]], ['data']);
      expect(await s.select(F.sort_array('data').alias('r')).collect()).toEqual([
        { r: [null, 1, 2, 3] },
        { r: [1] },
        { r: [] },
      ]);
      expect(await s.select(F.sort_array('data', false).alias('r')).collect()).toEqual([
        { r: [3, 2, 1, null] },
        { r: [1] },
        { r: [] },
      ]);
      expect(
        await spark()
          .createDataFrame([[[1, 2, 3, 2]], [[4, 5, 5, 4]]], ['data'])
          .select(F.array_distinct('data').alias('r'))
          .collect(),
      ).toEqual([{ r: [1, 2, 3] }, { r: [4, 5] }]);
      const j = spark().createDataFrame([[['a', 'b', 'c']], [['a', null]]], ['data']);
      expect(await j.select(F.array_join('data', ',').alias('joined')).collect()).toEqual([
        { joined: 'a,b,c' },
        { joined: 'a' },
      ]);
      expect(await j.select(F.array_join('data', ',', 'NULL').alias('joined')).collect()).toEqual([
        { joined: 'a,b,c' },
        { joined: 'a,NULL' },
      ]);
      expect(
        await spark()
          .createDataFrame([[[2, 1, 3]], [[1]], [[]]], ['data'])
          .select(F.reverse('data').alias('r'))
          .collect(),
      ).toEqual([{ r: [3, 1, 2] }, { r: [1] }, { r: [] }]);
      const c = spark().createDataFrame(
        [
          [[1, 2], [3, 4], [5]],
          [[1, 2], null, [3]],
        ],
        ['a', 'b', 'c'],
      );
      expect(await c.select(F.concat(c.col('a'), c.col('b'), c.col('c')).alias('arr')).collect()).toEqual([
        { arr: [1, 2, 3, 4, 5] },
        { arr: null },
      ]);
    });

    it('explode, explode_outer, struct', async () => {
      const e = spark().createDataFrame([[1, [1, 2, 3]]], ['a', 'intlist']);
      expect(await e.select(F.explode('intlist').alias('anInt')).collect()).toEqual([
        { anInt: 1 },
        { anInt: 2 },
        { anInt: 3 },
      ]);
      // Unnamed, the generator's column is `col`.
      expect(await e.select('a', F.explode('intlist')).collect()).toEqual([
        { a: 1, col: 1 },
        { a: 1, col: 2 },
        { a: 1, col: 3 },
      ]);
      const o = spark().createDataFrame(
        [
          [1, ['foo', 'bar']],
          [2, []],
          [3, null],
        ],
        ['id', 'an_array'],
      );
      expect(await showLines(o.select('id', F.explode_outer('an_array')).orderBy('id', 'col'))).toEqual(
        table(
          '+---+----+',
          '| id| col|',
          '+---+----+',
          '|  1| bar|',
          '|  1| foo|',
          '|  2|NULL|',
          '|  3|NULL|',
          '+---+----+',
        ),
      );
      const p = spark().createDataFrame(
        [
          ['Alice', 2],
          ['Bob', 5],
        ],
        ['name', 'age'],
      );
      const st = p.select(F.struct('age', 'name').alias('struct'));
      expect(await st.collect()).toEqual([
        { struct: { age: 2, name: 'Alice' } },
        { struct: { age: 5, name: 'Bob' } },
      ]);
      expect(schemaLines(st)).toEqual([
        'root',
        ' |-- struct: struct (nullable = true)',
        ' |    |-- age: long (nullable = true)',
        ' |    |-- name: string (nullable = true)',
      ]);
    });

    it('posexplode(intlist) gives two columns, pos and col', async () => {
      const e = spark().createDataFrame(
        [[1, [1, 2, 3], new Map([['a', 'b']])]],
        ['a', 'intlist', 'mapfield'],
      );
      expect(await e.select(F.posexplode('intlist')).collect()).toEqual([
        { pos: 0, col: 1 },
        { pos: 1, col: 2 },
        { pos: 2, col: 3 },
      ]);
      expect(await showLines(e.select(F.posexplode('mapfield')))).toEqual(
        table('+---+---+-----+', '|pos|key|value|', '+---+---+-----+', '|  0|  a|    b|', '+---+---+-----+'),
      );
      // A filter on the generated columns runs above the generator.
      expect(await e.select('a', F.posexplode('intlist').alias('p', 'v')).filter('p > 0').collect()).toEqual([
        { a: 1, p: 1, v: 2 },
        { a: 1, p: 2, v: 3 },
      ]);
      const o = spark().createDataFrame(
        [
          [1, ['foo', 'bar']],
          [2, []],
        ],
        ['id', 'an_array'],
      );
      expect(await o.select('id', F.posexplode_outer('an_array')).orderBy('id', 'pos').collect()).toEqual([
        { id: 1, pos: 0, col: 'foo' },
        { id: 1, pos: 1, col: 'bar' },
        { id: 2, pos: null, col: null },
      ]);
      expect(() => e.select(F.posexplode('intlist').alias('only_one')).columns).toThrow(
        /^\[UDTF_ALIAS_NUMBER_MISMATCH\]/,
      );
    });

    it("explode(mapfield).alias('key', 'value') and create_map('name', 'age') as maps", async () => {
      const e = spark().createDataFrame([[1, new Map([['a', 'b']])]], ['a', 'mapfield']);
      expect(schemaLines(e)).toEqual([
        'root',
        ' |-- a: long (nullable = true)',
        ' |-- mapfield: map (nullable = true)',
        ' |    |-- key: string',
        ' |    |-- value: string (valueContainsNull = true)',
      ]);
      expect(await showLines(e.select(F.explode('mapfield').alias('key', 'value')))).toEqual(
        table('+---+-----+', '|key|value|', '+---+-----+', '|  a|    b|', '+---+-----+'),
      );
      // Unnamed, a map's generator columns are key and value.
      expect(await (await spark().sql("SELECT explode(map('a', 1, 'b', 2))")).collect()).toEqual([
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ]);
      const p = spark().createDataFrame(
        [
          ['Alice', 2],
          ['Bob', 5],
        ],
        ['name', 'age'],
      );
      expect(await p.select(F.create_map('name', 'age').alias('map')).collect()).toEqual([
        { map: new Map([['Alice', 2]]) },
        { map: new Map([['Bob', 5]]) },
      ]);
      expect(await showLines(p.select(F.create_map('name', 'age')))).toEqual(
        table(
          '+--------------+',
          '|map(name, age)|',
          '+--------------+',
          '|  {Alice -> 2}|',
          '|    {Bob -> 5}|',
          '+--------------+',
        ),
      );
    });
  });

  describe('aggregates', () => {
    it('count_distinct, std/stddev/stddev_samp/stddev_pop/var_samp (the docs examples)', async () => {
      const v = spark().createDataFrame([[1], [1], [3]], ['value']);
      expect(await showLines(v.select(F.count_distinct(v.col('value'))))).toEqual(
        table(
          '+---------------------+',
          '|count(DISTINCT value)|',
          '+---------------------+',
          '|                    2|',
          '+---------------------+',
        ),
      );
      const v2 = spark().createDataFrame(
        [
          [1, 1],
          [1, 2],
        ],
        ['value1', 'value2'],
      );
      expect(await showLines(v2.select(F.count_distinct('value1', 'value2')))).toEqual(
        table(
          '+------------------------------+',
          '|count(DISTINCT value1, value2)|',
          '+------------------------------+',
          '|                             2|',
          '+------------------------------+',
        ),
      );
      const r = spark().range(6);
      // The docs print 1.8708286933869...: sqrt(3.5).
      for (const [c, name] of [
        [F.std('id'), 'std'],
        [F.stddev('id'), 'stddev'],
        [F.stddev_samp('id'), 'stddev_samp'],
      ] as const)
        expect(await showLines(r.select(c))).toEqual(
          table(
            '+------------------+',
            `|${`${name}(id)`.padStart(18)}|`,
            '+------------------+',
            '|1.8708286933869707|',
            '+------------------+',
          ),
        );
      expect(await r.select(F.stddev_pop('id').alias('p'), F.var_samp('id').alias('v')).collect()).toEqual([
        { p: Math.sqrt(35 / 12), v: 3.5 },
      ]);
      expect(await showLines(r.select(F.var_samp('id')))).toEqual(
        table('+------------+', '|var_samp(id)|', '+------------+', '|         3.5|', '+------------+'),
      );
    });

    const ag = () =>
      spark().createDataFrame(
        [
          [1, 'a'],
          [2, 'b'],
          [3, 'a'],
          [null, 'b'],
          [5, 'a'],
        ],
        ['v', 'k'],
      );

    it('count, count(*), countDistinct, sum, avg/mean, min, max, sum_distinct and their names', async () => {
      expect(
        await showLines(
          ag()
            .groupBy('k')
            .agg(
              F.count('v'),
              F.count('*'),
              F.countDistinct('v'),
              F.sum('v'),
              F.avg('v'),
              F.min('v'),
              F.max('v'),
              F.sum_distinct('v'),
            )
            .orderBy('k'),
        ),
      ).toEqual(
        table(
          '+---+--------+--------+-----------------+------+------+------+------+---------------+',
          '|  k|count(v)|count(1)|count(DISTINCT v)|sum(v)|avg(v)|min(v)|max(v)|sum(DISTINCT v)|',
          '+---+--------+--------+-----------------+------+------+------+------+---------------+',
          '|  a|       3|       3|                3|     9|   3.0|     1|     5|              9|',
          '|  b|       1|       2|                1|     2|   2.0|     2|     2|              2|',
          '+---+--------+--------+-----------------+------+------+------+------+---------------+',
        ),
      );
      expect(ag().agg(F.mean('v')).columns).toEqual(['avg(v)']);
    });

    it('collect_list, collect_set, stddev, variance, var_pop, stddev_pop, corr, covar', async () => {
      const rows = await ag()
        .groupBy('k')
        .agg(
          F.sort_array(F.collect_list('v')).alias('l'),
          F.sort_array(F.collect_set('v')).alias('s'),
          F.stddev('v').alias('sd'),
          F.variance('v').alias('var'),
          F.var_pop('v').alias('vp'),
        )
        .orderBy('k')
        .collect();
      expect(rows).toEqual([
        { k: 'a', l: [1, 3, 5], s: [1, 3, 5], sd: 2, var: 4, vp: 2.6666666666666665 },
        { k: 'b', l: [2], s: [2], sd: null, var: null, vp: 0 },
      ]);
      const c = spark().createDataFrame(
        [
          [1, 2],
          [2, 4],
          [3, 6],
        ],
        ['a', 'b'],
      );
      expect(
        await c
          .agg(
            F.corr('a', 'b').alias('c'),
            F.covar_samp('a', 'b').alias('cs'),
            F.covar_pop('a', 'b').alias('cp'),
          )
          .collect(),
      ).toEqual([{ c: 1, cs: 2, cp: 1.3333333333333333 }]);
    });

    it('first / last with ignorenulls, approx_count_distinct, percentile_approx', async () => {
      const df = spark().createDataFrame(
        [
          ['Alice', 2],
          ['Bob', 5],
          ['Alice', null],
        ],
        ['name', 'age'],
      );
      // The docs sort first; with one partition per row the first of a group is then defined.
      const firsts = await df
        .orderBy('age')
        .coalesce(1)
        .groupBy('name')
        .agg(F.first('age'))
        .orderBy('name')
        .collect();
      expect(firsts).toEqual([
        { name: 'Alice', 'first(age, false)': null },
        { name: 'Bob', 'first(age, false)': 5 },
      ]);
      expect(await df.groupBy('name').agg(F.first('age', true)).orderBy('name').collect()).toEqual([
        { name: 'Alice', 'first(age, true)': 2 },
        { name: 'Bob', 'first(age, true)': 5 },
      ]);
      expect(await df.groupBy('name').agg(F.last('age', true)).orderBy('name').collect()).toEqual([
        { name: 'Alice', 'last(age, true)': 2 },
        { name: 'Bob', 'last(age, true)': 5 },
      ]);
      const v = spark().createDataFrame([[1], [2], [2], [3]], ['value']);
      expect(await v.agg(F.approx_count_distinct('value').alias('distinct_values')).collect()).toEqual([
        { distinct_values: 3 },
      ]);
      const r = spark()
        .range(0, 1000, 1, 1)
        .select(F.col('id').mod(3).alias('key'), F.col('id').alias('value'));
      const q = r.select(F.percentile_approx('value', [0.25, 0.5, 0.75], 1000000).alias('quantiles'));
      expect(schemaLines(q)).toEqual([
        'root',
        ' |-- quantiles: array (nullable = true)',
        ' |    |-- element: long (containsNull = false)',
      ]);
      expect(await q.collect()).toEqual([{ quantiles: [249, 499, 749] }]);
      expect(
        await r
          .groupBy('key')
          .agg(F.percentile_approx('value', 0.5, 1000000).alias('median'))
          .orderBy('key')
          .collect(),
      ).toEqual([
        { key: 0, median: 498 },
        { key: 1, median: 499 },
        { key: 2, median: 500 },
      ]);
    });

    it("cube('name').agg(F.grouping('name'), F.sum('age')) and rollup('name').count()", async () => {
      const df = spark().createDataFrame(
        [
          [2, 'Alice'],
          [5, 'Bob'],
        ],
        ['age', 'name'],
      );
      expect(await showLines(df.cube('name').agg(F.grouping('name'), F.sum('age')).orderBy('name'))).toEqual(
        table(
          '+-----+--------------+--------+',
          '| name|grouping(name)|sum(age)|',
          '+-----+--------------+--------+',
          '| NULL|             1|       7|',
          '|Alice|             0|       2|',
          '|  Bob|             0|       5|',
          '+-----+--------------+--------+',
        ),
      );
      expect(await showLines(df.rollup('name').count().orderBy('name'))).toEqual(
        table(
          '+-----+-----+',
          '| name|count|',
          '+-----+-----+',
          '| NULL|    2|',
          '|Alice|    1|',
          '|  Bob|    1|',
          '+-----+-----+',
        ),
      );
      // grouping_id(): a bit per grouping column, the first most significant; aggregates read
      // the rows' own values, not the nulled grouping columns.
      expect(
        await df
          .cube('name', 'age')
          .agg(F.grouping_id().alias('g'), F.sum('age').alias('s'))
          .orderBy('name', 'age')
          .collect(),
      ).toEqual([
        { name: null, age: null, g: 3, s: 7 },
        { name: null, age: 2, g: 2, s: 2 },
        { name: null, age: 5, g: 2, s: 5 },
        { name: 'Alice', age: null, g: 1, s: 2 },
        { name: 'Alice', age: 2, g: 0, s: 2 },
        { name: 'Bob', age: null, g: 1, s: 5 },
        { name: 'Bob', age: 5, g: 0, s: 5 },
      ]);
      const sql = await spark().sql(
        "SELECT name, age, grouping_id(name, age) AS g, sum(age) AS s FROM VALUES (2, 'Alice'), (5, 'Bob') AS t(age, name) GROUP BY ROLLUP(name, age) HAVING sum(age) > 2 ORDER BY name, age",
      );
      expect(await sql.collect()).toEqual([
        { name: null, age: null, g: 3, s: 7 },
        { name: 'Bob', age: null, g: 1, s: 5 },
        { name: 'Bob', age: 5, g: 0, s: 5 },
      ]);
      expect(() => df.groupBy('name').agg(F.grouping('name')).columns).toThrow(
        /^\[UNSUPPORTED_GROUPING_EXPRESSION\]/,
      );
    });
  });
});

forEachMode('PySpark Window examples', (spark) => {
  const ids = () =>
    spark().createDataFrame(
      [
        [1, 'a'],
        [1, 'a'],
        [2, 'a'],
        [1, 'b'],
        [2, 'b'],
        [3, 'b'],
      ],
      ['id', 'category'],
    );

  it('Window.partitionBy("category").orderBy("id").rowsBetween(Window.currentRow, 1)', async () => {
    const w = Window.partitionBy('category').orderBy('id').rowsBetween(Window.currentRow, 1);
    expect(
      await showLines(ids().withColumn('sum', F.sum('id').over(w)).sort('id', 'category', 'sum')),
    ).toEqual(
      table(
        '+---+--------+---+',
        '| id|category|sum|',
        '+---+--------+---+',
        '|  1|       a|  2|',
        '|  1|       a|  3|',
        '|  1|       b|  3|',
        '|  2|       a|  2|',
        '|  2|       b|  5|',
        '|  3|       b|  3|',
        '+---+--------+---+',
      ),
    );
  });

  it('Window.partitionBy("category").orderBy("id").rangeBetween(Window.currentRow, 1)', async () => {
    const w = Window.partitionBy('category').orderBy('id').rangeBetween(Window.currentRow, 1);
    expect(await showLines(ids().withColumn('sum', F.sum('id').over(w)).sort('id', 'category'))).toEqual(
      table(
        '+---+--------+---+',
        '| id|category|sum|',
        '+---+--------+---+',
        '|  1|       a|  4|',
        '|  1|       a|  4|',
        '|  1|       b|  3|',
        '|  2|       a|  2|',
        '|  2|       b|  5|',
        '|  3|       b|  3|',
        '+---+--------+---+',
      ),
    );
  });

  it('row_number, rank, dense_rank, percent_rank, cume_dist, ntile over Window.orderBy("value")', async () => {
    const df = spark().createDataFrame([[1], [1], [2], [3], [3], [4]], ['value']);
    const w = Window.orderBy('value');
    const rows = await df
      .withColumn('rank', F.rank().over(w))
      .withColumn('dense_rank', F.dense_rank().over(w))
      .withColumn('percent_rank', F.percent_rank().over(w))
      .withColumn('cume_dist', F.cume_dist().over(w))
      .withColumn('ntile', F.ntile(2).over(w))
      .orderBy('value')
      .collect();
    expect(rows.map((r) => r.rank)).toEqual([1, 1, 3, 4, 4, 6]);
    expect(rows.map((r) => r.dense_rank)).toEqual([1, 1, 2, 3, 3, 4]);
    expect(rows.map((r) => r.percent_rank)).toEqual([0, 0, 0.4, 0.6, 0.6, 1]);
    expect(rows.map((r) => r.cume_dist)).toEqual([
      0.3333333333333333, 0.3333333333333333, 0.5, 0.8333333333333334, 0.8333333333333334, 1,
    ]);
    expect(rows.map((r) => r.ntile)).toEqual([1, 1, 1, 2, 2, 2]);
    const rn = await df.withColumn('rn', F.row_number().over(w)).orderBy('rn').collect();
    expect(rn.map((r) => [r.value, r.rn])).toEqual([
      [1, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [3, 5],
      [4, 6],
    ]);
  });

  it('lag and lead with offsets and defaults (rows sorted: the docs print them in partition order)', async () => {
    const df = spark().createDataFrame(
      [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['b', 8],
        ['b', 2],
      ],
      ['c1', 'c2'],
    );
    const w = Window.partitionBy('c1').orderBy('c2');
    expect(await showLines(df.withColumn('previous_value', F.lag('c2').over(w)).orderBy('c1', 'c2'))).toEqual(
      table(
        '+---+---+--------------+',
        '| c1| c2|previous_value|',
        '+---+---+--------------+',
        '|  a|  1|          NULL|',
        '|  a|  2|             1|',
        '|  a|  3|             2|',
        '|  b|  2|          NULL|',
        '|  b|  8|             2|',
        '+---+---+--------------+',
      ),
    );
    const rows = await df
      .withColumn('lag1', F.lag('c2', 1, 0).over(w))
      .withColumn('lag2', F.lag('c2', 2, -1).over(w))
      .withColumn('next_value', F.lead('c2').over(w))
      .withColumn('lead1', F.lead('c2', 1, 0).over(w))
      .withColumn('lead2', F.lead('c2', 2, -1).over(w))
      .orderBy('c1', 'c2')
      .collect();
    expect(rows.map((r) => [r.lag1, r.lag2, r.next_value, r.lead1, r.lead2])).toEqual([
      [0, -1, 2, 2, 3],
      [1, -1, 3, 3, -1],
      [2, 1, null, 0, -1],
      [0, -1, 8, 8, -1],
      [2, -1, null, 0, -1],
    ]);
  });

  it('running totals (unboundedPreceding..currentRow), whole-partition aggregates, window column names', async () => {
    const df = spark().createDataFrame(
      [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['b', 8],
        ['b', 2],
      ],
      ['c1', 'c2'],
    );
    const running = Window.partitionBy('c1')
      .orderBy('c2')
      .rowsBetween(Window.unboundedPreceding, Window.currentRow);
    const rows = await df
      .withColumn('s', F.sum('c2').over(running))
      .withColumn('t', F.sum('c2').over(Window.partitionBy('c1')))
      .orderBy('c1', 'c2')
      .collect();
    expect(rows.map((r) => [r.c1, r.c2, r.s, r.t])).toEqual([
      ['a', 1, 1, 6],
      ['a', 2, 3, 6],
      ['a', 3, 6, 6],
      ['b', 2, 2, 10],
      ['b', 8, 10, 10],
    ]);
    const w = Window.partitionBy('c1').orderBy('c2');
    expect(df.select(F.row_number().over(w)).columns).toEqual([
      'row_number() OVER (PARTITION BY c1 ORDER BY c2 ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)',
    ]);
    expect(df.select(F.sum('c2').over(w)).columns).toEqual([
      'sum(c2) OVER (PARTITION BY c1 ORDER BY c2 ASC NULLS FIRST RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)',
    ]);
    expect(df.select(F.lag('c2').over(w)).columns).toEqual([
      'lag(c2, 1, NULL) OVER (PARTITION BY c1 ORDER BY c2 ASC NULLS FIRST ROWS BETWEEN -1 FOLLOWING AND -1 FOLLOWING)',
    ]);
    expect(df.select(F.sum('c2').over(Window.partitionBy('c1'))).columns).toEqual([
      'sum(c2) OVER (PARTITION BY c1 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)',
    ]);
  });
});
