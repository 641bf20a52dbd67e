/**
 * Runs one partition of a SQL stage on the embedded columnar engine (DuckDB). The fragment is
 * DuckDB SQL over named inputs; each input becomes a common table expression of the statement:
 * the partition's file split, a range, or Parquet batches (exchange outputs, client rows, cached partitions) written to local files.
 * The output is Parquet bytes: one batch for a result or broadcast, or one batch per reduce
 * partition for a hash or range exchange; a small result of plain columns may come back as its
 * rows instead (see {@link ResultRows}); a range exchange's sampling job returns sampled sort
 * keys instead, and a write's task writes and commits its own files (a {@link WriteOutput}).
 * DuckDB never downloads anything: extension autoloading is off.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBMaterializedResult, JS } from '@duckdb/node-api';
import { InvalidOperationError, MicroSparkError } from '../../protocol/errors.js';
import type { Compiler } from '../../rdd/compile.js';
import { partitionValuesOf, recordsView, type RecordsSpec } from '../sources.js';
import { parquetSections, type ColumnSection } from './sections.js';
import { scratchPath } from './scratch.js';
import { profileOperators, type EngineOperator } from './profile.js';
import type { FragmentUdf, UdfRun } from './udf.js';
import { parseDataType, quoteIdent, sqlString } from '../types.js';
import { SparkRuntimeException } from '../errors.js';
import { decode, encode } from '../../protocol/codec.js';
import { fromDuck } from './values.js';

/** One input of a fragment, as the task carries it. */
export type FragmentInput =
  | {
      readonly kind: 'files';
      readonly name: string;
      readonly format: string;
      /** Files of each partition. */
      readonly splits: readonly (readonly string[])[];
      /** The DuckDB reader's options, rendered (`header = true, delim = ','`). */
      readonly reader: string;
      /** `name TYPE` of every file column, for an empty split. */
      readonly columns: readonly (readonly [string, string])[];
      /** CSV/JSON: read line by line with Spark's rules for malformed records (sources.ts). */
      readonly records?: RecordsSpec;
      /** `name TYPE` of the partition columns: each file's values from its `name=value` directories. */
      readonly partitions?: readonly (readonly [string, string])[];
    }
  | {
      readonly kind: 'range';
      readonly name: string;
      readonly start: number;
      readonly end: number;
      readonly step: number;
      readonly n: number;
      readonly column: string;
    }
  /** Parquet batches from a narrow parent (client rows, a cached plan) or an exchange. */
  | {
      readonly kind: 'batches';
      readonly name: string;
      readonly from: 'parent' | 'shuffle';
      readonly index: number;
      readonly columns: readonly (readonly [string, string])[];
      /** A broadcast exchange: every partition reads the one batch each map task wrote (reduce partition 0). */
      readonly broadcast?: boolean;
      /** Every partition reads every reduce partition of the exchange (a hash exchange broadcast adaptively). */
      readonly whole?: boolean;
    };

/**
 * One output batch: its reduce partition (0 for a result), its bytes (Parquet; JSON for a sample
 * or a write's report) and, for Parquet, its column section (left out when not asked for) and
 * its row count.
 */
export type FragmentOutput = readonly [number, Uint8Array, ColumnSection?, number?];

/** What a `sample` task returns (JSON): its partition's row count and sampled sort keys. */
export interface KeySample {
  readonly count: number;
  /** Sort keys (`create_sort_key` blobs) as upper-case hex: their string order is the sort order. */
  readonly keys: readonly string[];
}

/**
 * A result returned as its rows rather than as Parquet: `[batch column, Spark type DDL]` of each
 * column, in the order the rows give them. The task's output is then one wire-codec value
 * `[rows, negative zeros]`: row arrays, values as the DataFrame API gives them (see `fromDuck`),
 * and the `[row, column]` pairs (flattened) that hold -0, which the codec writes as 0. The client
 * reads it without a DuckDB of its own. For results the plan bounds to a few rows, of types the
 * codec carries exactly (see `resultRowsColumns` in the session engine).
 */
export type ResultRows = readonly (readonly [string, string])[];

