/**
 * `DataFrame`: PySpark's DataFrame on the client. It is only an unresolved plan and the engine
 * that answers for it: transformations return a new DataFrame synchronously (a new plan node with
 * a fresh `planId`); actions are async and go through {@link SqlEngine}.
 */
import type { Table } from 'apache-arrow';
import type { RDD } from '../rdd/rdd.js';
import { StorageLevel } from '../rdd/storage-level.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { AnalysisException } from '../sql/errors.js';
import { E, type Expression, type JoinType, type Relation, type SortOrder } from '../sql/plan/unresolved.js';
import {
  ArrayType,
  DataType,
  DoubleType,
  MapType,
  StringType,
  StructField,
  StructType,
  isNumeric,
} from '../sql/types.js';
import { Column, colExpr, litExpr, sortOrderOf, type ColumnOrName } from './column.js';
import type { ExplainMode, Row, SqlEngine } from './engine.js';
import { formatSchemaTree, formatShow } from './format.js';
import { GroupedData, type GroupType } from './grouped.js';
import { DataFrameNaFunctions, type NaValue } from './na.js';
import { DataFrameWriter } from './writer.js';

/** Where `show`, `printSchema` and `explain` print (default: process.stdout). */
export type OutputWriter = (text: string) => void;

/** Options of a DataFrame not carried by its plan. */
export interface DataFrameOptions {
  /** Where `show`, `printSchema` and `explain` print; inherited by derived DataFrames. */
  readonly out?: OutputWriter;
}

/** A column argument of select/groupBy/orderBy: a name, a Column, or (where allowed) a 1-based ordinal. */
type ColArg = ColumnOrName | number | readonly (ColumnOrName | number)[];

/** The `{ ascending }` options object of orderBy/sort. */
export interface SortOptions {
  readonly ascending?: boolean | number | readonly (boolean | number)[];
}

const JOIN_TYPES: Readonly<Record<string, JoinType>> = {
  inner: 'inner',
  cross: 'cross',
  outer: 'full',
  full: 'full',
  fullouter: 'full',
  left: 'left',
  leftouter: 'left',
  right: 'right',
  rightouter: 'right',
  semi: 'left_semi',
  leftsemi: 'left_semi',
  anti: 'left_anti',
  leftanti: 'left_anti',
};

const SUPPORTED_JOIN_TYPES = [
  'inner',
  'outer',
  'full',
  'fullouter',
  'full_outer',
  'leftouter',
  'left',
  'left_outer',
  'rightouter',
  'right',
  'right_outer',
  'leftsemi',
  'left_semi',
  'semi',
  'leftanti',
  'left_anti',
  'anti',
  'cross',
];

/** PySpark's join `how` → the plan's JoinType; an unknown one raises `[UNSUPPORTED_JOIN_TYPE]`. */
export function normalizeJoinType(how: string): JoinType {
  const t = JOIN_TYPES[how.toLowerCase().replace(/_/g, '')];
  if (t === undefined) {
    const supported = SUPPORTED_JOIN_TYPES.map((s) => `'${s}'`).join(', ');
    throw new AnalysisException(
      'UNSUPPORTED_JOIN_TYPE',
      `Unsupported join type '${how}'. Supported join types include: ${supported}.`,
      { typ: how, supported },
    );
  }
  return t;
}

const EXPLAIN_MODES: readonly ExplainMode[] = ['simple', 'extended', 'codegen', 'cost', 'formatted'];

