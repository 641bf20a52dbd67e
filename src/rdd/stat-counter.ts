/** Running statistics of numbers (Spark's StatCounter), mergeable across partitions. */
import { inspect } from 'node:util';

/** Count, mean, variance (Welford), min, max and sum of a set of numbers. */
export class StatCounter {
  private n = 0;
  private mu = 0;
  private m2 = 0;
  private total = 0;
  private maxValue = -Infinity;
  private minValue = Infinity;

  constructor(values: Iterable<number> = []) {
    for (const v of values) this.merge(v);
  }

  /** Adds one value. */
  merge(value: number): this {
    const delta = value - this.mu;
    this.n += 1;
    this.mu += delta / this.n;
    this.m2 += delta * (value - this.mu);
    this.total += value;
    if (value > this.maxValue) this.maxValue = value;
    if (value < this.minValue) this.minValue = value;
    return this;
  }

  /** Merges another counter into this one (Chan et al.'s parallel formula). */
  mergeStats(other: StatCounter): this {
    if (other === this) return this.mergeStats(other.copy());
    if (this.n === 0) {
      Object.assign(this, other.toState());
    } else if (other.n !== 0) {
      const delta = other.mu - this.mu;
      const n = this.n + other.n;
      if (other.n * 10 < this.n) this.mu += (delta * other.n) / n;
      else if (this.n * 10 < other.n) this.mu = other.mu - (delta * this.n) / n;
      else this.mu = (this.mu * this.n + other.mu * other.n) / n;
      this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
      this.n = n;
      this.total += other.total;
      this.maxValue = Math.max(this.maxValue, other.maxValue);
      this.minValue = Math.min(this.minValue, other.minValue);
    }
    return this;
  }

  copy(): StatCounter {
    return StatCounter.fromState(this.toState());
  }

  count(): number {
    return this.n;
  }
  mean(): number {
    return this.n === 0 ? NaN : this.mu;
  }
  sum(): number {
    return this.total;
  }
  min(): number {
    return this.minValue;
  }
  max(): number {
    return this.maxValue;
  }
  /** Population variance. */
  variance(): number {
    return this.n === 0 ? NaN : this.m2 / this.n;
  }
  /** Sample variance (divides by n - 1). */
  sampleVariance(): number {
    return this.n <= 1 ? NaN : this.m2 / (this.n - 1);
  }
  stdev(): number {
    return Math.sqrt(this.variance());
  }
  sampleStdev(): number {
    return Math.sqrt(this.sampleVariance());
  }

  /** Plain-data form, for the wire. */
  toState(): { n: number; mu: number; m2: number; total: number; maxValue: number; minValue: number } {
    return {
      n: this.n,
      mu: this.mu,
      m2: this.m2,
      total: this.total,
      maxValue: this.maxValue,
      minValue: this.minValue,
    };
  }

  static fromState(s: ReturnType<StatCounter['toState']>): StatCounter {
    return Object.assign(new StatCounter(), s);
  }

  /** PySpark's `asDict(sample=False)`. */
  asDict(sample = false) {
    return {
      count: this.count(),
      mean: this.mean(),
      sum: this.sum(),
      min: this.min(),
      max: this.max(),
      stdev: sample ? this.sampleStdev() : this.stdev(),
      variance: sample ? this.sampleVariance() : this.variance(),
    };
  }

  toString(): string {
    return `(count: ${this.count()}, mean: ${this.mean()}, stdev: ${this.stdev()}, max: ${this.max()}, min: ${this.min()})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
