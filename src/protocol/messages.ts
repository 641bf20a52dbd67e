/**
 * Every record and request two peers exchange, as one discriminated union each, validated after
 * decoding (zod). Records travel over pub-sub; requests and replies over a peer's partition
 * server (ROUTER). See docs/PROTOCOL.md for the state machines and timeouts.
 */
import { InvalidOperationError } from './errors.js';
import { z } from 'zod';

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes (a Uint8Array)');
const id = z.string().min(1).max(256);
const count = z.number().int().nonnegative();
const endpoint = z
  .string()
  .regex(/^(tcp|mem):\/\/[^\s]+:\d+$/, 'a tcp://host:port (or mem://host:port) endpoint');

/** Who a peer is: stable for its lifetime; a restarted peer has a new incarnation. */
export const PeerIdentity = z.object({
  node: id,
  incarnation: count,
  role: z.enum(['worker', 'client']),
  /** The peer's partition server (ROUTER). */
  rpc: endpoint,
  /** The peer's record publisher (PUB). */
  pub: endpoint,
});
export type PeerIdentity = z.infer<typeof PeerIdentity>;

/**
 * A live worker's state: published when it changes (at most once per heartbeat) and in every
 * snapshot; with `membership: 'mesh'` also every heartbeat, as the heartbeat.
 */
export const WorkerRecord = z.object({
  kind: z.literal('worker'),
  peer: PeerIdentity,
  slots: count,
  free: count,
  blocks: count,
  memoryBytes: count,
  /** Its block store's bytes on disk, block files written and their bytes (optional: older workers). */
  diskBytes: count.optional(),
  spills: count.optional(),
  spilledBytes: count.optional(),
  seq: count,
  /** What its task pool did with WebAssembly modules (src/worker/task-pool.ts WasmPoolStats); absent from older workers. */
  wasm: z
    .object({
      compiled: count,
      instantiated: count,
      compiledInThreads: count,
      cached: count,
      dropped: count,
      instancesDropped: count,
    })
    .optional(),
});

/** A live client (workers drop a client's tasks and blocks when these stop). */
export const ClientRecord = z.object({
  kind: z.literal('client'),
  peer: PeerIdentity,
  seq: count,
  /**
   * The shuffles its running actions read: a worker drops the outputs it stores for this client of
   * any other shuffle (a `drop` request that was lost, or sent while the worker was cut off, is
   * then only a delay).
   */
  shuffles: z.array(id).max(100_000).optional(),
});

/** Partition `partition` of a job's node needs computing; claim it at the source's partition server. */
export const JobRecord = z.object({
  kind: z.literal('job'),
  jobId: id,
  attempt: count,
  source: PeerIdentity,
  /** The client whose action this job serves (its tasks die with it). */
  owner: id,
  partition: count,
  /** A worker source says its job is leased (someone runs it): others neither claim nor post it. */
  leased: z.boolean().optional(),
  /**
   * The worker holding most of the stored blocks the task reads: other workers leave the job to
   * it for their locality wait (while it is a live member), as Spark's preferred locations.
   */
  prefer: id.optional(),
  /** The source's sequence number of this record (its version with `source.incarnation`). */
  seq: count.optional(),
});

/** The column section of a block of structured data (src/sql/exec/sections.ts), from the holder's catalog. */
export const ColumnSectionRecord = z.object({
  rows: count,
  bytes: count,
  columns: z
    .array(
      z.object({
        name: z.string().max(256),
        type: z.string().max(256),
        min: z.string().max(64).optional(),
        max: z.string().max(64).optional(),
      }),
    )
    .max(1024),
});

/** A block is stored at `holder`: a persisted partition, a result, or one map output of a shuffle. */
export const BlockRecord = z.object({
  kind: z.literal('rdd'),
  blockId: id,
  holder: PeerIdentity,
  bytes: count,
  owner: id,
  /** For a block of SQL batches: its rows, and per column the type and value range. */
  section: ColumnSectionRecord.optional(),
  /** For a map output: the byte size of each bucket, reduce partition 0 first (readers skip empty ones). */
  buckets: z.array(count).max(1_000_000).optional(),
  /** The holder's sequence number of this record (its version with `holder.incarnation`). */
  seq: count.optional(),
});

