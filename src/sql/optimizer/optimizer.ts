/**
 * The logical optimizer: rewrites that make a resolved plan cheap to distribute.
 * - Correlated scalar subqueries over an aggregate, correlated by equalities, become left joins
 *   with that aggregate grouped by the correlated columns (Spark's
 *   RewriteCorrelatedScalarSubquery).
 * - EXISTS / IN subqueries in a filter become left semi / anti joins (Spark's
 *   RewritePredicateSubquery), NOT IN with its null-aware condition.
 * - Filters are split into conjuncts and pushed through projections and into joins; the inner
 *   joins of a filter (comma joins included) are reordered so that each join has a condition
 *   (Spark's ReorderJoin), and the remaining single-table conjuncts reach the scans.
 * - Left semi and anti joins go below inner joins to the side their condition reads.
 * - Column pruning: scans read only the columns the plan uses, and (top-down, Spark's
 *   ColumnPruning) each join side keeps only the columns read above it, so a column read by a
 *   filter or a join below is not carried through the exchanges above.
 */
import { BooleanType } from '../types.js';
import { lookupFunction } from '../analysis/functions.js';
import {
  children,
  conjuncts,
  mapExpr,
  nodeExprs,
  outerIds,
  refIds,
  refOf,
  visitExpr,
  type Attr,
  type Expr,
  type LNode,
} from '../plan/logical.js';

const BOOL = new BooleanType();

function and(es: readonly Expr[]): Expr | undefined {
  if (es.length === 0) return undefined;
  return es.reduce((a, b) => ({ k: 'call', fn: 'and', args: [a, b], type: BOOL, nullable: true }));
}

function call(fn: string, args: Expr[]): Expr {
  return { k: 'call', fn, args, type: BOOL, nullable: true };
}

/** Outer references become plain references (the subquery is now the right side of a join). */
function unOuter(e: Expr): Expr {
  return mapExpr(e, (x) => (x.k === 'outer' ? { ...x, k: 'ref' } : undefined));
}

function hasOuter(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'outer') found = true;
  });
  return found;
}

function hasSubquery(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') found = true;
  });
  return found;
}

/** Splits a subquery plan into (outer-free plan, correlated conditions) when it is that simple. */
function decorrelate(plan: LNode): { right: LNode; conds: Expr[] } | undefined {
  let p = plan;
  // The select list of an EXISTS does not matter; project/alias only rename.
  while (p.k === 'project' || p.k === 'alias') {
    if (p.k === 'project' && p.list.some((n) => hasOuter(n.e) || hasSubquery(n.e))) return undefined;
    p = p.child;
  }
  if (outerIds(p).size === 0) return { right: p, conds: [] };
  if (p.k !== 'filter' || outerIds(p.child).size > 0) return undefined;
  const cs = conjuncts(p.cond);
  const corr = cs.filter(hasOuter);
  const local = cs.filter((c) => !hasOuter(c));
  if (corr.some(hasSubquery)) return undefined;
  const right: LNode = local.length ? { ...p, cond: and(local)! } : p.child;
  return { right, conds: corr.map(unOuter) };
}

/** Rewrites EXISTS / IN conjuncts of a filter into semi and anti joins. */
function rewriteSubqueries(n: LNode): LNode {
  if (n.k !== 'filter') return n;
  let child = n.child;
  const keep: Expr[] = [];
  for (const c of conjuncts(n.cond)) {
    const neg = c.k === 'call' && c.fn === 'not' ? c.args[0]! : undefined;
    const e = neg ?? c;
    if (e.k === 'exists') {
      const d = decorrelate(e.plan);
      if (d) {
        const cond = and(d.conds);
        child = {
          k: 'join',
          left: child,
          right: d.right,
          how: neg ? 'left_anti' : 'left_semi',
          ...(cond && { cond }),
          output: child.output,
        };
        continue;
      }
    }
    if (e.k === 'inSubquery' && outerIds(e.plan).size === 0) {
      const right = e.plan;
      const eqs = e.values.map((v, i) => {
        const o = refOf(right.output[i]!);
        return neg
          ? call('or', [call('or', [call('==', [v, o]), call('isnull', [v])]), call('isnull', [o])])
          : call('==', [v, o]);
      });
      const cond = and(eqs)!;
      child = {
        k: 'join',
        left: child,
        right,
        how: neg ? 'left_anti' : 'left_semi',
        cond,
        output: child.output,
      };
      continue;
    }
    keep.push(c);
  }
  const cond = and(keep);
  return cond ? { ...n, child, cond } : child;
}

