/**
 * What a client knows of the other peers from their records: each worker's last `worker` record,
 * the job and block (`rdd`) records announced and not withdrawn, and the holder of every persisted
 * partition (announced by its holder, or stored by a task this client ran). Entries of a peer go
 * when it is declared down; whether a holder is still live is asked of `endpointOf` at each
 * question, so a record of a peer not (yet) known counts for nothing. Pure bookkeeping: no
 * sockets, no timers.
 */
import { parseBlockId, rddPrefix } from '../protocol/block-ids.js';
import type { Record as WireRecord } from '../protocol/messages.js';
import { blockId, parseMapOutputId, type TaskDesc } from '../rdd/lineage.js';
import { blocksRead } from '../rdd/plan.js';
import type { ColumnSection } from '../sql/exec/sections.js';

type WorkerRecord = Extract<WireRecord, { kind: 'worker' }>;
type JobRecord = Extract<WireRecord, { kind: 'job' }>;
type BlockRecord = Extract<WireRecord, { kind: 'rdd' }>;

/** What a worker's task pool did with WebAssembly modules, as its record says. */
export type WorkerWasmStats = NonNullable<WorkerRecord['wasm']>;

/** A live worker as the client sees it (from its last `worker` record), for the console. */
export interface WorkerStatus {
  readonly node: string;
  /** Partition server endpoint, `tcp://host:port`. */
  readonly endpoint: string;
  readonly slots: number;
  readonly free: number;
  /** Blocks it stores (shuffle outputs and cached partitions). */
  readonly blocks: number;
  readonly memoryBytes: number;
  /** Bytes of its blocks on disk (spilled past its memory budget); 0 from a worker that does not say. */
  readonly diskBytes?: number;
  /** Block files its store has written (spills) and their bytes, since it started. */
  readonly spills?: number;
  readonly spilledBytes?: number;
  /**
   * Milliseconds since anything was last heard from it. With SWIM membership (the default) a
   * healthy worker may be silent for many seconds; {@link suspectMs} says whether it is in doubt.
   */
  readonly lastSeenMs: number;
  /** Milliseconds this client has suspected it (an unanswered probe, not yet refuted); absent while it is healthy. */
  readonly suspectMs?: number;
  /** What its task pool did with WebAssembly modules (from its last record; absent from older workers). */
  readonly wasm?: WorkerWasmStats;
}

/** The records a client currently sees from other peers (for `microspark status`). */
export interface SeenRecords {
  readonly jobs: ReadonlyArray<{ jobId: string; attempt: number; source: string; owner: string; partition: number }>; // prettier-ignore
  readonly blocks: ReadonlyArray<{
    blockId: string;
    holder: string;
    bytes: number;
    owner: string;
    /** The holder's catalog entry for a block of SQL batches. */
    section?: ColumnSection;
  }>;
}

/** A live worker peer as the membership layer reports it, for {@link RecordDirectory.workerStatus}. */
export interface LiveWorker {
  readonly identity: { readonly node: string; readonly rpc: string };
  /** When anything was last heard from it (the clock's milliseconds). */
  readonly lastSeen: number;
}

/** The client's directory of records (see module doc). */
export class RecordDirectory {
  /** Last `worker` record per worker node, until it is declared down. */
  private readonly workerRecords = new Map<string, WorkerRecord>();
  /** Job and block records announced by other peers, until withdrawn (blocks by holder/id). */
  private readonly jobs = new Map<string, JobRecord>();
  private readonly announced = new Map<string, BlockRecord>();
  /** Persisted partitions: block id → holder node and size. */
  private readonly persisted = new Map<string, { holder: string; bytes: number }>();

  /** A directory asking `endpointOf` for a member's partition server endpoint (undefined: not live). */
  constructor(private readonly endpointOf: (node: string) => string | undefined) {}

  /** Takes note of a record heard; true for a `worker` record (a worker is alive). */
  heard(r: WireRecord): boolean {
    if (r.kind === 'worker') {
      this.workerRecords.set(r.peer.node, r);
      return true;
    }
    if (r.kind === 'job') this.jobs.set(r.jobId, r);
    else if (r.kind === 'rdd') {
      this.announced.set(`${r.holder.node}/${r.blockId}`, r);
      if (parseBlockId(r.blockId)?.kind === 'rdd')
        this.persisted.set(r.blockId, { holder: r.holder.node, bytes: r.bytes });
    } else if (r.kind === 'withdraw') {
      if (r.of === 'rdd') {
        this.announced.delete(`${r.holder}/${r.id}`);
        if (this.persisted.get(r.id)?.holder === r.holder) this.persisted.delete(r.id);
      } else this.jobs.delete(r.id);
    }
    return false;
  }

  /** A task of this client stored persisted partition `id` (`bytes` long) on `holder`. */
  stored(id: string, holder: string, bytes: number): void {
    this.persisted.set(id, { holder, bytes });
  }

  /** A worker was declared down: its records, and the partitions it held, are forgotten. */
  peerDown(node: string): void {
    this.workerRecords.delete(node);
    for (const [k, b] of [...this.announced]) if (b.holder.node === node) this.announced.delete(k);
    for (const [k, j] of [...this.jobs]) if (j.source.node === node) this.jobs.delete(k);
    for (const [id, b] of [...this.persisted]) if (b.holder === node) this.persisted.delete(id);
  }

  /** Whether all `n` partitions of persisted node `nodeId` are stored somewhere. */
  fullyStored(nodeId: string, n: number): boolean {
    for (let p = 0; p < n; p++) if (!this.persisted.has(blockId(nodeId, p))) return false;
    return true;
  }