/**
 * A record is gone: a job completed or was cancelled, a block was dropped; `peer` (id = holder):
 * the publisher is leaving (a goodbye), its peers drop it at once.
 */
export const WithdrawRecord = z.object({
  kind: z.literal('withdraw'),
  of: z.enum(['job', 'rdd', 'peer']),
  id,
  holder: id,
  /** The holder's incarnation: a goodbye of an earlier incarnation does not drop a later one. */
  inc: count.optional(),
  /** The holder's sequence number (with `inc`, the version of the withdraw of a job or block). */
  seq: count.optional(),
});

/**
 * A membership hint: the publisher knows this worker. A peer that does not know it HELLOs it, so
 * workers that only met the client meet each other (a worker may be the source of jobs).
 * Not a heartbeat of the hinted peer.
 */
export const PeerHintRecord = z.object({
  kind: z.literal('peer'),
  peer: PeerIdentity,
  from: id,
});

/**
 * SWIM: the publisher probed `peer` (directly, then through k others) and had no answer. Tells the
 * suspect, which refutes by publishing its own record again; not acted on by other peers.
 */
export const SuspectRecord = z.object({
  kind: z.literal('suspect'),
  peer: PeerIdentity,
  from: id,
});

/**
 * SWIM: `peer` stayed silent through its suspicion: every peer drops this incarnation at once
 * (a peer that still hears from it HELLOs it again, as after any death).
 */
export const DeadRecord = z.object({
  kind: z.literal('dead'),
  peer: PeerIdentity,
  from: id,
});

export const Record = z.discriminatedUnion('kind', [
  WorkerRecord,
  PeerHintRecord,
  SuspectRecord,
  DeadRecord,
  ClientRecord,
  JobRecord,
  BlockRecord,
  WithdrawRecord,
]);
export type Record = z.infer<typeof Record>;

const amount = z.number().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** One physical operator of a SQL fragment's DuckDB plan (src/sql/exec/profile.ts EngineOperator). */
export const EngineOperatorWire = z.object({
  name: z.string().max(200),
  depth: count,
  rows: amount,
  timeMs: amount,
  info: z.string().max(1000).optional(),
});

/** What a task measured (src/rdd/runner.ts TaskMetrics): ms, bytes and record counts. */
export const TaskMetricsWire = z.object({
  executorRunTime: amount,
  gcTime: amount,
  executorCpuTime: amount.optional(),
  parkedTime: amount,
  inputBytes: amount,
  inputRecords: amount,
  outputBytes: amount,
  outputRecords: amount,
  shuffleReadBytes: amount,
  shuffleReadRecords: amount,
  // Version 2 peers before the split sent none: their reads count as neither local nor remote.
  shuffleLocalBytesRead: amount.default(0),
  shuffleLocalBlocksFetched: amount.default(0),
  shuffleRemoteBytesRead: amount.default(0),
  shuffleRemoteBlocksFetched: amount.default(0),
  shuffleFetchWaitTime: amount,
  shuffleWriteBytes: amount,
  shuffleWriteRecords: amount,
  sqlRows: amount,
  sqlBytes: amount,
  /** DuckDB's operators of the task's SQL fragments (src/sql/exec/profile.ts), pre-order; only when profiled. */
  sqlOperators: z.array(EngineOperatorWire).optional(),
});

/** A granted lease on one attempt of a job. */
export const Lease = z.object({ token: id, attempt: count, ttlMs: count });
export type Lease = z.infer<typeof Lease>;

