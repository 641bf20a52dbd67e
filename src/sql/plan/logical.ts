/**
 * The resolved logical plan: every column is an {@link Attr} with a plan-wide unique id, a type
 * and nullability; every expression is typed. The analyzer builds it from the unresolved plan,
 * the optimizer rewrites it, and the physical planner cuts it into stages. Rendering to DuckDB SQL
 * names every column by its id (`c12`), so joins and subqueries never confuse two columns.
 */
import type { Callable } from '../../rdd/functions.js';
import type { DataType, StructType } from '../types.js';
import type { DataSourceSpec, JoinType, WindowFrame } from './unresolved.js';

/** A column of a plan node's output. */
export interface Attr {
  readonly id: number;
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean;
  /** The table alias it can be qualified with (`t` in `t.a`). */
  readonly qualifier?: string;
}

/** A sort key. */
export interface SortKey {
  readonly e: Expr;
  readonly asc: boolean;
  readonly nullsFirst: boolean;
}

/** A resolved, typed expression. */
export type Expr =
  | {
      readonly k: 'ref';
      readonly id: number;
      readonly name: string;
      readonly type: DataType;
      readonly nullable: boolean;
    }
  /** A reference to a column of an enclosing query (a correlated subquery). */
  | {
      readonly k: 'outer';
      readonly id: number;
      readonly name: string;
      readonly type: DataType;
      readonly nullable: boolean;
    }
  | { readonly k: 'lit'; readonly value: unknown; readonly type: DataType }
  /** A scalar function or operator of the registry. */
  | {
      readonly k: 'call';
      readonly fn: string;
      readonly args: readonly Expr[];
      readonly type: DataType;
      readonly nullable: boolean;
    }
  /** An aggregate function call (inside an Aggregate's list or a window). */
  | {
      readonly k: 'agg';
      readonly fn: string;
      readonly args: readonly Expr[];
      readonly distinct: boolean;
      readonly type: DataType;
      readonly filter?: Expr;
    }
  | { readonly k: 'cast'; readonly e: Expr; readonly type: DataType; readonly tryCast: boolean }
  | {
      readonly k: 'case';
      readonly branches: ReadonlyArray<readonly [Expr, Expr]>;
      readonly otherwise?: Expr;
      readonly type: DataType;
    }
  | {
      readonly k: 'window';
      readonly fn: Expr;
      readonly partition: readonly Expr[];
      readonly order: readonly SortKey[];
      readonly frame?: WindowFrame;
      readonly type: DataType;
    }
  | { readonly k: 'scalarSubquery'; readonly plan: LNode; readonly type: DataType }
  | { readonly k: 'exists'; readonly plan: LNode; readonly type: DataType }
  | {
      readonly k: 'inSubquery';
      readonly values: readonly Expr[];
      readonly plan: LNode;
      readonly type: DataType;
    }
  | {
      readonly k: 'udf';
      readonly name: string;
      readonly fn: Callable;
      readonly args: readonly Expr[];
      readonly type: DataType;
      /**
       * For F.wasmUdf: the module and the arrow-udf signature called (one record batch a call);
       * `implicit`: the arguments the analyzer cast to the signature (left out of column names).
       */
      readonly arrow?: {
        readonly module: string;
        readonly signature: string;
        readonly implicit: readonly number[];
      };
    };

/** An expression with the output column it defines. */
export interface Named {
  readonly id: number;
  readonly name: string;
  readonly e: Expr;
}

