/**
 * TPC-H data generator: the eight tables at a scale factor, written as Parquet or CSV part files
 * (`DIR/<table>/part-00000.<format>` …) by DuckDB from SQL over `range()`. Every value is a pure
 * function of its row's key and a column stream through DuckDB's `hash()`, so the same scale factor
 * gives byte-identical files on every run (for the DuckDB version of package-lock.json), whatever
 * the number of parts or threads.
 *
 *   npm run tpch:gen -- --sf 0.1 --format parquet --out bench/data/tpch-sf0.1-parquet [--parts 8]
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { MicroSparkError } from '../../src/protocol/errors.js';
import { TPCH_SCHEMA, TPCH_TABLES, sqlString, type TpchTable } from './schema.js';
import {
  COLORS,
  CONTAINER_S1,
  CONTAINER_S2,
  INSTRUCTIONS,
  MODES,
  NATIONS,
  PRIORITIES,
  REGIONS,
  SEGMENTS,
  TYPE_S1,
  TYPE_S2,
  TYPE_S3,
  textPool,
} from './words.js';

/** Output file format of the generator. */
export type TpchFormat = 'parquet' | 'csv';

/** What to generate: scale factor, format, output directory and (optionally) the part count. */
export interface TpchOptions {
  /** Scale factor (1 = 6M lineitem rows); at least 0.001. */
  sf: number;
  format: TpchFormat;
  outDir: string;
  /** Part files per table of more than 10,000 rows (default: one per ~500k rows, 4 to 64). */
  parts?: number;
  /** DuckDB threads and concurrent part writers (default 2). */
  threads?: number;
}

/** What was written: per table, its part files (absolute paths, in order) and its row count. */
export interface TpchOutput {
  tables: Record<TpchTable, { files: string[]; rows: number }>;
}

/** Invalid generator options (scale factor out of range, unknown format, bad part count). */
export class TpchOptionsError extends MicroSparkError {}

/** Bumped whenever the generated data changes, so that cached outputs are regenerated. */
export const TPCH_GENERATOR_VERSION = 1;
/** The marker file written last into a complete output directory. */
export const TPCH_MARKER = '_tpch.json';

/** Seed of the value streams (chosen so that Q18 has an answer at sf 0.01; see README). */
const SEED = 1;
const POOL_SIZE = 8192;
const SMALL_TABLE_ROWS = 10_000;
const CURRENT_DATE = "DATE '1995-06-17'";

/** The row counts of the specification's formulas at `sf` (lineitem: the order count × 1..7). */
function cardinalities(sf: number) {
  const n = (base: number) => Math.max(1, Math.round(base * sf));
  return {
    supplier: n(10_000),
    customer: n(150_000),
    part: n(200_000),
    orders: n(1_500_000),
    clerks: n(1_000),
  };
}

/** A SQL list literal of strings. */
const list = (items: readonly string[]) => `[${items.map(sqlString).join(', ')}]`;

/**
 * A 64-bit pseudo-random value per row and column: DuckDB's `hash()` (a MurmurHash64 finalizer)
 * of the key (< 2^40) plus the column's stream number times 2^40. (Not `hash(key, stream)`: that
 * combines two hashes linearly, so two streams of one key would agree in their low bits.)
 */
const h = (key: string, stream: number) =>
  `hash(CAST(${key} AS BIGINT) + ${BigInt(SEED * 1000 + stream) << 40n})`;
/** A uniform integer in [lo, hi] for this row and column. */
const u = (key: string, stream: number, lo: number, hi: number) =>
  `(${lo} + (${h(key, stream)} % ${hi - lo + 1})::BIGINT)`;
/** An element of `items`, uniformly chosen. */
const pickOf = (items: readonly string[], key: string, stream: number) =>
  `${list(items)}[${u(key, stream, 1, items.length)}]`;
/** DECIMAL(15,2) from an integer count of cents. */
const money = (cents: string) => `CAST(CAST(${cents} AS DECIMAL(18,0)) * 0.01 AS DECIMAL(15,2))`;
/** A join with the text pool for `key`'s comment (alias `alias`). */
const poolJoin = (alias: string, key: string, stream: number) =>
  `JOIN text_pool ${alias} ON ${alias}.id = (${h(key, stream)} % ${POOL_SIZE})::INTEGER`;
