/**
 * The console's live region (input line, stage bars, workers) as plain lines of styled segments,
 * each cut to fit the terminal: a live line that wrapped would be redrawn one row short and leave
 * its first row behind, so no line is ever wider than the terminal minus one column, and the
 * region is never taller than the terminal.
 */
import type { WorkerStatus } from '../client/cluster-backend.js';
import { formatDuration, formatBytes } from './format.js';
import type { EditorState } from './line-editor.js';
import { hostPort, shortId, taskCounts, type ActionView, type StageView } from './view-model.js';

/** A run of text with one style. */
export interface Segment {
  readonly text: string;
  readonly color?: string;
  readonly dim?: boolean;
  readonly bold?: boolean;
  readonly inverse?: boolean;
}

/** One row of the live region. */
export type LiveLine = readonly Segment[];

/** Width of a stage bar in cells on a wide terminal. */
export const BAR_WIDTH = 24;

/** Stage rows shown at most (the others are counted on one row). */
export const MAX_STAGE_ROWS = 6;

/** Visible width of a line (every character here is one cell). */
export function lineWidth(line: LiveLine): number {
  return line.reduce((n, s) => n + [...s.text].length, 0);
}

/** The plain text of a line. */
export function lineText(line: LiveLine): string {
  return line.map((s) => s.text).join('');
}

/** Cuts a line to `width` cells, ending it with `…` when something was cut. */
export function fit(line: LiveLine, width: number): LiveLine {
  if (lineWidth(line) <= width) return line;
  const out: Segment[] = [];
  let left = Math.max(0, width - 1);
  for (const s of line) {
    if (left <= 0) break;
    const chars = [...s.text];
    out.push({ ...s, text: chars.slice(0, left).join('') });
    left -= Math.min(left, chars.length);
  }
  if (width > 0) out.push({ text: '…', dim: true });
  return out;
}

/** A stage bar of `width` cells: done cells full, running cells half, the rest empty. */
export function bar(st: StageView, width: number, running = st.running.size): string {
  if (st.tasks === 0) return '█'.repeat(width);
  const done = Math.round((st.done / st.tasks) * width);
  const run = Math.min(width - done, Math.round((running / st.tasks) * width));
  return '█'.repeat(done) + '▒'.repeat(run) + '░'.repeat(width - done - run);
}

/** The bar width for a line `width` cells wide: 24 cells from 88 cells, 16 at 80, at least 8. */
export function barWidth(width: number): number {
  return Math.max(8, Math.min(BAR_WIDTH, width - 64));
}

function stageLine(st: StageView, action: ActionView, now: number, width: number): LiveLine {
  const color = st.state === 'failed' ? 'red' : st.state === 'completed' ? 'green' : 'cyan';
  const c = taskCounts(st, action);
  const line: Segment[] = [
    { text: bar(st, barWidth(width), c.running), color },
    { text: ` ${c.done}/${st.tasks}` },
    { text: `  ${c.running} running, ${c.waiting} waiting`, dim: true },
  ];
  if (st.retried > 0) line.push({ text: `, ${st.retried} retried`, color: 'yellow' });
  if (st.state === 'running') line.push({ text: ` ${formatDuration(Math.max(0, now - st.startedAt))}`, dim: true }); // prettier-ignore
  line.push({ text: `  stage ${st.stageId}: ${st.name}` });
  return fit(line, width);
}

/** The running action's header and a row per stage (or nothing when no action runs). */
export function stageLines(
  action: ActionView | undefined,
  now: number,
  width: number,
  maxRows = MAX_STAGE_ROWS,
): LiveLine[] {
  if (!action) return [];
  const header = fit(
    [
      { text: `▶ ${action.name} `, bold: true },
      { text: `(${formatDuration(Math.max(0, now - action.startedAt))}, Ctrl-C cancels)`, dim: true },
    ],
    width,
  );
  const rows = Math.max(1, maxRows);
  const stages = action.stages;
  // Too many stages: the finished ones go first, then the oldest running ones, counted on a row.
  const shown =
    stages.length <= rows
      ? stages
      : [...stages.filter((s) => s.state === 'running'), ...stages.filter((s) => s.state !== 'running')]
          .slice(0, rows - 1)
          .sort((a, b) => a.stageId - b.stageId);
  const lines = [header, ...shown.map((st) => stageLine(st, action, now, width))];
  if (shown.length < stages.length)
    lines.push(fit([{ text: `  … ${stages.length - shown.length} more stages`, dim: true }], width));
  return lines;
}