/** Aggregates whose value over no rows is NULL (count's is 0: Spark's count bug). */
const NULL_ON_EMPTY = new Set(['avg', 'mean', 'sum', 'min', 'max', 'first', 'last', 'any_value']);

/** Whether `e` (over aggregate values `aggIds`) is NULL when they are: arithmetic, casts, literals. */
function nullWhenAggsAre(e: Expr, aggIds: ReadonlySet<number>): boolean {
  let ok = true;
  let reads = false;
  visitExpr(e, (x) => {
    if (x.k === 'ref') {
      if (aggIds.has(x.id)) reads = true;
      else ok = false;
    } else if (x.k === 'call') {
      if (!['+', '-', '*', '/'].includes(x.fn)) ok = false;
    } else if (x.k !== 'lit' && x.k !== 'cast') ok = false;
  });
  return ok && reads;
}

/**
 * A correlated scalar subquery `(SELECT f(agg(x)) FROM t WHERE t.k = outer.k AND …)` as an
 * aggregate grouped by `t.k`, to be left-joined on `outer.k` (Spark's
 * RewriteCorrelatedScalarSubquery). Only where a group that is not there gives the value the
 * subquery gives over no rows: NULL (so not for count). Undefined for other shapes.
 */
function groupedSubquery(
  plan: LNode,
  outerIdsOk: ReadonlySet<number>,
  newId: () => number,
): { agg: LNode; cond: Expr; value: Attr } | undefined {
  if (plan.k !== 'aggregate' || plan.groups.length > 0 || plan.list.length !== 1) return undefined;
  const filter = plan.child;
  if (filter.k !== 'filter' || outerIds(filter.child).size > 0) return undefined;
  if (
    plan.aggs.some((a) => a.e.k !== 'agg' || !NULL_ON_EMPTY.has(a.e.fn) || hasOuter(a.e) || hasSubquery(a.e))
  )
    return undefined;
  const aggIds = new Set(plan.aggs.map((a) => a.id));
  if (!nullWhenAggsAre(plan.list[0]!.e, aggIds)) return undefined;
  const local: Expr[] = [];
  const pairs: Array<{ inner: Expr; outer: Expr }> = [];
  for (const c of conjuncts(filter.cond)) {
    if (!hasOuter(c)) {
      local.push(c);
      continue;
    }
    if (c.k !== 'call' || c.fn !== '==' || hasSubquery(c)) return undefined;
    const [a, b] = c.args as [Expr, Expr];
    const [outer, inner] = b.k === 'outer' ? [b, a] : [a, b];
    if (outer.k !== 'outer' || !outerIdsOk.has(outer.id) || hasOuter(inner) || refIds(inner).size === 0)
      return undefined;
    pairs.push({ inner, outer: unOuter(outer) });
  }
  if (pairs.length === 0) return undefined;
  const groups = pairs.map((p, i) => ({ id: newId(), name: `k${i}`, e: p.inner }));
  const keys = groups.map((g): Attr => ({ id: g.id, name: g.name, type: g.e.type, nullable: true }));
  const value = plan.output[0]!;
  const child: LNode = local.length > 0 ? { ...filter, cond: and(local)! } : filter.child;
  const agg: LNode = {
    ...plan,
    child,
    groups,
    list: [...keys.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })), plan.list[0]!],
    output: [...keys, { ...value, nullable: true }],
  };
  const cond = and(pairs.map((p, i) => call('==', [p.outer, refOf(keys[i]!)])))!;
  return { agg, cond, value: { ...value, nullable: true } };
}

