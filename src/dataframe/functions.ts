/**
 * `pyspark.sql.functions` (used as `F`): builders of unresolved function calls, spelled as PySpark
 * spells them and named as Spark SQL names them (`F.mean` → `avg`, `F.countDistinct` → distinct
 * `count`). Parameters PySpark types as ColumnOrName take column names; literal-typed parameters
 * (patterns, formats, scales, offsets) become literals.
 */
import type { Callable } from '../rdd/functions.js';
import { shipFunction } from '../rdd/functions.js';
import { callSite } from '../rdd/call-site.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { E, type Expression } from '../sql/plan/unresolved.js';
import { DataType, StringType, parseDataType } from '../sql/types.js';
import { Column, colExpr, litExpr, type ColumnOrName } from './column.js';
import { ARROW_UDF_TYPES, arrowUdfTypeName } from '../wasm/arrow-udf.js';
import { WasmModuleError } from '../wasm/errors.js';
import type { WasmHandle } from '../wasm/instances.js';
import { WasmModule } from '../wasm/module.js';

function call(name: string, ...args: Expression[]): Column {
  return new Column(E.fn(name, args));
}
function over(name: string, ...cols: ColumnOrName[]): Column {
  return new Column(E.fn(name, cols.map(colExpr)));
}
/** Varargs that may also be one array (PySpark's `*cols` accepting a list). */
function varargs<T>(cols: readonly (T | readonly T[])[]): T[] {
  return cols.length === 1 && Array.isArray(cols[0]) ? [...(cols[0] as readonly T[])] : (cols as T[]);
}
/** A `Column | literal` parameter: a Column stays, anything else is a literal. */
function colOrLit(v: unknown): Expression {
  return litExpr(v);
}
/** A `ColumnOrName | int` parameter: a number is a literal, a string a column name. */
function colOrNumber(v: ColumnOrName | number): Expression {
  return typeof v === 'number' ? litExpr(v) : colExpr(v);
}

/** A user-defined function: call it with columns to get a Column (`myUdf('a', F.col('b'))`). */
export interface UserDefinedFunction {
  (...cols: ColumnOrName[]): Column;
  /** The shipped function (checked source and env). */
  readonly func: Callable;
  /** The type of the values it returns. */
  readonly returnType: DataType;
  /** Its name in column names and plans (the JavaScript function's name, or `<lambda>`). */
  readonly functionName: string;
}

