/**
 * Where the map outputs of shuffles are, as this worker has heard it: every worker that stores a
 * map output announces an `rdd` record `shuffle_<shuffleId>_<map>` (see {@link mapOutputId}),
 * withdrawn when the output is dropped, and forgotten when its holder dies; the record carries the
 * size of each bucket, so a reducer asks no holder for an empty one. Pure bookkeeping.
 */
import { shufflePrefix } from '../protocol/block-ids.js';
import { mapOutputId } from '../rdd/lineage.js';

/** One holder of a map output: its partition server, and its buckets' sizes if its record said. */
interface Holder {
  readonly endpoint: string;
  readonly buckets: readonly number[] | undefined;
}

/** Map output holders: shuffle → map index → holder node → its endpoint and bucket sizes. */
export class MapOutputView {
  private readonly outputs = new Map<string, Map<number, Map<string, Holder>>>();
  /** Outputs that were seen at least once (a later posting of their job is a recomputation). */
  private readonly seen = new Set<string>();

  /**
   * Records that `holder` (at `endpoint`) stores map output `map` of `shuffleId`, with these
   * bucket sizes if known (a later record of the same holder replaces them).
   */
  add(shuffleId: string, map: number, holder: string, endpoint: string, buckets?: readonly number[]): void {
    let byMap = this.outputs.get(shuffleId);
    if (!byMap) this.outputs.set(shuffleId, (byMap = new Map()));
    let holders = byMap.get(map);
    if (!holders) byMap.set(map, (holders = new Map()));
    const known = holders.get(holder);
    // A completion report (no sizes) does not erase what the holder's record said.
    holders.set(holder, {
      endpoint,
      buckets: buckets ?? (known?.endpoint === endpoint ? known.buckets : undefined),
    });
    this.seen.add(mapOutputId(shuffleId, map));
  }

  /** Forgets one holder of one output (withdrawn, or a fetch from it failed). */
  remove(shuffleId: string, map: number, holder: string): void {
    this.outputs.get(shuffleId)?.get(map)?.delete(holder);
  }

  /** Forgets the holder at `endpoint` for one output (a fetch from it failed). */
  removeEndpoint(shuffleId: string, map: number, endpoint: string): void {
    const holders = this.outputs.get(shuffleId)?.get(map);
    if (!holders) return;
    for (const [node, h] of [...holders]) if (h.endpoint === endpoint) holders.delete(node);
  }

  /** Forgets everything a dead holder stored. */
  removeHolder(holder: string): void {
    for (const byMap of this.outputs.values()) for (const holders of byMap.values()) holders.delete(holder);
  }

  /** Forgets every output of shuffles whose id starts with one of `prefixes` (`shuffle_<id>_`). */
  dropPrefixes(prefixes: readonly string[]): void {
    for (const shuffleId of [...this.outputs.keys()]) {
      if (prefixes.some((p) => shufflePrefix(shuffleId).startsWith(p))) {
        this.outputs.delete(shuffleId);
        for (const id of [...this.seen]) if (id.startsWith(shufflePrefix(shuffleId))) this.seen.delete(id);
      }
    }
  }

  /** An endpoint holding the output, preferring `self` (no copy over the network). */
  holder(shuffleId: string, map: number, self: string): string | undefined {
    const holders = this.outputs.get(shuffleId)?.get(map);
    if (!holders || holders.size === 0) return undefined;
    for (const h of holders.values()) if (h.endpoint === self) return self;
    return holders.values().next().value?.endpoint;
  }

  /** The size of bucket `reduce` at the holder at `endpoint`, if its record said. */
  bucketSize(shuffleId: string, map: number, endpoint: string, reduce: number): number | undefined {
    const holders = this.outputs.get(shuffleId)?.get(map);
    if (!holders) return undefined;
    for (const h of holders.values()) if (h.endpoint === endpoint) return h.buckets?.[reduce];
    return undefined;
  }

  /** Whether the output was ever announced (since its shuffle was last dropped). */
  wasSeen(shuffleId: string, map: number): boolean {
    return this.seen.has(mapOutputId(shuffleId, map));
  }
}
