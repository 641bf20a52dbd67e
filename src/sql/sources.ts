/**
 * Data sources: the files a read names (a file, a directory, a glob), Spark's reader options as
 * DuckDB reader options, and the errors of missing paths.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { glob } from 'tinyglobby';
import { AnalysisException } from './errors.js';
import type { DataSourceSpec } from './plan/unresolved.js';

function sqlLit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Spark's CSV/JSON options → DuckDB reader options. */
export function readerOptions(ds: DataSourceSpec): string {
  const o = Object.fromEntries(Object.entries(ds.options).map(([k, v]) => [k.toLowerCase(), v]));
  const out: string[] = [];
  if (ds.format === 'csv') {
    out.push(`header = ${o.header === 'true' ? 'true' : 'false'}`);
    const sep = o.sep ?? o.delimiter;
    if (sep !== undefined) out.push(`delim = ${sqlLit(sep)}`);
    if (o.quote !== undefined) out.push(`quote = ${sqlLit(o.quote)}`);
    if (o.escape !== undefined) out.push(`escape = ${sqlLit(o.escape)}`);
    if (o.nullvalue !== undefined) out.push(`nullstr = ${sqlLit(o.nullvalue)}`);
    if (o.dateformat !== undefined) out.push(`dateformat = ${sqlLit(o.dateformat)}`);
    const mode = (o.mode ?? 'PERMISSIVE').toUpperCase();
    if (mode === 'DROPMALFORMED') out.push('ignore_errors = true');
    if (mode === 'PERMISSIVE') out.push('null_padding = true');
    if (ds.schema) {
      out.push(
        `columns = {${ds.schema.fields.map((f) => `${sqlLit(f.name)}: ${sqlLit(f.dataType.duckdb())}`).join(', ')}}`,
      );
    } else if (o.inferschema !== 'true') out.push('all_varchar = true');
    out.push('auto_detect = true');
  } else if (ds.format === 'json') {
    out.push("format = 'newline_delimited'");
    if (ds.schema)
      out.push(
        `columns = {${ds.schema.fields.map((f) => `${sqlLit(f.name)}: ${sqlLit(f.dataType.duckdb())}`).join(', ')}}`,
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

export function pathNotFound(p: string): AnalysisException {
  return new AnalysisException(
    'PATH_NOT_FOUND',
    `[PATH_NOT_FOUND] Path does not exist: file:${resolvePath(p)}.`,
    { path: `file:${resolvePath(p)}` },
  );
}
