/**
 * `Column`: an unresolved expression with PySpark's Column methods. Python operators become the
 * Scala Column method names (`plus`, `gt`, `equalTo`…); every operator builds an
 * `unresolvedFunction` named as Spark Connect names it (`+`, `==`, `and`, `isnull`…).
 */
import { InvalidOperationError } from '../protocol/errors.js';
import { E, type Expression, type SortOrder } from '../sql/plan/unresolved.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  DataType,
  DoubleType,
  IntegerType,
  LongType,
  NullType,
  StringType,
  TimestampType,
  parseDataType,
} from '../sql/types.js';
import type { WindowSpec } from './window.js';

/** A column given by name (`'age'`, `'t.age'`, `'*'`) or as a Column (PySpark's `ColumnOrName`). */
export type ColumnOrName = Column | string;

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The Spark type of a plain JavaScript value, when it is unambiguous (integers are left to the analyzer). */
function literalType(value: unknown): DataType | undefined {
  if (value === null || value === undefined) return new NullType();
  if (typeof value === 'string') return new StringType();
  if (typeof value === 'boolean') return new BooleanType();
  if (typeof value === 'bigint') return new LongType();
  if (typeof value === 'number') return Number.isInteger(value) ? undefined : new DoubleType();
  if (value instanceof Date) return new TimestampType();
  if (value instanceof Uint8Array) return new BinaryType();
  return undefined;
}

/** The element type of an array literal: all strings, all booleans, all integers (int or bigint by size), numbers. */
function arrayElementType(values: readonly unknown[]): DataType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return new NullType();
  if (present.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    return present.every((v) => (v as number) >= INT_MIN && (v as number) <= INT_MAX)
      ? new IntegerType()
      : new LongType();
  }
  if (present.every((v) => typeof v === 'number')) return new DoubleType();
  const first = literalType(present[0]);
  if (first && present.every((v) => literalType(v)?.equals(first))) return first;
  throw new InvalidOperationError(
    `[COLUMN_IN_LIST] lit: an array literal needs elements of one type, got ${JSON.stringify(values)}`,
  );
}

/**
 * A literal expression for a JavaScript value: a Column passes through; integers carry no type (the
 * analyzer picks int or bigint by size), other numbers are doubles, a Date is a timestamp, a
 * Uint8Array binary, an array an array literal, null a NULL literal.
 */
export function litExpr(value: unknown): Expression {
  if (value instanceof Column) return value.expr;
  if (value === undefined) return E.lit(null, new NullType());
  if (Array.isArray(value)) {
    const values: unknown[] = value;
    if (values.some((v) => v instanceof Column)) return E.fn('array', values.map(litExpr));
    return E.lit([...values], new ArrayType(arrayElementType(values), values.includes(null)));
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  ) {
    if (value instanceof Map) {
      const args: Expression[] = [];
      for (const [k, v] of value as Map<unknown, unknown>) args.push(litExpr(k), litExpr(v));
      return E.fn('map', args);
    }
    throw new InvalidOperationError(
      `[UNSUPPORTED_LITERAL_TYPE] Unsupported Literal Type: ${value.constructor?.name ?? 'Object'}`,
    );
  }
  return E.lit(value, literalType(value));
}

/** The expression of a ColumnOrName: a string names a column (`'*'` and `'t.*'` are stars). */
export function colExpr(c: ColumnOrName): Expression {
  if (c instanceof Column) return c.expr;
  if (typeof c !== 'string') {
    throw new InvalidOperationError(
      `[NOT_COLUMN_OR_STR] Argument \`col\` should be a Column or str, got ${c === null ? 'null' : typeof c}.`,
    );
  }
  if (c === '*') return { type: 'unresolvedStar' };
  if (c.endsWith('.*')) return { type: 'unresolvedStar', unparsedTarget: c };
  return E.col(c);
}

/** A Column from a ColumnOrName. */
export function toColumn(c: ColumnOrName): Column {
  return c instanceof Column ? c : new Column(colExpr(c));
}

/** The sort order of a column: a column built by asc()/desc() keeps its order, others sort ascending. */
export function sortOrderOf(c: ColumnOrName): SortOrder {
  const e = colExpr(c);
  return e.type === 'sortOrder'
    ? e
    : { type: 'sortOrder', child: e, direction: 'ascending', nullOrdering: 'nullsFirst' };
}

