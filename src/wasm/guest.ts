/**
 * A guest module's instance and its calling convention (docs/WASM.md): ABI checks over the parsed
 * binary, instantiation with only the granted imports, native numeric calls, msgpack value calls
 * through `alloc`/`dealloc`, in-place f64 batches, and every call under a {@link CallGuard} that
 * enforces the call timeout. Traps, guest errors, bad pointers and the memory cap become typed errors.
 */
import {
  WebAssemblyApi,
  type WasmCompiled,
  type WasmImports,
  type WasmInstanceObject,
  type WasmMemory,
} from './wasm-api.js';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Packr } from 'msgpackr';
import { TaskTimeoutError } from '../protocol/errors.js';
import { BinaryFormatError, parseModule, type ExportInfo, type FuncType } from './binary.js';
import {
  ARROW_UDF_MAX_MAJOR,
  ARROW_UDF_PREFIX,
  ARROW_UDT_PREFIX,
  arrowUdfVersion,
  decodeArrowUdfBase64,
  inlineArrowUdfType,
  parseArrowUdfSignature,
  type ArrowUdfSignature,
} from './arrow-udf.js';
import {
  WasmAbiError,
  WasmError,
  WasmGuestError,
  WasmImportError,
  WasmMemoryLimitError,
  WasmModuleError,
  WasmTrapError,
} from './errors.js';

/** The ABI version this engine speaks (the guest's `microspark_abi_version()` must return it). */
export const ABI_VERSION = 1;

/** The key marking a broadcast value as a module spec (see {@link WasmSpec}). */
export const WASM_SPEC_KEY = '$microspark.wasm';

/** A module as it travels to workers (a broadcast value): bytes with the memory cap applied, and options. */
export interface WasmSpec {
  readonly [WASM_SPEC_KEY]: 1;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly maxMemoryMb: number;
  readonly timeoutMs: number;
  /** 1 when WASI was granted. */
  readonly wasi: 0 | 1;
  /** The host directory preopened as `/data` (only with `wasi`), or null. */
  readonly wasiDir: string | null;
  /** Exports with the value signature that are to be called natively instead. */
  readonly native: readonly string[];
}

/** Whether a decoded broadcast value is a module spec. */
export function isWasmSpec(v: unknown): v is WasmSpec {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[WASM_SPEC_KEY] === 1;
}

/** How an export is called: numbers natively, or one msgpack value in and out. */
export interface GuestFunction {
  readonly name: string;
  readonly convention: 'number' | 'value';
  readonly type: FuncType;
}

/** The ABI-level view of a module. */
export interface GuestInfo {
  /** Which ABI the module follows: this engine's (docs/WASM.md) or RisingWave's arrow-udf. */
  readonly abi: 'microspark' | 'arrow-udf';
  readonly functions: readonly GuestFunction[];
  /** Whether it exports this engine's `alloc(i32) -> i32` and `dealloc(i32, i32)`. */
  readonly hasAllocator: boolean;
  /** The arrow-udf functions (`arrowudf_…` exports), for an arrow-udf module; else empty. */
  readonly arrowUdfs: readonly ArrowUdfSignature[];
}

const RESERVED = new Set(['microspark_abi_version', 'alloc', 'dealloc', 'memory']);
const NUMERIC = new Set(['i32', 'i64', 'f32', 'f64']);
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

function sameType(t: FuncType, params: string[], results: string[]): boolean {
  return t.params.join() === params.join() && t.results.join() === results.join();
}

/**
 * Checks a module against the ABI and the grants (throws WasmModuleError / WasmImportError) and
 * returns its callable functions. Does not instantiate. `validated`: the bytes are known to compile
 * (a module compiled elsewhere from them), so the engine's validation pass is skipped.
 */
