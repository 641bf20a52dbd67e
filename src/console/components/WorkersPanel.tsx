/** The live workers: short id, host, busy/total slots, stored blocks, memory, last heartbeat. */
import { Box, Text } from 'ink';
import type { WorkerStatus } from '../../client/cluster-backend.js';
import { formatBytes } from '../format.js';
import { hostPort, shortId } from '../view-model.js';

function slotsCells(w: WorkerStatus): string {
  const busy = w.slots - w.free;
  return '■'.repeat(busy) + '□'.repeat(Math.max(0, w.free));
}

/** A heartbeat older than this is shown, in yellow (the default heartbeat is 1 s). */
export const STALE_MS = 2500;

/** One line per worker; `inProcess` says there are none to show. */
export function WorkersPanel({
  workers,
  inProcess,
}: {
  workers: readonly WorkerStatus[];
  inProcess?: boolean;
}) {
  if (inProcess) return <Text dimColor>workers: none (in-process context)</Text>;
  if (workers.length === 0)
    return <Text color="red">workers: none alive — actions will wait, then fail</Text>;
  return (
    <Box flexDirection="column">
      <Text dimColor>workers ({workers.length})</Text>
      {workers.map((w) => {
        const stale = w.lastSeenMs > STALE_MS;
        return (
          <Text key={w.node}>
            {'  '}
            <Text color="cyan">{shortId(w.node)}</Text> {hostPort(w.endpoint).padEnd(21)} {slotsCells(w)}{' '}
            {`${w.slots - w.free}/${w.slots} busy`.padEnd(9)} {`${w.blocks} blocks`.padEnd(11)}{' '}
            {formatBytes(w.memoryBytes).padEnd(10)}{' '}
            <Text color={stale ? 'yellow' : undefined} dimColor={!stale}>
              ♥ {stale ? `${(w.lastSeenMs / 1000).toFixed(1)} s ago` : 'live'}
            </Text>
          </Text>
        );
      })}
    </Box>
  );
}
