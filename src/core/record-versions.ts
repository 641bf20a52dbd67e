/**
 * The versions of the records a peer has heard, so that a message overtaken by a newer one about
 * the same thing cannot undo it. Every `worker`, `client`, `job` and `rdd` record and every
 * `withdraw` of a job or block carries its publisher's incarnation and a sequence number that
 * grows with every record that publisher sends (docs/PROTOCOL.md, "Versions"). A record or withdraw
 * older than, or as old as, the last one heard about the same thing (kind, id, publisher) is stale:
 * a withdraw that arrives after the record re-posted behind it, or a snapshot's record that
 * arrives after its withdraw. Pure: time comes in as arguments.
 */
import type { Record } from '../protocol/messages.js';

/** The version of a record: its publisher's incarnation, then its sequence number. */
export interface RecordVersion {
  readonly inc: number;
  readonly seq: number;
}

/** What a record is about (one per kind, id and publisher) and its version; undefined when unversioned. */
export function versionOf(r: Record): { key: string; version: RecordVersion } | undefined {
  switch (r.kind) {
    case 'worker':
    case 'client':
      return { key: `peer\0${r.peer.node}`, version: { inc: r.peer.incarnation, seq: r.seq } };
    case 'job':
      return r.seq === undefined
        ? undefined
        : { key: `job\0${r.jobId}\0${r.source.node}`, version: { inc: r.source.incarnation, seq: r.seq } };
    case 'rdd':
      return r.seq === undefined
        ? undefined
        : { key: `rdd\0${r.blockId}\0${r.holder.node}`, version: { inc: r.holder.incarnation, seq: r.seq } };
    case 'withdraw':
      if (r.of === 'peer' || r.inc === undefined || r.seq === undefined) return undefined;
      return { key: `${r.of}\0${r.id}\0${r.holder}`, version: { inc: r.inc, seq: r.seq } };
    case 'peer':
    case 'suspect':
    case 'dead':
      return undefined;
  }
}

/** Whether `a` is newer than `b`: a later incarnation, or the same one and a later sequence number. */
export function newer(a: RecordVersion, b: RecordVersion): boolean {
  return a.inc > b.inc || (a.inc === b.inc && a.seq > b.seq);
}

/**
 * The newest version heard of each thing, kept for `retainMs` after it was last heard (a message
 * delayed longer than that is not guarded against; re-announced records refresh their entry).
 */
export class RecordVersions {
  /** key → newest version and when it was heard; in the order they were heard (oldest first). */
  private readonly newest = new Map<string, { version: RecordVersion; at: number }>();
  /** Records and withdraws refused as stale, for tests and the console. */
  stale = 0;

  constructor(private readonly retainMs: number) {}

  /**
   * Whether `r` is to be applied at time `now`: unversioned records always are; a versioned one
   * only when newer than every record and withdraw heard about the same thing, and it becomes
   * the newest.
   */
  admit(r: Record, now: number): boolean {
    const v = versionOf(r);
    if (!v) return true;
    const had = this.newest.get(v.key);
    if (had && !newer(v.version, had.version)) {
      this.stale++;
      return false;
    }
    this.newest.delete(v.key); // re-inserted at the end: the map stays ordered by `at`
    this.newest.set(v.key, { version: v.version, at: now });
    return true;
  }

  /** Forgets versions last heard before `now - retainMs`. */
  prune(now: number): void {
    const cutoff = now - this.retainMs;
    for (const [key, e] of this.newest) {
      if (e.at >= cutoff) break;
      this.newest.delete(key);
    }
  }

  /** How many things have a version kept. */
  get size(): number {
    return this.newest.size;
  }
}
