/** Draws lines of the live region, each on one row (cut, never wrapped; see live-region.ts). */
import { Box, Text } from 'ink';
import type { LiveLine } from '../live-region.js';

/** One row per line; a line is already cut to the terminal's width. */
export function LiveLines({ lines }: { lines: readonly LiveLine[] }) {
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.map((s, j) => (
            <Text key={j} color={s.color} dimColor={s.dim} bold={s.bold} inverse={s.inverse}>
              {s.text}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
