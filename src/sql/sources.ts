/**
 * Data sources: the files a read names (a file, a directory, a glob), Spark's reader options as
 * DuckDB reader options, the errors of missing paths, and CSV/JSON read with Spark's rules: lines
 * parsed here, values cast by DuckDB, malformed records per `mode`, schemas inferred as Spark does.
 */
import { isUtf8 } from 'node:buffer';
import { existsSync, statSync } from 'node:fs';
import { open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve as resolvePath, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { glob } from 'tinyglobby';
import { AnalysisException, SparkRuntimeException } from './errors.js';
import type { DataSourceSpec } from './plan/unresolved.js';
import { sqlString } from './types.js';
import {
  ArrayType,
  BooleanType,
  DateType,
  DecimalType,
  DoubleType,
  IntegerType,
  LongType,
  NullType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  commonType,
  type DataType,
} from './types.js';

/** Spark's CSV/JSON options → DuckDB reader options. */
export function readerOptions(ds: DataSourceSpec): string {
  const o = Object.fromEntries(Object.entries(ds.options).map(([k, v]) => [k.toLowerCase(), v]));
  const out: string[] = [];
  if (ds.format === 'csv') {
    out.push(`header = ${o.header === 'true' ? 'true' : 'false'}`);
    const sep = o.sep ?? o.delimiter;
    if (sep !== undefined) out.push(`delim = ${sqlString(sep)}`);
    if (o.quote !== undefined) out.push(`quote = ${sqlString(o.quote)}`);
    if (o.escape !== undefined) out.push(`escape = ${sqlString(o.escape)}`);
    if (o.nullvalue !== undefined) out.push(`nullstr = ${sqlString(o.nullvalue)}`);
    if (o.dateformat !== undefined) out.push(`dateformat = ${sqlString(o.dateformat)}`);
    const mode = (o.mode ?? 'PERMISSIVE').toUpperCase();
    if (mode === 'DROPMALFORMED') out.push('ignore_errors = true');
    if (mode === 'PERMISSIVE') out.push('null_padding = true');
    if (ds.schema) {
      out.push(
        `columns = {${ds.schema.fields.map((f) => `${sqlString(f.name)}: ${sqlString(f.dataType.duckdb())}`).join(', ')}}`,
      );
    } else if (o.inferschema !== 'true') out.push('all_varchar = true');
    out.push('auto_detect = true');
  } else if (ds.format === 'parquet') {
    // Partition columns come from discoverPartitions (Spark's types), not DuckDB's own.
    out.push('hive_partitioning = false');
  } else if (ds.format === 'json') {
    out.push("format = 'newline_delimited'");
    if (ds.schema)
      out.push(
        `columns = {${ds.schema.fields.map((f) => `${sqlString(f.name)}: ${sqlString(f.dataType.duckdb())}`).join(', ')}}`,
      );
  }
  return out.join(', ');
}

/** The files of a source's paths: a file, a directory (its data files), a glob. */
export async function listFiles(paths: readonly string[], format: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolvePath(p);
    if (/[*?[{]/.test(p)) {
      const found = (await glob(p, { absolute: true, onlyFiles: true })).sort();
      if (found.length === 0) throw pathNotFound(p);
      out.push(...found);
      continue;
    }
    if (!existsSync(abs)) throw pathNotFound(p);
    if (statSync(abs).isDirectory()) {
      const found = (await glob('**/*', { cwd: abs, absolute: true, onlyFiles: true }))
        .filter((f) => !/(^|\/)[._]/.test(f.slice(abs.length)))
        .filter((f) => format !== 'parquet' || f.endsWith('.parquet'))
        .sort();
      out.push(...found);
    } else out.push(abs);
  }
  return out;
}

/** `[PATH_NOT_FOUND]` for a path that names no file. */
export function pathNotFound(p: string): AnalysisException {
  return new AnalysisException(
    'PATH_NOT_FOUND',
    `[PATH_NOT_FOUND] Path does not exist: file:${resolvePath(p)}.`,
    { path: `file:${resolvePath(p)}` },
  );
}

// ------------------------------------------------------------------ malformed records (mode)

/** Spark's parse modes of CSV and JSON reads. */
export type ParseMode = 'PERMISSIVE' | 'DROPMALFORMED' | 'FAILFAST';

/** How a value of a column is checked and cast from its text. */
type FieldKind = 'string' | 'integral' | 'boolean' | 'floating' | 'temporal' | 'nested' | 'other';

/** One column of a CSV/JSON read: its name, DuckDB type and how its text is checked. */
export interface RecordField {
  readonly name: string;
  readonly duckdb: string;
  readonly kind: FieldKind;
  /** `date` or `timestamp`: how Spark prints the value in a FAILFAST message (days, microseconds). */
  readonly spark: string;
}

/**
 * How a task reads CSV or JSON lines with Spark's rules: lines tokenized (CSV) or parsed (JSON)
 * here, values cast by DuckDB, malformed records handled per `mode` (PERMISSIVE: nulls where a
 * value does not parse and the raw line in the corrupt-record column; DROPMALFORMED: dropped;
 * FAILFAST: `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION]`).
 */
export interface RecordsSpec {
  readonly format: 'csv' | 'json';
  readonly mode: ParseMode;
  readonly header: boolean;
  readonly sep: string;
  readonly quote: string;
  readonly escape: string;
  readonly nullValue: string;
  /** Every column of the schema, in order (the corrupt-record column included). */
  readonly fields: readonly RecordField[];
  /** The corrupt-record column's name, when the schema has it. */
  readonly corruptColumn?: string;
}

function kindOf(t: DataType): FieldKind {
  const s = t.simpleString();
  if (s === 'string') return 'string';
  if (['tinyint', 'smallint', 'int', 'bigint'].includes(s)) return 'integral';
  if (s === 'boolean') return 'boolean';
  if (s === 'float' || s === 'double') return 'floating';
  if (s === 'date' || s.startsWith('timestamp')) return 'temporal';
  if (/^(array|struct|map)</.test(s)) return 'nested';
  return 'other';
}

/** The records spec of a CSV or JSON source (its schema resolved); undefined for other formats. */
export function recordsSpec(ds: DataSourceSpec): RecordsSpec | undefined {
  if ((ds.format !== 'csv' && ds.format !== 'json') || !ds.schema) return undefined;
  const o = Object.fromEntries(Object.entries(ds.options).map(([k, v]) => [k.toLowerCase(), v]));
  const m = (o.mode ?? 'PERMISSIVE').toUpperCase();
  // Spark falls back to PERMISSIVE for an unknown mode.
  const mode: ParseMode = m === 'DROPMALFORMED' || m === 'FAILFAST' ? m : 'PERMISSIVE';
  const corrupt = o.columnnameofcorruptrecord ?? '_corrupt_record';
  const hasCorrupt = ds.schema.fields.some((f) => f.name === corrupt && kindOf(f.dataType) === 'string');
  return {
    format: ds.format,
    mode,
    header: ds.format === 'csv' && o.header === 'true', // JSON has no header line
    sep: o.sep ?? o.delimiter ?? ',',
    quote: o.quote ?? '"',
    escape: o.escape ?? '\\',
    nullValue: o.nullvalue ?? '',
    fields: ds.schema.fields
      .filter((f) => !ds.partitionColumns?.includes(f.name))
      .map((f) => ({
        name: f.name,
        duckdb: f.dataType.duckdb(),
        kind: kindOf(f.dataType),
        spark: f.dataType.simpleString(),
      })),
    ...(hasCorrupt && { corruptColumn: corrupt }),
  };
}

/** One CSV line's fields (Spark's defaults: `"` quotes, `\` escapes, a doubled quote is a quote). */
export function splitCsvLine(line: string, sep: string, quote: string, escape: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (quote !== '' && line.startsWith(quote, i)) {
      i += quote.length;
      while (i < line.length) {
        const c = line[i]!;
        if (escape !== '' && escape !== quote && c === escape && i + 1 < line.length) {
          field += line[i + 1];
          i += 2;
        } else if (c === quote) {
          if (line[i + 1] === quote) {
            field += quote;
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          field += c;
          i += 1;
        }
      }
    }
    while (i < line.length && !line.startsWith(sep, i)) field += line[i++];
    out.push(field);
    if (i >= line.length) return out;
    i += sep.length;
  }
}

const BAD = Symbol('bad');

/** A JSON value as the text DuckDB casts to the column's type, or `bad` when its JSON type cannot be. */
function jsonText(v: unknown, kind: FieldKind): string | null | typeof BAD {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'integral':
      return typeof v === 'number' && Number.isInteger(v) ? String(v) : BAD;
    case 'floating':
      if (typeof v === 'number') return String(v);
      return typeof v === 'string' && /^[+-]?(NaN|Infinity|INF)$/.test(v)
        ? v.replace('INF', 'Infinity')
        : BAD;
    case 'boolean':
      return typeof v === 'boolean' ? String(v) : BAD;
    case 'temporal':
      return typeof v === 'string' ? v : BAD;
    case 'nested':
      return typeof v === 'object' ? JSON.stringify(v) : BAD;
    default:
      return typeof v === 'number' || typeof v === 'string' ? String(v) : BAD;
  }
}

interface ParsedLine {
  readonly raw: string;
  readonly bad: boolean;
  readonly values: (string | null)[];
}

/** Parses one line into the data columns' texts; `bad` marks a record Spark calls malformed. */
function parseLine(line: string, spec: RecordsSpec, data: readonly RecordField[]): ParsedLine {
  if (spec.format === 'csv') {
    const tokens = splitCsvLine(line, spec.sep, spec.quote, spec.escape);
    const values = data.map((_, i) => {
      const t = tokens[i];
      return t === undefined || t === spec.nullValue ? null : t;
    });
    return { raw: line, bad: tokens.length !== data.length, values };
  }
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return { raw: line, bad: true, values: data.map(() => null) };
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return { raw: line, bad: true, values: data.map(() => null) };
  let bad = false;
  const values = data.map((f) => {
    const t = jsonText((obj as Record<string, unknown>)[f.name], f.kind);
    if (t === BAD) {
      bad = true;
      return null;
    }
    return t;
  });
  return { raw: line, bad, values };
}

function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The DuckDB expression of a column's value from its text `c` (NULL where it does not parse). */
function castExpr(c: string, f: RecordField): string {
  switch (f.kind) {
    case 'string':
      return c;
    case 'integral':
      return `CASE WHEN regexp_full_match(${c}, '[+-]?[0-9]+') THEN TRY_CAST(${c} AS ${f.duckdb}) END`;
    case 'boolean':
      return `CASE lower(${c}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END`;
    case 'nested':
      return `TRY_CAST(TRY_CAST(${c} AS JSON) AS ${f.duckdb})`;
    default:
      return `TRY_CAST(${c} AS ${f.duckdb})`;
  }
}

/** How Spark prints a value of a row in a FAILFAST message (InternalRow: dates as days, timestamps as µs). */
function rowText(v: string, f: RecordField): string {
  const t =
    f.spark === 'date'
      ? `CAST(date_diff('day', DATE '1970-01-01', ${v}) AS VARCHAR)`
      : f.kind === 'temporal'
        ? `CAST(epoch_us(${v}) AS VARCHAR)`
        : `CAST(${v} AS VARCHAR)`;
  return `coalesce(${t}, 'null')`;
}

/** Bytes read at a time by {@link plainCsvFile}. */
const SCAN_CHUNK_BYTES = 8 * 1024 * 1024;
/** Longest line the native reader takes as it is (DuckDB's `max_line_size` is 2 MB). */
const MAX_PLAIN_LINE_BYTES = 1024 * 1024;

/**
 * Whether DuckDB's own CSV reader, given every column as text, splits `file` into exactly the
 * fields {@link splitCsvLine} gives line by line (so the native reader can stand in for it). It
 * does when the file is valid UTF-8 without a byte-order mark, has no empty or blank line but a
 * last newline, no `\r` but before a `\n`, no escape character and no doubled quote, and every
 * quote opens a field and closes it at a separator or the line's end (so no quoted field spans
 * lines). Anything else goes through the line-by-line reader. One pass over the bytes.
 */
export async function plainCsvFile(file: string, spec: RecordsSpec): Promise<boolean> {
  const ascii = (s: string) => s.length === 1 && s.charCodeAt(0) < 128;
  if (!ascii(spec.sep) || !ascii(spec.quote) || spec.sep === spec.quote) return false;
  if (spec.escape !== spec.quote && spec.escape !== '' && !ascii(spec.escape)) return false;
  const esc = spec.escape === '' || spec.escape === spec.quote ? -1 : spec.escape.charCodeAt(0);
  const scanner = new PlainCsvScanner(spec.sep.charCodeAt(0), spec.quote.charCodeAt(0), esc);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let carry = 0; // bytes after the last newline, already scanned, kept for the UTF-8 check
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, carry, buf.length - carry, null);
      if (total === 0 && bytesRead >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
        return false;
      total += bytesRead;
      const end = carry + bytesRead;
      // The file ends: its last line must have ended with a newline (and the file is not empty).
      if (bytesRead === 0) return total > 0 && carry === 0 && scanner.atLineStart();
      if (!scanner.scan(buf, carry, end)) return false;
      // UTF-8 up to the last newline (never inside a multi-byte sequence); the rest waits.
      const lastNl = buf.lastIndexOf(10, end - 1);
      const upto = lastNl < 0 ? 0 : lastNl + 1;
      if (upto > 0 && !isUtf8(buf.subarray(0, upto))) return false;
      carry = end - upto;
      if (carry === buf.length) return false; // a line longer than a chunk
      buf.copy(buf, 0, upto, end);
    }
  } finally {
    await fh.close();
  }
}

