/**
 * `SparkSession` (`sc.session`): the entry point of DataFrames and SQL, with PySpark's surface —
 * `read`, `sql`, `createDataFrame`, `range`, `table`, `catalog`, `conf`, `sparkContext`. A
 * DataFrame is a plan on the client; its actions run as stages on the context's backend.
 */
import { DataFrame } from '../dataframe/dataframe.js';
import { Column, colExpr, litExpr, type ColumnOrName } from '../dataframe/column.js';
import type { UserDefinedFunction } from '../dataframe/functions.js';
import { callSite } from '../rdd/call-site.js';
import { shipFunction } from '../rdd/functions.js';
import { setExpressionParser } from '../dataframe/expr-parser.js';
import { RDD as RDDClass, type RDD, type RDDContext } from '../rdd/rdd.js';
import { fromArrow, isArrowTable, type ArrowTableLike } from './arrow.js';
import { AnalysisException } from './errors.js';
import { parseExpression, parseStatement, type Statement } from './parser/parser.js';
import type { ParamBinder } from './parser/build.js';
import type { DataSourceSpec, Relation } from './plan/unresolved.js';
import {
  BOOLEAN_SETTINGS,
  BYTES_SETTINGS,
  POSITIVE_INT_SETTINGS,
  SessionEngine,
  booleanSetting,
  bytesSetting,
  positiveIntSetting,
} from './session-engine.js';
import { literalType } from './analysis/analyzer.js';
import {
  ArrayType,
  DataType,
  DoubleType,
  MapType,
  LongType,
  NullType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  parseSchema,
  parseDataType,
  commonType,
} from './types.js';

setExpressionParser(parseExpression);

/** `spark.conf`: runtime configuration with Spark's key names. */
export class RuntimeConfig {
  private readonly values = new Map<string, string>();
  /** The value of `key`, or `fallback`. */
  get(key: string, fallback?: string): string | undefined {
    return this.values.get(key) ?? fallback;
  }
  /**
   * Sets `key` (values are strings, as in Spark). A bad value of a setting the engine reads (a
   * boolean, a size in bytes, a positive integer) is a ConfigError naming it, and is not kept.
   */
  set(key: string, value: string | number | boolean): void {
    if (BOOLEAN_SETTINGS.has(key)) booleanSetting(key, String(value), false);
    if (BYTES_SETTINGS.has(key)) bytesSetting(key, String(value), 0);
    if (POSITIVE_INT_SETTINGS.has(key)) positiveIntSetting(key, String(value), 1);
    this.values.set(key, String(value));
  }
  /** Removes a setting. */
  unset(key: string): void {
    this.values.delete(key);
  }
  /** Every setting. */
  getAll(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}

/** A table entry of `catalog.listTables()`. */
export interface CatalogTable {
  readonly name: string;
  readonly catalog: string | null;
  readonly namespace: string[] | null;
  readonly description: string | null;
  readonly tableType: 'TEMPORARY';
  readonly isTemporary: boolean;
}

/** `spark.catalog`: the session's temporary views. */
export class SessionCatalog {
  constructor(private readonly engine: SessionEngine) {}
  /** The temporary views (global ones under `global_temp`). */
  listTables(dbName?: string): CatalogTable[] {
    return this.engine
      .listViews()
      .filter((v) => (dbName === 'global_temp' ? v.global : !v.global))
      .map((v) => ({
        name: v.name,
        catalog: null,
        namespace: v.global ? ['global_temp'] : [],
        description: null,
        tableType: 'TEMPORARY',
        isTemporary: true,
      }));
  }
  /** Whether a table or view exists. */
  tableExists(name: string): boolean {
    return this.engine.hasView(name);
  }
  /** Drops a temporary view; true when it existed. */
  dropTempView(name: string): boolean {
    return this.engine.dropView(name);
  }
  /** Drops a global temporary view; true when it existed. */
  dropGlobalTempView(name: string): boolean {
    return this.engine.dropView(`global_temp.${name}`);
  }
}

/** Options of `read.csv`/`read.json` (PySpark's keyword arguments). */
export type ReadOptions = Readonly<Record<string, string | number | boolean | undefined>> & {
  readonly schema?: StructType | string;
};

/** `spark.read`: loads files into DataFrames. */
export class DataFrameReader {
  private fmt = 'parquet';
  private opts: Record<string, string> = {};
  private schemaValue: StructType | undefined;