export function inspectGuest(
  name: string,
  bytes: Uint8Array,
  grants: { wasi: boolean; native: readonly string[] },
  validated = false,
): GuestInfo {
  let shape;
  try {
    shape = parseModule(bytes);
  } catch (e) {
    if (e instanceof BinaryFormatError)
      throw new WasmModuleError(`module '${name}' is malformed: ${e.message}`, name);
    throw e;
  }
  if (!validated && !WebAssemblyApi.validate(bytes)) {
    let why = 'it does not validate';
    try {
      new WebAssemblyApi.Module(bytes);
    } catch (e) {
      why = (e as Error).message;
    }
    throw new WasmModuleError(`module '${name}' is malformed: ${why}`, name);
  }
  const refused = shape.imports.filter(
    (i) => !(grants.wasi && WASI_MODULES.has(i.module) && i.kind === 'function'),
  );
  if (refused.length > 0) {
    const list = refused.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ');
    const wasi = refused.some((i) => WASI_MODULES.has(i.module));
    throw new WasmImportError(
      `module '${name}' imports ${list}, which ${refused.length === 1 ? 'was' : 'were'} not granted: a module gets no ` +
        `capabilities by default` +
        (wasi
          ? `; pass { wasi: true } (or { wasi: { dir } }) to sc.wasm to grant WASI`
          : '; only WASI can be granted'),
      name,
    );
  }
  const byName = new Map(shape.exports.map((e) => [e.name, e]));
  const mem = byName.get('memory');
  if (!mem || mem.kind !== 'memory')
    throw new WasmModuleError(`module '${name}' does not export its linear memory as 'memory' (ABI)`, name);
  if (shape.memories.length !== 1)
    throw new WasmModuleError(
      `module '${name}' must define exactly one memory (it defines ${shape.memories.length})`,
      name,
    );
  const flags = shape.memories[0]!.flags;
  if (flags & ~1)
    throw new WasmModuleError(`module '${name}': shared and 64-bit memories are not supported`, name);
  const arrowVersion = shape.exports.map((e) => arrowUdfVersion(e.name)).find((v) => v !== undefined);
  if (arrowVersion) return inspectArrowUdf(name, shape.exports, arrowVersion);
  const version = byName.get('microspark_abi_version');
  if (!version || version.kind !== 'function' || !sameType(version.type!, [], ['i32']))
    throw new WasmModuleError(
      `module '${name}' does not export microspark_abi_version() -> i32 (ABI ${ABI_VERSION}, see docs/WASM.md)`,
      name,
    );
  const alloc = byName.get('alloc');
  const dealloc = byName.get('dealloc');
  const hasAllocator =
    alloc?.type !== undefined &&
    sameType(alloc.type, ['i32'], ['i32']) &&
    dealloc?.type !== undefined &&
    sameType(dealloc.type, ['i32', 'i32'], []);
  const functions: GuestFunction[] = [];
  for (const e of shape.exports) {
    if (e.kind !== 'function' || RESERVED.has(e.name) || e.name.startsWith('_')) continue;
    const t = (e as ExportInfo & { type: FuncType }).type;
    const value = sameType(t, ['i32', 'i32'], ['i64']) && !grants.native.includes(e.name);
    if (value) {
      if (!hasAllocator)
        throw new WasmModuleError(
          `module '${name}': ${e.name}(i32, i32) -> i64 is a value function, which needs exports ` +
            `alloc(i32) -> i32 and dealloc(i32, i32) (ABI); list it in { native: ['${e.name}'] } if it takes numbers`,
          name,
          e.name,
        );
      functions.push({ name: e.name, convention: 'value', type: t });
    } else if (t.results.length <= 1 && [...t.params, ...t.results].every((v) => NUMERIC.has(v))) {
      functions.push({ name: e.name, convention: 'number', type: t });
    }
  }
  for (const n of grants.native)
    if (!functions.some((f) => f.name === n))
      throw new WasmModuleError(
        `module '${name}': native: '${n}' is not an exported numeric function`,
        name,
        n,
      );
  return { abi: 'microspark', functions, hasAllocator, arrowUdfs: [] };
}

