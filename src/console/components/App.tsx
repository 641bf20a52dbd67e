/**
 * The console's screen: the log scrolls above; below it the input line, the running action's
 * stage bars and the workers panel stay live. Keys: Enter runs (or continues an unfinished
 * input), Tab completes, ↑/↓ history, Ctrl-C cancels the running action, Ctrl-D quits.
 */
import { Box, useApp, useInput } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { commonPrefix, complete } from '../completion.js';
import { check, IncompleteInputError } from '../evaluate.js';
import { edit, emptyEditor, fullInput, insert, type EditorState } from '../line-editor.js';
import type { ConsoleSession } from '../session.js';
import { InputLine } from './InputLine.js';
import { LogView } from './LogView.js';
import { StageBars } from './StageBars.js';
import { WorkersPanel } from './WorkersPanel.js';

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
  const running = state.action !== undefined || session.busy;

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
      const c = complete(editor.line, editor.cursor);
      if (c.candidates.length === 0) return;
      const typed = editor.line.slice(c.start, editor.cursor);
      const prefix = c.candidates.length === 1 ? c.candidates[0]! : commonPrefix(c.candidates);
      if (prefix.length > typed.length) setEditor(insert(editor, prefix.slice(typed.length)));
      else {
        const shown = c.candidates.slice(0, 40).join('  ');
        const more = c.candidates.length > 40 ? `  … ${c.candidates.length - 40} more` : '';
        session.dispatch({ type: 'log', tone: 'info', text: shown + more });
      }
      return;
    }
    if (key.return) {
      setEditor(onReturn(editor));
      return;
    }
    // Pasted text with newlines: each line is entered in turn.
    if (/[\r\n]/.test(input) && input.length > 1) {
      let s = editor;
      const parts = input.split(/\r\n|\r|\n/);
      parts.forEach((part, i) => {
        s = insert(s, part);
        if (i < parts.length - 1) s = onReturn(s);
      });
      setEditor(s);
      return;
    }
    setEditor(edit(editor, input, key, session.history));
  });

  return (
    <Box flexDirection="column">
      <LogView lines={state.log} />
      <InputLine editor={editor} busy={session.busy} />
      <StageBars action={state.action} now={now} />
      <WorkersPanel workers={state.workers} inProcess={session.sc.cluster === undefined} />
    </Box>
  );
}
