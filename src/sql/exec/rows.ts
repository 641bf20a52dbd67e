/**
 * Rows and Parquet batches inside a task (DuckDB in the task's thread), for the RDD interop of
 * DataFrames: `df.rdd` decodes a result stage's batches into row objects, and
 * `createDataFrame(rdd)` / `rdd.toDF()` encode an RDD's elements (objects or arrays) into one
 * batch per partition that SQL stages read.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { JSToDuckDBValueConverter, type JS } from '@duckdb/node-api';
import { InvalidOperationError } from '../../protocol/errors.js';
import { parseDataType, quoteIdent, sqlString, type DataType } from '../types.js';
import { acquireConnection, duckdb, releaseConnection, resultRows } from './fragment.js';
import { duckType } from './udf.js';
import { scratchPath } from './scratch.js';
import { fromDuck, toDuck } from './values.js';
import { hasDuplicateNames, makeRow } from '../../dataframe/engine.js';

let tables = 0;

/** `[batch column, row field name, type DDL]` of each column `decodeRows` reads. */
export type DecodeField = readonly [string, string, string];

/** Batches up to this size are written with synchronous calls (each asynchronous one is a hop through the pool). */
const SYNC_WRITE_BYTES = 1 << 20;

/**
 * The rows of Parquet batches as arrays, reading `columns` (batch column names) in order, values
 * as the DataFrame API gives them for `types` (long as a number, a bigint beyond 2^53; map as Map).
 */
export async function readBatches(
  batches: readonly Uint8Array[],
  columns: readonly string[],
  types: readonly DataType[],
): Promise<unknown[][]> {
  const nonEmpty = batches.filter((b) => b.length > 0);
  if (nonEmpty.length === 0) return [];
  const conn = await acquireConnection();
  const paths: string[] = [];
  let ok = false;
  try {
    for (let i = 0; i < nonEmpty.length; i++) {
      const p = scratchPath(`rows-${i}.parquet`);
      const b = nonEmpty[i]!;
      paths.push(p);
      if (b.byteLength <= SYNC_WRITE_BYTES) writeFileSync(p, b);
      else await writeFile(p, b);
    }
    const cols = columns.map((c) => quoteIdent(c)).join(', ');
    const result = await conn.run(
      `SELECT ${cols || '*'} FROM read_parquet([${paths.map(sqlString).join(', ')}])`,
    );
    const rows = resultRows(result).map((r) => r.map((v, i) => fromDuck(v, types[i]!)));
    ok = true;
    return rows;
  } finally {
    if (ok) releaseConnection(conn);
    else conn.closeSync();
    for (const p of paths) rmSync(p, { force: true });
  }
}

/** The rows of Parquet batches as objects whose keys are the field names, in order. */
export async function decodeRows(
  batches: readonly Uint8Array[],
  fields: readonly DecodeField[],
): Promise<Array<Record<string, unknown>>> {
  const rows = await readBatches(
    batches,
    fields.map(([c]) => c),
    fields.map(([, , t]) => parseDataType(t)),
  );
  const names = fields.map(([, n]) => n);
  const duplicates = hasDuplicateNames(names);
  return rows.map((r) => makeRow(names, r, duplicates));
}

/** `[field name, type DDL]` of each column `encodeRows` writes. */
export type EncodeField = readonly [string, string];

function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

function kind(v: unknown): string {
  if (v instanceof Date) return 'Date';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'Map';
  return typeof v;
}

/**
 * One Parquet batch of `rows` (objects, read by field name, or arrays, read by position), typed
 * by `fields`. A value that does not fit its field's type is refused, as PySpark's schema check
 * refuses it (`field age: LongType() can not accept object 'x'`). No rows: no batch.
 */
export async function encodeRows(
  rows: readonly unknown[],
  fields: readonly EncodeField[],
): Promise<Uint8Array[]> {
  if (rows.length === 0) return [];
  const types: DataType[] = fields.map(([, t]) => parseDataType(t));
  const duck = types.map(duckType);
  const db = await duckdb();
  const conn = await db.connect();
  const file = scratchPath('rows.parquet');
  const table = `ms_rows_${process.pid}_${++tables}`;
  try {
    const cols = fields.map(([n], i) => `${quoteIdent(n)} ${types[i]!.duckdb()}`).join(', ');
    await conn.run(`CREATE TEMP TABLE ${table} (${cols})`);
    const app = await conn.createAppender(table);
    try {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r];
        const arr = Array.isArray(row) ? (row as unknown[]) : undefined;
        if (!arr && (typeof row !== 'object' || row === null))
          throw new InvalidOperationError(
            `createDataFrame: element ${r} of a partition is ${preview(row)}, not an object or an array (a row)`,
          );
        if (arr && arr.length !== fields.length)
          throw new InvalidOperationError(
            `[LENGTH_SHOULD_BE_THE_SAME] createDataFrame: a row has ${arr.length} values but the schema has ${fields.length} fields.`,
          );
        for (let c = 0; c < fields.length; c++) {
          const v = arr ? arr[c] : (row as Record<string, unknown>)[fields[c]![0]];
          const d = toDuck(v, types[c]!);
          if (d === null && v !== null && v !== undefined)
            throw new InvalidOperationError(
              `[CANNOT_ACCEPT_OBJECT_IN_TYPE] field ${fields[c]![0]}: ${types[c]!.simpleString()} can not accept object ${preview(v)} of type ${kind(v)}.`,
            );
          app.appendValue(
            d === null ? null : JSToDuckDBValueConverter(d as JS, duck[c]!, JSToDuckDBValueConverter),
            duck[c],
          );
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
    await conn.run(`COPY ${table} TO ${sqlString(file)} (FORMAT parquet)`);
    return [await readFile(file)];
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    conn.closeSync();
    await rm(file, { force: true });
  }
}
