/**
 * The distributed planner: cuts an optimized logical plan into stages at exchanges, as Ballista's
 * planner does. A stage is a fragment (a subtree rendered as one DuckDB query) over its inputs
 * (file splits, client rows, a range, cached data, or the exchange outputs of child stages), run
 * once per partition, whose output is hash-partitioned, broadcast, gathered to one partition, or
 * the result.
 * - Aggregates are planned twice where every aggregate decomposes (partial → hash exchange on
 *   the grouping keys → final), Spark's AggUtils; otherwise rows are exchanged by key.
 * - Joins broadcast a side estimated under `autoBroadcastJoinThreshold`, else hash both sides
 *   on the equi-join keys. Adaptive execution (Spark's AQE): a hashed side whose estimate is a
 *   guess (filters, joins, aggregates below it) is a {@link JoinSideCandidate}; the engine runs
 *   its stage, and planned again with its real map-output bytes ({@link KnownSide}) the join
 *   broadcasts it when it is small, every task reading the whole hash exchange.
 * - A global sort is a range exchange on its keys (bounds sampled when the action runs, as
 *   Spark's RangePartitioner), then a sort of each partition: partition i holds rows ordered
 *   before partition i + 1's. ORDER BY … LIMIT k is a top-k: k rows per partition, gathered.
 * - Small inputs (estimated under `smallInputThreshold`): a global sort gathers them to one
 *   partition and sorts there; a cached view's partitions are all read by one task, so an
 *   aggregate over it is one stage. Never when the query reads partition ids.
 * - Limits and anything without keys gather to a single partition.
 * - Correlated subqueries that the optimizer could not turn into joins are evaluated inside the
 *   fragment, with the tables they read broadcast to it.
 */
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
  type Named,
  type SortKey,
} from '../plan/logical.js';
import { DoubleType, LongType, commonType } from '../types.js';

/** Where a stage's output goes. */
export type StageOutput =
  | { readonly kind: 'hash'; readonly keys: readonly Expr[]; readonly n: number }
  | { readonly kind: 'broadcast'; readonly n: number }
  /** Range partitions by the sort order: bounds are sampled from this stage's output at run time. */
  | { readonly kind: 'range'; readonly order: readonly SortKey[]; readonly n: number }
  | { readonly kind: 'single' }
  | { readonly kind: 'result' };

/** One input of a stage: how each of its partitions gets the rows of one leaf of the fragment. */
export type StageInput =
  | { readonly kind: 'scan'; readonly node: Extract<LNode, { k: 'scan' }> }
  | { readonly kind: 'local'; readonly node: Extract<LNode, { k: 'local' }> }
  | { readonly kind: 'range'; readonly node: Extract<LNode, { k: 'range' }> }
  /** A cached view's partitions; `oneTask`: all of them read by one task (a small view). */
  | { readonly kind: 'cached'; readonly node: Extract<LNode, { k: 'cached' }>; readonly oneTask?: boolean }
  /** A child stage's output; `whole`: every task reads all of its partitions (an adaptive broadcast of a hash exchange). */
  | { readonly kind: 'exchange'; readonly node: LNode; readonly stage: Stage; readonly whole?: boolean };

/** A stage of the distributed plan. */
export interface Stage {
  readonly id: number;
  /** The fragment: a subtree whose leaves are this stage's inputs. */
  readonly root: LNode;
  readonly inputs: readonly StageInput[];
  /** Tasks, one per partition. */
  readonly numPartitions: number;
  readonly output: StageOutput;
}

