/**
 * The console's colon commands: `:workers`, `:jobs`, `:cache`, `:lineage <expr>`, `:load <file>`,
 * `:help`, `:quit`. Each returns the text to print; none throws for bad input, it explains.
 */
import { readFile } from 'node:fs/promises';
import type { WorkerStatus } from '../client/cluster-backend.js';
import type { MicroSpark } from '../client/context.js';
import { DataFrame } from '../dataframe/dataframe.js';
import { RDD } from '../rdd/rdd.js';
import { evaluate } from './evaluate.js';
import { formatBytes, formatDuration, formatValue } from './format.js';
import { hostPort, pending, shortId, type ConsoleState } from './view-model.js';

/** Every command, for Tab completion and `:help`. */
export const COMMAND_NAMES = [
  ':cache',
  ':explain',
  ':help',
  ':jobs',
  ':lineage',
  ':load',
  ':quit',
  ':workers',
] as const;

/** What a command asks the console to do. */
export type CommandResult =
  | { readonly kind: 'print'; readonly text: string; readonly tone: 'result' | 'error' }
  | { readonly kind: 'quit' };

/** What commands can look at. */
export interface CommandContext {
  readonly sc: MicroSpark;
  readonly state: ConsoleState;
}

export const HELP = `Type JavaScript or TypeScript; \`sc\` is the context. Top-level await works, variables stay
between inputs, an unfinished line continues on the next. Tab completes, ↑/↓ walk the history.

  sc.parallelize([1, 2, 3]).map((x) => x * 2).collect()
  const lines = sc.textFile('bench/data/corpus-64mb.txt')
  await lines.flatMap((l) => l.split(' ')).countByValue()

Functions run on the workers, so they cannot use variables from the console: pass them as env,
  rdd.map((x, env) => x * env.k, { k: 3 })

Commands:
  :workers          the workers: slots busy/total, stored blocks, memory, last heartbeat
  :jobs             the running action's stages and the last finished actions
  :cache            persisted RDDs and which worker holds each partition
  :lineage <expr>   the RDD's lineage (toDebugString)
  :explain <expr>   a DataFrame's plans: analyzed, optimized, and its stages
  :load <file>      run a .js or .ts file here (its top-level variables stay)
  :help             this text
  :quit             exit (also Ctrl-D); stops the workers this console spawned
Ctrl-C cancels the running action; the console stays.`;

function ok(text: string): CommandResult {
  return { kind: 'print', text, tone: 'result' };
}
function err(text: string): CommandResult {
  return { kind: 'print', text, tone: 'error' };
}

