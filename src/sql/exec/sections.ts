/**
 * Column sections: what a worker's catalog says about each block of structured data it holds (a
 * shuffle output or a cached DataFrame partition) — rows, bytes, and per column its type and its
 * smallest and largest value, read from the Parquet footer (no scan). `microspark status` shows
 * them; planners may use them later (partition pruning, adaptive execution).
 */

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

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The section of a Parquet file, from its footer: row count, and min/max per column over its row groups. */
export async function parquetSection(conn: Conn, file: string, bytes: number): Promise<ColumnSection> {
  const meta = (
    await conn.runAndReadAll(
      `SELECT path_in_schema AS name, type, row_group_id, row_group_num_rows AS n, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${lit(file)})`,
    )
  ).getRowObjectsJS();
  const byName = new Map<string, { type: string; parts: ColumnSection[] }>();
  const groupRows = new Map<unknown, number>();
  for (const m of meta) {
    const name = String(m.name);
    groupRows.set(m.row_group_id, Number(m.n));
    let e = byName.get(name);
    if (!e) {
      e = { type: String(m.type), parts: [] };
      byName.set(name, e);
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
  const columns = [...byName.values()].map((e) => mergeSections(e.parts)!.columns[0]!);
  const rows = [...groupRows.values()].reduce((n, r) => n + r, 0);
  return { rows, bytes, columns };
}