/** Planner settings (`spark.sql.*` configuration). */
export interface PlannerConf {
  readonly shufflePartitions: number;
  readonly autoBroadcastJoinThreshold: number;
  /** Scan partitions of a source (file splits), by scan node. */
  readonly scanPartitions: (scan: Extract<LNode, { k: 'scan' }>) => number;
  /** Estimated bytes a scan reads. */
  readonly scanBytes: (scan: Extract<LNode, { k: 'scan' }>) => number;
  /** Partitions of a cached plan. */
  readonly cachedPartitions: (cacheId: string) => number;
  /** Whether a cached node's rows are an RDD's (a DataFrame over an RDD): their size is unknown. */
  readonly cachedIsRdd: (cacheId: string) => boolean;
  /**
   * Inputs estimated at most this many bytes are small (negative: none is): a cached view's
   * partitions are read by one task and a global sort gathers them to one partition.
   */
  readonly smallInputThreshold: number;
  readonly defaultParallelism: number;
}

/** A planned subtree: its fragment so far, the inputs it reads and its partitions. */
export interface Planned {
  readonly node: LNode;
  readonly inputs: StageInput[];
  readonly n: number;
  /** Hash-partitioned by these column ids (in this order), when known. */
  readonly hashedBy?: readonly number[];
}

/**
 * A join side that was hashed on the join keys although it may be small: its size was a guess.
 * The engine may run `stage` first and plan again with the side known ({@link KnownSide}).
 */
export interface JoinSideCandidate {
  /** The join side: a subtree of the optimized plan. */
  readonly side: LNode;
  /** The side's hash exchange on the join keys. */
  readonly stage: Stage;
  /** The planned leaf reading that exchange (what the join's fragment reads). */
  readonly leaf: Planned;
  readonly estimate: number;
}

/** A join side whose hash exchange ran: the same stage and leaf, and its real map-output bytes. */
export interface KnownSide {
  readonly stage: Stage;
  readonly leaf: Planned;
  readonly bytes: number;
}

const DECOMPOSABLE = new Set([
  'sum',
  'legacy_sum',
  'count',
  'min',
  'max',
  'avg',
  'mean',
  'first',
  'last',
  'any_value',
  'bool_and',
  'bool_or',
  'count_if',
]);

/** The share of rows a filter is guessed to keep, for join planning (no column statistics yet). */
const FILTER_SELECTIVITY = 0.25;

/** Estimated bytes of a plan's output (Spark's sizeInBytes, crudely). */
function estimate(n: LNode, conf: PlannerConf): number {
  switch (n.k) {
    case 'scan': {
      // The columns read, and a guess for pushed filters (a quarter of the rows: no statistics yet).
      const bytes = (conf.scanBytes(n) * Math.max(1, n.output.length)) / Math.max(1, n.attrs.length);
      return Math.ceil(n.filters.length > 0 ? bytes * FILTER_SELECTIVITY : bytes);
    }
    case 'local':
      return n.rows.length * 16 * Math.max(1, n.output.length);
    case 'range':
      return Math.max(0, Math.ceil((n.end - n.start) / n.step)) * 8;
    case 'filter':
      return Math.ceil(estimate(n.child, conf) * FILTER_SELECTIVITY);
    case 'join':
      return n.how === 'left_semi' || n.how === 'left_anti'
        ? estimate(n.left, conf)
        : estimate(n.left, conf) + estimate(n.right, conf);
    case 'limit':
      return n.limit !== undefined && n.limit < 1000 ? n.limit * 64 : estimate(n.child, conf);
    case 'setop':
      return estimate(n.left, conf) + estimate(n.right, conf);
    case 'cached':
      // An RDD's rows: unknown, so never small (Spark's default sizeInBytes is Long.MaxValue).
      return conf.cachedIsRdd(n.cacheId) ? Infinity : estimate(n.child, conf);
    default:
      return children(n).reduce((s, c) => s + estimate(c, conf), 0);
  }
}

/**
 * Whether a subtree's size estimate is a guess: it filters, joins, aggregates, deduplicates,
 * samples or limits rows (a plain scan's estimate follows from its files and columns).
 */
