/**
 * The function registry: every Spark SQL function and operator the engine knows, with its kind
 * (scalar, aggregate, window), its result type by Spark's rules, and its DuckDB rendering with
 * Spark's semantics (1-based days of week, null-propagating concat, …). The analyzer checks
 * arguments here; the renderer asks for the SQL text.
 */
import { AnalysisException } from '../errors.js';
import type { Expr } from '../plan/logical.js';
import { sparkName } from './naming.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  DataType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  commonType,
  isIntegral,
  isNumeric,
  quoteIdent,
  sqlString,
  widerNumeric,
} from '../types.js';

let lambdaVars = 0;

/**
 * One step of Spark's HashExpression for a value of type `t` (SQL `v`) over the running hash
 * `seed`: the built-in `ms_<fn>_<kind>(value, seed)` (builtins.ts), a NULL value leaving the seed;
 * arrays, maps and structs fold their elements, entries (key, then value) and fields in order.
 */
export function hashStep(fn: 'murmur3' | 'xxhash64', v: string, t: DataType, seed: string): string {
  const step = (kind: string, x: string) => `ms_${fn}_${kind}(${x}, ${seed})`;
  if (t instanceof StringType) return step('string', v);
  if (t instanceof BinaryType) return step('binary', v);
  if (t instanceof LongType) return step('long', v);
  if (t instanceof DoubleType) return step('double', v);
  if (t instanceof FloatType) return step('float', v);
  if (t instanceof BooleanType || isIntegral(t)) return step('int', `CAST(${v} AS INTEGER)`);
  if (t instanceof DateType) return step('int', `CAST(${v} - DATE '1970-01-01' AS INTEGER)`);
  if (t instanceof TimestampType) return step('long', `epoch_us(${v})`);
  if (t instanceof DecimalType) {
    const unscaled = `(CAST(${v} AS DECIMAL(38, ${t.scale})) * CAST(1${'0'.repeat(t.scale)} AS HUGEINT))`;
    return t.precision <= 18
      ? step('long', `CAST(${unscaled} AS BIGINT)`)
      : step('bigdecimal', `CAST(CAST(${unscaled} AS HUGEINT) AS VARCHAR)`);
  }
  if (t instanceof NullType) return seed;
  // DuckDB's list_reduce wants the accumulator of the elements' type: both become {h, v} structs.
  const fold = (list: string, et: DataType, inner: (x: string, h: string) => string): string => {
    const [acc, y] = [`ms_h${++lambdaVars}`, `ms_y${lambdaVars}`];
    const ht = fn === 'murmur3' ? 'INTEGER' : 'BIGINT';
    const wrapped = `list_transform(coalesce(${list}, []), ${y} -> {'h': CAST(NULL AS ${ht}), 'v': ${y}})`;
    const init = `{'h': CAST(${seed} AS ${ht}), 'v': CAST(NULL AS ${et.duckdb()})}`;
    return `list_reduce(${wrapped}, (${acc}, ${y}) -> {'h': ${inner(`${y}.v`, `${acc}.h`)}, 'v': ${y}.v}, ${init}).h`;
  };
  if (t instanceof ArrayType) return fold(v, t.elementType, (x, h) => hashStep(fn, x, t.elementType, h));
  if (t instanceof MapType) {
    const entry = new StructType([new StructField('key', t.keyType), new StructField('value', t.valueType)]);
    return fold(`map_entries(${v})`, entry, (x, h) =>
      hashStep(fn, `${x}.value`, t.valueType, hashStep(fn, `${x}.key`, t.keyType, h)),
    );
  }
  if (t instanceof StructType)
    return t.fields.reduce(
      (s, f) => hashStep(fn, `struct_extract(${v}, ${sqlString(f.name)})`, f.dataType, s),
      seed,
    );
  throw new AnalysisException(
    'DATATYPE_MISMATCH.HASH_MAP_TYPE',
    `[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve "${fn}" due to data type mismatch: the type "${t.simpleString().toUpperCase()}" cannot be hashed.`,
  );
}

function hashChain(
  fn: 'murmur3' | 'xxhash64',
  a: readonly string[],
  args: readonly Expr[],
  seed: string,
): string {
  return a.reduce((s, v, i) => hashStep(fn, v, argType(args, i), s), seed);
}

/** The values a generator gives: an array's elements or a map's values. */
function generatedType(args: readonly Expr[]): DataType {
  const t = argType(args, 0);
  return t instanceof ArrayType ? t.elementType : t instanceof MapType ? t.valueType : new NullType();
}

/** The number of elements of an array or entries of a map. */
function sizeOf(a: string, args: readonly Expr[]): string {
  return argType(args, 0) instanceof MapType ? `CAST(cardinality(${a}) AS BIGINT)` : `len(${a})`;
}

/** The list a generator unnests (one NULL for an empty or NULL input when `outer`). */
function generatorValues(a: string, args: readonly Expr[], outer: boolean): string {
  const isMap = argType(args, 0) instanceof MapType;
  const values = isMap ? `map_values(${a})` : a;
  if (!outer) return values;
  return `(CASE WHEN ${sizeOf(a, args)} > 0 THEN ${values} ELSE [NULL] END)`;
}

/** What kind of function a name is. */
export type FunctionKind = 'scalar' | 'agg' | 'window' | 'generator';

/** One registered function. */
export interface FunctionSpec {
  readonly kind: FunctionKind;
  /** Allowed argument counts [min, max]. */
  readonly arity: readonly [number, number];
  /** The result type from the argument types (throws AnalysisException on a mismatch). */
  readonly type: (args: readonly Expr[], name: string) => DataType;
  /** DuckDB SQL from the rendered arguments. */
  readonly render: (a: readonly string[], args: readonly Expr[], distinct: boolean) => string;
  /** Null in, null out (default true for scalar functions). */
  readonly nullIntolerant?: boolean;
}

const STRING = new StringType();
const BOOL = new BooleanType();
const LONG = new LongType();
const INT = new IntegerType();
const DOUBLE = new DoubleType();
const DATE = new DateType();
const TIMESTAMP = new TimestampType();

function mismatch(name: string, detail: string): never {
  throw new AnalysisException(
    'DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE',
    `[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve "${name}" due to data type mismatch: ${detail}.`,
    { sqlExpr: name },
  );
}

function argType(args: readonly Expr[], i: number): DataType {
  return args[i]?.type ?? new NullType();
}

function numericArg(args: readonly Expr[], name: string, i = 0): DataType {
  const t = argType(args, i);
  if (t instanceof NullType || isNumeric(t)) return t;
  if (t instanceof StringType) return DOUBLE;
  mismatch(
    name,
    `parameter ${i + 1} requires the "NUMERIC" type, however "${args[i] ? describe(args[i]) : ''}" has the type "${t.simpleString().toUpperCase()}"`,
  );
}

function describe(e: Expr): string {
  return e.k === 'ref' ? e.name : e.k === 'lit' ? String(e.value) : e.k;
}

const same = (i: number) => (args: readonly Expr[]) => argType(args, i);
const fixed = (t: DataType) => () => t;
const call = (fn: string) => (a: readonly string[]) => `${fn}(${a.join(', ')})`;