/** What a stage's task does: the fragment, its inputs and where the output goes. */
export interface FragmentTask {
  readonly sql: string;
  /** The plan's name and Spark type of each output column (`c12` → `l_orderkey`, `int`), for the worker's catalog. */
  readonly columns?: Readonly<Record<string, readonly [string, string]>>;
  readonly inputs: readonly FragmentInput[];
  readonly output:
    | { readonly kind: 'result'; readonly rows?: ResultRows }
    | { readonly kind: 'single' }
    | { readonly kind: 'broadcast'; readonly n: number }
    | { readonly kind: 'hash'; readonly n: number; readonly keys: readonly string[] }
    /**
     * Range partitions: `key` is the rows' sort key (a BLOB, see {@link sortKeySql}); `bounds`
     * (hex, ascending, distinct) cut it: a row goes to the number of bounds below its key.
     */
    | {
        readonly kind: 'range';
        readonly n: number;
        readonly key: string;
        readonly bounds: readonly string[];
      }
    /** The sampling job of a range exchange: the row count and `size` keys sampled (a {@link KeySample}). */
    | { readonly kind: 'sample'; readonly key: string; readonly size: number; readonly seed: number }
    /** The task writes its partition's files itself and commits them (a {@link WriteReport}). */
    | WriteOutput;
  /** The user-defined functions the SQL calls (`ms_udf_<i>`), registered before it runs. */
  readonly udfs?: readonly FragmentUdf[];
  /** Profile the main statement (`spark.microspark.sql.operatorMetrics`): its operators go to `runFragment`'s `onOperators`. */
  readonly profile?: boolean;
}

/**
 * A write's task output (FileOutputCommitter v1's layout, under the job's own directory): the task
 * writes into `<jobDir>/_temporary/attempt_<partition>_<uuid>/`, then renames that directory to
 * `<jobDir>/task_<partition>/` (its commit: atomic; an attempt that finds another's files there
 * discards its own). The client moves the committed files into the output once every task ended.
 */
export interface WriteOutput {
  readonly kind: 'write';
  /** `<output>/_temporary/<job id>`: made by the client before the job; gone once it ends. */
  readonly jobDir: string;
  /** The job's id, in every file's name: `part-00003-<job id>-c000.snappy.parquet`. */
  readonly jobId: string;
  /** `c12 AS "name", …`: the fragment's columns under the DataFrame's names. */
  readonly select: string;
  /** DuckDB `COPY` options (`FORMAT parquet`, `HEADER true`, …). */
  readonly options: readonly string[];
  /** Partition columns (quoted): one directory level each, `col=value/`. */
  readonly partitionBy: readonly string[];
  /** The files' extension: `snappy.parquet`, `csv`, `json`, `txt`. */
  readonly ext: string;
}

/** What a write task returns (JSON): the rows it wrote and whether its attempt was the one committed. */
export interface WriteReport {
  readonly rows: number;
  readonly committed: boolean;
}

