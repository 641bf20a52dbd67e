/**
 * Renders a resolved logical plan (or a stage's fragment of one) as one DuckDB query. Every
 * column is named by its attribute id (`c12`), so joins of same-named columns and correlated
 * subqueries are unambiguous. Nodes that a stage reads as inputs (scans, exchanges, cached data)
 * render as the input's table name. Spark's semantics are kept where DuckDB's differ (casts from
 * fractions to integers truncate, string casts that fail give NULL).
 */
import { AnalysisException } from '../errors.js';
import { lookupFunction } from '../analysis/functions.js';
import type { Expr, LNode, SortKey } from '../plan/logical.js';
import type { IntervalValue, WindowFrame } from '../plan/unresolved.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  DataType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  MapType,
  NullType,
  StringType,
  StructType,
  TimestampType,
  isIntegral,
  quoteIdent,
  sqlString,
} from '../types.js';

/** The column name of attribute `id` in rendered SQL. */
export function col(id: number): string {
  return `c${id}`;
}

function intervalSql(v: IntervalValue): string {
  const parts: string[] = [];
  if (v.months) parts.push(`INTERVAL ${v.months} MONTH`);
  if (v.days) parts.push(`INTERVAL ${v.days} DAY`);
  if (v.microseconds) parts.push(`INTERVAL ${v.microseconds} MICROSECOND`);
  return parts.length === 0 ? 'INTERVAL 0 DAY' : parts.length === 1 ? parts[0]! : `(${parts.join(' + ')})`;
}

/** A literal value of type `t` as DuckDB SQL. */
export function literalSql(value: unknown, t: DataType): string {
  if (value === null || value === undefined)
    return t instanceof NullType ? 'NULL' : `CAST(NULL AS ${t.duckdb()})`;
  if (typeof value === 'object' && value !== null && 'months' in value && 'microseconds' in value)
    return intervalSql(value as IntervalValue);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return `CAST(${value} AS ${t.duckdb()})`;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return "CAST('NaN' AS DOUBLE)";
    if (!Number.isFinite(value)) return `CAST('${value > 0 ? 'Infinity' : '-Infinity'}' AS DOUBLE)`;
    if (t instanceof DecimalType) return `CAST('${value}' AS ${t.duckdb()})`;
    if (isIntegral(t) && Number.isInteger(value)) return `CAST(${value} AS ${t.duckdb()})`;
    return `CAST(${value} AS ${t.duckdb()})`;
  }
  if (typeof value === 'string') {
    if (t instanceof DateType) return `DATE ${sqlString(value)}`;
    if (t instanceof TimestampType) return `TIMESTAMP ${sqlString(value)}`;
    if (t instanceof DecimalType) return `CAST(${sqlString(value)} AS ${t.duckdb()})`;
    return sqlString(value);
  }
  if (value instanceof Date) {
    const iso = value.toISOString();
    if (t instanceof DateType) return `DATE '${iso.slice(0, 10)}'`;
    return `TIMESTAMP '${iso.slice(0, 23).replace('T', ' ')}'`;
  }
  if (value instanceof Uint8Array) return `from_hex('${Buffer.from(value).toString('hex')}')`;
  if (Array.isArray(value)) {
    const et = t instanceof ArrayType ? t.elementType : new StringType();
    return `list_value(${value.map((v) => literalSql(v, et)).join(', ')})`;
  }
  if (value instanceof Map && t instanceof MapType) {
    const entries = [...(value as Map<unknown, unknown>)];
    if (entries.length === 0) return `CAST(map() AS ${t.duckdb()})`;
    const keys = entries.map(([k]) => literalSql(k, t.keyType)).join(', ');
    const values = entries.map(([, v]) => literalSql(v, t.valueType)).join(', ');
    return `map(list_value(${keys}), list_value(${values}))`;
  }
  if (t instanceof StructType && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `struct_pack(${t.fields.map((f, i) => `${quoteIdent(f.name)} := ${literalSql((Array.isArray(value) ? value[i] : o[f.name]) ?? null, f.dataType)}`).join(', ')})`;
  }
  return sqlString(JSON.stringify(value));
}

