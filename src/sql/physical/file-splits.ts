/**
 * How a file source's files become scan partitions, as Spark's `FilePartition` packs them: a
 * partition holds whole files, in path order, until adding the next one would pass the split
 * size, where every file also costs `openCostInBytes`. The split size is Spark's
 * `maxSplitBytes`: `min(maxPartitionBytes, max(openCostInBytes, total / minPartitionNum))`, with
 * the total counting each file's open cost. So twelve 16 MB files on four slots are read by four
 * tasks of three files, not twelve tasks that each start, build their broadcast hash tables and
 * write a shuffle output of their own. Files are never split (a Parquet file is one unit here).
 */

/** The settings of {@link packFiles} (`spark.sql.files.*`, `defaultParallelism`). */
export interface FilePackingConf {
  /** `spark.sql.files.maxPartitionBytes` (128 MB): the most bytes a partition is given. */
  readonly maxPartitionBytes: number;
  /** `spark.sql.files.openCostInBytes` (4 MB): what opening one file is counted as. */
  readonly openCostInBytes: number;
  /** `spark.sql.files.minPartitionNum` (the default parallelism): partitions aimed at, at least. */
  readonly minPartitionNum: number;
}

/** Spark's defaults for {@link FilePackingConf}, given the default parallelism. */
export function defaultFilePacking(defaultParallelism: number): FilePackingConf {
  return {
    maxPartitionBytes: 128 * 1024 * 1024,
    openCostInBytes: 4 * 1024 * 1024,
    minPartitionNum: Math.max(1, defaultParallelism),
  };
}

/**
 * The scan partitions of `files` (each a list of whole files, in the order given), `sizeOf`
 * giving each file's bytes. An empty list gives one empty partition, as a source without files
 * still has one (empty) task.
 */
export function packFiles(
  files: readonly string[],
  sizeOf: (file: string) => number,
  conf: FilePackingConf,
): string[][] {
  if (files.length === 0) return [[]];
  const open = Math.max(0, conf.openCostInBytes);
  const total = files.reduce((t, f) => t + sizeOf(f) + open, 0);
  const perCore = total / Math.max(1, conf.minPartitionNum);
  const maxSplit = Math.min(conf.maxPartitionBytes, Math.max(open, perCore));
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const f of files) {
    const size = sizeOf(f);
    if (current.length > 0 && bytes + size > maxSplit) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += size + open;
  }
  out.push(current);
  return out;
}
