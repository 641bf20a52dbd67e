/**
 * Default timings and limits, in one place (docs/PROTOCOL.md, "Timeouts"). Every peer of a cluster
 * must agree on these unless configured otherwise; units are in the names.
 */

/** How often a peer publishes its heartbeat record; any traffic from a peer also counts as one. */
export const HEARTBEAT_INTERVAL_MS = 1000;

/** A peer silent for this long is dead: its leases are reposted and its blocks forgotten (5 heartbeats). */
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

/** Memory a worker gives its block store before spilling to disk: 1 GiB. */
export const DEFAULT_MEMORY_BYTES = 1024 ** 3;

/** Largest chunk a partition server sends per `fetch` (blocks, slices, broadcasts, results). */
export const FETCH_CHUNK_BYTES = 4 * 1024 * 1024;