/** A comment of [lo, hi] characters (then right-trimmed), a prefix of the joined pool text. */
const comment = (alias: string, key: string, stream: number, lo: number, hi: number) =>
  `rtrim(left(${alias}.s, ${u(key, stream, lo, hi)}))`;
/** A random string of [lo, hi] characters of letters, digits, comma and space (addresses). */
const vstring = (key: string, stream: number, lo: number, hi: number) =>
  `translate(left(to_base64(unhex(md5(concat(${key}, '#${stream}')) || md5(concat(${key}, '@${stream}')))), ` +
  `${u(key, stream, lo, hi)}), '+/', ', ')`;
/** A phone number 'CC-LLL-LLL-LLLL' with CC = nationkey + 10 (clause 4.2.2.9). */
const phone = (nation: string, key: string, stream: number) =>
  `printf('%d-%03d-%03d-%04d', ${nation} + 10, ${u(key, stream, 100, 999)}, ` +
  `${u(key, stream + 1, 100, 999)}, ${u(key, stream + 2, 1000, 9999)})`;
/** 'Prefix#' and a key zero-padded to 9 digits. */
const padded = (prefix: string, key: string) => `'${prefix}#' || lpad(CAST(${key} AS VARCHAR), 9, '0')`;

/** The final projection: every column cast to its schema type, in the schema's order. */
function typed(table: TpchTable, inner: string, orderBy: string): string {
  const cols = TPCH_SCHEMA[table].map(([name, type]) => `CAST(${name} AS ${type}) AS ${name}`).join(', ');
  return `SELECT ${cols} FROM (${inner}) ORDER BY ${orderBy}`;
}

function regionSql(): string {
  const values = REGIONS.map((name, k) => `(${k}, ${sqlString(name)})`).join(', ');
  return typed(
    'region',
    `SELECT k AS r_regionkey, r_name, ${comment('tp', 'k', 2, 31, 115)} AS r_comment
     FROM (VALUES ${values}) r(k, r_name) ${poolJoin('tp', 'k', 1)}`,
    'r_regionkey',
  );
}

function nationSql(): string {
  const values = NATIONS.map(([name, region], k) => `(${k}, ${sqlString(name)}, ${region})`).join(', ');
  return typed(
    'nation',
    `SELECT k AS n_nationkey, n_name, n_regionkey, ${comment('tp', 'k', 12, 31, 114)} AS n_comment
     FROM (VALUES ${values}) n(k, n_name, n_regionkey) ${poolJoin('tp', 'k', 11)}`,
    'n_nationkey',
  );
}

function supplierSql(lo: number, hi: number): string {
  // Clause 4.2.3: SF*5 suppliers get 'Customer … Complaints' in their comment, SF*5 others
  // 'Customer … Recommends' (at least one each here, so that Q16's filter matters at small sf).
  const special = (word: string) =>
    `rtrim(left(tp.s, ${u('sk', 27, 0, 40)})) || ' Customer ' || ` +
    `trim(substring(tp.s, 101, ${u('sk', 28, 0, 30)})) || ' ${word}'`;
  return typed(
    'supplier',
    `SELECT sk AS s_suppkey, ${padded('Supplier', 'sk')} AS s_name, ${vstring('sk', 21, 10, 40)} AS s_address,
       nk AS s_nationkey, ${phone('nk', 'sk', 23)} AS s_phone, ${money(u('sk', 26, -99999, 999999))} AS s_acctbal,
       CASE kind WHEN 1 THEN ${special('Complaints')} WHEN 2 THEN ${special('Recommends')}
         ELSE ${comment('tp', 'sk', 30, 25, 100)} END AS s_comment
     FROM (SELECT sk, nk, kind FROM supp_info WHERE sk > ${lo} AND sk <= ${hi}) s ${poolJoin('tp', 'sk', 29)}`,
    's_suppkey',
  );
}

function customerSql(lo: number, hi: number): string {
  return typed(
    'customer',
    `SELECT ck AS c_custkey, ${padded('Customer', 'ck')} AS c_name, ${vstring('ck', 41, 10, 40)} AS c_address,
       nk AS c_nationkey, ${phone('nk', 'ck', 43)} AS c_phone, ${money(u('ck', 46, -99999, 999999))} AS c_acctbal,
       ${pickOf(SEGMENTS, 'ck', 47)} AS c_mktsegment, ${comment('tp', 'ck', 49, 29, 116)} AS c_comment
     FROM (SELECT ck, ${u('ck', 42, 0, 24)} AS nk FROM range(${lo + 1}, ${hi + 1}) t(ck)) c
     ${poolJoin('tp', 'ck', 48)}`,
    'c_custkey',
  );
}