export function estimateIsGuess(n: LNode): boolean {
  switch (n.k) {
    case 'scan':
      return n.filters.length > 0;
    case 'filter':
    case 'join':
    case 'aggregate':
    case 'distinct':
    case 'sample':
    case 'limit':
      return true;
    case 'setop':
      return n.op !== 'union';
    default:
      return children(n).some(estimateIsGuess);
  }
}

/** The planner of one query. */
export class DistributedPlanner {
  private nextStage: number;
  readonly stages: Stage[] = [];
  /** Hashed join sides that may be small (see {@link JoinSideCandidate}), in planning order. */
  readonly candidates: JoinSideCandidate[] = [];
  private nextId: () => number;

  /**
   * `known`: join sides whose exchange already ran (adaptive execution): planned as that stage,
   * and broadcast when their bytes are under the threshold. New stages are numbered after theirs.
   */
  constructor(
    private readonly conf: PlannerConf,
    newId: () => number,
    private readonly known: ReadonlyMap<LNode, KnownSide> = new Map(),
  ) {
    this.nextId = newId;
    let max = -1;
    for (const k of known.values()) for (const s of stageOrder(k.stage)) max = Math.max(max, s.id);
    this.nextStage = max + 1;
  }

  /** Set while planning a query that reads partition ids: partitions are then never merged. */
  private partitionSensitive = false;

  /** Plans a query: its stages, the last one producing the result. */
  plan(root: LNode): Stage {
    this.partitionSensitive = readsPartitionIds(root);
    const p = this.planNode(root);
    return this.stage(p, { kind: 'result' });
  }

  private stage(p: Planned, output: StageOutput): Stage {
    const s: Stage = { id: this.nextStage++, root: p.node, inputs: p.inputs, numPartitions: p.n, output };
    this.stages.push(s);
    return s;
  }

  /** Ends `p` in an exchange; returns the planned leaf that reads it. */
  private exchange(
    p: Planned,
    output: Exclude<StageOutput, { kind: 'result' }>,
    consumerN?: number,
  ): Planned {
    const s = this.stage(p, output);
    const leaf: LNode = { k: 'alias', child: p.node, output: p.node.output };
    const n = output.kind === 'single' ? 1 : output.n;
    const hashedBy =
      output.kind === 'hash' && output.keys.every((k) => k.k === 'ref')
        ? output.keys.map((k) => (k as { id: number }).id)
        : undefined;
    return {
      node: leaf,
      inputs: [{ kind: 'exchange', node: leaf, stage: s }],
      n: consumerN ?? n,
      ...(hashedBy && { hashedBy }),
    };
  }

  private single(p: Planned): Planned {
    if (p.n === 1) return p;
    return this.exchange(p, { kind: 'single' });
  }

  private hash(p: Planned, keys: readonly Expr[], n: number): Planned {
    const ids = keys.every((k) => k.k === 'ref') ? keys.map((k) => (k as { id: number }).id) : undefined;
    if (
      ids &&
      p.hashedBy &&
      p.n === n &&
      ids.length === p.hashedBy.length &&
      ids.every((id, i) => id === p.hashedBy![i])
    )
      return p;
    return this.exchange(p, { kind: 'hash', keys, n });
  }

  /** Whether a subtree is estimated small enough for one task (see `smallInputThreshold`). */
  private small(n: LNode): boolean {
    const t = this.conf.smallInputThreshold;
    return t >= 0 && !this.partitionSensitive && estimate(n, this.conf) <= t;
  }

  private leaf(node: LNode, input: StageInput, n: number): Planned {
    return { node, inputs: [input], n: Math.max(1, n) };
  }

  private narrow(child: Planned, rebuilt: LNode, extraInputs: StageInput[] = []): Planned {
    return {
      node: rebuilt,
      inputs: [...child.inputs, ...extraInputs],
      n: child.n,
      ...(child.hashedBy && { hashedBy: child.hashedBy }),
    };
  }

