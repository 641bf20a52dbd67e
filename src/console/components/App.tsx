/**
 * The console's screen: the log scrolls above; below it the input line, the running action's
 * stage bars and the workers panel stay live. Keys: Enter runs (or continues an unfinished
 * input), Tab completes, ↑/↓ history, Ctrl-C cancels the running action, Ctrl-D quits.
 */
import { Box, useApp, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { commonPrefix, complete } from '../completion.js';
import { check, IncompleteInputError } from '../evaluate.js';
import { edit, emptyEditor, fullInput, insert, type EditorState } from '../line-editor.js';
import { inputLines, lineWidth, stageLines, workerLines, type LiveLine } from '../live-region.js';
import type { ConsoleSession } from '../session.js';
import { LiveLines } from './LiveLines.js';
import { LogView } from './LogView.js';

/** The terminal's size, updated when it is resized. */
export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/**
 * Rows the live region takes after the terminal narrowed to `columns`, in a terminal that reflows
 * (re-wraps) its lines on resize, as most do: a row wider than the new width now takes several.
 */
export function reflowedRows(widths: readonly number[], columns: number): number {
  return widths.reduce((n, w) => n + Math.max(1, Math.ceil(w / Math.max(1, columns))), 0);
}

/**
 * The escape sequence that erases the extra rows a reflow made of the live region, before ink
 * erases it by its own count of rows (`drawn`, plus the row the cursor is on). Nothing when the
 * rows still fit.
 */
export function eraseReflowed(widths: readonly number[], columns: number): string {
  const rows = reflowedRows(widths, columns);
  if (rows <= widths.length) return '';
  // From the row below the region: up to its first row, erase to the end of the screen, then
  // down to where ink's own erase of `widths.length + 1` rows starts, so it ends on that first row.
  return `\x1b[${rows}A\r\x1b[J\x1b[${widths.length}B`;
}

/** Whether Enter should run the input or wait for more lines. */
function isComplete(input: string): boolean {
  if (input.trimStart().startsWith(':')) return true;
  try {
    check(input);
    return true;
  } catch (e) {
    return !(e instanceof IncompleteInputError);
  }
}

/** The whole console, driven by a session. */
export function App({ session }: { session: ConsoleSession }) {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const [editor, setEditor] = useState<EditorState>(() => emptyEditor(session.history.length));
  const [now, setNow] = useState(() => Date.now());
  const { exit } = useApp();
  const { stdout } = useStdout();
  const sizeOf = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState<TerminalSize>(sizeOf);
  /** Widths of the live rows last drawn, for the resize below. */
  const drawn = useRef<number[]>([]);
  const running = state.action !== undefined || session.busy;

  useEffect(() => {
    let columns = stdout.columns || 80;
    const onResize = () => {
      const next = sizeOf();
      // Runs before ink's own handler (prepended), which erases as many rows as it drew.
      if (next.columns < columns) stdout.write(eraseReflowed(drawn.current, next.columns));
      columns = next.columns;
      setSize(next);
    };
    stdout.prependListener('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]); // sizeOf reads stdout only

  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [running]);

  const submit = (input: string) => {
    setEditor(emptyEditor(session.history.length + 1));
    void session.submit(input).then(() => setEditor(emptyEditor(session.history.length)));
  };

  const onReturn = (s: EditorState): EditorState => {
    const input = fullInput(s);
    if (input.trim() === '') return { ...s, pending: [], line: '', cursor: 0 };
    if (!isComplete(input)) return { ...s, pending: [...s.pending, s.line], line: '', cursor: 0 };
    submit(input);
    return emptyEditor(session.history.length + 1);
  };

  /** Tab: completes what is before the cursor, or lists the candidates. */
  const completeAt = (s: EditorState): EditorState => {
    const c = complete(s.line, s.cursor);
    if (c.candidates.length === 0) return s;
    const typed = s.line.slice(c.start, s.cursor);
    const prefix = c.candidates.length === 1 ? c.candidates[0]! : commonPrefix(c.candidates);
    if (prefix.length > typed.length) return insert(s, prefix.slice(typed.length));
    const shown = c.candidates.slice(0, 40).join('  ');
    const more = c.candidates.length > 40 ? `  … ${c.candidates.length - 40} more` : '';
    session.dispatch({ type: 'log', tone: 'info', text: shown + more });
    return s;
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c') {
      if (session.cancel()) {
        session.dispatch({ type: 'log', tone: 'warn', text: 'cancelling the running action…' });
      } else if (editor.line !== '' || editor.pending.length > 0) {
        setEditor(emptyEditor(session.history.length));
      } else {
        session.dispatch({ type: 'log', tone: 'info', text: '(to exit, press Ctrl-D or type :quit)' });
      }
      return;
    }
    if (key.ctrl && input === 'd') {
      if (editor.line === '' && editor.pending.length === 0 && !session.busy) {
        session.quit();
        exit();
      }
      return;
    }
    if (session.busy) return; // typing ahead while an input runs is not supported
    if (key.tab) {
      setEditor(completeAt(editor));
      return;
    }
    if (key.return) {
      setEditor(onReturn(editor));
      return;
    }
    // Text that arrived in one burst (typed fast, or pasted) with Tabs or newlines in it: each
    // piece in turn, a Tab completing and a newline entering the line, as if typed one by one.
    if (/[\t\r\n]/.test(input) && input.length > 1) {
      let s = editor;
      for (const piece of input.split(/(\t|\r\n|\r|\n)/)) {
        if (piece === '') continue;
        if (piece === '\t') s = completeAt(s);
        else if (/^[\r\n]+$/.test(piece)) s = onReturn(s);
        // eslint-disable-next-line no-control-regex -- other control keys in a burst are dropped
        else s = insert(s, piece.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''));
      }
      setEditor(s);
      return;
    }
    setEditor(edit(editor, input, key, session.history));
  });

  const lines = liveRegion(size, editor, session.busy, state, now, session.sc.cluster === undefined);
  drawn.current = lines.map(lineWidth);
  return (
    <Box flexDirection="column">
      <LogView lines={state.log} />
      <LiveLines lines={lines} />
    </Box>
  );
}

/**
 * The live region's rows for a terminal of `size`: each at most `columns - 1` cells (a row as
 * wide as the terminal wraps in some terminals), and fewer rows than the terminal has.
 */
export function liveRegion(
  size: TerminalSize,
  editor: EditorState,
  busy: boolean,
  state: ReturnType<ConsoleSession['getState']>,
  now: number,
  inProcess: boolean,
): LiveLine[] {
  const width = Math.max(10, size.columns - 1);
  const input = inputLines(editor, busy, width);
  // Rows left below the input: at least the action header, a stage and the workers title.
  const room = Math.max(3, size.rows - 2 - input.length);
  const stages = stageLines(state.action, now, width, Math.max(1, Math.min(6, room - 3)));
  const workers = workerLines(state.workers, inProcess, width, Math.max(1, room - stages.length));
  return [...input, ...stages, ...workers];
}
