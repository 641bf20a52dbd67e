/**
 * Accumulators: tasks add to them through env, the client reads `.value`. Updates travel back with
 * each successful task and are applied once per partition of the stage that made them.
 */
import { InvalidOperationError } from '../protocol/errors.js';
import { AccumulatorRef, type EnvShippable } from './env.js';
import { lib, shipFunction, type Callable } from './functions.js';

/** How values of an accumulator combine (PySpark's AccumulatorParam). Functions are shipped as source. */
export interface AccumulatorParam<T> {
  /** The zero for a task's local copy, given the accumulator's initial value. Runs on the client. */
  zero: (value: T) => T;
  /** Adds `b` into `a` and returns the result. Runs in tasks and on the client; may not capture variables. */
  addInPlace: (a: T, b: T) => T;
}

/** A shared variable that tasks can only add to (PySpark's `Accumulator`). Create with `sc.accumulator(initial)`. */
export class Accumulator<T> implements EnvShippable {
  private current: T;
  private readonly shippedAdd: Callable;
  private readonly zeroValue: T;

  constructor(
    readonly id: string,
    initial: T,
    private readonly param: AccumulatorParam<T> | undefined,
  ) {
    if (param === undefined && typeof initial !== 'number') {
      throw new InvalidOperationError(
        `accumulator: no default way to add ${typeof initial} values; pass a param { zero(v), addInPlace(a, b) }`,
      );
    }
    this.current = initial;
    this.shippedAdd = param
      ? shipFunction(param.addInPlace, undefined, 'accumulator addInPlace')
      : lib('add');
    this.zeroValue = param ? param.zero(initial) : (0 as T);
  }

  /** The accumulated value (client only). */
  get value(): T {
    return this.current;
  }

  set value(v: T) {
    this.current = v;
  }

  /** Adds a term on the client (tasks add to their own copy). */
  add(term: T): void {
    this.current = this.merge(this.current, term);
  }

  /** Applies a task's local value; called by the context for each successful task. */
  applyUpdate(update: T): void {
    this.current = this.merge(this.current, update);
  }

  private merge(a: T, b: T): T {
    return this.param ? this.param.addInPlace(a, b) : (((a as number) + (b as number)) as T);
  }

  toEnvRef(): AccumulatorRef {
    return new AccumulatorRef(this.id, this.zeroValue, this.shippedAdd);
  }

  toString(): string {
    return String(this.current);
  }
}

/** The accumulator as a task sees it: add only. */
export class TaskAccumulator<T> {
  private local: T;
  constructor(
    readonly id: string,
    zero: T,
    private readonly addInPlace: (a: T, b: T) => T,
  ) {
    this.local = zero;
  }
  add(term: T): void {
    this.local = this.addInPlace(this.local, term);
  }
  get value(): T {
    throw new InvalidOperationError('an accumulator value can only be read on the client, not inside a task');
  }
  /** Setting the value inside a task fails the task, as reading it does (PySpark raises there too). */
  set value(_v: T) {
    throw new InvalidOperationError(
      'an accumulator value can only be set on the client, not inside a task; use add() in tasks',
    );
  }
  /** The task's local total, sent back with the result. */
  localValue(): T {
    return this.local;
  }
}
