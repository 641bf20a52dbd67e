/**
 * The data a client hosts for its tasks: the slices of `parallelize` collections and the encoded
 * values of broadcasts, by id, until the context drops them. Both backends keep them here; in
 * cluster mode workers read them in chunks with `fetch`.
 */
import { InvalidOperationError } from '../protocol/errors.js';

/** Slices and broadcasts hosted by a client (see module doc). */
export class HostedData {
  private readonly slices = new Map<string, readonly Uint8Array[]>();
  private readonly broadcasts = new Map<string, Uint8Array>();

  /** Hosts the slices of a `parallelize` collection. */
  putSlices(dataId: string, slices: readonly Uint8Array[]): void {
    this.slices.set(dataId, slices);
  }

  /** Slice `index` of collection `dataId`, if still hosted. */
  slice(dataId: string, index: number): Uint8Array | undefined {
    return this.slices.get(dataId)?.[index];
  }

  /** Stops hosting a collection's slices. */
  dropSlices(dataId: string): void {
    this.slices.delete(dataId);
  }

  /** Hosts a broadcast's encoded value. */
  putBroadcast(id: string, bytes: Uint8Array): void {
    this.broadcasts.set(id, bytes);
  }

  /** A broadcast's encoded value, if it was not destroyed. */
  broadcast(id: string): Uint8Array | undefined {
    return this.broadcasts.get(id);
  }

  /** Stops hosting a broadcast (it was destroyed). */
  dropBroadcast(id: string): void {
    this.broadcasts.delete(id);
  }

  /**
   * The chunk of at most `maxBytes` at `offset` of a hosted slice or broadcast, with its total
   * size; throws InvalidOperationError naming it when it is not hosted.
   */
  chunk(
    what: 'slice' | 'broadcast',
    id: string,
    index: number,
    offset: number,
    maxBytes: number,
  ): { data: Uint8Array; total: number } {
    const data = what === 'slice' ? this.slice(id, index) : this.broadcast(id);
    if (!data) throw new InvalidOperationError(`${what} ${id} is not hosted here`);
    return { data: data.subarray(offset, offset + maxBytes), total: data.byteLength };
  }

  /** Drops everything (the context stopped). */
  clear(): void {
    this.slices.clear();
    this.broadcasts.clear();
  }
}