/** P_RETAILPRICE in cents (clause 4.2.3). */
const retailCents = (pk: string) => `(90000 + ((${pk} // 10) % 20001) + 100 * (${pk} % 1000))`;

function partSql(lo: number, hi: number): string {
  // Five distinct colours: the first five of the 92 sorted by a per-part hash.
  const name =
    `array_to_string(list_transform(list_sort(list_transform(range(${COLORS.length}), ` +
    `j -> ((${h('pk * 128 + j', 51)} >> 8) * 128 + j)))[1:5], x -> ${list(COLORS)}[CAST(x % 128 AS BIGINT) + 1]), ' ')`;
  return typed(
    'part',
    `SELECT pk AS p_partkey, ${name} AS p_name, 'Manufacturer#' || m AS p_mfgr,
       'Brand#' || m || ${u('pk', 53, 1, 5)} AS p_brand,
       ${pickOf(TYPE_S1, 'pk', 54)} || ' ' || ${pickOf(TYPE_S2, 'pk', 55)} || ' ' || ${pickOf(TYPE_S3, 'pk', 56)} AS p_type,
       ${u('pk', 57, 1, 50)} AS p_size,
       ${pickOf(CONTAINER_S1, 'pk', 58)} || ' ' || ${pickOf(CONTAINER_S2, 'pk', 59)} AS p_container,
       ${money(retailCents('pk'))} AS p_retailprice, ${comment('tp', 'pk', 61, 5, 22)} AS p_comment
     FROM (SELECT pk, ${u('pk', 52, 1, 5)} AS m FROM range(${lo + 1}, ${hi + 1}) t(pk)) p
     ${poolJoin('tp', 'pk', 60)}`,
    'p_partkey',
  );
}

/** The i-th (0..3) supplier of part `pk` among S suppliers (clause 4.2.3). */
const suppOf = (pk: string, i: string, s: number) =>
  `((${pk} + ${i} * (${Math.floor(s / 4)} + (${pk} - 1) // ${s})) % ${s} + 1)`;

function partsuppSql(lo: number, hi: number, s: number): string {
  return typed(
    'partsupp',
    `SELECT pk AS ps_partkey, ${suppOf('pk', 'i', s)} AS ps_suppkey, ${u('psk', 71, 1, 9999)} AS ps_availqty,
       ${money(u('psk', 72, 100, 100000))} AS ps_supplycost, ${comment('tp', 'psk', 74, 49, 198)} AS ps_comment, i
     FROM (SELECT pk, i, pk * 4 + i AS psk FROM range(${lo + 1}, ${hi + 1}) t(pk), range(4) r(i)) ps
     ${poolJoin('tp', 'psk', 73)}`,
    'ps_partkey, i',
  );
}

/**
 * CTEs `o` (orders' keys, customer, date, line count) and `l` (lineitem's numeric columns) for the
 * order indices [lo, hi). Order keys are sparse as in the specification: the first 8 of every 32.
 */
function orderLineCtes(lo: number, hi: number, c: ReturnType<typeof cardinalities>, s: number): string {
  const customersWithOrders = c.customer - Math.floor(c.customer / 3);
  return `o AS (
      SELECT ok AS o_orderkey, (ck // 2) * 3 + (ck % 2) + 1 AS o_custkey,
        DATE '1992-01-01' + CAST(${u('ok', 82, 0, 2405)} AS INTEGER) AS o_orderdate, ${u('ok', 83, 1, 7)} AS nlines
      FROM (SELECT ok, ${u('ok', 81, 0, customersWithOrders - 1)} AS ck
            FROM (SELECT (i // 8) * 32 + (i % 8) + 1 AS ok FROM range(${lo}, ${hi}) t(i)))
    ), l0 AS (
      SELECT o_orderkey AS l_orderkey, o_orderdate, ln AS l_linenumber, o_orderkey * 8 + ln AS lk
      FROM o, LATERAL (SELECT unnest(range(1, nlines + 1)) AS ln)
    ), l1 AS (
      SELECT *, ${u('lk', 91, 1, c.part)} AS l_partkey, ${u('lk', 92, 0, 3)} AS supp_i, ${u('lk', 93, 1, 50)} AS qty,
        ${u('lk', 94, 0, 10)} AS disc, ${u('lk', 95, 0, 8)} AS tax,
        o_orderdate + CAST(${u('lk', 96, 1, 121)} AS INTEGER) AS l_shipdate,
        o_orderdate + CAST(${u('lk', 97, 30, 90)} AS INTEGER) AS l_commitdate
      FROM l0
    ), l AS (
      SELECT *, ${suppOf('l_partkey', 'supp_i', s)} AS l_suppkey, qty * ${retailCents('l_partkey')} AS price_cents,
        l_shipdate + CAST(${u('lk', 98, 1, 30)} AS INTEGER) AS l_receiptdate,
        CASE WHEN l_shipdate > ${CURRENT_DATE} THEN 'O' ELSE 'F' END AS l_linestatus
      FROM l1
    )`;
}

