/**
 * The blocks a worker stores, announces and serves. A task's outputs are stored in the worker's
 * {@link BlockStore} and announced as `rdd` records: a map output as one data block with its
 * index (its record carries the bucket sizes, so reducers skip empty buckets), a persisted
 * partition as a block (with its SQL column section, the worker's catalog). Peers fetch them in
 * chunks: a shuffle bucket as its range of the map output's data block, through the index.
 * Blocks are dropped by id prefix (a client's `drop`, or its record no longer listing a shuffle),
 * with the client, or all withdrawn when the worker stops.
 */
import { mapDataId, parseBlockId, shufflePrefix } from '../protocol/block-ids.js';
import { FETCH_CHUNK_BYTES } from '../protocol/defaults.js';
import { InvalidOperationError } from '../protocol/errors.js';
import type { PeerIdentity, Record as WireRecord, Request } from '../protocol/messages.js';
import type { BlockStore } from '../partition-server/block-store.js';
import type { Clock } from '../core/clock.js';
import { blockId, mapOutputId, parseMapOutputId, type TaskDesc } from '../rdd/lineage.js';
import { bucketCount, bucketRange, bucketSizes } from '../rdd/map-output.js';
import type { TaskResult } from '../rdd/runner.js';
import { mergeSections, type ColumnSection } from '../sql/exec/sections.js';
import type { MapOutputView } from './map-outputs.js';

/** What this worker announces of a block it stores: size, owner, SQL section, a map output's bucket sizes. */
export interface OwnBlock {
  readonly bytes: number;
  readonly owner: string;
  readonly section?: ColumnSection;
  readonly buckets?: number[];
}

/** What the block server needs of its peer: who it is, and a way to publish records. */
export interface BlockPort {
  readonly identity: PeerIdentity;
  publish(record: WireRecord): void;
}

/** A chunk of a block and the block's total size (for a bucket, both relative to the bucket). */
export interface BlockChunk {
  readonly data: Uint8Array;
  readonly total: number;
}

/** The blocks of one worker (see module doc). */
export class BlockServer {
  /** The blocks this worker announced; for SQL batches also their column section. */
  private readonly own = new Map<string, OwnBlock>();
  /** Shuffles this worker stores map outputs of: their client, and when the first was stored. */
  private readonly shuffleOwners = new Map<string, { owner: string; at: number }>();

  /**
   * A server over `store`, announcing through `port`; map outputs stored here are added to `maps`.
   * A client's record may predate a shuffle first stored less than `shuffleReleaseGraceMs` ago.
   */
  constructor(
    private readonly store: BlockStore,
    private readonly port: BlockPort,
    private readonly maps: MapOutputView,
    private readonly clock: Clock,
    private readonly shuffleReleaseGraceMs: number,
  ) {}

  /** The `rdd` records of every block announced here (for snapshots). */
  records(): WireRecord[] {
    return [...this.own].map(([id, b]) => this.record(id, b));
  }

  /** Blocks announced here. */
  get size(): number {
    return this.own.size;
  }

  /** Stores what a task of client `owner` produced (its map output, persisted partitions) and announces it. */
  async storeOutputs(desc: TaskDesc, result: TaskResult, owner: string): Promise<void> {
    const self = this.port.identity;
    if (desc.output.kind === 'shuffle' && result.mapOutput) {
      const s = desc.output.shuffle;
      const { data, index } = result.mapOutput;
      // One block per map output; its index stays in the block's entry (spilled and dropped with it).
      await this.store.put(mapDataId(s.id, desc.partition), data, owner, index);
      // Announce the map output, so reducers anywhere find it (and know to recompute it when it goes).
      const id = mapOutputId(s.id, desc.partition);
      const known = this.shuffleOwners.get(s.id);
      if (!known || known.owner !== owner) this.shuffleOwners.set(s.id, { owner, at: this.clock.now() });
      const bytes = data.byteLength;
      const buckets = bucketSizes(index);
      const section = mergeSections(
        (result.sections ?? []).filter((x) => x.node === s.parent).map((x) => x.section),
      );
      this.maps.add(s.id, desc.partition, self.node, self.rpc, buckets);
      this.announce(id, { bytes, owner, buckets, ...(section && { section }) });
    }
    for (const [id, data] of result.blocks) {
      await this.store.put(id, data, owner);
      const section = mergeSections(
        (result.sections ?? []).filter((x) => blockId(x.node, x.partition) === id).map((x) => x.section),
      );
      this.announce(id, { bytes: data.byteLength, owner, ...(section && { section }) });
    }
  }

