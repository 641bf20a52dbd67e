/**
 * Reference answers: a query run by DuckDB directly on a generated TPC-H directory, with its
 * values normalized to plain JS, and a comparison of two answers with a numeric tolerance.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { MicroSparkError } from '../../src/protocol/errors.js';
import { TPCH_TABLES, tableScanSql, type TpchTable } from './schema.js';

/** A query's answer: column names and rows of normalized JS values. */
export interface Answer {
  columns: string[];
  rows: unknown[][];
}

/** A TPC-H directory lacks a table's part files. */
export class TpchDataError extends MicroSparkError {}

/** The format of `dir/<table>/`: 'parquet' or 'csv', from the part files found there. */
function formatOf(dir: string, table: TpchTable): 'parquet' | 'csv' {
  const tableDir = join(dir, table);
  const files = existsSync(tableDir) ? readdirSync(tableDir) : [];
  if (files.some((f) => f.endsWith('.parquet'))) return 'parquet';
  if (files.some((f) => f.endsWith('.csv'))) return 'csv';
  throw new TpchDataError(`no .parquet or .csv part files in ${tableDir}`);
}

/**
 * Normalizes a DuckDB value: DECIMAL → number, BIGINT/HUGEINT → number when safe (else bigint),
 * DATE → 'YYYY-MM-DD', TIMESTAMP → Date; numbers, strings, booleans and null as they are.
 */
export function normalizeValue(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (value instanceof DuckDBDecimalValue) return Number(value.toString());
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBTimestampValue) return new Date(Number(value.micros / 1000n));
  return String(value);
}

/**
 * Runs `sql` with DuckDB on the TPC-H files of `dir` (a view per table over its part files,
 * Parquet or CSV with the schema's types) and returns its normalized answer.
 */
export async function runReference(
  dir: string,
  sql: string,
  options: { threads?: number } = {},
): Promise<Answer> {
  const root = resolve(dir);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 1),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  try {
    const conn = await instance.connect();
    try {
      for (const table of TPCH_TABLES)
        await conn.run(`CREATE VIEW ${table} AS ${tableScanSql(root, table, formatOf(root, table))}`);
      const reader = await conn.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRows().map((row) => row.map(normalizeValue)) };
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** A value in a canonical comparable form: numbers as number, dates as strings, else as is. */
function canonical(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  return v === undefined ? null : v;
}

function numbersClose(a: number, b: number, relTol: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b), 1);
}

function valuesEqual(a: unknown, b: unknown, relTol: number): boolean {
  const x = canonical(a);
  const y = canonical(b);
  if (typeof x === 'number' && typeof y === 'number') return numbersClose(x, y, relTol);
  return x === y;
}

/** Orders values: null first, then numbers (within tolerance equal), then strings, then others. */
function compareValues(a: unknown, b: unknown, relTol: number): number {
  const x = canonical(a);
  const y = canonical(b);
  const rank = (v: unknown) => (v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
  if (rank(x) !== rank(y)) return rank(x) - rank(y);
  if (typeof x === 'number' && typeof y === 'number') return numbersClose(x, y, relTol) ? 0 : x - y;
  const sx = String(x);
  const sy = String(y);
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}

const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v);

/**
 * The differences between two answers, as human-readable lines (empty when equal): column count
 * and names (case-insensitive), row count, then cell by cell (numbers to relative tolerance
 * `relTol`, with 1 as the smallest magnitude). Unordered answers are compared as multisets, both
 * sorted canonically first. At most 20 cell differences are listed.
 */
export function compareAnswers(
  expected: Answer,
  actual: Answer,
  options: { ordered: boolean; relTol?: number },
): string[] {
  const relTol = options.relTol ?? 1e-9;
  const diffs: string[] = [];
  const names = (a: Answer) => a.columns.map((c) => c.toLowerCase()).join(', ');
  if (names(expected) !== names(actual))
    diffs.push(`columns: expected [${expected.columns.join(', ')}], got [${actual.columns.join(', ')}]`);
  if (expected.rows.length !== actual.rows.length)
    diffs.push(`row count: expected ${expected.rows.length}, got ${actual.rows.length}`);
  const sorted = (rows: unknown[][]) =>
    options.ordered
      ? rows
      : [...rows].sort((r, s) => {
          for (let i = 0; i < Math.max(r.length, s.length); i++) {
            const c = compareValues(r[i], s[i], relTol);
            if (c !== 0) return c;
          }
          return 0;
        });
  const exp = sorted(expected.rows);
  const act = sorted(actual.rows);
  const where = options.ordered ? 'row' : 'sorted row';
  let cells = 0;
  for (let r = 0; r < Math.min(exp.length, act.length); r++) {
    const e = exp[r]!;
    const a = act[r]!;
    if (e.length !== a.length) {
      diffs.push(`${where} ${r}: expected ${e.length} values, got ${a.length}`);
      cells++;
    }
    for (let c = 0; c < Math.min(e.length, a.length); c++) {
      if (valuesEqual(e[c], a[c], relTol)) continue;
      if (++cells > 20) break;
      const column = expected.columns[c] ?? `#${c}`;
      diffs.push(`${where} ${r}, column ${column}: expected ${show(e[c])}, got ${show(a[c])}`);
    }
    if (cells > 20) {
      diffs.push('… (more differences not listed)');
      break;
    }
  }
  return diffs;
}