/** A filter's correlated scalar subqueries become left joins with aggregates by their keys. */
function rewriteScalarSubqueries(n: LNode, newId: () => number): LNode {
  if (n.k !== 'filter') return n;
  const childIds = new Set(n.child.output.map((a) => a.id));
  let child = n.child;
  const values = new Map<LNode, Attr>();
  visitExpr(n.cond, (x) => {
    if (x.k !== 'scalarSubquery' || values.has(x.plan) || outerIds(x.plan).size === 0) return;
    const g = groupedSubquery(x.plan, childIds, newId);
    if (!g) return;
    values.set(x.plan, g.value);
    child = {
      k: 'join',
      left: child,
      right: g.agg,
      how: 'left',
      cond: g.cond,
      output: [...child.output, g.value],
    };
  });
  if (values.size === 0) return n;
  const cond = mapExpr(n.cond, (x) => {
    const v = x.k === 'scalarSubquery' ? values.get(x.plan) : undefined;
    return v && refOf(v);
  });
  // The filter's output stays the original one: the joined values go after it.
  return {
    k: 'project',
    child: { k: 'filter', child, cond, output: child.output },
    list: n.output.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
    output: n.output,
  };
}

/** Applies `f` to every node bottom-up, also inside subquery plans. */
function transform(n: LNode, f: (x: LNode) => LNode): LNode {
  const mapSub = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery')
        return { ...x, plan: transform(x.plan, f) };
      return undefined;
    });
  let m: LNode;
  switch (n.k) {
    case 'scan':
    case 'local':
    case 'range':
      m = n;
      break;
    case 'join':
      m = {
        ...n,
        left: transform(n.left, f),
        right: transform(n.right, f),
        ...(n.cond && { cond: mapSub(n.cond) }),
      };
      break;
    case 'setop':
      m = { ...n, left: transform(n.left, f), right: transform(n.right, f) };
      break;
    case 'filter':
      m = { ...n, child: transform(n.child, f), cond: mapSub(n.cond) };
      break;
    case 'project':
      m = { ...n, child: transform(n.child, f), list: n.list.map((x) => ({ ...x, e: mapSub(x.e) })) };
      break;
    default:
      m = { ...n, child: transform(n.child, f) };
  }
  return f(m);
}

interface JoinItem {
  readonly node: LNode;
  readonly ids: Set<number>;
}

/** Flattens a tree of inner/cross joins. */
function flattenInner(n: LNode, items: JoinItem[], conds: Expr[]): void {
  if (n.k === 'join' && (n.how === 'inner' || n.how === 'cross')) {
    flattenInner(n.left, items, conds);
    flattenInner(n.right, items, conds);
    if (n.cond) conds.push(...conjuncts(n.cond));
    return;
  }
  items.push({ node: n, ids: new Set(n.output.map((a) => a.id)) });
}

function covered(e: Expr, ids: Set<number>): boolean {
  for (const id of refIds(e)) if (!ids.has(id)) return false;
  return true;
}

/** Pushes conjuncts into a node where they only read its columns. */
function pushDown(n: LNode, conds: readonly Expr[]): LNode {
  if (conds.length === 0) return n;
  const ids = new Set(n.output.map((a) => a.id));
  const here = conds.filter((c) => covered(c, ids));
  const rest = conds.filter((c) => !covered(c, ids));
  if (rest.length > 0) throw new Error('pushDown: condition does not fit');
  if (n.k === 'join' && (n.how === 'inner' || n.how === 'cross')) return reorderJoins(n, here);
  if (n.k === 'join' && (n.how === 'left_semi' || n.how === 'left_anti' || n.how === 'left')) {
    const leftIds = new Set(n.left.output.map((a) => a.id));
    const toLeft = here.filter((c) => covered(c, leftIds));
    const above = here.filter((c) => !covered(c, leftIds));
    const j: LNode = { ...n, left: pushDown(n.left, toLeft) };
    const cond = and(above);
    return cond ? { k: 'filter', child: j, cond, output: n.output } : j;
  }
  if (n.k === 'filter') return pushDown(n.child, [...here, ...conjuncts(n.cond)]);
  if (n.k === 'alias') return { ...n, child: pushDown(n.child, here) };
  if (
    n.k === 'project' &&
    n.list.every((x) => x.e.k === 'ref' || x.e.k === 'lit' || x.e.k === 'call' || x.e.k === 'cast')
  ) {
    // Rewrite the conjunct over the projection's inputs.
    const def = new Map(n.list.map((x) => [x.id, x.e]));
    const below = here.map((c) =>
      mapExpr(c, (x) => (x.k === 'ref' && def.has(x.id) ? def.get(x.id) : undefined)),
    );
    if (below.every((c) => !hasSubquery(c) && !hasWindowOrAgg(c)))
      return { ...n, child: pushDown(n.child, below) };
  }
  if (n.k === 'scan' && here.every((c) => !hasSubquery(c) && !hasUdf(c)))
    return { ...n, filters: [...n.filters, ...here] };
  const cond = and(here)!;
  return { k: 'filter', child: n, cond, output: n.output };
}