  constructor(private readonly session: SparkSession) {}

  /** The source format: parquet, csv, json, text. */
  format(source: string): this {
    this.fmt = source.toLowerCase();
    return this;
  }
  /** One option. */
  option(key: string, value: string | number | boolean): this {
    this.opts[key] = String(value);
    return this;
  }
  /** Several options. */
  options(o: Readonly<Record<string, string | number | boolean>>): this {
    for (const [k, v] of Object.entries(o)) this.opts[k] = String(v);
    return this;
  }
  /** The schema, as a StructType or a DDL string. */
  schema(s: StructType | string): this {
    this.schemaValue = typeof s === 'string' ? parseSchema(s) : s;
    return this;
  }
  /** Loads `paths` in the configured format. */
  load(...paths: Array<string | readonly string[]>): Promise<DataFrame> {
    return this.session._read(this.fmt, paths.flat(), this.opts, this.schemaValue);
  }
  /** Parquet files (a file, a directory, a glob, or several paths). */
  parquet(...paths: Array<string | readonly string[]>): Promise<DataFrame> {
    return this.format('parquet').load(...paths);
  }
  /** CSV files; options as PySpark's keywords: `{ header: true, inferSchema: true, sep: ';' }`. */
  csv(path: string | readonly string[], options: ReadOptions = {}): Promise<DataFrame> {
    this.applyOptions(options);
    return this.format('csv').load(path);
  }
  /** JSON lines files. */
  json(path: string | readonly string[], options: ReadOptions = {}): Promise<DataFrame> {
    this.applyOptions(options);
    return this.format('json').load(path);
  }
  /** Text files: one row per line, a column `value`. */
  text(...paths: Array<string | readonly string[]>): Promise<DataFrame> {
    this.schemaValue = new StructType([new StructField('value', new StringType())]);
    return this.format('text').load(...paths);
  }
  private applyOptions(options: ReadOptions): void {
    for (const [k, v] of Object.entries(options)) {
      if (v === undefined) continue;
      if (k === 'schema') this.schema(v as StructType | string);
      else this.opts[k] = String(v);
    }
  }
}

/** `spark.udf`: registers user-defined functions for SQL text. */
export class UDFRegistration {
  constructor(private readonly engine: SessionEngine) {}
  /**
   * Registers `f` as `name` for `spark.sql` (`SELECT plus_one(x) FROM t`) and returns it as a UDF
   * for the DataFrame API. `f` is a function (shipped as `F.udf` ships it: checked for captured
   * variables, `env` as its last parameter) with `returnType` (default string), or a UDF made by
   * `F.udf` (then `returnType` must not be given, as in PySpark).
   */
  register<E = undefined>(
    name: string,
    f: ((...args: never[]) => unknown) | UserDefinedFunction,
    returnType?: DataType | string,
    env?: E,
  ): UserDefinedFunction {
    let u: UserDefinedFunction;
    if (isUdf(f)) {
      if (returnType !== undefined)
        throw new AnalysisException(
          'CANNOT_SPECIFY_RETURN_TYPE_FOR_UDF',
          `[CANNOT_SPECIFY_RETURN_TYPE_FOR_UDF] Invalid returnType: returnType can not be specified when f is a user-defined function, but got ${String(returnType)}.`,
        );
      u = f;
    } else u = udfOf(f, returnType ?? new StringType(), env, 'spark.udf.register');
    this.engine.registerUdf(name, u.func, u.returnType);
    return renamedUdf(u, name);
  }
}

function isUdf(f: unknown): f is UserDefinedFunction {
  return typeof f === 'function' && 'func' in f && 'returnType' in f;
}

function udfOf(
  fn: (...args: never[]) => unknown,
  returnType: DataType | string,
  env: unknown,
  where: string,
): UserDefinedFunction {
  const shipped = shipFunction(fn, env, where, callSite());
  const type = typeof returnType === 'string' ? parseDataType(returnType) : returnType;
  const name = fn.name && fn.name !== 'anonymous' ? fn.name : '<lambda>';
  return renamedUdf(
    Object.assign(() => undefined as never, { func: shipped, returnType: type, functionName: name }),
    name,
  );
}

/** The UDF under `name`: its calls are named `name(args)` in column names, as Spark names them. */
function renamedUdf(u: UserDefinedFunction, name: string): UserDefinedFunction {
  const call = (...cols: ColumnOrName[]): Column =>
    new Column({
      type: 'commonInlineUserDefinedFunction',
      functionName: name,
      arguments: cols.map(colExpr),
      fn: u.func,
      returnType: u.returnType,
    });
  return Object.assign(call, { func: u.func, returnType: u.returnType, functionName: name });
}

/** The entry point to DataFrames and SQL for one context. */
export class SparkSession {
  /** @internal */
  readonly engine: SessionEngine;
  /** Runtime configuration (`spark.sql.shuffle.partitions`, `spark.sql.autoBroadcastJoinThreshold`). */
  readonly conf = new RuntimeConfig();
  /** The temporary views. */
  readonly catalog: SessionCatalog;
  /** Registers UDFs for SQL text (`spark.udf.register(name, f, returnType)`). */
  readonly udf: UDFRegistration;

