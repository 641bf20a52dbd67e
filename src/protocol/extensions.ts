/**
 * The codec's own extension types: references that `env` values and broadcast values carry
 * (functions, broadcast variables, accumulators, Maps). Registered when the codec loads, so every
 * process that decodes a task understands them. Type codes 62–65.
 */
import { addExtension } from 'msgpackr';

/** A function inside an env, shipped as checked source. */
export class FnRef {
  constructor(readonly src: string) {}
}

/** A broadcast variable inside an env; the task resolves it to the broadcast value. */
export class BroadcastRef {
  constructor(readonly id: string) {}
}

/** An accumulator inside an env; the task resolves it to a local accumulator whose updates return with the result. */
export class AccumulatorRef {
  constructor(
    readonly id: string,
    readonly zero: unknown,
    readonly addInPlace: unknown,
  ) {}
}

/** A JavaScript Map inside an env (msgpack maps decode as objects, so Maps get their own extension). */
export class EnvMap {
  constructor(readonly entries: unknown[]) {}
}

addExtension({ Class: FnRef, type: 63, write: (r) => r.src, read: (src: string) => new FnRef(src) });
addExtension({
  Class: BroadcastRef,
  type: 64,
  write: (r) => r.id,
  read: (id: string) => new BroadcastRef(id),
});
addExtension({
  Class: AccumulatorRef,
  type: 65,
  write: (r) => [r.id, r.zero, r.addInPlace],
  read: (a: [string, unknown, unknown]) => new AccumulatorRef(a[0], a[1], a[2]),
});
addExtension({
  Class: EnvMap,
  type: 62,
  write: (m) => m.entries,
  read: (entries: unknown[]) => {
    const m = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < entries.length; i += 2) m.set(entries[i], entries[i + 1]);
    return m;
  },
});
