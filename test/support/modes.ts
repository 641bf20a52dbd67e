/**
 * Execution modes every operation suite runs under. Issue 3 adds a local cluster of worker
 * daemons here; suites written against `modes` then run unchanged over both.
 */
import { MicroSpark } from '../../src/index.js';

export interface Mode {
  readonly name: string;
  /** A fresh context with `defaultParallelism` partitions by default. */
  create(defaultParallelism?: number): Promise<MicroSpark>;
}

export const modes: readonly Mode[] = [
  { name: 'inProcess', create: (defaultParallelism = 4) => MicroSpark.inProcess({ defaultParallelism }) },
];