/** The functions of `pyspark.sql.functions`; import as `F`. */
export const functions = {
  // ------------------------------------------------------------------ columns and literals
  /** A column by name (`'a'`, `'t.a'`, `'*'`). */
  col(name: string): Column {
    return new Column(colExpr(name));
  },
  /** Same as {@link functions.col}. */
  column(name: string): Column {
    return new Column(colExpr(name));
  },
  /** A literal; a Column passes through. */
  lit(value: unknown): Column {
    return value instanceof Column ? value : new Column(litExpr(value));
  },
  /** A SQL expression string, parsed when the plan is analyzed (`F.expr('a + 1')`). */
  expr(text: string): Column {
    return new Column({ type: 'expressionString', expression: text });
  },
  /** `CASE WHEN condition THEN value`; chain `.when(…)` and `.otherwise(…)`. */
  when(condition: Column, value: unknown): Column {
    if (!(condition instanceof Column)) {
      throw new InvalidOperationError('[NOT_COLUMN] Argument `condition` should be a Column.');
    }
    return call('when', condition.expr, colOrLit(value));
  },
  /** The first non-NULL argument. */
  coalesce(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('coalesce', ...varargs(cols));
  },
  /** True where the value is NULL. */
  isnull(col: ColumnOrName): Column {
    return over('isnull', col);
  },
  /** True where the value is not NULL. */
  isnotnull(col: ColumnOrName): Column {
    return over('isnotnull', col);
  },
  /** True where the value is NaN. */
  isnan(col: ColumnOrName): Column {
    return over('isnan', col);
  },
  /** `col1` unless it is NaN, else `col2`. */
  nanvl(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('nanvl', col1, col2);
  },
  /** `col2` where `col1` is NULL. */
  ifnull(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('ifnull', col1, col2);
  },
  /** Same as {@link functions.ifnull}. */
  nvl(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('nvl', col1, col2);
  },
  /** NULL where `col1 == col2`, else `col1`. */
  nullif(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('nullif', col1, col2);
  },
  /** `NOT col`. */
  not(col: ColumnOrName): Column {
    return over('not', col);
  },
  /** `-col`. */
  negative(col: ColumnOrName): Column {
    return over('negative', col);
  },
  /** Ascending sort order of a column. */
  asc(col: ColumnOrName): Column {
    return new Column(colExpr(col)).asc();
  },
  /** Descending sort order of a column. */
  desc(col: ColumnOrName): Column {
    return new Column(colExpr(col)).desc();
  },
  /** Ascending, NULLs first. */
  asc_nulls_first(col: ColumnOrName): Column {
    return new Column(colExpr(col)).asc_nulls_first();
  },
  /** Ascending, NULLs last. */
  asc_nulls_last(col: ColumnOrName): Column {
    return new Column(colExpr(col)).asc_nulls_last();
  },
  /** Descending, NULLs first. */
  desc_nulls_first(col: ColumnOrName): Column {
    return new Column(colExpr(col)).desc_nulls_first();
  },
  /** Descending, NULLs last. */
  desc_nulls_last(col: ColumnOrName): Column {
    return new Column(colExpr(col)).desc_nulls_last();
  },
  /** The DDL type string of the value (`int`, `array<string>`). */
  typeof(col: ColumnOrName): Column {
    return over('typeof', col);
  },
  /** Euler's number, as a double: `E()`. */
  e(): Column {
    return call('e');
  },
  /** π, as a double: `PI()`. */
  pi(): Column {
    return call('pi');
  },
  /** The id of the partition a row is in. */
  spark_partition_id(): Column {
    return call('spark_partition_id');
  },
  /** Increasing, unique, not consecutive 64-bit ids. */
  monotonically_increasing_id(): Column {
    return call('monotonically_increasing_id');
  },
  /** Uniform random doubles in [0, 1); without a seed, one is drawn now (as Spark does). */
  rand(seed?: number): Column {
    return call('rand', litExpr(seed ?? Math.floor(Math.random() * 2 ** 31)));
  },
  /** Standard-normal random doubles; without a seed, one is drawn now. */
  randn(seed?: number): Column {
    return call('randn', litExpr(seed ?? Math.floor(Math.random() * 2 ** 31)));
  },
  /** Spark's 32-bit Murmur3 hash of the columns. */
  hash(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('hash', ...varargs(cols));
  },
  /** `left / right`, NULL (not an error, even under ANSI) for a zero divisor. */
  try_divide(left: ColumnOrName, right: ColumnOrName): Column {
    return over('try_divide', left, right);
  },
  /** `left + right`, NULL (not an error, even under ANSI) on overflow. */
  try_add(left: ColumnOrName, right: ColumnOrName): Column {
    return over('try_add', left, right);
  },
  /** `left - right`, NULL on overflow. */
  try_subtract(left: ColumnOrName, right: ColumnOrName): Column {
    return over('try_subtract', left, right);
  },
  /** `left * right`, NULL on overflow. */
  try_multiply(left: ColumnOrName, right: ColumnOrName): Column {
    return over('try_multiply', left, right);
  },
  /** Spark's 64-bit xxHash (seed 42) of the columns, as a long (a bigint beyond 2^53). */
  xxhash64(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('xxhash64', ...varargs(cols));
  },
  /** The MD5 digest as a hex string. */
  md5(col: ColumnOrName): Column {
    return over('md5', col);
  },
  /** The SHA-1 digest as a hex string. */
  sha1(col: ColumnOrName): Column {
    return over('sha1', col);
  },
  /** The SHA-2 digest (224, 256, 384 or 512 bits; 0 means 256) as a hex string. */
  sha2(col: ColumnOrName, numBits: number): Column {
    return call('sha2', colExpr(col), litExpr(numBits));
  },
  /** The CRC32 checksum (of a string's UTF-8 bytes) as a long. */
  crc32(col: ColumnOrName): Column {
    return over('crc32', col);
  },
  /** The base64 encoding of a binary column. */
  base64(col: ColumnOrName): Column {
    return over('base64', col);
  },
  /** Decodes a base64 string to binary. */
  unbase64(col: ColumnOrName): Column {
    return over('unbase64', col);
  },

  // ------------------------------------------------------------------ aggregates
  /** The number of non-NULL values; `'*'` counts rows (`count(1)`). */
  count(col: ColumnOrName): Column {
    return col === '*' ? call('count', litExpr(1)) : over('count', col);
  },
  /** The number of distinct non-NULL combinations of the columns. */
  countDistinct(col: ColumnOrName, ...cols: ColumnOrName[]): Column {
    return new Column(E.fn('count', [col, ...cols].map(colExpr), true));
  },
  /** Same as {@link functions.countDistinct}. */
  count_distinct(col: ColumnOrName, ...cols: ColumnOrName[]): Column {
    return new Column(E.fn('count', [col, ...cols].map(colExpr), true));
  },
  /** The sum. */
  sum(col: ColumnOrName): Column {
    return over('sum', col);
  },
  /** The sum of the distinct values. */
  sum_distinct(col: ColumnOrName): Column {
    return new Column(E.fn('sum', [colExpr(col)], true));
  },
  /** Same as {@link functions.sum_distinct}. */
  sumDistinct(col: ColumnOrName): Column {
    return new Column(E.fn('sum', [colExpr(col)], true));
  },
  /** The mean. */
  avg(col: ColumnOrName): Column {
    return over('avg', col);
  },
  /** The mean (Spark's `avg`). */
  mean(col: ColumnOrName): Column {
    return over('avg', col);
  },
  /** The minimum. */
  min(col: ColumnOrName): Column {
    return over('min', col);
  },
  /** The maximum. */
  max(col: ColumnOrName): Column {
    return over('max', col);
  },
  /** The first value of the group (the first non-NULL with `ignorenulls`). */
  first(col: ColumnOrName, ignorenulls = false): Column {
    return call('first', colExpr(col), litExpr(ignorenulls));
  },
  /** The last value of the group (the last non-NULL with `ignorenulls`). */
  last(col: ColumnOrName, ignorenulls = false): Column {
    return call('last', colExpr(col), litExpr(ignorenulls));
  },
  /** The values as an array (NULLs skipped). */
  collect_list(col: ColumnOrName): Column {
    return over('collect_list', col);
  },
  /** The distinct values as an array (NULLs skipped). */
  collect_set(col: ColumnOrName): Column {
    return over('collect_set', col);
  },
  /** The sample standard deviation. */
  stddev(col: ColumnOrName): Column {
    return over('stddev', col);
  },
  /** Same as {@link functions.stddev} (Spark's `std`). */
  std(col: ColumnOrName): Column {
    return over('std', col);
  },
  /** The sample standard deviation. */
  stddev_samp(col: ColumnOrName): Column {
    return over('stddev_samp', col);
  },
  /** The population standard deviation. */
  stddev_pop(col: ColumnOrName): Column {
    return over('stddev_pop', col);
  },
  /** The sample variance. */
  variance(col: ColumnOrName): Column {
    return over('variance', col);
  },
  /** The sample variance. */
  var_samp(col: ColumnOrName): Column {
    return over('var_samp', col);
  },
  /** The population variance. */
  var_pop(col: ColumnOrName): Column {
    return over('var_pop', col);
  },
  /** An estimate of the number of distinct values (HyperLogLog++, relative error `rsd`). */
  approx_count_distinct(col: ColumnOrName, rsd?: number): Column {
    return rsd === undefined
      ? over('approx_count_distinct', col)
      : call('approx_count_distinct', colExpr(col), litExpr(rsd));
  },
  /** Same as {@link functions.approx_count_distinct}. */
  approxCountDistinct(col: ColumnOrName, rsd?: number): Column {
    return functions.approx_count_distinct(col, rsd);
  },
  /** Approximate percentile(s): `percentage` in [0, 1] or an array of them. */
  percentile_approx(col: ColumnOrName, percentage: unknown, accuracy: unknown = 10000): Column {
    return call('percentile_approx', colExpr(col), colOrLit(percentage), colOrLit(accuracy));
  },
  /** The Pearson correlation coefficient of two columns. */
  corr(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('corr', col1, col2);
  },
  /** The sample covariance of two columns. */
  covar_samp(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('covar_samp', col1, col2);
  },
  /** The population covariance of two columns. */
  covar_pop(col1: ColumnOrName, col2: ColumnOrName): Column {
    return over('covar_pop', col1, col2);
  },
  /** Whether a grouping column is aggregated (1) or not (0), for rollup/cube. */
  grouping(col: ColumnOrName): Column {
    return over('grouping', col);
  },
  /** The grouping id of a rollup/cube row: a bit per grouping column (1: aggregated), the first most significant. */
  grouping_id(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('grouping_id', ...varargs(cols));
  },

  // ------------------------------------------------------------------ math
  /** The absolute value. */
  abs(col: ColumnOrName): Column {
    return over('abs', col);
  },
  /** Rounds half up to `scale` decimal places. */
  round(col: ColumnOrName, scale: unknown = 0): Column {
    return call('round', colExpr(col), colOrLit(scale));
  },
  /** Rounds half to even to `scale` decimal places. */
  bround(col: ColumnOrName, scale: unknown = 0): Column {
    return call('bround', colExpr(col), colOrLit(scale));
  },
  /** The largest integer not above the value. */
  floor(col: ColumnOrName): Column {
    return over('floor', col);
  },
  /** The smallest integer not below the value. */
  ceil(col: ColumnOrName): Column {
    return over('ceil', col);
  },
  /** Same as {@link functions.ceil}. */
  ceiling(col: ColumnOrName): Column {
    return over('ceiling', col);
  },
  /** The square root. */
  sqrt(col: ColumnOrName): Column {
    return over('sqrt', col);
  },
  /** e to the power of the value. */
  exp(col: ColumnOrName): Column {
    return over('exp', col);
  },
  /** `log(col)`: the natural logarithm; `log(base, col)`: the logarithm in `base` (PySpark's order). */
  log(arg1: ColumnOrName | number, arg2?: ColumnOrName): Column {
    if (arg2 === undefined) return call('ln', colOrNumber(arg1));
    return call('log', litExpr(arg1), colExpr(arg2));
  },
  /** The natural logarithm. */
  ln(col: ColumnOrName): Column {
    return over('ln', col);
  },
  /** The base-10 logarithm. */
  log10(col: ColumnOrName): Column {
    return over('log10', col);
  },
  /** The base-2 logarithm. */
  log2(col: ColumnOrName): Column {
    return over('log2', col);
  },
  /** `col1` to the power `col2` (each a column name, a Column or a number). */
  pow(col1: ColumnOrName | number, col2: ColumnOrName | number): Column {
    return call('power', colOrNumber(col1), colOrNumber(col2));
  },
  /** Same as {@link functions.pow}. */
  power(col1: ColumnOrName | number, col2: ColumnOrName | number): Column {
    return call('power', colOrNumber(col1), colOrNumber(col2));
  },
  /** The greatest value, skipping NULLs. */
  greatest(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('greatest', ...varargs(cols));
  },
  /** The least value, skipping NULLs. */
  least(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('least', ...varargs(cols));
  },
  /** -1.0, 0.0 or 1.0 by the sign. */
  signum(col: ColumnOrName): Column {
    return over('signum', col);
  },

  // ------------------------------------------------------------------ strings
  /** Concatenates strings (or arrays). */
  concat(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('concat', ...varargs(cols));
  },
  /** Concatenates with a separator, skipping NULLs. */
  concat_ws(sep: string, ...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return call('concat_ws', litExpr(sep), ...varargs(cols).map(colExpr));
  },
  /** Upper case. */
  upper(col: ColumnOrName): Column {
    return over('upper', col);
  },
  /** Lower case. */
  lower(col: ColumnOrName): Column {
    return over('lower', col);
  },
  /** The number of characters (bytes for binary). */
  length(col: ColumnOrName): Column {
    return over('length', col);
  },
  /** Removes leading and trailing spaces. */
  trim(col: ColumnOrName): Column {
    return over('trim', col);
  },
  /** Removes leading spaces. */
  ltrim(col: ColumnOrName): Column {
    return over('ltrim', col);
  },
  /** Removes trailing spaces. */
  rtrim(col: ColumnOrName): Column {
    return over('rtrim', col);
  },
  /** Left-pads to `len` characters with `pad`. */
  lpad(col: ColumnOrName, len: unknown, pad: unknown): Column {
    return call('lpad', colExpr(col), colOrLit(len), colOrLit(pad));
  },
  /** Right-pads to `len` characters with `pad`. */
  rpad(col: ColumnOrName, len: unknown, pad: unknown): Column {
    return call('rpad', colExpr(col), colOrLit(len), colOrLit(pad));
  },
  /** The substring from 1-based `pos`, `len` characters. */
  substring(col: ColumnOrName, pos: unknown, len: unknown): Column {
    return call('substring', colExpr(col), colOrLit(pos), colOrLit(len));
  },
  /** The 1-based position of `substr` (0 if absent). */
  instr(col: ColumnOrName, substr: unknown): Column {
    return call('instr', colExpr(col), colOrLit(substr));
  },
  /** The group `idx` of the first match of a Java regex (empty string when none). */
  regexp_extract(col: ColumnOrName, pattern: string, idx: number): Column {
    return call('regexp_extract', colExpr(col), litExpr(pattern), litExpr(idx));
  },
  /** Replaces every match of a Java regex (`$1` refers to groups). */
  regexp_replace(col: ColumnOrName, pattern: unknown, replacement: unknown): Column {
    return call('regexp_replace', colExpr(col), colOrLit(pattern), colOrLit(replacement));
  },
  /** Splits around matches of a regex; `limit` > 0 caps the array length. */
  split(col: ColumnOrName, pattern: unknown, limit: unknown = -1): Column {
    return call('split', colExpr(col), colOrLit(pattern), colOrLit(limit));
  },
  /** Capitalizes each word. */
  initcap(col: ColumnOrName): Column {
    return over('initcap', col);
  },
  /** Replaces each character of `matching` by the one at the same place in `replace`. */
  translate(col: ColumnOrName, matching: string, replace: string): Column {
    return call('translate', colExpr(col), litExpr(matching), litExpr(replace));
  },
  /** printf-style formatting. */
  format_string(format: string, ...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return call('format_string', litExpr(format), ...varargs(cols).map(colExpr));
  },
  /** Reverses a string or an array. */
  reverse(col: ColumnOrName): Column {
    return over('reverse', col);
  },
  /** Repeats a string `n` times. */
  repeat(col: ColumnOrName, n: unknown): Column {
    return call('repeat', colExpr(col), colOrLit(n));
  },

  // ------------------------------------------------------------------ dates and times
  /** Today's date. */
  current_date(): Column {
    return call('current_date');
  },
  /** The current timestamp. */
  current_timestamp(): Column {
    return call('current_timestamp');
  },
  /** Converts to a date, with an optional datetime pattern. */
  to_date(col: ColumnOrName, format?: string): Column {
    return format === undefined ? over('to_date', col) : call('to_date', colExpr(col), litExpr(format));
  },
  /** Converts to a timestamp, with an optional datetime pattern. */
  to_timestamp(col: ColumnOrName, format?: string): Column {
    return format === undefined
      ? over('to_timestamp', col)
      : call('to_timestamp', colExpr(col), litExpr(format));
  },
  /** Formats a date or timestamp with a datetime pattern. */
  date_format(col: ColumnOrName, format: string): Column {
    return call('date_format', colExpr(col), litExpr(format));
  },
  /** The year. */
  year(col: ColumnOrName): Column {
    return over('year', col);
  },
  /** The month (1–12). */
  month(col: ColumnOrName): Column {
    return over('month', col);
  },
  /** The day of the month. */
  dayofmonth(col: ColumnOrName): Column {
    return over('dayofmonth', col);
  },
  /** The day of the week (1 = Sunday … 7 = Saturday). */
  dayofweek(col: ColumnOrName): Column {
    return over('dayofweek', col);
  },
  /** The day of the year. */
  dayofyear(col: ColumnOrName): Column {
    return over('dayofyear', col);
  },
  /** The hour. */
  hour(col: ColumnOrName): Column {
    return over('hour', col);
  },
  /** The minute. */
  minute(col: ColumnOrName): Column {
    return over('minute', col);
  },
  /** The second. */
  second(col: ColumnOrName): Column {
    return over('second', col);
  },
  /** The ISO week of the year. */
  weekofyear(col: ColumnOrName): Column {
    return over('weekofyear', col);
  },
  /** The quarter (1–4). */
  quarter(col: ColumnOrName): Column {
    return over('quarter', col);
  },
  /** The date `days` days after `start`. */
  date_add(start: ColumnOrName, days: ColumnOrName | number): Column {
    return call('date_add', colExpr(start), colOrNumber(days));
  },
  /** The date `days` days before `start`. */
  date_sub(start: ColumnOrName, days: ColumnOrName | number): Column {
    return call('date_sub', colExpr(start), colOrNumber(days));
  },
  /** The number of days from `start` to `end`. */
  datediff(end: ColumnOrName, start: ColumnOrName): Column {
    return over('datediff', end, start);
  },
  /** The date `months` months after `start`. */
  add_months(start: ColumnOrName, months: ColumnOrName | number): Column {
    return call('add_months', colExpr(start), colOrNumber(months));
  },
  /** The months between two dates (rounded to 8 digits when `roundOff`). */
  months_between(date1: ColumnOrName, date2: ColumnOrName, roundOff = true): Column {
    return call('months_between', colExpr(date1), colExpr(date2), litExpr(roundOff));
  },
  /** Truncates a timestamp to a unit (`'year'`, `'month'`, `'day'`, `'hour'`…). */
  date_trunc(format: string, timestamp: ColumnOrName): Column {
    return call('date_trunc', litExpr(format), colExpr(timestamp));
  },
  /** Truncates a date to a unit (`'year'`, `'month'`, `'week'`, `'quarter'`). */
  trunc(date: ColumnOrName, format: string): Column {
    return call('trunc', colExpr(date), litExpr(format));
  },
  /** The last day of the month of the date. */
  last_day(date: ColumnOrName): Column {
    return over('last_day', date);
  },
  /** Seconds since the epoch of a time string (or of now, with no argument). */
  unix_timestamp(timestamp?: ColumnOrName, format = 'yyyy-MM-dd HH:mm:ss'): Column {
    const ts = timestamp === undefined ? E.fn('current_timestamp', []) : colExpr(timestamp);
    return call('unix_timestamp', ts, litExpr(format));
  },
  /** Formats seconds since the epoch as a time string. */
  from_unixtime(timestamp: ColumnOrName, format = 'yyyy-MM-dd HH:mm:ss'): Column {
    return call('from_unixtime', colExpr(timestamp), litExpr(format));
  },

  // ------------------------------------------------------------------ collections
  /** An array of the columns' values. */
  array(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('array', ...varargs(cols));
  },
  /** True where the array contains the value. */
  array_contains(col: ColumnOrName, value: unknown): Column {
    return call('array_contains', colExpr(col), colOrLit(value));
  },
  /** The length of an array or map. */
  size(col: ColumnOrName): Column {
    return over('size', col);
  },
  /** One row per element of an array (or entry of a map). */
  explode(col: ColumnOrName): Column {
    return over('explode', col);
  },
  /** Like explode, with one NULL row for an empty or NULL array. */
  explode_outer(col: ColumnOrName): Column {
    return over('explode_outer', col);
  },
  /** One row per element with its position (`pos`, `col`). */
  posexplode(col: ColumnOrName): Column {
    return over('posexplode', col);
  },
  /** Like posexplode, with one NULL row for an empty or NULL array. */
  posexplode_outer(col: ColumnOrName): Column {
    return over('posexplode_outer', col);
  },
  /** The element at a 1-based index (negative from the end) or the value at a map key. */
  element_at(col: ColumnOrName, extraction: unknown): Column {
    return call('element_at', colExpr(col), colOrLit(extraction));
  },
  /** A struct of the columns. */
  struct(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('struct', ...varargs(cols));
  },
  /** A map from alternating key and value columns. */
  create_map(...cols: (ColumnOrName | readonly ColumnOrName[])[]): Column {
    return over('map', ...varargs(cols));
  },
  /** Sorts an array (NULLs first ascending, last descending). */
  sort_array(col: ColumnOrName, asc = true): Column {
    return call('sort_array', colExpr(col), litExpr(asc));
  },
  /** The distinct elements of an array. */
  array_distinct(col: ColumnOrName): Column {
    return over('array_distinct', col);
  },
  /** Joins an array's elements with a delimiter (NULLs skipped unless `null_replacement`). */
  array_join(col: ColumnOrName, delimiter: string, null_replacement?: string): Column {
    return null_replacement === undefined
      ? call('array_join', colExpr(col), litExpr(delimiter))
      : call('array_join', colExpr(col), litExpr(delimiter), litExpr(null_replacement));
  },

  // ------------------------------------------------------------------ window functions
  /** The 1-based row number within the window partition. */
  row_number(): Column {
    return call('row_number');
  },
  /** The rank, with gaps. */
  rank(): Column {
    return call('rank');
  },
  /** The rank, without gaps. */
  dense_rank(): Column {
    return call('dense_rank');
  },
  /** The relative rank (0 to 1). */
  percent_rank(): Column {
    return call('percent_rank');
  },
  /** The cumulative distribution (fraction of rows at or before the row). */
  cume_dist(): Column {
    return call('cume_dist');
  },
  /** The bucket number (1..n) of the row. */
  ntile(n: number): Column {
    return call('ntile', litExpr(n));
  },
  /** The value `offset` rows before the row (`defaultValue` past the start). */
  lag(col: ColumnOrName, offset = 1, defaultValue: unknown = null): Column {
    return call('lag', colExpr(col), litExpr(offset), colOrLit(defaultValue));
  },
  /** The value `offset` rows after the row (`defaultValue` past the end). */
  lead(col: ColumnOrName, offset = 1, defaultValue: unknown = null): Column {
    return call('lead', colExpr(col), litExpr(offset), colOrLit(defaultValue));
  },

  // ------------------------------------------------------------------ user-defined functions
  /**
   * A user-defined function. `fn` runs on the workers: it receives the column values, then `env`
   * as its last parameter, and may use nothing else from the code around it (checked here:
   * {@link CapturedVariableError}). `returnType` is a DataType or a type string (default string).
   */
  udf<E = undefined>(
    fn: (...args: never[]) => unknown,
    returnType: DataType | string = new StringType(),
    env?: E,
  ): UserDefinedFunction {
    const shipped = shipFunction(fn, env, 'F.udf', callSite());
    const type = typeof returnType === 'string' ? parseDataType(returnType) : returnType;
    const name = fn.name && fn.name !== 'anonymous' ? fn.name : '<lambda>';
    const u = (...cols: ColumnOrName[]): Column =>
      new Column({
        type: 'commonInlineUserDefinedFunction',
        functionName: name,
        arguments: cols.map(colExpr),
        fn: shipped,
        returnType: type,
      });
    return Object.assign(u, { func: shipped, returnType: type, functionName: name });
  },
  /**
   * A user-defined function in WebAssembly: the function `name` of an arrow-udf module (RisingWave's
   * ABI, docs/WASM.md) loaded with `sc.wasm`, returning `returnType`. DuckDB's row chunks (up to
   * 2048 rows) go to the guest whole, as Arrow record batches; an overload is chosen by the
   * arguments' types when the plan is analyzed. Throws WasmModuleError if the module has no such
   * function.
   */
  wasmUdf(module: WasmModule, name: string, returnType: DataType | string): UserDefinedFunction {
    if (!(module instanceof WasmModule))
      throw new InvalidOperationError('F.wasmUdf: pass a module loaded with sc.wasm(…)');
    const type = typeof returnType === 'string' ? parseDataType(returnType) : returnType;
    const ret = arrowUdfTypeName(type);
    if (ret === undefined)
      throw new InvalidOperationError(
        `F.wasmUdf: the return type ${type.simpleString()} cannot come back from a WebAssembly UDF (supported: ${ARROW_UDF_TYPES.join(', ')})`,
      );
    const all = module.arrowUdfs;
    if (all.length === 0)
      throw new WasmModuleError(
        `F.wasmUdf: module '${module.name}' is not an arrow-udf module (it exports no ARROWUDF_VERSION_ symbol and no arrowudf_ functions; see docs/WASM.md)`,
        module.name,
        name,
      );
    const candidates = all.filter((u) => u.name === name && !u.table && u.returns === ret);
    const table = all.find((u) => u.name === name && u.table);
    if (candidates.length === 0 && table)
      throw new WasmModuleError(
        `F.wasmUdf: ${table.signature} in module '${module.name}' is an arrow-udf table function (->>), which ` +
          `this engine does not support: F.wasmUdf calls scalar functions (->) only`,
        module.name,
        name,
      );
    if (candidates.length === 0)
      throw new WasmModuleError(
        `F.wasmUdf: module '${module.name}' has no arrow-udf function ${name}(…)->${ret}; it has: ${all.map((u) => u.signature).join(', ')}`,
        module.name,
        name,
      );
    const shipped = shipFunction(
      (signature: string, ipc: Uint8Array, env: { m: WasmHandle }) => env.m.callArrowUdf(signature, ipc),
      { m: module },
      'F.wasmUdf',
      callSite(),
    );
    const arrow = { module: module.name, candidates };
    const u = (...cols: ColumnOrName[]): Column =>
      new Column({
        type: 'commonInlineUserDefinedFunction',
        functionName: name,
        arguments: cols.map(colExpr),
        fn: shipped,
        returnType: type,
        arrow,
      });
    return Object.assign(u, { func: shipped, returnType: type, functionName: name });
  },
};