function arith(op: string): FunctionSpec {
  return {
    kind: 'scalar',
    arity: [2, 2],
    type: (args, name) => {
      const a = argType(args, 0);
      const b = argType(args, 1);
      if ((a instanceof DateType || a instanceof TimestampType) && (op === '+' || op === '-')) {
        if (b instanceof DateType && op === '-') return INT;
        return a;
      }
      const operand = (t: DataType): boolean =>
        t instanceof NullType || t instanceof StringType || isNumeric(t);
      if (!operand(a) || !operand(b)) {
        const sql = `"(${args[0] ? sparkName(args[0]) : ''} ${op} ${args[1] ? sparkName(args[1]) : ''})"`;
        const [l, r] = [`"${a.simpleString().toUpperCase()}"`, `"${b.simpleString().toUpperCase()}"`];
        throw new AnalysisException(
          'DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES',
          `[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve ${sql} due to data type mismatch: the left and right operands of the binary operator have incompatible types (${l} and ${r}).`,
          { sqlExpr: sql, left: l, right: r },
        );
      }
      const na = numericArg(args, name, 0);
      const nb = numericArg(args, name, 1);
      if (op === '/') {
        if (na instanceof DecimalType || nb instanceof DecimalType) {
          return na instanceof DoubleType || nb instanceof DoubleType ? DOUBLE : DOUBLE;
        }
        return DOUBLE;
      }
      if (na instanceof DecimalType && nb instanceof DecimalType) {
        // Spark's decimal arithmetic: the result's precision and scale, capped at 38.
        const [p1, s1, p2, s2] = [na.precision, na.scale, nb.precision, nb.scale];
        if (op === '*') return new DecimalType(Math.min(38, p1 + p2 + 1), Math.min(38, s1 + s2));
        const sc = Math.max(s1, s2);
        return new DecimalType(Math.min(38, Math.max(p1 - s1, p2 - s2) + sc + 1), sc);
      }
      return widerNumeric(na, nb);
    },
    render: (a, args) => {
      // A zero divisor gives NULL (Spark without ANSI; the ansi_ variant raises DIVIDE_BY_ZERO).
      if (op === '/') return `(CAST(${a[0]} AS DOUBLE) / nullif(${a[1]}, 0))`;
      if (op === '-' && argType(args, 0) instanceof DateType && argType(args, 1) instanceof DateType)
        return `CAST(${a[0]} - ${a[1]} AS INTEGER)`;
      if (
        (op === '+' || op === '-') &&
        argType(args, 0) instanceof DateType &&
        !(argType(args, 1) instanceof DateType)
      )
        return `CAST(${a[0]} ${op} ${a[1]} AS DATE)`;
      return `(${a[0]} ${op} ${a[1]})`;
    },
  };
}

function compare(op: string): FunctionSpec {
  return {
    kind: 'scalar',
    arity: [2, 2],
    type: (args, name) => {
      const a = argType(args, 0);
      const b = argType(args, 1);
      if (
        !commonType(a, b) &&
        !(isNumeric(a) && b instanceof StringType) &&
        !(a instanceof StringType && isNumeric(b)) &&
        !((a instanceof DateType || a instanceof TimestampType) && b instanceof StringType) &&
        !(a instanceof StringType && (b instanceof DateType || b instanceof TimestampType))
      )
        mismatch(
          name,
          `the left and right operands of the binary operator have incompatible types ("${a.simpleString().toUpperCase()}" and "${b.simpleString().toUpperCase()}")`,
        );
      return BOOL;
    },
    render: (a) => `(${a[0]} ${op} ${a[1]})`,
    nullIntolerant: op !== 'IS NOT DISTINCT FROM',
  };
}

function agg(
  type: (args: readonly Expr[], name: string) => DataType,
  render: FunctionSpec['render'],
  arity: [number, number] = [1, 1],
): FunctionSpec {
  return { kind: 'agg', arity, type, render };
}

const d = (distinct: boolean) => (distinct ? 'DISTINCT ' : '');

/** percentile_approx's type: the input's, or an array of it for an array of percentages. */
function percentileType(args: readonly Expr[]): DataType {
  const p = argType(args, 1);
  return p instanceof ArrayType ? new ArrayType(argType(args, 0), false) : argType(args, 0);
}

/**
 * percentile_approx as Spark answers it when the accuracy covers the data: the smallest value
 * whose rank is at least `p * n` (the element at 1-based rank ceil(p * n) of the sorted values).
 */
function renderPercentile(a: readonly string[], args: readonly Expr[]): string {
  const p = args[1];
  const sorted = `list_sort(list(${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL))`;
  const at = (q: string) => `${sorted}[CAST(greatest(1, ceil(${q} * count(${a[0]}))) AS BIGINT)]`;
  if (p?.k === 'lit' && Array.isArray(p.value))
    return `list_value(${(p.value as unknown[]).map((q) => at(String(q))).join(', ')})`;
  return at(a[1]!);
}

/** The first argument as bytes: a binary as it is, anything else as its text's UTF-8 (Spark's cast). */
function bytesArg(a: readonly string[], args: readonly Expr[]): string {
  return argType(args, 0) instanceof BinaryType ? a[0]! : `encode(CAST(${a[0]} AS VARCHAR))`;
}

function sumType(args: readonly Expr[], name: string): DataType {
  const t = numericArg(args, name);
  if (isIntegral(t) || t instanceof NullType) return LONG;
  if (t instanceof DecimalType) return new DecimalType(Math.min(38, t.precision + 10), t.scale);
  return DOUBLE;
}

function avgType(args: readonly Expr[], name: string): DataType {
  numericArg(args, name);
  return DOUBLE;
}

function windowFn(
  type: (args: readonly Expr[]) => DataType,
  render: FunctionSpec['render'],
  arity: [number, number] = [0, 0],
): FunctionSpec {
  return { kind: 'window', arity, type, render };
}

/** Spark's date-time pattern (`yyyy-MM-dd HH:mm:ss`) as a strftime format (`%Y-%m-%d %H:%M:%S`). */
export function sparkPatternToStrftime(p: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === "'") {
      const end = p.indexOf("'", i + 1);
      const lit = end < 0 ? p.slice(i + 1) : p.slice(i + 1, end);
      out += lit.length === 0 ? "'" : lit.replace(/%/g, '%%');
      i = end < 0 ? p.length : end + 1;
      continue;
    }
    let j = i;
    while (j < p.length && p[j] === c) j++;
    const n = j - i;
    const map: Record<string, string> = {
      y: n === 2 ? '%y' : '%Y',
      M: n >= 4 ? '%B' : n === 3 ? '%b' : '%m',
      d: '%d',
      H: '%H',
      h: '%I',
      m: '%M',
      s: '%S',
      S: '%g',
      a: '%p',
      E: n >= 4 ? '%A' : '%a',
      D: '%j',
      Z: '%z',
      z: '%Z',
    };
    out += /[A-Za-z]/.test(c) ? (map[c] ?? c.repeat(n)) : c === '%' ? '%%' : c.repeat(n);
    i = j;
  }
  return out;
}

function strLit(e: Expr | undefined): string | undefined {
  return e?.k === 'lit' && typeof e.value === 'string' ? e.value : undefined;
}