  constructor(readonly sparkContext: RDDContext) {
    this.engine = new SessionEngine(sparkContext, this.conf, parseExpression);
    this.catalog = new SessionCatalog(this.engine);
    this.udf = new UDFRegistration(this.engine);
  }

  /** A reader of files (`spark.read.parquet(path)`). */
  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  private df(plan: Relation): DataFrame {
    return new DataFrame(this.engine, { ...plan, planId: this.engine.newPlanId() });
  }

  /** @internal Builds the read relation after listing the files and inferring the schema. */
  async _read(
    format: string,
    paths: readonly string[],
    options: Record<string, string>,
    schema?: StructType,
  ): Promise<DataFrame> {
    if (!['parquet', 'csv', 'json', 'text'].includes(format))
      throw new AnalysisException(
        'DATA_SOURCE_NOT_FOUND',
        `[DATA_SOURCE_NOT_FOUND] Failed to find the data source: ${format}. Supported: parquet, csv, json, text.`,
      );
    if (paths.length === 0)
      throw new AnalysisException(
        'INVALID_PARAMETER_VALUE',
        '[INVALID_PARAMETER_VALUE] read: give at least one path.',
      );
    const base: DataSourceSpec = {
      format,
      paths: [...paths],
      options: { ...options },
      ...(schema && { schema }),
    };
    const { schema: inferred, partitionColumns } = await this.engine.inferSchema(base);
    const ds: DataSourceSpec = {
      ...base,
      schema: inferred,
      ...(partitionColumns.length > 0 && { partitionColumns }),
    };
    await this.engine.resolveSource(ds);
    return this.df({ type: 'read', dataSource: ds });
  }

  /** A DataFrame with one column `id` (long): start until end by step. */
  range(start: number, end?: number, step = 1, numPartitions?: number): DataFrame {
    const [s, e] = end === undefined ? [0, start] : [start, end];
    return this.df({
      type: 'range',
      start: s,
      end: e,
      step,
      ...(numPartitions !== undefined && { numPartitions }),
    });
  }

  /** The DataFrame of a temporary view. */
  table(name: string): DataFrame {
    const df = this.df({ type: 'read', namedTable: name });
    void df.schema;
    return df;
  }