function hasWindowOrAgg(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'window' || x.k === 'agg') found = true;
    // A generator's column (explode's) exists only above its projection.
    if (x.k === 'call' && lookupFunction(x.fn)?.spec.kind === 'generator') found = true;
  });
  return found;
}

function hasUdf(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'udf') found = true;
  });
  return found;
}

/** Rebuilds an inner-join tree left-deep so that every join has a condition where one exists. */
function reorderJoins(n: LNode, extra: readonly Expr[]): LNode {
  const items: JoinItem[] = [];
  const conds: Expr[] = [...extra];
  flattenInner(n, items, conds);
  // Single-item conditions go into their item.
  const remaining: Expr[] = [];
  const perItem = new Map<JoinItem, Expr[]>();
  for (const c of conds) {
    const item = !hasOuter(c) && !hasSubquery(c) ? items.find((it) => covered(c, it.ids)) : undefined;
    if (item) perItem.set(item, [...(perItem.get(item) ?? []), c]);
    else remaining.push(c);
  }
  const nodes = items.map((it) => ({ ...it, node: pushDown(it.node, perItem.get(it) ?? []) }));
  let cur = nodes[0]!;
  const left = nodes.slice(1);
  let ids = new Set(cur.ids);
  let tree = cur.node;
  let pending = remaining;
  while (left.length > 0) {
    let pick = left.findIndex((it) =>
      pending.some(
        (c) =>
          !hasOuter(c) &&
          !hasSubquery(c) &&
          covered(c, new Set([...ids, ...it.ids])) &&
          !covered(c, ids) &&
          !covered(c, it.ids),
      ),
    );
    if (pick < 0) pick = 0;
    cur = left.splice(pick, 1)[0]!;
    const all = new Set([...ids, ...cur.ids]);
    const now = pending.filter((c) => !hasOuter(c) && !hasSubquery(c) && covered(c, all));
    pending = pending.filter((c) => !now.includes(c));
    const cond = and(now);
    tree = {
      k: 'join',
      left: tree,
      right: cur.node,
      how: cond ? 'inner' : 'cross',
      ...(cond && { cond }),
      output: [...tree.output, ...cur.node.output],
    };
    ids = all;
  }
  const cond = and(pending);
  const out: LNode = cond ? { k: 'filter', child: tree, cond, output: tree.output } : tree;
  // The join's output order is the original's.
  if (out.output.length === n.output.length && out.output.every((a, i) => a.id === n.output[i]!.id))
    return out;
  return {
    k: 'project',
    child: out,
    list: n.output.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
    output: n.output,
  };
}

function pushFilters(n: LNode): LNode {
  if (n.k !== 'filter') return n;
  const cs = conjuncts(n.cond);
  const pushable = cs.filter((c) => !hasSubquery(c) && !hasOuter(c) && !hasWindowOrAgg(c));
  const kept = cs.filter((c) => !pushable.includes(c));
  const child = n.child;
  let pushed: LNode;
  try {
    pushed = pushDown(child, pushable);
  } catch {
    return n;
  }
  const cond = and(kept);
  return cond ? { k: 'filter', child: pushed, cond, output: n.output } : pushed;
}

/** Inner joins without a filter above them still get reordered. */
function reorderBare(n: LNode): LNode {
  if (n.k === 'join' && (n.how === 'inner' || n.how === 'cross')) return reorderJoins(n, []);
  return n;
}

/**
 * Puts `wrap` (a semi or anti join) around the part of `x` that holds the columns `refs`, below
 * inner joins and pass-through projections; undefined unless it got below an inner join.
 */
