/**
 * Where the map outputs of shuffles are, as this worker has heard it: every worker that stores a
 * map output announces an `rdd` record `shuffle_<shuffleId>_<map>` (see {@link mapOutputId}),
 * withdrawn when the output is dropped, and forgotten when its holder dies. Pure bookkeeping.
 */
import { shufflePrefix } from '../protocol/block-ids.js';
import { mapOutputId } from '../rdd/lineage.js';

/** Map output holders: shuffle → map index → holder node → its partition server endpoint. */
export class MapOutputView {
  private readonly outputs = new Map<string, Map<number, Map<string, string>>>();
  /** Outputs that were seen at least once (a later posting of their job is a recomputation). */
  private readonly seen = new Set<string>();

  /** Records that `holder` (at `endpoint`) stores map output `map` of `shuffleId`. */
  add(shuffleId: string, map: number, holder: string, endpoint: string): void {
    let byMap = this.outputs.get(shuffleId);
    if (!byMap) this.outputs.set(shuffleId, (byMap = new Map()));
    let holders = byMap.get(map);
    if (!holders) byMap.set(map, (holders = new Map()));
    holders.set(holder, endpoint);
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
    for (const [node, e] of [...holders]) if (e === endpoint) holders.delete(node);
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
    for (const e of holders.values()) if (e === self) return e;
    return holders.values().next().value;
  }

  /** Whether the output was ever announced (since its shuffle was last dropped). */
  wasSeen(shuffleId: string, map: number): boolean {
    return this.seen.has(mapOutputId(shuffleId, map));
  }
}
