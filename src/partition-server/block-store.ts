/**
 * The block store of a partition server: computed partitions (persisted RDDs, shuffle outputs,
 * results) as msgpack bytes under a block id. Blocks live in memory up to a byte budget; past it
 * the least recently used ones are written to disk, one file per block, so a worker can hold more
 * than its heap without losing blocks it was asked to keep.
 *
 * Concurrency without locks: every state change happens synchronously (between awaits), and every
 * version of a block writes its own file (random store tag + hash of the id + sequence number), so
 * two versions of one id never share a path and a reader only ever opens a file whose write has
 * finished. A dropped version's file is unlinked only after the reads and writes already started
 * on it have settled. Hence concurrent put/get/delete of one id need no per-id queue, and a put
 * never waits behind a put of another id that is spilling.
 *
 * A block may carry an index (a shuffle map output: its n buckets concatenated, and the n + 1
 * offsets where they start and end, as Spark's IndexShuffleBlockResolver writes `.index` next to
 * `.data`). The index lives in the block's entry, in memory whether the data spilled or not, so
 * it is replaced, dropped and closed with the data, never apart from it; {@link BlockStore.getRange}
 * reads one bucket's range, from memory or from the spilled file without reading the rest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOperationError } from '../protocol/errors.js';

/** How a {@link BlockStore} is sized and where it spills. */
export interface BlockStoreOptions {
  /** Bytes kept in memory before blocks spill to disk (validated: positive integer). */
  readonly memoryBytes: number;
  /**
   * Directory for spilled blocks (created if missing, on the first spill; the store owns the files
   * it writes there, and removes the directory on close only if it created it).
   */
  readonly dir: string;
}

/** One stored block, as {@link BlockStore.list} reports it. */
export interface BlockInfo {
  readonly id: string;
  readonly bytes: number;
  /** True once the store decided the block lives on disk (its file may still be being written). */
  readonly onDisk: boolean;
  readonly owner: string;
}

/** Totals, as {@link BlockStore.stats} reports them. */
export interface BlockStoreStats {
  readonly blocks: number;
  /** Bytes of the blocks held in memory; never above the budget. */
  readonly memoryBytes: number;
  /** Bytes of the blocks on disk (or being written there). */
  readonly diskBytes: number;
  /** Block files written so far: least-recently-used evictions and blocks larger than the budget. */
  readonly spills: number;
  /** Bytes of those files: what the store has spilled to disk in all. */
  readonly spilledBytes: number;
}

/**
 * One version of a block. `memory`: bytes in `data`, counted in the memory total, in the LRU.
 * `writing`: being written to `file`; `data` is still there so reads need not wait, but the bytes
 * already count as disk (the budget is about blocks the store keeps, not transient buffers).
 * `disk`: only in `file`.
 */
interface Entry {
  readonly id: string;
  readonly owner: string;
  readonly bytes: number;
  /** Offsets of the block's segments (n + 1, from 0 to `bytes`), if it was stored with an index. */
  readonly index: readonly number[] | undefined;
  state: 'memory' | 'writing' | 'disk';
  data: Uint8Array | undefined;
  file: string | undefined;
  /** Set when this version stops being the current block of its id (replaced, deleted, closed). */
  dropped: boolean;
  /** Reads and writes in flight on `file`; its unlink waits for them. */
  readonly io: Set<Promise<unknown>>;
}

function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new InvalidOperationError(`a block id must be a non-empty string, got ${describe(id)}`);
}

function checkOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0)
    throw new InvalidOperationError(`a block owner must be a non-empty string, got ${describe(owner)}`);
}

