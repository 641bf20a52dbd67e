// The published types use Node's (Buffer, AbortSignal, node:events): a consumer's `types: []`
// (TypeScript 6's default) must not leave them undefined.
/// <reference types="node" preserve="true" />
/**
 * MicroSpark: a Spark-like RDD engine for Node.js. Start with `MicroSpark.inProcess()`, build RDDs
 * with its sources and transformations, and await their actions.
 */
export {
  MicroSpark,
  type InProcessOptions,
  type ConnectOptions,
  type LocalOptions,
} from './client/context.js';
export type { StageEvent, ClusterCounters } from './client/cluster-backend.js';
export type { ProgressEvent, ProgressListener, RetryReason } from './client/progress.js';
export { RDD, type MapOptions, type RunJobOptions } from './rdd/rdd.js';
export { StorageLevel } from './rdd/storage-level.js';
export { StatCounter } from './rdd/stat-counter.js';
export { BoundedFloat } from './rdd/approx.js';
export { Broadcast } from './rdd/broadcast.js';
export { Accumulator, type AccumulatorParam } from './rdd/accumulator.js';
export { compare } from './rdd/ordering.js';
export { hashKey } from './rdd/key-hash.js';
export {
  MicroSparkError,
  CapturedVariableError,
  FunctionShippingError,
  SerializationError,
  InvalidOperationError,
  EmptyRDDError,
  ContextStoppedError,
  JobCancelledError,
  RemoteError,
  TaskFailedError,
  NoWorkersError,
  FetchFailedError,
  WorkerStoppingError,
  TaskOutOfMemoryError,
  ConfigError,
  RequestTimeoutError,
  TaskTimeoutError,
} from './protocol/errors.js';
export { WasmModule, WASM_DEFAULTS, type WasmOptions } from './wasm/module.js';
export type { WasmHandle } from './wasm/instances.js';
export {
  WasmError,
  WasmModuleError,
  WasmImportError,
  WasmGuestError,
  WasmTrapError,
  WasmMemoryLimitError,
  WasmAbiError,
  WasmUdfError,
} from './wasm/errors.js';
export { SparkSession, RuntimeConfig, SessionCatalog, DataFrameReader } from './sql/session.js';
export { AnalysisException, ParseException } from './sql/errors.js';
export * as types from './sql/types.js';
export {
  DataFrame,
  Column,
  functions,
  F,
  Window,
  WindowSpec,
  GroupedData,
  DataFrameWriter,
} from './dataframe/index.js';
export type { Row } from './dataframe/engine.js';
