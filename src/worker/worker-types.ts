/**
 * The types a worker is built from and reports with: its options (built by the daemon from its
 * validated config, or by the simulation), what runs its tasks, where it logs, and its counters.
 * No behaviour; worker.ts and the pieces it wires import them from here.
 */
import type { CurveKeys } from '../partition-server/curve.js';
import type { Transport } from '../partition-server/transport.js';
import type { Clock } from '../core/clock.js';
import type { PoolServices, RunOptions, TaskOutcome, WasmPoolStats } from './task-pool.js';

/** What runs a worker's tasks: a {@link TaskPool} of threads, or (simulation, tests) this thread. */
export interface TaskExecutor {
  /** Runs one encoded TaskDesc; never rejects. */
  run(task: Uint8Array, services: PoolServices, opts?: RunOptions): Promise<TaskOutcome>;
  prestart(): void;
  close(): Promise<void>;
  /** Drops WebAssembly modules by broadcast id (compiled modules and instances), where it keeps any. */
  forgetWasm?(ids: readonly string[]): void;
  /** What it did with WebAssembly modules, where it counts that (a TaskPool does). */
  readonly wasmStats?: WasmPoolStats;
  /** How many CPU-bound tasks may run at once, where it limits that (a TaskPool does). */
  setCpus?(cpus: number): void;
}

/** Log levels of {@link WorkerLog}, most severe first. */
export type WorkerLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where a worker logs (the daemon writes JSON lines on stderr); must not throw. */
export type WorkerLog = (level: WorkerLogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Everything a worker needs to run (the daemon builds it from its validated config). */
export interface WorkerOptions {
  readonly slots: number;
  /**
   * JavaScript (RDD) tasks that run at once, from 1 to `slots`; SQL stages' tasks may take the
   * other slots (see TaskPoolOptions.cpus). Default: the machine's CPUs shared among the live
   * workers on this host ({@link sharedCpus}), followed as workers join and leave.
   */
  readonly cpus?: number;
  readonly host: string;
  readonly port: number;
  readonly cluster: string;
  /** Partition server endpoints to HELLO at start (static peers). */
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly memoryBytes: number;
  /**
   * Shuffle bytes a task may have requested from peers and not yet received (Spark's
   * `spark.reducer.maxSizeInFlight`; default REDUCER_MAX_BYTES_IN_FLIGHT; checked at start).
   */
  readonly maxBytesInFlight?: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** How long a job preferring another live worker is left to it (default LOCALITY_WAIT_MS; 0: never). */
  readonly localityWaitMs?: number;
  /** How liveness is decided (PeerNodeOptions.membership; default `swim`). */
  readonly membership?: 'mesh' | 'swim';
  readonly leaseRenewMs: number;
  readonly requestTimeoutMs: number;
  readonly taskTimeoutMs?: number;
  /** Heap limit (old generation, MiB) of each task thread; a task exceeding it fails with TaskOutOfMemoryError. */
  readonly taskHeapMb?: number;
  /** Lease of the map jobs this worker posts (default: ten heartbeats, at most LEASE_TTL_MS). */
  readonly leaseTtlMs?: number;
  /** User-code failures of a map job this worker posts before it fails its action (default 4). */
  readonly maxTaskFailures?: number;
  /** Map-output losses a parked task recovers from before it fails (default 4). */
  readonly maxStageAttempts?: number;
  /** Cluster CURVE keys (from the secret); required to bind anything but loopback. */
  readonly curve?: CurveKeys;
  /**
   * Where to log membership, claims, leases, completions, retries, fetch failures and
   * recomputations; attached before the static peers are met, so their joins are logged too.
   */
  readonly log?: WorkerLog;
  /** The network (default: ZeroMQ). */
  readonly transport?: Transport;
  /** Time for every timer of the worker (default: the system clock). */
  readonly clock?: Clock;
  /** Node id and incarnation (default: random, now). */
  readonly id?: { readonly node: string; readonly incarnation: number };
  /** What runs tasks (default: a TaskPool of `slots` threads). */
  readonly executor?: TaskExecutor;
}

/** Counters, for tests, logs and the console. */
export interface WorkerCounters {
  claimsTried: number;
  claimsGranted: number;
  tasksSucceeded: number;
  tasksFailed: number;
  completionsRefused: number;
  fetchFailures: number;
  clientsDropped: number;
  /** Tasks parked (slot released) while map outputs they need were computed. */
  tasksParked: number;
  /**
   * Parked tasks given up: their lease renewal was refused (re-posted elsewhere, or their action
   * ended), or their client's record no longer lists any shuffle they belong to (their action ended).
   */
  parkedTasksGivenUp: number;
  /** Map jobs this worker posted; of them, recomputations of outputs that had been lost. */
  mapJobsPosted: number;
  mapOutputsRecomputed: number;
  /** Leases handed back to their source because this worker stopped. */
  leasesReleased: number;
  /** Claims a source refused because it did not count this worker as a member. */
  claimsRefusedNotMember: number;
  /** Shuffles whose outputs were dropped because their client's record no longer listed them. */
  shufflesReleasedByRecord: number;
  /** Shuffle buckets read: from this worker's store, fetched from peers, skipped as empty. */
  bucketsReadLocal: number;
  bucketsFetched: number;
  bucketsSkippedEmpty: number;
  /** `fetch` requests sent for shuffle buckets (a bucket above a chunk takes several). */
  bucketFetchRequests: number;
}
