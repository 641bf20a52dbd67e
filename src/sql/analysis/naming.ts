/**
 * Spark's generated column names: `avg(salary)`, `(age + 1)`, `count(1)`, `CASE WHEN … END`,
 * `CAST(x AS INT)`, so that `show()` headers read as they do in Spark.
 */
import type { Expr } from '../plan/logical.js';
import type { FrameBoundary } from '../plan/unresolved.js';
import { DateType, StructType, TimestampType } from '../types.js';

const INFIX: Record<string, string> = {
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  '%': '%',
  div: 'div',
  '==': '=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '<=>': '<=>',
  and: 'AND',
  or: 'OR',
  '&': '&',
  '|': '|',
  '^': '^',
  date_plus_interval: '+',
  date_minus_interval: '-',
  // ANSI-mode variants (spark.sql.ansi.enabled) print as the operator itself.
  'ansi_/': '/',
  'ansi_%': '%',
  ansi_div: 'div',
  'legacy_+': '+',
  'legacy_-': '-',
  'legacy_*': '*',
};

function lit(e: Extract<Expr, { k: 'lit' }>): string {
  const v = e.value;
  if (v === null) return 'NULL';
  if (typeof v === 'object' && v !== null && 'months' in v) {
    const iv = v as { months: number; days: number; microseconds: number };
    const parts: string[] = [];
    if (iv.months) parts.push(`${iv.months} months`);
    if (iv.days) parts.push(`${iv.days} days`);
    if (iv.microseconds) parts.push(`${iv.microseconds / 1e6} seconds`);
    return `INTERVAL '${parts.join(' ')}'`;
  }
  if (v instanceof Date) {
    const iso = v.toISOString();
    return e.type instanceof DateType
      ? `DATE '${iso.slice(0, 10)}'`
      : e.type instanceof TimestampType
        ? `TIMESTAMP '${iso.slice(0, 19).replace('T', ' ')}'`
        : iso;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

const RANKING = new Set(['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile']);

function boundarySql(b: FrameBoundary, side: 'lower' | 'upper'): string {
  if (b.kind === 'currentRow') return 'CURRENT ROW';
  if (b.kind === 'unbounded') return side === 'lower' ? 'UNBOUNDED PRECEDING' : 'UNBOUNDED FOLLOWING';
  // Spark prints a literal offset as `n FOLLOWING`, negative ones included (`-1 FOLLOWING`).
  return `${b.value} FOLLOWING`;
}

/** The frame clause Spark prints in a window column's name: the given frame or the default one. */
function frameSql(e: Extract<Expr, { k: 'window' }>): string {
  if (e.frame) {
    const t = e.frame.frameType === 'row' ? 'ROWS' : 'RANGE';
    return `${t} BETWEEN ${boundarySql(e.frame.lower, 'lower')} AND ${boundarySql(e.frame.upper, 'upper')}`;
  }
  const fn = e.fn.k === 'call' || e.fn.k === 'agg' ? e.fn.fn : '';
  if (fn === 'lag' || fn === 'lead') {
    const offset = e.fn.k === 'call' && e.fn.args[1]?.k === 'lit' ? Number(e.fn.args[1].value) : 1;
    const o = fn === 'lag' ? -offset : offset;
    return `ROWS BETWEEN ${o} FOLLOWING AND ${o} FOLLOWING`;
  }
  if (RANKING.has(fn)) return 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
  return e.order.length > 0
    ? 'RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW'
    : 'ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING';
}

/** The name Spark gives a column computed by `e`. */
export function sparkName(e: Expr): string {
  switch (e.k) {
    case 'ref':
    case 'outer':
      return e.name;
    case 'lit':
      return lit(e);
    case 'cast':
      return `CAST(${sparkName(e.e)} AS ${e.type.simpleString().toUpperCase()})`;
    case 'case': {
      const b = e.branches.map(([c, v]) => `WHEN ${sparkName(c)} THEN ${sparkName(v)}`).join(' ');
      return `CASE ${b}${e.otherwise ? ` ELSE ${sparkName(e.otherwise)}` : ''} END`;
    }
    case 'agg':
      return `${e.fn === 'legacy_sum' ? 'sum' : e.fn}(${e.distinct ? 'DISTINCT ' : ''}${e.args.map(sparkName).join(', ')})`;
    case 'call': {
      const op = INFIX[e.fn];
      if (op && e.args.length === 2) return `(${sparkName(e.args[0]!)} ${op} ${sparkName(e.args[1]!)})`;
      switch (e.fn) {
        case 'ansi_cast':
        case 'legacy_cast':
          return sparkName(e.args[0]!);
        case 'spark_partition_id': // Spark's prettyNames are upper-case
        case 'e':
        case 'pi':
          return `${e.fn.toUpperCase()}()`;
        case 'ansi_pmod':
          return `pmod(${e.args.map(sparkName).join(', ')})`;
        case 'unary_minus': // `-x`; `negative(x)` keeps its name, as Spark's FUNC_ALIAS does
          return `(- ${sparkName(e.args[0]!)})`;
        case 'not':
          return `(NOT ${sparkName(e.args[0]!)})`;
        case 'isnull':
          return `(${sparkName(e.args[0]!)} IS NULL)`;
        case 'isnotnull':
          return `(${sparkName(e.args[0]!)} IS NOT NULL)`;
        case 'in':
          return `(${sparkName(e.args[0]!)} IN (${e.args.slice(1).map(sparkName).join(', ')}))`;
        case 'between':
          return `((${sparkName(e.args[0]!)} >= ${sparkName(e.args[1]!)}) AND (${sparkName(e.args[0]!)} <= ${sparkName(e.args[2]!)}))`;
        case 'like':
          return `${sparkName(e.args[0]!)} LIKE ${sparkName(e.args[1]!)}`;
        case 'rlike':
          return `RLIKE(${sparkName(e.args[0]!)}, ${sparkName(e.args[1]!)})`;
        case 'struct':
          return `struct(${e.args
            .filter((_, i) => i % 2 === 1)
            .map(sparkName)
            .join(', ')})`;
        case 'floor':
        case 'ceil':
        case 'signum':
        case 'power':
          return `${e.fn.toUpperCase()}(${e.args.map(sparkName).join(', ')})`;
        case 'get_field':
          // A struct field prints as `s.f`; an array element or map value as `a[0]`, `m[key]`.
          return e.args[0]!.type instanceof StructType
            ? `${sparkName(e.args[0]!)}.${sparkName(e.args[1]!)}`
            : `${sparkName(e.args[0]!)}[${sparkName(e.args[1]!)}]`;
        default:
          return `${e.fn}(${e.args.map(sparkName).join(', ')})`;
      }
    }
    case 'window': {
      const parts: string[] = [];
      if (e.partition.length) parts.push(`PARTITION BY ${e.partition.map(sparkName).join(', ')}`);
      if (e.order.length)
        parts.push(
          `ORDER BY ${e.order.map((o) => `${sparkName(o.e)} ${o.asc ? 'ASC' : 'DESC'} NULLS ${o.nullsFirst ? 'FIRST' : 'LAST'}`).join(', ')}`,
        );
      parts.push(frameSql(e));
      return `${sparkName(e.fn)} OVER (${parts.join(' ')})`;
    }
    case 'scalarSubquery':
      return 'scalarsubquery()';
    case 'exists':
      return 'exists()';
    case 'inSubquery':
      return `(${e.values.map(sparkName).join(', ')} IN (listquery()))`;
    case 'udf':
      // Casts the analyzer added for a WebAssembly UDF's signature are not in the name (Spark's way).
      return `${e.name}(${e.args.map((a, i) => (a.k === 'cast' && e.arrow?.implicit.includes(i) ? sparkName(a.e) : sparkName(a))).join(', ')})`;
  }
}
