/**
 * Default timings and limits, in one place (docs/PROTOCOL.md, "Timeouts"). Every peer of a cluster
 * must agree on these unless configured otherwise; units are in the names.
 */

/**
 * How often a peer probes one member (SWIM: a `ping` to the next of its shuffled round-robin list)
 * and runs its membership timers; any message from a peer counts as hearing from it.
 */
export const HEARTBEAT_INTERVAL_MS = 1000;

/**
 * How long a worker leaves a job that prefers another live worker (the holder of what it reads)
 * before claiming it itself: Spark's `spark.locality.wait`, much shorter, since a worker cannot
 * see whether the preferred one is busy and a cached block's fetch is a round trip or two.
 */
export const LOCALITY_WAIT_MS = 20;

/**
 * A peer silent for about this long is dead: its leases are reposted and its blocks forgotten (5
 * heartbeats). With SWIM: probed, suspected, then dead after {@link swimTimings}' suspicion.
 */
export const PEER_DEAD_AFTER_MS = 5000;

/** How long a task lease lives without renewal before the job's source reposts the task. */
export const LEASE_TTL_MS = 10_000;

/** How often a worker renews the leases of its running tasks (well inside {@link LEASE_TTL_MS}). */
export const LEASE_RENEW_INTERVAL_MS = 3000;

/** How often a job's source re-announces its open jobs, so a dropped broadcast is only a delay. */
export const JOB_REANNOUNCE_INTERVAL_MS = 2000;

/**
 * A peer declared dead is HELLOed again (with backoff, up to 8 heartbeats apart) for this long: it
 * may only have been cut off or paused. Static peers are HELLOed again for good.
 */
export const LOST_PEER_RETRY_MS = 5 * 60_000;

/** An action with open jobs and no live worker rejects after this long. */
export const NO_WORKER_GRACE_MS = 10_000;

/** Workers drop a silent client's tasks and blocks after this long. */
export const CLIENT_GONE_AFTER_MS = 10_000;

/** A task whose user code fails this many times fails its action (Spark's `spark.task.maxFailures`). */
export const MAX_TASK_FAILURES = 4;

/** The smallest accepted `--memory`; smaller sizes are almost always a forgotten unit (`--memory 1`). */
export const MIN_MEMORY_BYTES = 1024 ** 2;
/** Memory a worker gives its block store before spilling to disk: 1 GiB. */
export const DEFAULT_MEMORY_BYTES = 1024 ** 3;

/** Largest chunk a partition server sends per `fetch` (blocks, slices, broadcasts, results). */
export const FETCH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Shuffle bytes a reducer may have requested from peers and not yet received, over every map
 * output it reads (Spark's `spark.reducer.maxSizeInFlight`): 48 MiB, twelve chunks.
 */
export const REDUCER_MAX_BYTES_IN_FLIGHT = 48 * 1024 * 1024;

/**
 * The timings every peer derives from its heartbeat interval, in one place (a cluster whose
 * peers share `heartbeatMs` agrees on all of them). Units are milliseconds.
 */
export interface DerivedTimings {
  /** How often a worker re-announces the map jobs it posted (at most JOB_REANNOUNCE_INTERVAL_MS). */
  readonly reannounceMs: number;
  /** The lease of a worker's map jobs (ten heartbeats, at most LEASE_TTL_MS). */
  readonly mapLeaseTtlMs: number;
  /** Timeout of HELLO and snapshot requests (two heartbeats, at least 2 s). */
  readonly membershipTimeoutMs: number;
  /** A job record just withdrawn: its output record is probably on its way for this long. */
  readonly withdrawnGraceMs: number;
  /** How long a parked task that is not its stage's poster waits for the poster's map jobs. */
  readonly posterGraceMs: number;
  /** A client's record may predate a shuffle first stored this recently (it is not dropped). */
  readonly shuffleReleaseGraceMs: number;
  /** The longest gap between two HELLOs to a lost peer. */
  readonly lostPeerMaxBackoffMs: number;
  /**
   * How long a peer remembers the newest version of a record it heard (sixty heartbeats): a stale
   * record or withdraw delayed by less than this is dropped (src/core/record-versions.ts).
   */
  readonly recordVersionRetainMs: number;
}

/** The {@link DerivedTimings} of a peer heartbeating every `heartbeatMs`. */
export function derivedTimings(heartbeatMs: number): DerivedTimings {
  return {
    reannounceMs: Math.min(JOB_REANNOUNCE_INTERVAL_MS, 2 * heartbeatMs),
    mapLeaseTtlMs: Math.min(LEASE_TTL_MS, 10 * heartbeatMs),
    membershipTimeoutMs: Math.max(2000, 2 * heartbeatMs),
    withdrawnGraceMs: 2 * heartbeatMs,
    posterGraceMs: 2 * heartbeatMs,
    shuffleReleaseGraceMs: 2 * heartbeatMs,
    lostPeerMaxBackoffMs: 8 * heartbeatMs,
    recordVersionRetainMs: 60 * heartbeatMs,
  };
}

/** SWIM's number of members asked to probe a peer that did not answer a direct ping. */
export const INDIRECT_PROBES = 3;

/** A client re-publishes its record (the shuffles it reads) every this many heartbeats, even unchanged. */
export const CLIENT_RECORD_REFRESH_HEARTBEATS = 5;

/** The SWIM timings of a peer probing every `heartbeatMs` that declares death after about `deadAfterMs`. */
export interface SwimTimings {
  /** How long a direct `ping` waits for its ack (half a heartbeat). */
  readonly probeTimeoutMs: number;
  /** How long a `ping-req` waits for the helper's answer (its own ping plus the way back: a heartbeat). */
  readonly indirectTimeoutMs: number;
  /**
   * How long a suspect has to be heard from before it is declared dead: `deadAfterMs` less the two
   * heartbeats a probe takes to find it, at least a heartbeat.
   */
  readonly suspicionMs: number;
}

/** The {@link SwimTimings} of a peer (see there). */
export function swimTimings(heartbeatMs: number, deadAfterMs: number): SwimTimings {
  return {
    probeTimeoutMs: Math.max(1, Math.floor(heartbeatMs / 2)),
    indirectTimeoutMs: heartbeatMs,
    suspicionMs: Math.max(heartbeatMs, deadAfterMs - 2 * heartbeatMs),
  };
}

/** How often a job's source checks for expired leases: a quarter of the lease, at most a second. */
export function leaseCheckMs(leaseTtlMs: number): number {
  return Math.min(leaseTtlMs / 4, 1000);
}
