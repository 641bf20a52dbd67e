/**
 * The network side of a worker's tasks: what a task's thread may ask for while it runs. Slices of
 * data hosted by the task's client, broadcast values (fetched once per worker and kept until the
 * client drops them), persisted blocks where the task's description says they are, and shuffle
 * buckets: read from this worker's store when stored here, skipped when their holder's record says
 * they are empty, else fetched from the holder in chunks within the bytes-in-flight bound. A
 * bucket that cannot be read fails the task with a FetchFailedError naming the map output.
 */
import { mapDataId, shuffleBlockId } from '../protocol/block-ids.js';
import { decode } from '../protocol/codec.js';
import { FETCH_CHUNK_BYTES, REDUCER_MAX_BYTES_IN_FLIGHT } from '../protocol/defaults.js';
import { FetchFailedError } from '../protocol/errors.js';
import type { BlockStore } from '../partition-server/block-store.js';
import type { PeerIdentity } from '../protocol/messages.js';
import { bucketRange } from '../rdd/map-output.js';
import type { TaskDesc } from '../rdd/lineage.js';
import type { MapOutputView } from './map-outputs.js';
import { readShuffleBuckets, type BucketSource, type ShuffleReadResult } from './shuffle-reader.js';
import type { PoolServices } from './task-pool.js';

/** What can be fetched from a peer. */
type Fetched = 'block' | 'slice' | 'broadcast';

/** What task services use of the worker's peer node (a PeerNode is one). */
export interface TaskNetwork {
  readonly identity: PeerIdentity;
  /** Known live peers. */
  peers(): ReadonlyArray<{ readonly identity: PeerIdentity }>;
  /** HELLOs the peer at an endpoint; its identity, or undefined if it did not answer. */
  connect(rpcEndpoint: string): Promise<PeerIdentity | undefined>;
  /** One `fetch` request: at most `length` bytes from `offset`, and the total size. */
  fetchChunk(
    node: string,
    what: Fetched,
    id: string,
    index: number,
    offset: number,
    length: number,
    timeoutMs: number,
  ): Promise<{ data: Uint8Array; total: number }>;
  /** A whole block, slice or broadcast, in chunks. */
  fetchAll(node: string, what: Fetched, id: string, index: number, timeoutMs: number): Promise<Uint8Array>;
}

/** What task services read of the worker's block store. */
export type TaskStore = Pick<BlockStore, 'get' | 'getRange' | 'indexOf'>;

/** Shuffle buckets read: from this worker's store, fetched from peers, skipped as empty; fetch requests sent. */
export interface ShuffleReadCounters {
  bucketsReadLocal: number;
  bucketsFetched: number;
  bucketsSkippedEmpty: number;
  /** `fetch` requests sent for shuffle buckets (a bucket above a chunk takes several). */
  bucketFetchRequests: number;
}

/** Options of {@link TaskServiceHost}. */
export interface TaskServicesOptions {
  readonly requestTimeoutMs: number;
  /** Shuffle bytes a task may have requested and not yet received (default REDUCER_MAX_BYTES_IN_FLIGHT). */
  readonly maxBytesInFlight?: number;
}

/** Serves the requests of a worker's tasks (see module doc). */
export class TaskServiceHost {
  /** Broadcast values fetched (or being fetched), by id. */
  private readonly broadcasts = new Map<string, Promise<Uint8Array>>();

  /** Services over the worker's node, store and map output view; reads are counted in `counters`. */
  constructor(
    private readonly node: TaskNetwork,
    private readonly store: TaskStore,
    private readonly maps: MapOutputView,
    private readonly counters: ShuffleReadCounters,
    private readonly options: TaskServicesOptions,
  ) {}

  /** What the thread of a task of client `source`, described by `desc`, may ask for. */
  forTask(source: string, desc: TaskDesc): PoolServices {
    return {
      readSlice: (dataId, slice) => this.fetchAll(source, 'slice', dataId, slice),
      broadcastBytes: (id) => this.broadcastBytes(source, id),
      broadcastValue: async (id) => decode(await this.broadcastBytes(source, id)),
      readBlock: async (id) => {
        // The client is authoritative about persisted blocks: a block it does not list (never
        // stored, or unpersisted) is recomputed even if a stale copy is still here.
        const endpoint = desc.blocks?.[id];
        if (endpoint === undefined) return undefined;
        try {
          if (endpoint === this.node.identity.rpc) return await this.store.get(id);
          const holder =
            this.node.peers().find((p) => p.identity.rpc === endpoint)?.identity ??
            (await this.node.connect(endpoint));
          return holder ? await this.fetchAll(holder.node, 'block', id, 0) : undefined;
        } catch {
          return undefined; // lost with its holder: recompute from lineage
        }
      },
      readShuffle: (shuffleId, reduce, numMaps) => this.readShuffle(desc, shuffleId, reduce, numMaps),
    };
  }

