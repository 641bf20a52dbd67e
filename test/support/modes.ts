/**
 * Execution modes every operation suite runs under: in-process, and a local cluster of three
 * `microspark-worker` daemon processes on 127.0.0.1. The same assertions hold in both, so every
 * result over the cluster is compared with what the in-process engine gives.
 */
import { MicroSpark } from '../../src/index.js';

export interface Mode {
  readonly name: string;
  /** A fresh context with `defaultParallelism` partitions by default. */
  create(defaultParallelism?: number): Promise<MicroSpark>;
}

export const inProcessMode: Mode = {
  name: 'inProcess',
  create: (defaultParallelism = 4) => MicroSpark.inProcess({ defaultParallelism }),
};

export const clusterMode: Mode = {
  name: 'local cluster of 3 daemons',
  create: (defaultParallelism = 4) => MicroSpark.local({ workers: 3, defaultParallelism }),
};

export const modes: readonly Mode[] =
  process.env.MICROSPARK_TEST_MODES === 'inProcess' ? [inProcessMode] : [inProcessMode, clusterMode];
