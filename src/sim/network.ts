/**
 * The simulation's {@link DeliveryPolicy}: every message of the memory network is delayed by a
 * seeded amount (so messages on different links reorder; each link keeps its order, as a TCP
 * connection does, unless `reorder` is set), and while faults are on some are dropped or delivered
 * twice, and none cross a cut between two hosts. Deliveries are events of the receiving host, so
 * a paused host receives nothing until it resumes.
 */
import type { DeliveryPolicy, MessageKind } from '../partition-server/memory-transport.js';
import type { SimScheduler } from './scheduler.js';

/** How unreliable the network is while faults are on. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly drop: number;
  /** Probability that a message arrives twice. */
  readonly duplicate: number;
  /** Largest delay of a message, ms (each is uniform in [0, maxDelayMs]). */
  readonly maxDelayMs: number;
  /**
   * Links do not keep order (default false: each link is FIFO, as a TCP connection): every
   * message's delay is drawn on its own, so one may overtake an earlier one from the same host to
   * the same host, as on a transport that reorders or with records and replies on separate
   * connections.
   */
  readonly reorder?: boolean;
}

/** Counts of what the policy did, for the trace and the fault checks. */
export interface NetworkCounters {
  sent: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

/** The seeded network (see module doc). */
export class SimNetworkPolicy implements DeliveryPolicy {
  faultsOn = true;
  readonly counters: NetworkCounters = { sent: 0, dropped: 0, duplicated: 0, cut: 0 };
  private readonly cuts = new Set<string>();
  /** When the last message on each link is delivered (links are FIFO). */
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly sched: SimScheduler,
    private readonly faults: NetworkFaults,
    private readonly trace: (line: string) => void,
  ) {}

  /** Cuts `a` off from `b` (both ways) until {@link heal}. */
  cut(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  /** Heals every cut involving `host` (or all cuts). */
  heal(host?: string): void {
    for (const c of [...this.cuts])
      if (host === undefined || c.split('|').includes(host)) this.cuts.delete(c);
  }

  /** Drops the next message matching this (a targeted fault, for regression tests), once per entry. */
  readonly dropNext: Array<{ from?: string; to?: string; kind?: MessageKind; label: string }> = [];

  send(from: string, to: string, kind: MessageKind, bytes: number, deliver: () => void, label: string): void {
    this.counters.sent++;
    const rng = this.sched.rng;
    if (this.cuts.has(`${from}|${to}`)) {
      this.counters.cut++;
      return;
    }
    const targeted = this.dropNext.findIndex(
      (d) =>
        d.label === label && (d.from ?? from) === from && (d.to ?? to) === to && (d.kind ?? kind) === kind,
    );
    if (targeted >= 0) {
      this.dropNext.splice(targeted, 1);
      this.counters.dropped++;
      this.trace(`drop (targeted) ${kind} ${label} ${from}->${to}`);
      return;
    }
    // Each link (a TCP connection, in the daemons) keeps its order: a message never overtakes an
    // earlier one from the same host to the same host. Messages on different links reorder.
    const link = `${from}|${to}`;
    const delay = () => {
      const drawn = this.sched.now + rng.int(0, this.faults.maxDelayMs);
      if (this.faults.reorder === true) return drawn - this.sched.now;
      const at = Math.max(drawn, this.lastAt.get(link) ?? 0);
      this.lastAt.set(link, at);
      return at - this.sched.now;
    };
    if (this.faultsOn && rng.chance(this.faults.drop)) {
      this.counters.dropped++;
      this.trace(`drop ${kind} ${label} ${from}->${to} (${bytes} B)`);
      return;
    }
    this.sched.at(to, delay(), deliver);
    if (this.faultsOn && rng.chance(this.faults.duplicate)) {
      this.counters.duplicated++;
      this.sched.at(to, delay(), deliver);
    }
  }
}