const S: Record<string, FunctionSpec> = {
  '+': arith('+'),
  '-': arith('-'),
  '*': arith('*'),
  '/': arith('/'),
  '%': { ...arith('%'), render: (a) => `(${a[0]} % nullif(${a[1]}, 0))` },
  pmod: {
    ...arith('%'),
    render: (a) =>
      `(CASE WHEN (${a[0]} % ${a[1]}) < 0 THEN (${a[0]} % ${a[1]}) + ${a[1]} ELSE ${a[0]} % ${a[1]} END)`,
  },
  div: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(LONG),
    render: (a) => `CAST(trunc(CAST(${a[0]} AS DOUBLE) / nullif(${a[1]}, 0)) AS BIGINT)`,
  },
  negative: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args, n) => numericArg(args, n),
    render: (a) => `(- ${a[0]})`,
  },
  positive: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args, n) => numericArg(args, n),
    render: (a) => `(${a[0]})`,
  },
  '==': compare('='),
  '!=': compare('<>'),
  '<': compare('<'),
  '<=': compare('<='),
  '>': compare('>'),
  '>=': compare('>='),
  '<=>': compare('IS NOT DISTINCT FROM'),
  and: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} AND ${a[1]})`,
    nullIntolerant: false,
  },
  or: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} OR ${a[1]})`,
    nullIntolerant: false,
  },
  not: { kind: 'scalar', arity: [1, 1], type: fixed(BOOL), render: (a) => `(NOT ${a[0]})` },
  isnull: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} IS NULL)`,
    nullIntolerant: false,
  },
  isnotnull: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} IS NOT NULL)`,
    nullIntolerant: false,
  },
  isnan: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(BOOL),
    render: (a) => `coalesce(isnan(CAST(${a[0]} AS DOUBLE)), false)`,
    nullIntolerant: false,
  },
  istrue: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} IS TRUE)`,
    nullIntolerant: false,
  },
  isfalse: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} IS FALSE)`,
    nullIntolerant: false,
  },
  in: {
    kind: 'scalar',
    arity: [1, 10000],
    type: fixed(BOOL),
    render: (a) => (a.length === 1 ? 'FALSE' : `(${a[0]} IN (${a.slice(1).join(', ')}))`),
  },
  between: {
    kind: 'scalar',
    arity: [3, 3],
    type: fixed(BOOL),
    render: (a) => `(${a[0]} BETWEEN ${a[1]} AND ${a[2]})`,
  },
  like: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(BOOL),
    render: (a) => (a.length === 3 ? `(${a[0]} LIKE ${a[1]} ESCAPE ${a[2]})` : `(${a[0]} LIKE ${a[1]})`),
  },
  ilike: { kind: 'scalar', arity: [2, 3], type: fixed(BOOL), render: (a) => `(${a[0]} ILIKE ${a[1]})` },
  rlike: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(BOOL),
    render: (a) => `regexp_matches(${a[0]}, ${a[1]})`,
  },
  regexp: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(BOOL),
    render: (a) => `regexp_matches(${a[0]}, ${a[1]})`,
  },
  startswith: { kind: 'scalar', arity: [2, 2], type: fixed(BOOL), render: call('starts_with') },
  endswith: { kind: 'scalar', arity: [2, 2], type: fixed(BOOL), render: call('ends_with') },
  contains: { kind: 'scalar', arity: [2, 2], type: fixed(BOOL), render: call('contains') },
  '&': { kind: 'scalar', arity: [2, 2], type: same(0), render: (a) => `(${a[0]} & ${a[1]})` },
  '|': { kind: 'scalar', arity: [2, 2], type: same(0), render: (a) => `(${a[0]} | ${a[1]})` },
  '^': { kind: 'scalar', arity: [2, 2], type: same(0), render: (a) => `xor(${a[0]}, ${a[1]})` },
  '~': { kind: 'scalar', arity: [1, 1], type: same(0), render: (a) => `(~ ${a[0]})` },
  coalesce: {
    kind: 'scalar',
    arity: [1, 1000],
    type: (args, n) =>
      args.reduce<DataType>(
        (t, e) => commonType(t, e.type) ?? mismatch(n, 'the arguments have no common type'),
        new NullType(),
      ),
    render: call('coalesce'),
    nullIntolerant: false,
  },
  nvl: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => commonType(argType(args, 0), argType(args, 1)) ?? argType(args, 0),
    render: call('coalesce'),
    nullIntolerant: false,
  },
  ifnull: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => commonType(argType(args, 0), argType(args, 1)) ?? argType(args, 0),
    render: call('coalesce'),
    nullIntolerant: false,
  },
  nullif: { kind: 'scalar', arity: [2, 2], type: same(0), render: call('nullif'), nullIntolerant: false },
  nanvl: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DOUBLE),
    render: (a) => `(CASE WHEN isnan(${a[0]}) THEN ${a[1]} ELSE ${a[0]} END)`,
  },
  if: {
    kind: 'scalar',
    arity: [3, 3],
    type: (args) => commonType(argType(args, 1), argType(args, 2)) ?? argType(args, 1),
    render: (a) => `(CASE WHEN ${a[0]} THEN ${a[1]} ELSE ${a[2]} END)`,
    nullIntolerant: false,
  },
  date_plus_interval: {
    kind: 'scalar',
    arity: [2, 2],
    type: same(0),
    render: (a, args) => `CAST(${a[0]} + ${a[1]} AS ${argType(args, 0).duckdb()})`,
  },
  date_minus_interval: {
    kind: 'scalar',
    arity: [2, 2],
    type: same(0),
    render: (a, args) => `CAST(${a[0]} - ${a[1]} AS ${argType(args, 0).duckdb()})`,
  },
  // math
  abs: { kind: 'scalar', arity: [1, 1], type: (args, n) => numericArg(args, n), render: call('abs') },
  round: {
    kind: 'scalar',
    arity: [1, 2],
    type: (args, n) => numericArg(args, n),
    render: (a) => `round(${a[0]}, ${a[1] ?? 0})`,
  },
  bround: {
    kind: 'scalar',
    arity: [1, 2],
    type: (args, n) => numericArg(args, n),
    render: (a) => `round_even(${a[0]}, ${a[1] ?? 0})`,
  },
  floor: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args) => (argType(args, 0) instanceof DecimalType ? argType(args, 0) : LONG),
    render: (a, args) =>
      argType(args, 0) instanceof DecimalType ? `floor(${a[0]})` : `CAST(floor(${a[0]}) AS BIGINT)`,
  },
  ceil: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args) => (argType(args, 0) instanceof DecimalType ? argType(args, 0) : LONG),
    render: (a, args) =>
      argType(args, 0) instanceof DecimalType ? `ceil(${a[0]})` : `CAST(ceil(${a[0]}) AS BIGINT)`,
  },
  sqrt: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DOUBLE),
    render: (a) => `(CASE WHEN ${a[0]} < 0 THEN 'NaN'::DOUBLE ELSE sqrt(${a[0]}) END)`,
  },
  cbrt: { kind: 'scalar', arity: [1, 1], type: fixed(DOUBLE), render: call('cbrt') },
  exp: { kind: 'scalar', arity: [1, 1], type: fixed(DOUBLE), render: call('exp') },
  ln: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DOUBLE),
    render: (a) => `(CASE WHEN ${a[0]} <= 0 THEN NULL ELSE ln(${a[0]}) END)`,
  },
  log: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(DOUBLE),
    render: (a) =>
      a.length === 1
        ? `(CASE WHEN ${a[0]} <= 0 THEN NULL ELSE ln(${a[0]}) END)`
        : `(CASE WHEN ${a[1]} <= 0 OR ${a[0]} <= 0 THEN NULL ELSE ln(${a[1]}) / ln(${a[0]}) END)`,
  },
  log10: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DOUBLE),
    render: (a) => `(CASE WHEN ${a[0]} <= 0 THEN NULL ELSE log10(${a[0]}) END)`,
  },
  log2: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DOUBLE),
    render: (a) => `(CASE WHEN ${a[0]} <= 0 THEN NULL ELSE log2(${a[0]}) END)`,
  },
  pow: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DOUBLE),
    render: (a) => `pow(CAST(${a[0]} AS DOUBLE), ${a[1]})`,
  },
  power: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DOUBLE),
    render: (a) => `pow(CAST(${a[0]} AS DOUBLE), ${a[1]})`,
  },
  signum: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DOUBLE),
    render: (a) => `CAST(sign(${a[0]}) AS DOUBLE)`,
  },
  greatest: {
    kind: 'scalar',
    arity: [2, 1000],
    type: (args, n) =>
      args.reduce<DataType>(
        (t, e) => commonType(t, e.type) ?? mismatch(n, 'the arguments have no common type'),
        new NullType(),
      ),
    render: call('greatest'),
    nullIntolerant: false,
  },
  least: {
    kind: 'scalar',
    arity: [2, 1000],
    type: (args, n) =>
      args.reduce<DataType>(
        (t, e) => commonType(t, e.type) ?? mismatch(n, 'the arguments have no common type'),
        new NullType(),
      ),
    render: call('least'),
    nullIntolerant: false,
  },
  rand: {
    kind: 'scalar',
    arity: [0, 1],
    type: fixed(DOUBLE),
    render: () => 'random()',
    nullIntolerant: false,
  },
  // strings
  concat: {
    kind: 'scalar',
    arity: [0, 1000],
    // Arrays concatenate as arrays (NULL if any is NULL), anything else as strings.
    type: (args) =>
      args.length > 0 && args.every((x) => x.type instanceof ArrayType) ? argType(args, 0) : STRING,
    render: (a, args) => {
      if (a.length === 0) return "''";
      if (args.every((x) => x.type instanceof ArrayType))
        return `(CASE WHEN ${a.map((x) => `${x} IS NULL`).join(' OR ')} THEN NULL ELSE ${a.reduce((x, y) => `list_concat(${x}, ${y})`)} END)`;
      return `(${a.map((x) => `CAST(${x} AS VARCHAR)`).join(' || ')})`;
    },
  },
  concat_ws: {
    kind: 'scalar',
    arity: [1, 1000],
    type: fixed(STRING),
    render: call('concat_ws'),
    nullIntolerant: false,
  },
  upper: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('upper') },
  ucase: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('upper') },
  lower: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('lower') },
  lcase: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('lower') },
  length: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(length(${a[0]}) AS INTEGER)`,
  },
  char_length: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(length(${a[0]}) AS INTEGER)`,
  },
  trim: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(STRING),
    render: (a) => (a.length === 2 ? `trim(${a[0]}, ${a[1]})` : `trim(${a[0]}, ' ')`),
  },
  ltrim: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(STRING),
    render: (a) => (a.length === 2 ? `ltrim(${a[0]}, ${a[1]})` : `ltrim(${a[0]}, ' ')`),
  },
  rtrim: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(STRING),
    render: (a) => (a.length === 2 ? `rtrim(${a[0]}, ${a[1]})` : `rtrim(${a[0]}, ' ')`),
  },
  lpad: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) => `lpad(${a[0]}, ${a[1]}, ${a[2] ?? "' '"})`,
  },
  rpad: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) => `rpad(${a[0]}, ${a[1]}, ${a[2] ?? "' '"})`,
  },
  substring: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    // Spark: position 0 means 1; a negative position counts from the end.
    render: (a) =>
      `substring(${a[0]}, (CASE WHEN ${a[1]} = 0 THEN 1 ELSE ${a[1]} END)${a[2] ? `, ${a[2]}` : ''})`,
  },
  substr: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) =>
      `substring(${a[0]}, (CASE WHEN ${a[1]} = 0 THEN 1 ELSE ${a[1]} END)${a[2] ? `, ${a[2]}` : ''})`,
  },
  left: { kind: 'scalar', arity: [2, 2], type: fixed(STRING), render: call('left') },
  right: { kind: 'scalar', arity: [2, 2], type: fixed(STRING), render: call('right') },
  instr: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(INT),
    render: (a) => `CAST(instr(${a[0]}, ${a[1]}) AS INTEGER)`,
  },
  locate: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(INT),
    render: (a) => `CAST(instr(${a[1]}, ${a[0]}) AS INTEGER)`,
  },
  position: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(INT),
    render: (a) => `CAST(instr(${a[1]}, ${a[0]}) AS INTEGER)`,
  },
  regexp_extract: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) => `regexp_extract(${a[0]}, ${a[1]}, ${a[2] ?? 1})`,
  },
  regexp_replace: {
    kind: 'scalar',
    arity: [3, 3],
    type: fixed(STRING),
    // Spark's replacement refers to groups as $1; RE2 (DuckDB) as \1.
    render: (a, args) => {
      const r = strLit(args[2]);
      const rep = r !== undefined ? sqlString(r.replace(/\\/g, '\\\\').replace(/\$(\d)/g, '\\$1')) : a[2];
      return `regexp_replace(${a[0]}, ${a[1]}, ${rep}, 'g')`;
    },
  },
  split: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(new ArrayType(STRING)),
    // Without a positive limit RE2's split is Java's; with one, Java's String.split (builtins.ts).
    render: (a, args) => {
      const l = args[2];
      if (!l || (l.k === 'lit' && typeof l.value === 'number' && l.value <= 0))
        return `regexp_split_to_array(${a[0]}, ${a[1]})`;
      return `ms_split(${a[0]}, ${a[1]}, CAST(${a[2]} AS INTEGER))`;
    },
  },
  initcap: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(STRING),
    render: (a) =>
      `array_to_string(list_transform(string_split(lower(${a[0]}), ' '), w -> upper(w[1]) || w[2:]), ' ')`,
  },
  translate: { kind: 'scalar', arity: [3, 3], type: fixed(STRING), render: call('translate') },
  format_string: { kind: 'scalar', arity: [1, 1000], type: fixed(STRING), render: call('printf') },
  printf: { kind: 'scalar', arity: [1, 1000], type: fixed(STRING), render: call('printf') },
  reverse: {
    kind: 'scalar',
    arity: [1, 1],
    type: same(0),
    render: (a, args) =>
      argType(args, 0) instanceof ArrayType ? `list_reverse(${a[0]})` : `reverse(${a[0]})`,
  },
  repeat: { kind: 'scalar', arity: [2, 2], type: fixed(STRING), render: call('repeat') },
  replace: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) => `replace(${a[0]}, ${a[1]}, ${a[2] ?? "''"})`,
  },
  ascii: { kind: 'scalar', arity: [1, 1], type: fixed(INT), render: call('ascii') },
  md5: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('md5') },
  sha1: { kind: 'scalar', arity: [1, 1], type: fixed(STRING), render: call('sha1') },
  sha2: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(STRING),
    // 224, 256 (or 0), 384 and 512 bits; another length is NULL (builtins.ts).
    render: (a, args) => `ms_sha2(${bytesArg(a, args)}, CAST(${a[1]} AS INTEGER))`,
  },
  hash: {
    kind: 'scalar',
    arity: [1, 1000],
    type: fixed(INT),
    render: (a, args) => hashChain('murmur3', a, args, '42'),
    nullIntolerant: false,
  },
  xxhash64: {
    kind: 'scalar',
    arity: [1, 1000],
    type: fixed(LONG),
    render: (a, args) => hashChain('xxhash64', a, args, 'CAST(42 AS BIGINT)'),
    nullIntolerant: false,
  },
  crc32: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(LONG),
    render: (a, args) => `ms_crc32(${bytesArg(a, args)})`,
  },
  unbase64: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(new BinaryType()),
    render: (a) => `from_base64(${a[0]})`,
  },
  base64: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(STRING),
    render: (a) => `to_base64(CAST(${a[0]} AS BLOB))`,
  },
  typeof: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(STRING),
    render: (_a, args) => sqlString(argType(args, 0).simpleString()),
    nullIntolerant: false,
  },
  // dates
  current_date: {
    kind: 'scalar',
    arity: [0, 0],
    type: fixed(DATE),
    render: () => 'current_date',
    nullIntolerant: false,
  },
  current_timestamp: {
    kind: 'scalar',
    arity: [0, 0],
    type: fixed(TIMESTAMP),
    render: () => 'CAST(current_timestamp AS TIMESTAMP)',
    nullIntolerant: false,
  },
  now: {
    kind: 'scalar',
    arity: [0, 0],
    type: fixed(TIMESTAMP),
    render: () => 'CAST(current_timestamp AS TIMESTAMP)',
    nullIntolerant: false,
  },
  to_date: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(DATE),
    render: (a, args) => {
      const f = strLit(args[1]);
      return f === undefined
        ? `TRY_CAST(${a[0]} AS DATE)`
        : `CAST(try_strptime(${a[0]}, ${sqlString(sparkPatternToStrftime(f))}) AS DATE)`;
    },
  },
  to_timestamp: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(TIMESTAMP),
    render: (a, args) => {
      const f = strLit(args[1]);
      return f === undefined
        ? `TRY_CAST(${a[0]} AS TIMESTAMP)`
        : `CAST(try_strptime(${a[0]}, ${sqlString(sparkPatternToStrftime(f))}) AS TIMESTAMP)`;
    },
  },
  date_format: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(STRING),
    render: (a, args) => {
      const f = strLit(args[1]);
      return `strftime(CAST(${a[0]} AS TIMESTAMP), ${f !== undefined ? sqlString(sparkPatternToStrftime(f)) : a[1]})`;
    },
  },
  year: { kind: 'scalar', arity: [1, 1], type: fixed(INT), render: (a) => `CAST(year(${a[0]}) AS INTEGER)` },
  quarter: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(quarter(${a[0]}) AS INTEGER)`,
  },
  month: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(month(${a[0]}) AS INTEGER)`,
  },
  day: { kind: 'scalar', arity: [1, 1], type: fixed(INT), render: (a) => `CAST(day(${a[0]}) AS INTEGER)` },
  dayofmonth: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(day(${a[0]}) AS INTEGER)`,
  },
  dayofweek: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(dayofweek(${a[0]}) + 1 AS INTEGER)`,
  },
  dayofyear: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(dayofyear(${a[0]}) AS INTEGER)`,
  },
  weekofyear: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(weekofyear(${a[0]}) AS INTEGER)`,
  },
  hour: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(hour(CAST(${a[0]} AS TIMESTAMP)) AS INTEGER)`,
  },
  minute: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(minute(CAST(${a[0]} AS TIMESTAMP)) AS INTEGER)`,
  },
  second: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(second(CAST(${a[0]} AS TIMESTAMP)) AS INTEGER)`,
  },
  date_add: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DATE),
    render: (a) => `CAST(CAST(${a[0]} AS DATE) + to_days(CAST(${a[1]} AS INTEGER)) AS DATE)`,
  },
  date_sub: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DATE),
    render: (a) => `CAST(CAST(${a[0]} AS DATE) - to_days(CAST(${a[1]} AS INTEGER)) AS DATE)`,
  },
  datediff: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(INT),
    render: (a) => `CAST(date_diff('day', CAST(${a[1]} AS DATE), CAST(${a[0]} AS DATE)) AS INTEGER)`,
  },
  add_months: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DATE),
    render: (a) => `CAST(CAST(${a[0]} AS DATE) + to_months(CAST(${a[1]} AS INTEGER)) AS DATE)`,
  },
  months_between: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(DOUBLE),
    render: (a, args) => {
      // Spark's DateTimeUtils.monthsBetween: whole months when the days of month are equal or both
      // are month ends, else the month difference plus the time difference over 31 days.
      const t1 = `CAST(${a[0]} AS TIMESTAMP)`;
      const t2 = `CAST(${a[1]} AS TIMESTAMP)`;
      const months = `((year(${t1}) * 12 + month(${t1})) - (year(${t2}) * 12 + month(${t2})))`;
      const secs = (t: string) => `(epoch(${t}) - epoch(date_trunc('day', ${t})))`;
      const whole = `(day(${t1}) = day(${t2}) OR (CAST(${t1} AS DATE) = last_day(CAST(${t1} AS DATE)) AND CAST(${t2} AS DATE) = last_day(CAST(${t2} AS DATE))))`;
      const frac = `(CAST(${months} AS DOUBLE) + ((day(${t1}) - day(${t2})) * 86400 + ${secs(t1)} - ${secs(t2)}) / 2678400.0)`;
      const value = `(CASE WHEN ${whole} THEN CAST(${months} AS DOUBLE) ELSE ${frac} END)`;
      return args[2]?.k === 'lit' && args[2].value === false ? value : `round(${value}, 8)`;
    },
  },
  last_day: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(DATE),
    render: (a) => `last_day(CAST(${a[0]} AS DATE))`,
  },
  date_trunc: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(TIMESTAMP),
    render: (a) => `CAST(date_trunc(lower(${a[0]}), CAST(${a[1]} AS TIMESTAMP)) AS TIMESTAMP)`,
  },
  trunc: {
    kind: 'scalar',
    arity: [2, 2],
    type: fixed(DATE),
    render: (a) => `CAST(date_trunc(lower(${a[1]}), CAST(${a[0]} AS DATE)) AS DATE)`,
  },
  unix_timestamp: {
    kind: 'scalar',
    arity: [0, 2],
    type: fixed(LONG),
    render: (a, args) => {
      if (a.length === 0) return 'CAST(epoch(current_timestamp) AS BIGINT)';
      const t = argType(args, 0);
      if (t instanceof StringType) {
        const f = strLit(args[1]) ?? 'yyyy-MM-dd HH:mm:ss';
        return `CAST(epoch(try_strptime(${a[0]}, ${sqlString(sparkPatternToStrftime(f))})) AS BIGINT)`;
      }
      return `CAST(epoch(CAST(${a[0]} AS TIMESTAMP)) AS BIGINT)`;
    },
  },
  from_unixtime: {
    kind: 'scalar',
    arity: [1, 2],
    type: fixed(STRING),
    render: (a, args) =>
      `strftime(to_timestamp(${a[0]}), ${sqlString(sparkPatternToStrftime(strLit(args[1]) ?? 'yyyy-MM-dd HH:mm:ss'))})`,
  },
  extract: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => (strLit(args[0])?.toLowerCase() === 'second' ? new DecimalType(8, 6) : INT),
    render: (a, args) => {
      const f = (strLit(args[0]) ?? 'year').toLowerCase();
      if (f === 'dayofweek' || f === 'dow') return `CAST(dayofweek(${a[1]}) + 1 AS INTEGER)`;
      return `CAST(date_part(${sqlString(f)}, ${a[1]}) AS INTEGER)`;
    },
  },
  // collections
  array: {
    kind: 'scalar',
    arity: [0, 10000],
    type: (args, n) =>
      new ArrayType(
        args.reduce<DataType>(
          (t, e) => commonType(t, e.type) ?? mismatch(n, 'the elements have no common type'),
          new NullType(),
        ),
      ),
    render: (a) => `list_value(${a.join(', ')})`,
    nullIntolerant: false,
  },
  array_contains: { kind: 'scalar', arity: [2, 2], type: fixed(BOOL), render: call('list_contains') },
  size: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(coalesce(len(${a[0]}), -1) AS INTEGER)`,
    nullIntolerant: false,
  },
  cardinality: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(INT),
    render: (a) => `CAST(coalesce(len(${a[0]}), -1) AS INTEGER)`,
    nullIntolerant: false,
  },
  element_at: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => {
      const t = argType(args, 0);
      return t instanceof ArrayType ? t.elementType : t instanceof MapType ? t.valueType : new NullType();
    },
    render: (a, args) =>
      argType(args, 0) instanceof MapType ? `${a[0]}[${a[1]}]` : `list_extract(${a[0]}, ${a[1]})`,
  },
  sort_array: {
    kind: 'scalar',
    arity: [1, 2],
    type: same(0),
    render: (a, args) =>
      args[1]?.k === 'lit' && args[1].value === false
        ? `list_sort(${a[0]}, 'DESC', 'NULLS LAST')`
        : `list_sort(${a[0]}, 'ASC', 'NULLS FIRST')`,
  },
  // The first occurrence of each element, in order (one NULL kept), as Spark's array_distinct.
  array_distinct: {
    kind: 'scalar',
    arity: [1, 1],
    type: same(0),
    render: (a) => `list_filter(${a[0]}, (x, i) -> list_position(${a[0]}, x) = i)`,
  },
  array_join: {
    kind: 'scalar',
    arity: [2, 3],
    type: fixed(STRING),
    render: (a) =>
      a[2] === undefined
        ? `array_to_string(${a[0]}, ${a[1]})`
        : `array_to_string(list_transform(${a[0]}, x -> coalesce(CAST(x AS VARCHAR), ${a[2]})), ${a[1]})`,
  },
  // `get(array, i)`: the 0-based element, NULL out of bounds (negative included).
  get: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => {
      const t = argType(args, 0);
      return t instanceof ArrayType ? t.elementType : new NullType();
    },
    render: (a) => `(CASE WHEN ${a[1]} < 0 THEN NULL ELSE list_extract(${a[0]}, ${a[1]} + 1) END)`,
  },
  array_max: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args) => (argType(args, 0) as ArrayType).elementType ?? new NullType(),
    render: call('list_max'),
  },
  array_min: {
    kind: 'scalar',
    arity: [1, 1],
    type: (args) => (argType(args, 0) as ArrayType).elementType ?? new NullType(),
    render: call('list_min'),
  },
  create_map: {
    kind: 'scalar',
    arity: [0, 10000],
    type: (args) => new MapType(argType(args, 0), argType(args, 1)),
    render: (a) =>
      `map(list_value(${a.filter((_, i) => i % 2 === 0).join(', ')}), list_value(${a.filter((_, i) => i % 2 === 1).join(', ')}))`,
    nullIntolerant: false,
  },
  map: {
    kind: 'scalar',
    arity: [0, 10000],
    type: (args) => new MapType(argType(args, 0), argType(args, 1)),
    render: (a) =>
      `map(list_value(${a.filter((_, i) => i % 2 === 0).join(', ')}), list_value(${a.filter((_, i) => i % 2 === 1).join(', ')}))`,
    nullIntolerant: false,
  },
  named_struct: {
    kind: 'scalar',
    arity: [2, 10000],
    type: (args) =>
      new StructType(
        args
          .filter((_, i) => i % 2 === 1)
          .map((e, i) => new StructField(strLit(args[i * 2]) ?? `col${i + 1}`, e.type)),
      ),
    render: (a, args) =>
      `struct_pack(${a
        .filter((_, i) => i % 2 === 1)
        .map((x, i) => `${quoteIdent(strLit(args[i * 2]) ?? `col${i + 1}`)} := ${x}`)
        .join(', ')})`,
    nullIntolerant: false,
  },
  get_field: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) => {
      const t = argType(args, 0);
      const f = strLit(args[1]);
      if (t instanceof StructType) return t.fields.find((x) => x.name === f)?.dataType ?? new NullType();
      if (t instanceof MapType) return t.valueType;
      if (t instanceof ArrayType) return t.elementType;
      return new NullType();
    },
    render: (a, args) => {
      const t = argType(args, 0);
      if (t instanceof StructType) return `struct_extract(${a[0]}, ${a[1]})`;
      if (t instanceof ArrayType) return `list_extract(${a[0]}, ${a[1]} + 1)`;
      return `${a[0]}[${a[1]}]`;
    },
  },
  // grouping() and grouping_id() (ROLLUP/CUBE): the analyzer rewrites them to grouping_bits.
  grouping: {
    kind: 'scalar',
    arity: [1, 1],
    type: fixed(new ByteType()),
    render: () => 'NULL',
    nullIntolerant: false,
  },
  grouping_id: {
    kind: 'scalar',
    arity: [0, 1000],
    type: fixed(LONG),
    render: () => 'NULL',
    nullIntolerant: false,
  },
  /** The bits `args[1]` (a literal list, most significant first) of the grouping id. */
  grouping_bits: {
    kind: 'scalar',
    arity: [2, 2],
    type: (args) =>
      args[1]?.k === 'lit' && (args[1].value as unknown[]).length === 1 ? new ByteType() : LONG,
    render: (a, args) => {
      const bits = (args[1]?.k === 'lit' ? (args[1].value as number[]) : []).map(
        (b, i, all) => `(((${a[0]} >> ${b}) & 1) << ${all.length - 1 - i})`,
      );
      return `CAST(${bits.join(' | ') || '0'} AS ${bits.length === 1 ? 'TINYINT' : 'BIGINT'})`;
    },
    nullIntolerant: false,
  },
  /** Euler's number (Spark's `e()`). */
  e: { kind: 'scalar', arity: [0, 0], type: fixed(DOUBLE), render: () => 'exp(1)' },
  pi: { kind: 'scalar', arity: [0, 0], type: fixed(DOUBLE), render: () => 'pi()' },
  spark_partition_id: {
    kind: 'scalar',
    arity: [0, 0],
    type: fixed(INT),
    render: () => "CAST(getvariable('spark_partition_id') AS INTEGER)",
    nullIntolerant: false,
  },
  monotonically_increasing_id: {
    kind: 'scalar',
    arity: [0, 0],
    type: fixed(LONG),
    render: () =>
      "(CAST(getvariable('spark_partition_id') AS BIGINT) * 8589934592 + row_number() OVER () - 1)",
    nullIntolerant: false,
  },
  // generators (in a select list)
  explode: {
    kind: 'generator',
    arity: [1, 1],
    type: generatedType,
    render: (a, args) => `unnest(${generatorValues(a[0]!, args, false)})`,
  },
  explode_outer: {
    kind: 'generator',
    arity: [1, 1],
    type: generatedType,
    render: (a, args) => `unnest(${generatorValues(a[0]!, args, true)})`,
  },
  posexplode: {
    kind: 'generator',
    arity: [1, 1],
    type: generatedType,
    render: (a, args) => `unnest(${generatorValues(a[0]!, args, false)})`,
  },
  posexplode_outer: {
    kind: 'generator',
    arity: [1, 1],
    type: generatedType,
    render: (a, args) => `unnest(${generatorValues(a[0]!, args, true)})`,
  },
  // A generator's other columns (the analyzer adds them beside it): DuckDB zips the unnests of
  // one SELECT, so the positions and keys line up with the values.
  generator_pos: {
    kind: 'generator',
    arity: [1, 1],
    type: fixed(INT),
    render: (a, args) => `CAST(unnest(range(${sizeOf(a[0]!, args)})) AS INTEGER)`,
  },
  generator_pos_outer: {
    kind: 'generator',
    arity: [1, 1],
    type: fixed(INT),
    render: (a, args) =>
      `CAST(unnest(CASE WHEN ${sizeOf(a[0]!, args)} > 0 THEN range(${sizeOf(a[0]!, args)}) ELSE [NULL] END) AS INTEGER)`,
  },
  generator_key: {
    kind: 'generator',
    arity: [1, 1],
    type: (args) => (argType(args, 0) as MapType).keyType ?? new NullType(),
    render: (a) => `unnest(map_keys(${a[0]}))`,
  },
  generator_key_outer: {
    kind: 'generator',
    arity: [1, 1],
    type: (args) => (argType(args, 0) as MapType).keyType ?? new NullType(),
    render: (a) => `unnest(CASE WHEN cardinality(${a[0]}) > 0 THEN map_keys(${a[0]}) ELSE [NULL] END)`,
  },
  // aggregates
  count: agg(
    () => LONG,
    // Several columns count the rows where none is NULL (distinct tuples with DISTINCT).
    (a, _args, dist) =>
      a.length > 1
        ? `count(${d(dist)}CASE WHEN ${a.map((x) => `${x} IS NOT NULL`).join(' AND ')} THEN row(${a.join(', ')}) END)`
        : `count(${d(dist)}${a.join(', ')})`,
    [1, 100],
  ),
  /** Merges partial counts: a sum that is 0, not NULL, over no rows. */
  sum0: agg(fixed(LONG), (a) => `CAST(coalesce(sum(${a[0]}), 0) AS BIGINT)`),
  sum: agg(sumType, (a, _args, dist) => `sum(${d(dist)}${a[0]})`),
  avg: agg(avgType, (a, _args, dist) => `avg(${d(dist)}${a[0]})`),
  mean: agg(avgType, (a, _args, dist) => `avg(${d(dist)}${a[0]})`),
  min: agg(same(0), (a) => `min(${a[0]})`),
  max: agg(same(0), (a) => `max(${a[0]})`),
  first: agg(
    same(0),
    (a, args) =>
      args[1]?.k === 'lit' && args[1].value === true
        ? `first(${a[0]} ORDER BY ${a[0]} IS NULL)`
        : `first(${a[0]})`,
    [1, 2],
  ),
  first_value: agg(same(0), (a) => `first(${a[0]})`, [1, 2]),
  last: agg(
    same(0),
    (a, args) =>
      args[1]?.k === 'lit' && args[1].value === true
        ? `last(${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL)`
        : `last(${a[0]})`,
    [1, 2],
  ),
  last_value: agg(same(0), (a) => `last(${a[0]})`, [1, 2]),
  any_value: agg(same(0), (a) => `any_value(${a[0]})`, [1, 2]),
  collect_list: agg(
    (args) => new ArrayType(argType(args, 0), false),
    (a) => `coalesce(list(${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL), [])`,
  ),
  collect_set: agg(
    (args) => new ArrayType(argType(args, 0), false),
    (a) => `coalesce(list(DISTINCT ${a[0]}) FILTER (WHERE ${a[0]} IS NOT NULL), [])`,
  ),
  stddev: agg(fixed(DOUBLE), (a) => `stddev_samp(${a[0]})`),
  stddev_samp: agg(fixed(DOUBLE), (a) => `stddev_samp(${a[0]})`),
  std: agg(fixed(DOUBLE), (a) => `stddev_samp(${a[0]})`),
  stddev_pop: agg(fixed(DOUBLE), (a) => `stddev_pop(${a[0]})`),
  variance: agg(fixed(DOUBLE), (a) => `var_samp(${a[0]})`),
  var_samp: agg(fixed(DOUBLE), (a) => `var_samp(${a[0]})`),
  var_pop: agg(fixed(DOUBLE), (a) => `var_pop(${a[0]})`),
  corr: agg(fixed(DOUBLE), (a) => `corr(${a[0]}, ${a[1]})`, [2, 2]),
  covar_samp: agg(fixed(DOUBLE), (a) => `covar_samp(${a[0]}, ${a[1]})`, [2, 2]),
  covar_pop: agg(fixed(DOUBLE), (a) => `covar_pop(${a[0]}, ${a[1]})`, [2, 2]),
  approx_count_distinct: agg(fixed(LONG), (a) => `CAST(approx_count_distinct(${a[0]}) AS BIGINT)`, [1, 2]),
  count_if: agg(fixed(LONG), (a) => `count_if(${a[0]})`),
  bool_and: agg(fixed(BOOL), (a) => `bool_and(${a[0]})`),
  bool_or: agg(fixed(BOOL), (a) => `bool_or(${a[0]})`),
  percentile_approx: agg(percentileType, renderPercentile, [2, 3]),
  approx_percentile: agg(percentileType, renderPercentile, [2, 3]),
  percentile: agg(fixed(DOUBLE), (a) => `quantile_cont(${a[0]}, ${a[1]})`, [2, 2]),
  median: agg(fixed(DOUBLE), (a) => `median(${a[0]})`),
  // window functions
  row_number: windowFn(
    () => INT,
    () => 'row_number()',
  ),
  rank: windowFn(
    () => INT,
    () => 'rank()',
  ),
  dense_rank: windowFn(
    () => INT,
    () => 'dense_rank()',
  ),
  percent_rank: windowFn(
    () => DOUBLE,
    () => 'percent_rank()',
  ),
  cume_dist: windowFn(
    () => DOUBLE,
    () => 'cume_dist()',
  ),
  ntile: windowFn(
    () => INT,
    (a) => `ntile(${a[0]})`,
    [1, 1],
  ),
  lag: windowFn(
    (args) => argType(args, 0),
    (a) => `lag(${a.join(', ')})`,
    [1, 3],
  ),
  lead: windowFn(
    (args) => argType(args, 0),
    (a) => `lead(${a.join(', ')})`,
    [1, 3],
  ),
  nth_value: windowFn(
    (args) => argType(args, 0),
    (a) => `nth_value(${a[0]}, ${a[1]})`,
    [2, 3],
  ),
};