function storageLevelName(level: StorageLevel): string {
  for (const [name, value] of Object.entries(StorageLevel)) {
    if (value instanceof StorageLevel && value.equals(level)) return name;
  }
  return level.toString();
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

function isOrderable(t: DataType): boolean {
  if (t instanceof MapType) return false;
  if (t instanceof ArrayType) return isOrderable(t.elementType);
  if (t instanceof StructType) return t.fields.every((f) => isOrderable(f.dataType));
  return true;
}

function isOptionsObject(x: unknown): x is Readonly<Record<string, unknown>> {
  return typeof x === 'object' && x !== null && !(x instanceof Column) && !Array.isArray(x);
}

/** A distributed collection of rows with named columns (PySpark's `DataFrame`). */
export class DataFrame {
  private plan: Relation;
  /** The plan before `cache()`, while cached. */
  private uncached: Relation | undefined;
  private level: StorageLevel = StorageLevel.NONE;
  private readonly out: OutputWriter;

  constructor(
    /** The engine that resolves and runs this DataFrame's plan. */
    readonly engine: SqlEngine,
    plan: Relation,
    options: DataFrameOptions = {},
  ) {
    this.plan = plan;
    this.out = options.out ?? ((text) => void process.stdout.write(text));
  }

  /** @internal The plan (the cached one after `cache()`). */
  get _plan(): Relation {
    return this.plan;
  }

  /** This DataFrame's plan id (what `df.col(name)` binds to). */
  get planId(): number | undefined {
    return this.plan.planId;
  }

  /** @internal A DataFrame of a new plan node (given a fresh plan id), printing where this one does. */
  _derive(rel: Relation): DataFrame {
    const df = new DataFrame(
      this.engine,
      { ...rel, planId: this.engine.newPlanId() },
      {
        out: this.out,
      },
    );
    // Analyzed at definition, as in Spark: a bad column or type fails here, before any job runs.
    this.engine.schemaOf(df.plan);
    return df;
  }

  private attr(name: string): Expression {
    return {
      type: 'unresolvedAttribute',
      nameParts: [name],
      ...(this.plan.planId !== undefined && { planId: this.plan.planId }),
    };
  }

  /** The column at a 1-based ordinal (PySpark 4's `groupBy(1)`, `orderBy(-1)`). */
  private ordinal(i: number, method: string): Expression {
    const columns = this.columns;
    const name = columns[Math.abs(i) - 1];
    if (name === undefined || !Number.isInteger(i)) {
      throw new InvalidOperationError(
        `[INDEX_OUT_OF_RANGE] ${method}: column ordinal ${i} is out of range; the DataFrame has ${columns.length} columns.`,
      );
    }
    return this.attr(name);
  }

  // ------------------------------------------------------------------ schema

  /** The resolved schema (synchronous; throws AnalysisException for a bad plan). */
  get schema(): StructType {
    return this.engine.schemaOf(this.plan);
  }
  /** The column names, in order. */
  get columns(): string[] {
    return this.schema.fieldNames();
  }
  /** `[name, type]` pairs, with Spark's short type names (`int`, `bigint`, `array<string>`). */
  get dtypes(): [string, string][] {
    return this.schema.fields.map((f) => [f.name, f.dataType.simpleString()]);
  }
  /** Prints the schema as a tree (`root`, ` |-- name: type (nullable = true)`); `level` limits nesting. */
  printSchema(level?: number): void {
    this.out(formatSchemaTree(this.schema, level) + '\n');
  }
  /** Prints the plans: `explain()` simple, `explain(true)` extended, or `explain('formatted')` etc. */
  explain(extended?: boolean | string, mode?: string): void {
    let m: string;
    if (typeof extended === 'string') m = extended;
    else if (mode !== undefined) m = mode;
    else m = extended ? 'extended' : 'simple';
    if (!EXPLAIN_MODES.includes(m.toLowerCase() as ExplainMode)) {
      throw new InvalidOperationError(
        `Unknown explain mode: ${m}. Accepted explain modes are 'simple', 'extended', 'codegen', 'cost', 'formatted'.`,
      );
    }
    const text = this.engine.explain(this.plan, m.toLowerCase() as ExplainMode);
    this.out(text.endsWith('\n') ? text + '\n' : text + '\n\n');
  }

  // ------------------------------------------------------------------ columns

  /** A column of this DataFrame, bound to it (`df.col('x')` resolves against this plan in joins). */
  col(name: string | number): Column {
    if (typeof name === 'number') return new Column(this.ordinal(name + 1, 'col'));
    if (name === '*') return new Column({ type: 'unresolvedStar' });
    const e = E.col(name, this.plan.planId);
    return new Column(e);
  }
  /** Same as {@link DataFrame.col} (Python's `df['x']`; a number is a 0-based position). */
  get(name: string | number): Column {
    return this.col(name);
  }

  private exprs(args: readonly ColArg[], method: string): Expression[] {
    const flat = args.flatMap((a) =>
      Array.isArray(a) ? [...(a as readonly (ColumnOrName | number)[])] : [a as ColumnOrName | number],
    );
    return flat.map((c) => {
      if (typeof c === 'number') {
        if (c < 1) {
          throw new InvalidOperationError(`[INDEX_NOT_POSITIVE] Index must be positive, got '${c}'.`);
        }
        return this.ordinal(c, method);
      }
      return colExpr(c);
    });
  }

  // ------------------------------------------------------------------ projections and filters

  /** Projects columns: names, `'*'`, Columns, or arrays of them. */
  select(...cols: (ColumnOrName | readonly ColumnOrName[])[]): DataFrame {
    const expressions = cols
      .flatMap((c) => (Array.isArray(c) ? [...(c as readonly ColumnOrName[])] : [c as ColumnOrName]))
      .map(colExpr);
    return this._derive({ type: 'project', input: this.plan, expressions });
  }
  /** Projects SQL expression strings (`selectExpr('a * 2 AS b', 'abs(c)')`). */
  selectExpr(...exprs: (string | readonly string[])[]): DataFrame {
    const expressions: Expression[] = exprs
      .flatMap((e) => (typeof e === 'string' ? [e] : [...e]))
      .map((expression) => ({ type: 'expressionString', expression }));
    return this._derive({ type: 'project', input: this.plan, expressions });
  }
  /** Keeps the rows where the condition (a Column or a SQL string) is true. */
  filter(condition: Column | string): DataFrame {
    if (!(condition instanceof Column) && typeof condition !== 'string') {
      throw new InvalidOperationError('[NOT_COLUMN_OR_STR] Argument `condition` should be a Column or str.');
    }
    const c: Expression =
      typeof condition === 'string' ? { type: 'expressionString', expression: condition } : condition.expr;
    return this._derive({ type: 'filter', input: this.plan, condition: c });
  }
  /** Same as {@link DataFrame.filter}. */
  where(condition: Column | string): DataFrame {
    return this.filter(condition);
  }
  /** Adds or replaces a column. */
  withColumn(colName: string, col: Column): DataFrame {
    return this.withColumns({ [colName]: col });
  }
  /** Adds or replaces several columns (`{ name: Column }`), in the object's order. */
  withColumns(colsMap: Readonly<Record<string, Column>>): DataFrame {
    const aliases = Object.entries(colsMap).map(([name, col]) => {
      if (!(col instanceof Column)) {
        throw new InvalidOperationError(
          `[NOT_COLUMN] Argument \`col\` should be a Column, got ${typeof col}.`,
        );
      }
      return { name, expr: col.expr };
    });
    return this._derive({ type: 'withColumns', input: this.plan, aliases });
  }
  /** Renames a column (no-op when it does not exist). */
  withColumnRenamed(existing: string, newName: string): DataFrame {
    return this.withColumnsRenamed({ [existing]: newName });
  }
  /** Renames several columns (`{ old: 'new' }`). */
  withColumnsRenamed(colsMap: Readonly<Record<string, string>>): DataFrame {
    return this._derive({ type: 'withColumnsRenamed', input: this.plan, renames: Object.entries(colsMap) });
  }
  /** Drops columns by name (exact names; unknown ones are ignored) or by Column. */
  drop(...cols: (ColumnOrName | readonly ColumnOrName[])[]): DataFrame {
    const columns = cols
      .flatMap((c) => (Array.isArray(c) ? [...(c as readonly ColumnOrName[])] : [c as ColumnOrName]))
      .map((c): Expression =>
        typeof c === 'string' ? { type: 'unresolvedAttribute', nameParts: [c] } : c.expr,
      );
    return this._derive({ type: 'drop', input: this.plan, columns });
  }
  /** Renames all columns, in order. */
  toDF(...names: (string | readonly string[])[]): DataFrame {
    const columnNames = names.flatMap((n) => (typeof n === 'string' ? [n] : [...n]));
    return this._derive({ type: 'toDf', input: this.plan, columnNames });
  }
  /** The DataFrame under an alias (`df.alias('t')`, then `'t.col'`). */
  alias(alias: string): DataFrame {
    return this._derive({ type: 'subqueryAlias', input: this.plan, alias });
  }
  /** `func(this, …args)`: chains custom transformations. */
  transform<A extends unknown[]>(func: (df: DataFrame, ...args: A) => DataFrame, ...args: A): DataFrame {
    return func(this, ...args);
  }

  // ------------------------------------------------------------------ de-duplication

  /** The distinct rows. */
  distinct(): DataFrame {
    return this._derive({ type: 'deduplicate', input: this.plan });
  }
  /** Drops duplicate rows, considering only `subset` columns when given. */
  dropDuplicates(...subset: (string | readonly string[])[]): DataFrame {
    const names = subset.flatMap((s) => (typeof s === 'string' ? [s] : [...s]));
    return names.length === 0
      ? this.distinct()
      : this._derive({ type: 'deduplicate', input: this.plan, columnNames: names });
  }
  /** Same as {@link DataFrame.dropDuplicates}. */
  drop_duplicates(...subset: (string | readonly string[])[]): DataFrame {
    return this.dropDuplicates(...subset);
  }

  // ------------------------------------------------------------------ aggregation

  private grouped(groupType: GroupType, cols: readonly ColArg[], method: string): GroupedData {
    return new GroupedData(this, groupType, this.exprs(cols, method));
  }
  /** Groups by columns (names, Columns, 1-based ordinals) for aggregation. */
  groupBy(...cols: ColArg[]): GroupedData {
    return this.grouped('groupby', cols, 'groupBy');
  }
  /** Same as {@link DataFrame.groupBy}. */
  groupby(...cols: ColArg[]): GroupedData {
    return this.grouped('groupby', cols, 'groupby');
  }
  /** Multi-dimensional rollup over the columns. */
  rollup(...cols: ColArg[]): GroupedData {
    return this.grouped('rollup', cols, 'rollup');
  }
  /** Multi-dimensional cube over the columns. */
  cube(...cols: ColArg[]): GroupedData {
    return this.grouped('cube', cols, 'cube');
  }
  /** Aggregates over the whole DataFrame (`groupBy().agg(…)`). */
  agg(...exprs: (Column | Readonly<Record<string, string>>)[]): DataFrame {
    return this.groupBy().agg(...exprs);
  }

  // ------------------------------------------------------------------ joins and set operations

  /**
   * Joins with another DataFrame. `on`: a column name or names (an equi-join that keeps one copy of
   * them), a Column condition, or Columns (ANDed). `how`: inner (default), cross, outer/full,
   * left, right, semi, anti and their `left_outer`-style spellings.
   */
  join(
    other: DataFrame,
    on?: string | Column | readonly string[] | readonly Column[],
    how?: string,
  ): DataFrame {
    const joinType = how === undefined ? 'inner' : normalizeJoinType(how);
    let usingColumns: string[] | undefined;
    let joinCondition: Expression | undefined;
    if (typeof on === 'string') usingColumns = [on];
    else if (on instanceof Column) joinCondition = on.expr;
    else if (Array.isArray(on) && on.length > 0) {
      if (on.every((o) => typeof o === 'string')) usingColumns = [...(on as readonly string[])];
      else if (on.every((o) => o instanceof Column)) {
        joinCondition = (on as readonly Column[]).map((c) => c.expr).reduce((a, b) => E.fn('and', [a, b]));
      } else {
        throw new InvalidOperationError(
          '[NOT_COLUMN_OR_STR] join: `on` must be names or Columns, not a mix.',
        );
      }
    } else if (on !== undefined && !Array.isArray(on)) {
      throw new InvalidOperationError(
        '[NOT_COLUMN_OR_STR] join: `on` should be a Column, a name or a list of them.',
      );
    }
    return this._derive({
      type: 'join',
      left: this.plan,
      right: other.plan,
      joinType,
      ...(joinCondition && { joinCondition }),
      ...(usingColumns && { usingColumns }),
    });
  }
  /** The Cartesian product with another DataFrame. */
  crossJoin(other: DataFrame): DataFrame {
    return this._derive({ type: 'join', left: this.plan, right: other.plan, joinType: 'cross' });
  }

  private setOp(
    other: DataFrame,
    setOpType: 'union' | 'intersect' | 'except',
    isAll: boolean,
    byName = false,
    allowMissingColumns = false,
  ): DataFrame {
    return this._derive({
      type: 'setOp',
      left: this.plan,
      right: other.plan,
      setOpType,
      isAll,
      byName,
      allowMissingColumns,
    });
  }
  /** The rows of both (UNION ALL: duplicates kept), matched by column position. */
  union(other: DataFrame): DataFrame {
    return this.setOp(other, 'union', true);
  }
  /** Same as {@link DataFrame.union}. */
  unionAll(other: DataFrame): DataFrame {
    return this.setOp(other, 'union', true);
  }
  /** The rows of both matched by column name; missing columns become NULL with `allowMissingColumns`. */
  unionByName(other: DataFrame, allowMissingColumns = false): DataFrame {
    return this.setOp(other, 'union', true, true, allowMissingColumns);
  }
  /** The distinct rows in both. */
  intersect(other: DataFrame): DataFrame {
    return this.setOp(other, 'intersect', false);
  }
  /** The rows in both, duplicates kept. */
  intersectAll(other: DataFrame): DataFrame {
    return this.setOp(other, 'intersect', true);
  }
  /** The rows not in `other`, duplicates kept. */
  exceptAll(other: DataFrame): DataFrame {
    return this.setOp(other, 'except', true);
  }
  /** The distinct rows not in `other` (EXCEPT DISTINCT). */
  subtract(other: DataFrame): DataFrame {
    return this.setOp(other, 'except', false);
  }

  // ------------------------------------------------------------------ ordering and limits

  private sortOrders(args: readonly (ColArg | SortOptions)[], method: string): SortOrder[] {
    let options: SortOptions = {};
    let cols = args;
    const last = args[args.length - 1];
    if (args.length > 0 && isOptionsObject(last)) {
      options = last;
      cols = args.slice(0, -1);
    }
    const flat = (cols as readonly ColArg[]).flatMap((a) =>
      Array.isArray(a) ? [...(a as readonly (ColumnOrName | number)[])] : [a as ColumnOrName | number],
    );
    let orders = flat.map((c): SortOrder => {
      if (typeof c === 'number') {
        if (c === 0 || !Number.isInteger(c))
          throw new InvalidOperationError('[ZERO_INDEX] Index must be non-zero.');
        const child = this.ordinal(c, method);
        return c > 0
          ? { type: 'sortOrder', child, direction: 'ascending', nullOrdering: 'nullsFirst' }
          : { type: 'sortOrder', child, direction: 'descending', nullOrdering: 'nullsLast' };
      }
      return sortOrderOf(c);
    });
    const desc = (o: SortOrder): SortOrder => ({
      type: 'sortOrder',
      child: o.child,
      direction: 'descending',
      nullOrdering: 'nullsLast',
    });
    const asc = options.ascending;
    if (Array.isArray(asc)) {
      if (asc.length !== orders.length) {
        throw new InvalidOperationError(
          `${method}: ascending has ${asc.length} values for ${orders.length} columns; give one per column.`,
        );
      }
      orders = orders.map((o, i) => (asc[i] ? o : desc(o)));
    } else if (asc !== undefined && !asc) {
      orders = orders.map(desc);
    }
    if (orders.length === 0) {
      throw new InvalidOperationError(`[CANNOT_BE_EMPTY] ${method}: at least one column must be specified.`);
    }
    return orders;
  }
  /**
   * Sorts by columns (names, Columns with asc()/desc(), 1-based ordinals — negative descending);
   * a last `{ ascending }` object sets the direction of all or each column.
   */
  orderBy(...cols: (ColArg | SortOptions)[]): DataFrame {
    return this._derive({
      type: 'sort',
      input: this.plan,
      order: this.sortOrders(cols, 'orderBy'),
      isGlobal: true,
    });
  }
  /** Same as {@link DataFrame.orderBy}. */
  sort(...cols: (ColArg | SortOptions)[]): DataFrame {
    return this._derive({
      type: 'sort',
      input: this.plan,
      order: this.sortOrders(cols, 'sort'),
      isGlobal: true,
    });
  }
  /** Sorts each partition, not the whole DataFrame. */
  sortWithinPartitions(...cols: (ColArg | SortOptions)[]): DataFrame {
    return this._derive({
      type: 'sort',
      input: this.plan,
      order: this.sortOrders(cols, 'sortWithinPartitions'),
      isGlobal: false,
    });
  }
  /** The first `num` rows. */
  limit(num: number): DataFrame {
    return this._derive({ type: 'limit', input: this.plan, limit: num });
  }
  /** The rows after the first `num`. */
  offset(num: number): DataFrame {
    return this._derive({ type: 'offset', input: this.plan, offset: num });
  }

  // ------------------------------------------------------------------ sampling and partitioning

  /**
   * A random sample: `sample(fraction, seed?)`, `sample(withReplacement, fraction, seed?)` or
   * `sample({ withReplacement, fraction, seed })`, as PySpark's argument forms.
   */
  sample(
    a:
      | number
      | boolean
      | undefined
      | { readonly withReplacement?: boolean; readonly fraction: number; readonly seed?: number },
    b?: number,
    c?: number,
  ): DataFrame {
    let withReplacement = false;
    let fraction: number | undefined;
    let seed: number | undefined;
    if (typeof a === 'object' && a !== null) {
      withReplacement = a.withReplacement ?? false;
      fraction = a.fraction;
      seed = a.seed;
    } else if (typeof a === 'boolean' || a === undefined) {
      withReplacement = a ?? false;
      fraction = b;
      seed = c;
    } else {
      fraction = a;
      seed = b;
    }
    if (typeof fraction !== 'number' || Number.isNaN(fraction)) {
      throw new InvalidOperationError('[NOT_FLOAT] Argument `fraction` should be a float.');
    }
    if (fraction < 0) throw new InvalidOperationError(`Fraction must be nonnegative, but got ${fraction}`);
    if (!withReplacement && fraction > 1) {
      throw new InvalidOperationError(
        `Sampling fraction (${fraction}) must be on interval [0, 1] without replacement`,
      );
    }
    return this._derive({
      type: 'sample',
      input: this.plan,
      lowerBound: 0,
      upperBound: fraction,
      withReplacement,
      seed: seed ?? randomSeed(),
    });
  }

  /**
   * Splits randomly by weights (normalized to sum 1), as Spark does: each split samples its range
   * [lower, upper) of one seeded random value per row, over the rows sorted within partitions so
   * the splits are disjoint and complete.
   */
  randomSplit(weights: readonly number[], seed?: number): DataFrame[] {
    if (weights.some((w) => !(w >= 0))) {
      throw new InvalidOperationError(`Weights must be nonnegative, but got [${weights.join(',')}]`);
    }
    const sum = weights.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) {
      throw new InvalidOperationError(`Sum of weights must be positive, but got [${weights.join(',')}]`);
    }
    const s = seed ?? randomSeed();
    const order: SortOrder[] = this.schema.fields
      .filter((f) => isOrderable(f.dataType))
      .map((f) => ({
        type: 'sortOrder',
        child: this.attr(f.name),
        direction: 'ascending',
        nullOrdering: 'nullsFirst',
      }));
    const input =
      order.length > 0
        ? this._derive({ type: 'sort', input: this.plan, order, isGlobal: false }).plan
        : this.plan;
    const bounds = [0];
    for (const w of weights) bounds.push(bounds[bounds.length - 1]! + w / sum);
    return weights.map((_, i) =>
      this._derive({
        type: 'sample',
        input,
        lowerBound: bounds[i]!,
        upperBound: bounds[i + 1]!,
        withReplacement: false,
        seed: s,
      }),
    );
  }

  /** Shuffles into `numPartitions` partitions and/or by columns: `repartition(4)`, `repartition(4, 'a')`, `repartition('a')`. */
  repartition(numPartitions: number | ColumnOrName, ...cols: ColumnOrName[]): DataFrame {
    let n: number | undefined;
    let exprCols = cols;
    if (typeof numPartitions === 'number') {
      if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
        throw new InvalidOperationError(`Number of partitions (${numPartitions}) must be positive.`);
      }
      n = numPartitions;
    } else exprCols = [numPartitions, ...cols];
    return this._derive({
      type: 'repartition',
      input: this.plan,
      ...(n !== undefined && { numPartitions: n }),
      partitionExprs: exprCols.map(colExpr),
      shuffle: true,
    });
  }
  /** Merges into at most `numPartitions` partitions without a shuffle. */
  coalesce(numPartitions: number): DataFrame {
    if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
      throw new InvalidOperationError(`Number of partitions (${numPartitions}) must be positive.`);
    }
    return this._derive({
      type: 'repartition',
      input: this.plan,
      numPartitions,
      partitionExprs: [],
      shuffle: false,
    });
  }

  // ------------------------------------------------------------------ caching

  /** Caches the result (MEMORY_AND_DISK_DESER, as PySpark); returns this DataFrame. */
  cache(): this {
    return this.persist(StorageLevel.MEMORY_AND_DISK_DESER);
  }
  /**
   * Caches the result at a storage level (default MEMORY_AND_DISK_DESER); returns this DataFrame,
   * whose plan (and that of DataFrames derived from it afterwards) then reads the cache. A second
   * call while cached keeps the first level, as Spark does.
   */
  persist(storageLevel: StorageLevel = StorageLevel.MEMORY_AND_DISK_DESER): this {
    if (this.uncached !== undefined) return this;
    const original = this.plan;
    const cached = this.engine.cache(original, storageLevelName(storageLevel));
    this.uncached = original;
    this.plan = { ...cached, ...(original.planId !== undefined && { planId: original.planId }) };
    this.level = storageLevel;
    return this;
  }
  /** Drops the cached result; returns this DataFrame. */
  unpersist(_blocking = false): this {
    void _blocking;
    if (this.uncached === undefined) return this;
    this.engine.unpersist(this.plan);
    this.plan = this.uncached;
    this.uncached = undefined;
    this.level = StorageLevel.NONE;
    return this;
  }
  /** The storage level (StorageLevel.NONE when not cached). */
  get storageLevel(): StorageLevel {
    return this.level;
  }
  /** Whether the DataFrame is cached. */
  get is_cached(): boolean {
    return this.uncached !== undefined;
  }

  // ------------------------------------------------------------------ statistics

  /**
   * count, mean, stddev, min and max of the given (or all numeric and string) columns, as strings
   * in a `summary` column (Spark's `describe`, i.e. `summary('count', 'mean', 'stddev', 'min', 'max')`).
   */
  describe(...cols: (string | readonly string[])[]): DataFrame {
    const names = cols.flatMap((c) => (typeof c === 'string' ? [c] : [...c]));
    const selected = names.length === 0 ? this : this.select(...names);
    return selected.summary('count', 'mean', 'stddev', 'min', 'max');
  }

  /**
   * The given statistics (default count, mean, stddev, min, 25%, 50%, 75%, max; also
   * count_distinct, approx_count_distinct and any `NN%`) of the numeric and string columns, as
   * strings: the plan Spark builds (one map per column, exploded by statistic).
   */
  summary(...statistics: string[]): DataFrame {
    const stats =
      statistics.length > 0 ? statistics : ['count', 'mean', 'stddev', 'min', '25%', '50%', '75%', 'max'];
    const percentiles = stats
      .filter((s) => s.endsWith('%'))
      .map((p) => {
        const body = p.slice(0, -1);
        const v = body.trim() === '' ? NaN : Number(body);
        if (Number.isNaN(v)) {
          throw new AnalysisException('_LEGACY_ERROR_TEMP_2113', `Unable to parse ${p} as a percentile`, {
            stats: p,
          });
        }
        return v / 100;
      });
    if (percentiles.some((p) => p < 0 || p > 1)) {
      throw new InvalidOperationError('requirement failed: Percentiles must be in the range [0, 1]');
    }
    const known = ['count', 'count_distinct', 'approx_count_distinct', 'mean', 'stddev', 'min', 'max'];
    for (const s of stats) {
      if (!s.endsWith('%') && !known.includes(s.toLowerCase())) {
        throw new AnalysisException('_LEGACY_ERROR_TEMP_2114', `${s} is not a recognised statistic`, {
          stats: s,
        });
      }
    }
    const fields = this.schema.fields.filter(
      (f) => isNumeric(f.dataType) || f.dataType instanceof StringType,
    );
    if (fields.length === 0) {
      return this._derive({
        type: 'localRelation',
        schema: new StructType([new StructField('summary', new StringType())]),
        rows: stats.map((s) => [s]),
        numPartitions: 1,
      });
    }
    const toString = (e: Expression): Expression => ({ type: 'cast', expr: e, dataType: new StringType() });
    const mapColumns = fields.map((f) => {
      const column = this.attr(f.name);
      const casted: Expression =
        f.dataType instanceof StringType
          ? { type: 'expressionString', expression: `try_cast(\`${f.name.replace(/`/g, '``')}\` AS DOUBLE)` }
          : column;
      const percentilesCol =
        percentiles.length > 0
          ? E.fn('percentile_approx', [
              casted,
              E.lit(percentiles, new ArrayType(new DoubleType(), false)),
              litExpr(10000),
            ])
          : undefined;
      const aggColumns: Expression[] = [];
      let percentileIndex = 0;
      for (const s of stats) {
        aggColumns.push(litExpr(s));
        switch (s.toLowerCase()) {
          case 'count':
            aggColumns.push(E.fn('count', [column]));
            break;
          case 'count_distinct':
            aggColumns.push(E.fn('count', [column], true));
            break;
          case 'approx_count_distinct':
            aggColumns.push(E.fn('approx_count_distinct', [column]));
            break;
          case 'mean':
            aggColumns.push(E.fn('avg', [casted]));
            break;
          case 'stddev':
            aggColumns.push(E.fn('stddev', [casted]));
            break;
          case 'min':
            aggColumns.push(E.fn('min', [column]));
            break;
          case 'max':
            aggColumns.push(E.fn('max', [column]));
            break;
          default:
            aggColumns.push(E.fn('get', [percentilesCol!, litExpr(percentileIndex++)]));
        }
      }
      return E.alias(E.fn('map', aggColumns.map(toString)), f.name);
    });
    const aggregated = this._derive({
      type: 'aggregate',
      input: this.plan,
      groupType: 'groupby',
      groupingExpressions: [],
      aggregateExpressions: mapColumns,
    });
    const withSummary = aggregated._derive({
      type: 'withColumns',
      input: aggregated.plan,
      aliases: [
        {
          name: 'summary',
          expr: E.fn('explode', [E.lit([...stats], new ArrayType(new StringType(), false))]),
        },
      ],
    });
    const summaryCol: Expression = { type: 'unresolvedAttribute', nameParts: ['summary'] };
    return withSummary._derive({
      type: 'project',
      input: withSummary.plan,
      expressions: [
        summaryCol,
        ...fields.map((f) =>
          E.alias(
            E.fn('element_at', [{ type: 'unresolvedAttribute', nameParts: [f.name] }, summaryCol]),
            f.name,
          ),
        ),
      ],
    });
  }

  // ------------------------------------------------------------------ missing values

  /** The missing-data functions (`df.na.fill(0)`, `df.na.drop()`, `df.na.replace(…)`). */
  get na(): DataFrameNaFunctions {
    return new DataFrameNaFunctions(this);
  }
  /** Same as `df.na.fill(value, subset)`. */
  fillna(value: NaValue | Readonly<Record<string, NaValue>>, subset?: string | readonly string[]): DataFrame {
    return this.na.fill(value, subset);
  }
  /** Same as `df.na.drop(how, thresh, subset)`. */
  dropna(how: 'any' | 'all' = 'any', thresh?: number, subset?: string | readonly string[]): DataFrame {
    return this.na.drop(how, thresh, subset);
  }
  /** Same as `df.na.replace(toReplace, value, subset)`. */
  replace(
    toReplace: NaValue | readonly NaValue[] | Readonly<Record<string, NaValue | null>>,
    value?: NaValue | null | readonly (NaValue | null)[],
    subset?: string | readonly string[],
  ): DataFrame {
    return this.na.replace(toReplace, value, subset);
  }

  // ------------------------------------------------------------------ actions

  /** All rows. */
  async collect(): Promise<Row[]> {
    return this.engine.collect(this.plan);
  }
  /** The first `num` rows. */
  async take(num: number): Promise<Row[]> {
    return this.engine.collect(this.limit(num).plan, { limit: num });
  }
  /** `head()`: the first row or null; `head(n)`: the first n rows. */
  head(): Promise<Row | null>;
  head(n: number): Promise<Row[]>;
  async head(n?: number): Promise<Row | Row[] | null> {
    if (n === undefined) return (await this.take(1))[0] ?? null;
    return this.take(n);
  }
  /** The first row, or null when there is none. */
  async first(): Promise<Row | null> {
    return this.head();
  }
  /** The last `num` rows (all rows travel to the client, as in Spark). */
  async tail(num: number): Promise<Row[]> {
    if (num <= 0) return [];
    const rows = await this.collect();
    return rows.slice(-num);
  }
  /** The number of rows. */
  async count(): Promise<number> {
    return this.engine.count(this.plan);
  }
  /** Whether there are no rows. */
  async isEmpty(): Promise<boolean> {
    return (await this.take(1)).length === 0;
  }
  /** The rows one at a time (they are fetched with one collect). */
  async *toLocalIterator(_prefetchPartitions = false): AsyncGenerator<Row, void, undefined> {
    void _prefetchPartitions;
    for (const row of await this.collect()) yield row;
  }
  /**
   * The rows as an apache-arrow `Table` (collected to the client), with Arrow types from the
   * schema: long → Int64, int → Int32, double → Float64, decimal → Decimal128, string → Utf8,
   * boolean → Bool, date → DateDay, timestamp → TimestampMicrosecond, array → List, struct → Struct.
   */
  toArrow(): Promise<Table> {
    return this.engine.toArrow(this.plan);
  }

  /**
   * Prints the first `n` rows as Spark's table: `show(n = 20, truncate = true, vertical = false)`;
   * truncate true cuts cells at 20 characters, a number at that many, false not at all. An
   * options object `{ n, truncate, vertical }` may be given instead.
   */
  async show(
    n:
      | number
      | { readonly n?: number; readonly truncate?: boolean | number; readonly vertical?: boolean } = 20,
    truncate: boolean | number = true,
    vertical = false,
  ): Promise<void> {
    let count: number;
    if (typeof n === 'object') {
      count = n.n ?? 20;
      truncate = n.truncate ?? true;
      vertical = n.vertical ?? false;
    } else count = n;
    if (!Number.isInteger(count)) throw new InvalidOperationError('[NOT_INT] Argument `n` should be an int.');
    const shown = Math.max(0, count);
    // Rows as arrays where the engine can: a join's two `name` columns keep their own values.
    const rows = this.engine.collectArrays
      ? (await this.engine.collectArrays(this.limit(shown + 1).plan)).rows
      : await this.take(shown + 1);
    const text = formatShow(this.schema, rows, {
      n: shown,
      truncate,
      vertical,
      hasMore: rows.length > shown,
    });
    this.out(text + '\n');
  }

  // ------------------------------------------------------------------ views, writing, RDD

  /** Registers a temporary view; fails with `[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS]` if one has the name. */
  createTempView(name: string): void {
    this.engine.createView(name, this.plan, { replace: false, global: false });
  }
  /** Registers or replaces a temporary view. */
  createOrReplaceTempView(name: string): void {
    this.engine.createView(name, this.plan, { replace: true, global: false });
  }
  /** Registers a global temporary view (`global_temp.name`); fails if one has the name. */
  createGlobalTempView(name: string): void {
    this.engine.createView(name, this.plan, { replace: false, global: true });
  }
  /** Registers or replaces a global temporary view (`global_temp.name`). */
  createOrReplaceGlobalTempView(name: string): void {
    this.engine.createView(name, this.plan, { replace: true, global: true });
  }
  /** The writer of this DataFrame's rows (`df.write.mode('overwrite').parquet(path)`). */
  get write(): DataFrameWriter {
    return new DataFrameWriter(this.engine, this.plan);
  }
  /** The rows as an RDD of Rows, computed on the workers. */
  get rdd(): RDD<Row> {
    return this.engine.toRdd(this.plan);
  }
  /** PySpark's repr: `DataFrame[a: int, b: string]`. */
  toString(): string {
    try {
      return `DataFrame[${this.schema.fields.map((f) => `${f.name}: ${f.dataType.simpleString()}`).join(', ')}]`;
    } catch {
      return 'DataFrame[…]';
    }
  }
}
