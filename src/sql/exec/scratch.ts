/**
 * Scratch paths for the files SQL hands to DuckDB (a task's input batches, its output, the
 * client's result batches): names directly in the scratch directory, unique in the process, each
 * removed by whoever made it once done. No directory per task: on a filesystem mounted with
 * `discard` (as this machine's ext4) each `rmdir` takes milliseconds, where an unlink does not.
 *
 * The scratch directory is a memory filesystem where there is a roomy one (`/dev/shm` with at
 * least {@link MIN_MEMORY_SCRATCH_BYTES} free): an exchange's output is a directory per reduce
 * partition (DuckDB's `PARTITION_BY`), and removing eight of them took 26–33 ms per task on this
 * machine's disk, under 2 ms in `/dev/shm`. Scratch files live for one statement and are read
 * into memory at once, so they cost no lasting memory. Elsewhere it is the temp directory.
 */
import { accessSync, constants, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** The free space a memory filesystem needs to hold scratch files (a container's 64 MiB /dev/shm does not). */
export const MIN_MEMORY_SCRATCH_BYTES = 2 * 1024 ** 3;

/**
 * The directory for scratch files: `memoryDir` when it is a writable directory with at least
 * {@link MIN_MEMORY_SCRATCH_BYTES} free, else `fallback`.
 */
export function chooseScratchDir(memoryDir = '/dev/shm', fallback = tmpdir()): string {
  try {
    accessSync(memoryDir, constants.W_OK);
    const fs = statfsSync(memoryDir);
    if (fs.bavail * fs.bsize >= MIN_MEMORY_SCRATCH_BYTES) return memoryDir;
  } catch {
    // no such directory, or not writable: the temp directory
  }
  return fallback;
}

/** Where this process puts scratch files (chosen once, at first use). */
let dir: string | undefined;

/** The scratch directory of this process (see {@link chooseScratchDir}). */
export function scratchDir(): string {
  return (dir ??= chooseScratchDir());
}

let seq = 0;

/**
 * A new path for a scratch file or directory named `name`: in the scratch directory, unique in
 * the process (its pid, this thread's id and a counter). The caller removes what it creates there.
 */
export function scratchPath(name: string): string {
  return join(scratchDir(), `microspark-sql-${process.pid}-${threadId}-${++seq}-${name}`);
}

/** Whether process `pid` exists (signal 0 tests it; EPERM: it exists, as another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the scratch files and directories that processes no longer running left in `dir` (a
 * task killed with its daemon never removes its own): names `microspark-sql-<pid>-…` whose pid
 * is gone. Returns how many entries it removed; one it cannot remove is left, silently.
 */
export function sweepScratch(
  dir: string = scratchDir(),
  isAlive: (pid: number) => boolean = pidAlive,
): number {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of entries) {
    const m = /^microspark-sql-(\d+)-/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed++;
    } catch {
      // another process's file we may not remove: left alone
    }
  }
  return removed;
}