/** The byte-level checks of {@link plainCsvFile}, carried across chunks (a line may span two). */
class PlainCsvScanner {
  private lineBytes = 0;
  /** Only spaces, tabs and \r so far on this line. */
  private blank = true;
  private inQuote = false;
  private fieldStart = true;
  /** Just closed a quoted field: a separator or the line's end must follow. */
  private afterClose = false;
  private prev = -1;

  constructor(
    private readonly sep: number,
    private readonly quote: number,
    private readonly esc: number,
  ) {}

  /** Whether the bytes so far end a line. */
  atLineStart(): boolean {
    return this.lineBytes === 0;
  }

  /** Scans `buf[from, to)`; false as soon as a byte makes the file not plain. */
  scan(buf: Buffer, from: number, to: number): boolean {
    const { sep, quote, esc } = this;
    let { lineBytes, blank, inQuote, fieldStart, afterClose, prev } = this;
    for (let i = from; i < to; i++) {
      const b = buf[i]!;
      if (b === 10) {
        if (inQuote || blank) return false;
        lineBytes = 0;
        blank = true;
        fieldStart = true;
        afterClose = false;
        prev = b;
        continue;
      }
      if (++lineBytes > MAX_PLAIN_LINE_BYTES) return false;
      if (prev === 13 || b === esc) return false; // a \r not before a \n; the escape character
      if (b !== 32 && b !== 9 && b !== 13) blank = false;
      if (afterClose && b !== sep && b !== 13) return false;
      if (b === quote) {
        if (prev === quote) return false;
        if (inQuote) {
          inQuote = false;
          afterClose = true;
        } else if (fieldStart) inQuote = true;
        else return false;
        fieldStart = false;
      } else if (b === sep && !inQuote) {
        fieldStart = true;
        afterClose = false;
      } else fieldStart = false;
      prev = b;
    }
    Object.assign(this, { lineBytes, blank, inQuote, fieldStart, afterClose, prev });
    return true;
  }
}