  /**
   * A DataFrame from rows: objects, or arrays with column names (`schema` as names, a DDL string
   * such as `'id INT, name STRING'`, or a StructType); or from an Arrow `Table` (its schema's
   * types); or from an RDD of rows, which is asynchronous: the schema is inferred from the first
   * 100 elements (a job), as PySpark does, unless given, and the rows are encoded on the workers.
   */
  createDataFrame(
    data: readonly unknown[] | ArrowTableLike,
    schema?: StructType | string | readonly string[],
  ): DataFrame;
  createDataFrame(data: RDD<unknown>, schema?: StructType | string | readonly string[]): Promise<DataFrame>;
  createDataFrame(
    data: readonly unknown[] | RDD<unknown> | ArrowTableLike,
    schema?: StructType | string | readonly string[],
  ): DataFrame | Promise<DataFrame> {
    if (data instanceof RDDClass) return this.fromRdd(data, schema);
    if (!Array.isArray(data)) {
      if (isArrowTable(data)) {
        const t = fromArrow(data);
        return this.createDataFrame(t.rows, schema ?? t.schema);
      }
      throw new AnalysisException(
        'INVALID_TYPE',
        '[INVALID_TYPE] createDataFrame: data must be an array of rows, an RDD or an Arrow Table.',
      );
    }
    const { struct, arrays } = rowsAndSchema(data as readonly unknown[], schema);
    return this.df({
      type: 'localRelation',
      schema: struct,
      rows: arrays,
      numPartitions: this.sparkContext.defaultParallelism,
    });
  }

  private async fromRdd(
    rdd: RDD<unknown>,
    schema?: StructType | string | readonly string[],
  ): Promise<DataFrame> {
    const struct =
      schema instanceof StructType
        ? schema
        : typeof schema === 'string'
          ? parseSchema(schema)
          : rowsAndSchema(await rdd.take(100), schema).struct;
    return this.df(this.engine.rddRelation(rdd, struct));
  }

  /**
   * Runs a Spark SQL statement. A query returns its DataFrame; commands return a DataFrame of their
   * output. `args` binds parameter markers as Spark does: an object binds `:name` markers, an array
   * `?` markers by position; each value is a literal (as `F.lit` takes it) or a Column such as
   * `F.array(...)`. A marker without a value is UNBOUND_SQL_PARAMETER. Errors reject the promise.
   */
  sql(query: string, args?: Readonly<Record<string, unknown>> | readonly unknown[]): Promise<DataFrame> {
    return new Promise((resolve) => resolve(this.statement(parseStatement(query, paramBinder(args)))));
  }

  private statement(s: Statement): DataFrame {
    switch (s.kind) {
      case 'query': {
        // Analyzed at the call, as in Spark: a bad query fails here, before any job runs.
        const df = this.df(s.plan);
        void df.schema;
        return df;
      }
      case 'createView': {
        if (s.ifNotExists && this.engine.hasView(s.global ? `global_temp.${s.name}` : s.name))
          return this.createDataFrame([], new StructType([]));
        this.engine.createView(s.name, s.plan, { replace: s.replace, global: s.global });
        return this.createDataFrame([], new StructType([]));
      }
      case 'dropView': {
        const existed = this.engine.dropView(s.name);
        if (!existed && !s.ifExists)
          throw new AnalysisException(
            'TABLE_OR_VIEW_NOT_FOUND',
            `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${s.name}\` cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.`,
            { relationName: '`' + s.name + '`' },
          );
        return this.createDataFrame([], new StructType([]));
      }
      case 'showTables': {
        const rows = this.engine
          .listViews()
          .filter((v) => !v.global)
          .map((v) => ['', v.name, true]);
        return this.createDataFrame(rows, 'namespace STRING, tableName STRING, isTemporary BOOLEAN');
      }
      case 'describe': {
        const plan: Relation =
          s.target.kind === 'table' ? { type: 'read', namedTable: s.target.name } : s.target.plan;
        const schema = this.engine.schemaOf(plan);
        return this.createDataFrame(
          schema.fields.map((f) => [f.name, f.dataType.simpleString(), null]),
          'col_name STRING, data_type STRING, comment STRING',
        );
      }
      case 'explain': {
        const inner = s.statement;
        if (inner.kind !== 'query')
          return this.createDataFrame([[`== Physical Plan ==\n${inner.kind}\n`]], 'plan STRING');
        return this.createDataFrame([[this.engine.explain(inner.plan, s.mode)]], 'plan STRING');
      }
      case 'setConf': {
        if (s.key !== undefined && s.value !== undefined) this.conf.set(s.key, s.value);
        const entries =
          s.key !== undefined
            ? [[s.key, this.conf.get(s.key) ?? '<undefined>']]
            : Object.entries(this.conf.getAll());
        return this.createDataFrame(entries, 'key STRING, value STRING');
      }
      case 'cacheTable':
      case 'uncacheTable':
        throw new AnalysisException(
          'UNSUPPORTED_FEATURE',
          `[UNSUPPORTED_FEATURE] ${s.kind === 'cacheTable' ? 'CACHE TABLE' : 'UNCACHE TABLE'} is not supported yet; use spark.table(name).cache().`,
        );
    }
  }

