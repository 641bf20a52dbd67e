/**
 * The console's input line as a pure state machine: typing, cursor moves, deleting, history
 * (↑/↓), and the lines already entered of a multi-line input.
 */

/** The input being edited. */
export interface EditorState {
  /** Lines of a multi-line input already entered (the input was incomplete). */
  readonly pending: readonly string[];
  readonly line: string;
  readonly cursor: number;
  /** Position in the history while walking it with ↑/↓ (history.length: not walking). */
  readonly historyIndex: number;
  /** The line typed before walking the history, restored by ↓ at the end. */
  readonly draft: string;
}

/** A key, as ink's useInput reports it (only the fields used here). */
export interface EditorKey {
  readonly leftArrow?: boolean;
  readonly rightArrow?: boolean;
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly home?: boolean;
  readonly end?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
}

/** An empty editor positioned after `historyLength` entries. */
export function emptyEditor(historyLength: number): EditorState {
  return { pending: [], line: '', cursor: 0, historyIndex: historyLength, draft: '' };
}

/** Inserts text at the cursor. */
export function insert(s: EditorState, text: string): EditorState {
  return {
    ...s,
    line: s.line.slice(0, s.cursor) + text + s.line.slice(s.cursor),
    cursor: s.cursor + text.length,
  };
}

/** Applies an editing key; returns the state unchanged for keys it does not handle. */
export function edit(s: EditorState, input: string, key: EditorKey, history: readonly string[]): EditorState {
  if (key.leftArrow || (key.ctrl && input === 'b')) return { ...s, cursor: Math.max(0, s.cursor - 1) };
  if (key.rightArrow || (key.ctrl && input === 'f'))
    return { ...s, cursor: Math.min(s.line.length, s.cursor + 1) };
  if (key.home || (key.ctrl && input === 'a')) return { ...s, cursor: 0 };
  if (key.end || (key.ctrl && input === 'e')) return { ...s, cursor: s.line.length };
  if (key.ctrl && input === 'u') return { ...s, line: s.line.slice(s.cursor), cursor: 0 };
  if (key.ctrl && input === 'k') return { ...s, line: s.line.slice(0, s.cursor) };
  if (key.ctrl && input === 'w') {
    const head = s.line.slice(0, s.cursor).replace(/[\w$]*\s*$/, '');
    return { ...s, line: head + s.line.slice(s.cursor), cursor: head.length };
  }
  // Terminals send DEL (0x7f) for Backspace, which ink reports as `delete`: both erase backwards.
  if (key.backspace || key.delete) {
    if (s.cursor === 0) return s;
    return { ...s, line: s.line.slice(0, s.cursor - 1) + s.line.slice(s.cursor), cursor: s.cursor - 1 };
  }
  if (key.upArrow) {
    if (s.historyIndex === 0 || history.length === 0) return s;
    const i = Math.min(s.historyIndex, history.length) - 1;
    const draft = s.historyIndex >= history.length ? s.line : s.draft;
    const line = history[i]!;
    return { ...s, line, cursor: line.length, historyIndex: i, draft };
  }
  if (key.downArrow) {
    if (s.historyIndex >= history.length) return s;
    const i = s.historyIndex + 1;
    const line = i >= history.length ? s.draft : history[i]!;
    return { ...s, line, cursor: line.length, historyIndex: i };
  }
  if (key.ctrl || key.meta || input === '') return s;
  // Printable text (also pasted text without newlines).
  return insert(s, input.replace(/\t/g, '  '));
}

/** The whole input: pending lines and the current one. */
export function fullInput(s: EditorState): string {
  return [...s.pending, s.line].join('\n');
}