/** {@link plainCsvFile}'s answers in this thread, by file, size, mtime and the characters that matter. */
const plainAnswers = new Map<string, boolean>();
/** Answers kept; the oldest goes first beyond it. */
const PLAIN_ANSWERS_MAX = 4096;

/** {@link plainCsvFile}, scanned once per version of the file (a query read again scans nothing). */
async function plainCsvFileCached(file: string, spec: RecordsSpec): Promise<boolean> {
  const st = await stat(file);
  const key = `${file}\0${st.size}\0${st.mtimeMs}\0${spec.sep}\0${spec.quote}\0${spec.escape}`;
  const known = plainAnswers.get(key);
  if (known !== undefined) return known;
  const plain = await plainCsvFile(file, spec);
  if (plainAnswers.size >= PLAIN_ANSWERS_MAX) plainAnswers.delete(plainAnswers.keys().next().value!);
  plainAnswers.set(key, plain);
  return plain;
}

/**
 * The SELECT of a PERMISSIVE CSV read without a corrupt-record column, through DuckDB's reader
 * (every column as text, then cast as {@link recordsView} casts), when every file is
 * {@link plainCsvFile}; undefined otherwise. Malformed records need no marking here: in this mode
 * a line with too few fields has NULLs for the rest, one with too many drops the extra ones.
 */
