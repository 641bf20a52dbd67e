import { describe, expect, it } from 'vitest';
import {
  formatSchemaTree,
  formatShow,
  formatValue,
  javaDoubleString,
  javaFloatString,
} from '../../src/dataframe/format.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  parseSchema,
} from '../../src/sql/types.js';

const people = parseSchema('age BIGINT, name STRING');
const rows = [
  { age: 14, name: 'Tom' },
  { age: 23, name: 'Alice' },
  { age: 16, name: 'Bob' },
  { age: 19, name: 'This is a super long name' },
];
const show = (r: typeof rows, n = 20, truncate: boolean | number = true, vertical = false) =>
  formatShow(people, r.slice(0, n), { n, truncate, vertical, hasMore: r.length > n });

// Expected outputs: the examples of pyspark.sql.DataFrame.show / summary / printSchema (PySpark 4 docs).
describe('formatShow (Dataset.showString)', () => {
  it('df.show(): right-aligned, cells cut at 20 characters', () => {
    expect(show(rows)).toBe(
      [
        '+---+--------------------+',
        '|age|                name|',
        '+---+--------------------+',
        '| 14|                 Tom|',
        '| 23|               Alice|',
        '| 16|                 Bob|',
        '| 19|This is a super l...|',
        '+---+--------------------+',
        '',
      ].join('\n'),
    );
  });

  it('df.show(2): the "only showing top 2 rows" footer', () => {
    expect(show(rows, 2)).toBe(
      [
        '+---+-----+',
        '|age| name|',
        '+---+-----+',
        '| 14|  Tom|',
        '| 23|Alice|',
        '+---+-----+',
        'only showing top 2 rows',
        '',
      ].join('\n'),
    );
    expect(show(rows, 1)).toContain('only showing top 1 row\n');
  });

  it('df.show(truncate=False): left-aligned, nothing cut', () => {
    expect(show(rows, 20, false)).toBe(
      [
        '+---+-------------------------+',
        '|age|name                     |',
        '+---+-------------------------+',
        '|14 |Tom                      |',
        '|23 |Alice                    |',
        '|16 |Bob                      |',
        '|19 |This is a super long name|',
        '+---+-------------------------+',
        '',
      ].join('\n'),
    );
  });

  it('df.show(truncate=3): cut to 3 characters without an ellipsis', () => {
    expect(show(rows, 20, 3)).toBe(
      [
        '+---+----+',
        '|age|name|',
        '+---+----+',
        '| 14| Tom|',
        '| 23| Ali|',
        '| 16| Bob|',
        '| 19| Thi|',
        '+---+----+',
        '',
      ].join('\n'),
    );
  });

  it('truncate > 3 keeps truncate-3 characters and "..."', () => {
    expect(show(rows.slice(3), 20, 10)).toContain('|This is...|');
  });

  it('df.show(vertical=True): -RECORD blocks, padded to the widest name and value', () => {
    expect(show(rows, 20, true, true)).toBe(
      [
        '-RECORD 0--------------------',
        ' age  | 14                   ',
        ' name | Tom                  ',
        '-RECORD 1--------------------',
        ' age  | 23                   ',
        ' name | Alice                ',
        '-RECORD 2--------------------',
        ' age  | 16                   ',
        ' name | Bob                  ',
        '-RECORD 3--------------------',
        ' age  | 19                   ',
        ' name | This is a super l... ',
        '',
      ].join('\n'),
    );
    // PySpark 3.4's docs example (Tom, Alice, Bob): the value column is 5 wide.
    expect(show(rows.slice(0, 3), 20, true, true)).toBe(
      [
        '-RECORD 0-----',
        ' age  | 14    ',
        ' name | Tom   ',
        '-RECORD 1-----',
        ' age  | 23    ',
        ' name | Alice ',
        '-RECORD 2-----',
        ' age  | 16    ',
        ' name | Bob   ',
        '',
      ].join('\n'),
    );
    expect(show(rows.slice(0, 1), 20, true, true)).toBe(
      ['-RECORD 0---', ' age  | 14  ', ' name | Tom ', ''].join('\n'),
    );
  });

  it('vertical with no rows prints (0 rows); a table with no rows has only the header', () => {
    expect(show([], 20, true, true)).toBe('(0 rows)\n');
    expect(show([])).toBe('+---+----+\n|age|name|\n+---+----+\n+---+----+\n');
  });

  it('df.summary().show(): the documented table', () => {
    const schema = parseSchema('summary STRING, age STRING, weight STRING, height STRING');
    const data = [
      ['count', '3', '3', '3'],
      ['mean', '12.0', '40.73333333333333', '145.0'],
      ['stddev', '1.0', '3.1722757341273704', '4.763402145525822'],
      ['min', '11', '37.8', '142.2'],
      ['25%', '11', '37.8', '142.2'],
      ['50%', '12', '40.3', '142.3'],
      ['75%', '13', '44.1', '150.5'],
      ['max', '13', '44.1', '150.5'],
    ];
    expect(formatShow(schema, data, { n: 20, truncate: true, vertical: false, hasMore: false })).toBe(
      [
        '+-------+----+------------------+-----------------+',
        '|summary| age|            weight|           height|',
        '+-------+----+------------------+-----------------+',
        '|  count|   3|                 3|                3|',
        '|   mean|12.0| 40.73333333333333|            145.0|',
        '| stddev| 1.0|3.1722757341273704|4.763402145525822|',
        '|    min|  11|              37.8|            142.2|',
        '|    25%|  11|              37.8|            142.2|',
        '|    50%|  12|              40.3|            142.3|',
        '|    75%|  13|              44.1|            150.5|',
        '|    max|  13|              44.1|            150.5|',
        '+-------+----+------------------+-----------------+',
        '',
      ].join('\n'),
    );
  });

  it('NULL cells, escaped control characters, full-width characters counted twice', () => {
    const schema = parseSchema('a STRING, b INT');
    expect(
      formatShow(
        schema,
        [
          { a: 'x\ny', b: null },
          { a: '日本', b: 1 },
        ],
        {
          n: 20,
          truncate: true,
          vertical: false,
          hasMore: false,
        },
      ),
    ).toBe(
      ['+----+----+', '|   a|   b|', '+----+----+', '|x\\ny|NULL|', '|日本|   1|', '+----+----+', ''].join(
        '\n',
      ),
    );
  });

  it('rows given as arrays are read by position', () => {
    const schema = parseSchema('a INT, a INT');
    expect(formatShow(schema, [[1, 2]], { n: 20, truncate: true, vertical: false, hasMore: false })).toBe(
      '+---+---+\n|  a|  a|\n+---+---+\n|  1|  2|\n+---+---+\n',
    );
  });
});