// `struct` as the analyzer builds it: name/value argument pairs, rendered as named_struct.
S.struct = { ...S.named_struct!, arity: [2, 10000] };

// ------------------------------------------------------------------ ANSI mode (spark.sql.ansi.enabled)

/** DuckDB's `error()` with Spark's `[CLASS] message SQLSTATE` (the task maps it to SparkRuntimeException). */
const DIVIDE_BY_ZERO = sqlString(
  '[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass this error. SQLSTATE: 22012',
);

/** A division-like function that fails on a zero divisor (a NULL dividend stays NULL, as in Spark). */
function ansiDivide(base: FunctionSpec): FunctionSpec {
  return {
    ...base,
    render: (a, args, distinct) =>
      `(CASE WHEN ${a[1]} = 0 AND ${a[0]} IS NOT NULL THEN error(${DIVIDE_BY_ZERO}) ELSE ${base.render(a, args, distinct)} END)`,
  };
}

const WRAP: Readonly<Record<string, readonly [bigint, string]>> = {
  tinyint: [8n, 'TINYINT'],
  smallint: [16n, 'SMALLINT'],
  int: [32n, 'INTEGER'],
  bigint: [64n, 'BIGINT'],
};

/** A HUGEINT `exact` wrapped to a two's complement integer of `bits` bits (DuckDB type `duck`). */
function wrapToWidth(exact: string, bits: bigint, duck: string): string {
  const [mod, off] = [1n << bits, 1n << (bits - 1n)];
  return `CAST((((CAST(${exact} AS HUGEINT) + ${off}) % ${mod} + ${mod}) % ${mod}) - ${off} AS ${duck})`;
}

