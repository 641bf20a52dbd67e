/**
 * The engine behind a SparkSession, on the client: the catalog of temp views, the analyzer, the
 * optimizer and the distributed planner; it turns a query's stages into RDD nodes (op `sql`), so
 * a stage's task is an ordinary job of the context (posted, claimed, leased, parked for missing
 * shuffle outputs, recomputed from lineage when a holder dies), in process or on a cluster.
 * Results come back as Parquet batches and are decoded here; a write's tasks write their own
 * files, which this engine's job commit moves into place.
 */
import { randomUUID } from 'node:crypto';
import { rm, rmdir, writeFile, stat, mkdir, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { scratchPath } from './exec/scratch.js';

import type { Table } from 'apache-arrow';
import { hasDuplicateNames, makeRow } from '../dataframe/engine.js';
import type { SqlEngine, Row, WriteSpec, ExplainMode } from '../dataframe/engine.js';
import type { Callable } from '../rdd/functions.js';
import type { NodeParams } from '../rdd/lineage.js';
import { RDD, type RDDContext } from '../rdd/rdd.js';
import { DirectPartitioner, determineBounds } from '../rdd/partitioner.js';
import { lib } from '../rdd/functions.js';
import { ConfigError, InvalidOperationError } from '../protocol/errors.js';
import { Analyzer, type Catalog, type ExpressionParser } from './analysis/analyzer.js';
import { AnalysisException } from './errors.js';
import {
  duckdb,
  filesUnder,
  sortKeySql,
  type FragmentInput,
  type FragmentTask,
  decodeResultRows,
  type KeySample,
  type ResultRows,
  type WriteOutput,
} from './exec/fragment.js';
import type { FragmentUdf } from './exec/udf.js';
import { typeDdl } from './exec/values.js';
import { readBatches } from './exec/rows.js';
import {
  children,
  mapExpr,
  maxRows,
  nodeExprs,
  outerIds,
  visitExpr,
  type LNode,
  type Expr,
  type Attr,
} from './plan/logical.js';
import type { DataSourceSpec, Relation } from './plan/unresolved.js';
import { optimize } from './optimizer/optimizer.js';
import { userCall } from '../rdd/call-site.js';
import {
  csvHeaderSchema,
  inferJsonSchema,
  discoverPartitions,
  listFiles,
  narrowCsvIntegers,
  respellPartitionDirs,
  readerOptions,
  recordsSpec,
} from './sources.js';
import { DistributedPlanner, stageOrder, type KnownSide, type Stage } from './physical/planner.js';
import { defaultFilePacking, packFiles } from './physical/file-splits.js';
import { Renderer, col, literalSql } from './physical/render.js';
import { explainPlan, stageText } from './physical/explain.js';
import {
  BooleanType,
  ByteType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  NullType,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  fromDuckDB,
  quoteIdent,
  sqlString,
  type DataType,
} from './types.js';

/** The most rows a result may be bounded to for its tasks to return rows instead of Parquet (see `runPlan`). */
export const SMALL_RESULT_ROWS = 10_000;

/** Types whose values the wire codec carries exactly (a negative zero is restored by `decodeResultRows`). */
const ROW_TYPES: ReadonlyArray<abstract new (...args: never[]) => DataType> = [
  BooleanType,
  ByteType,
  ShortType,
  IntegerType,
  LongType,
  FloatType,
  DoubleType,
  DecimalType,
  StringType,
  DateType,
  TimestampType,
  NullType,
];

/** Whether a result column of type `t` may come back as rows (see `runPlan`). */
function carriedAsRows(t: DataType): boolean {
  return ROW_TYPES.some((c) => t instanceof c);
}

/**
 * The columns of a plan's result as its tasks return them as rows (see `ResultRows`), or
 * undefined when they return Parquet: when the plan is not bounded to {@link SMALL_RESULT_ROWS}
 * rows, or a column's type is not one the wire codec carries exactly.
 */
export function resultRowsColumns(plan: LNode): ResultRows | undefined {
  const bound = maxRows(plan);
  if (bound === undefined || bound > SMALL_RESULT_ROWS || !plan.output.every((a) => carriedAsRows(a.type)))
    return undefined;
  return plan.output.map((a) => [col(a.id), typeDdl(a.type)] as const);
}

/** The setting that profiles every SQL stage's fragment in DuckDB (default false; about 1.75x per small query). */
export const OPERATOR_METRICS_KEY = 'spark.microspark.sql.operatorMetrics';

/**
 * Adaptive execution (Spark's `spark.sql.adaptive.enabled`, default true): a join side hashed on
 * a guessed size runs first, and the join is chosen again from its real bytes.
 */
export const ADAPTIVE_KEY = 'spark.sql.adaptive.enabled';

/** Settings that must be booleans (`true`/`false`, any case), refused at `spark.conf.set` otherwise. */
export const BOOLEAN_SETTINGS: ReadonlySet<string> = new Set([OPERATOR_METRICS_KEY, ADAPTIVE_KEY]);

/** A boolean setting's value (`undefined`: `fallback`); anything but `true`/`false` is a {@link ConfigError} naming the key. */
export function booleanSetting(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(`${key} must be true or false, got '${value}'`, key);
}

/** Settings whose value is a size in bytes (`10485760`, `10m`, `512k`, `1g`, `-1`). */
export const BYTES_SETTINGS: ReadonlySet<string> = new Set([
  'spark.sql.autoBroadcastJoinThreshold',
  'spark.microspark.sql.smallInputThreshold',
  'spark.sql.files.maxPartitionBytes',
  'spark.sql.files.openCostInBytes',
]);

/** Settings whose value is a positive integer. */
export const POSITIVE_INT_SETTINGS: ReadonlySet<string> = new Set([
  'spark.sql.shuffle.partitions',
  'spark.sql.files.minPartitionNum',
]);

/**
 * A size setting in bytes: digits with an optional unit (`b`, `k`, `m`, `g`, optionally followed
 * by `b`, any case); `fallback` when unset. Anything else is a ConfigError naming the key.
 */
export function bytesSetting(key: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(-?\d+)\s*([bkmg]?)b?$/i.exec(value.trim());
  if (!m)
    throw new ConfigError(`${key} must be a size in bytes such as 10485760, 10m or -1, got '${value}'`, key);
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
}

/** A positive integer setting; `fallback` when unset. Anything else is a ConfigError naming the key. */
export function positiveIntSetting(key: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ConfigError(`${key} must be a positive integer, got '${value}'`, key);
  return n;
}

/** `spark.conf` values the engine reads. */
export interface SqlConf {
  get(key: string): string | undefined;
}

/** A view in the catalog. */
interface View {
  readonly plan: Relation;
}

/** The SparkSession's engine. */
export class SessionEngine implements SqlEngine, Catalog {
  private planIds = 0;
  private readonly views = new Map<string, View>();
  private readonly cached = new Map<
    string,
    { rdd?: RDD<unknown>; plan: Relation; level: string; source?: true }
  >();
  readonly analyzer: Analyzer;
  private nextCache = 0;

  constructor(
    private readonly sc: RDDContext,
    private readonly conf: SqlConf,
    parseExpression: ExpressionParser,
  ) {
    this.analyzer = new Analyzer(
      this,
      parseExpression,
      {
        caseSensitive: false,
        // spark.sql.ansi.enabled, read at each analysis (Spark 4's default: true).
        get ansi() {
          return (conf.get('spark.sql.ansi.enabled') ?? 'true').trim().toLowerCase() !== 'false';
        },
      },
      (name) => this.udfs.get(name),
    );
  }

  private readonly udfs = new Map<string, { name: string; fn: Callable; returnType: DataType }>();

  /** Registers a UDF under `name` for SQL text (`spark.udf.register`); replaces one of that name. */
  registerUdf(name: string, fn: Callable, returnType: DataType): void {
    this.udfs.set(name.toLowerCase(), { name, fn, returnType });
  }

  newPlanId(): number {
    return ++this.planIds;
  }

  lookupView(name: string): Relation | undefined {
    return this.views.get(name.toLowerCase())?.plan;
  }

  viewNames(): string[] {
    return [...this.views.keys()];
  }

  /** Whether a view exists. */
  hasView(name: string): boolean {
    return this.views.has(name.toLowerCase());
  }

  /** Drops a view; true when it existed. */
  dropView(name: string): boolean {
    return this.views.delete(name.toLowerCase());
  }

  /** The views, for `catalog.listTables()`. */
  listViews(): Array<{ name: string; global: boolean }> {
    return [...this.views.keys()].map((k) => ({
      name: k.startsWith('global_temp.') ? k.slice('global_temp.'.length) : k,
      global: k.startsWith('global_temp.'),
    }));
  }

  createView(name: string, plan: Relation, opts: { replace: boolean; global: boolean }): void {
    const key = (opts.global ? `global_temp.${name}` : name).toLowerCase();
    if (!opts.replace && this.views.has(key))
      throw new AnalysisException(
        'TEMP_TABLE_OR_VIEW_ALREADY_EXISTS',
        `[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view \`${name}\` because it already exists.\nChoose a different name, drop or replace the existing view,  or add the IF NOT EXISTS clause to tolerate pre-existing views.`,
        { relationName: '`' + name + '`' },
      );
    // Resolve now, so a bad view fails at creation as in Spark.
    this.analyzer.analyze(plan);
    this.views.set(key, { plan });
  }

  schemaOf(plan: Relation): StructType {
    const n = this.analyzer.analyze(plan);
    return new StructType(n.output.map((a) => new StructField(a.name, a.type, a.nullable)));
  }

  private shufflePartitions(): number {
    const key = 'spark.sql.shuffle.partitions';
    return positiveIntSetting(key, this.conf.get(key), this.sc.defaultParallelism);
  }

  /** A size setting in bytes (`10485760`, `10m`, `512k`, `-1`), or `fallback` when unset or malformed. */
  private bytesConf(key: string, fallback: number): number {
    return bytesSetting(key, this.conf.get(key), fallback);
  }

  /** Resolves, optimizes and prepares a plan for planning (scalar subqueries computed, caches built). */
  private async prepare(plan: Relation | LNode, signal?: AbortSignal): Promise<LNode> {
    const analyzed = 'k' in plan ? plan : this.analyzer.analyze(plan);
    const withScalars = await this.inlineScalarSubqueries(analyzed, signal);
    await this.buildCaches(withScalars);
    return optimize(withScalars, () => this.analyzer.newId());
  }

  /** Uncorrelated scalar subqueries run first; their value becomes a literal (Spark's ScalarSubquery). */
  private async inlineScalarSubqueries(n: LNode, signal?: AbortSignal): Promise<LNode> {
    const values = new Map<LNode, unknown>();
    const found: Array<Extract<Expr, { k: 'scalarSubquery' }>> = [];
    const collectSubs = (x: LNode): void => {
      for (const e of nodeExprs(x))
        visitExpr(e, (y) => {
          if (y.k === 'scalarSubquery' && outerIds(y.plan).size === 0) found.push(y);
          if (y.k === 'scalarSubquery' || y.k === 'exists' || y.k === 'inSubquery') collectSubs(y.plan);
        });
      for (const c of children(x)) collectSubs(c);
    };
    collectSubs(n);
    for (const s of found) {
      if (values.has(s.plan)) continue;
      const rows = await this.runPlan(s.plan, signal);
      if (rows.length > 1)
        throw new AnalysisException(
          'SCALAR_SUBQUERY_TOO_MANY_ROWS',
          '[SCALAR_SUBQUERY_TOO_MANY_ROWS] More than one row returned by a subquery used as an expression.',
        );
      values.set(s.plan, rows.length === 0 ? null : rows[0]![0]);
    }
    if (values.size === 0) return n;
    return mapPlanExprs(n, (e) =>
      mapExpr(e, (y) =>
        y.k === 'scalarSubquery' && values.has(y.plan)
          ? // A decimal arrives as a JS number whose shortest form is its decimal digits: keep them all.
            {
              k: 'lit',
              value: values.get(y.plan),
              type: y.type instanceof DecimalType ? new DecimalType(38, 10) : y.type,
            }
          : undefined,
      ),
    );
  }

  private async buildCaches(n: LNode): Promise<void> {
    for (const c of children(n)) await this.buildCaches(c);
    if (n.k !== 'cached') return;
    const entry = this.cached.get(n.cacheId);
    if (!entry || entry.rdd) return;
    const inner = await this.prepare(n.child);
    const rdd = await this.resultRdd(inner);
    rdd.persist();
    entry.rdd = rdd;
  }

  private plannerFor(known?: ReadonlyMap<LNode, KnownSide>): DistributedPlanner {
    return new DistributedPlanner(
      {
        shufflePartitions: this.shufflePartitions(),
        autoBroadcastJoinThreshold: this.bytesConf('spark.sql.autoBroadcastJoinThreshold', 10 * 1024 * 1024),
        smallInputThreshold: this.bytesConf('spark.microspark.sql.smallInputThreshold', 1024 * 1024),
        scanPartitions: (s) => Math.max(1, this.splitsOf(s).length),
        scanBytes: (s) =>
          this.splitsOf(s)
            .flat()
            .reduce((t, f) => t + (this.sizes.get(f) ?? 0), 0),
        cachedPartitions: (id) => this.cached.get(id)?.rdd?.getNumPartitions() ?? 1,
        cachedIsRdd: (id) => this.cached.get(id)?.source === true,
        defaultParallelism: this.sc.defaultParallelism,
      },
      () => this.analyzer.newId(),
      known,
    );
  }

  private readonly files = new Map<DataSourceSpec, string[]>();
  private readonly sizes = new Map<string, number>();

  /** Lists a source's files (once per source object) and their sizes. */
  async resolveSource(ds: DataSourceSpec): Promise<string[]> {
    let f = this.files.get(ds);
    if (!f) {
      f = await listFiles(ds.paths, ds.format);
      for (const p of f) this.sizes.set(p, (await stat(p)).size);
      this.files.set(ds, f);
    }
    return f;
  }

  /** A scan's partitions: its source's files packed as Spark packs them (file-splits.ts). */
  private splitsOf(s: Extract<LNode, { k: 'scan' }>): string[][] {
    const f = this.files.get(s.source) ?? [];
    const d = defaultFilePacking(this.sc.defaultParallelism);
    const minKey = 'spark.sql.files.minPartitionNum';
    return packFiles(f, (x) => this.sizes.get(x) ?? 0, {
      maxPartitionBytes: this.bytesConf('spark.sql.files.maxPartitionBytes', d.maxPartitionBytes),
      openCostInBytes: this.bytesConf('spark.sql.files.openCostInBytes', d.openCostInBytes),
      minPartitionNum: positiveIntSetting(minKey, this.conf.get(minKey), d.minPartitionNum),
    });
  }

  private async resolveScans(n: LNode): Promise<void> {
    if (n.k === 'scan') await this.resolveSource(n.source);
    const subplans: LNode[] = [];
    for (const e of nodeExprs(n))
      visitExpr(e, (y) => {
        if (y.k === 'scalarSubquery' || y.k === 'exists' || y.k === 'inSubquery') subplans.push(y.plan);
      });
    for (const p of subplans) await this.resolveScans(p);
    for (const c of children(n)) await this.resolveScans(c);
  }

  /**
   * The RDD of a query's result: one Parquet batch per partition. With adaptive execution on
   * (`spark.sql.adaptive.enabled`, default true), a join side the planner hashed on a guessed
   * size runs first (its map stage only, in this action); the query is planned again with its
   * real bytes, until no such side is left (see {@link DistributedPlanner}).
   */
  private async resultRdd(
    plan: LNode,
    site?: string,
    write?: WriteOutput,
    signal?: AbortSignal,
    rows?: ResultRows,
  ): Promise<RDD<unknown>> {
    await this.resolveScans(plan);
    const locals = new Map<LNode, RDD<unknown>>();
    const localsOf = async (root: Stage) => {
      for (const s of stageOrder(root))
        for (const i of s.inputs)
          if (i.kind === 'local' && !locals.has(i.node)) locals.set(i.node, await this.localRdd(i.node));
    };
    const built = new Map<Stage, RDD<unknown>>();
    const known = new Map<LNode, KnownSide>();
    const adaptive = booleanSetting(ADAPTIVE_KEY, this.conf.get(ADAPTIVE_KEY), true);
    let result: Stage;
    for (;;) {
      const planner = this.plannerFor(known);
      result = planner.plan(plan);
      const next = adaptive ? planner.candidates[0] : undefined;
      if (!next) break;
      // Run the side's map stage (its child stages too), in this action: the plan after it reads
      // the same RDDs, so their outputs are not computed again.
      await localsOf(next.stage);
      const side = this.stagesRdd(next.stage, (n) => locals.get(n)!, site, undefined, built);
      const out = next.stage.output;
      const probe = new RDD<unknown>(this.sc, {
        className: 'SQLStageRDD',
        op: 'sql',
        method: 'adaptive',
        numPartitions: 1,
        shuffles: [
          {
            rdd: side,
            partitioner: new DirectPartitioner(out.kind === 'hash' ? out.n : 1),
            mapSideCombine: false,
          },
        ],
        params: { task: { sql: 'SELECT 1', inputs: [], output: { kind: 'result' } } },
      });
      const [bytes] = await this.sc.submitMapStages(probe, signal ? { signal } : undefined);
      known.set(next.side, { stage: next.stage, leaf: next.leaf, bytes: bytes ?? 0 });
    }
    await localsOf(result);
    const rdd = this.stagesRdd(
      result,
      (n) => locals.get(n)!,
      site,
      write ?? (rows && { kind: 'result', rows }),
      built,
    );
    if (this.sc.reportSqlPlan) {
      // Numbered children first (adaptive planning leaves gaps and reorders the planners' ids).
      const stages = stageOrder(result);
      const ids = new Map(stages.map((s, i) => [s, i]));
      const idOf = (s: Stage) => ids.get(s)!;
      this.sc.reportSqlPlan(
        `== Physical Plan ==\n${stages.map((s) => stageText(s, idOf)).join('\n\n')}\n`,
        stages.map((s) => ({
          id: idOf(s),
          text: stageText(s, idOf),
          node: built.get(s)?.contentId ?? '',
          inputs: s.inputs.flatMap((i) => (i.kind === 'exchange' ? [idOf(i.stage)] : [])),
        })),
      );
    }
    return rdd;
  }

  /** The RDD of a planned query's result stage, its child stages built as its shuffle inputs. */
  private stagesRdd(
    result: Stage,
    localOf: (n: Extract<LNode, { k: 'local' }>) => RDD<unknown>,
    site?: string,
    /** The result stage's output: a write's, or a result's (Parquet, or rows); default a Parquet result. */
    final?: WriteOutput | Extract<FragmentTask['output'], { kind: 'result' }>,
    built = new Map<Stage, RDD<unknown>>(),
  ): RDD<unknown> {
    const build = (s: Stage): RDD<unknown> => {
      const have = built.get(s);
      if (have) return have;
      const names = new Map<LNode, string>();
      const inputs: FragmentInput[] = [];
      const parents: RDD<unknown>[] = [];
      const shuffles: Array<{ rdd: RDD<unknown>; partitioner: DirectPartitioner; mapSideCombine: boolean }> =
        [];
      s.inputs.forEach((input, i) => {
        const name = `in${i}`;
        names.set(input.node, name);
        const columns = input.node.output.map((a) => [col(a.id), a.type.duckdb()] as const);
        switch (input.kind) {
          case 'scan': {
            const n = input.node;
            const records = recordsSpec(n.source);
            inputs.push({
              ...(records && { records }),
              kind: 'files',
              name,
              format: n.source.format,
              splits: this.splitsOf(n),
              reader: readerOptions(n.source),
              columns: n.attrs.map((a) => [a.name, a.type.duckdb()] as const),
              ...(n.source.partitionColumns?.length && {
                partitions: n.attrs
                  .filter((a) => n.source.partitionColumns!.includes(a.name))
                  .map((a) => [a.name, a.type.duckdb()] as const),
              }),
            });
            break;
          }
          case 'range': {
            const n = input.node;
            inputs.push({
              kind: 'range',
              name,
              start: n.start,
              end: n.end,
              step: n.step,
              n: n.numPartitions || this.sc.defaultParallelism,
              column: col(n.output[0]!.id),
            });
            break;
          }
          case 'local':
            inputs.push({ kind: 'batches', name, from: 'parent', index: parents.length, columns });
            parents.push(localOf(input.node));
            break;
          case 'cached': {
            const rdd = this.cached.get(input.node.cacheId)?.rdd;
            if (!rdd) throw new InvalidOperationError('a cached DataFrame was not computed');
            inputs.push({ kind: 'batches', name, from: 'parent', index: parents.length, columns });
            // A small view: one task reads every cached partition (the planner's `oneTask`).
            parents.push(input.oneTask ? rdd.coalesce(1) : rdd);
            break;
          }
          case 'exchange': {
            const child = build(input.stage);
            const out = input.stage.output;
            const n = out.kind === 'hash' || out.kind === 'range' ? out.n : 1;
            inputs.push({
              kind: 'batches',
              name,
              from: 'shuffle',
              index: shuffles.length,
              columns,
              ...(out.kind === 'broadcast' && { broadcast: true }),
              ...(input.whole && { whole: true }),
            });
            shuffles.push({ rdd: child, partitioner: new DirectPartitioner(n), mapSideCombine: false });
            break;
          }
        }
      });
      const r = new Renderer((node) => names.get(node));
      const sql = r.query(s.root);
      const o = s.output;
      const sortKey =
        o.kind === 'range'
          ? sortKeySql(o.order.map((k) => ({ sql: r.expr(k.e), asc: k.asc, nullsFirst: k.nullsFirst })))
          : '';
      const output: FragmentTask['output'] =
        o.kind === 'hash'
          ? { kind: 'hash', n: o.n, keys: o.keys.map((k) => r.expr(k)) }
          : o.kind === 'broadcast'
            ? { kind: 'broadcast', n: o.n }
            : o.kind === 'single'
              ? { kind: 'single' }
              : o.kind === 'range'
                ? { kind: 'range', n: o.n, key: sortKey, bounds: [] }
                : (final ?? { kind: 'result' });
      // After the output's keys are rendered too: a UDF may be a hash key.
      const udfs: FragmentUdf[] = r.udfs.map((u) => ({
        sqlName: u.sqlName,
        name: u.expr.name,
        fn: u.expr.fn,
        args: u.expr.args.map((a) => typeDdl(a.type)),
        returns: typeDdl(u.expr.type),
        ...(u.expr.arrow && { arrow: { module: u.expr.arrow.module, signature: u.expr.arrow.signature } }),
      }));
      const columns = Object.fromEntries(
        s.root.output.map((a) => [col(a.id), [a.name, a.type.simpleString()] as const]),
      );
      const task: FragmentTask = {
        sql,
        inputs,
        output,
        columns,
        ...(udfs.length > 0 && { udfs }),
        ...(booleanSetting(OPERATOR_METRICS_KEY, this.conf.get(OPERATOR_METRICS_KEY), false) && {
          profile: true,
        }),
      };
      const stageRdd = (
        t: FragmentTask,
        method: string,
        deferred?: { params: () => NodeParams['sql']; prepare: () => Promise<void> },
      ) =>
        new RDD<unknown>(this.sc, {
          className: 'SQLStageRDD',
          op: 'sql',
          method,
          ...(site !== undefined && { site }),
          numPartitions: s.numPartitions,
          parents,
          shuffles,
          params: { task: t },
          ...deferred,
          identity: [
            t,
            inputs.map((i) =>
              i.kind === 'files' ? i.splits.flat().map((f) => [f, this.sizes.get(f) ?? 0]) : null,
            ),
          ],
        });
      let rdd: RDD<unknown>;
      if (o.kind === 'range') {
        // The bounds come from a sampling job over this stage's output, run when the action
        // prepares the lineage (Spark's RangePartitioner); the map tasks carry them.
        let bounds: string[] | undefined;
        const sampled = stageRdd(
          {
            ...task,
            output: { kind: 'sample', key: sortKey, ...sampleSize(o.n, s.numPartitions), seed: 42 },
          },
          'orderBy',
        );
        rdd = stageRdd(task, stageMethod(s.root), {
          prepare: async () => {
            bounds ??= o.n <= 1 ? [] : rangeBounds((await sampled.collect()) as Uint8Array[], o.n);
          },
          params: () => {
            if (!bounds)
              throw new InvalidOperationError('a range exchange ran before its bounds were sampled');
            return { task: { ...task, output: { kind: 'range', n: o.n, key: sortKey, bounds } } };
          },
        });
      } else rdd = stageRdd(task, stageMethod(s.root));
      built.set(s, rdd);
      return rdd;
    };
    return build(result);
  }

  /** Client rows as Parquet batches, one per partition, hosted like parallelize data. */
  private async localRdd(n: Extract<LNode, { k: 'local' }>): Promise<RDD<unknown>> {
    const parts = Math.min(n.numPartitions || 1, Math.max(1, n.rows.length));
    const db = await duckdb();
    const conn = await db.connect();
    const batches: Uint8Array[] = [];
    const made: string[] = [];
    try {
      const cols = n.output.map((a) => col(a.id));
      for (let p = 0; p < parts; p++) {
        const lo = Math.floor((p * n.rows.length) / parts);
        const hi = Math.floor(((p + 1) * n.rows.length) / parts);
        const rows = n.rows.slice(lo, hi);
        const select =
          n.output.length === 0
            ? // No columns (SELECT 1 without FROM reads one empty row): a placeholder column keeps the row count.
              rows.map(() => 'SELECT 1 AS __one').join(' UNION ALL ') || 'SELECT 1 AS __one WHERE FALSE'
            : rows.length === 0
              ? `SELECT ${n.output.map((a) => `CAST(NULL AS ${a.type.duckdb()}) AS ${col(a.id)}`).join(', ')} WHERE FALSE`
              : rows
                  .map(
                    (r) =>
                      `SELECT ${n.output.map((a, i) => `CAST(${literalSql(r[i] ?? null, a.type)} AS ${a.type.duckdb()}) AS ${cols[i]}`).join(', ')}`,
                  )
                  .join(' UNION ALL ');
        const file = scratchPath(`local-${p}.parquet`);
        made.push(file);
        await conn.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet)`);
        const { readFile } = await import('node:fs/promises');
        batches.push(await readFile(file));
      }
    } finally {
      conn.closeSync();
      for (const f of made) await rm(f, { force: true });
    }
    return (this.sc as unknown as { parallelize(d: unknown[], n: number): RDD<unknown> }).parallelize(
      batches,
      parts,
    );
  }

  /** Decodes Parquet batches into rows (arrays in column order). */
  private decode(
    batches: readonly Uint8Array[],
    output: readonly { id: number; type: DataType }[],
  ): Promise<unknown[][]> {
    return readBatches(
      batches,
      output.map((a) => col(a.id)),
      output.map((a) => a.type),
    );
  }

  /**
   * Runs a resolved plan; rows as arrays in output order. A result the plan bounds to at most
   * {@link SMALL_RESULT_ROWS} rows, of types the wire codec carries exactly, comes back from the
   * tasks as rows (no Parquet written there, none read here); others as Parquet batches.
   */
  async runPlan(plan: LNode, signal?: AbortSignal, site?: string): Promise<unknown[][]> {
    const optimized = await this.prepare(plan, signal);
    const rows = resultRowsColumns(optimized);
    const rdd = await this.resultRdd(optimized, site, undefined, signal, rows);
    const batches = (await rdd.collect()) as Uint8Array[];
    if (!rows) return this.decode(batches, optimized.output);
    const out: unknown[][] = [];
    for (const b of batches) for (const r of decodeResultRows(b)) out.push(r);
    return out;
  }

  async collect(plan: Relation, opts?: { limit?: number; signal?: AbortSignal }): Promise<Row[]> {
    const call = userCall();
    const p: Relation = opts?.limit !== undefined ? { type: 'limit', input: plan, limit: opts.limit } : plan;
    const analyzed = this.analyzer.analyze(p);
    const rows = await this.sc.withAction(
      () => this.runPlan(analyzed, opts?.signal, call.site),
      `${call.method ?? 'collect'} at ${call.site}`,
    );
    const names = analyzed.output.map((a) => a.name);
    const duplicates = hasDuplicateNames(names);
    return rows.map((r) => makeRow(names, r, duplicates));
  }

  /** Runs a plan and returns rows as arrays with the output names (for SQL commands and tests). */
  async collectArrays(plan: Relation): Promise<{ columns: string[]; types: DataType[]; rows: unknown[][] }> {
    const analyzed = this.analyzer.analyze(plan);
    const rows = await this.runPlan(analyzed);
    return { columns: analyzed.output.map((a) => a.name), types: analyzed.output.map((a) => a.type), rows };
  }

  async count(plan: Relation): Promise<number> {
    const rows = await this.collect({
      type: 'aggregate',
      input: plan,
      groupType: 'groupby',
      groupingExpressions: [],
      aggregateExpressions: [
        {
          type: 'alias',
          expr: {
            type: 'unresolvedFunction',
            functionName: 'count',
            arguments: [{ type: 'literal', value: 1 }],
            isDistinct: false,
          },
          name: ['count'],
        },
      ],
    });
    return Number(rows[0]?.count ?? 0);
  }

  explain(plan: Relation, mode: ExplainMode): string {
    const analyzed = this.analyzer.analyze(plan);
    const optimized = optimize(analyzed, () => this.analyzer.newId());
    return explainPlan(analyzed, optimized, mode, (o) => this.plannerFor().plan(o));
  }

  /** `df.toArrow()`: the rows collected, as an Arrow Table with types from the schema (see arrow.ts). */
  async toArrow(plan: Relation): Promise<Table> {
    const { columns, types, rows } = await this.collectArrays(plan);
    const analyzed = this.analyzer.analyze(plan);
    const schema = new StructType(
      columns.map((c, i) => new StructField(c, types[i]!, analyzed.output[i]?.nullable ?? true)),
    );
    const { toArrowTable } = await import('./arrow.js');
    return toArrowTable(rows, schema);
  }

  /**
   * `df.rdd`: the result stage's RDD (Parquet batches) followed by a library partition op that
   * decodes each batch into row objects inside the task, so what follows runs on the workers.
   * Built synchronously: client rows are encoded to batches on the workers, caches are defined
   * (not computed); an uncorrelated scalar subquery, which needs a job first, is refused.
   */
  toRdd(plan: Relation): RDD<Row> {
    const optimized = this.prepareSync(this.analyzer.analyze(plan));
    const rdd = this.syncRdd(optimized);
    const fields = optimized.output.map((a) => [col(a.id), a.name, typeDdl(a.type)] as const);
    return rdd.mapPartitionsInternal<Row>('rdd', lib('sqlRows', fields), false, false);
  }

  private prepareSync(analyzed: LNode): LNode {
    const found: LNode[] = [];
    const scan = (x: LNode): void => {
      for (const e of nodeExprs(x))
        visitExpr(e, (y) => {
          if (y.k === 'scalarSubquery' && outerIds(y.plan).size === 0) found.push(y.plan);
          if (y.k === 'scalarSubquery' || y.k === 'exists' || y.k === 'inSubquery') scan(y.plan);
        });
      for (const c of children(x)) scan(c);
    };
    scan(analyzed);
    if (found.length > 0)
      throw new AnalysisException(
        'UNSUPPORTED_FEATURE',
        '[UNSUPPORTED_FEATURE] df.rdd of a query with an uncorrelated scalar subquery: its value needs a job first. Collect the subquery (await df.collect()) and use its value as a literal (F.lit), or cache the DataFrame and collect once before taking .rdd.',
      );
    const buildCaches = (n: LNode): void => {
      for (const c of children(n)) buildCaches(c);
      if (n.k !== 'cached') return;
      const entry = this.cached.get(n.cacheId);
      if (!entry || entry.rdd) return;
      const rdd = this.syncRdd(this.prepareSync(n.child));
      rdd.persist();
      entry.rdd = rdd;
    };
    buildCaches(analyzed);
    return optimize(analyzed, () => this.analyzer.newId());
  }

  /** {@link resultRdd} without awaiting: files were listed when read; client rows are encoded on the workers. */
  private syncRdd(plan: LNode): RDD<unknown> {
    const result = this.plannerFor().plan(plan);
    return this.stagesRdd(result, (n) => this.rowsRdd(n.rows, n.output, n.numPartitions || 1));
  }

  /** Rows (arrays in column order) → one Parquet batch per partition, encoded on the workers. */
  private rowsRdd(
    rows: readonly unknown[],
    output: readonly { id: number; type: DataType }[],
    numPartitions: number,
  ): RDD<unknown> {
    const parts = Math.min(numPartitions, Math.max(1, rows.length));
    const data = (this.sc as unknown as { parallelize(d: unknown[], n: number): RDD<unknown> }).parallelize(
      [...rows],
      parts,
    );
    const fields = output.map((a) => [col(a.id), typeDdl(a.type)] as const);
    return data.mapPartitionsInternal('createDataFrame', lib('sqlBatch', fields), false, false);
  }

  /**
   * The plan of a DataFrame over an RDD of rows (objects by field name, or arrays by position):
   * a library op encodes each partition into a Parquet batch on the workers, and the plan reads
   * those batches as it reads a cached DataFrame's (nothing is collected to the client).
   */
  rddRelation(rdd: RDD<unknown>, schema: StructType): Relation {
    const fields = schema.fields.map((f) => [f.name, typeDdl(f.dataType)] as const);
    const batches = rdd.mapPartitionsInternal('createDataFrame', lib('sqlBatch', fields), false, false);
    const cacheId = `rdd-${++this.nextCache}`;
    const input: Relation = {
      type: 'localRelation',
      schema,
      rows: [],
      numPartitions: rdd.getNumPartitions(),
    };
    this.cached.set(cacheId, { rdd: batches, plan: input, level: 'NONE', source: true });
    return { type: 'cached', input, cacheId };
  }

  cache(plan: Relation, level = 'MEMORY_AND_DISK_DESER'): Relation {
    const cacheId = `cache-${++this.nextCache}`;
    this.cached.set(cacheId, { plan, level });
    return { type: 'cached', input: plan, cacheId };
  }

  unpersist(plan: Relation): void {
    if (plan.type !== 'cached') return;
    const e = this.cached.get(plan.cacheId);
    if (e?.source) return; // a DataFrame over an RDD: its batches are its data, not a cache
    e?.rdd?.unpersist();
    this.cached.delete(plan.cacheId);
  }

  /**
   * `df.write`: every task of the query's result stage writes its own partition's files and
   * commits them (a {@link WriteOutput}: attempt directory renamed to the task's, the first
   * attempt wins); once all have ended, this job commit moves the committed files into the
   * output directory and writes `_SUCCESS`. Nothing goes through the client. Workers must see
   * the output path (the same machine, or a shared filesystem on a LAN, as Spark needs).
   */
  async write(plan: Relation, spec: WriteSpec): Promise<void> {
    const call = userCall();
    const target = resolvePath(spec.path);
    const exists = existsSync(target);
    if (exists) {
      if (spec.mode === 'error' || spec.mode === 'errorifexists')
        throw new AnalysisException(
          'PATH_ALREADY_EXISTS',
          `[PATH_ALREADY_EXISTS] Path file:${target} already exists. Set mode as "overwrite" to overwrite the existing path.`,
          { outputPath: `file:${target}` },
        );
      if (spec.mode === 'ignore') return;
      if (spec.mode === 'overwrite') await rm(target, { recursive: true, force: true });
    }
    const analyzed = this.analyzer.analyze(plan);
    const jobId = randomUUID();
    const temporary = join(target, '_temporary');
    const jobDir = join(temporary, jobId);
    const fmt = spec.format === 'text' ? 'csv' : spec.format;
    const options: string[] = [`FORMAT ${fmt}`];
    if (spec.format === 'csv') options.push(`HEADER ${spec.options.header === 'true' ? 'true' : 'false'}`);
    const sep = spec.options.sep ?? spec.options.delimiter;
    if (spec.format === 'csv' && sep !== undefined) options.push(`DELIMITER ${sqlString(sep)}`);
    // One column written as it is: text, or JSON as each row's JSON text (DuckDB's JSON COPY has no
    // PARTITION_BY and writes null fields, which Spark leaves out unless `ignoreNullFields` is false).
    const asText = spec.format === 'text' || spec.format === 'json';
    const ignoreNullFields = jsonIgnoreNullFields(spec.options);
    if (asText)
      options.splice(0, options.length, 'FORMAT csv', 'HEADER false', "QUOTE ''", "DELIMITER '\\x01'");
    await mkdir(join(jobDir, '_temporary'), { recursive: true });
    try {
      await this.sc.withAction(
        async () => {
          const optimized = await this.prepare(analyzed);
          const output: WriteOutput = {
            kind: 'write',
            jobDir,
            jobId,
            select:
              spec.format === 'json'
                ? jsonLineSelect(optimized.output, spec.partitionBy, ignoreNullFields)
                : optimized.output.map((a) => `${col(a.id)} AS ${quoteIdent(a.name)}`).join(', '),
            options,
            partitionBy: spec.partitionBy.map(quoteIdent),
            ext: spec.format === 'parquet' ? 'snappy.parquet' : spec.format === 'text' ? 'txt' : spec.format,
          };
          const rdd = await this.resultRdd(optimized, call.site, output);
          await rdd.collect();
          await commitJob(target, jobDir, rdd.getNumPartitions());
          if (spec.partitionBy.length) await respellPartitionDirs(target);
        },
        `${call.method ?? 'save'} at ${call.site}`,
      );
    } finally {
      // Attempts of failed or straggling tasks go with the job's directory.
      await rm(jobDir, { recursive: true, force: true, maxRetries: 3 });
      await rmdir(temporary).catch(() => undefined); // another job's may still be there
    }
    await writeFile(join(target, '_SUCCESS'), '');
  }

  /**
   * The schema of a data source's files (Parquet's own, CSV/JSON inferred as Spark would, or the
   * one given), with the partition columns its `column=value` directories add (after the data
   * columns; a given schema's column of that name takes its values from the directories).
   */
  async inferSchema(ds: DataSourceSpec): Promise<{ schema: StructType; partitionColumns: string[] }> {
    const files = await this.resolveSource(ds);
    const partitions = discoverPartitions(ds.paths, files);
    const data = ds.schema ?? (await this.inferDataSchema(ds, files));
    const extra = partitions.filter((p) => !data.fields.some((f) => f.name === p.name));
    return {
      schema: extra.length ? new StructType([...data.fields, ...extra]) : data,
      partitionColumns: partitions.map((p) => p.name),
    };
  }

  /** The schema of the data in a source's files, inferred (without partition columns). */
  private async inferDataSchema(ds: DataSourceSpec, files: readonly string[]): Promise<StructType> {
    if (files.length === 0)
      throw new AnalysisException(
        'UNABLE_TO_INFER_SCHEMA',
        `[UNABLE_TO_INFER_SCHEMA] Unable to infer schema for ${ds.format.toUpperCase()}. It must be specified manually.`,
      );
    // Spark's own rules where DuckDB's sniffers differ: a malformed line does not fail the read.
    if (ds.format === 'json') return inferJsonSchema(files, ds);
    const o = Object.fromEntries(Object.entries(ds.options).map(([k, v]) => [k.toLowerCase(), v]));
    if (ds.format === 'csv' && o.inferschema !== 'true') return csvHeaderSchema(files, ds);
    const db = await duckdb();
    const conn = await db.connect();
    try {
      const list = `[${files.slice(0, 16).map(sqlString).join(', ')}]`;
      const src =
        ds.format === 'parquet'
          ? `read_parquet(${list}, ${readerOptions(ds)})`
          : ds.format === 'csv'
            ? `read_csv(${list}, ${readerOptions(ds)})`
            : ds.format === 'json'
              ? `read_json(${list}, ${readerOptions(ds)})`
              : `(SELECT '' AS value)`;
      const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
      const rows = r.getRowObjectsJS() as Array<{ column_name: string; column_type: string }>;
      const header = (ds.options.header ?? 'false') === 'true';
      const schema = new StructType(
        rows.map((x, i) => {
          const name = ds.format === 'csv' && !header ? `_c${i}` : x.column_name;
          return new StructField(name, fromDuckDB(x.column_type), true);
        }),
      );
      return ds.format === 'csv' ? await narrowCsvIntegers(conn, src, schema) : schema;
    } finally {
      conn.closeSync();
    }
  }
}

/**
 * A JSON write's `ignoreNullFields` option (Spark's, default true: a null field, at any depth of a
 * struct, is left out of the row's JSON). Anything but `true`/`false` is an error naming the option.
 */
function jsonIgnoreNullFields(options: Readonly<Record<string, string>>): boolean {
  const v = options.ignoreNullFields?.toLowerCase();
  if (v === undefined || v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidOperationError(
    `write.json: option ignoreNullFields must be true or false, got '${options.ignoreNullFields}'`,
  );
}

/**
 * A JSON write's columns: each row's data columns as one JSON text, then the partition columns.
 * Null fields are dropped by a JSON merge patch onto `{}` (RFC 7396: a null member removes its key,
 * in nested structs too; arrays are copied as they are, nulls included; a map's null values are
 * dropped too, where Spark keeps them).
 */
function jsonLineSelect(
  output: readonly Attr[],
  partitionBy: readonly string[],
  ignoreNullFields: boolean,
): string {
  const data = output.filter((a) => !partitionBy.includes(a.name));
  const parts = output.filter((a) => partitionBy.includes(a.name));
  const row = `to_json(struct_pack(${data.map((a) => `${quoteIdent(a.name)} := ${col(a.id)}`).join(', ')}))`;
  const json = `${ignoreNullFields ? `json_merge_patch('{}', ${row})` : row} AS "value"`;
  return [json, ...parts.map((a) => `${col(a.id)} AS ${quoteIdent(a.name)}`)].join(', ');
}

/**
 * The job commit of a write (FileOutputCommitter v1): every partition's committed task directory
 * is there, and its files move into the output directory (partition directories merged).
 */
async function commitJob(target: string, jobDir: string, partitions: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const task = join(jobDir, `task_${String(p).padStart(5, '0')}`);
    if (!existsSync(task))
      throw new InvalidOperationError(`write: task ${p} ended without committing its output`);
    for (const rel of await filesUnder(task)) {
      await mkdir(dirname(join(target, rel)), { recursive: true });
      await rename(join(task, rel), join(target, rel));
    }
  }
}

/** Rewrites every expression of every node of a plan (not inside subquery plans). */
function mapPlanExprs(n: LNode, f: (e: Expr) => Expr): LNode {
  const rec = (x: LNode): LNode => {
    switch (x.k) {
      case 'scan':
      case 'local':
      case 'range':
        return x;
      case 'project':
        return { ...x, child: rec(x.child), list: x.list.map((y) => ({ ...y, e: f(y.e) })) };
      case 'filter':
        return { ...x, child: rec(x.child), cond: f(x.cond) };
      case 'aggregate':
        return {
          ...x,
          child: rec(x.child),
          groups: x.groups.map((y) => ({ ...y, e: f(y.e) })),
          aggs: x.aggs.map((y) => ({ ...y, e: f(y.e) })),
          list: x.list.map((y) => ({ ...y, e: f(y.e) })),
        };
      case 'join':
        return { ...x, left: rec(x.left), right: rec(x.right), ...(x.cond && { cond: f(x.cond) }) };
      case 'setop':
        return { ...x, left: rec(x.left), right: rec(x.right) };
      case 'sort':
        return { ...x, child: rec(x.child), order: x.order.map((o) => ({ ...o, e: f(o.e) })) };
      case 'window':
        return { ...x, child: rec(x.child), windows: x.windows.map((w) => ({ ...w, e: f(w.e) })) };
      default:
        return { ...x, child: rec(x.child) };
    }
  };
  return rec(n);
}

/**
 * Spark's RangePartitioner sample size: 20 keys per output partition (at most a million), spread
 * over the input partitions and oversampled 3 times per partition, for skewed partitions.
 */
function sampleSize(outputPartitions: number, inputPartitions: number): { size: number } {
  const total = Math.min(20 * outputPartitions, 1e6);
  return { size: Math.ceil((3 * total) / Math.max(1, inputPartitions)) };
}

/**
 * The bounds of `n` range partitions from the sampling job's results: each sampled key weighs
 * its partition's rows over its sample's size (Spark's weighted determineBounds). Sort keys are
 * hex of `create_sort_key` bytes, so their string order is the sort order.
 */
function rangeBounds(samples: readonly Uint8Array[], n: number): string[] {
  const candidates: Array<{ k: unknown; w: number }> = [];
  for (const b of samples) {
    const s = JSON.parse(new TextDecoder().decode(b)) as KeySample;
    if (s.keys.length === 0) continue;
    const w = s.count / s.keys.length;
    for (const k of s.keys) candidates.push({ k, w });
  }
  return determineBounds(candidates, n) as string[];
}

/** What a stage does, as its progress name: the first wide operation of its fragment, else its input. */
function stageMethod(root: LNode): string {
  let n: LNode | undefined = root;
  while (n) {
    switch (n.k) {
      case 'aggregate':
        return n.groups.length > 0 ? 'groupBy' : 'agg';
      case 'join':
        return 'join';
      case 'sort':
        return n.global ? 'orderBy' : 'sortWithinPartitions';
      case 'window':
        return 'window';
      case 'distinct':
        return 'distinct';
      case 'setop':
        return n.op;
      case 'limit':
        return 'limit';
      case 'scan':
        return `scan ${n.source.format}`;
      case 'local':
        return 'createDataFrame';
      case 'range':
        return 'range';
      default:
        n = children(n)[0];
    }
  }
  return 'sql';
}