/** Whether a task with this output emits `[reduce partition, bytes]` pairs (a shuffle write). */
export function emitsPairs(output: FragmentTask['output']): boolean {
  return output.kind !== 'result' && output.kind !== 'sample' && output.kind !== 'write';
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The files under `dir`, as paths relative to it (directories walked). */
export async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? join(prefix, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Writes a write task's partition into its attempt directory and commits it (see {@link WriteOutput}). */
async function writePartition(
  conn: DuckDBConnection,
  sql: string,
  out: WriteOutput,
  partition: number,
  main: MainStatement,
): Promise<WriteReport> {
  const attempt = join(out.jobDir, '_temporary', `attempt_${pad(partition, 5)}_${randomUUID()}`);
  // Not recursive: once the job has committed or aborted its directory is gone, and a straggling
  // attempt must fail here rather than leave files behind.
  await mkdir(attempt);
  const name = (c: number) => `part-${pad(partition, 5)}-${out.jobId}-c${pad(c, 3)}.${out.ext}`;
  const source = `SELECT ${out.select} FROM (${sql}) AS frag`;
  let rows: number;
  try {
    if (out.partitionBy.length === 0) {
      const file = join(attempt, name(0));
      const r = await main(() =>
        conn.runAndReadAll(`COPY (${source}) TO ${sqlString(file)} (${out.options.join(', ')})`),
      );
      rows = Number(r.getRowsJS()[0]?.[0] ?? 0);
      // As Spark: an empty partition writes no file, except the first (so the schema is kept).
      if (rows === 0 && partition !== 0) await rm(file, { force: true });
    } else {
      const r = await main(() =>
        conn.runAndReadAll(
          `COPY (${source}) TO ${sqlString(attempt)} (${[...out.options, `PARTITION_BY (${out.partitionBy.join(', ')})`].join(', ')})`,
        ),
      );
      rows = Number(r.getRowsJS()[0]?.[0] ?? 0);
      // DuckDB names them data_<i>: Spark's names instead, counted per directory.
      const counters = new Map<string, number>();
      for (const rel of await filesUnder(attempt)) {
        const d = dirname(rel);
        const c = counters.get(d) ?? 0;
        counters.set(d, c + 1);
        await rename(join(attempt, rel), join(attempt, d, name(c)));
      }
    }
  } catch (e) {
    await rm(attempt, { recursive: true, force: true });
    throw e;
  }
  // The task's commit: one rename. Another attempt that committed first keeps its files.
  try {
    await rename(attempt, join(out.jobDir, `task_${pad(partition, 5)}`));
    return { rows, committed: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    await rm(attempt, { recursive: true, force: true });
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return { rows, committed: false };
    throw e;
  }
}

/**
 * The sort key of rows under a sort order, as DuckDB SQL: `create_sort_key`, whose bytes compare
 * as ORDER BY orders (each key with its direction and null placement; strings by their UTF-8
 * bytes, as Spark compares them). A constant last key keeps the result a BLOB (DuckDB returns a
 * BIGINT for short fixed-size keys); every key's encoding is self-delimiting, so it orders nothing.
 */
export function sortKeySql(keys: readonly { sql: string; asc: boolean; nullsFirst: boolean }[]): string {
  const parts = keys.map(
    (k) => `${k.sql}, '${k.asc ? 'ASC' : 'DESC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}'`,
  );
  return `create_sort_key(${[...parts, "CAST(0 AS BIGINT), 'ASC NULLS LAST'"].join(', ')})`;
}

/** The partition of sort key `__sk` among `bounds` (ascending hex): a binary search as nested CASEs. */
function rangePartitionSql(bounds: readonly string[]): string {
  const search = (lo: number, hi: number): string => {
    if (lo === hi) return String(lo);
    const mid = (lo + hi) >> 1;
    return `CASE WHEN __sk > from_hex('${bounds[mid]!}') THEN ${search(mid + 1, hi)} ELSE ${search(lo, mid)} END`;
  };
  return search(0, bounds.length);
}

let instance: Promise<DuckDBInstance> | undefined;
/** The node API's converter to JS values, once the module is loaded (it is loaded lazily). */
let toJS: import('@duckdb/node-api').DuckDBValueConverter<JS> | undefined;

/** Threads of this process's DuckDB instance (`MICROSPARK_SQL_THREADS`, default 1: one per task slot). */
function threads(): string {
  const t = Number(process.env.MICROSPARK_SQL_THREADS ?? '1');
  return String(Number.isInteger(t) && t > 0 ? t : 1);
}

/** This thread's DuckDB instance (created once; in-memory; no extension downloads). */
export async function duckdb(): Promise<DuckDBInstance> {
  instance ??= import('@duckdb/node-api').then(({ DuckDBInstance, JSDuckDBValueConverter }) => {
    toJS = JSDuckDBValueConverter;
    return DuckDBInstance.create(':memory:', {
      threads: threads(),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      enable_external_access: 'true',
    }).then(async (db) => {
      // Spark functions DuckDB lacks (hash, xxhash64, crc32, split with a limit).
      const { registerBuiltins } = await import('./builtins.js');
      const conn = await db.connect();
      try {
        registerBuiltins(conn, db);
      } finally {
        conn.closeSync();
      }
      return db;
    });
  });
  return instance;
}

/** Idle connections of this thread's instance, kept for the next statement sequence (at most {@link MAX_IDLE}). */
const idle: DuckDBConnection[] = [];
const MAX_IDLE = 4;

/**
 * A connection of this thread's DuckDB instance: an idle one if there is one, else a new one.
 * Whoever takes it either gives it back with {@link releaseConnection}, holding nothing of its own
 * (no temp tables or functions it added), or closes it.
 */
export async function acquireConnection(): Promise<DuckDBConnection> {
  return idle.pop() ?? (await duckdb()).connect();
}

/** Gives back a connection from {@link acquireConnection} for later use (closed when enough are idle). */
export function releaseConnection(conn: DuckDBConnection): void {
  if (idle.length < MAX_IDLE) idle.push(conn);
  else conn.closeSync();
}

/**
 * The rows of a materialized result (what `run` returns), JS values as `getRowsJS` gives them,
 * read chunk by chunk without a round trip through the thread pool per chunk.
 */
export function resultRows(result: DuckDBMaterializedResult): unknown[][] {
  const converter = toJS;
  if (!converter) throw new InvalidOperationError('resultRows: no DuckDB result was made in this thread');
  const rows: unknown[][] = [];
  for (let i = 0; i < result.chunkCount; i++)
    for (const r of result.getChunk(i).convertRows(converter)) rows.push(r);
  return rows;
}

/** The rows of one result batch a task returned as rows (see {@link ResultRows}); none for an empty batch. */
export function decodeResultRows(b: Uint8Array): unknown[][] {
  if (b.byteLength === 0) return [];
  const [rows, negativeZeros] = decode<[unknown[][], number[]]>(b);
  for (let i = 0; i + 1 < negativeZeros.length; i += 2) rows[negativeZeros[i]!]![negativeZeros[i + 1]!] = -0;
  return rows;
}

/** A result's rows as arrays of `columns`, in their order, values converted for their Spark types. */
function resultRowsAs(result: DuckDBMaterializedResult, columns: ResultRows): unknown[][] {
  const names = result.columnNames();
  const at = columns.map(([c]) => {
    const i = names.indexOf(c);
    if (i < 0)
      throw new InvalidOperationError(`a SQL result has no column ${c} (it has ${names.join(', ')})`);
    return i;
  });
  const types = columns.map(([, t]) => parseDataType(t));
  return resultRows(result).map((r) => at.map((i, j) => fromDuck(r[i], types[j]!)));
}

function emptyView(columns: readonly (readonly [string, string])[]): string {
  if (columns.length === 0) return 'SELECT 1 AS one WHERE FALSE';
  return `SELECT ${columns.map(([n, t]) => `CAST(NULL AS ${t}) AS "${n.replace(/"/g, '""')}"`).join(', ')} WHERE FALSE`;
}

function reader(format: string, files: readonly string[], opts: string): string {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const o = opts ? `, ${opts}` : '';
  switch (format) {
    case 'parquet':
      return `read_parquet(${list}${o})`;
    case 'csv':
      return `read_csv(${list}${o})`;
    case 'json':
      return `read_json(${list}${o})`;
    case 'text':
      return `(SELECT value FROM (SELECT unnest(string_split(regexp_replace(content, '\\n$', ''), chr(10))) AS value FROM read_text(${list})))`;
    default:
      throw new InvalidOperationError(`unknown data source format '${format}'`);
  }
}

/** The view body of a files input over one partition's files, with their partition columns. */
async function filesView(
  conn: DuckDBConnection,
  input: Extract<FragmentInput, { kind: 'files' }>,
  files: readonly string[],
): Promise<string> {
  if (files.length === 0) return emptyView(input.columns);
  const read = async (fs: readonly string[], i: number): Promise<string> =>
    input.records
      ? await recordsView(conn, `${input.name}_records${i}`, fs, input.records)
      : `SELECT * FROM ${reader(input.format, fs, input.reader)}`;
  const parts = input.partitions;
  if (!parts?.length && files.length === 1) return read(files, 0);
  // Each file is read by itself, as when it was a partition alone (a split packs several), and
  // the reads are concatenated in order by column name: files need not agree on column order.
  const bodies: string[] = [];
  for (const [i, file] of files.entries()) {
    if (!parts?.length) {
      bodies.push(`SELECT * FROM (${await read([file], i)})`);
      continue;
    }
    const values = partitionValuesOf(
      file,
      parts.map(([n]) => n),
    );
    const cols = parts.map(
      ([n, t], j) => `CAST(${values[j] == null ? 'NULL' : sqlString(values[j])} AS ${t}) AS ${quoteIdent(n)}`,
    );
    bodies.push(`SELECT *, ${cols.join(', ')} FROM (${await read([file], i)})`);
  }
  return bodies.join(' UNION ALL BY NAME ');
}

/** What the renderer reads the partition variable with (src/sql/analysis/functions.ts). */
const PARTITION_VARIABLE = "getvariable('spark_partition_id')";

/**
 * The fragment's statement with its inputs as common table expressions ahead of it (one
 * statement: creating a view per input is a catalog change each, about 0.2 ms). Not
 * materialized: an input read twice is read twice, as a view was, and never held whole. A
 * statement that has its own WITH gets the inputs first in that list.
 */
export function withInputs(ctes: readonly string[], sql: string): string {
  if (ctes.length === 0) return sql;
  const own = /^\s*WITH\s+(RECURSIVE\s+)?/i.exec(sql);
  if (!own) return `WITH ${ctes.join(', ')}\n${sql}`;
  return `WITH ${own[1] ?? ''}${ctes.join(', ')},\n${sql.slice(own[0].length)}`;
}

/** The scratch files (and directories) of one task run: named in the process's scratch directory, removed at its end. */
class TaskFiles {
  private readonly made: string[] = [];
  /** A new path for `name` (the caller creates it). */
  path(name: string): string {
    const p = scratchPath(name);
    this.made.push(p);
    return p;
  }
  /** Removes whatever was created at the paths given. */
  remove(): void {
    for (const p of this.made) rmSync(p, { recursive: true, force: true });
  }
}

/** Runs a fragment's main statement (the one that reads its inputs and computes it): profiled or not. */
type MainStatement = <T>(statement: () => Promise<T>) => Promise<T>;

/**
 * A {@link MainStatement} that profiles the statement with DuckDB's JSON profiler (this
 * connection only; into a scratch file of the task's), then turns profiling off and hands its operators to `onOperators`.
 */
function profiledStatement(
  conn: DuckDBConnection,
  files: TaskFiles,
  onOperators: (ops: EngineOperator[]) => void,
): MainStatement {
  return async (statement) => {
    const file = files.path('profile.json');
    await conn.run(`SET enable_profiling = 'json'`);
    await conn.run(`SET profiling_output = ${sqlString(file)}`);
    const result = await statement().finally(() => conn.run('RESET enable_profiling'));
    onOperators(profileOperators(JSON.parse(await readFile(file, 'utf8'))));
    return result;
  };
}

const unprofiled: MainStatement = (statement) => statement();

/**
 * Runs the fragment over a connection (inputs read, output written), returning the output
 * batches. The inputs are the statement's own CTEs; the partition variable, where it is read, is
 * set in the same call as the main statement when that is not profiled (one call into DuckDB). File work is
 * synchronous: a task owns its thread, and each asynchronous call is a hop through the pool.
 */
async function run(
  conn: DuckDBConnection,
  files: TaskFiles,
  task: FragmentTask,
  partition: number,
  batches: readonly (readonly Uint8Array[])[],
  udfs: UdfRun | undefined,
  main: MainStatement,
  sections: boolean,
): Promise<FragmentOutput[]> {
  const text = udfs ? udfs.sql(task.sql) : task.sql;
  // The partition variable only where the fragment reads it (spark_partition_id() and the ids
  // built on it): setting it is a statement of its own.
  const setup: string[] = text.includes(PARTITION_VARIABLE)
    ? [`SET VARIABLE spark_partition_id = ${partition}`]
    : [];
  const ctes: string[] = [];
  let fileNo = 0;
  for (let i = 0; i < task.inputs.length; i++) {
    const input = task.inputs[i]!;
    let body: string;
    if (input.kind === 'files') {
      body = await filesView(conn, input, input.splits[partition] ?? []);
    } else if (input.kind === 'range') {
      const count = Math.max(0, Math.ceil((input.end - input.start) / input.step));
      const lo = Math.floor((partition * count) / input.n);
      const hi = Math.floor(((partition + 1) * count) / input.n);
      body = `SELECT CAST(${input.start} + i * ${input.step} AS BIGINT) AS ${input.column} FROM range(${lo}, ${hi}) AS r(i)`;
    } else {
      const bufs = batches[i] ?? [];
      const paths: string[] = [];
      for (const b of bufs) {
        if (b.length === 0) continue;
        const p = files.path(`in-${fileNo++}.parquet`);
        writeFileSync(p, b);
        paths.push(p);
      }
      // Columns are renamed by position: a cached plan's batches carry the ids of an earlier analysis.
      const names = input.columns.map(([n]) => `"${n.replace(/"/g, '""')}"`).join(', ');
      body =
        paths.length === 0
          ? emptyView(input.columns)
          : `SELECT * FROM read_parquet([${paths.map(sqlString).join(', ')}])${names ? ` AS b(${names})` : ''}`;
    }
    ctes.push(`${input.name} AS NOT MATERIALIZED (${body})`);
  }
  const sql = withInputs(ctes, text);
  const out = task.output;
  // The set-up statements, ahead of the main one in the same call, unless it is profiled alone.
  let prefix = setup.map((x) => `${x};\n`).join('');
  if (main !== unprofiled || out.kind === 'write' || out.kind === 'sample') {
    if (prefix !== '') await conn.run(prefix);
    prefix = '';
  }
  if (out.kind === 'write') {
    const report = await writePartition(conn, sql, out, partition, main);
    return [[0, new TextEncoder().encode(JSON.stringify(report))]];
  }
  if (out.kind === 'sample') {
    await main(() =>
      conn.run(`CREATE OR REPLACE TEMP TABLE __keys AS SELECT ${out.key} AS k FROM (${sql}) AS frag`),
    );
    const count = await conn.runAndReadAll('SELECT count(*) FROM __keys');
    const sampled = await conn.runAndReadAll(
      `SELECT hex(k) FROM __keys USING SAMPLE reservoir(${out.size} ROWS) REPEATABLE (${out.seed + partition})`,
    );
    await conn.run('DROP TABLE __keys');
    const sample: KeySample = {
      count: Number(count.getRowsJS()[0]?.[0] ?? 0),
      keys: sampled.getRowsJS().map((r) => r[0] as string),
    };
    return [[0, new TextEncoder().encode(JSON.stringify(sample))]];
  }
  if (out.kind === 'hash' || out.kind === 'range') {
    const target = files.path('out');
    const keys = out.kind === 'hash' && out.keys.length > 0 ? out.keys.join(', ') : '1';
    const source =
      out.kind === 'hash'
        ? `SELECT *, CAST(hash(${keys}) % ${out.n} AS INTEGER) AS __p FROM (${sql}) AS frag`
        : `SELECT * EXCLUDE (__sk), CAST(${rangePartitionSql(out.bounds)} AS INTEGER) AS __p FROM (SELECT *, ${out.key} AS __sk FROM (${sql}) AS frag) AS keyed`;
    await main(() =>
      conn.run(`${prefix}COPY (${source}) TO ${sqlString(target)} (FORMAT parquet, PARTITION_BY (__p))`),
    );
    let entries: string[] = [];
    try {
      entries = readdirSync(target);
    } catch {
      entries = [];
    }
    const parts: Array<{ reduce: number; path: string; buf: Buffer }> = [];
    for (const e of entries) {
      const m = /^__p=(\d+)$/.exec(e);
      if (!m) continue;
      const files = readdirSync(join(target, e))
        .sort()
        .map((f) => join(target, e, f));
      // A map output's bucket is ONE Parquet file (map-output.ts): several written files are merged.
      let path = files[0];
      if (files.length > 1) {
        path = join(target, `merged-${m[1]}.parquet`);
        const list = files.map(sqlString).join(', ');
        await conn.run(
          `COPY (SELECT * FROM read_parquet([${list}], hive_partitioning = false)) TO ${sqlString(path)} (FORMAT parquet)`,
        );
      }
      if (path !== undefined) parts.push({ reduce: Number(m[1]), path, buf: readFileSync(path) });
    }
    // One footer query for every bucket of the task, not one per bucket.
    const found = await parquetSections(
      conn,
      parts.map((x) => x.path),
      parts.map((x) => x.buf.byteLength),
    );
    const result: FragmentOutput[] = parts.map((x, i) => [x.reduce, x.buf, found[i]!]);
    result.sort((a, b) => a[0] - b[0]);
    return result;
  }
  if (out.kind === 'result' && out.rows) {
    const result = await main(() => conn.run(`${prefix}${sql}`));
    const rows = resultRowsAs(result, out.rows);
    // The codec writes -0 as the integer 0: where they are, [row, column] flattened.
    const negativeZeros: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      for (let j = 0; j < r.length; j++) if (Object.is(r[j], -0)) negativeZeros.push(i, j);
    }
    return [[0, encode([rows, negativeZeros]), undefined, rows.length]];
  }
  const file = files.path('out.parquet');
  const copied = await main(() => conn.run(`${prefix}COPY (${sql}) TO ${sqlString(file)} (FORMAT parquet)`));
  const buf = readFileSync(file);
  // COPY's one row is the count of rows written.
  const rows = Number(resultRows(copied)[0]?.[0] ?? 0);
  // The footer's column ranges only for a batch that is kept (a cached partition, an exchange's).
  const section = sections ? (await parquetSections(conn, [file], [buf.byteLength]))[0] : undefined;
  // A broadcast is written once; its readers all read reduce partition 0.
  return [[0, buf, section, rows]];
}

