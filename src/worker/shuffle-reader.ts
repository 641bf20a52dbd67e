/**
 * The reduce side of a shuffle on a worker: one bucket from each map output, read concurrently
 * with a bound on the bytes in flight (Spark's `spark.reducer.maxSizeInFlight`), results kept in
 * map order. A bucket known to be empty costs nothing; one stored here is read from the block
 * store; one held by a peer is fetched in chunks, every chunk request reserving the bytes it may
 * bring back before it is sent and releasing them when its reply has arrived, so the requested
 * bytes not yet received never exceed the bound. Reservations are granted in request order, so
 * no map output starves. No sockets here: the caller passes how to read and fetch.
 */
import { InvalidOperationError } from '../protocol/errors.js';
import type { ShuffleRead } from '../rdd/runner.js';

/** One chunk of a remote bucket: bytes from the requested offset, and the bucket's total size. */
export interface BucketChunk {
  readonly data: Uint8Array;
  readonly total: number;
}

/** Where map output m's bucket is, and how to get it. */
export type BucketSource =
  /** Its record says the bucket is empty: no read, no request. */
  | { readonly kind: 'empty' }
  /** Stored on this worker. */
  | { readonly kind: 'local'; read(): Promise<Uint8Array> }
  /**
   * Held by a peer: `fetch` asks for at most `length` bytes from `offset` (one request). `bytes`,
   * the size its record announced, if any, sizes the first reservation.
   */
  | {
      readonly kind: 'remote';
      readonly bytes?: number;
      fetch(offset: number, length: number): Promise<BucketChunk>;
    };

/** How a read is bounded. */
export interface ShuffleReadOptions {
  /** The most bytes requested and not yet received, over all map outputs (positive integer). */
  readonly maxBytesInFlight: number;
  /** The largest chunk one request asks for (the server's FETCH_CHUNK_BYTES); capped by the bound. */
  readonly chunkBytes: number;
  /** The error a failed map output becomes (a FetchFailedError naming it). */
  readonly fail: (map: number, cause: Error) => Error;
}

/** A read's result, and what it cost in requests (for counters). */
export interface ShuffleReadResult extends ShuffleRead {
  /** Chunk requests sent to peers. */
  readonly requests: number;
  /** Buckets skipped because their record said they were empty. */
  readonly skipped: number;
}

/** A byte budget whose reservations are granted in the order they were asked for. */
class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ readonly n: number; readonly go: () => void }> = [];

  constructor(private readonly max: number) {}

  acquire(n: number): Promise<void> {
    if (this.waiting.length === 0 && this.used + n <= this.max) {
      this.used += n;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ n, go }));
  }

  release(n: number): void {
    this.used -= n;
    for (let w = this.waiting[0]; w && this.used + w.n <= this.max; w = this.waiting[0]) {
      this.waiting.shift();
      this.used += w.n;
      w.go();
    }
  }
}

/**
 * Reads bucket m from `sources[m]` for every m, concurrently within the bound (see module doc).
 * Rejects with `opts.fail(m, cause)` for the first map output that could not be read; the others
 * stop at their next chunk.
 */
export async function readShuffleBuckets(
  sources: readonly BucketSource[],
  opts: ShuffleReadOptions,
): Promise<ShuffleReadResult> {
  const { maxBytesInFlight: max } = opts;
  if (!Number.isSafeInteger(max) || max <= 0)
    throw new InvalidOperationError(`maxBytesInFlight must be a positive integer, got ${String(max)}`);
  const chunk = Math.min(opts.chunkBytes, max);
  const budget = new ByteBudget(max);
  let failed = false;
  let requests = 0;
  const counts = { localBytes: 0, localBlocks: 0, remoteBytes: 0, remoteBlocks: 0, skipped: 0 };

  const remote = async (src: Extract<BucketSource, { kind: 'remote' }>): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    let offset = 0;
    let total: number | undefined;
    while (total === undefined || offset < total) {
      if (failed) throw new InvalidOperationError('another map output failed');
      const left = (total ?? src.bytes ?? chunk) - offset;
      const length = Math.max(1, Math.min(chunk, left));
      await budget.acquire(length);
      let r: BucketChunk;
      try {
        requests++;
        r = await src.fetch(offset, length);
      } finally {
        budget.release(length);
      }
      if (total !== undefined && r.total !== total)
        throw new InvalidOperationError(
          `the bucket changed while being fetched (${total} then ${r.total} bytes)`,
        );
      total = r.total;
      if (r.data.byteLength > length)
        throw new InvalidOperationError(
          `a chunk of ${r.data.byteLength} bytes answered a request for ${length}`,
        );
      if (r.data.byteLength === 0 && offset < total)
        throw new InvalidOperationError(`an empty chunk at offset ${offset} of ${total}`);
      parts.push(r.data);
      offset += r.data.byteLength;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };

  const one = async (src: BucketSource, m: number): Promise<Uint8Array> => {
    try {
      if (src.kind === 'empty') {
        counts.skipped++;
        return new Uint8Array(0);
      }
      const b = src.kind === 'local' ? await src.read() : await remote(src);
      const side = src.kind === 'local' ? 'local' : 'remote';
      counts[`${side}Bytes`] += b.byteLength;
      if (b.byteLength > 0) counts[`${side}Blocks`]++;
      return b;
    } catch (e) {
      failed = true;
      throw opts.fail(m, e instanceof Error ? e : new Error(String(e)));
    }
  };

  const buckets = await Promise.all(sources.map(one));
  return { buckets, ...counts, requests };
}
