/** Approximate results (PySpark's BoundedFloat) and Spark's estimate of a sum from part of the partitions. */
import type { StatCounter } from './stat-counter.js';

/** A number with a confidence interval. Behaves as a number in arithmetic (`valueOf`). */
export class BoundedFloat extends Number {
  constructor(
    mean: number,
    readonly confidence: number,
    readonly low: number,
    readonly high: number,
  ) {
    super(mean);
  }
}

/** Two-sided normal quantile for a confidence level (Acklam's approximation of the inverse CDF). */
export function normalQuantile(confidence: number): number {
  const p = 1 - (1 - confidence) / 2;
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ];
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373, 4.37466414146497,
    2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const pl = 0.02425;
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Estimates the sum or mean over `total` partitions from the statistics of those done (Spark's
 * SumEvaluator/MeanEvaluator, with a normal interval). All done: exact, confidence 1.
 */
export function estimateSum(
  done: readonly StatCounter[],
  total: number,
  confidence: number,
  what: 'sum' | 'mean',
): BoundedFloat {
  let n = 0;
  let sum = 0;
  let m2 = 0;
  let mean = 0;
  for (const s of done) {
    const c = s.count();
    if (c === 0) continue;
    const delta = s.mean() - mean;
    const nn = n + c;
    mean += (delta * c) / nn;
    m2 += s.variance() * c + (delta * delta * n * c) / nn;
    n = nn;
    sum += s.sum();
  }
  if (done.length >= total) {
    const v = what === 'sum' ? sum : n === 0 ? NaN : mean;
    return new BoundedFloat(v, 1, v, v);
  }
  if (done.length === 0 || n === 0) return new BoundedFloat(0, 0, -Infinity, Infinity);
  const p = done.length / total;
  const variance = n > 1 ? m2 / (n - 1) : 0;
  const z = normalQuantile(confidence);
  if (what === 'mean') {
    const sd = Math.sqrt(variance / n);
    return new BoundedFloat(mean, confidence, mean - z * sd, mean + z * sd);
  }
  const countEstimate = (n + 1 - p) / p;
  const sumEstimate = mean * countEstimate;
  const countVar = ((n + 1) * (1 - p)) / (p * p);
  const sumVar = mean * mean * countVar + variance * countEstimate + variance * countVar;
  const sd = Math.sqrt(sumVar);
  return new BoundedFloat(sumEstimate, confidence, sumEstimate - z * sd, sumEstimate + z * sd);
}
