/**
 * Typed errors. Every error the engine raises on purpose is a subclass of {@link MicroSparkError}
 * with a stable `name`, and survives the wire through {@link errorToWire}/{@link errorFromWire}:
 * a retry decision never depends on parsing a message string.
 */

/** The plain-data form of an error, as it travels in task results and replies. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly data?: Record<string, unknown>;
  readonly cause?: WireError;
}

/** Base class of the engine's errors; `name` is stable and equals the class name. */
export class MicroSparkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /** Extra fields that travel with the error (must be plain data). */
  wireData(): Record<string, unknown> | undefined {
    return undefined;
  }
}

/** A function given to a transformation uses a variable from the code around it. */
export class CapturedVariableError extends MicroSparkError {
  constructor(
    message: string,
    readonly variables: readonly string[],
  ) {
    super(message);
  }
  override wireData() {
    return { variables: [...this.variables] };
  }
}

/** A function could not be shipped: native, bound, a class, or not parseable. */
export class FunctionShippingError extends MicroSparkError {}

/** A value passed in `env` (or as data) cannot travel: a symbol, a class instance, a cycle, an RDD. */
export class SerializationError extends MicroSparkError {}

/** An operation was used in a way Spark also refuses (empty reduce, mismatched zip, bad argument). */
export class InvalidOperationError extends MicroSparkError {}

/** `reduce`, `first`, `max`… on an RDD without elements (Spark raises ValueError here). */
export class EmptyRDDError extends InvalidOperationError {}

/** The context was stopped; create a new one. */
export class ContextStoppedError extends MicroSparkError {}

/** The action was cancelled by its AbortSignal or by `cancelAllJobs()`. */
export class JobCancelledError extends MicroSparkError {}

/** An error raised on another peer (or in a task), carried with its original name and stack. */
export class RemoteError extends MicroSparkError {
  constructor(
    readonly remoteName: string,
    message: string,
    readonly remoteStack: string | undefined,
    /** The remote error's own wire data (e.g. a FetchFailedError's shuffle and map), kept across hops. */
    readonly remoteData?: Record<string, unknown>,
  ) {
    super(message);
    if (remoteStack)
      this.stack = `${this.name} [${remoteName}]: ${message}\n--- remote stack ---\n${remoteStack}`;
  }
  override wireData() {
    return { ...this.remoteData, remoteName: this.remoteName };
  }
}

/** A request to another peer got no reply within `timeoutMs`; the peer may be slow or gone. */
export class RequestTimeoutError extends MicroSparkError {
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
  override wireData() {
    return { timeoutMs: this.timeoutMs };
  }
}

/** A task failed `attempts` times; `cause` is the last failure, usually a {@link RemoteError}. */
export class TaskFailedError extends MicroSparkError {
  constructor(
    message: string,
    readonly stageId: number,
    readonly partition: number,
    readonly attempts: number,
    cause: Error,
  ) {
    super(message, { cause });
  }
  override wireData() {
    return { stageId: this.stageId, partition: this.partition, attempts: this.attempts };
  }
}

/**
 * The command line or environment of a process is invalid or inconsistent. The message names the
 * flag (or environment variable) and the fix; it never contains the cluster secret.
 */
export class ConfigError extends MicroSparkError {
  constructor(
    message: string,
    /** The flag at fault, e.g. `--bind`, when there is one. */
    readonly option?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override wireData() {
    return this.option === undefined ? undefined : { option: this.option };
  }
}

/** Converts any thrown value to its wire form; never throws. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof Error) {
    const data = err instanceof MicroSparkError ? err.wireData() : undefined;
    const cause = err.cause !== undefined ? errorToWire(err.cause) : undefined;
    return {
      name: err instanceof RemoteError ? err.remoteName : err.name,
      message: err.message,
      ...(err.stack !== undefined && { stack: err instanceof RemoteError ? err.remoteStack : err.stack }),
      ...(data !== undefined && { data }),
      ...(cause !== undefined && { cause }),
    };
  }
  let message: string;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { name: 'Error', message: `non-Error thrown: ${message}` };
}

/** Rebuilds an error from its wire form as a {@link RemoteError} that keeps the remote name and stack. */
export function errorFromWire(wire: WireError): RemoteError {
  const err = new RemoteError(wire.name, wire.message, wire.stack, wire.data);
  if (wire.cause) (err as { cause?: unknown }).cause = errorFromWire(wire.cause);
  return err;
}

/**
 * A task could not fetch a shuffle map output (its holder died or dropped it). Not the user's
 * fault: the source recomputes the map output from lineage and runs the task again.
 */
export class FetchFailedError extends MicroSparkError {
  constructor(
    message: string,
    readonly shuffleId: string,
    readonly mapIndex: number,
  ) {
    super(message);
  }
  override wireData() {
    return { shuffleId: this.shuffleId, mapIndex: this.mapIndex };
  }
}

/** No live worker for the grace period: the action cannot make progress. */
export class NoWorkersError extends MicroSparkError {}

/**
 * A worker handed a task back because it is stopping (SIGTERM): not the task's fault, and not
 * counted towards maxTaskFailures; the source re-posts the job at once.
 */
export class WorkerStoppingError extends MicroSparkError {}

/**
 * A task ran out of memory: its thread's heap limit (`--task-heap`, MICROSPARK_TASK_HEAP) was
 * reached. The worker survives (the thread is replaced); the task is retried like a failed one.
 */
export class TaskOutOfMemoryError extends MicroSparkError {
  constructor(
    message: string,
    /** The heap limit in MiB. */
    readonly heapMb: number,
  ) {
    super(message);
  }
  override wireData() {
    return { heapMb: this.heapMb };
  }
}

/**
 * A task ran longer than allowed: the worker's task timeout, or a WebAssembly call's `timeoutMs`
 * (`fn` names the call, `module.export`). The task's thread is stopped; the worker carries on, and
 * the task counts as a failed attempt of its own (not as a worker death).
 */
export class TaskTimeoutError extends MicroSparkError {
  constructor(
    message: string,
    readonly timeoutMs: number,
    readonly fn?: string,
  ) {
    super(message);
  }
  override wireData() {
    return this.fn === undefined ? { timeoutMs: this.timeoutMs } : { timeoutMs: this.timeoutMs, fn: this.fn };
  }
}
