/**
 * DuckDB's profile of a fragment's main statement (`SET enable_profiling = 'json'`), as a list of
 * physical operators in pre-order with their depth: DuckDB's own names (`HASH_GROUP_BY`, `RANGE`,
 * `READ_PARQUET`), the rows each emitted (`operator_cardinality`), its time and its extra info.
 * Only where `spark.microspark.sql.operatorMetrics` is on: profiling costs about 1.75x per small query.
 */

/** One physical operator of a fragment's DuckDB plan (pre-order; `depth` 0 is a root). */
export interface EngineOperator {
  /** DuckDB's operator name (`operator_name`). */
  readonly name: string;
  readonly depth: number;
  /** Rows it emitted (`operator_cardinality`). */
  readonly rows: number;
  /** Its own time in ms (`operator_timing`). */
  readonly timeMs: number;
  /** DuckDB's extra info (`Function: RANGE`, `Groups: #0; Aggregates: sum(#1)`), at most {@link INFO_MAX_CHARS}. */
  readonly info?: string;
}

/** The longest `info` kept: a join condition or a projection list can be long. */
export const INFO_MAX_CHARS = 160;

/** Extra-info keys left out: the optimizer's estimate is not a measurement. */
const SKIPPED_INFO = new Set(['Estimated Cardinality']);

interface ProfileNode {
  readonly operator_name?: unknown;
  readonly operator_type?: unknown;
  readonly operator_cardinality?: unknown;
  readonly operator_timing?: unknown;
  readonly extra_info?: unknown;
  readonly children?: unknown;
}

function infoText(extra: unknown): string | undefined {
  if (extra === null || typeof extra !== 'object') return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
    if (SKIPPED_INFO.has(k)) continue;
    const text = Array.isArray(v) ? v.map(String).join(', ') : String(v);
    parts.push(`${k}: ${text.replace(/\s+/g, ' ').trim()}`);
  }
  if (parts.length === 0) return undefined;
  const all = parts.join('; ');
  return all.length <= INFO_MAX_CHARS ? all : `${all.slice(0, INFO_MAX_CHARS - 1)}…`;
}

/**
 * The operators of DuckDB's JSON profile (the query's root holds the operator trees in
 * `children`), in pre-order. A malformed profile gives the operators it could read.
 */
export function profileOperators(profile: unknown): EngineOperator[] {
  const out: EngineOperator[] = [];
  const visit = (n: ProfileNode, depth: number): void => {
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
    const name = text(n.operator_name) || text(n.operator_type) || '?';
    const info = infoText(n.extra_info);
    out.push({
      name,
      depth,
      rows: Number(n.operator_cardinality) || 0,
      timeMs: (Number(n.operator_timing) || 0) * 1000,
      ...(info !== undefined && { info }),
    });
    for (const c of Array.isArray(n.children) ? (n.children as ProfileNode[]) : []) visit(c, depth + 1);
  };
  const root = profile as ProfileNode | null;
  for (const c of Array.isArray(root?.children) ? (root.children as ProfileNode[]) : []) visit(c, 0);
  return out;
}

/** Whether two operator lists have the same shape: the same names at the same depths. */
export function sameShape(a: readonly EngineOperator[], b: readonly EngineOperator[]): boolean {
  return a.length === b.length && a.every((o, i) => o.name === b[i]!.name && o.depth === b[i]!.depth);
}

/**
 * The sum of operator lists of one shape, position by position (rows and time add up; the first
 * list's info is kept). Lists of another shape than the first are left out; `skipped` counts them.
 */
export function sumOperators(lists: Iterable<readonly EngineOperator[]>): {
  operators: EngineOperator[];
  skipped: number;
} {
  let operators: EngineOperator[] | undefined;
  let skipped = 0;
  for (const l of lists) {
    if (!operators) operators = l.map((o) => ({ ...o }));
    else if (!sameShape(operators, l)) skipped++;
    else
      operators = operators.map((o, i) => ({
        ...o,
        rows: o.rows + l[i]!.rows,
        timeMs: o.timeMs + l[i]!.timeMs,
      }));
  }
  return { operators: operators ?? [], skipped };
}