const ARROW_RESERVED = new Set([
  'alloc',
  'dealloc',
  'record_batch_iterator_next',
  'record_batch_iterator_drop',
]);

/** The exports of an arrow-udf module (RisingWave's ABI, see arrow-udf.ts). */
function inspectArrowUdf(
  name: string,
  exports: readonly ExportInfo[],
  [major, minor]: readonly [number, number],
): GuestInfo {
  if (major > ARROW_UDF_MAX_MAJOR)
    throw new WasmModuleError(
      `module '${name}' speaks arrow-udf ABI ${major}.${minor}; this engine reads up to ${ARROW_UDF_MAX_MAJOR}.x`,
      name,
    );
  const byName = new Map(exports.map((e) => [e.name, e]));
  const alloc = byName.get('alloc')?.type;
  const dealloc = byName.get('dealloc')?.type;
  if (
    !alloc ||
    !sameType(alloc, ['i32', 'i32'], ['i32']) ||
    !dealloc ||
    !sameType(dealloc, ['i32', 'i32', 'i32'], [])
  )
    throw new WasmModuleError(
      `module '${name}' (arrow-udf ABI) must export alloc(len, align) -> ptr and dealloc(ptr, len, align) (wasm32)`,
      name,
    );
  // Struct types named in signatures (`struct Name`), described by `arrowudt_` exports (any kind).
  const structs = new Map<string, string>();
  for (const e of exports) {
    if (!e.name.startsWith(ARROW_UDT_PREFIX)) continue;
    const meta = decodeArrowUdfBase64(e.name.slice(ARROW_UDT_PREFIX.length));
    const eq = meta?.indexOf('=') ?? -1;
    if (meta === undefined || eq <= 0)
      throw new WasmModuleError(
        `module '${name}': export ${e.name} is not an arrow-udf struct type (a base64 "Name=field:type,…")`,
        name,
        e.name,
      );
    structs.set(meta.slice(0, eq), meta.slice(eq + 1));
  }
  const arrowUdfs: ArrowUdfSignature[] = [];
  const functions: GuestFunction[] = [];
  for (const e of exports) {
    if (e.kind !== 'function') continue;
    const t = (e as ExportInfo & { type: FuncType }).type;
    if (e.name.startsWith(ARROW_UDF_PREFIX)) {
      const decoded = decodeArrowUdfBase64(e.name.slice(ARROW_UDF_PREFIX.length));
      const sig = decoded === undefined ? undefined : parseArrowUdfSignature(e.name, decoded);
      if (!sig || !sameType(t, ['i32', 'i32', 'i32'], ['i32']))
        throw new WasmModuleError(
          `module '${name}': export ${e.name} is not an arrow-udf function (a base64 signature, (ptr, len, out) -> errno)`,
          name,
          e.name,
        );
      const args = sig.args.map((a) => inlineArrowUdfType(a, structs));
      const returns = inlineArrowUdfType(sig.returns, structs);
      const unknown = [...sig.args, sig.returns].find(
        (_, i) => (i < args.length ? args[i] : returns) === undefined,
      );
      if (unknown !== undefined)
        throw new WasmModuleError(
          `module '${name}': ${sig.signature} names ${unknown}, which no arrowudt_ export describes`,
          name,
          e.name,
        );
      arrowUdfs.push({ ...sig, args: args as string[], returns: returns! });
    } else if (
      !ARROW_RESERVED.has(e.name) &&
      !e.name.startsWith('_') &&
      t.results.length <= 1 &&
      [...t.params, ...t.results].every((v) => NUMERIC.has(v))
    )
      functions.push({ name: e.name, convention: 'number', type: t });
  }
  return { abi: 'arrow-udf', functions, hasAllocator: false, arrowUdfs };
}

/** Runs one guest call under the timeout; `index` is the export's index (-1: instantiation). */
export interface CallGuard {
  run<T>(index: number, fn: string, call: () => T): T;
}