function castSql(inner: string, from: DataType, to: DataType, tryCast: boolean): string {
  const target = to.duckdb();
  if ((from instanceof DoubleType || from instanceof FloatType) && isIntegral(to)) {
    // The fraction truncates; out of range, the value itself is cast, so that DuckDB's error
    // (CAST_OVERFLOW, fragment.ts) names it as Spark does (40000.5, not 40000); try_cast is NULL.
    const bits = { tinyint: 7n, smallint: 15n, int: 31n, bigint: 63n }[to.simpleString()] ?? 63n;
    const t = `trunc(${inner})`;
    return `(CASE WHEN ${t} BETWEEN ${-(1n << bits)} AND ${(1n << bits) - 1n} THEN CAST(${t} AS ${target}) ELSE ${tryCast ? 'TRY_CAST' : 'CAST'}(${inner} AS ${target}) END)`;
  }
  if (isIntegral(to) && !isIntegral(from) && !(from instanceof StringType) && !(from instanceof BooleanType))
    return `CAST(trunc(${inner}) AS ${target})`;
  if (from instanceof StringType && isIntegral(to))
    return `TRY_CAST(trunc(TRY_CAST(trim(${inner}) AS DOUBLE)) AS ${target})`;
  if (from instanceof StringType && !(to instanceof StringType))
    return `TRY_CAST(trim(${inner}) AS ${target})`;
  if (to instanceof StringType && from instanceof BooleanType) return `lower(CAST(${inner} AS VARCHAR))`;
  if (to instanceof StringType && from instanceof BinaryType) return `decode(${inner})`;
  if (to instanceof StringType && from instanceof TimestampType)
    return `strftime(${inner}, '%Y-%m-%d %H:%M:%S')`;
  return `${tryCast ? 'TRY_CAST' : 'CAST'}(${inner} AS ${target})`;
}

function frameSql(f: WindowFrame | undefined, order: readonly SortKey[]): string {
  if (!f) return '';
  const b = (x: WindowFrame['lower'], lower: boolean): string => {
    if (x.kind === 'currentRow') return 'CURRENT ROW';
    if (x.kind === 'unbounded') return lower ? 'UNBOUNDED PRECEDING' : 'UNBOUNDED FOLLOWING';
    if (x.value === 0) return 'CURRENT ROW';
    return x.value < 0 ? `${-x.value} PRECEDING` : `${x.value} FOLLOWING`;
  };
  void order;
  return ` ${f.frameType === 'row' ? 'ROWS' : 'RANGE'} BETWEEN ${b(f.lower, true)} AND ${b(f.upper, false)}`;
}

/** How a fragment names the tables it reads: an input's name for a node, or undefined to render it. */
export type InputNamer = (n: LNode) => string | undefined;

/** UDFs a fragment calls, by their SQL name. */
export interface UdfUse {
  readonly sqlName: string;
  readonly expr: Extract<Expr, { k: 'udf' }>;
}

/** Renders plans and expressions to DuckDB SQL. */
export class Renderer {
  private alias = 0;
  /** UDFs used, in order of first use. */
  readonly udfs: UdfUse[] = [];

  constructor(private readonly inputOf: InputNamer = () => undefined) {}

  private t(): string {
    return `t${this.alias++}`;
  }

  private sortSql(order: readonly SortKey[]): string {
    return order
      .map((o) => `${this.expr(o.e)} ${o.asc ? 'ASC' : 'DESC'} NULLS ${o.nullsFirst ? 'FIRST' : 'LAST'}`)
      .join(', ');
  }

  /** `SELECT … FROM` text of a child as a parenthesized subquery or an input table. */
  private from(n: LNode): string {
    const name = this.inputOf(n);
    if (name !== undefined && n.k !== 'scan') return `${name} AS ${this.t()}`;
    return `(${this.query(n)}) AS ${this.t()}`;
  }