export async function nativeCsvView(
  files: readonly string[],
  spec: RecordsSpec,
): Promise<string | undefined> {
  if (spec.format !== 'csv' || spec.mode !== 'PERMISSIVE' || spec.corruptColumn !== undefined)
    return undefined;
  if (spec.nullValue !== '' || files.length === 0) return undefined;
  for (const f of files) if (!(await plainCsvFileCached(f, spec))) return undefined;
  const columns = spec.fields.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const read =
    `read_csv([${files.map(sqlString).join(', ')}], header = ${spec.header}, auto_detect = false, ` +
    `delim = ${sqlString(spec.sep)}, quote = ${sqlString(spec.quote)}, escape = ${sqlString(spec.quote)}, ` +
    `null_padding = true, strict_mode = false, columns = {${columns}})`;
  return `SELECT ${spec.fields.map((f, i) => `${castExpr(`c${i}`, f)} AS ${ident(f.name)}`).join(', ')} FROM ${read}`;
}

/**
 * The SELECT of the typed rows of `files`: through DuckDB's reader where {@link nativeCsvView}
 * gives the same rows (unless `lineByLine`), else read line by line into temp table `table`.
 */
export async function recordsView(
  conn: DuckDBConnection,
  table: string,
  files: readonly string[],
  spec: RecordsSpec,
  lineByLine = false,
): Promise<string> {
  const native = lineByLine ? undefined : await nativeCsvView(files, spec);
  if (native !== undefined) return native;
  const data = spec.fields.filter((f) => f.name !== spec.corruptColumn);
  const texts = data.map((_, i) => `c${i}`);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${table} (__n BIGINT, __raw VARCHAR, __bad BOOLEAN${texts.map((c) => `, ${c} VARCHAR`).join('')})`,
  );
  const appender = await conn.createAppender(table, 'main', 'temp');
  let n = 0;
  try {
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      let first = spec.header;
      for (let line of lines) {
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.trim() === '') continue;
        if (first) {
          first = false;
          continue;
        }
        const p = parseLine(line, spec, data);
        appender.appendBigInt(BigInt(n++));
        appender.appendVarchar(p.raw);
        appender.appendBoolean(p.bad);
        for (const v of p.values) {
          if (v === null) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.endRow();
      }
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const typed = `SELECT __n, __raw, __bad, ${texts.map((c, i) => `${c}, ${castExpr(c, data[i]!)} AS v${i}`).join(', ')} FROM ${table}`;
  const flags = ['__bad', ...texts.map((c, i) => `(${c} IS NOT NULL AND v${i} IS NULL)`)].join(' OR ');
  const marked = `SELECT *, (${flags}) AS __m FROM (${typed})`;
  const column = (f: RecordField): string => {
    const i = data.indexOf(f);
    return i < 0 ? `CASE WHEN __m THEN __raw END` : `v${i}`;
  };
  if (spec.mode === 'FAILFAST') {
    const row = `'[' || concat_ws(',', ${spec.fields.map((f) => (f.name === spec.corruptColumn ? '__raw' : rowText(column(f), f))).join(', ')}) || ']'`;
    const r = await conn.runAndReadAll(`SELECT ${row} AS r FROM (${marked}) WHERE __m ORDER BY __n LIMIT 1`);
    const bad = r.getRowsJS()[0]?.[0];
    if (typeof bad === 'string')
      throw new SparkRuntimeException(
        'MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION',
        `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: ${bad}.\nParse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'.`,
        { badRecord: bad, failFastMode: 'FAILFAST' },
      );
  }
  const where = spec.mode === 'DROPMALFORMED' ? ' WHERE NOT __m' : '';
  return `SELECT ${spec.fields.map((f) => `${column(f)} AS ${ident(f.name)}`).join(', ')} FROM (${marked})${where} ORDER BY __n`;
}