  /**
   * The live worker holding most of the stored bytes a task reads ({@link blocksRead}), if any:
   * its job is offered to that worker first (the locality of Spark's preferred locations).
   */
  preferredHolder(desc: TaskDesc): string | undefined {
    const live = (id: string) => {
      const b = this.persisted.get(id);
      return b !== undefined && this.endpointOf(b.holder) !== undefined;
    };
    const bytes = new Map<string, number>();
    for (const id of blocksRead(desc.nodes, desc.root, desc.partition, live)) {
      const b = this.persisted.get(id)!;
      bytes.set(b.holder, (bytes.get(b.holder) ?? 0) + Math.max(1, b.bytes));
    }
    let best: string | undefined;
    let most = 0;
    for (const [holder, n] of bytes)
      if (n > most || (n === most && best !== undefined && holder < best)) [best, most] = [holder, n];
    return best;
  }

  /** For a task: the live holder's endpoint of every stored partition of its persisted nodes. */
  blocksFor(desc: TaskDesc): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [nodeId, node] of Object.entries(desc.nodes)) {
      if (!node.persist) continue;
      for (let p = 0; p < node.n; p++) {
        const id = blockId(nodeId, p);
        const b = this.persisted.get(id);
        const endpoint = b && this.endpointOf(b.holder);
        if (endpoint) out[id] = endpoint;
      }
    }
    return out;
  }

  /** Where each stored partition of a persisted node is: partition → live holder's endpoint. */
  blockLocations(nodeId: string): Map<number, string> {
    const out = new Map<number, string>();
    const prefix = rddPrefix(nodeId);
    for (const [id, b] of this.persisted) {
      if (!id.startsWith(prefix)) continue;
      const endpoint = this.endpointOf(b.holder);
      if (endpoint) out.set(Number(id.slice(prefix.length)), endpoint);
    }
    return out;
  }

  /** How many partitions of a persisted node are stored, and their bytes; undefined if none. */
  storageInfo(nodeId: string): { partitions: number; bytes: number } | undefined {
    let partitions = 0;
    let bytes = 0;
    for (const [id, b] of this.persisted) {
      if (id.startsWith(rddPrefix(nodeId))) {
        partitions++;
        bytes += b.bytes;
      }
    }
    return partitions > 0 ? { partitions, bytes } : undefined;
  }

  /** Forgets the stored partitions of a persisted node (it was unpersisted). */
  unpersist(nodeId: string): void {
    for (const id of [...this.persisted.keys()])
      if (id.startsWith(rddPrefix(nodeId))) this.persisted.delete(id);
  }

  /**
   * Forgets the announced blocks whose id starts with one of `prefixes` (outputs being dropped:
   * their withdrawals come soon, and nothing may be planned on them meanwhile).
   */
  forgetAnnounced(prefixes: readonly string[]): void {
    for (const [k, b] of [...this.announced])
      if (prefixes.some((p) => b.blockId.startsWith(p))) this.announced.delete(k);
  }

  /** The map indexes of shuffle `shuffleId` whose outputs a live holder announced. */
  announcedMaps(shuffleId: string): Set<number> {
    const have = new Set<number>();
    for (const b of this.announced.values()) {
      const out = parseMapOutputId(b.blockId);
      if (out?.shuffleId === shuffleId && this.endpointOf(b.holder.node)) have.add(out.map);
    }
    return have;
  }

  /** The announced size of every map output a live holder has, by `shuffle/map`. */
  announcedMapBytes(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const b of this.announced.values()) {
      const out = parseMapOutputId(b.blockId);
      if (out && this.endpointOf(b.holder.node)) sizes.set(`${out.shuffleId}/${out.map}`, b.bytes);
    }
    return sizes;
  }

  /**
   * The status of each live worker (`workers`, from the membership layer) with what its last
   * record said, by endpoint; `suspectedFor` says how long a worker has been suspected, if it is.
   */
  workerStatus(
    workers: readonly LiveWorker[],
    now: number,
    suspectedFor: (node: string) => number | undefined,
  ): WorkerStatus[] {
    return workers
      .map((p) => {
        const r = this.workerRecords.get(p.identity.node);
        const suspect = suspectedFor(p.identity.node);
        return {
          node: p.identity.node,
          endpoint: p.identity.rpc,
          slots: r?.slots ?? 0,
          free: r?.free ?? 0,
          blocks: r?.blocks ?? 0,
          memoryBytes: r?.memoryBytes ?? 0,
          diskBytes: r?.diskBytes ?? 0,
          spills: r?.spills ?? 0,
          spilledBytes: r?.spilledBytes ?? 0,
          lastSeenMs: Math.max(0, now - p.lastSeen),
          ...(suspect !== undefined && { suspectMs: suspect }),
          ...(r?.wasm && { wasm: r.wasm }),
        };
      })
      .sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  /** Job and block records other peers have announced and not withdrawn. */
  seenRecords(): SeenRecords {
    return {
      jobs: [...this.jobs.values()].map((j) => ({
        jobId: j.jobId,
        attempt: j.attempt,
        source: j.source.rpc,
        owner: j.owner,
        partition: j.partition,
      })),
      blocks: [...this.announced.values()].map((b) => ({
        blockId: b.blockId,
        holder: b.holder.rpc,
        bytes: b.bytes,
        ...(b.section && { section: b.section }),
        owner: b.owner,
      })),
    };
  }
}
