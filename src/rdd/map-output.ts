/**
 * A shuffle map task's output as it is stored and served (Spark's sort shuffle, Ballista's
 * shuffle writer): ONE buffer holding its buckets concatenated in reduce-partition order, and an
 * index of n + 1 offsets (bucket r is bytes [index[r], index[r + 1])). An empty bucket is an empty
 * range. RDD buckets are bucket.ts's bytes; a SQL map task's buckets are whole Parquet files, one
 * per reduce partition, so a reducer hands each range to DuckDB as it is.
 */

/** A map task's buckets, concatenated, and where each starts and ends. */
export interface MapOutput {
  /** The buckets, reduce partition 0 first. */
  readonly data: Uint8Array;
  /** n + 1 offsets into `data`: 0 first, `data.byteLength` last, never decreasing. */
  readonly index: readonly number[];
}

/** The map output of these buckets (one per reduce partition, in order): copied into one buffer. */
export function packMapOutput(buckets: readonly Uint8Array[]): MapOutput {
  const index = [0];
  let total = 0;
  for (const b of buckets) index.push((total += b.byteLength));
  const data = new Uint8Array(total);
  for (let r = 0; r < buckets.length; r++) data.set(buckets[r]!, index[r]);
  return { data, index };
}

/** The number of reduce partitions of an index (its offsets less one). */
export function bucketCount(index: readonly number[]): number {
  return index.length - 1;
}

/** The byte range [start, end) of bucket `reduce` (a RangeError outside the index). */
export function bucketRange(index: readonly number[], reduce: number): readonly [number, number] {
  const start = index[reduce];
  const end = index[reduce + 1];
  if (!Number.isInteger(reduce) || start === undefined || end === undefined)
    throw new RangeError(`no bucket ${reduce}: the map output has ${bucketCount(index)}`);
  return [start, end];
}

/** Bucket `reduce` of a map output (a view, no copy). */
export function bucketOf(out: MapOutput, reduce: number): Uint8Array {
  const [start, end] = bucketRange(out.index, reduce);
  return out.data.subarray(start, end);
}

/** The byte size of every bucket, in reduce-partition order. */
export function bucketSizes(index: readonly number[]): number[] {
  return index.slice(1).map((end, r) => end - index[r]!);
}
