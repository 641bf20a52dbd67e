/** Storage levels as in PySpark: where a persisted RDD's partitions are kept. */
import { inspect } from 'node:util';

/** Flags for storing an RDD (PySpark's `StorageLevel`). Compare with {@link StorageLevel.equals}. */
export class StorageLevel {
  constructor(
    readonly useDisk: boolean,
    readonly useMemory: boolean,
    readonly useOffHeap: boolean,
    readonly deserialized: boolean,
    readonly replication = 1,
  ) {}

  static readonly NONE = new StorageLevel(false, false, false, false);
  static readonly DISK_ONLY = new StorageLevel(true, false, false, false);
  static readonly DISK_ONLY_2 = new StorageLevel(true, false, false, false, 2);
  static readonly DISK_ONLY_3 = new StorageLevel(true, false, false, false, 3);
  static readonly MEMORY_ONLY = new StorageLevel(false, true, false, false);
  static readonly MEMORY_ONLY_2 = new StorageLevel(false, true, false, false, 2);
  static readonly MEMORY_AND_DISK = new StorageLevel(true, true, false, false);
  static readonly MEMORY_AND_DISK_2 = new StorageLevel(true, true, false, false, 2);
  static readonly OFF_HEAP = new StorageLevel(true, true, true, false, 1);
  static readonly MEMORY_AND_DISK_DESER = new StorageLevel(true, true, false, true);

  equals(other: StorageLevel): boolean {
    return (
      this.useDisk === other.useDisk &&
      this.useMemory === other.useMemory &&
      this.useOffHeap === other.useOffHeap &&
      this.deserialized === other.deserialized &&
      this.replication === other.replication
    );
  }

  /** Spark's description, e.g. `Memory Serialized 1x Replicated`. */
  toString(): string {
    let s = '';
    if (this.useDisk) s += 'Disk ';
    if (this.useMemory) s += this.useOffHeap ? 'Memory (off heap) ' : 'Memory ';
    s += this.deserialized ? 'Deserialized ' : 'Serialized ';
    return `${s}${this.replication}x Replicated`;
  }

  [inspect.custom](): string {
    return `StorageLevel(${this.useDisk}, ${this.useMemory}, ${this.useOffHeap}, ${this.deserialized}, ${this.replication})`;
  }
}
