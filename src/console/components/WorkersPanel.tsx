/** The live workers: short id, host, busy/total slots, stored blocks, memory, last heartbeat. */
import type { WorkerStatus } from '../../client/cluster-backend.js';
import { workerLines } from '../live-region.js';
import { LiveLines } from './LiveLines.js';

export { STALE_MS } from '../live-region.js';

/** One row per worker (cut to `width` cells, at most `maxRows` rows); `inProcess`: there are none. */
export function WorkersPanel({
  workers,
  inProcess,
  width = 120,
  maxRows,
}: {
  workers: readonly WorkerStatus[];
  inProcess?: boolean;
  width?: number;
  maxRows?: number;
}) {
  return <LiveLines lines={workerLines(workers, inProcess === true, width, maxRows)} />;
}