/**
 * Kept for importers: the panel no longer reads heartbeat age (SWIM peers are silent while
 * healthy); a worker is flagged when the client suspects it ({@link WorkerStatus.suspectMs}).
 */
export const STALE_MS = 2500;

/** Slot cells drawn per worker at most. */
const MAX_SLOT_CELLS = 8;

function slotsCells(w: WorkerStatus): string {
  const busy = Math.max(0, w.slots - w.free);
  if (w.slots > MAX_SLOT_CELLS) {
    const b = Math.round((busy / w.slots) * MAX_SLOT_CELLS);
    return '■'.repeat(b) + '□'.repeat(MAX_SLOT_CELLS - b);
  }
  return '■'.repeat(busy) + '□'.repeat(Math.max(0, w.free));
}

/** The workers panel: a title and one row per worker, at most `maxRows` rows in all. */
export function workerLines(
  workers: readonly WorkerStatus[],
  inProcess: boolean,
  width: number,
  maxRows = Infinity,
): LiveLine[] {
  if (inProcess) return [fit([{ text: 'workers: none (in-process context)', dim: true }], width)];
  if (workers.length === 0)
    return [fit([{ text: 'workers: none alive — actions will wait, then fail', color: 'red' }], width)];
  const room = Math.max(1, maxRows - 1);
  const shown = workers.length <= room ? workers : workers.slice(0, Math.max(0, room - 1));
  const lines: LiveLine[] = [fit([{ text: `workers (${workers.length})`, dim: true }], width)];
  for (const w of shown) {
    const suspect = w.suspectMs;
    lines.push(
      fit(
        [
          { text: '  ' },
          { text: shortId(w.node), color: 'cyan' },
          {
            text:
              ` ${hostPort(w.endpoint).padEnd(21)} ${slotsCells(w)} ` +
              `${`${w.slots - w.free}/${w.slots} busy`.padEnd(9)} ${`${w.blocks} blocks`.padEnd(11)} ` +
              `${formatBytes(w.memoryBytes).padEnd(10)} `,
          },
          suspect !== undefined
            ? { text: `? suspect ${(suspect / 1000).toFixed(1)} s`, color: 'yellow' }
            : { text: '♥ live', dim: true },
        ],
        width,
      ),
    );
  }
  if (shown.length < workers.length)
    lines.push(fit([{ text: `  … ${workers.length - shown.length} more workers (:workers)`, dim: true }], width)); // prettier-ignore
  return lines;
}

/** Lines of a multi-line input shown above the one being typed, at most. */
export const MAX_PENDING_ROWS = 5;

/**
 * The prompt and the line being typed, with the cursor as an inverse cell. A line wider than the
 * terminal scrolls sideways to keep the cursor in view, with `…` where it is cut.
 */
export function inputLines(editor: EditorState, busy: boolean, width: number): LiveLine[] {
  const lines: LiveLine[] = [];
  const pending = editor.pending;
  const from = Math.max(0, pending.length - MAX_PENDING_ROWS);
  if (from > 0) lines.push(fit([{ text: `· (${from} more lines above)`, dim: true }], width));
  pending.slice(from).forEach((l, i) => {
    lines.push(fit([{ text: i + from === 0 ? '›' : '·', color: 'green' }, { text: ` ${l}` }], width));
  });
  const prompt = busy ? '…' : pending.length > 0 ? '·' : '›';
  const chars = [...editor.line];
  const cursor = Math.min(editor.cursor, chars.length);
  // Cells for the text: the prompt and its space take 2.
  const room = Math.max(4, width - 2);
  let start = 0;
  if (chars.length + 1 > room) start = Math.max(0, Math.min(cursor - Math.floor(room * 0.75), chars.length + 1 - room)); // prettier-ignore
  const end = Math.min(chars.length, start + room - 1);
  const before = chars.slice(start, cursor);
  const atCursor = chars[cursor] ?? ' ';
  const after = chars.slice(cursor + 1, Math.max(cursor + 1, end));
  if (start > 0) before.splice(0, 1, '…');
  if (end < chars.length && after.length > 0) after.splice(after.length - 1, 1, '…');
  lines.push(
    fit(
      [
        { text: prompt, color: busy ? 'gray' : 'green' },
        { text: ` ${before.join('')}` },
        { text: atCursor, inverse: true },
        { text: after.join('') },
      ],
      width,
    ),
  );
  return lines;
}
