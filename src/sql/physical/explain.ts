/**
 * `df.explain()`: the plans as text, in Spark's layout (`== Physical Plan ==` …), with the
 * distributed plan's stages and their exchanges.
 */
import type { ExplainMode } from '../../dataframe/engine.js';
import { sparkName } from '../analysis/naming.js';
import { children, type LNode } from '../plan/logical.js';
import { stageOrder, type Stage } from './planner.js';

function attrs(n: LNode): string {
  return `[${n.output.map((a) => `${a.name}#${a.id}`).join(', ')}]`;
}

function describe(n: LNode): string {
  switch (n.k) {
    case 'scan':
      return `Relation ${n.source.format} [${n.output.map((a) => `${a.name}#${a.id}`).join(',')}]${n.filters.length ? ` PushedFilters: [${n.filters.map(sparkName).join(', ')}]` : ''}`;
    case 'local':
      return `LocalRelation ${attrs(n)}`;
    case 'range':
      return `Range (${n.start}, ${n.end}, step=${n.step})`;
    case 'project':
      return `Project [${n.list.map((x) => (x.e.k === 'ref' && x.e.name === x.name ? `${x.name}#${x.e.id}` : `${sparkName(x.e)} AS ${x.name}#${x.id}`)).join(', ')}]`;
    case 'filter':
      return `Filter ${sparkName(n.cond)}`;
    case 'aggregate':
      return `Aggregate [${n.groups.map((g) => sparkName(g.e)).join(', ')}], [${n.list.map((x) => `${x.name}#${x.id}`).join(', ')}]`;
    case 'join':
      return `Join ${n.how === 'left_semi' ? 'LeftSemi' : n.how === 'left_anti' ? 'LeftAnti' : n.how.charAt(0).toUpperCase() + n.how.slice(1)}${n.cond ? `, ${sparkName(n.cond)}` : ''}`;
    case 'sort':
      return `Sort [${n.order.map((o) => `${sparkName(o.e)} ${o.asc ? 'ASC' : 'DESC'} NULLS ${o.nullsFirst ? 'FIRST' : 'LAST'}`).join(', ')}], ${n.global}`;
    case 'limit':
      return n.limit !== undefined
        ? `GlobalLimit ${n.limit}${n.offset ? `, ${n.offset}` : ''}`
        : `Offset ${n.offset}`;
    case 'setop':
      return `${n.op === 'union' ? 'Union' : n.op === 'intersect' ? 'Intersect' : 'Except'}${n.all ? ' All' : ''}`;
    case 'window':
      return `Window [${n.windows.map((w) => `${sparkName(w.e)} AS ${w.name}#${w.id}`).join(', ')}]`;
    case 'distinct':
      return `Distinct`;
    case 'sample':
      return `Sample ${n.lower}, ${n.upper}, ${n.withReplacement}, ${n.seed}`;
    case 'repartition':
      return `Repartition ${n.n ?? ''}`;
    case 'cached':
      return `InMemoryRelation ${attrs(n)}`;
    case 'alias':
      return `SubqueryAlias ${attrs(n)}`;
  }
}

/** A logical plan as Spark's indented tree (`+- ` before each child). */
export function treeString(n: LNode, stop?: (x: LNode) => string | undefined): string {
  const lines: string[] = [];
  const rec = (x: LNode, prefix: string, last: boolean, root: boolean) => {
    const label = stop?.(x) ?? describe(x);
    lines.push(root ? label : `${prefix}${last ? '+- ' : ':- '}${label}`);
    if (stop?.(x) !== undefined) return;
    const cs = children(x);
    cs.forEach((c, i) => rec(c, root ? '' : prefix + (last ? '   ' : ':  '), i === cs.length - 1, false));
  };
  rec(n, '', true, true);
  return lines.join('\n');
}

/**
 * One stage of the physical plan as explain prints it (`Stage 1 (4 tasks) → Exchange …` and its
 * tree); `idOf` numbers the stages (default: their ids).
 */
export function stageText(s: Stage, idOf: (x: Stage) => number = (x) => x.id): string {
  const names = new Map<LNode, string>();
  for (const i of s.inputs)
    names.set(
      i.node,
      i.kind === 'exchange'
        ? `ShuffleRead stage ${idOf(i.stage)} (${i.stage.output.kind}${i.whole ? ', whole: adaptive broadcast' : ''})`
        : i.kind === 'cached' && i.oneTask
          ? `${describe(i.node)}, every partition in one task`
          : describe(i.node),
    );
  const out =
    s.output.kind === 'hash'
      ? `Exchange hashpartitioning(${s.output.keys.map(sparkName).join(', ')}, ${s.output.n})`
      : s.output.kind === 'range'
        ? `Exchange rangepartitioning(${s.output.order.map((o) => `${sparkName(o.e)} ${o.asc ? 'ASC' : 'DESC'} NULLS ${o.nullsFirst ? 'FIRST' : 'LAST'}`).join(', ')}, ${s.output.n})`
        : s.output.kind === 'broadcast'
          ? `BroadcastExchange (${s.output.n} partitions)`
          : s.output.kind === 'single'
            ? 'Exchange SinglePartition'
            : 'Result';
  return `Stage ${idOf(s)} (${s.numPartitions} tasks) → ${out}\n${treeString(s.root, (x) => names.get(x))
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n')}`;
}

/** The stages of a plan as explain prints them, children first, numbered in that order from 0. */
export function physicalText(result: Stage): string {
  const stages = stageOrder(result);
  const ids = new Map(stages.map((s, i) => [s, i]));
  return stages.map((s) => stageText(s, (x) => ids.get(x)!)).join('\n\n');
}

/** The text `explain(mode)` prints. */
export function explainPlan(
  analyzed: LNode,
  optimized: LNode,
  mode: ExplainMode,
  plan: (o: LNode) => Stage,
): string {
  const physical = physicalText(plan(optimized));
  if (mode === 'simple') return `== Physical Plan ==\n${physical}\n`;
  return `== Analyzed Logical Plan ==\n${treeString(analyzed)}\n\n== Optimized Logical Plan ==\n${treeString(optimized)}\n\n== Physical Plan ==\n${physical}\n`;
}