function ordersSql(lo: number, hi: number, c: ReturnType<typeof cardinalities>, s: number): string {
  return typed(
    'orders',
    `WITH ${orderLineCtes(lo, hi, c, s)}, agg AS (
       SELECT l_orderkey, sum((price_cents * (100 - disc)) // 100 * (100 + tax) // 100) AS total_cents,
         count(*) FILTER (WHERE l_linestatus = 'F') AS nf, count(*) AS n
       FROM l GROUP BY l_orderkey)
     SELECT o_orderkey, o_custkey, CASE WHEN nf = n THEN 'F' WHEN nf = 0 THEN 'O' ELSE 'P' END AS o_orderstatus,
       ${money('total_cents')} AS o_totalprice, o_orderdate, ${pickOf(PRIORITIES, 'o_orderkey', 84)} AS o_orderpriority,
       ${padded('Clerk', u('o_orderkey', 85, 1, c.clerks))} AS o_clerk, 0 AS o_shippriority,
       ${comment('tp', 'o_orderkey', 87, 19, 78)} AS o_comment
     FROM o JOIN agg ON agg.l_orderkey = o.o_orderkey ${poolJoin('tp', 'o_orderkey', 86)}`,
    'o_orderkey',
  );
}

function lineitemSql(lo: number, hi: number, c: ReturnType<typeof cardinalities>, s: number): string {
  return typed(
    'lineitem',
    `WITH ${orderLineCtes(lo, hi, c, s)}
     SELECT l_orderkey, l_partkey, l_suppkey, l_linenumber, qty AS l_quantity, ${money('price_cents')} AS l_extendedprice,
       ${money('disc')} AS l_discount, ${money('tax')} AS l_tax,
       CASE WHEN l_receiptdate <= ${CURRENT_DATE} THEN (CASE WHEN ${u('lk', 99, 0, 1)} = 0 THEN 'R' ELSE 'A' END)
         ELSE 'N' END AS l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate,
       ${pickOf(INSTRUCTIONS, 'lk', 100)} AS l_shipinstruct, ${pickOf(MODES, 'lk', 101)} AS l_shipmode,
       ${comment('tp', 'lk', 103, 10, 43)} AS l_comment
     FROM l ${poolJoin('tp', 'lk', 102)}`,
    'l_orderkey, l_linenumber',
  );
}

/** The number of part files of a table of about `rows` rows. */
function partCount(rows: number, override: number | undefined): number {
  if (rows <= SMALL_TABLE_ROWS) return 1;
  if (override !== undefined) return override;
  return Math.min(64, Math.max(4, Math.ceil(rows / 500_000)));
}

interface PartTask {
  table: TpchTable;
  index: number;
  sql: string;
  weight: number;
}

function planTasks(
  sf: number,
  parts: number | undefined,
): { tasks: PartTask[]; counts: Record<TpchTable, number> } {
  const c = cardinalities(sf);
  const s = c.supplier;
  const tasks: PartTask[] = [];
  const counts = {} as Record<TpchTable, number>;
  const split = (table: TpchTable, keys: number, rows: number, sql: (lo: number, hi: number) => string) => {
    const k = Math.min(partCount(rows, parts), keys);
    counts[table] = k;
    for (let j = 0; j < k; j++) {
      const lo = Math.floor((keys * j) / k);
      const hi = Math.floor((keys * (j + 1)) / k);
      tasks.push({ table, index: j, sql: sql(lo, hi), weight: (rows * (hi - lo)) / keys });
    }
  };
  split('region', 5, 5, () => regionSql());
  split('nation', 25, 25, () => nationSql());
  split('supplier', s, s, (lo, hi) => supplierSql(lo, hi));
  split('customer', c.customer, c.customer, (lo, hi) => customerSql(lo, hi));
  split('part', c.part, c.part, (lo, hi) => partSql(lo, hi));
  split('partsupp', c.part, 4 * c.part, (lo, hi) => partsuppSql(lo, hi, s));
  split('orders', c.orders, c.orders, (lo, hi) => ordersSql(lo, hi, c, s));
  split('lineitem', c.orders, 4 * c.orders, (lo, hi) => lineitemSql(lo, hi, c, s));
  return { tasks, counts };
}