  /** The query whose columns are `n.output` named by id. */
  query(n: LNode): string {
    const input = this.inputOf(n);
    if (n.k === 'scan') {
      const cols = n.output.map((a) => `${quoteIdent(a.name)} AS ${col(a.id)}`).join(', ');
      const where = n.filters.length
        ? ` WHERE ${n.filters.map((f) => this.exprOver(f, n)).join(' AND ')}`
        : '';
      return `SELECT ${cols} FROM ${input ?? 'scan_input'}${where}`;
    }
    if (input !== undefined) return `SELECT * FROM ${input}`;
    switch (n.k) {
      case 'local':
      case 'range':
      case 'cached':
        throw new AnalysisException('INTERNAL_ERROR', `a ${n.k} node must be a stage input`);
      case 'alias':
        return this.query(n.child);
      case 'project': {
        // Project over Sort (and Limit over Sort): one SELECT, so the order is the query's own.
        const c = n.child;
        const list = n.list.map((x) => `${this.expr(x.e)} AS ${col(x.id)}`).join(', ');
        if (c.k === 'sort' && this.inputOf(c) === undefined)
          return `SELECT ${list} FROM ${this.from(c.child)} ORDER BY ${this.sortSql(c.order)}`;
        if (
          c.k === 'limit' &&
          c.child.k === 'sort' &&
          this.inputOf(c) === undefined &&
          this.inputOf(c.child) === undefined
        )
          return `SELECT ${list} FROM ${this.from(c.child.child)} ORDER BY ${this.sortSql(c.child.order)}${c.limit !== undefined ? ` LIMIT ${c.limit}` : ''}${c.offset ? ` OFFSET ${c.offset}` : ''}`;
        return `SELECT ${list} FROM ${this.from(c)}`;
      }
      case 'filter':
        return `SELECT * FROM ${this.from(n.child)} WHERE ${this.expr(n.cond)}`;
      case 'aggregate': {
        const inner = [
          ...n.groups.map((g) => `${this.expr(g.e)} AS ${col(g.id)}`),
          // Cast to the declared type: DuckDB's sum of BIGINT is a HUGEINT, which Parquet stores as DOUBLE.
          ...n.aggs.map((a) => `CAST(${this.expr(a.e)} AS ${a.e.type.duckdb()}) AS ${col(a.id)}`),
        ];
        const groupBy = n.groups.length
          ? ` GROUP BY ${n.groups.map((_, i) => String(i + 1)).join(', ')}`
          : '';
        const list = n.list.map((x) => `${this.expr(x.e)} AS ${col(x.id)}`).join(', ');
        const innerSql = `SELECT ${inner.length ? inner.join(', ') : '1 AS one'} FROM ${this.from(n.child)}${groupBy}`;
        return `SELECT ${list} FROM (${innerSql}) AS ${this.t()}`;
      }
      case 'join': {
        const kind =
          n.how === 'inner'
            ? 'JOIN'
            : n.how === 'left'
              ? 'LEFT JOIN'
              : n.how === 'right'
                ? 'RIGHT JOIN'
                : n.how === 'full'
                  ? 'FULL OUTER JOIN'
                  : n.how === 'left_semi'
                    ? 'SEMI JOIN'
                    : n.how === 'left_anti'
                      ? 'ANTI JOIN'
                      : 'CROSS JOIN';
        const on = n.cond ? ` ON ${this.expr(n.cond)}` : n.how === 'cross' ? '' : ' ON TRUE';
        const cross = n.how === 'cross' && n.cond ? 'JOIN' : kind;
        return `SELECT * FROM ${this.from(n.left)} ${cross} ${this.from(n.right)}${on}`;
      }
      case 'sort':
        return `SELECT * FROM ${this.from(n.child)} ORDER BY ${this.sortSql(n.order)}`;
      case 'limit': {
        if (n.child.k === 'sort' && this.inputOf(n.child) === undefined)
          return `SELECT * FROM ${this.from(n.child.child)} ORDER BY ${this.sortSql(n.child.order)}${n.limit !== undefined ? ` LIMIT ${n.limit}` : ''}${n.offset ? ` OFFSET ${n.offset}` : ''}`;
        return `SELECT * FROM ${this.from(n.child)}${n.limit !== undefined ? ` LIMIT ${n.limit}` : ''}${n.offset ? ` OFFSET ${n.offset}` : ''}`;
      }
      case 'setop': {
        const side = (s: LNode) =>
          `SELECT ${s.output.map((a, i) => `${col(a.id)} AS ${col(n.output[i]!.id)}`).join(', ')} FROM ${this.from(s)}`;
        const op = n.op === 'union' ? 'UNION' : n.op === 'intersect' ? 'INTERSECT' : 'EXCEPT';
        return `(${side(n.left)}) ${op}${n.all ? ' ALL' : ''} (${side(n.right)})`;
      }
      case 'window': {
        const ws = n.windows
          .map((w) => `CAST(${this.expr(w.e)} AS ${w.e.type.duckdb()}) AS ${col(w.id)}`)
          .join(', ');
        return `SELECT *, ${ws} FROM ${this.from(n.child)}`;
      }
      case 'distinct':
        return `SELECT DISTINCT * FROM ${this.from(n.child)}`;
      case 'sample': {
        const cols = n.child.output.map((a) => col(a.id)).join(', ');
        const r = `(hash(${cols || '1'}, ${n.seed}) % 1000000007) / 1000000007.0`;
        return `SELECT * FROM ${this.from(n.child)} WHERE ${r} >= ${n.lower} AND ${r} < ${n.upper}`;
      }
      case 'repartition':
        return this.query(n.child);
    }
  }

