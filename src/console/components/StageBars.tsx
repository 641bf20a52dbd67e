/** Progress bars of the running action: one row per stage, with done/running/waiting/retried counts. */
import { stageLines } from '../live-region.js';
import type { ActionView } from '../view-model.js';
import { LiveLines } from './LiveLines.js';

export { bar, BAR_WIDTH } from '../live-region.js';

/** The running action's stages, or nothing when no action runs; every row fits `width` cells. */
export function StageBars({
  action,
  now,
  width = 120,
  maxRows,
}: {
  action: ActionView | undefined;
  now: number;
  width?: number;
  maxRows?: number;
}) {
  return <LiveLines lines={stageLines(action, now, width, maxRows)} />;
}
