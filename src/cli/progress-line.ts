/**
 * Progress of a script's actions on stderr, for `microspark run` and the demo: one line redrawn
 * in place on a terminal (every active stage, as spark-shell draws them), plain lines (stage
 * submitted and finished) when stderr is a pipe or file.
 */
import type { MicroSpark } from '../client/context.js';
import { formatDuration } from '../console/format.js';
import {
  activeStages,
  initialState,
  reduce,
  taskCounts,
  type ActionView,
  type ConsoleState,
} from '../console/view-model.js';

/**
 * The progress line of an action, like spark-shell's: every active stage as
 * `[Stage 0:====>     (3 + 4) / 8]` (done + running, of all; tasks parked behind a map stage
 * are not running), after the elapsed time and the action's name; at most `width` characters.
 */
export function progressText(a: ActionView, now: number, width: number): string {
  const head = `[${formatDuration(Math.max(0, now - a.startedAt))}] ${a.name} `;
  const stages = activeStages(a);
  if (stages.length === 0) return `${head}starting`.slice(0, width);
  const each = Math.floor((width - head.length) / stages.length);
  const parts = stages.map((st) => {
    const c = taskCounts(st, a);
    const label = `Stage ${st.stageId}:`;
    const counts = `(${c.done} + ${c.running}) / ${st.tasks}`;
    const room = each - label.length - counts.length - 2;
    if (room < 3) return `[${label} ${counts}]`;
    const done = st.tasks === 0 ? room : Math.min(room - 1, Math.floor((c.done / st.tasks) * room));
    const bar = '='.repeat(done) + '>' + ' '.repeat(room - done - 1);
    return `[${label}${bar}${counts}]`;
  });
  return (head + parts.join('')).slice(0, width);
}

/** Subscribes to `sc`'s progress and draws it on `out`; returns the function that stops drawing. */
export function showProgress(sc: MicroSpark, out: NodeJS.WriteStream = process.stderr): () => void {
  let state: ConsoleState = initialState;
  const tty = out.isTTY === true;
  let drawn = false;
  const clear = () => {
    if (tty && drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = () => {
    const a = state.action;
    if (!tty || !a) return;
    const width = Math.max(20, (out.columns || 100) - 1);
    out.write(`\r\x1b[2K${progressText(a, Date.now(), width)}`);
    drawn = true;
  };
  const timer = tty ? setInterval(draw, 250) : undefined;
  timer?.unref();
  const stop = sc.onProgress((event) => {
    const before = state;
    state = reduce(state, { type: 'progress', event, now: Date.now() });
    if (tty) {
      if (event.type === 'action' && event.state !== 'started') clear();
      else draw();
    } else if (event.type === 'stage' && event.state !== 'submitted') {
      const st = before.action?.stages.find((s) => s.stageId === event.stageId);
      const ms = st ? Date.now() - st.startedAt : 0;
      out.write(
        `stage ${event.stageId} ${event.name}: ${event.tasks} tasks ${event.state} in ${formatDuration(ms)}\n`,
      );
    } else if (event.type === 'stage') {
      out.write(`stage ${event.stageId} ${event.name}: ${event.tasks} tasks submitted\n`);
    }
    // Log lines (retries, lost workers, failures) go above the progress line.
    for (const line of state.log) {
      if (line.id < before.nextLogId) continue;
      clear();
      out.write(`${line.text}\n`);
      draw();
    }
  });
  return () => {
    stop();
    if (timer) clearInterval(timer);
    clear();
  };
}