  /** Plans subquery expressions of a node evaluated inside the fragment: their tables are broadcast. */
  private subqueryInputs(n: number): { map: (e: Expr) => Expr; inputs: StageInput[] } {
    const inputs: StageInput[] = [];
    const replaced = new Map<LNode, LNode>();
    const planSub = (plan: LNode): LNode => {
      if (outerIds(plan).size === 0) {
        const p = this.planNode(plan);
        const b = this.exchange(p, { kind: 'broadcast', n }, n);
        inputs.push(...b.inputs);
        return b.node;
      }
      // Correlated: keep the nodes with outer references, broadcast the outer-free subtrees below.
      const rebuild = (x: LNode): LNode => {
        if (outerIds(x).size === 0 && x.k !== 'alias') return planSub(x);
        switch (x.k) {
          case 'filter':
            return { ...x, child: rebuild(x.child), cond: map(x.cond) };
          case 'project':
            return { ...x, child: rebuild(x.child), list: x.list.map((y) => ({ ...y, e: map(y.e) })) };
          case 'join':
            return { ...x, left: rebuild(x.left), right: rebuild(x.right) };
          case 'setop':
            return { ...x, left: rebuild(x.left), right: rebuild(x.right) };
          case 'scan':
          case 'local':
          case 'range':
            return planSub(x);
          default:
            return { ...x, child: rebuild(x.child) };
        }
      };
      return rebuild(plan);
    };
    const map = (e: Expr): Expr =>
      mapExpr(e, (x) => {
        if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') {
          let p = replaced.get(x.plan);
          if (!p) {
            p = planSub(x.plan);
            replaced.set(x.plan, p);
          }
          return { ...x, plan: p };
        }
        return undefined;
      });
    return { map, inputs };
  }

  private hasSubquery(es: readonly Expr[]): boolean {
    let found = false;
    for (const e of es)
      visitExpr(e, (x) => {
        if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') found = true;
      });
    return found;
  }

  private planNode(n: LNode): Planned {
    switch (n.k) {
      case 'scan':
        return this.leaf(n, { kind: 'scan', node: n }, this.conf.scanPartitions(n));
      case 'local':
        return this.leaf(
          n,
          { kind: 'local', node: n },
          Math.min(n.numPartitions || 1, Math.max(1, n.rows.length)),
        );
      case 'range': {
        const parts = n.numPartitions || this.conf.defaultParallelism;
        return this.leaf(n, { kind: 'range', node: n }, parts);
      }
      case 'cached': {
        const parts = this.conf.cachedPartitions(n.cacheId);
        // A small cached view is read whole by one task: no exchange after it (one stage for D4).
        if (parts > 1 && this.small(n)) return this.leaf(n, { kind: 'cached', node: n, oneTask: true }, 1);
        return this.leaf(n, { kind: 'cached', node: n }, parts);
      }
      case 'alias': {
        const c = this.planNode(n.child);
        return this.narrow(c, { ...n, child: c.node });
      }
      case 'project':
      case 'filter': {
        const c = this.planNode(n.child);
        const exprs = n.k === 'project' ? n.list.map((x) => x.e) : [n.cond];
        if (this.hasSubquery(exprs)) {
          const s = this.subqueryInputs(c.n);
          const rebuilt: LNode =
            n.k === 'project'
              ? { ...n, child: c.node, list: n.list.map((x) => ({ ...x, e: s.map(x.e) })) }
              : { ...n, child: c.node, cond: s.map(n.cond) };
          return this.narrow(c, rebuilt, s.inputs);
        }
        return this.narrow(c, { ...n, child: c.node });
      }
      case 'sample': {
        const c = this.planNode(n.child);
        return this.narrow(c, { ...n, child: c.node });
      }
      case 'aggregate':
        return this.planAggregate(n);
      case 'join':
        return this.planJoin(n);
      case 'sort': {
        const c = this.planNode(n.child);
        if (!n.global || c.n === 1) return this.narrow(c, { ...n, child: c.node });
        // A small input is gathered and sorted in one task: no sampling job, no range exchange.
        if (this.small(n.child)) {
          const s = this.single(c);
          return { ...s, node: { ...n, child: s.node } };
        }
        // Spark's range exchange: ordered partitions, each sorted locally after the exchange.
        const r = this.exchange(c, { kind: 'range', order: n.order, n: this.conf.shufflePartitions });
        return { ...r, node: { ...n, child: r.node } };
      }
      case 'limit': {
        const topK = this.planTopK(n);
        if (topK) return topK;
        const c = this.planNode(n.child);
        if (c.n === 1) return { ...c, node: { ...n, child: c.node } };
        // A local limit of limit + offset rows in each partition, then the global one.
        const local: LNode =
          n.limit !== undefined
            ? {
                k: 'limit',
                child: c.node,
                limit: n.limit + n.offset,
                offset: 0,
                output: n.output,
              }
            : c.node;
        const s = this.single({ ...c, node: local });
        return { ...s, node: { ...n, child: s.node } };
      }
      case 'setop': {
        const l = this.planNode(n.left);
        const r = this.planNode(n.right);
        if (n.op === 'union' && n.all) {
          const ls = this.single(l);
          const rs = this.single(r);
          return {
            node: { ...n, left: ls.node, right: rs.node },
            inputs: [...ls.inputs, ...rs.inputs],
            n: 1,
          };
        }
        const N = this.conf.shufflePartitions;
        const lh = this.hash(
          l,
          n.left.output.map((a) => this.castKey(refOf(a), a, n.right.output[n.left.output.indexOf(a)]!)),
          N,
        );
        const rh = this.hash(
          r,
          n.right.output.map((a, i) => this.castKey(refOf(a), a, n.left.output[i]!)),
          N,
        );
        return { node: { ...n, left: lh.node, right: rh.node }, inputs: [...lh.inputs, ...rh.inputs], n: N };
      }
      case 'window': {
        const c = this.planNode(n.child);
        const w = n.windows[0]?.e;
        const keys = w && w.k === 'window' ? w.partition : [];
        const sameKeys = n.windows.every(
          (x) => x.e.k === 'window' && JSON.stringify(x.e.partition) === JSON.stringify(keys),
        );
        const p =
          keys.length > 0 && sameKeys ? this.hash(c, keys, this.conf.shufflePartitions) : this.single(c);
        return { ...p, node: { ...n, child: p.node } };
      }
      case 'distinct': {
        const c = this.planNode(n.child);
        const h = this.hash(c, n.child.output.map(refOf), this.conf.shufflePartitions);
        return { ...h, node: { ...n, child: h.node } };
      }
      case 'repartition': {
        const c = this.planNode(n.child);
        const N = n.n ?? this.conf.shufflePartitions;
        if (!n.shuffle) {
          if (N === 1) return this.single(c);
          return c;
        }
        const keys = n.keys.length > 0 ? n.keys : n.child.output.map(refOf);
        const h = this.exchange(c, { kind: 'hash', keys, n: N });
        return { ...h, node: { ...n, child: h.node } };
      }
    }
  }

  /**
   * LIMIT (or OFFSET) over a global sort, a projection between them allowed: with several input
   * partitions, each keeps its first limit + offset rows in the order (a local top-k), those are
   * gathered to one partition, sorted and cut there. Undefined when the shape does not apply.
   */
  private planTopK(n: Extract<LNode, { k: 'limit' }>): Planned | undefined {
    const project = n.child.k === 'project' ? n.child : undefined;
    const sort = project ? project.child : n.child;
    if (sort.k !== 'sort' || !sort.global) return undefined;
    if (project && this.hasSubquery(project.list.map((x) => x.e))) return undefined;
    const c = this.planNode(sort.child);
    const rebuild = (child: LNode): LNode => {
      const sorted: LNode = { ...sort, child };
      return { ...n, child: project ? { ...project, child: sorted } : sorted };
    };
    if (c.n === 1) return { ...c, node: rebuild(c.node) };
    const local: LNode =
      n.limit !== undefined
        ? {
            k: 'limit',
            child: { ...sort, child: c.node, global: false },
            limit: n.limit + n.offset,
            offset: 0,
            output: sort.output,
          }
        : c.node;
    const s = this.single({ ...c, node: local });
    return { ...s, node: rebuild(s.node) };
  }

  private castKey(e: Expr, a: Attr, other: Attr): Expr {
    const t = commonType(a.type, other.type) ?? a.type;
    return t.equals(a.type) ? e : { k: 'cast', e, type: t, tryCast: false };
  }

  private planAggregate(n: Extract<LNode, { k: 'aggregate' }>): Planned {
    const c = this.planNode(n.child);
    if (c.n === 1) return { ...c, node: { ...n, child: c.node } };
    const N = n.groups.length === 0 ? 1 : this.conf.shufflePartitions;
    const decomposable = n.aggs.every(
      (a) => a.e.k === 'agg' && !a.e.distinct && DECOMPOSABLE.has(a.e.fn) && !a.e.filter,
    );
    if (!decomposable) {
      const keys = n.groups.map((g) => g.e);
      const p = n.groups.length === 0 ? this.single(c) : this.hash(c, keys, N);
      return { ...p, node: { ...n, child: p.node } };
    }
    // Partial aggregation on the map side, final after the exchange.
    const partialGroups: Named[] = n.groups.map((g) => ({ id: g.id, name: g.name, e: g.e }));
    const partialAggs: Named[] = [];
    const finalAggs: Named[] = [];
    const avgParts = new Map<number, { sum: number; count: number; type: Expr['type'] }>();
    for (const a of n.aggs) {
      const e = a.e as Extract<Expr, { k: 'agg' }>;
      const pid = this.nextId();
      const fn = e.fn === 'mean' ? 'avg' : e.fn;
      if (fn === 'avg') {
        const cid = this.nextId();
        partialAggs.push({ id: pid, name: `sum(${a.name})`, e: { ...e, fn: 'sum', type: new DoubleType() } });
        partialAggs.push({
          id: cid,
          name: `count(${a.name})`,
          e: { ...e, fn: 'count', type: new LongType() },
        });
        const sid = this.nextId();
        const kid = this.nextId();
        finalAggs.push({
          id: sid,
          name: a.name,
          e: {
            k: 'agg',
            fn: 'sum',
            args: [{ k: 'ref', id: pid, name: a.name, type: new DoubleType(), nullable: true }],
            distinct: false,
            type: new DoubleType(),
          },
        });
        finalAggs.push({
          id: kid,
          name: a.name,
          e: {
            k: 'agg',
            fn: 'sum',
            args: [{ k: 'ref', id: cid, name: a.name, type: new LongType(), nullable: true }],
            distinct: false,
            type: new LongType(),
          },
        });
        avgParts.set(a.id, { sum: sid, count: kid, type: e.type });
        continue;
      }
      partialAggs.push({ id: pid, name: a.name, e: { ...e, fn } });
      const merge = fn === 'count' || fn === 'count_if' ? 'sum0' : fn === 'sum' ? 'sum' : fn;
      finalAggs.push({
        id: a.id,
        name: a.name,
        e: {
          k: 'agg',
          fn: merge,
          // first/last keep their ignorenulls argument when merging the partial values.
          args: [
            { k: 'ref', id: pid, name: a.name, type: e.type, nullable: true },
            ...(fn === 'first' || fn === 'last' ? e.args.slice(1) : []),
          ],
          distinct: false,
          type: e.type,
        },
      });
    }
    const partialList: Named[] = [...partialGroups, ...partialAggs].map((x) => ({
      id: x.id,
      name: x.name,
      e: { k: 'ref', id: x.id, name: x.name, type: x.e.type, nullable: true },
    }));
    const partial: LNode = {
      k: 'aggregate',
      child: c.node,
      groups: partialGroups,
      aggs: partialAggs,
      list: partialList,
      output: partialList.map((x) => ({ id: x.id, name: x.name, type: x.e.type, nullable: true })),
    };
    const pp: Planned = { node: partial, inputs: c.inputs, n: c.n };
    const keys = partialGroups.map((g): Expr => ({
      k: 'ref',
      id: g.id,
      name: g.name,
      type: g.e.type,
      nullable: true,
    }));
    const ex = n.groups.length === 0 ? this.single(pp) : this.exchange(pp, { kind: 'hash', keys, n: N });
    const finalGroups: Named[] = n.groups.map((g) => ({
      id: g.id,
      name: g.name,
      e: { k: 'ref', id: g.id, name: g.name, type: g.e.type, nullable: true },
    }));
    const list = n.list.map((x) => ({
      ...x,
      e: mapExpr(x.e, (y) => {
        if (y.k !== 'ref') return undefined;
        const av = avgParts.get(y.id);
        if (!av) return undefined;
        const s: Expr = { k: 'ref', id: av.sum, name: 'sum', type: new DoubleType(), nullable: true };
        const k: Expr = { k: 'ref', id: av.count, name: 'count', type: new LongType(), nullable: true };
        return { k: 'call', fn: '/', args: [s, k], type: new DoubleType(), nullable: true };
      }),
    }));
    const final: LNode = {
      k: 'aggregate',
      child: ex.node,
      groups: finalGroups,
      aggs: finalAggs,
      list,
      output: n.output,
    };
    return { ...ex, node: final };
  }

  private planJoin(n: Extract<LNode, { k: 'join' }>): Planned {
    const kl = this.known.get(n.left);
    const kr = this.known.get(n.right);
    const l = kl ? kl.leaf : this.planNode(n.left);
    const r = kr ? kr.leaf : this.planNode(n.right);
    const leftIds = new Set(n.left.output.map((a) => a.id));
    const rightIds = new Set(n.right.output.map((a) => a.id));
    const within = (e: Expr, ids: Set<number>) =>
      [...refIds(e)].every((id) => ids.has(id)) && refIds(e).size > 0;
    const lk: Expr[] = [];
    const rk: Expr[] = [];
    if (n.cond) {
      for (const c of conjuncts(n.cond)) {
        if (c.k !== 'call' || c.fn !== '==') continue;
        const [a, b] = c.args as [Expr, Expr];
        const t = commonType(a.type, b.type) ?? a.type;
        const cast = (e: Expr): Expr => (e.type.equals(t) ? e : { k: 'cast', e, type: t, tryCast: false });
        if (within(a, leftIds) && within(b, rightIds)) {
          lk.push(cast(a));
          rk.push(cast(b));
        } else if (within(b, leftIds) && within(a, rightIds)) {
          lk.push(cast(b));
          rk.push(cast(a));
        }
      }
    }
    const threshold = this.conf.autoBroadcastJoinThreshold;
    // A side that ran is judged by its real bytes, not the estimate.
    const sizeOf = (x: LNode, k: KnownSide | undefined) => (k ? k.bytes : estimate(x, this.conf));
    const rightSmall = threshold >= 0 && sizeOf(n.right, kr) <= threshold;
    const leftSmall = threshold >= 0 && sizeOf(n.left, kl) <= threshold;
    const canBroadcastRight =
      n.how === 'inner' ||
      n.how === 'left' ||
      n.how === 'left_semi' ||
      n.how === 'left_anti' ||
      n.how === 'cross';
    const canBroadcastLeft = n.how === 'inner' || n.how === 'right' || n.how === 'cross';
    const build = (lp: Planned, rp: Planned, parts: number, hashedBy?: readonly number[]): Planned => ({
      node: { ...n, left: lp.node, right: rp.node },
      inputs: [...lp.inputs, ...rp.inputs],
      n: parts,
      ...(hashedBy && { hashedBy }),
    });
    /** A side broadcast to `n` partitions: a known side's hash exchange is read whole by every task. */
    const broadcast = (p: Planned, k: KnownSide | undefined, to: Planned): Planned => {
      if (!k) return this.exchange(p, { kind: 'broadcast', n: to.n }, to.n);
      return {
        node: k.leaf.node,
        inputs: k.leaf.inputs.map((i) => (i.kind === 'exchange' ? { ...i, whole: true } : i)),
        n: to.n,
      };
    };
    if (l.n === 1 && r.n === 1) return build(l, r, 1);
    if (
      (rightSmall || lk.length === 0) &&
      canBroadcastRight &&
      (!leftSmall || sizeOf(n.right, kr) <= sizeOf(n.left, kl) || !canBroadcastLeft)
    ) {
      const rb = broadcast(r, kr, l);
      return build(l, rb, l.n, l.hashedBy);
    }
    if ((leftSmall || lk.length === 0) && canBroadcastLeft) {
      const lb = broadcast(l, kl, r);
      return build(lb, r, r.n, r.hashedBy);
    }
    if (lk.length === 0) {
      const ls = this.single(l);
      const rs = this.single(r);
      return build(ls, rs, 1);
    }
    const N = this.conf.shufflePartitions;
    // A known side is its hash exchange on these keys already.
    const lh = kl ? l : this.hash(l, lk, N);
    const rh = kr ? r : this.hash(r, rk, N);
    // Sides hashed here whose size was a guess, and that the join could broadcast: candidates
    // for adaptive execution, the smaller estimate first. None when broadcasting is off (a
    // negative autoBroadcastJoinThreshold): knowing the size could not change the plan.
    const sides: JoinSideCandidate[] = [];
    const adaptable = this.conf.autoBroadcastJoinThreshold >= 0;
    const exchanged = (p: Planned, before: Planned) =>
      p !== before && p.inputs.length === 1 && p.inputs[0]!.kind === 'exchange'
        ? p.inputs[0]!.stage
        : undefined;
    const ls = exchanged(lh, l);
    const rs = exchanged(rh, r);
    if (adaptable && !kl && ls && canBroadcastLeft && estimateIsGuess(n.left))
      sides.push({ side: n.left, stage: ls, leaf: lh, estimate: estimate(n.left, this.conf) });
    if (adaptable && !kr && rs && canBroadcastRight && estimateIsGuess(n.right))
      sides.push({ side: n.right, stage: rs, leaf: rh, estimate: estimate(n.right, this.conf) });
    this.candidates.push(...sides.sort((a, b) => a.estimate - b.estimate));
    return build(lh, rh, N, lh.hashedBy);
  }
}

const PARTITION_FUNCTIONS = new Set(['spark_partition_id', 'monotonically_increasing_id']);

/** Whether a plan calls a function whose value depends on the partition a row is in. */
function readsPartitionIds(root: LNode): boolean {
  let found = false;
  const visit = (n: LNode): void => {
    for (const e of nodeExprs(n))
      visitExpr(e, (x) => {
        if (x.k === 'call' && PARTITION_FUNCTIONS.has(x.fn)) found = true;
        if (x.k === 'scalarSubquery' || x.k === 'exists' || x.k === 'inSubquery') visit(x.plan);
      });
    for (const c of children(n)) visit(c);
  };
  visit(root);
  return found;
}

/** The stages of a plan, children first. */
export function stageOrder(result: Stage): Stage[] {
  const out: Stage[] = [];
  const seen = new Set<Stage>();
  const visit = (s: Stage) => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const i of s.inputs) if (i.kind === 'exchange') visit(i.stage);
    out.push(s);
  };
  visit(result);
  return out;
}