  /** Answers a `fetch`: a chunk of a block stored here, or of a shuffle bucket (only blocks are hosted). */
  async fetch(req: Extract<Request, { op: 'fetch' }>): Promise<BlockChunk> {
    if (req.what !== 'block') throw new InvalidOperationError(`a worker does not host ${req.what}s`);
    const bucket = parseBlockId(req.id);
    if (bucket?.kind === 'shuffle') return this.fetchBucket(req.id, bucket, req.offset, req.length);
    const data = await this.store.get(req.id);
    if (!data) throw new InvalidOperationError(`block ${req.id} is not stored here`);
    return {
      data: data.subarray(req.offset, req.offset + Math.min(req.length, FETCH_CHUNK_BYTES)),
      total: data.byteLength,
    };
  }

  /**
   * Drops stored blocks and withdraws their records (and those of map outputs) by block id
   * prefix; returns the blocks dropped from the store.
   */
  async dropPrefixes(prefixes: readonly string[]): Promise<number> {
    let dropped = 0;
    for (const id of [...this.own.keys()]) {
      // Map output records name no stored block: withdraw them here.
      if (parseMapOutputId(id) && prefixes.some((p) => id.startsWith(p))) {
        this.own.delete(id);
        this.withdraw(id);
      }
    }
    for (const b of this.store.list()) {
      if (!prefixes.some((p) => b.id.startsWith(p))) continue;
      if (await this.store.delete(b.id)) dropped++;
      if (this.own.delete(b.id)) this.withdraw(b.id);
    }
    return dropped;
  }

  /**
   * A client's record lists the shuffles its running actions read: the prefixes of the other
   * shuffles stored here for it (stored a while ago, so not of an action the record predates),
   * which are forgotten here; the caller drops them.
   */
  staleShuffles(r: Extract<WireRecord, { kind: 'client' }>): string[] {
    if (!r.shuffles) return [];
    const live = new Set(r.shuffles);
    const now = this.clock.now();
    const stale: string[] = [];
    for (const [sid, s] of this.shuffleOwners) {
      if (s.owner !== r.peer.node || live.has(sid) || now - s.at < this.shuffleReleaseGraceMs) continue;
      this.shuffleOwners.delete(sid);
      stale.push(shufflePrefix(sid));
    }
    return stale;
  }

  /** A client died: its blocks are forgotten and deleted (peers forget their records with the client). */
  ownerDown(owner: string): void {
    for (const [id, b] of [...this.own]) if (b.owner === owner) this.own.delete(id);
    void this.store.deleteOwner(owner);
  }

  /** The worker stops: every record announced here is withdrawn (the blocks stay until the store closes). */
  withdrawAll(): void {
    for (const id of this.own.keys()) this.withdraw(id);
    this.own.clear();
  }

  /** The `rdd` record of a block (or map output) stored here. */
  private record(id: string, b: OwnBlock): WireRecord {
    return { kind: 'rdd', blockId: id, holder: this.port.identity, ...b };
  }

  /** Remembers a block (or map output) stored here and announces it. */
  private announce(id: string, b: OwnBlock): void {
    this.own.set(id, b);
    this.port.publish(this.record(id, b));
  }

  private withdraw(id: string): void {
    this.port.publish({ kind: 'withdraw', of: 'rdd', id, holder: this.port.identity.node });
  }

  /**
   * A chunk of a shuffle bucket: the map output's index gives the bucket's range of its data
   * block; `offset` and `total` are relative to the bucket, and only the chunk is read.
   */
  private async fetchBucket(
    id: string,
    b: { readonly shuffleId: string; readonly map: number; readonly reduce: number },
    offset: number,
    length: number,
  ): Promise<BlockChunk> {
    const dataId = mapDataId(b.shuffleId, b.map);
    const index = this.store.indexOf(dataId);
    if (!index || b.reduce >= bucketCount(index))
      throw new InvalidOperationError(`block ${id} is not stored here`);
    const [start, end] = bucketRange(index, b.reduce);
    const from = Math.min(start + offset, end);
    const to = Math.min(from + Math.min(length, FETCH_CHUNK_BYTES), end);
    const data = await this.store.getRange(dataId, from, to);
    if (!data) throw new InvalidOperationError(`block ${id} is not stored here`);
    return { data, total: end - start };
  }
}
