/**
 * Typed errors of WebAssembly guests (docs/WASM.md). Each carries the module's name and, where
 * one is involved, the export; they cross the wire like every MicroSparkError (by name, with data).
 */
import { MicroSparkError } from '../protocol/errors.js';

/** Base class: `module` is the module's name (sc.wasm's `name` option), `fn` the export, if any. */
export class WasmError extends MicroSparkError {
  constructor(
    message: string,
    readonly module: string,
    readonly fn?: string,
  ) {
    super(message);
  }
  override wireData(): Record<string, unknown> {
    return this.fn === undefined ? { module: this.module } : { module: this.module, fn: this.fn };
  }
}

/** The bytes are not a valid module, or the module does not follow the ABI (exports, version, memory). */
export class WasmModuleError extends WasmError {}

/** The module imports something it was not granted (WASI without `wasi`, or any other import). */
export class WasmImportError extends WasmError {}

/** The guest reported an error (the ABI's error flag); the message is the guest's. */
export class WasmGuestError extends WasmError {}

/** The guest trapped (unreachable, division by zero, out-of-bounds access, stack overflow). */
export class WasmTrapError extends WasmError {}

/** The guest needed more linear memory than its `maxMemoryMb`. */
export class WasmMemoryLimitError extends WasmError {
  constructor(
    message: string,
    module: string,
    fn: string | undefined,
    readonly maxMemoryMb: number,
  ) {
    super(message, module, fn);
  }
  override wireData(): Record<string, unknown> {
    return { ...super.wireData(), maxMemoryMb: this.maxMemoryMb };
  }
}

/** The guest broke the calling convention: a pointer or length outside its memory, a bad status. */
export class WasmAbiError extends WasmError {}

/**
 * A WebAssembly DataFrame UDF (F.wasmUdf) failed on a row batch: the guest failed the call (its
 * errno and message) or reported an error for a row (arrow-udf's `error` column). Names the UDF,
 * the batch (1-based, in the task) and its rows; `row` is the failing row's index in the batch.
 */
export class WasmUdfError extends WasmGuestError {
  constructor(
    message: string,
    module: string,
    fn: string,
    readonly udf: string,
    readonly batch: number,
    readonly rows: number,
    readonly row?: number,
  ) {
    super(message, module, fn);
  }
  override wireData(): Record<string, unknown> {
    return {
      ...super.wireData(),
      udf: this.udf,
      batch: this.batch,
      rows: this.rows,
      ...(this.row !== undefined && { row: this.row }),
    };
  }
}