describe('formatValue (ToPrettyString)', () => {
  it('numbers as Spark prints them', () => {
    expect(formatValue(2, new DoubleType())).toBe('2.0');
    expect(formatValue(0.1, new DoubleType())).toBe('0.1');
    expect(formatValue(1e10, new DoubleType())).toBe('1.0E10');
    expect(formatValue(12345678.9, new DoubleType())).toBe('1.23456789E7');
    expect(formatValue(1234567.5, new DoubleType())).toBe('1234567.5');
    expect(formatValue(0.0001, new DoubleType())).toBe('1.0E-4');
    expect(formatValue(-2.5e-7, new DoubleType())).toBe('-2.5E-7');
    expect(formatValue(NaN, new DoubleType())).toBe('NaN');
    expect(formatValue(-Infinity, new DoubleType())).toBe('-Infinity');
    expect(formatValue(0, new DoubleType())).toBe('0.0');
    expect(formatValue(Math.fround(0.1), new FloatType())).toBe('0.1');
    expect(formatValue(Math.fround(3.4e38), new FloatType())).toBe('3.4E38');
    expect(formatValue(12.5, new DecimalType(10, 2))).toBe('12.50');
    expect(formatValue(3, new DecimalType(10, 0))).toBe('3');
    expect(formatValue(42, new IntegerType())).toBe('42');
    expect(formatValue(9007199254740993n, new LongType())).toBe('9007199254740993');
    expect(javaDoubleString(100)).toBe('100.0');
    expect(javaFloatString(Math.fround(1.1))).toBe('1.1');
  });

  it('dates, UTC timestamps, booleans, binary, NULL', () => {
    expect(formatValue(new Date(Date.UTC(2020, 0, 2)), new DateType())).toBe('2020-01-02');
    expect(formatValue(new Date(Date.UTC(2020, 0, 2, 3, 4, 5)), new TimestampType())).toBe(
      '2020-01-02 03:04:05',
    );
    expect(formatValue(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 120)), new TimestampType())).toBe(
      '2020-01-02 03:04:05.12',
    );
    expect(formatValue(true, new BooleanType())).toBe('true');
    expect(formatValue(new Uint8Array([10, 255]), new BinaryType())).toBe('[0A FF]');
    expect(formatValue(null, new StringType())).toBe('NULL');
  });

  it('arrays, maps and structs, with nested NULLs and typed elements', () => {
    expect(formatValue([1, 2, 3], new ArrayType(new IntegerType()))).toBe('[1, 2, 3]');
    expect(formatValue([1, null], new ArrayType(new DoubleType()))).toBe('[1.0, NULL]');
    expect(formatValue(new Map([['a', 1]]), new MapType(new StringType(), new IntegerType()))).toBe(
      '{a -> 1}',
    );
    expect(formatValue({ a: 1, b: 'x' }, parseSchema('a INT, b STRING'))).toBe('{1, x}');
    expect(formatValue([[1, 'x']], new ArrayType(parseSchema('a INT, b STRING')))).toBe('[{1, x}]');
  });
});

