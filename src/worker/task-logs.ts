/**
 * Sends what a task prints (console.* lines from its thread) to the client it works for, in
 * order, in batches of at most {@link LOG_LINES_PER_MESSAGE} lines, one request in flight at a
 * time. `flush` resolves when every line added so far was sent (or its request failed: logs are
 * best effort and never fail a task).
 */
import type { TaskLogLine } from '../rdd/task-console.js';

/** Most lines in one `task.log` message (its schema's limit). */
export const LOG_LINES_PER_MESSAGE = 1000;

/** A task's log lines on their way to its client. */
export class TaskLogSender {
  private pending: TaskLogLine[] = [];
  private sending: Promise<void> | undefined;

  /** @param send sends one batch (a `task.log` request); its failures are ignored. */
  constructor(private readonly send: (lines: TaskLogLine[]) => Promise<unknown>) {}

  /** Queues lines; sends them now if no batch is in flight, else with the next one. */
  add(lines: readonly TaskLogLine[]): void {
    for (const l of lines) this.pending.push(l);
    this.sending ??= this.loop();
  }

  /** Resolves once every line added so far has been sent (or failed to be). */
  flush(): Promise<void> {
    return this.sending ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, LOG_LINES_PER_MESSAGE);
      await this.send(batch).catch(() => undefined);
    }
    this.sending = undefined;
  }
}