/** Integer `+ - *` as Java computes them (two's complement wrap-around), for ANSI off. */
function legacyArith(op: string): FunctionSpec {
  const base = S[op]!;
  return {
    ...base,
    render: (a, args) => {
      const t = base.type(args, op).simpleString();
      const w = WRAP[t];
      if (!w) return base.render(a, args, false);
      return wrapToWidth(`(CAST(${a[0]} AS HUGEINT) ${op} CAST(${a[1]} AS HUGEINT))`, ...w);
    },
  };
}

/** Java's narrowing of an integer (args: the cast and its input), for ANSI off. */
S.legacy_cast = {
  kind: 'scalar',
  arity: [2, 2],
  type: same(0),
  render: (a, args) => {
    const target = argType(args, 0).simpleString();
    const w = WRAP[target];
    if (!w) return a[0]!;
    const from = argType(args, 1);
    if (!(from instanceof DoubleType || from instanceof FloatType))
      return wrapToWidth(`CAST(${a[1]} AS HUGEINT)`, ...w);
    // Java's (long) or (int) of a double: saturated, NaN 0; a short or byte wraps that int.
    const [bits, duck] = target === 'bigint' ? ([64n, 'BIGINT'] as const) : ([32n, 'INTEGER'] as const);
    const [lo, hi] = [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
    const x = a[1]!;
    const saturated = `(CASE WHEN isnan(${x}) THEN 0 WHEN ${x} >= ${hi} THEN ${hi} WHEN ${x} <= ${lo} THEN ${lo} ELSE CAST(trunc(${x}) AS ${duck}) END)`;
    return bits === w[0] ? `CAST(${saturated} AS ${duck})` : wrapToWidth(saturated, ...w);
  },
};

/** The `-x` operator: `negative` under the operator's name (`(- x)`, where `negative(x)` is `negative(x)`). */
S.unary_minus = S.negative!;

/** `sum` of integers without ANSI: the exact (HUGEINT) sum wrapped to a long, as Java adds longs. */
S.legacy_sum = agg(sumType, (a, _args, dist) => wrapToWidth(`sum(${d(dist)}${a[0]})`, 64n, 'BIGINT'));

for (const op of ['/', '%', 'pmod', 'div']) S[`ansi_${op}`] = ansiDivide(S[op]!);
for (const op of ['+', '-', '*']) S[`legacy_${op}`] = legacyArith(op);

// `try_*`: NULL instead of an error, whatever the mode.
S.try_divide = { ...S['/']!, nullIntolerant: true };
S.try_mod = { ...S['%']! };
for (const [name, op] of [
  ['try_add', '+'],
  ['try_subtract', '-'],
  ['try_multiply', '*'],
] as const)
  S[name] = { ...S[op]!, render: (a, args, dist) => `TRY(${S[op]!.render(a, args, dist)})` };

/**
 * An ANSI cast of a string: args are the cast (whose failures are NULL) and its input; a
 * non-NULL input that gives NULL fails with Spark's CAST_INVALID_INPUT.
 */
S.ansi_cast = {
  kind: 'scalar',
  arity: [2, 2],
  type: same(0),
  render: (a, args) => {
    const target = `"${argType(args, 0).simpleString().toUpperCase()}"`;
    const value = `'''' || replace(replace(CAST(${a[1]} AS VARCHAR), '\\', '\\\\'), '''', '\\''') || ''''`;
    const before = sqlString('[CAST_INVALID_INPUT] The value ');
    const after = sqlString(
      ` of the type "STRING" cannot be cast to ${target} because it is malformed. Correct the value as per the syntax, or change its target type. Use \`try_cast\` to tolerate malformed input and return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass this error. SQLSTATE: 22018`,
    );
    // ANSI's string → integral cast takes digits only ('1.5' is malformed, as toIntExact says).
    const bad = isIntegral(argType(args, 0))
      ? `(${a[0]} IS NULL OR NOT regexp_full_match(trim(${a[1]}), '[+-]?[0-9]+'))`
      : `${a[0]} IS NULL`;
    return `(CASE WHEN ${a[1]} IS NOT NULL AND ${bad} THEN error(${before} || ${value} || ${after}) ELSE ${a[0]} END)`;
  },
  nullIntolerant: false,
};

/** PySpark's and Spark SQL's other names for the same functions. */
const ALIASES: Record<string, string> = {
  ceiling: 'ceil',
  count_distinct: 'count',
  sign: 'signum',
  every: 'bool_and',
  some: 'bool_or',
  any: 'bool_or',
  date_diff: 'datediff',
  dateadd: 'date_add',
  datepart: 'extract',
  date_part: 'extract',
  len: 'length',
  character_length: 'length',
  strpos: 'instr',
  list: 'collect_list',
  array_agg: 'collect_list',
  regexp_like: 'rlike',
};

/** The registered function of a name (case-insensitive), or undefined. */
export function lookupFunction(name: string): { name: string; spec: FunctionSpec } | undefined {
  const lower = name.toLowerCase();
  const canonical = ALIASES[lower] ?? lower;
  const spec = S[canonical];
  return spec ? { name: canonical, spec } : undefined;
}

/** Every registered name (for suggestions). */
export function functionNames(): string[] {
  return [...Object.keys(S), ...Object.keys(ALIASES)];
}
