/** `toDebugString`: the lineage drawn as Spark draws it, with `+-` at each shuffle boundary. */
import type { RDD } from './rdd.js';
import { StorageLevel } from './storage-level.js';

function bytesToString(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function debugSelf(rdd: RDD<any>): string[] {
  const level = rdd.getStorageLevel();
  const persistence = level.equals(StorageLevel.NONE) ? '' : String(level);
  const lines = [`${String(rdd)} [${persistence}]`];
  const info = rdd.context.storageInfo(rdd);
  if (info)
    lines.push(
      `    CachedPartitions: ${info.partitions}; MemorySize: ${bytesToString(info.bytes)}; DiskSize: 0.0 B`,
    );
  return lines;
}

function debugChildren(rdd: RDD<any>, prefix: string): string[] {
  const deps = rdd.dependencies();
  return deps.flatMap((d, i) => debugStringOf(d.rdd, prefix, d.shuffle, i === deps.length - 1));
}

function shuffleDebugString(rdd: RDD<any>, prefix: string, isLastChild: boolean): string[] {
  const partitionStr = `(${rdd.getNumPartitions()})`;
  const leftOffset = Math.floor((partitionStr.length - 1) / 2);
  const thisPrefix = prefix.replace(/\|\s+$/, '');
  const nextPrefix =
    thisPrefix +
    (isLastChild ? '  ' : '| ') +
    ' '.repeat(leftOffset) +
    '|' +
    ' '.repeat(partitionStr.length - leftOffset);
  const self = debugSelf(rdd).map((desc, i) =>
    i === 0 ? `${thisPrefix}+-${partitionStr} ${desc}` : `${nextPrefix}${desc}`,
  );
  return [...self, ...debugChildren(rdd, nextPrefix)];
}

function debugStringOf(rdd: RDD<any>, prefix: string, isShuffle: boolean, isLastChild: boolean): string[] {
  if (isShuffle) return shuffleDebugString(rdd, prefix, isLastChild);
  return [...debugSelf(rdd).map((l) => prefix + l), ...debugChildren(rdd, prefix)];
}

/** The lineage of `rdd` in Spark's format (RDD.toDebugString). */
export function debugString(rdd: RDD<any>): string {
  const partitionStr = `(${rdd.getNumPartitions()})`;
  const leftOffset = Math.floor((partitionStr.length - 1) / 2);
  const nextPrefix = ' '.repeat(leftOffset) + '|' + ' '.repeat(partitionStr.length - leftOffset);
  const self = debugSelf(rdd).map((desc, i) =>
    i === 0 ? `${partitionStr} ${desc}` : `${nextPrefix} ${desc}`,
  );
  return [...self, ...debugChildren(rdd, nextPrefix)].join('\n');
}
