/** The scrolling log above the live region: inputs, results, errors and cluster events. */
import { Static, Text } from 'ink';
import type { LogLine } from '../view-model.js';

const COLORS: Record<LogLine['tone'], string | undefined> = {
  info: 'gray',
  warn: 'yellow',
  error: 'red',
  result: undefined,
  input: 'white',
};

/** Lines are written once, in order (ink's Static), and scroll away with the terminal. */
export function LogView({ lines }: { lines: readonly LogLine[] }) {
  return (
    <Static items={[...lines]}>
      {(l) => (
        <Text key={l.id} color={COLORS[l.tone]} bold={l.tone === 'input'}>
          {l.text}
        </Text>
      )}
    </Static>
  );
}