function sort(
  e: Expression,
  direction: SortOrder['direction'],
  nullOrdering: SortOrder['nullOrdering'],
): Column {
  const child = e.type === 'sortOrder' ? e.child : e;
  return new Column({ type: 'sortOrder', child, direction, nullOrdering });
}

/** A column expression (PySpark's `Column`): immutable; every method returns a new Column. */
export class Column {
  constructor(
    /** The unresolved expression this column stands for. */
    readonly expr: Expression,
  ) {}

  private bin(op: string, other: unknown): Column {
    return new Column(E.fn(op, [this.expr, litExpr(other)]));
  }
  private un(op: string): Column {
    return new Column(E.fn(op, [this.expr]));
  }

  // ------------------------------------------------------------------ naming and types

  /** Names the column (`AS name`); several names for a generator with several outputs. */
  alias(...names: string[]): Column {
    if (names.length === 0) throw new InvalidOperationError('alias: give at least one name');
    return new Column({ type: 'alias', expr: this.expr, name: [...names] });
  }
  /** Same as {@link Column.alias}. */
  name(...names: string[]): Column {
    return this.alias(...names);
  }
  /** Same as {@link Column.alias} (Scala's `as`). */
  as(...names: string[]): Column {
    return this.alias(...names);
  }
  /** Casts to a type, given as a DataType or a type string (`'int'`, `'decimal(10,2)'`). */
  cast(dataType: DataType | string): Column {
    const t = typeof dataType === 'string' ? parseDataType(dataType) : dataType;
    if (!(t instanceof DataType)) {
      throw new InvalidOperationError('[NOT_DATATYPE_OR_STR] cast: the type should be a DataType or str');
    }
    return new Column({ type: 'cast', expr: this.expr, dataType: t });
  }
  /** Same as {@link Column.cast}. */
  astype(dataType: DataType | string): Column {
    return this.cast(dataType);
  }

  // ------------------------------------------------------------------ arithmetic

  /** `this + other` */
  plus(other: unknown): Column {
    return this.bin('+', other);
  }
  /** `this - other` */
  minus(other: unknown): Column {
    return this.bin('-', other);
  }
  /** `this * other` */
  multiply(other: unknown): Column {
    return this.bin('*', other);
  }
  /** `this / other` (always fractional, as Spark's `/`). */
  divide(other: unknown): Column {
    return this.bin('/', other);
  }
  /** `this % other` */
  mod(other: unknown): Column {
    return this.bin('%', other);
  }
  /** `this ** other` (Spark's `power`). */
  pow(other: unknown): Column {
    return this.bin('power', other);
  }
  /** `-this` (Scala's `unary_-`). */
  negate(): Column {
    return this.un('unary_minus');
  }

  // ------------------------------------------------------------------ comparison and logic

  /** `this == other` */
  equalTo(other: unknown): Column {
    return this.bin('==', other);
  }
  /** `this != other` */
  notEqual(other: unknown): Column {
    return this.bin('!=', other);
  }
  /** `this > other` */
  gt(other: unknown): Column {
    return this.bin('>', other);
  }
  /** `this >= other` */
  geq(other: unknown): Column {
    return this.bin('>=', other);
  }
  /** `this < other` */
  lt(other: unknown): Column {
    return this.bin('<', other);
  }
  /** `this <= other` */
  leq(other: unknown): Column {
    return this.bin('<=', other);
  }
  /** Null-safe equality `this <=> other`: true when both are NULL. */
  eqNullSafe(other: unknown): Column {
    return this.bin('<=>', other);
  }
  /** `this AND other` */
  and(other: unknown): Column {
    return this.bin('and', other);
  }
  /** `this OR other` */
  or(other: unknown): Column {
    return this.bin('or', other);
  }
  /** `NOT this` (Python's `~`). */
  not(): Column {
    return this.un('not');
  }
  /** Bitwise AND. */
  bitwiseAND(other: unknown): Column {
    return this.bin('&', other);
  }
  /** Bitwise OR. */
  bitwiseOR(other: unknown): Column {
    return this.bin('|', other);
  }
  /** Bitwise XOR. */
  bitwiseXOR(other: unknown): Column {
    return this.bin('^', other);
  }

  // ------------------------------------------------------------------ predicates