  /** A scan filter refers to file columns by name (pushed below the renaming). */
  private exprOver(e: Expr, scan: Extract<LNode, { k: 'scan' }>): string {
    const byId = new Map(scan.attrs.map((a) => [a.id, a.name]));
    const saved = this.refName;
    this.refName = (id) => (byId.has(id) ? quoteIdent(byId.get(id)!) : col(id));
    try {
      return this.expr(e);
    } finally {
      this.refName = saved;
    }
  }

  private refName: (id: number) => string = col;

  /** The SQL of an expression. */
  expr(e: Expr): string {
    switch (e.k) {
      case 'ref':
      case 'outer':
        return this.refName(e.id);
      case 'lit':
        return literalSql(e.value, e.type);
      case 'cast':
        return castSql(this.expr(e.e), e.e.type, e.type, e.tryCast);
      case 'case': {
        const b = e.branches.map(([c, v]) => `WHEN ${this.expr(c)} THEN ${this.expr(v)}`).join(' ');
        return `(CASE ${b}${e.otherwise ? ` ELSE ${this.expr(e.otherwise)}` : ''} END)`;
      }
      case 'call': {
        const f = lookupFunction(e.fn);
        if (!f) throw new AnalysisException('INTERNAL_ERROR', `no renderer for ${e.fn}`);
        return f.spec.render(
          e.args.map((a) => this.expr(a)),
          e.args,
          false,
        );
      }
      case 'agg': {
        const f = lookupFunction(e.fn);
        if (!f) throw new AnalysisException('INTERNAL_ERROR', `no renderer for ${e.fn}`);
        const s = f.spec.render(
          e.args.map((a) => this.expr(a)),
          e.args,
          e.distinct,
        );
        if (!e.filter) return s;
        return s.includes(' FILTER (WHERE ')
          ? s.replace(' FILTER (WHERE ', ` FILTER (WHERE (${this.expr(e.filter)}) AND `)
          : `${s} FILTER (WHERE ${this.expr(e.filter)})`;
      }
      case 'window': {
        const parts: string[] = [];
        if (e.partition.length) parts.push(`PARTITION BY ${e.partition.map((p) => this.expr(p)).join(', ')}`);
        if (e.order.length) parts.push(`ORDER BY ${this.sortSql(e.order)}`);
        return `${this.expr(e.fn)} OVER (${parts.join(' ')}${frameSql(e.frame, e.order)})`;
      }
      case 'scalarSubquery':
        return `(${this.query(e.plan)})`;
      case 'exists':
        return `EXISTS (${this.query(e.plan)})`;
      case 'inSubquery': {
        if (e.values.length === 1)
          return `(${this.expr(e.values[0]!)} IN (SELECT ${col(e.plan.output[0]!.id)} FROM (${this.query(e.plan)}) AS ${this.t()}))`;
        const t = this.t();
        const conds = e.values
          .map((v, i) => `${t}.${col(e.plan.output[i]!.id)} = ${this.expr(v)}`)
          .join(' AND ');
        return `EXISTS (SELECT 1 FROM (${this.query(e.plan)}) AS ${t} WHERE ${conds})`;
      }
      case 'udf': {
        let use = this.udfs.find(
          (u) =>
            u.expr.fn === e.fn &&
            u.expr.arrow?.signature === e.arrow?.signature &&
            u.expr.type.equals(e.type) &&
            u.expr.args.length === e.args.length &&
            u.expr.args.every((a, i) => a.type.equals(e.args[i]!.type)),
        );
        if (!use) {
          use = { sqlName: `ms_udf_${this.udfs.length}`, expr: e };
          this.udfs.push(use);
        }
        // Arguments cast to the types the UDF is registered with (the analyzer's types).
        return `${use.sqlName}(${e.args.map((a) => `CAST(${this.expr(a)} AS ${a.type.duckdb()})`).join(', ')})`;
      }
    }
  }
}