function pushInto(x: LNode, refs: readonly number[], wrap: (side: LNode) => LNode): LNode | undefined {
  const has = (side: LNode) => {
    const ids = new Set(side.output.map((a) => a.id));
    return refs.every((id) => ids.has(id));
  };
  if (
    x.k === 'project' &&
    refs.every((id) => x.list.some((y) => y.id === id && y.e.k === 'ref' && y.e.id === id))
  ) {
    const child = pushInto(x.child, refs, wrap);
    return child && { ...x, child };
  }
  if (x.k === 'alias' && has(x.child)) {
    const child = pushInto(x.child, refs, wrap);
    return child && { ...x, child };
  }
  if (x.k === 'join' && x.how === 'inner') {
    if (has(x.left)) return { ...x, left: pushInto(x.left, refs, wrap) ?? wrap(x.left) };
    if (has(x.right)) return { ...x, right: pushInto(x.right, refs, wrap) ?? wrap(x.right) };
  }
  return undefined;
}

/**
 * A left semi or anti join over inner joins goes down to the side whose columns its condition
 * reads (Spark's PushLeftSemiLeftAntiThroughJoin): Q18's IN list cuts orders to a few rows
 * before they meet lineitem, instead of filtering the joined rows.
 */
function pushSemiJoins(n: LNode): LNode {
  if (n.k !== 'join' || (n.how !== 'left_semi' && n.how !== 'left_anti')) return n;
  if (n.cond && (hasOuter(n.cond) || hasSubquery(n.cond))) return n;
  const rightIds = new Set(n.right.output.map((a) => a.id));
  const refs = n.cond ? [...refIds(n.cond)].filter((id) => !rightIds.has(id)) : [];
  if (refs.length === 0) return n;
  return pushInto(n.left, refs, (side) => ({ ...n, left: side, output: side.output })) ?? n;
}

/** Every column id the plan reads anywhere (expressions of every node, the root's output). */
function usedIds(root: LNode): Set<number> {
  const used = new Set<number>(root.output.map((a) => a.id));
  const visit = (n: LNode): void => {
    // A projection's pass-through columns (`a` as `a`) are uses only if something above uses them.
    const exprs =
      n.k === 'project'
        ? n.list.filter((x) => !(x.e.k === 'ref' && x.e.id === x.id)).map((x) => x.e)
        : nodeExprs(n);
    for (const e of exprs)
      visitExpr(e, (x) => {
        if (x.k === 'ref' || x.k === 'outer') used.add(x.id);
        if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') {
          for (const a of x.plan.output) used.add(a.id);
          visit(x.plan);
        }
      });
    if (n.k === 'setop') for (const a of [...n.left.output, ...n.right.output]) used.add(a.id);
    if (n.k === 'distinct' || n.k === 'sample' || n.k === 'cached' || n.k === 'repartition')
      for (const a of n.child.output) used.add(a.id);
    for (const c of children(n)) visit(c);
  };
  visit(root);
  return used;
}

/** Propagates a pruned scan's narrower output up through the nodes that pass columns through. */
function fixOutputs(n: LNode, used: ReadonlySet<number>): LNode {
  return transform(n, (x) => {
    switch (x.k) {
      case 'project': {
        const childIds = new Set(x.child.output.map((a) => a.id));
        // Pass-through columns nobody above reads, or that a pruned child no longer has, go.
        let list = x.list.filter(
          (y) => !(y.e.k === 'ref' && y.e.id === y.id) || (used.has(y.id) && childIds.has(y.id)),
        );
        if (list.length === 0) list = x.list.slice(0, 1);
        if (list.length === x.list.length) return x;
        const ids = new Set(list.map((y) => y.id));
        return { ...x, list, output: x.output.filter((a) => ids.has(a.id)) };
      }
      case 'filter':
      case 'sort':
      case 'limit':
      case 'sample':
      case 'repartition':
      case 'distinct':
        return { ...x, output: x.child.output };
      case 'alias': {
        const ids = new Set(x.child.output.map((a) => a.id));
        return { ...x, output: x.output.filter((a) => ids.has(a.id)) };
      }
      case 'join': {
        const semi = x.how === 'left_semi' || x.how === 'left_anti';
        const l = new Set(x.left.output.map((a) => a.id));
        const r = new Set(x.right.output.map((a) => a.id));
        return { ...x, output: x.output.filter((a) => l.has(a.id) || (!semi && r.has(a.id))) };
      }
      case 'window':
        return {
          ...x,
          output: [...x.child.output, ...x.output.filter((a) => x.windows.some((w) => w.id === a.id))],
        };
      default:
        return x;
    }
  });
}

