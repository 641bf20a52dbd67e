/**
 * The simulation's one source of time and chance: a seeded random generator, an event queue in
 * simulated time, and a {@link Clock} per host whose timers are events of that host. A paused host
 * runs none of its events until it resumes (they wait, in order, as a SIGSTOPped process's
 * would); a crashed host's events are dropped; a host's clock may jump (an offset on its `now`).
 * Every event runs alone, and the microtasks it starts settle before the next one, so a seed
 * replays exactly.
 */
import type { Clock, Timer } from '../core/clock.js';

/** A seeded generator (mulberry32): uniform floats in [0, 1). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

interface SimEvent {
  readonly seq: number;
  at: number;
  readonly host: string;
  readonly incarnation: number;
  readonly fn: () => void;
  cancelled: boolean;
}

interface HostState {
  incarnation: number;
  pausedUntil: number;
  offset: number;
}

/** The event queue and the hosts' clocks (see module doc). */
export class SimScheduler {
  readonly rng: Rng;
  private time = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];
  private readonly hosts = new Map<string, HostState>();
  /** Events run so far. */
  eventsRun = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** Simulated time, ms. */
  get now(): number {
    return this.time;
  }

  private state(host: string): HostState {
    let h = this.hosts.get(host);
    if (!h) this.hosts.set(host, (h = { incarnation: 0, pausedUntil: 0, offset: 0 }));
    return h;
  }

  /**
   * Schedules `fn` on `host` after `ms` of simulated time; it is dropped if the host crashes first
   * (or already crashed since `incarnation`).
   */
  at(host: string, ms: number, fn: () => void, incarnation = this.state(host).incarnation): Timer {
    const ev: SimEvent = {
      seq: this.seq++,
      at: this.time + Math.max(0, ms),
      host,
      incarnation,
      fn,
      cancelled: false,
    };
    this.push(ev);
    return { cancel: () => void (ev.cancelled = true) };
  }

  /** The clock of `host`'s current incarnation (its timers die with it). */
  clockFor(host: string): Clock {
    const state = this.state(host);
    const inc = state.incarnation;
    const at = (ms: number, fn: () => void) => this.at(host, ms, fn, inc);
    return {
      now: () => this.time + state.offset,
      setTimeout: (fn, ms) => at(ms, fn),
      setInterval: (fn, ms) => {
        let t: Timer | undefined;
        let stopped = false;
        const tick = () => {
          if (stopped) return;
          t = at(ms, tick);
          fn();
        };
        t = at(ms, tick);
        return {
          cancel: () => {
            stopped = true;
            t?.cancel();
          },
        };
      },
    };
  }

  /** Drops every pending event of `host` (it crashed); its next clock is a new incarnation. */
  crash(host: string): void {
    this.state(host).incarnation++;
  }

  /** Holds `host`'s events until `ms` from now. */
  pause(host: string, ms: number): void {
    const s = this.state(host);
    s.pausedUntil = Math.max(s.pausedUntil, this.time + ms);
  }

  /** Moves `host`'s clock by `ms` (forwards or backwards). */
  jump(host: string, ms: number): void {
    this.state(host).offset += ms;
  }

  /** Resumes every paused host now. */
  resumeAll(): void {
    for (const h of this.hosts.values()) h.pausedUntil = Math.min(h.pausedUntil, this.time);
  }

  /**
   * Runs events in time order until `done()` holds or simulated time passes `until`; after each
   * event the microtasks it started settle. Returns whether `done()` held.
   */
  async run(until: number, done: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      await settle();
      if (done()) return true;
      const ev = this.pop();
      if (!ev) return done();
      if (ev.at > until) {
        this.push(ev);
        this.time = until;
        return done();
      }
      const h = this.state(ev.host);
      if (ev.cancelled || ev.incarnation !== h.incarnation) continue;
      if (h.pausedUntil > ev.at) {
        // The host is stopped: the event waits until it resumes (keeping its order).
        ev.at = h.pausedUntil;
        this.push(ev);
        continue;
      }
      this.time = Math.max(this.time, ev.at);
      this.eventsRun++;
      ev.fn();
    }
  }

  private push(ev: SimEvent): void {
    const a = this.heap;
    a.push(ev);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const a = this.heap;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lets every microtask started so far (and those they start) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