/** A logical plan node. `output` is its columns, in order. */
export type LNode =
  | {
      readonly k: 'scan';
      readonly source: DataSourceSpec;
      /** The files' schema, as attributes. */
      readonly attrs: readonly Attr[];
      readonly output: readonly Attr[];
      /** Conjuncts pushed into the scan. */
      readonly filters: readonly Expr[];
    }
  | {
      readonly k: 'local';
      readonly schema: StructType;
      readonly rows: readonly (readonly unknown[])[];
      readonly numPartitions: number;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'range';
      readonly start: number;
      readonly end: number;
      readonly step: number;
      readonly numPartitions: number;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'project';
      readonly child: LNode;
      readonly list: readonly Named[];
      readonly output: readonly Attr[];
    }
  | { readonly k: 'filter'; readonly child: LNode; readonly cond: Expr; readonly output: readonly Attr[] }
  | {
      readonly k: 'aggregate';
      readonly child: LNode;
      /** Grouping expressions, each with its own output id. */
      readonly groups: readonly Named[];
      /** Aggregate calls (`agg` expressions over the child's columns), each with its own id. */
      readonly aggs: readonly Named[];
      /** The output: expressions over `ref`s to the groups' and aggs' ids. */
      readonly list: readonly Named[];
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'join';
      readonly left: LNode;
      readonly right: LNode;
      readonly how: JoinType;
      readonly cond?: Expr;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'sort';
      readonly child: LNode;
      readonly order: readonly SortKey[];
      readonly global: boolean;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'limit';
      readonly child: LNode;
      readonly limit?: number;
      readonly offset: number;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'setop';
      readonly left: LNode;
      readonly right: LNode;
      readonly op: 'union' | 'intersect' | 'except';
      readonly all: boolean;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'window';
      readonly child: LNode;
      readonly windows: readonly Named[];
      readonly output: readonly Attr[];
    }
  | { readonly k: 'distinct'; readonly child: LNode; readonly output: readonly Attr[] }
  | {
      readonly k: 'sample';
      readonly child: LNode;
      readonly lower: number;
      readonly upper: number;
      readonly withReplacement: boolean;
      readonly seed: number;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'repartition';
      readonly child: LNode;
      readonly n?: number;
      readonly keys: readonly Expr[];
      readonly shuffle: boolean;
      readonly output: readonly Attr[];
    }
  | {
      readonly k: 'cached';
      readonly child: LNode;
      readonly cacheId: string;
      readonly output: readonly Attr[];
    }
  /** Renames output columns (ids kept) — SubqueryAlias, toDF, the final names of a query. */
  | { readonly k: 'alias'; readonly child: LNode; readonly output: readonly Attr[] };

/** The children of a node. */
export function children(n: LNode): LNode[] {
  switch (n.k) {
    case 'scan':
    case 'local':
    case 'range':
      return [];
    case 'join':
    case 'setop':
      return [n.left, n.right];
    default:
      return [n.child];
  }
}

/**
 * The most rows a plan can give, where its shape bounds them (Spark's `LogicalPlan.maxRows`): a
 * global aggregate gives one, a limit at most its count, a range or local relation its rows; a
 * filter, projection, sort or window no more than its input. Undefined where nothing bounds it.
 */
export function maxRows(n: LNode): number | undefined {
  switch (n.k) {
    case 'aggregate':
      return n.groups.length === 0 ? 1 : maxRows(n.child);
    case 'limit': {
      const below = maxRows(n.child);
      if (n.limit === undefined) return below === undefined ? undefined : Math.max(0, below - n.offset);
      return below === undefined ? n.limit : Math.min(n.limit, Math.max(0, below - n.offset));
    }
    case 'range':
      return Math.max(0, Math.ceil((n.end - n.start) / n.step));
    case 'local':
      return n.rows.length;
    case 'project':
    case 'filter':
    case 'sort':
    case 'window':
    case 'distinct':
    case 'repartition':
    case 'cached':
    case 'alias':
      return maxRows(n.child);
    case 'sample':
      return n.withReplacement ? undefined : maxRows(n.child);
    case 'join': {
      const left = maxRows(n.left);
      if (n.how === 'left_semi' || n.how === 'left_anti') return left;
      const right = maxRows(n.right);
      // Each pair at most once, plus each unmatched row of an outer side.
      return left === undefined || right === undefined ? undefined : left * right + left + right;
    }
    case 'setop': {
      const left = maxRows(n.left);
      if (n.op !== 'union') return left;
      const right = maxRows(n.right);
      return left === undefined || right === undefined ? undefined : left + right;
    }
    case 'scan':
      return undefined;
  }
}

/** The attribute a ref to `a` reads. */
export function refOf(a: Attr): Expr {
  return { k: 'ref', id: a.id, name: a.name, type: a.type, nullable: a.nullable };
}

/** The type of an expression. */
export function typeOf(e: Expr): DataType {
  return e.type;
}

/** Whether an expression may be null (conservative). */
export function nullableOf(e: Expr): boolean {
  switch (e.k) {
    case 'ref':
    case 'outer':
    case 'call':
      return e.nullable;
    case 'lit':
      return e.value === null;
    case 'agg':
      return e.fn !== 'count';
    default:
      return true;
  }
}

