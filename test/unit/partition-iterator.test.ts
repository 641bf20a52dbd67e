/**
 * The iterator mapPartitions functions get (src/rdd/partition-iterator.ts): an ordinary iterator
 * whose unread rest engine code can take as one array.
 */
import { describe, expect, it } from 'vitest';
import { PartitionIterator } from '../../src/rdd/partition-iterator.js';

describe('PartitionIterator', () => {
  it('iterates like an array iterator and shares its prototype chain', () => {
    const it = new PartitionIterator([1, 2, 3]);
    expect(it[Symbol.iterator]()).toBe(it);
    expect(it.next()).toEqual({ value: 1, done: false });
    expect([...it]).toEqual([2, 3]);
    expect(it.next()).toEqual({ value: undefined, done: true });
    const arrayIteratorProto = Object.getPrototypeOf([][Symbol.iterator]()) as object;
    expect(Object.getPrototypeOf(PartitionIterator.prototype)).toBe(
      Object.getPrototypeOf(arrayIteratorProto),
    );
  });

  it('takeRest: the whole array when nothing was read, else a copy of the rest; then exhausted', () => {
    const items = [10, 20, 30, 40];
    const whole = new PartitionIterator(items);
    expect(whole.takeRest()).toBe(items);
    expect(whole.next().done).toBe(true);
    const part = new PartitionIterator(items);
    part.next();
    part.next();
    const rest = part.takeRest();
    expect(rest).toEqual([30, 40]);
    expect(rest).not.toBe(items);
    expect([...part]).toEqual([]);
    expect(new PartitionIterator([]).takeRest()).toEqual([]);
  });
});