// ------------------------------------------------------------------ partition directories

/** Characters Spark's `ExternalCatalogUtils.escapePathName` writes as `%XX` (not the space). */
const PATH_ESCAPED = new Set([
  ...Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)),
  ...'"#%\'*/:=?\\\u007f{[]^',
]);

/** Spark's `escapePathName`: the characters above as `%XX` (uppercase hex), the rest as they are. */
export function escapePathName(s: string): string {
  let out = '';
  for (const c of s)
    out += PATH_ESCAPED.has(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c;
  return out;
}

/** The directory name Spark gives a partition value: NULL and '' are `__HIVE_DEFAULT_PARTITION__`. */
export function partitionDirName(column: string, value: string | null): string {
  const v = value === null || value === '' ? DEFAULT_PARTITION : escapePathName(value);
  return `${escapePathName(column)}=${v}`;
}

async function moveInto(from: string, to: string): Promise<void> {
  if (!existsSync(to)) {
    await rename(from, to);
    return;
  }
  // An append into a partition that exists: its files join the directory.
  for (const e of await readdir(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) await moveInto(src, dst);
    else await rename(src, dst);
  }
  await rm(from, { recursive: true, force: true });
}

/**
 * Renames the `column=value` directories DuckDB's PARTITION_BY wrote under `root` (values
 * URL-encoded: `name=Haejoon%20Lee`) to Spark's names (`name=Haejoon Lee`, `a%2Fb`), merging into
 * directories an earlier append made. Readers decode both (DuckDB's hive partitioning).
 */
export async function respellPartitionDirs(root: string): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const eq = e.name.indexOf('=');
    if (eq <= 0) continue;
    let dir = join(root, e.name);
    let column: string;
    let value: string;
    try {
      column = decodeURIComponent(e.name.slice(0, eq));
      value = decodeURIComponent(e.name.slice(eq + 1));
    } catch {
      continue;
    }
    const name = partitionDirName(column, value === DEFAULT_PARTITION ? null : value);
    if (name !== e.name) {
      const to = join(root, name);
      await moveInto(dir, to);
      dir = to;
    }
    await respellPartitionDirs(dir);
  }
}