  /** Forgets broadcast values (fetched again if a later task needs them). */
  dropBroadcasts(ids: readonly string[]): void {
    for (const id of ids) this.broadcasts.delete(id);
  }

  /**
   * Bucket `reduce` of every map output of a shuffle, in map order (shuffle-reader.ts), from the
   * locations in `desc`: read here when stored here, skipped when its record says it is empty,
   * else fetched from its holder in chunks within the bytes-in-flight bound. A failure names the
   * map output.
   */
  async readShuffle(
    desc: TaskDesc,
    shuffleId: string,
    reduce: number,
    numMaps: number,
  ): Promise<ShuffleReadResult> {
    const where = desc.locations?.[shuffleId] ?? [];
    const self = this.node.identity.rpc;
    const sources = Array.from({ length: numMaps }, (_, m): BucketSource => {
      const endpoint = where[m] ?? '';
      const data = mapDataId(shuffleId, m);
      if (endpoint === self) return { kind: 'local', read: () => this.localBucket(data, reduce) };
      const bytes = endpoint ? this.maps.bucketSize(shuffleId, m, endpoint, reduce) : undefined;
      if (bytes === 0) return { kind: 'empty' };
      const id = shuffleBlockId(shuffleId, m, reduce);
      let holder: Promise<string> | undefined;
      return {
        kind: 'remote',
        ...(bytes !== undefined && { bytes }),
        fetch: async (offset, length) => {
          holder ??= this.holderAt(endpoint);
          const node = await holder;
          return this.node.fetchChunk(node, 'block', id, 0, offset, length, this.options.requestTimeoutMs);
        },
      };
    });
    const read = await readShuffleBuckets(sources, {
      maxBytesInFlight: this.options.maxBytesInFlight ?? REDUCER_MAX_BYTES_IN_FLIGHT,
      chunkBytes: FETCH_CHUNK_BYTES,
      fail: (m, e) =>
        new FetchFailedError(
          `could not fetch map output ${m} of shuffle ${shuffleId}: ${e.message}`,
          shuffleId,
          m,
        ),
    });
    const c = this.counters;
    c.bucketsReadLocal += sources.filter((x) => x.kind === 'local').length;
    c.bucketsFetched += sources.filter((x) => x.kind === 'remote').length;
    c.bucketsSkippedEmpty += read.skipped;
    c.bucketFetchRequests += read.requests;
    return read;
  }

  /** Bucket `reduce` of a map output stored here: its range of the data block, through the index. */
  private async localBucket(dataId: string, reduce: number): Promise<Uint8Array> {
    const index = this.store.indexOf(dataId);
    if (!index) throw new Error('missing locally');
    const [start, end] = bucketRange(index, reduce);
    const b = await this.store.getRange(dataId, start, end);
    if (!b) throw new Error('missing locally');
    return b;
  }

  /** The node id of the peer at `endpoint`; workers meet each other on demand (the first fetch HELLOs it). */
  private async holderAt(endpoint: string): Promise<string> {
    if (!endpoint) throw new Error('its location is unknown');
    const holder =
      this.node.peers().find((p) => p.identity.rpc === endpoint)?.identity ??
      (await this.node.connect(endpoint));
    if (!holder) throw new Error(`no live peer at ${endpoint}`);
    return holder.node;
  }

  /** A broadcast value's bytes, fetched from its source once per worker. */
  private broadcastBytes(source: string, id: string): Promise<Uint8Array> {
    let v = this.broadcasts.get(id);
    if (!v) {
      v = this.fetchAll(source, 'broadcast', id, 0);
      v.catch(() => this.broadcasts.delete(id));
      this.broadcasts.set(id, v);
    }
    return v;
  }

  /** Fetches a whole block/slice/broadcast from a peer in chunks. */
  private fetchAll(node: string, what: Fetched, id: string, index: number): Promise<Uint8Array> {
    return this.node.fetchAll(node, what, id, index, this.options.requestTimeoutMs);
  }
}
