/**
 * Waiting for a cluster to go quiet before a reference run, so that a plain script or DuckDB run
 * between two MicroSpark runs does not share the cores with the daemons' after-work (freeing
 * shuffle outputs, replacing task threads, their GC).
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in ms; 0 if it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Summed CPU ms of processes. */
export function cpuMsOfAll(pids: readonly number[]): number {
  return pids.reduce((t, p) => t + cpuMsOf(p), 0);
}

/**
 * Resolves once `pids` together used at most `maxCpuMs` of CPU in a `windowMs` window (or after
 * `timeoutMs`, saying so on the console).
 */
export async function settle(
  pids: readonly number[],
  { windowMs = 300, maxCpuMs = 15, timeoutMs = 15_000 } = {},
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let before = cpuMsOfAll(pids);
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = cpuMsOfAll(pids);
    if (now - before <= maxCpuMs) return;
    before = now;
  }
  console.log(`  (the cluster did not go quiet within ${timeoutMs / 1000} s)`);
}

/** Busy and total CPU ticks of the whole machine (/proc/stat's first line). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/**
 * Resolves once the whole machine was at least `idleShare` idle over a `windowMs` window (or
 * after `timeoutMs`, saying so): what an earlier workload left behind (C1's 32 daemons exiting)
 * must not fall on the next one's timings.
 */
export async function quietMachine({
  windowMs = 500,
  idleShare = 0.9,
  timeoutMs = 60_000,
} = {}): Promise<void> {
  const end = Date.now() + timeoutMs;
  let before = machineTicks();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = machineTicks();
    const total = now.total - before.total;
    if (total > 0 && (now.busy - before.busy) / total <= 1 - idleShare) return;
    before = now;
  }
  console.log(`  (the machine did not go quiet within ${timeoutMs / 1000} s)`);
}
