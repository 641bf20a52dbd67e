/** Progress bars of the running action: one per stage, with done/running/pending/retried counts. */
import { Box, Text } from 'ink';
import { formatDuration } from '../format.js';
import { pending, type ActionView, type StageView } from '../view-model.js';

/** Width of a bar in cells. */
export const BAR_WIDTH = 24;

/** A bar: done cells full, running cells half, the rest empty. */
export function bar(st: StageView, width = BAR_WIDTH): string {
  if (st.tasks === 0) return '█'.repeat(width);
  const done = Math.round((st.done / st.tasks) * width);
  const running = Math.min(width - done, Math.round((st.running.size / st.tasks) * width));
  return '█'.repeat(done) + '▒'.repeat(running) + '░'.repeat(width - done - running);
}

function StageLine({ st, now }: { st: StageView; now: number }) {
  const color = st.state === 'failed' ? 'red' : st.state === 'completed' ? 'green' : 'cyan';
  return (
    <Box>
      <Text color={color}>{bar(st)}</Text>
      <Text>
        {' '}
        {st.done}/{st.tasks}
      </Text>
      <Text dimColor>
        {'  '}
        {st.running.size} running, {pending(st)} pending
      </Text>
      {st.retried > 0 ? <Text color="yellow">, {st.retried} retried</Text> : null}
      <Text>
        {'  '}stage {st.stageId}: {st.name}
      </Text>
      {st.state === 'running' ? (
        <Text dimColor> {formatDuration(Math.max(0, now - st.startedAt))}</Text>
      ) : null}
    </Box>
  );
}

/** The running action's stages, or nothing when no action runs. */
export function StageBars({ action, now }: { action: ActionView | undefined; now: number }) {
  if (!action) return null;
  return (
    <Box flexDirection="column">
      <Text bold>
        ▶ {action.name}{' '}
        <Text dimColor>({formatDuration(Math.max(0, now - action.startedAt))}, Ctrl-C cancels)</Text>
      </Text>
      {action.stages.map((st) => (
        <StageLine key={st.stageId} st={st} now={now} />
      ))}
    </Box>
  );
}