export const Request = z.discriminatedUnion('op', [
  /**
   * Membership: a peer counts only after a HELLO (proved by the transport's authentication).
   * `introduced`: the sender heard of this peer from a `peer` hint or knew it before, so the
   * receiver does not hint it to its own peers again (a join costs each peer one hint, not N).
   */
  z.object({
    op: z.literal('hello'),
    peer: PeerIdentity,
    cluster: id,
    protocol: count,
    introduced: z.boolean().optional(),
  }),
  /**
   * The sender's current records, so nothing depends on catching one broadcast; with `hints`, also
   * a `peer` hint of every worker the receiver knows (asked by a peer that just joined).
   */
  z.object({ op: z.literal('snapshot'), hints: z.boolean().optional() }),
  /**
   * SWIM's probe, from node `from` (incarnation `inc`): the reply is the ack. Any request or record
   * from a peer counts as hearing from it.
   */
  z.object({ op: z.literal('ping'), from: id, inc: count }),
  /** SWIM's indirect probe: ping `target` (incarnation `inc`) on behalf of node `from`. */
  z.object({ op: z.literal('ping-req'), from: id, target: id, inc: count }),
  z.object({ op: z.literal('job.claim'), jobId: id, attempt: count, worker: id }),
  z.object({ op: z.literal('job.renew'), jobId: id, token: id }),
  z.object({
    op: z.literal('job.complete'),
    jobId: id,
    token: id,
    /** The worker's node id: it holds the task's stored outputs (shuffle buckets, blocks). */
    worker: id,
    /** The task's small result (an action's per-partition value), msgpack; absent for shuffle map tasks. */
    result: bytes.optional(),
    /**
     * A result too large to travel in this message: the worker stored its msgpack bytes as this
     * block; the source fetches it in chunks (then asks the worker to drop it) before accepting.
     */
    resultBlock: z.object({ id, bytes: count }).optional(),
    accumulators: z.array(z.tuple([id, z.unknown()])),
    /** Persisted blocks the task stored on the worker (id and size), so the source knows them at once. */
    blocks: z.array(z.tuple([id, count])).optional(),
    /** What the task measured (the UI's task metrics); absent from older workers. */
    metrics: TaskMetricsWire.optional(),
  }),
  z.object({
    op: z.literal('job.fail'),
    jobId: id,
    token: id,
    worker: id,
    error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }).loose(),
    /** Why the task ended, decided by the worker that ran it (src/core/task-end.ts); applied as it is. */
    end: z.object({
      kind: z.enum(['user-error', 'fetch-failed', 'worker-stopping', 'worker-error', 'dependency-failed']),
      retryable: z.boolean(),
      countsToFailures: z.boolean(),
      lost: z.object({ shuffleId: id, map: count }).optional(),
    }),
  }),
  /** A chunk of a block, a client-hosted slice, or a broadcast value. */
  z.object({
    op: z.literal('fetch'),
    what: z.enum(['block', 'slice', 'broadcast']),
    id,
    index: count.optional(),
    offset: count,
    length: count.max(16 * 1024 * 1024),
  }),
  /**
   * Drop stored blocks whose id starts with one of `prefixes` (an action ended, an RDD was
   * unpersisted), and the worker's copies of `broadcasts` (unpersisted or destroyed on the client;
   * for a WebAssembly module also its compiled module and instances).
   */
  z.object({
    op: z.literal('drop'),
    prefixes: z.array(id).max(1000),
    broadcasts: z.array(id).max(1000).optional(),
  }),
  /**
   * A worker that is the source of shuffle map jobs reports them to the client whose action they
   * serve: for its progress, its accumulators (applied once per map partition) and its failures.
   */
  z.object({
    op: z.literal('job.event'),
    jobId: id,
    stageId: z.number().int(),
    shuffleId: id,
    partition: count,
    attempt: count,
    state: z.enum(['posted', 'running', 'done', 'retried', 'failed']),
    /** The worker that sources the map job (its reports stop if it dies). */
    source: id.optional(),
    worker: id.optional(),
    reason: z.enum(['error', 'lease-expired', 'worker-lost', 'fetch-failed']).optional(),
    /** For `posted`: the output existed before and was lost (a recomputation). */
    recomputed: z.boolean().optional(),
    accumulators: z.array(z.tuple([id, z.unknown()])).optional(),
    /** For `done`: what the map task measured. */
    metrics: TaskMetricsWire.optional(),
    error: z
      .object({ name: z.string(), message: z.string(), stack: z.string().optional() })
      .loose()
      .optional(),
  }),
  /**
   * Lines a task printed with console.*, from the worker that runs it to the client the task
   * works for, in order, in batches (all of a task's lines arrive before its completion).
   */
  z.object({
    op: z.literal('task.log'),
    worker: id,
    stageId: z.number().int(),
    partition: count,
    attempt: count,
    lines: z
      .array(z.object({ stream: z.enum(['stdout', 'stderr']), line: z.string().max(17 * 1024) }))
      .max(1000),
  }),
  /** The client cancels jobs: workers stop their tasks. */
  z.object({ op: z.literal('cancel'), jobIds: z.array(id) }),
]);
export type Request = z.infer<typeof Request>;