/** Renders rows as aligned columns with a header. */
export function columns(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

/**
 * The workers as a table (`:workers`, `microspark status`); `fullIds` adds each whole node id.
 * Health is `live` or how long the client has suspected the worker; "last heard" is informative only
 * (healthy SWIM members are pinged, not heard from, most seconds).
 */
export function workersTable(ws: readonly WorkerStatus[], fullIds = false): string {
  return columns(
    [
      'worker',
      ...(fullIds ? ['node'] : []),
      'host',
      'busy/slots',
      'blocks',
      'memory',
      'health',
      'last heard',
    ],
    ws.map((w) => [
      shortId(w.node),
      ...(fullIds ? [w.node] : []),
      hostPort(w.endpoint),
      `${w.slots - w.free}/${w.slots}`,
      String(w.blocks),
      formatBytes(w.memoryBytes),
      w.suspectMs === undefined ? 'live' : `suspect ${(w.suspectMs / 1000).toFixed(1)} s`,
      `${(w.lastSeenMs / 1000).toFixed(1)} s ago`,
    ]),
  );
}

function workers(ctx: CommandContext): CommandResult {
  const cluster = ctx.sc.cluster;
  if (!cluster) return ok('in-process context: no workers (tasks run in this process)');
  const ws = cluster.workerStatus();
  if (ws.length === 0) return ok('no live workers');
  return ok(workersTable(ws));
}

function jobs(ctx: CommandContext): CommandResult {
  const lines: string[] = [];
  const a = ctx.state.action;
  if (a) {
    lines.push(`running: ${a.name}`);
    for (const st of a.stages) {
      lines.push(
        `  stage ${st.stageId} (${st.kind}) ${st.name}: ${st.done}/${st.tasks} done, ${st.running.size} running, ` +
          `${pending(st)} pending, ${st.retried} retried — ${st.state}`,
      );
    }
  } else lines.push('no action running');
  if (ctx.state.history.length > 0) {
    lines.push('', 'finished:');
    lines.push(
      columns(
        ['#', 'action', 'state', 'time', 'stages', 'tasks', 'retried'],
        ctx.state.history.map((h) => [
          String(h.actionId),
          h.name,
          h.state,
          formatDuration(h.ms),
          String(h.stages),
          String(h.tasks),
          String(h.retried),
        ]),
      ),
    );
  }
  return ok(lines.join('\n'));
}

function cache(ctx: CommandContext): CommandResult {
  const rdds = [...ctx.sc.getPersistentRDDs().values()];
  if (rdds.length === 0) return ok('no persisted RDDs (mark one with .cache() or .persist(level))');
  const rows = rdds.map((r) => {
    const where = ctx.sc.cacheLocations(r);
    const byHolder = new Map<string, number[]>();
    for (const [p, h] of where) byHolder.set(h, [...(byHolder.get(h) ?? []), p]);
    const holders = [...byHolder]
      .map(([h, ps]) => `${hostPort(h)}: ${ps.sort((x, y) => x - y).join(',')}`)
      .join('; ');
    const info = ctx.sc.storageInfo(r);
    return [
      `${r.name() ?? r.constructor.name}[${r.id}]`,
      String(r.getStorageLevel()),
      `${where.size}/${r.getNumPartitions()}`,
      info ? formatBytes(info.bytes) : '0 B',
      holders || '(not computed yet)',
    ];
  });
  return ok(columns(['rdd', 'level', 'cached', 'size', 'partitions by holder'], rows));
}

/** Runs a command line (it starts with `:`). */
export async function runCommand(line: string, ctx: CommandContext): Promise<CommandResult> {
  const [name = '', ...rest] = line.trim().split(/\s+/);
  const arg = line.trim().slice(name.length).trim();
  switch (name) {
    case ':help':
      return ok(HELP);
    case ':quit':
    case ':exit':
      return { kind: 'quit' };
    case ':workers':
      return workers(ctx);
    case ':jobs':
      return jobs(ctx);
    case ':cache':
      return cache(ctx);
    case ':lineage': {
      if (arg === '') return err('usage: :lineage <expression giving an RDD>, e.g. :lineage counts');
      const v = await evaluate(arg);
      if (!(v instanceof RDD))
        return err(`:lineage needs an RDD; ${arg} is ${formatValue(v).split('\n')[0]}`);
      return ok(v.toDebugString());
    }
    case ':explain': {
      if (arg === '') return err('usage: :explain <expression giving a DataFrame>, e.g. :explain df');
      const v = await evaluate(arg);
      if (!(v instanceof DataFrame))
        return err(`:explain needs a DataFrame; ${arg} is ${formatValue(v).split('\n')[0]}`);
      return ok(v.engine.explain(v._plan, 'extended').trimEnd());
    }
    case ':load': {
      if (rest.length === 0) return err('usage: :load <file.ts|file.js>');
      let source: string;
      try {
        source = await readFile(arg, 'utf8');
      } catch (e) {
        return err(`cannot read ${arg}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      const v = await evaluate(source);
      return ok(`loaded ${arg}${v === undefined ? '' : `\n${formatValue(v)}`}`);
    }
    default:
      return err(`unknown command ${name}; :help lists them`);
  }
}
