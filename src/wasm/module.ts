/**
 * The client side of `sc.wasm(pathOrBytes, options)`: reads and validates a module (ABI exports
 * and version, imports against the grants, the memory cap), and wraps it in a {@link WasmModule}
 * that travels in env as a broadcast variable whose value is the module's {@link WasmSpec}.
 */
import { WebAssemblyApi } from './wasm-api.js';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { InvalidOperationError } from '../protocol/errors.js';
import type { Broadcast } from '../rdd/broadcast.js';
import type { BroadcastRef, EnvShippable } from '../rdd/env.js';
import { capMemory, parseModule } from './binary.js';
import type { ArrowUdfSignature } from './arrow-udf.js';
import { WasmModuleError } from './errors.js';
import { GuestInstance, VmGuard, WASM_SPEC_KEY, inspectGuest, type WasmSpec } from './guest.js';
import { WasmHandle, forgetWasm } from './instances.js';

/** Options of `sc.wasm`. */
export interface WasmOptions {
  /** The name errors and timeouts use (default: the file's name without `.wasm`, or `wasm`). */
  readonly name?: string;
  /** Linear memory cap per instance, MiB (1..2048; default 16, as SingleStore). */
  readonly maxMemoryMb?: number;
  /** Longest one guest call (or one batch call) may run, ms (default 10000). */
  readonly timeoutMs?: number;
  /**
   * Grants WASI preview 1 (clock, random, stdout/stderr, no environment or arguments); `{ dir }`
   * also preopens that host directory as `/data`. Default: no imports at all.
   */
  readonly wasi?: boolean | { readonly dir: string };
  /** Exports with the value signature `(i32, i32) -> i64` that take two numbers instead. */
  readonly native?: readonly string[];
}

/** Defaults of {@link WasmOptions}. */
export const WASM_DEFAULTS = { maxMemoryMb: 16, timeoutMs: 10_000 } as const;

/**
 * A loaded module (from `sc.wasm`). Pass it in env; inside the function it is a handle with the
 * same members: one method per callable export (`rdd.map((x, env) => env.m.score(x), { m })`),
 * `call(name, ...args)` and `mapF64(name, numbers)`. On the client the methods run on a local
 * instance (under the same limits), which is handy for trying a module out.
 */
export class WasmModule implements EnvShippable {
  /** The module's name. */
  readonly name: string;
  /** The callable exports and how each is called. */
  readonly exports: ReadonlyArray<{ readonly name: string; readonly convention: 'number' | 'value' }>;
  /** One method per callable export (numbers in and out, or one value in and out). */
  [fn: string]: any;
  private readonly local: WasmHandle;

  constructor(
    spec: WasmSpec,
    private readonly broadcast: Broadcast<WasmSpec>,
  ) {
    this.local = new WasmHandle(broadcast.id, spec);
    this.name = spec.name;
    this.exports = this.local.exports;
    for (const f of this.exports) if (!(f.name in this)) this[f.name] = this.local[f.name];
  }

  /** The module's arrow-udf functions (RisingWave's ABI; for F.wasmUdf), empty for this engine's ABI. */
  get arrowUdfs(): readonly ArrowUdfSignature[] {
    return this.local.arrowUdfs;
  }

  /** The broadcast id the module travels under. */
  get id(): string {
    return this.broadcast.id;
  }

  /** Calls an export by name: numbers for a numeric export, one value for a value export. */
  call(name: string, ...args: unknown[]): unknown {
    return this.local.call(name, ...args);
  }

  /** Runs `name(ptr, n) -> status` over the numbers as f64s in place (one call per batch). */
  mapF64(name: string, values: ArrayLike<number> | Iterable<number>): Float64Array {
    return this.local.mapF64(name, values);
  }

  /** @internal The env reference: the module's spec travels like a broadcast value. */
  toEnvRef(): BroadcastRef {
    return this.broadcast.toEnvRef();
  }

  /** Drops the module everywhere; later use is an error. */
  destroy(): void {
    this.broadcast.destroy();
    forgetWasm(this.broadcast.id);
  }

  toString(): string {
    return `WasmModule(${this.name})`;
  }
}

/** Reads, checks and prepares a module's spec (the work of `sc.wasm` before it broadcasts). */
export async function prepareWasm(
  pathOrBytes: string | Uint8Array | ArrayBuffer,
  options: WasmOptions = {},
): Promise<WasmSpec> {
  let bytes: Uint8Array;
  let fileName: string | undefined;
  if (typeof pathOrBytes === 'string') {
    fileName = basename(pathOrBytes).replace(/\.wasm$/, '');
    bytes = new Uint8Array(await readFile(pathOrBytes));
  } else if (pathOrBytes instanceof Uint8Array) bytes = pathOrBytes;
  else if (pathOrBytes instanceof ArrayBuffer) bytes = new Uint8Array(pathOrBytes);
  else throw new InvalidOperationError('sc.wasm: pass a file path, a Uint8Array or an ArrayBuffer');
  const name = options.name ?? fileName ?? 'wasm';
  const maxMemoryMb = options.maxMemoryMb ?? WASM_DEFAULTS.maxMemoryMb;
  if (!Number.isInteger(maxMemoryMb) || maxMemoryMb < 1 || maxMemoryMb > 2048)
    throw new InvalidOperationError(
      `sc.wasm: maxMemoryMb must be an integer from 1 to 2048, got ${String(maxMemoryMb)}`,
    );
  const timeoutMs = options.timeoutMs ?? WASM_DEFAULTS.timeoutMs;
  if (!(typeof timeoutMs === 'number' && timeoutMs >= 1 && Number.isFinite(timeoutMs)))
    throw new InvalidOperationError(`sc.wasm: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  const wasi = options.wasi ?? false;
  let wasiDir: string | null = null;
  if (typeof wasi === 'object') {
    if (typeof wasi.dir !== 'string' || !isAbsolute(resolve(wasi.dir)))
      throw new InvalidOperationError('sc.wasm: wasi.dir must be a directory path');
    wasiDir = resolve(wasi.dir);
  }
  const native = [...(options.native ?? [])];
  // Checks everything that does not need an instance (throws WasmModuleError / WasmImportError).
  inspectGuest(name, bytes, { wasi: wasi !== false, native });
  const maxPages = maxMemoryMb * 16;
  const mem = parseModule(bytes).memories[0]!;
  if (mem.min > maxPages)
    throw new WasmModuleError(
      `module '${name}' needs ${mem.min / 16} MiB of memory at start, over its maxMemoryMb of ${maxMemoryMb}`,
      name,
    );
  const spec: WasmSpec = {
    [WASM_SPEC_KEY]: 1,
    name,
    bytes: capMemory(bytes, maxPages),
    maxMemoryMb,
    timeoutMs,
    wasi: wasi === false ? 0 : 1,
    wasiDir,
    native,
  };
  // Instantiated once here (under the timeout) so a bad start function or ABI version fails now.
  const info = inspectGuest(name, spec.bytes, { wasi: spec.wasi === 1, native });
  new GuestInstance(spec, new WebAssemblyApi.Module(spec.bytes), info, new VmGuard(name, timeoutMs));
  return spec;
}
