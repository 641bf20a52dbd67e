/**
 * Spawns worker daemons on 127.0.0.1 for `MicroSpark.local()` and stops them. Each daemon gets the
 * client's partition server as its static peer, and exits by itself when the client process dies
 * (its standard input, a pipe from this process, closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { NoWorkersError } from '../protocol/errors.js';

/** How to start the worker daemon from here: the built file, or the source through tsx. */
export function workerEntry(): { command: string; args: string[] } {
  const built = fileURLToPath(new URL('../../bin/microspark-worker.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(built))
    return { command: process.execPath, args: [built] };
  const source = fileURLToPath(new URL('../../bin/microspark-worker.ts', import.meta.url));
  return { command: process.execPath, args: ['--import', 'tsx', source] };
}

/** A spawned daemon. */
export interface LocalWorker {
  readonly child: ChildProcess;
  readonly rpc: string;
  readonly node: string;
}

/** Options for spawning. */
export interface SpawnOptions {
  /** The client's partition server, given to the daemon as its static peer (none: it waits to be found). */
  readonly clientRpc?: string;
  readonly cluster: string;
  readonly slots: number;
  /** Of those, JavaScript tasks run at once (`--cpus`); default: the daemon's (its host's CPUs shared among the live workers there). */
  readonly cpus?: number;
  /** The daemon's block store memory before it spills to disk (`--memory`); default: the daemon's. */
  readonly memoryBytes?: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** The daemon's `--locality-wait-ms`; default: the daemon's. */
  readonly localityWaitMs?: number;
  readonly readyTimeoutMs: number;
  readonly logLevel?: string;
  /** The cluster secret, passed through the environment (never on the command line). */
  readonly secret?: string;
  /**
   * Whether what the daemon itself prints on stdout after its ready line is written to this
   * process's stderr as `[worker <id>] line` (default true). Tasks' console output does not come
   * this way: it is captured in the task and sent to its client (`task.log`).
   */
  readonly forwardOutput?: boolean;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort: the stdin pipe closing also stops the daemons if this process crashes.
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Spawns one daemon and resolves when it prints its ready line. */
export function spawnWorker(options: SpawnOptions): Promise<LocalWorker> {
  installExitHook();
  const entry = workerEntry();
  const peers = options.clientRpc ? ['--peers', options.clientRpc.replace(/^tcp:\/\//, '')] : [];
  const child = spawn(
    entry.command,
    [
      ...entry.args,
      ...peers,
      '--cluster',
      options.cluster,
      '--slots',
      String(options.slots),
      ...(options.cpus === undefined ? [] : ['--cpus', String(options.cpus)]),
      ...(options.memoryBytes === undefined ? [] : ['--memory', String(options.memoryBytes)]),
      '--heartbeat-ms',
      String(options.heartbeatMs),
      '--dead-after-ms',
      String(options.deadAfterMs),
      ...(options.localityWaitMs === undefined ? [] : ['--locality-wait-ms', String(options.localityWaitMs)]),
      '--log-level',
      options.logLevel ?? 'warn',
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        MICROSPARK_EXIT_WITH_STDIN: '1',
        ...(options.secret !== undefined && { MICROSPARK_SECRET: options.secret }),
      },
    },
  );
  live.add(child);
  child.on('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new NoWorkersError(`a local worker did not start within ${options.readyTimeoutMs} ms`));
    }, options.readyTimeoutMs);
    const lines = createInterface({ input: child.stdout });
    let ready: string | undefined;
    lines.on('line', (line) => {
      // After the ready line, anything the daemon prints outside a task (task output is captured
      // and sent as task.log) goes to this process's stderr, marked with the worker.
      if (ready !== undefined) {
        if (options.forwardOutput !== false) process.stderr.write(`[worker ${ready}] ${line}\n`);
        return;
      }
      try {
        const msg = JSON.parse(line) as { ready?: boolean; rpc?: string; node?: string };
        if (msg.ready && msg.rpc && msg.node) {
          ready = msg.node.slice(0, 6);
          clearTimeout(timer);
          resolve({ child, rpc: msg.rpc, node: msg.node });
        }
      } catch {
        // not the ready line
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new NoWorkersError(`a local worker exited before it was ready (code ${code}, signal ${signal})`),
      );
    });
  });
}

/** Stops daemons: SIGTERM, then SIGKILL after `graceMs`. Resolves when all have exited. */
export async function stopWorkers(workers: readonly LocalWorker[], graceMs = 5000): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
          const t = setTimeout(() => w.child.kill('SIGKILL'), graceMs);
          w.child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          w.child.kill('SIGTERM');
        }),
    ),
  );
}
