/**
 * The 22 TPC-H queries (bench/tpch/queries/q1.sql … q22.sql) in Spark SQL, with the
 * specification's validation substitution parameters; they run unchanged in DuckDB too.
 */
import { readFileSync } from 'node:fs';

/** One TPC-H query: its name ('q1' … 'q22'), its SQL text and whether its ORDER BY fixes the row order. */
export interface TpchQuery {
  name: string;
  sql: string;
  /** True when the ORDER BY keys are unique in the answer, so the row order is fully determined. */
  ordered: boolean;
}

/**
 * Queries whose ORDER BY keys are not unique by construction (revenue, value or total price
 * could tie): compare their answers as multisets. All others are ordered by unique keys.
 */
const UNORDERED = new Set(['q3', 'q5', 'q10', 'q11', 'q18']);

/** The 22 queries, q1 to q22, read from bench/tpch/queries/. */
export function tpchQueries(): TpchQuery[] {
  return Array.from({ length: 22 }, (_, i) => {
    const name = `q${i + 1}`;
    const sql = readFileSync(new URL(`./queries/${name}.sql`, import.meta.url), 'utf8').trim();
    return { name, sql, ordered: !UNORDERED.has(name) };
  });
}
