/**
 * What the DataFrame API needs from the SQL engine (implemented by `src/sql/session-engine.ts`).
 * A DataFrame is only a plan on the client: every question about it (its schema) and every action
 * goes through this interface.
 */
import type { Table } from 'apache-arrow';
import type { RDD } from '../rdd/rdd.js';
import type { Relation } from '../sql/plan/unresolved.js';
import type { StructType } from '../sql/types.js';

/** A row: a plain object whose keys are the schema's field names, in order. NULL is `null`. */
export type Row = Record<string, unknown>;

/** Whether some name occurs twice (a join of two sides with a same-named column). */
export function hasDuplicateNames(names: readonly string[]): boolean {
  return new Set(names).size !== names.length;
}

/**
 * The row of `values` named `names`. With duplicate names (Spark's Row allows them), a name's
 * property holds its last value, as PySpark's `asDict()` keeps it, and every value is also there
 * by position, non-enumerable (`row[0]`, `row[1]`, …, as PySpark's `row[i]`), so none is lost.
 * `duplicates` is {@link hasDuplicateNames} of `names` (computed once per result).
 */
export function makeRow(names: readonly string[], values: readonly unknown[], duplicates: boolean): Row {
  const o: Row = {};
  for (let i = 0; i < names.length; i++) o[names[i]!] = values[i] === undefined ? null : values[i];
  if (duplicates)
    for (let i = 0; i < names.length; i++)
      Object.defineProperty(o, i, {
        value: values[i] ?? null,
        enumerable: false,
        writable: true,
        configurable: true,
      });
  return o;
}

/** How a DataFrame is written (`df.write`). */
export interface WriteSpec {
  readonly format: 'parquet' | 'csv' | 'json' | 'text';
  readonly path: string;
  readonly mode: 'error' | 'errorifexists' | 'overwrite' | 'append' | 'ignore';
  readonly partitionBy: readonly string[];
  readonly options: Readonly<Record<string, string>>;
}

/** The explain modes of `df.explain(mode)`. */
export type ExplainMode = 'simple' | 'extended' | 'codegen' | 'cost' | 'formatted';

/** The engine behind a SparkSession. */
export interface SqlEngine {
  /** A fresh plan id for a new DataFrame node (Spark Connect's `plan_id`, used by `df.col(name)`). */
  newPlanId(): number;
  /** The resolved schema of a plan; throws `AnalysisException` (unknown column, type mismatch…). Synchronous. */
  schemaOf(plan: Relation): StructType;
  /** Runs the plan; the rows in the plan's order. `limit` stops early where the plan allows. */
  collect(plan: Relation, opts?: { readonly limit?: number; readonly signal?: AbortSignal }): Promise<Row[]>;
  /**
   * Runs the plan; the rows as arrays in column order (optional: `show` uses it so that columns
   * with the same name, as after a join, keep their own values).
   */
  collectArrays?(plan: Relation): Promise<{ readonly rows: readonly (readonly unknown[])[] }>;
  /** Runs the plan and counts its rows. */
  count(plan: Relation): Promise<number>;
  /** The plans as `df.explain(mode)` prints them. */
  explain(plan: Relation, mode: ExplainMode): string;
  /** The plan's rows as an Arrow Table, with Arrow types from the schema (collected to the client). */
  toArrow(plan: Relation): Promise<Table>;
  /** The plan's rows as an RDD of Rows (computed on the workers). */
  toRdd(plan: Relation): RDD<Row>;
  /** Marks the plan's result as cached; returns the plan that reads it (`df.cache()`). */
  cache(plan: Relation, level?: string): Relation;
  /** Drops the cached result of a plan made by {@link SqlEngine.cache}. */
  unpersist(plan: Relation): void;
  /** Writes the plan's rows. */
  write(plan: Relation, spec: WriteSpec): Promise<void>;
  /** Registers (or replaces) a temporary view. `global` views live under `global_temp`. */
  createView(
    name: string,
    plan: Relation,
    opts: { readonly replace: boolean; readonly global: boolean },
  ): void;
}
