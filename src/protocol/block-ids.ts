/**
 * Block ids, the one grammar (Spark's BlockId.scala): typed constructors and one parser. Ids
 * travel in `rdd` records, `fetch` and `drop` requests, and name blocks in every block store.
 *
 *   rdd_<node>_<partition>             a partition of a persisted node
 *   shuffle_<shuffle>_<map>.data       a map output as stored: ONE block, its buckets concatenated
 *                                      in reduce-partition order, with an index of n + 1 offsets
 *                                      kept in the same store entry (Spark's sort shuffle)
 *   shuffle_<shuffle>_<map>_<reduce>   a bucket: what a reducer fetches; the holder resolves it
 *                                      through the index to a byte range of the `.data` block
 *                                      (never stored on its own)
 *   shuffle_<shuffle>_<map>            the record of a map output (names no stored block)
 *   result_<job>                       a task result too large to travel inline
 *
 * Node and shuffle ids are 22-character content ids (base64url: they may contain `_`), so a
 * prefix ending in `_` after one of them never matches another's blocks.
 */

/** A parsed block id. */
export type BlockId =
  | { readonly kind: 'rdd'; readonly node: string; readonly partition: number }
  | { readonly kind: 'shuffle'; readonly shuffleId: string; readonly map: number; readonly reduce: number }
  | { readonly kind: 'map-output'; readonly shuffleId: string; readonly map: number }
  | { readonly kind: 'map-data'; readonly shuffleId: string; readonly map: number }
  | { readonly kind: 'result'; readonly jobId: string };

/** The id of partition `partition` of persisted node `node`. */
export function rddBlockId(node: string, partition: number): string {
  return `rdd_${node}_${partition}`;
}

/** The id of reduce partition `reduce` of map output `map` of shuffle `shuffleId`. */
export function shuffleBlockId(shuffleId: string, map: number, reduce: number): string {
  return `shuffle_${shuffleId}_${map}_${reduce}`;
}

/** The record id announcing map output `map` of shuffle `shuffleId`. */
export function mapOutputId(shuffleId: string, map: number): string {
  return `shuffle_${shuffleId}_${map}`;
}

/** The id of the one stored block of map output `map` of shuffle `shuffleId` (its buckets and index). */
export function mapDataId(shuffleId: string, map: number): string {
  return `shuffle_${shuffleId}_${map}${DATA}`;
}

/** The id of a task result stored as a block (job `jobId`). */
export function resultBlockId(jobId: string): string {
  return `result_${jobId}`;
}

/** The prefix of every block and record of shuffle `shuffleId` (for `drop`). */
export function shufflePrefix(shuffleId: string): string {
  return `shuffle_${shuffleId}_`;
}

/** The prefix of every stored partition of persisted node `node` (for `drop`). */
export function rddPrefix(node: string): string {
  return `rdd_${node}_`;
}

const CONTENT_ID = 22;
const DATA = '.data';
const index = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);

/**
 * Parses an id of the grammar above; undefined for anything else. A `shuffle_` id is a map
 * output with one number after the shuffle id (its data block with `.data` after that), a bucket
 * with two (shuffle ids are content ids of
 * fixed length; an id of another length is read from the right).
 */
export function parseBlockId(id: string): BlockId | undefined {
  if (id.startsWith('result_') && id.length > 7) return { kind: 'result', jobId: id.slice(7) };
  const rdd = /^rdd_(.+)_(\d+)$/.exec(id);
  if (rdd) return { kind: 'rdd', node: rdd[1]!, partition: Number(rdd[2]) };
  if (!id.startsWith('shuffle_')) return undefined;
  if (id.endsWith(DATA)) {
    const out = parseBlockId(id.slice(0, -DATA.length));
    return out?.kind === 'map-output'
      ? { kind: 'map-data', shuffleId: out.shuffleId, map: out.map }
      : undefined;
  }
  const rest = id.slice('shuffle_'.length);
  const fixed = rest.length > CONTENT_ID && rest[CONTENT_ID] === '_';
  const shuffleId = fixed ? rest.slice(0, CONTENT_ID) : undefined;
  const tail = fixed ? rest.slice(CONTENT_ID + 1).split('_') : undefined;
  if (shuffleId !== undefined && tail) {
    const [a, b, extra] = tail;
    const map = a === undefined ? undefined : index(a);
    if (map === undefined || extra !== undefined) return undefined;
    if (b === undefined) return { kind: 'map-output', shuffleId, map };
    const reduce = index(b);
    return reduce === undefined ? undefined : { kind: 'shuffle', shuffleId, map, reduce };
  }
  // Not a content id (tests name shuffles freely): the last number is the map index.
  const cut = rest.lastIndexOf('_');
  const map = index(rest.slice(cut + 1));
  if (cut <= 0 || map === undefined) return undefined;
  return { kind: 'map-output', shuffleId: rest.slice(0, cut), map };
}