describe('formatSchemaTree (StructType.treeString)', () => {
  it('df.printSchema() of the docs', () => {
    expect(formatSchemaTree(parseSchema('age BIGINT, name STRING'))).toBe(
      'root\n |-- age: long (nullable = true)\n |-- name: string (nullable = true)\n',
    );
  });

  it('printSchema(1) and printSchema(2) of a struct column', () => {
    const schema = new StructType([
      new StructField('a', new LongType()),
      new StructField(
        'b',
        new StructType([new StructField('_1', new LongType()), new StructField('_2', new LongType())]),
      ),
    ]);
    expect(formatSchemaTree(schema, 1)).toBe(
      'root\n |-- a: long (nullable = true)\n |-- b: struct (nullable = true)\n',
    );
    expect(formatSchemaTree(schema, 2)).toBe(
      [
        'root',
        ' |-- a: long (nullable = true)',
        ' |-- b: struct (nullable = true)',
        ' |    |-- _1: long (nullable = true)',
        ' |    |-- _2: long (nullable = true)',
        '',
      ].join('\n'),
    );
  });

  it('arrays, maps, decimals and non-nullable fields', () => {
    const schema = new StructType([
      new StructField('id', new IntegerType(), false),
      new StructField('tags', new ArrayType(new StringType(), false)),
      new StructField('m', new MapType(new StringType(), new ArrayType(new DecimalType(10, 2)))),
    ]);
    expect(formatSchemaTree(schema)).toBe(
      [
        'root',
        ' |-- id: integer (nullable = false)',
        ' |-- tags: array (nullable = true)',
        ' |    |-- element: string (containsNull = false)',
        ' |-- m: map (nullable = true)',
        ' |    |-- key: string',
        ' |    |-- value: array (valueContainsNull = true)',
        ' |    |    |-- element: decimal(10,2) (containsNull = true)',
        '',
      ].join('\n'),
    );
  });
});