// ------------------------------------------------------------------ partition discovery

/** The directory name of a NULL (or empty) partition value. */
export const DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** Spark's `unescapePathName`: every `%XX` (two hex digits) as its character. */
export function unescapePathName(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The `column=value` directories of a path, in order (value unescaped; NULL for the default partition). */
function partitionDirs(path: string): Array<readonly [string, string | null]> {
  const dirs = path.split(sep).slice(0, -1);
  const out: Array<readonly [string, string | null]> = [];
  for (const d of dirs) {
    const eq = d.indexOf('=');
    if (eq <= 0) continue;
    const raw = d.slice(eq + 1);
    out.push([unescapePathName(d.slice(0, eq)), raw === DEFAULT_PARTITION ? null : unescapePathName(raw)]);
  }
  return out;
}

/** A file's values of the partition columns `names`, from its directories (NULL where absent). */
export function partitionValuesOf(file: string, names: readonly string[]): Array<string | null> {
  const dirs = new Map(partitionDirs(file));
  return names.map((n) => dirs.get(n) ?? null);
}

const INT_TEXT = /^[+-]?\d+$/;
const DOUBLE_TEXT = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?)$/;

/** Spark's `inferPartitionColumnValue`: int, long, decimal(p, 0), double, timestamp, date, else string. */
function partitionValueType(v: string | null): DataType {
  if (v === null) return new NullType();
  if (INT_TEXT.test(v)) {
    const n = BigInt(v);
    if (n >= -(2n ** 31n) && n < 2n ** 31n) return new IntegerType();
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return new LongType();
    const digits = v.replace(/^[+-]0*/, '').length;
    if (digits <= 38) return new DecimalType(Math.max(1, digits), 0);
  }
  if (DOUBLE_TEXT.test(v)) return new DoubleType();
  if (/^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(v)) return new TimestampType();
  if (/^\d{4}-\d{1,2}-\d{1,2}$/.test(v)) return new DateType();
  return new StringType();
}