const partFile = (table: TpchTable, index: number, format: TpchFormat) =>
  join(table, `part-${String(index).padStart(5, '0')}.${format}`);

/** Opens a DuckDB instance that never installs nor loads an extension on its own. */
async function openDuckDb(threads: number): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    threads: String(threads),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
}

async function prepareShared(conn: DuckDBConnection, sf: number): Promise<void> {
  await conn.run('CREATE TABLE text_pool (id INTEGER, s VARCHAR)');
  const appender = await conn.createAppender('text_pool');
  textPool(POOL_SIZE, 200, 0x7c4 + SEED).forEach((text, id) => {
    appender.appendInteger(id);
    appender.appendVarchar(text);
    appender.endRow();
  });
  appender.closeSync();
  const s = cardinalities(sf).supplier;
  const n = Math.max(1, Math.round(5 * sf));
  // S_NATIONKEY: a random balanced assignment (suppliers in hash order get nations 0..24 in turn),
  // so that every nation has suppliers even at small scale factors. kind 1: 'Customer … Complaints'
  // in the comment, kind 2: 'Customer … Recommends' (n suppliers each, chosen by another hash).
  await conn.run(
    `CREATE TABLE supp_info AS
     SELECT sk, nk, CASE WHEN rn <= ${n} THEN 1 WHEN rn <= ${2 * n} THEN 2 ELSE 0 END AS kind
     FROM (SELECT sk, (row_number() OVER (ORDER BY ${h('sk', 22)}, sk) - 1) % 25 AS nk,
             row_number() OVER (ORDER BY ${h('sk', 20)}, sk) AS rn
           FROM range(1, ${s + 1}) t(sk))`,
  );
}

function validate(options: TpchOptions): void {
  if (!Number.isFinite(options.sf) || options.sf < 0.001 || options.sf > 300)
    throw new TpchOptionsError(`scale factor must be in [0.001, 300], got ${options.sf}`);
  if (options.format !== 'parquet' && options.format !== 'csv')
    throw new TpchOptionsError(`format must be 'parquet' or 'csv', got ${String(options.format)}`);
  if (options.parts !== undefined && (!Number.isInteger(options.parts) || options.parts < 1))
    throw new TpchOptionsError(`parts must be a positive integer, got ${options.parts}`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1))
    throw new TpchOptionsError(`threads must be a positive integer, got ${options.threads}`);
}

interface Marker {
  generator: number;
  sf: number;
  format: TpchFormat;
  parts: number | null;
  tables: Record<TpchTable, { files: string[]; rows: number }>;
}

/**
 * Writes the eight tables into `outDir/<table>/part-NNNNN.<format>` (replacing those directories),
 * then the marker file `_tpch.json`. Deterministic: the same options give byte-identical files.
 */