function checkIndex(id: string, index: readonly number[], bytes: number): void {
  const bad = (why: string) =>
    new InvalidOperationError(
      `block ${id}: its index must be offsets from 0 to the block's ${bytes} bytes, never decreasing; ${why}`,
    );
  if (!Array.isArray(index) || index.length === 0) throw bad('got no offsets');
  if (index[0] !== 0) throw bad(`it starts at ${String(index[0])}`);
  if (index[index.length - 1] !== bytes) throw bad(`it ends at ${String(index[index.length - 1])}`);
  for (let i = 1; i < index.length; i++)
    if (!Number.isSafeInteger(index[i]) || index[i]! < index[i - 1]!)
      throw bad(`offset ${i} is ${String(index[i])} after ${String(index[i - 1])}`);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : typeof v;
}

/** `length` bytes of `file` from `position`. */
async function readRange(file: string, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const fh = await open(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(out, done, length - done, position + done);
      if (bytesRead === 0) throw new Error(`block file ${file} ended ${length - done} bytes early`);
      done += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Memory up to a budget, then least-recently-used blocks spill to disk (see module doc). */
export class BlockStore {
  private readonly budget: number;
  private readonly dir: string;
  /** Keeps this store's file names apart from any other store's in the same directory. */
  private readonly tag = randomBytes(4).toString('hex');
  private readonly entries = new Map<string, Entry>();
  /** The in-memory entries, least recently used first (a Map keeps insertion order). */
  private lru = new Map<string, Entry>();
  private readonly owners = new Map<string, Set<string>>();
  /** Unlinks in flight, so close can wait for every file to be gone. */
  private readonly releases = new Set<Promise<Error | undefined>>();
  private memoryTotal = 0;
  private diskTotal = 0;
  private spillCount = 0;
  private spilledBytes = 0;
  private fileSeq = 0;
  private dirReady: Promise<void> | undefined;
  private createdDir = false;
  private closing: Promise<void> | undefined;

  constructor(options: BlockStoreOptions) {
    const { memoryBytes, dir } = options;
    if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0)
      throw new InvalidOperationError(
        `BlockStore memoryBytes must be a positive integer, got ${String(memoryBytes)}`,
      );
    if (typeof dir !== 'string' || dir.length === 0)
      throw new InvalidOperationError(`BlockStore dir must be a non-empty path, got ${describe(dir)}`);
    this.budget = memoryBytes;
    this.dir = resolve(dir);
  }

  /**
   * Stores a block under `id` for `owner` (e.g. 'action:<id>' or 'cache:<client>'); replaces an
   * existing one. The bytes are kept as given (not copied): do not mutate them afterwards.
   * Resolves once the spills it caused are written; if one fails, rejects and keeps no block
   * under `id` (the block that could not spill stays in memory). `index`, if given, is the
   * offsets of the block's segments (see the module doc), checked: from 0 to the block's length.
   */
  async put(id: string, data: Uint8Array, owner: string, index?: readonly number[]): Promise<void> {
    this.checkOpen();
    checkId(id);
    checkOwner(owner);
    if (!(data instanceof Uint8Array))
      throw new InvalidOperationError(`block ${id}: data must be a Uint8Array, got ${describe(data)}`);
    if (index !== undefined) checkIndex(id, index, data.byteLength);
    const old = this.entries.get(id);
    const oldGone = old ? this.drop(old) : undefined;
    const n = data.byteLength;
    const e: Entry = {
      id,
      owner,
      bytes: n,
      index: index && Object.freeze([...index]),
      state: 'memory',
      data,
      file: undefined,
      dropped: false,
      io: new Set(),
    };
    this.entries.set(id, e);
    let ids = this.owners.get(owner);
    if (!ids) this.owners.set(owner, (ids = new Set()));
    ids.add(id);

    let failure: unknown;
    if (n > this.budget) {
      // Larger than the whole budget: evicting everything else would not make it fit.
      e.state = 'writing';
      this.diskTotal += n;
      await this.writeOut(e).catch((err: unknown) => (failure = err));
    } else {
      const victims: Entry[] = [];
      for (const v of this.lru.values()) {
        if (this.memoryTotal + n <= this.budget) break;
        this.lru.delete(v.id);
        this.memoryTotal -= v.bytes;
        this.diskTotal += v.bytes;
        v.state = 'writing';
        victims.push(v);
      }
      this.lru.set(id, e);
      this.memoryTotal += n;
      const spilled = await Promise.allSettled(victims.map((v) => this.spill(v)));
      for (const r of spilled) if (r.status === 'rejected') failure ??= r.reason;
    }
    if (failure !== undefined && !e.dropped) await this.drop(e);
    const oldErr = await oldGone;
    if (failure !== undefined) throw asError(failure);
    if (oldErr) throw oldErr;
  }

  /**
   * The bytes of block `id`, or undefined. A block in memory becomes the most recently used; a
   * block on disk is read back but stays there (promoting it could evict another: thrashing).
   */
  async get(id: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkId(id);
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.data !== undefined) {
      if (e.state === 'memory') {
        this.lru.delete(id);
        this.lru.set(id, e);
      }
      return e.data;
    }
    const p = readFile(e.file!);
    this.track(e, p);
    const buf = await p;
    // A plain Uint8Array, like the in-memory case (callers must not rely on Buffer methods).
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * Bytes [start, end) of block `id`, or undefined if there is none. From memory a view (no copy);
   * from disk only that range is read. A range outside the block is refused.
   */
  async getRange(id: string, start: number, end: number): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkId(id);
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end > e.bytes
    )
      throw new InvalidOperationError(
        `block ${id} has ${e.bytes} bytes: cannot read the range [${String(start)}, ${String(end)})`,
      );
    if (e.data !== undefined) {
      if (e.state === 'memory') {
        this.lru.delete(id);
        this.lru.set(id, e);
      }
      return e.data.subarray(start, end);
    }
    const p = readRange(e.file!, start, end - start);
    this.track(e, p);
    return p;
  }

  /** The segment offsets block `id` was stored with (n + 1 of them), or undefined. */
  indexOf(id: string): readonly number[] | undefined {
    this.checkOpen();
    checkId(id);
    return this.entries.get(id)?.index;
  }

  /** Whether a block is stored under `id` (in memory or on disk). */
  has(id: string): boolean {
    this.checkOpen();
    checkId(id);
    return this.entries.has(id);
  }

  /** The byte length of block `id`, or undefined. */
  sizeOf(id: string): number | undefined {
    this.checkOpen();
    checkId(id);
    return this.entries.get(id)?.bytes;
  }

  /** Drops block `id` (its file is gone when this resolves); false if there was none. */
  async delete(id: string): Promise<boolean> {
    this.checkOpen();
    checkId(id);
    const e = this.entries.get(id);
    if (!e) return false;
    const err = await this.drop(e);
    if (err) throw err;
    return true;
  }

  /** Drops every block of an owner (its action ended, or its client is gone); returns how many. */
  async deleteOwner(owner: string): Promise<number> {
    this.checkOpen();
    checkOwner(owner);
    const ids = this.owners.get(owner);
    if (!ids) return 0;
    const gone = [...ids].map((id) => this.drop(this.entries.get(id)!));
    const errs = await Promise.all(gone);
    const err = errs.find((x) => x !== undefined);
    if (err) throw err;
    return gone.length;
  }

  /** Ids (and sizes) of stored blocks, optionally only those whose id starts with `prefix`; sorted by id. */
  list(prefix?: string): BlockInfo[] {
    this.checkOpen();
    const out: BlockInfo[] = [];
    for (const e of this.entries.values())
      if (prefix === undefined || e.id.startsWith(prefix))
        out.push({ id: e.id, bytes: e.bytes, onDisk: e.state !== 'memory', owner: e.owner });
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Block count, bytes in memory and on disk, and the files (and their bytes) written so far. */
  stats(): BlockStoreStats {
    this.checkOpen();
    return {
      blocks: this.entries.size,
      memoryBytes: this.memoryTotal,
      diskBytes: this.diskTotal,
      spills: this.spillCount,
      spilledBytes: this.spilledBytes,
    };
  }

  /**
   * Drops every block and deletes the spill files (after the reads and writes in flight settle),
   * and the directory if this store created it; idempotent. Later calls reject with a clear error
   * (the synchronous methods throw it).
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const e of [...this.entries.values()]) void this.drop(e);
    // Includes unlinks started earlier by delete/replace that have not finished yet.
    const errs = await Promise.all([...this.releases]);
    if (this.createdDir) await rmdir(this.dir).catch(() => undefined);
    const err = errs.find((x) => x !== undefined);
    if (err) throw err;
  }

  private checkOpen(): void {
    if (this.closing) throw new InvalidOperationError(`the BlockStore at ${this.dir} is closed`);
  }

  /** Writes an evicted block; on failure puts it back in memory, as least recently used. */
  private async spill(v: Entry): Promise<void> {
    try {
      await this.writeOut(v);
    } catch (err) {
      if (v.dropped) return; // nobody needs this block any more, so its failed spill does not matter
      v.state = 'memory';
      this.diskTotal -= v.bytes;
      this.memoryTotal += v.bytes;
      this.lru = new Map([[v.id, v], ...this.lru]);
      throw err;
    }
  }

  /** Writes an entry in state `writing` to its own new file, then (if still current) frees its bytes. */
  private async writeOut(e: Entry): Promise<void> {
    const hash = createHash('sha256').update(e.id).digest('hex').slice(0, 32);
    // Never the raw id: ids contain '/' and '..'; the hash keeps the name flat and inside `dir`.
    const file = join(this.dir, `${this.tag}-${hash}-${++this.fileSeq}.blk`);
    const data = e.data!;
    e.file = file;
    // 'wx': never follow or overwrite something already at that path.
    const p = this.ensureDir().then(() => writeFile(file, data, { flag: 'wx' }));
    this.track(e, p);
    try {
      await p;
    } catch (err) {
      e.file = undefined;
      // A partial file is ours; a name that already existed (EEXIST) is not.
      if ((err as { code?: unknown }).code !== 'EEXIST') await unlink(file).catch(() => undefined);
      throw err;
    }
    this.spillCount++;
    this.spilledBytes += e.bytes;
    if (!e.dropped) {
      e.state = 'disk';
      e.data = undefined;
    }
  }

  private ensureDir(): Promise<void> {
    this.dirReady ??= mkdir(this.dir, { recursive: true }).then(
      (first) => {
        if (first !== undefined) this.createdDir = true;
      },
      (err: unknown) => {
        this.dirReady = undefined; // let a later spill try again
        throw err;
      },
    );
    return this.dirReady;
  }

  private track(e: Entry, p: Promise<unknown>): void {
    e.io.add(p);
    const done = () => e.io.delete(p);
    void p.then(done, done);
  }

  /**
   * Makes `e` no longer the block of its id (synchronously: accounting, LRU, owner index) and
   * deletes its file once its I/O settles. Resolves to the unlink error, if any (never rejects).
   */
  private drop(e: Entry): Promise<Error | undefined> {
    if (e.dropped) return Promise.resolve(undefined);
    e.dropped = true;
    this.entries.delete(e.id); // not dropped means current
    const ids = this.owners.get(e.owner);
    if (ids?.delete(e.id) && ids.size === 0) this.owners.delete(e.owner);
    if (e.state === 'memory') {
      this.lru.delete(e.id);
      this.memoryTotal -= e.bytes;
    } else {
      this.diskTotal -= e.bytes;
    }
    e.data = undefined;
    if (e.file === undefined && e.io.size === 0) return Promise.resolve(undefined);
    const r = (async () => {
      await Promise.allSettled([...e.io]);
      const file = e.file;
      if (file === undefined) return undefined;
      e.file = undefined;
      try {
        await unlink(file);
        return undefined;
      } catch (err) {
        return isNotFound(err) ? undefined : asError(err);
      }
    })();
    this.releases.add(r);
    void r.then(() => this.releases.delete(r));
    return r;
  }
}