/**
 * Runs partition `partition` of a stage. `batches[i]` holds the Parquet batches of input i when
 * it is a `batches` input. Returns `[reduce partition, Parquet bytes, section, rows]` (one
 * `[0, bytes, …]` for a result). The task's UDFs are compiled by `compiler` (the task's); an
 * error thrown inside one fails the run with that error itself. With `task.profile`, the main
 * statement's DuckDB operators go to `onOperators` (once, before it returns). A result's column
 * section is read from its footer only with `opts.sections` (default true: a kept batch);
 * exchange outputs always have theirs. A task that adds nothing to its connection (no UDFs, no
 * profiling, no CSV/JSON records table) runs on a pooled one; others on their own, closed after.
 */
export async function runFragment(
  task: FragmentTask,
  partition: number,
  batches: readonly (readonly Uint8Array[])[],
  compiler?: Compiler,
  onOperators?: (ops: EngineOperator[]) => void,
  opts: { readonly sections?: boolean } = {},
): Promise<FragmentOutput[]> {
  const hasUdfs = task.udfs !== undefined && task.udfs.length > 0;
  const profiled = task.profile === true && onOperators !== undefined;
  const pooled = !hasUdfs && !profiled && !task.inputs.some((i) => i.kind === 'files' && i.records);
  const conn = pooled ? await acquireConnection() : await (await duckdb()).connect();
  const files = new TaskFiles();
  let udfs: UdfRun | undefined;
  let ok = false;
  try {
    if (hasUdfs) {
      if (!compiler) throw new InvalidOperationError('a SQL stage with UDFs needs the task compiler');
      const { UdfRun, prepareUdfs } = await import('./udf.js');
      await prepareUdfs(task.udfs);
      udfs = new UdfRun(conn, task.udfs, compiler);
    }
    const main = profiled ? profiledStatement(conn, files, onOperators) : unprofiled;
    const out = await run(conn, files, task, partition, batches, udfs, main, opts.sections ?? true);
    ok = true;
    return out;
  } catch (e) {
    // A UDF's own error, whatever the user threw, fails the task as it is.
    const thrown = udfs?.error();
    if (thrown) throw thrown.value;
    // The engine's own errors (a FAILFAST read's malformed record) keep their class.
    if (e instanceof MicroSparkError) throw e;
    throw sqlExecutionError((e as Error).message, task.sql);
  } finally {
    udfs?.close();
    // A failed statement sequence may have left temp objects behind: that connection goes.
    if (pooled && ok) releaseConnection(conn);
    else conn.closeSync();
    files.remove();
  }
}

