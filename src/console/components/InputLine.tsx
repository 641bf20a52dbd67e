/** The prompt and the line being typed, with the cursor drawn as an inverse cell. */
import { inputLines } from '../live-region.js';
import type { EditorState } from '../line-editor.js';
import { LiveLines } from './LiveLines.js';

/** `›` for a new input, `·` for the continuation of a multi-line one, `…` while busy; fits `width`. */
export function InputLine({
  editor,
  busy,
  width = 120,
}: {
  editor: EditorState;
  busy: boolean;
  width?: number;
}) {
  return <LiveLines lines={inputLines(editor, busy, width)} />;
}
