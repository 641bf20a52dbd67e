/**
 * The iterator a `mapPartitions` function gets over its partition. It is an ordinary iterator
 * (with Iterator.prototype's helpers where the platform has them), and engine code that takes a
 * whole partition at once (`env.m.mapF64(name, it)`) reads the elements not yet consumed as the
 * partition's own array, without stepping through them one by one.
 */

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

/** An iterator over one partition's elements (see the module doc). */
export class PartitionIterator<T> implements IterableIterator<T> {
  private i = 0;

  constructor(private readonly items: readonly T[]) {}

  next(): IteratorResult<T, undefined> {
    if (this.i < this.items.length) return { value: this.items[this.i++] as T, done: false };
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /**
   * The elements not yet read, as an array (the partition's own array when none was read: do
   * not modify it); the iterator is exhausted afterwards.
   */
  takeRest(): readonly T[] {
    const i = this.i;
    this.i = this.items.length;
    return i === 0 ? this.items : this.items.slice(i);
  }
}
Object.setPrototypeOf(PartitionIterator.prototype, IteratorPrototype);