/**
 * A stage's fragment failed inside the columnar engine. With a Spark error class when DuckDB's
 * error has one (an overflow is `ARITHMETIC_OVERFLOW`, in Spark's words); otherwise the message
 * carries DuckDB's. The class and parameters travel in the wire data.
 */
export class SqlExecutionError extends InvalidOperationError {
  constructor(
    message: string,
    /** Spark's error class, when the failure has one. */
    readonly errorClass?: string,
    readonly messageParameters: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
  override wireData(): Record<string, unknown> | undefined {
    return this.errorClass === undefined
      ? undefined
      : { errorClass: this.errorClass, messageParameters: { ...this.messageParameters } };
  }
}

const TRY_FUNCTIONS: Readonly<Record<string, string>> = {
  addition: 'try_add',
  subtraction: 'try_subtract',
  multiplication: 'try_multiply',
};

/** The message parameters of the classes the renderer raises through DuckDB's `error()`. */
function raisedParameters(errorClass: string, message: string): Record<string, string> {
  if (errorClass === 'DIVIDE_BY_ZERO') return { config: '"spark.sql.ansi.enabled"' };
  const m =
    /^\[CAST_INVALID_INPUT\] The value ([\s\S]*) of the type ("[^"]*") cannot be cast to ("[^"]*") because/.exec(
      message,
    );
  return m
    ? { expression: m[1]!, sourceType: m[2]!, targetType: m[3]!, ansiConfig: '"spark.sql.ansi.enabled"' }
    : {};
}

/** Spark's ARITHMETIC_OVERFLOW (`long overflow`), suggesting the `try_` function that gives NULL. */
function arithmeticOverflow(message: string, tryFunction: string): SparkRuntimeException {
  const params = {
    message,
    alternative: ` Use '${tryFunction}' to tolerate overflow and return NULL instead.`,
    config: '"spark.sql.ansi.enabled"',
  };
  return new SparkRuntimeException(
    'ARITHMETIC_OVERFLOW',
    `[ARITHMETIC_OVERFLOW] ${params.message}.${params.alternative} If necessary set ${params.config} to "false" to bypass this error. SQLSTATE: 22003`,
    params,
  );
}

/** Spark's SQL type names of DuckDB's physical types, as error messages quote them. */
const SQL_TYPES: Readonly<Record<string, string>> = {
  INT64: '"BIGINT"',
  INT32: '"INT"',
  INT16: '"SMALLINT"',
  INT8: '"TINYINT"',
  DOUBLE: '"DOUBLE"',
  FLOAT: '"FLOAT"',
};

/**
 * Java's `Double.toString` (`floatDigits`: `Float.toString`): the shortest digits that read back,
 * plain from 10^-3 up to 10^7 (`123.0`), else `1.0E20`.
 */
function javaDoubleString(d: number, floatDigits = false): string {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? 'Infinity' : '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  let shortest = d; // JavaScript's own text of a double is its shortest
  if (floatDigits) {
    let p = 1;
    while (p < 9 && Math.fround(Number(d.toPrecision(p))) !== d) p++;
    shortest = Number(d.toPrecision(p));
  }
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const plain = String(shortest);
    return plain.includes('.') ? plain : `${plain}.0`;
  }
  const [mantissa, exp] = shortest.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exp.replace('+', '')}`;
}

/**
 * A value of DuckDB's message as Spark's `toSQLValue` prints it: `3000000000L` (a long), `1.0E20D`
 * (a double; NaN and infinities bare), `3.0E9` (a float).
 */
function sqlValueText(duckType: string, text: string): string {
  if (duckType === 'DOUBLE' || duckType === 'FLOAT') {
    const v = /^-?inf/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
    const s = javaDoubleString(v, duckType === 'FLOAT');
    return duckType === 'FLOAT' || !Number.isFinite(v) ? s : `${s}D`;
  }
  return `${text}${{ INT64: 'L', INT32: '', INT16: 'S', INT8: 'Y' }[duckType] ?? ''}`;
}

/**
 * DuckDB's error as Spark's: a SparkRuntimeException for the classes Spark raises at run time
 * (an integer overflow is ARITHMETIC_OVERFLOW; DIVIDE_BY_ZERO and CAST_INVALID_INPUT come from the
 * `error()` calls of ANSI mode), else a SqlExecutionError with DuckDB's message.
 */
function sqlExecutionError(duckdbMessage: string, sql: string): SparkRuntimeException | SqlExecutionError {
  const raised = /^[A-Za-z ]+ Error: (\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\] [\s\S]*)$/.exec(duckdbMessage);
  if (raised) {
    const [, message, errorClass] = raised as unknown as [string, string, string];
    return new SparkRuntimeException(errorClass, message, raisedParameters(errorClass, message));
  }
  // A sum of longs: DuckDB's exact (HUGEINT) sum does not fit the long Spark's sum returns.
  if (
    /^Conversion Error: Type INT128 with value -?\d+ can't be cast because the value is out of range for the destination type INT64\b/.test(
      duckdbMessage,
    )
  )
    return arithmeticOverflow('long overflow', 'try_sum');
  const c =
    /^Conversion Error: Type (INT64|INT32|INT16|INT8|DOUBLE|FLOAT) with value (\S+) can't be cast because the value is out of range for the destination type (INT64|INT32|INT16|INT8)\b/.exec(
      duckdbMessage,
    );
  if (c) {
    // Spark's CAST_OVERFLOW (ANSI on: without ANSI the analyzer wraps or saturates the value).
    const [, from, text, to] = c as unknown as [string, string, string, string];
    const params = {
      value: sqlValueText(from, text),
      sourceType: SQL_TYPES[from]!,
      targetType: SQL_TYPES[to]!,
      ansiConfig: '"spark.sql.ansi.enabled"',
    };
    return new SparkRuntimeException(
      'CAST_OVERFLOW',
      `[CAST_OVERFLOW] The value ${params.value} of the type ${params.sourceType} cannot be cast to ${params.targetType} due to an overflow. Use \`try_cast\` to tolerate overflow and return NULL instead. If necessary set ${params.ansiConfig} to "false" to bypass this error. SQLSTATE: 22003`,
      params,
    );
  }
  const m =
    /^Out of Range Error: Overflow in (addition|subtraction|multiplication) of (INT32|INT64|INT16|INT8)\b/.exec(
      duckdbMessage,
    );
  if (m) {
    const kind =
      m[2] === 'INT64' ? 'long' : m[2] === 'INT32' ? 'integer' : m[2] === 'INT16' ? 'short' : 'byte';
    return arithmeticOverflow(`${kind} overflow`, TRY_FUNCTIONS[m[1]!]!);
  }
  return new SqlExecutionError(
    `a SQL stage failed in DuckDB: ${duckdbMessage}\n  fragment: ${sql.slice(0, 2000)}`,
  );
}