export async function generateTpch(options: TpchOptions): Promise<TpchOutput> {
  validate(options);
  const { sf, format } = options;
  const outDir = resolve(options.outDir);
  const threads = options.threads ?? 2;
  rmSync(join(outDir, TPCH_MARKER), { force: true });
  for (const table of TPCH_TABLES) {
    rmSync(join(outDir, table), { recursive: true, force: true });
    mkdirSync(join(outDir, table), { recursive: true });
  }
  const { tasks, counts } = planTasks(sf, options.parts);
  const rows = Object.fromEntries(TPCH_TABLES.map((t) => [t, 0])) as Record<TpchTable, number>;
  const instance = await openDuckDb(threads);
  try {
    const setup = await instance.connect();
    await prepareShared(setup, sf);
    setup.closeSync();
    const queue = [...tasks].sort((a, b) => b.weight - a.weight);
    const copyOptions = format === 'parquet' ? 'FORMAT parquet' : `FORMAT csv, HEADER true, DELIMITER ','`;
    const writer = async () => {
      const conn = await instance.connect();
      try {
        for (let task = queue.shift(); task; task = queue.shift()) {
          const path = join(outDir, partFile(task.table, task.index, format));
          const result = await conn.run(`COPY (${task.sql}) TO ${sqlString(path)} (${copyOptions})`);
          rows[task.table] += result.rowsChanged;
        }
      } finally {
        conn.closeSync();
      }
    };
    await Promise.all(Array.from({ length: Math.min(threads, queue.length) }, writer));
  } finally {
    instance.closeSync();
  }
  const tables = {} as Record<TpchTable, { files: string[]; rows: number }>;
  for (const table of TPCH_TABLES) {
    const files = Array.from({ length: counts[table] }, (_, j) => partFile(table, j, format));
    tables[table] = { files, rows: rows[table] };
  }
  const marker: Marker = {
    generator: TPCH_GENERATOR_VERSION,
    sf,
    format,
    parts: options.parts ?? null,
    tables,
  };
  writeFileSync(join(outDir, TPCH_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  return absolute(outDir, tables);
}

function absolute(outDir: string, tables: Marker['tables']): TpchOutput {
  const out = {} as Record<TpchTable, { files: string[]; rows: number }>;
  for (const table of TPCH_TABLES)
    out[table] = { files: tables[table].files.map((f) => join(outDir, f)), rows: tables[table].rows };
  return { tables: out };
}

/** The default cache directory of a scale factor and format: bench/data/tpch-sf<sf>-<format>. */
export function defaultTpchDir(sf: number, format: TpchFormat): string {
  return fileURLToPath(new URL(`../data/tpch-sf${sf}-${format}`, import.meta.url));
}

/** The output recorded in `dir`'s marker if it matches these parameters and all its files exist. */
function readComplete(
  dir: string,
  sf: number,
  format: TpchFormat,
  parts: number | undefined,
): TpchOutput | null {
  try {
    const marker = JSON.parse(readFileSync(join(dir, TPCH_MARKER), 'utf8')) as Marker;
    if (marker.generator !== TPCH_GENERATOR_VERSION || marker.sf !== sf || marker.format !== format)
      return null;
    if (marker.parts !== (parts ?? null)) return null;
    const out = absolute(dir, marker.tables);
    for (const table of TPCH_TABLES) if (!out.tables[table].files.every((f) => existsSync(f))) return null;
    return out;
  } catch {
    return null;
  }
}

/**
 * Like {@link generateTpch}, but reuses a complete earlier output with the same parameters
 * (default directory: {@link defaultTpchDir}). Generates into a sibling temporary directory and
 * renames it into place, so concurrent callers never see a half-written output.
 */
export async function ensureTpch(
  options: Omit<TpchOptions, 'outDir'> & { outDir?: string },
): Promise<TpchOutput & { dir: string }> {
  validate({ ...options, outDir: options.outDir ?? '' });
  const dir = resolve(options.outDir ?? defaultTpchDir(options.sf, options.format));
  const existing = readComplete(dir, options.sf, options.format, options.parts);
  if (existing) return { ...existing, dir };
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await generateTpch({ ...options, outDir: tmp });
    const raced = readComplete(dir, options.sf, options.format, options.parts);
    if (raced) return { ...raced, dir };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const out = readComplete(dir, options.sf, options.format, options.parts);
  if (!out) throw new TpchOptionsError(`generated output in ${dir} is incomplete`);
  return { ...out, dir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sf: { type: 'string', default: '0.1' },
      format: { type: 'string', default: 'parquet' },
      out: { type: 'string' },
      parts: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  const sf = Number(values.sf);
  const format = values.format as TpchFormat;
  const outDir = values.out ?? defaultTpchDir(sf, format);
  const started = performance.now();
  const out = await generateTpch({
    sf,
    format,
    outDir,
    ...(values.parts !== undefined ? { parts: Number(values.parts) } : {}),
    ...(values.threads !== undefined ? { threads: Number(values.threads) } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  for (const table of TPCH_TABLES) {
    const t = out.tables[table];
    console.log(`${table.padEnd(9)} ${String(t.rows).padStart(10)} rows  ${t.files.length} file(s)`);
  }
  console.log(`sf ${sf} ${format} → ${resolve(outDir)} in ${seconds.toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
