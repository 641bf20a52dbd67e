/**
 * `DataFrameWriter` (`df.write`): the builder of a write (format, mode, options, partition
 * columns) that ends in `save` and its format shortcuts, which run `engine.write`.
 */
import { AnalysisException } from '../sql/errors.js';
import type { Relation } from '../sql/plan/unresolved.js';
import type { SqlEngine, WriteSpec } from './engine.js';

type Mode = WriteSpec['mode'];
type Format = WriteSpec['format'];

const MODES: readonly string[] = ['error', 'errorifexists', 'overwrite', 'append', 'ignore'];
const FORMATS: readonly string[] = ['parquet', 'csv', 'json', 'text'];

/** An option value as a string, as PySpark's `to_str` makes it (booleans lower-case). */
function optionString(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

/** Per-call options of `csv`/`json`/`text`/`parquet`: the mode, partition columns and format options. */
export type WriteOptions = {
  readonly mode?: string;
  readonly partitionBy?: string | readonly string[];
} & Readonly<Record<string, unknown>>;

/** Builds and runs a write of a DataFrame's rows. */
export class DataFrameWriter {
  private fmt = 'parquet';
  private saveMode: Mode = 'errorifexists';
  private readonly opts: Record<string, string> = {};
  private partitionCols: string[] = [];

  constructor(
    private readonly engine: SqlEngine,
    private readonly plan: Relation,
  ) {}

  /** The save mode: `error`/`errorifexists` (default), `overwrite`, `append`, `ignore`. */
  mode(saveMode: string | undefined): this {
    if (saveMode === undefined) return this;
    const m = saveMode.toLowerCase();
    if (m === 'default') {
      this.saveMode = 'errorifexists';
      return this;
    }
    if (!MODES.includes(m)) {
      throw new AnalysisException(
        'INVALID_SAVE_MODE',
        `The specified save mode "${saveMode}" is invalid. Valid save modes include "append", "overwrite", "ignore", "error", "errorifexists", and "default".`,
        { mode: saveMode },
      );
    }
    this.saveMode = m as Mode;
    return this;
  }
  /** The data source: `parquet` (default), `csv`, `json` or `text`. */
  format(source: string): this {
    this.fmt = source.toLowerCase();
    return this;
  }
  /** One option of the data source (values become strings). */
  option(key: string, value: unknown): this {
    if (value !== undefined && value !== null) this.opts[key] = optionString(value);
    return this;
  }
  /** Several options of the data source. */
  options(options: Readonly<Record<string, unknown>>): this {
    for (const [k, v] of Object.entries(options)) this.option(k, v);
    return this;
  }
  /** Partitions the output by columns (one directory level per column: `col=value/`). */
  partitionBy(...cols: (string | readonly string[])[]): this {
    this.partitionCols = cols.flatMap((c) => (typeof c === 'string' ? [c] : [...c]));
    return this;
  }

  /** Writes to `path` (or the `path` option) in the chosen format. */
  async save(
    path?: string,
    format?: string,
    mode?: string,
    options?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    if (format !== undefined) this.format(format);
    this.mode(mode);
    if (options) this.options(options);
    const target = path ?? this.opts.path;
    if (!FORMATS.includes(this.fmt)) {
      throw new AnalysisException(
        'DATA_SOURCE_NOT_FOUND',
        `[DATA_SOURCE_NOT_FOUND] Failed to find the data source: ${this.fmt}. Supported here: ${FORMATS.join(', ')}.`,
        { provider: this.fmt },
      );
    }
    if (target === undefined) {
      throw new AnalysisException('_LEGACY_ERROR_TEMP_1137', "'path' is not specified.");
    }
    const { path: _unused, ...rest } = this.opts;
    void _unused;
    await this.engine.write(this.plan, {
      format: this.fmt as Format,
      path: target,
      mode: this.saveMode,
      partitionBy: [...this.partitionCols],
      options: rest,
    });
  }

  private shortcut(format: Format, path: string, options?: WriteOptions): Promise<void> {
    const { mode, partitionBy, ...rest } = options ?? {};
    if (partitionBy !== undefined) this.partitionBy(partitionBy);
    return this.format(format).mode(mode).options(rest).save(path);
  }

  /** Writes Parquet files (PySpark: `parquet(path, mode, partitionBy, compression)`). */
  parquet(
    path: string,
    mode?: string,
    partitionBy?: string | readonly string[],
    compression?: string,
  ): Promise<void> {
    return this.shortcut('parquet', path, {
      ...(mode !== undefined && { mode }),
      ...(partitionBy !== undefined && { partitionBy }),
      ...(compression !== undefined && { compression }),
    });
  }
  /** Writes CSV files; options: `mode`, `partitionBy`, `header`, `sep`, `compression`… */
  csv(path: string, options?: WriteOptions): Promise<void> {
    return this.shortcut('csv', path, options);
  }
  /** Writes JSON Lines files; options: `mode`, `partitionBy`, `compression`… */
  json(path: string, options?: WriteOptions): Promise<void> {
    return this.shortcut('json', path, options);
  }
  /** Writes text files from a single string column; options: `mode`, `partitionBy`, `compression`, `lineSep`. */
  text(path: string, options?: WriteOptions): Promise<void> {
    return this.shortcut('text', path, options);
  }
}
