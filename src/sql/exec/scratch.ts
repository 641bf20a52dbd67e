/**
 * Scratch paths for the files SQL hands to DuckDB (a task's input batches, its output, the
 * client's result batches): names directly in the temp directory, unique in the process, each
 * removed by whoever made it once done. No directory per task: on a filesystem mounted with
 * `discard` (as this machine's ext4) each `rmdir` takes milliseconds, where an unlink does not.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

let seq = 0;

/**
 * A new path for a scratch file or directory named `name`: in the temp directory, unique in the
 * process (its pid, this thread's id and a counter). The caller removes what it creates there.
 */
export function scratchPath(name: string): string {
  return join(tmpdir(), `microspark-sql-${process.pid}-${threadId}-${++seq}-${name}`);
}