  /** Ends nothing of its own: the context owns the resources (`sc.stop()`). */
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Rows (objects, or arrays by position) as arrays in schema order, with the schema: given (a
 * StructType or DDL), or inferred from the values (names given, or the first row's keys, or
 * `_1`, `_2`, … for arrays).
 */
function rowsAndSchema(
  rows: readonly unknown[],
  schema: StructType | string | readonly string[] | undefined,
): { struct: StructType; arrays: unknown[][] } {
  let struct: StructType;
  let arrays: unknown[][];
  if (schema instanceof StructType || typeof schema === 'string') {
    struct = typeof schema === 'string' ? parseSchema(schema) : schema;
    arrays = rows.map((r) =>
      Array.isArray(r)
        ? [...(r as unknown[])]
        : struct.fields.map((f) => (r as Record<string, unknown>)[f.name] ?? null),
    );
  } else {
    const names =
      schema ??
      (rows.length > 0 && !Array.isArray(rows[0])
        ? Object.keys(rows[0] as object)
        : rows.length > 0
          ? (rows[0] as unknown[]).map((_, i) => `_${i + 1}`)
          : []);
    arrays = rows.map((r) =>
      Array.isArray(r) ? [...(r as unknown[])] : names.map((n) => (r as Record<string, unknown>)[n] ?? null),
    );
    struct = new StructType(
      names.map((n, i) => new StructField(n, inferColumn(arrays.map((a) => a[i])), true)),
    );
    if (rows.length === 0 && names.length === 0)
      throw new AnalysisException(
        'CANNOT_INFER_EMPTY_SCHEMA',
        '[CANNOT_INFER_EMPTY_SCHEMA] Can not infer schema from an empty dataset: give a schema.',
      );
  }
  for (const [i, r] of arrays.entries())
    if (r.length !== struct.fields.length)
      throw new AnalysisException(
        'AXIS_LENGTH_MISMATCH',
        `[LENGTH_SHOULD_BE_THE_SAME] row ${i} has ${r.length} values but the schema has ${struct.fields.length} fields.`,
      );
  return { struct, arrays };
}

/**
 * The Spark type of a JS column, as PySpark infers one: long when every number is an integer,
 * else double; Date → timestamp; an array → array of its elements' common type; a Map → map.
 */
function inferColumn(values: Iterable<unknown>): DataType {
  let t: DataType = new NullType();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    t = commonType(t, inferValue(v)) ?? new StringType();
  }
  return t instanceof NullType ? new StringType() : t;
}

function inferNested(values: Iterable<unknown>): DataType {
  let t: DataType = new NullType();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    t = commonType(t, inferValue(v)) ?? new StringType();
  }
  return t;
}

function inferValue(v: unknown): DataType {
  if (typeof v === 'number') return Number.isInteger(v) ? new LongType() : new DoubleType();
  if (v instanceof Date) return new TimestampType();
  if (Array.isArray(v)) return new ArrayType(inferNested(v));
  if (v instanceof Map) {
    const m = v as Map<unknown, unknown>;
    return new MapType(inferNested(m.keys()), inferNested(m.values()));
  }
  return literalType(v);
}

/** Binds `sql`'s parameter markers from its `args`: names from an object, positions from an array. */
function paramBinder(
  args: Readonly<Record<string, unknown>> | readonly unknown[] | undefined,
): ParamBinder | undefined {
  if (args === undefined) return undefined;
  return (marker, unbound) => {
    if (Array.isArray(args)) {
      return 'index' in marker && marker.index < args.length ? litExpr(args[marker.index]) : unbound();
    }
    const named = args as Readonly<Record<string, unknown>>;
    return 'name' in marker && Object.hasOwn(named, marker.name) ? litExpr(named[marker.name]) : unbound();
  };
}
