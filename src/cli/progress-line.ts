/**
 * Progress of a script's actions on stderr, for `microspark run` and the demo: one line redrawn
 * in place on a terminal, plain lines (stage submitted and finished) when stderr is a pipe or file.
 */
import type { MicroSpark } from '../client/context.js';
import { formatDuration } from '../console/format.js';
import { initialState, pending, reduce, type ConsoleState } from '../console/view-model.js';

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
    const st = a.stages.at(-1);
    const width = Math.max(20, (out.columns || 100) - 1);
    const detail = st
      ? `stage ${st.stageId} ${st.name}: ${st.done}/${st.tasks} done, ${st.running.size} running, ${pending(st)} pending` +
        (st.retried > 0 ? `, ${st.retried} retried` : '')
      : 'starting';
    const text = `[${formatDuration(Date.now() - a.startedAt)}] ${a.name} — ${detail}`;
    out.write(`\r\x1b[2K${text.slice(0, width)}`);
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