function pruneScans(root: LNode): LNode {
  const used = usedIds(root);
  const pruned = transform(root, (x) => {
    if (x.k !== 'scan') return x;
    const filterIds = new Set<number>();
    for (const f of x.filters) refIds(f, filterIds);
    let output: Attr[] = x.output.filter((a) => used.has(a.id));
    if (output.length === 0) output = [x.attrs[0]!];
    void filterIds;
    return { ...x, output };
  });
  return fixOutputs(pruned, used);
}

/** A node's output narrowed to `ids` (at least one column: a plan always has one). */
function keepOnly(output: readonly Attr[], ids: ReadonlySet<number>): Attr[] {
  const kept = output.filter((a) => ids.has(a.id));
  return kept.length > 0 ? kept : output.slice(0, 1);
}

/**
 * Top-down column pruning (Spark's ColumnPruning): each node gets the columns its parent reads,
 * and a join's side keeps only those and its keys — a column read by a filter or a join below
 * is not carried through the exchanges above it. Projections drop the items nobody reads.
 */
function pruneColumns(n: LNode, required: ReadonlySet<number>): LNode {
  const needs = new Set(required);
  for (const e of nodeExprs(n)) refIds(e, needs);
  const narrowTo = (c: LNode): LNode => {
    const child = pruneColumns(c, needs);
    if (child.output.every((a) => needs.has(a.id))) return child;
    const output = keepOnly(child.output, needs);
    if (child.k === 'scan') return { ...child, output };
    return {
      k: 'project',
      child,
      list: output.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
      output,
    };
  };
  switch (n.k) {
    case 'scan':
      return { ...n, output: keepOnly(n.output, required) };
    case 'project': {
      const list = n.list.filter((x) => required.has(x.id));
      const kept = list.length > 0 ? list : n.list.slice(0, 1);
      const ids = new Set<number>();
      for (const x of kept) refIds(x.e, ids);
      const ko = new Set(kept.map((x) => x.id));
      return {
        ...n,
        list: kept,
        child: pruneColumns(n.child, ids),
        output: n.output.filter((a) => ko.has(a.id)),
      };
    }
    case 'filter':
    case 'sort':
    case 'limit': {
      const child = pruneColumns(n.child, needs);
      return { ...n, child, output: child.output };
    }
    case 'alias': {
      const child = pruneColumns(n.child, needs);
      const ids = new Set(child.output.map((a) => a.id));
      return { ...n, child, output: n.output.filter((a) => ids.has(a.id)) };
    }
    case 'aggregate':
      return { ...n, child: pruneColumns(n.child, needs) };
    case 'join': {
      const left = narrowTo(n.left);
      const right = narrowTo(n.right);
      const semi = n.how === 'left_semi' || n.how === 'left_anti';
      const ids = new Set([...left.output, ...(semi ? [] : right.output)].map((a) => a.id));
      return { ...n, left, right, output: n.output.filter((a) => ids.has(a.id)) };
    }
    case 'setop':
      return {
        ...n,
        left: pruneColumns(n.left, idsOf(n.left)),
        right: pruneColumns(n.right, idsOf(n.right)),
      };
    case 'distinct':
    case 'window':
    case 'sample':
    case 'repartition':
      // These read every column of their child; below it, pruning goes on.
      return { ...n, child: pruneColumns(n.child, idsOf(n.child)) };
    default:
      // Leaves, and a cache's plan (its batches have its columns).
      return n;
  }
}

function idsOf(n: LNode): Set<number> {
  return new Set(n.output.map((a) => a.id));
}

/**
 * Runs the rewrites. `newId` hands out fresh column ids (the analyzer's); without it the
 * rewrites that need new columns (correlated scalar subqueries as joins) are skipped.
 */
export function optimize(plan: LNode, newId?: () => number): LNode {
  // Semi joins first: the left joins of scalar subqueries then meet the rows they let through.
  let p = transform(plan, (x) => {
    const y = rewriteSubqueries(x);
    return newId ? rewriteScalarSubqueries(y, newId) : y;
  });
  p = transform(p, pushFilters);
  p = transform(p, reorderBare);
  p = transform(p, pushSemiJoins);
  p = pruneScans(p);
  p = pruneColumns(p, new Set(p.output.map((a) => a.id)));
  return p;
}