/** Calls `f` on every sub-expression of `e` (pre-order), not descending into subquery plans. */
export function visitExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  switch (e.k) {
    case 'call':
    case 'udf':
      for (const a of e.args) visitExpr(a, f);
      break;
    case 'agg':
      for (const a of e.args) visitExpr(a, f);
      if (e.filter) visitExpr(e.filter, f);
      break;
    case 'cast':
      visitExpr(e.e, f);
      break;
    case 'case':
      for (const [c, v] of e.branches) {
        visitExpr(c, f);
        visitExpr(v, f);
      }
      if (e.otherwise) visitExpr(e.otherwise, f);
      break;
    case 'window':
      visitExpr(e.fn, f);
      for (const p of e.partition) visitExpr(p, f);
      for (const o of e.order) visitExpr(o.e, f);
      break;
    case 'inSubquery':
      for (const v of e.values) visitExpr(v, f);
      break;
    default:
      break;
  }
}

/** Rebuilds `e` bottom-up with `f` applied to every node (f returns the replacement or undefined to keep). */
export function mapExpr(e: Expr, f: (x: Expr) => Expr | undefined): Expr {
  let m: Expr;
  switch (e.k) {
    case 'call':
      m = { ...e, args: e.args.map((a) => mapExpr(a, f)) };
      break;
    case 'udf':
      m = { ...e, args: e.args.map((a) => mapExpr(a, f)) };
      break;
    case 'agg':
      m = { ...e, args: e.args.map((a) => mapExpr(a, f)), ...(e.filter && { filter: mapExpr(e.filter, f) }) };
      break;
    case 'cast':
      m = { ...e, e: mapExpr(e.e, f) };
      break;
    case 'case':
      m = {
        ...e,
        branches: e.branches.map(([c, v]) => [mapExpr(c, f), mapExpr(v, f)] as const),
        ...(e.otherwise && { otherwise: mapExpr(e.otherwise, f) }),
      };
      break;
    case 'window':
      m = {
        ...e,
        fn: mapExpr(e.fn, f),
        partition: e.partition.map((p) => mapExpr(p, f)),
        order: e.order.map((o) => ({ ...o, e: mapExpr(o.e, f) })),
      };
      break;
    case 'inSubquery':
      m = { ...e, values: e.values.map((v) => mapExpr(v, f)) };
      break;
    default:
      m = e;
  }
  return f(m) ?? m;
}

/** The ids of columns an expression reads (refs only; outer refs excluded). */
export function refIds(e: Expr, into = new Set<number>()): Set<number> {
  visitExpr(e, (x) => {
    if (x.k === 'ref') into.add(x.id);
    if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery')
      for (const id of outerIds(x.plan)) into.add(id);
  });
  return into;
}

/**
 * The ids of the outer references of a plan that point outside it (the columns a correlated
 * subquery reads from the enclosing query); references between levels inside it are not counted.
 */
export function outerIds(n: LNode): Set<number> {
  const raw = rawOuterIds(n);
  if (raw.size === 0) return raw;
  const defined = definedIds(n);
  for (const id of defined) raw.delete(id);
  return raw;
}

/** Every column id a plan defines (node outputs and computed columns), nested subquery plans included. */
function definedIds(n: LNode, into = new Set<number>()): Set<number> {
  for (const a of n.output) into.add(a.id);
  if (n.k === 'scan') for (const a of n.attrs) into.add(a.id);
  for (const e of nodeExprs(n))
    visitExpr(e, (x) => {
      if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') definedIds(x.plan, into);
    });
  for (const c of children(n)) definedIds(c, into);
  return into;
}

function rawOuterIds(n: LNode, into = new Set<number>()): Set<number> {
  const visitE = (e: Expr) =>
    visitExpr(e, (x) => {
      if (x.k === 'outer') into.add(x.id);
      if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') rawOuterIds(x.plan, into);
    });
  for (const e of nodeExprs(n)) visitE(e);
  for (const c of children(n)) rawOuterIds(c, into);
  return into;
}

/** The expressions a node holds directly. */
export function nodeExprs(n: LNode): Expr[] {
  switch (n.k) {
    case 'scan':
      return [...n.filters];
    case 'project':
      return n.list.map((x) => x.e);
    case 'filter':
      return [n.cond];
    case 'aggregate':
      return [...n.groups.map((x) => x.e), ...n.aggs.map((x) => x.e), ...n.list.map((x) => x.e)];
    case 'join':
      return n.cond ? [n.cond] : [];
    case 'sort':
      return n.order.map((o) => o.e);
    case 'window':
      return n.windows.map((w) => w.e);
    case 'repartition':
      return [...n.keys];
    default:
      return [];
  }
}

/** Splits a condition into its AND-ed conjuncts. */
export function conjuncts(e: Expr): Expr[] {
  if (e.k === 'call' && e.fn === 'and') return e.args.flatMap((a) => conjuncts(a));
  return [e];
}