/** Spark's `findWiderTypeForPartitionColumn`: no long/decimal with double; string when nothing fits. */
function widerPartitionType(a: DataType, b: DataType): DataType {
  const exact = (t: DataType) => t instanceof LongType || t instanceof DecimalType;
  if ((a instanceof DoubleType && exact(b)) || (b instanceof DoubleType && exact(a))) return new StringType();
  return commonType(a, b) ?? new StringType();
}

/**
 * Partition discovery (Spark's): the `column=value` directories every file of a read sits under,
 * as columns typed by their values (a column of NULLs only is a string). None when the files
 * disagree on the columns, or when a column is not under a directory the read names.
 */
export function discoverPartitions(paths: readonly string[], files: readonly string[]): StructField[] {
  const roots = paths.map((p) => resolvePath(p));
  let names: string[] | undefined;
  const types: DataType[] = [];
  for (const f of files) {
    const root = roots.find((r) => f.startsWith(r + sep));
    const dirs = root === undefined ? [] : partitionDirs(f.slice(root.length));
    const keys = dirs.map(([k]) => k);
    if (names === undefined) names = keys;
    else if (keys.join('\0') !== names.join('\0')) return [];
    dirs.forEach(
      ([, v], i) => (types[i] = widerPartitionType(types[i] ?? new NullType(), partitionValueType(v))),
    );
  }
  return (names ?? []).map(
    (n, i) => new StructField(n, types[i] instanceof NullType ? new StringType() : types[i]!, true),
  );
}

// ------------------------------------------------------------------ schema inference (CSV, JSON)

/**
 * Spark's CSV inference tries int before long: the long columns DuckDB's sniffer found (in
 * `schema`, read from `source`, a DuckDB table expression) become int when every value fits.
 */
export async function narrowCsvIntegers(
  conn: DuckDBConnection,
  source: string,
  schema: StructType,
): Promise<StructType> {
  const longs = schema.fields.map((f, i) => [f, i] as const).filter(([f]) => f.dataType instanceof LongType);
  if (longs.length === 0) return schema;
  const cols = longs.map(([, i]) => `#${i + 1}`);
  const r = await conn.runAndReadAll(
    `SELECT ${cols.map((c) => `coalesce(min(${c}) >= -2147483648 AND max(${c}) <= 2147483647, true)`).join(', ')} FROM ${source}`,
  );
  const fits = (r.getRowsJS()[0] ?? []) as unknown[];
  const narrow = new Set(longs.filter((_, j) => fits[j] === true).map(([, i]) => i));
  return new StructType(
    schema.fields.map((f, i) => (narrow.has(i) ? new StructField(f.name, new IntegerType(), f.nullable) : f)),
  );
}

/** The lines of files that are not blank, `\r` removed. */
async function* nonBlankLines(files: readonly string[]): AsyncGenerator<{ file: number; line: string }> {
  for (let f = 0; f < files.length; f++)
    for (let line of (await readFile(files[f]!, 'utf8')).split('\n')) {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() !== '') yield { file: f, line };
    }
}

