/** The prompt and the line being typed, with the cursor drawn as an inverse cell. */
import { Box, Text } from 'ink';
import type { EditorState } from '../line-editor.js';

/** `›` for a new input, `·` for the continuation of a multi-line one; dimmed while busy. */
export function InputLine({ editor, busy }: { editor: EditorState; busy: boolean }) {
  const { line, cursor } = editor;
  const prompt = editor.pending.length > 0 ? '·' : '›';
  return (
    <Box flexDirection="column">
      {editor.pending.map((l, i) => (
        <Text key={i}>
          <Text color="green">{i === 0 ? '›' : '·'}</Text> {l}
        </Text>
      ))}
      <Text>
        <Text color={busy ? 'gray' : 'green'}>{busy ? '…' : prompt}</Text> {line.slice(0, cursor)}
        <Text inverse>{line[cursor] ?? ' '}</Text>
        {line.slice(cursor + 1)}
      </Text>
    </Box>
  );
}