/**
 * A guard for the client and the in-process engine, where no thread can be stopped: the call runs
 * in a vm script with a timeout (V8 terminates it, then the error is recoverable). ~40 µs a call.
 */
export class VmGuard implements CallGuard {
  private readonly ctx = vm.createContext({ __call: undefined as unknown });
  private readonly script = new vm.Script('__call()');
  constructor(
    private readonly module: string,
    private readonly timeoutMs: number,
  ) {}
  run<T>(_index: number, fn: string, call: () => T): T {
    this.ctx.__call = call;
    try {
      return this.script.runInContext(this.ctx, { timeout: this.timeoutMs }) as T;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
        throw timeoutError(this.module, fn, this.timeoutMs);
      throw e;
    } finally {
      this.ctx.__call = undefined;
    }
  }
}

/** The TaskTimeoutError for a guest call that ran past `timeoutMs`. */
export function timeoutError(module: string, fn: string, timeoutMs: number): TaskTimeoutError {
  return new TaskTimeoutError(
    `WebAssembly call ${module}.${fn} exceeded its timeout of ${timeoutMs} ms and was stopped`,
    timeoutMs,
    `${module}.${fn}`,
  );
}

/** What a task thread's watchdog is told about one instance (see task-pool.ts). */
export interface WatchInfo {
  /** The module's broadcast id. */
  readonly id: string;
  readonly module: string;
  /** Call names by index + 1 (0 is instantiation). */
  readonly calls: readonly string[];
  readonly timeoutMs: number;
  /** Whether the instance's module was compiled by the worker daemon (shared), not by its thread. */
  readonly shared: boolean;
}

/**
 * A guard for task threads: the call's index and a sequence number go to shared memory, which the
 * pool's thread watches; a call past its timeout gets the thread terminated (TaskTimeoutError).
 * Two atomic stores a call.
 */
export class WatchGuard implements CallGuard {
  private readonly cells = new Int32Array(new SharedArrayBuffer(8));
  private seq = 0;
  constructor(register: (cells: SharedArrayBuffer, info: WatchInfo) => void, info: WatchInfo) {
    register(this.cells.buffer, info);
  }
  run<T>(index: number, _fn: string, call: () => T): T {
    this.seq = (this.seq + 1) | 0;
    Atomics.store(this.cells, 1, this.seq);
    Atomics.store(this.cells, 0, index + 2);
    try {
      return call();
    } finally {
      Atomics.store(this.cells, 0, 0);
    }
  }
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
const utf8 = new TextDecoder();
const require = createRequire(import.meta.url);

type Fn = (...a: unknown[]) => unknown;

/** One instance of a guest module (see module doc). After a trap or timeout it is `poisoned`. */
export class GuestInstance {
  poisoned = false;
  private readonly memory: WasmMemory;
  private readonly exports: Record<string, unknown>;
  private readonly maxBytes: number;
  private readonly index = new Map<string, number>();
  /** mapF64's block in guest memory (see batchBlock). */
  private batch: { readonly ptr: number; readonly size: number } | undefined;

