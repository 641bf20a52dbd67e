/** Broadcast variables: a read-only value shipped to each worker once, passed to functions through env. */
import { InvalidOperationError } from '../protocol/errors.js';
import { BroadcastRef, type EnvShippable } from './env.js';

/** What a broadcast needs from its context. */
export interface BroadcastHost {
  releaseBroadcast(id: string, destroy: boolean): void;
}

/**
 * A broadcast variable (PySpark's `Broadcast`). Create with `sc.broadcast(value)`, pass it in env,
 * read `.value` inside the function: `rdd.map((x, env) => env.b.value[x], { b })`.
 */
export class Broadcast<T> implements EnvShippable {
  private destroyed = false;

  constructor(
    readonly id: string,
    private readonly _value: T,
    private readonly host: BroadcastHost,
  ) {}

  /** The value. On the client after `destroy()` this throws. */
  get value(): T {
    if (this.destroyed)
      throw new InvalidOperationError(`broadcast ${this.id} was destroyed and can no longer be used`);
    return this._value;
  }

  /** Drops cached copies on workers; the value is sent again if used later. */
  unpersist(): void {
    this.host.releaseBroadcast(this.id, false);
  }

  /** Drops the value everywhere; later use is an error. */
  destroy(): void {
    this.destroyed = true;
    this.host.releaseBroadcast(this.id, true);
  }

  toEnvRef(): BroadcastRef {
    if (this.destroyed)
      throw new InvalidOperationError(`broadcast ${this.id} was destroyed and can no longer be used`);
    return new BroadcastRef(this.id);
  }

  toString(): string {
    return `Broadcast(${this.id})`;
  }
}

/** The broadcast as a task sees it: just the value. */
export class TaskBroadcast<T> {
  constructor(
    readonly id: string,
    readonly value: T,
  ) {}
  unpersist(): void {
    throw new InvalidOperationError('a broadcast can only be unpersisted on the client');
  }
  destroy(): void {
    throw new InvalidOperationError('a broadcast can only be destroyed on the client');
  }
}
