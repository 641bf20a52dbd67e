/**
 * Column sections: what a worker's catalog says about each block of structured data it holds (a
 * shuffle output or a cached DataFrame partition) — rows, bytes, and per column its type and its
 * smallest and largest value, read from the Parquet footer (no scan). `microspark status` shows
 * them; planners may use them later (partition pruning, adaptive execution).
 */
import { sqlString } from '../types.js';

/** One column of a section. Values are rendered as text (at most 40 characters). */
export interface SectionColumn {
  readonly name: string;
  readonly type: string;
  readonly min?: string;
  readonly max?: string;
}

/** A block of columnar data: rows, bytes, columns. */
export interface ColumnSection {
  readonly rows: number;
  readonly bytes: number;
  readonly columns: SectionColumn[];
}

const MAX_TEXT = 40;

function clip(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + '…' : s;
}

function isNumberText(s: string): boolean {
  return s !== '' && Number.isFinite(Number(s));
}

function less(a: string, b: string): boolean {
  if (isNumberText(a) && isNumberText(b)) return Number(a) < Number(b);
  return a < b;
}

/** One section for several (the buckets of one map output): rows and bytes added, ranges widened. */
export function mergeSections(parts: readonly ColumnSection[]): ColumnSection | undefined {
  const first = parts[0];
  if (!first) return undefined;
  const columns = first.columns.map((c, i) => {
    let min = c.min;
    let max = c.max;
    for (const p of parts.slice(1)) {
      const o = p.columns[i];
      if (!o) continue;
      if (o.min !== undefined && (min === undefined || less(o.min, min))) min = o.min;
      if (o.max !== undefined && (max === undefined || less(max, o.max))) max = o.max;
    }
    return {
      name: c.name,
      type: c.type,
      ...(min !== undefined && { min }),
      ...(max !== undefined && { max }),
    };
  });
  return {
    rows: parts.reduce((n, p) => n + p.rows, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    columns,
  };
}

/** Minimal shape of a DuckDB connection used here. */
interface Conn {
  runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>;
}

/** A footer statistic as text (DuckDB gives it as a string; other values are shown as JSON). */
function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * The sections of Parquet files, from their footers, in one query: row count, and min/max per
 * column over each file's row groups. `bytes[i]` is the size of `files[i]`.
 */
export async function parquetSections(
  conn: Conn,
  files: readonly string[],
  bytes: readonly number[],
): Promise<ColumnSection[]> {
  if (files.length === 0) return [];
  const meta = (
    await conn.runAndReadAll(
      `SELECT file_name AS file, path_in_schema AS name, type, row_group_id, row_group_num_rows AS n, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata([${files.map(sqlString).join(', ')}])`,
    )
  ).getRowObjectsJS();
  const perFile = new Map<
    string,
    { byName: Map<string, { type: string; parts: ColumnSection[] }>; groupRows: Map<unknown, number> }
  >();
  for (const m of meta) {
    const file = String(m.file);
    let f = perFile.get(file);
    if (!f) {
      f = { byName: new Map(), groupRows: new Map() };
      perFile.set(file, f);
    }
    const name = String(m.name);
    f.groupRows.set(m.row_group_id, Number(m.n));
    let e = f.byName.get(name);
    if (!e) {
      e = { type: String(m.type), parts: [] };
      f.byName.set(name, e);
    }
    const lo = clip(text(m.lo));
    const hi = clip(text(m.hi));
    e.parts.push({
      rows: 0,
      bytes: 0,
      columns: [
        { name, type: e.type, ...(lo !== undefined && { min: lo }), ...(hi !== undefined && { max: hi }) },
      ],
    });
  }
  return files.map((file, i) => {
    const f = perFile.get(file);
    const columns = f ? [...f.byName.values()].map((e) => mergeSections(e.parts)!.columns[0]!) : [];
    const rows = f ? [...f.groupRows.values()].reduce((n, r) => n + r, 0) : 0;
    return { rows, bytes: bytes[i] ?? 0, columns };
  });
}