  constructor(
    readonly spec: WasmSpec,
    module: WasmCompiled,
    readonly info: GuestInfo,
    private readonly guard: CallGuard,
  ) {
    this.maxBytes = spec.maxMemoryMb * 1024 * 1024;
    info.functions.forEach((f, i) => this.index.set(f.name, i));
    const imports: WasmImports = {};
    let wasi: { initialize(i: WasmInstanceObject): void } | undefined;
    if (spec.wasi) {
      const { WASI } = require('node:wasi') as typeof import('node:wasi');
      const w = new WASI({
        version: 'preview1',
        args: [spec.name],
        env: {},
        preopens: spec.wasiDir ? { '/data': spec.wasiDir } : {},
        returnOnExit: true,
      });
      Object.assign(imports, w.getImportObject(), { wasi_unstable: w.wasiImport });
      wasi = w;
    }
    const instance = this.call(-1, 'instantiate', () => {
      const inst = new WebAssemblyApi.Instance(module, imports);
      const ex = inst.exports;
      if (typeof ex._start === 'function')
        throw new WasmModuleError(
          `module '${spec.name}' is a command (exports _start); build a reactor (no entry point, see docs/WASM.md)`,
          spec.name,
        );
      if (wasi) wasi.initialize(inst);
      else if (typeof ex._initialize === 'function') (ex._initialize as Fn)();
      return inst;
    });
    this.exports = instance.exports;
    this.memory = this.exports.memory as WasmMemory;
    if (info.abi === 'arrow-udf') return;
    const version = this.call(-1, 'microspark_abi_version', () =>
      (this.exports.microspark_abi_version as Fn)(),
    );
    if (version !== ABI_VERSION)
      throw new WasmModuleError(
        `module '${spec.name}' speaks ABI version ${String(version)}; this engine speaks ${ABI_VERSION}`,
        spec.name,
      );
  }

  /** Calls a numeric export with numbers (i64 parameters take numbers or bigints; results are numbers when safe). */
  callNumber(name: string, args: readonly unknown[]): number | bigint | undefined {
    const f = this.fn(name, 'number');
    const conv = f.type.params.map((t, i) => {
      const a = args[i];
      if (t === 'i64') return typeof a === 'bigint' ? a : BigInt(Math.trunc(Number(a)));
      return typeof a === 'bigint' ? Number(a) : a;
    });
    const out = this.call(this.index.get(name)!, name, () => (this.exports[name] as Fn)(...conv));
    if (typeof out === 'bigint') return Number.isSafeInteger(Number(out)) ? Number(out) : out;
    return out as number | undefined;
  }

  /** Calls a value export: `value` goes in as msgpack, the guest's msgpack result comes back decoded. */
  callValue(name: string, value: unknown): unknown {
    this.fn(name, 'value');
    const input = packr.pack(value);
    const out = this.call(this.index.get(name)!, name, () => {
      const ptr = this.alloc(name, input.length);
      new Uint8Array(this.memory.buffer, ptr, input.length).set(input);
      const r = BigInt.asUintN(64, (this.exports[name] as Fn)(ptr, input.length) as bigint);
      (this.exports.dealloc as Fn)(ptr, input.length);
      const isError = r >> 63n === 1n;
      const rptr = Number((r >> 32n) & 0x7fffffffn);
      const rlen = Number(r & 0xffffffffn);
      const bytes = this.take(name, rptr, rlen);
      return { isError, bytes };
    });
    if (out.isError) throw new WasmGuestError(utf8.decode(out.bytes), this.spec.name, name);
    if (out.bytes.length === 0) return null;
    try {
      return packr.unpack(out.bytes);
    } catch (e) {
      throw new WasmAbiError(
        `${this.spec.name}.${name} returned bytes that are not msgpack: ${(e as Error).message}`,
        this.spec.name,
        name,
      );
    }
  }

  /** Calls `name(ptr, n) -> i32` over the values as f64s in place (status 0: success). */
  mapF64(name: string, values: ArrayLike<number>): Float64Array {
    const f = this.info.functions.find((x) => x.name === name);
    if (!f || !sameType(f.type, ['i32', 'i32'], ['i32']))
      throw new WasmAbiError(
        `${this.spec.name}.${name} is not an export (i32 ptr, i32 n) -> i32 status`,
        this.spec.name,
        name,
      );
    if (!this.info.hasAllocator)
      throw new WasmAbiError(
        `module '${this.spec.name}' exports no alloc/dealloc, which mapF64 needs`,
        this.spec.name,
        name,
      );
    const n = values.length;
    const size = n * 8;
    const out = new Float64Array(n);
    const status = this.call(this.index.get(name)!, name, () => {
      const ptr = this.batchBlock(name, size);
      // alloc's blocks are 8-aligned (ABI); a guest that breaks that pays for a copy
      const aligned = ptr % 8 === 0;
      const input = aligned ? new Float64Array(this.memory.buffer, ptr, n) : out;
      input.set(values);
      if (!aligned) new Uint8Array(this.memory.buffer, ptr, size).set(new Uint8Array(out.buffer));
      const s = (this.exports[name] as Fn)(ptr, n) as number;
      // the call may have grown the memory (a new buffer): view it again
      if (aligned) out.set(new Float64Array(this.memory.buffer, ptr, n));
      else new Uint8Array(out.buffer).set(new Uint8Array(this.memory.buffer, ptr, size));
      return s;
    });
    if (status !== 0)
      throw new WasmGuestError(`${this.spec.name}.${name} returned status ${status}`, this.spec.name, name);
    return out;
  }