  /** True where the value is NULL. */
  isNull(): Column {
    return this.un('isnull');
  }
  /** True where the value is not NULL. */
  isNotNull(): Column {
    return this.un('isnotnull');
  }
  /** True where the value is NaN. */
  isNaN(): Column {
    return this.un('isnan');
  }
  /** `this IN (values…)`: values as arguments or one array. */
  isin(...values: unknown[]): Column {
    const list = values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
    return new Column(E.fn('in', [this.expr, ...list.map(litExpr)]));
  }
  /** `lower <= this AND this <= upper`, as PySpark builds it. */
  between(lowerBound: unknown, upperBound: unknown): Column {
    return this.geq(lowerBound).and(this.leq(upperBound));
  }
  /** SQL LIKE with `%` and `_`. */
  like(pattern: string): Column {
    return this.bin('like', pattern);
  }
  /** Case-insensitive LIKE. */
  ilike(pattern: string): Column {
    return this.bin('ilike', pattern);
  }
  /** Java regular-expression match (anywhere in the string). */
  rlike(pattern: string): Column {
    return this.bin('rlike', pattern);
  }
  /** True where the string starts with `other`. */
  startswith(other: unknown): Column {
    return this.bin('startswith', other);
  }
  /** True where the string ends with `other`. */
  endswith(other: unknown): Column {
    return this.bin('endswith', other);
  }
  /** True where the string contains `other`. */
  contains(other: unknown): Column {
    return this.bin('contains', other);
  }
  /** The substring from 1-based `startPos`, `length` characters. */
  substr(startPos: unknown, length: unknown): Column {
    return new Column(E.fn('substr', [this.expr, litExpr(startPos), litExpr(length)]));
  }

  // ------------------------------------------------------------------ nested values

  /** An array element by 0-based index or a map value by key (`col[key]`). */
  getItem(key: unknown): Column {
    return new Column({ type: 'unresolvedExtractValue', child: this.expr, extraction: litExpr(key) });
  }
  /** A struct field by name. */
  getField(name: unknown): Column {
    return new Column({ type: 'unresolvedExtractValue', child: this.expr, extraction: litExpr(name) });
  }

  // ------------------------------------------------------------------ CASE WHEN

  private caseArgs(method: string): readonly Expression[] {
    const e = this.expr;
    if (e.type !== 'unresolvedFunction' || e.functionName !== 'when' || e.arguments.length % 2 !== 0) {
      throw new InvalidOperationError(
        `[INVALID_WHEN_USAGE] ${method}() can only be applied on a Column previously generated by when() function` +
          (method === 'when' ? ', and cannot be applied once otherwise() is applied.' : ', and only once.'),
      );
    }
    return e.arguments;
  }
  /** Adds a `WHEN condition THEN value` branch to a CASE column made by `F.when`. */
  when(condition: Column, value: unknown): Column {
    const args = this.caseArgs('when');
    return new Column(E.fn('when', [...args, condition.expr, litExpr(value)]));
  }
  /** The `ELSE value` of a CASE column made by `F.when`. */
  otherwise(value: unknown): Column {
    const args = this.caseArgs('otherwise');
    return new Column(E.fn('when', [...args, litExpr(value)]));
  }

  // ------------------------------------------------------------------ windows and sorting

  /** This (window or aggregate) function over a window. */
  over(window?: WindowSpec): Column {
    return new Column({
      type: 'window',
      windowFunction: this.expr,
      partitionSpec: window ? [...window.partitionSpec] : [],
      orderSpec: window ? [...window.orderSpec] : [],
      ...(window?.frameSpec && { frameSpec: window.frameSpec }),
    });
  }
  /** Ascending, NULLs first (Spark's default for ascending). */
  asc(): Column {
    return sort(this.expr, 'ascending', 'nullsFirst');
  }
  /** Ascending, NULLs first. */
  asc_nulls_first(): Column {
    return sort(this.expr, 'ascending', 'nullsFirst');
  }
  /** Ascending, NULLs last. */
  asc_nulls_last(): Column {
    return sort(this.expr, 'ascending', 'nullsLast');
  }
  /** Descending, NULLs last (Spark's default for descending). */
  desc(): Column {
    return sort(this.expr, 'descending', 'nullsLast');
  }
  /** Descending, NULLs first. */
  desc_nulls_first(): Column {
    return sort(this.expr, 'descending', 'nullsFirst');
  }
  /** Descending, NULLs last. */
  desc_nulls_last(): Column {
    return sort(this.expr, 'descending', 'nullsLast');
  }
}
