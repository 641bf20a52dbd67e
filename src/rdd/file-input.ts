/**
 * File inputs: listing (a file, a directory, a glob, or a comma-separated list of those), Hadoop's
 * split computation, and reading a byte-range split as lines with Hadoop's boundary rule: a line
 * belongs to the split in which it starts, where a split starting at s > 0 owns lines starting in
 * (s, end] and the first split also owns the line at 0. Gzip files are read whole.
 */
import { closeSync, openSync, readSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve, join, basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { InvalidOperationError } from '../protocol/errors.js';

/** Hadoop's block size for the local file system (`fs.local.block.size`): the largest split. */
export const LOCAL_BLOCK_SIZE_BYTES = 32 * 1024 * 1024;
/** Hadoop's SPLIT_SLOP: the last split may be up to 10% larger than the others. */
const SPLIT_SLOP = 1.1;

/** A listed input file and its identity (path, size, mtime) for content ids. */
export interface InputFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A byte range of a file; gzip files are one split read whole. */
export interface FileSplit {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly gzip: boolean;
}

function hidden(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

function stat(path: string): InputFile {
  const s = statSync(path);
  return { path, size: s.size, mtimeMs: Math.floor(s.mtimeMs) };
}

function listOne(spec: string): InputFile[] {
  if (isDynamicPattern(spec)) {
    return globSync(spec, { absolute: true, onlyFiles: true, dot: false })
      .filter((p) => !hidden(basename(p)))
      .sort()
      .map(stat);
  }
  const path = resolve(spec);
  let s;
  try {
    s = statSync(path);
  } catch {
    throw new InvalidOperationError(`Input path does not exist: ${path}`);
  }
  if (!s.isDirectory()) return [{ path, size: s.size, mtimeMs: Math.floor(s.mtimeMs) }];
  return readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isFile() && !hidden(d.name))
    .map((d) => join(path, d.name))
    .sort()
    .map(stat);
}

/**
 * Lists the files of a path spec: a file, a directory (its visible files, not recursive), a glob,
 * or several of these separated by commas. Throws if nothing matches.
 */
export function listInputFiles(spec: string): InputFile[] {
  const parts = spec.includes(',') && !existsPlain(spec) ? spec.split(',').map((s) => s.trim()) : [spec];
  const files = parts.flatMap(listOne);
  if (files.length === 0)
    throw new InvalidOperationError(`Input path does not exist or matches no files: ${spec}`);
  return files;
}

function existsPlain(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Hadoop's FileInputFormat.getSplits for `minPartitions`, with one difference where the block size
 * caps the split size (files larger than `minPartitions` blocks): a file is cut into as many
 * splits as Hadoop would (rounded up to a multiple of `minPartitions` for a single file) of equal
 * size, instead of full blocks and a small remainder, so that the tasks share the slots evenly.
 */
export function computeSplits(files: readonly InputFile[], minPartitions: number): FileSplit[] {
  const total = files.reduce((s, f) => s + f.size, 0);
  const m = Math.max(minPartitions, 1);
  const goal = total / m;
  const splitSize = Math.max(1, Math.min(goal, LOCAL_BLOCK_SIZE_BYTES));
  const capped = goal > LOCAL_BLOCK_SIZE_BYTES;
  const splits: FileSplit[] = [];
  for (const f of files) {
    const gzip = f.path.endsWith('.gz');
    if (gzip || f.size === 0) {
      splits.push({ path: f.path, start: 0, end: f.size, gzip });
      continue;
    }
    if (capped) {
      let k = 1;
      for (let remaining = f.size; remaining / splitSize > SPLIT_SLOP; remaining -= Math.floor(splitSize))
        k++;
      if (files.length === 1) k = Math.ceil(k / m) * m;
      for (let i = 0; i < k; i++) {
        const start = Math.floor((i * f.size) / k);
        splits.push({ path: f.path, start, end: Math.floor(((i + 1) * f.size) / k), gzip });
      }
      continue;
    }
    let remaining = f.size;
    while (remaining / splitSize > SPLIT_SLOP) {
      const start = f.size - remaining;
      const len = Math.floor(splitSize);
      splits.push({ path: f.path, start, end: start + len, gzip });
      remaining -= len;
    }
    if (remaining > 0) splits.push({ path: f.path, start: f.size - remaining, end: f.size, gzip });
  }
  return splits;
}

/** Groups whole files into about `minPartitions` partitions by size (Spark's WholeTextFileRDD). */
export function groupWholeFiles(files: readonly InputFile[], minPartitions: number): string[][] {
  const total = files.reduce((s, f) => s + f.size, 0);
  const maxSplit = Math.ceil(total / Math.max(minPartitions, 1));
  const groups: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const f of files) {
    cur.push(f.path);
    bytes += f.size;
    if (bytes >= maxSplit && groups.length < minPartitions - 1) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length > 0 || groups.length === 0) groups.push(cur);
  return groups;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Splits a decoded text into lines on \n, dropping one trailing \r per line (Hadoop also ends
 * lines at \r\n). Cuts one line at a time rather than `split('\n')`, whose array would keep every
 * line of the chunk alive (and promoted out of the young generation) until the last is emitted.
 */
function splitLines(text: string, emit: (line: string) => void): void {
  const cr = text.indexOf('\r') >= 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const l = nl < 0 ? text.slice(start) : text.slice(start, nl);
    emit(cr && l.endsWith('\r') ? l.slice(0, -1) : l);
    if (nl < 0) return;
    start = nl + 1;
  }
}

/** Text splits are decoded and split into lines this many bytes at a time (bounded memory per task). */
const TEXT_READ_BYTES = 1024 * 1024;

/** The offset of the first newline at or after `from` (before `size`), or -1. */
async function findNewline(fh: FileHandle, from: number, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let pos = from; pos < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) return -1;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    if (nl >= 0) return pos + nl;
    pos += bytesRead;
  }
  return -1;
}