  /**
   * Calls an arrow-udf function (arrow-udf-runtime's calling sequence): the input record batch as
   * Arrow IPC file bytes after an 8-byte out slice in one `alloc(len + 8, 4)` block, then
   * `f(ptr, len, out) -> errno`; the out slice points to the result (IPC bytes, or the error
   * message when errno is not 0), freed with `dealloc(ptr, len, 1)`. Returns the result bytes.
   */
  callArrow(signature: string, input: Uint8Array): Uint8Array {
    const j = this.info.arrowUdfs.findIndex((u) => u.signature === signature);
    const udf = this.info.arrowUdfs[j];
    if (!udf)
      throw new WasmAbiError(
        `module '${this.spec.name}' has no arrow-udf function ${signature} (it has: ${this.info.arrowUdfs.map((u) => u.signature).join(', ')})`,
        this.spec.name,
        signature,
      );
    const f = this.exports[udf.export] as Fn;
    const out = this.call(this.info.functions.length + j, signature, () => {
      const len = input.length + 8;
      const base = ((this.exports.alloc as Fn)(len, 4) as number) >>> 0;
      if (base === 0 || base + len > this.memory.buffer.byteLength) {
        if (this.memory.buffer.byteLength + len > this.maxBytes) throw this.memoryError(signature);
        throw new WasmAbiError(
          `${this.spec.name}.alloc(${len}, 4) returned ${base}, outside its memory`,
          this.spec.name,
          signature,
        );
      }
      new Uint8Array(this.memory.buffer, base + 8, input.length).set(input);
      const errno = (f(base + 8, input.length, base) as number) | 0;
      const view = new DataView(this.memory.buffer);
      const ptr = view.getUint32(base, true);
      const n = view.getUint32(base + 4, true);
      const size = this.memory.buffer.byteLength;
      if (ptr + n > size)
        throw new WasmAbiError(
          `${this.spec.name}.${signature} returned ${n} bytes at ${ptr}, outside its memory of ${size} bytes`,
          this.spec.name,
          signature,
        );
      const bytes = new Uint8Array(this.memory.buffer, ptr, n).slice();
      (this.exports.dealloc as Fn)(base, len, 4);
      (this.exports.dealloc as Fn)(ptr, n, 1);
      return { errno, bytes };
    });
    if (out.errno !== 0) throw new WasmGuestError(utf8.decode(out.bytes), this.spec.name, signature);
    return out.bytes;
  }

  private fn(name: string, convention: 'number' | 'value'): GuestFunction {
    const i = this.index.get(name);
    const f = i === undefined ? undefined : this.info.functions[i];
    if (!f) {
      const known = this.info.functions.map((x) => x.name).join(', ');
      throw new WasmAbiError(
        `module '${this.spec.name}' has no callable export '${name}' (it has: ${known})`,
        this.spec.name,
        name,
      );
    }
    if (f.convention !== convention)
      throw new WasmAbiError(
        `${this.spec.name}.${name} is a ${f.convention} function, not a ${convention} function`,
        this.spec.name,
        name,
      );
    return f;
  }