export const ClaimReply = z.discriminatedUnion('granted', [
  z.object({ granted: z.literal(true), lease: Lease, task: bytes }),
  /** `not-member`: the source does not count the claiming worker as a member (it should HELLO again). */
  z.object({
    granted: z.literal(false),
    reason: z.enum(['taken', 'stale', 'done', 'unknown', 'not-member']),
  }),
]);
export type ClaimReply = z.infer<typeof ClaimReply>;

export const FetchReply = z.object({ data: bytes, total: count });
export type FetchReply = z.infer<typeof FetchReply>;

export const HelloReply = z.object({ peer: PeerIdentity });
/**
 * A ping's ack: the target's incarnation, and whether it counts the sender (that incarnation) as
 * a member (false: the sender HELLOs it again).
 */
export const PingReply = z.object({ inc: count, member: z.boolean() });
/** A ping-req's answer: whether `target` acked the helper's ping. */
export const PingReqReply = z.object({ ack: z.boolean() });
export const SnapshotReply = z.object({ records: z.array(z.unknown()) });
const Ok = z.object({ ok: z.boolean() });

/** The reply schema of every request (replies are checked when they arrive: a peer may be buggy). */
export const Replies = {
  hello: HelloReply,
  snapshot: SnapshotReply,
  ping: PingReply,
  'ping-req': PingReqReply,
  'job.claim': ClaimReply,
  'job.renew': z.object({ ok: z.boolean(), ttlMs: count }),
  'job.complete': Ok,
  'job.fail': Ok,
  fetch: FetchReply,
  drop: z.object({ dropped: count }),
  'job.event': Ok,
  'task.log': Ok,
  cancel: Ok,
} satisfies { [Op in Request['op']]: z.ZodType };

/** What a request of `op` is answered with. */
export type ReplyOf<Op extends Request['op']> = z.infer<(typeof Replies)[Op]>;

/** Checks a reply against its request's schema; the reason when it does not fit. */
export function parseReply<Op extends Request['op']>(
  op: Op,
  value: unknown,
): { ok: true; reply: ReplyOf<Op> } | { ok: false; reason: string } {
  const r = Replies[op].safeParse(value);
  return r.success
    ? { ok: true, reply: r.data as ReplyOf<Op> }
    : { ok: false, reason: r.error.issues[0]?.message ?? 'invalid' };
}

/** Validates a decoded record; returns undefined (and the reason) when it is malformed. */
export function parseRecord(value: unknown): { ok: true; record: Record } | { ok: false; reason: string } {
  const r = Record.safeParse(value);
  return r.success
    ? { ok: true, record: r.data }
    : { ok: false, reason: r.error.issues[0]?.message ?? 'invalid' };
}

/** Validates a decoded request. */
export function parseRequest(value: unknown): { ok: true; request: Request } | { ok: false; reason: string } {
  const r = Request.safeParse(value);
  return r.success
    ? { ok: true, request: r.data }
    : { ok: false, reason: r.error.issues[0]?.message ?? 'invalid' };
}

/** A reply checked against its request's schema; InvalidOperationError (naming the op) when it does not fit. */
export function checkedReply<Op extends Request['op']>(op: Op, value: unknown): ReplyOf<Op> {
  const r = parseReply(op, value);
  if (!r.ok) throw new InvalidOperationError(`malformed ${op} reply: ${r.reason}`);
  return r.reply;
}