/**
 * Reads a text split and calls `emit` for each line it owns. The owned byte range (from the first
 * line starting after `start`, or 0, to the newline ending the line that covers `end`) is read and
 * decoded in chunks of {@link TEXT_READ_BYTES}, cut at newlines (never inside a UTF-8 sequence).
 */
export async function readTextSplit(split: FileSplit, emit: (line: string) => void): Promise<void> {
  if (split.gzip) {
    const text = gunzipSync(readFileSync(split.path)).toString('utf8');
    if (text.length === 0) return;
    splitLines(text.endsWith('\n') ? text.slice(0, -1) : text, emit);
    return;
  }
  if (split.end <= split.start) return;
  const fh = await open(split.path, 'r');
  try {
    const size = (await fh.stat()).size;
    let lineStart = 0;
    if (split.start > 0) {
      // Skip to the first line starting after `start`; the line at `start` itself belongs to the previous split.
      const nl = await findNewline(fh, split.start, size);
      if (nl < 0) return;
      lineStart = nl + 1;
      if (lineStart > split.end) return; // no line starts in (start, end]
    }
    // The last owned line starts at or before `end`; it ends at the next newline, or at the end of the file.
    const nlEnd = await findNewline(fh, Math.max(split.end, lineStart), size);
    const stop = nlEnd < 0 ? size : nlEnd;
    let buf: Buffer = Buffer.allocUnsafe(Math.max(1, Math.min(TEXT_READ_BYTES, stop - lineStart)));
    let have = 0;
    for (let pos = lineStart; pos < stop;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, have, Math.min(buf.length - have, stop - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      have += bytesRead;
      const nl = buf.lastIndexOf(10, have - 1);
      if (nl < 0) continue;
      splitLines(buf.toString('utf8', 0, nl), emit);
      buf.copyWithin(0, nl + 1, have);
      have -= nl + 1;
    }
    // The rest is the last owned line: ended by the newline at `stop`, or the file's unterminated last line.
    if (nlEnd >= 0 || have > 0) {
      const last = buf.toString('utf8', 0, have);
      emit(last.endsWith('\r') ? last.slice(0, -1) : last);
    }
  } finally {
    await fh.close();
  }
}

/** Reads a whole file (gunzipped if it ends in .gz). */
export function readWholeFile(path: string): Buffer {
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** Reads fixed-length records of a split (`binaryRecords`). Splits are aligned to the record length. */
export function readRecords(split: FileSplit, recordLength: number, emit: (rec: Buffer) => void): void {
  const fd = openSync(split.path, 'r');
  try {
    const len = split.end - split.start;
    const buf = Buffer.allocUnsafe(len);
    let off = 0;
    while (off < len) {
      const n = readSync(fd, buf, off, len - off, split.start + off);
      if (n === 0) break;
      off += n;
    }
    for (let i = 0; i + recordLength <= off; i += recordLength)
      emit(Buffer.from(buf.subarray(i, i + recordLength)));
  } finally {
    closeSync(fd);
  }
}

/** Splits for `binaryRecords`: like {@link computeSplits}, with boundaries on whole records. */
export function recordSplits(
  files: readonly InputFile[],
  recordLength: number,
  minPartitions: number,
): FileSplit[] {
  return computeSplits(files, minPartitions).map((s) => {
    const start = Math.ceil(s.start / recordLength) * recordLength;
    const end = s.end === statSize(files, s.path) ? s.end : Math.ceil(s.end / recordLength) * recordLength;
    return { ...s, start, end: Math.max(start, end), gzip: false };
  });
}

function statSize(files: readonly InputFile[], path: string): number {
  return files.find((f) => f.path === path)?.size ?? 0;
}