  /**
   * The block mapF64 batches go through, kept from one call to the next (the guest must not free
   * it); a larger batch frees it and allocates a larger one, and an allocation that finds the
   * guest out of memory frees it first.
   */
  private batchBlock(fn: string, size: number): number {
    const b = this.batch;
    if (b && b.size >= size) return b.ptr;
    if (b) {
      this.batch = undefined;
      (this.exports.dealloc as Fn)(b.ptr, b.size);
    }
    const ptr = this.alloc(fn, Math.max(size, 8));
    this.batch = { ptr, size: Math.max(size, 8) };
    return ptr;
  }

  private alloc(fn: string, size: number): number {
    let ptr = ((this.exports.alloc as Fn)(size) as number) >>> 0;
    if (ptr === 0 && this.batch) {
      // Out of memory while mapF64's kept block is held: free it and try once more.
      (this.exports.dealloc as Fn)(this.batch.ptr, this.batch.size);
      this.batch = undefined;
      ptr = ((this.exports.alloc as Fn)(size) as number) >>> 0;
    }
    if (ptr === 0 || ptr + size > this.memory.buffer.byteLength) {
      if (this.memory.buffer.byteLength + size > this.maxBytes) throw this.memoryError(fn);
      throw new WasmAbiError(
        `${this.spec.name}.alloc(${size}) returned ${ptr}, outside its memory`,
        this.spec.name,
        fn,
      );
    }
    return ptr;
  }

  /** Copies the guest's result bytes out and frees them (range-checked). */
  private take(fn: string, ptr: number, len: number): Uint8Array {
    const size = this.memory.buffer.byteLength;
    if (len === 0) return new Uint8Array(0);
    if (ptr + len > size)
      throw new WasmAbiError(
        `${this.spec.name}.${fn} returned ${len} bytes at ${ptr}, outside its memory of ${size} bytes`,
        this.spec.name,
        fn,
      );
    const out = new Uint8Array(this.memory.buffer, ptr, len).slice();
    (this.exports.dealloc as Fn)(ptr, len);
    return out;
  }

  private memoryError(fn: string, trap?: string): WasmMemoryLimitError {
    const used = (this.memory.buffer.byteLength / 1048576).toFixed(1);
    return new WasmMemoryLimitError(
      `${this.spec.name}.${fn} needed more memory than its limit of ${this.spec.maxMemoryMb} MiB (${used} MiB in use` +
        (trap === undefined ? '' : `, then trapped: ${trap}`) +
        `); ` +
        `raise sc.wasm's maxMemoryMb or give it less data per call`,
      this.spec.name,
      fn,
      this.spec.maxMemoryMb,
    );
  }

  /** Runs a guest call under the guard, turning traps into typed errors (a trap poisons the instance). */
  private call<T>(index: number, fn: string, body: () => T): T {
    try {
      return this.guard.run(index, fn, body);
    } catch (e) {
      if (e instanceof WasmError && !(e instanceof WasmMemoryLimitError)) {
        if (e instanceof WasmAbiError) this.poisoned = true;
        throw e;
      }
      this.poisoned = true;
      if (e instanceof WasmMemoryLimitError || e instanceof TaskTimeoutError) throw e;
      const trap =
        e instanceof WebAssemblyApi.RuntimeError || (e instanceof RangeError && /call stack/.test(e.message));
      if (!trap) throw e;
      // memory is unset while instantiating (a start function's trap)
      const mem = (this as unknown as { memory?: WasmMemory }).memory;
      // A failed memory.grow is invisible to the host; a trap with over half the cap in use is
      // taken as the guest's reaction to it (an allocator's abort).
      if (mem && mem.buffer.byteLength * 2 > this.maxBytes) throw this.memoryError(fn, e.message);
      throw new WasmTrapError(`${this.spec.name}.${fn} trapped: ${e.message}`, this.spec.name, fn);
    }
  }
}