/**
 * A CSV source's columns without inferSchema, as Spark names them: the first line's fields
 * (header) or `_c0`, `_c1`, …; all strings. Later lines with more or fewer fields are malformed.
 */
export async function csvHeaderSchema(files: readonly string[], ds: DataSourceSpec): Promise<StructType> {
  const spec = recordsSpec({ ...ds, schema: new StructType([]) })!;
  for await (const { line } of nonBlankLines(files)) {
    const tokens = splitCsvLine(line, spec.sep, spec.quote, spec.escape);
    return new StructType(
      tokens.map((t, i) => new StructField(spec.header ? t : `_c${i}`, new StringType(), true)),
    );
  }
  return new StructType([]);
}

function jsonType(v: unknown): DataType {
  if (v === null) return new NullType();
  if (typeof v === 'boolean') return new BooleanType();
  if (typeof v === 'number') return Number.isInteger(v) ? new LongType() : new DoubleType();
  if (typeof v === 'string') return new StringType();
  if (Array.isArray(v))
    return new ArrayType(v.map(jsonType).reduce<DataType>((a, b) => mergeJsonTypes(a, b), new NullType()));
  const o = v as Record<string, unknown>;
  return new StructType(
    Object.keys(o)
      .sort()
      .map((k) => new StructField(k, jsonType(o[k]), true)),
  );
}

/** Spark's JSON type merge: null gives way, long widens to double, structs merge by field, else string. */
function mergeJsonTypes(a: DataType, b: DataType): DataType {
  if (a instanceof NullType) return b;
  if (b instanceof NullType) return a;
  if (a.simpleString() === b.simpleString()) return a;
  const num = (t: DataType) => t instanceof LongType || t instanceof DoubleType;
  if (num(a) && num(b)) return new DoubleType();
  if (a instanceof ArrayType && b instanceof ArrayType)
    return new ArrayType(mergeJsonTypes(a.elementType, b.elementType));
  if (a instanceof StructType && b instanceof StructType) {
    const fields = new Map(a.fields.map((f) => [f.name, f.dataType]));
    for (const f of b.fields) {
      const t = fields.get(f.name);
      fields.set(f.name, t ? mergeJsonTypes(t, f.dataType) : f.dataType);
    }
    return new StructType([...fields.keys()].sort().map((k) => new StructField(k, fields.get(k)!, true)));
  }
  return new StringType();
}

/**
 * A JSON lines source's schema as Spark infers it: fields sorted by name, long/double/string/
 * boolean/struct/array, null-only fields as string; in PERMISSIVE mode a malformed line adds the
 * corrupt-record column; in FAILFAST it raises `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION]`.
 */
export async function inferJsonSchema(files: readonly string[], ds: DataSourceSpec): Promise<StructType> {
  const spec = recordsSpec({ ...ds, schema: new StructType([]) })!;
  const corrupt =
    Object.entries(ds.options).find(([k]) => k.toLowerCase() === 'columnnameofcorruptrecord')?.[1] ??
    '_corrupt_record';
  let merged: DataType = new StructType([]);
  let malformed = false;
  for await (const { line } of nonBlankLines(files)) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = undefined;
    }
    if (v === undefined || v === null || typeof v !== 'object' || Array.isArray(v)) {
      if (spec.mode === 'FAILFAST')
        throw new SparkRuntimeException(
          'MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION',
          `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: ${line}.\nParse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'.`,
          { badRecord: line, failFastMode: 'FAILFAST' },
        );
      malformed = true;
      continue;
    }
    merged = mergeJsonTypes(merged, jsonType(v));
  }
  const fields = (merged as StructType).fields.map(
    (f) => new StructField(f.name, f.dataType instanceof NullType ? new StringType() : f.dataType, true),
  );
  if (malformed && spec.mode === 'PERMISSIVE' && !fields.some((f) => f.name === corrupt))
    fields.push(new StructField(corrupt, new StringType(), true));
  return new StructType(fields.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)));
}
