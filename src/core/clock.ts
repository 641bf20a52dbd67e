/**
 * Time, injected. Every timer of the scheduling code (heartbeats, lease checks, re-announcements,
 * lease renewals, parking waits, request timeouts) goes through a {@link Clock}, so the same code
 * runs on real time in the daemons and on simulated time in the deterministic simulation
 * (src/sim), where a seeded scheduler decides when each timer fires.
 */

/** A timer, as {@link Clock.setTimeout} / {@link Clock.setInterval} return it. */
export interface Timer {
  /** Stops the timer; idempotent. */
  cancel(): void;
}

/** Milliseconds since some origin, and timers on the same time line. */
export interface Clock {
  /** Now, in milliseconds (only differences are meaningful). */
  now(): number;
  /** Calls `fn` once after `ms` (never keeps the process alive). */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` until cancelled (never keeps the process alive). */
  setInterval(fn: () => void, ms: number): Timer;
}

/** Real time: `Date.now()` and unref'd Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

/** Resolves after `ms` on `clock`, or at once (resolving, not rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      t.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
