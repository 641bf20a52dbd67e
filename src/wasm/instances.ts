/**
 * The task side of `sc.wasm`: a module spec (a broadcast value) becomes the handle a function sees
 * in env (`env.m.score(x)`). On a worker the daemon compiles a module once and hands the compiled
 * module to its task threads ({@link provideCompiledWasm}); in process (and on the client) the main
 * thread compiles it. Each thread instantiates it once and reuses the instance for its later tasks;
 * an instance that trapped or timed out is dropped and the next call instantiates afresh.
 */
import { WebAssemblyApi, type WasmCompiled } from './wasm-api.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { PartitionIterator } from '../rdd/partition-iterator.js';
import type { ArrowUdfSignature } from './arrow-udf.js';
import {
  GuestInstance,
  VmGuard,
  WatchGuard,
  inspectGuest,
  type CallGuard,
  type GuestInfo,
  type WasmSpec,
  type WatchInfo,
} from './guest.js';

/** Registers a guest instance's shared call cells with the thread's watchdog (the task pool). */
export type WatchdogRegistrar = (cells: SharedArrayBuffer, info: WatchInfo) => void;

let registrar: WatchdogRegistrar | undefined;

/**
 * Called once by a task thread: from then on, guest calls in this thread are timed by the pool,
 * which terminates the thread on a timeout. Without it (in process) calls run under a vm timeout.
 */
export function setWasmWatchdog(r: WatchdogRegistrar): void {
  registrar = r;
}

interface Loaded {
  readonly module: WasmCompiled;
  readonly info: GuestInfo;
  /** The module came compiled from the worker daemon (not compiled by this thread). */
  readonly shared: boolean;
  instance?: GuestInstance;
}

const loaded = new Map<string, Loaded>();
/** Modules compiled by the worker daemon for this thread, by broadcast id, not yet loaded. */
const provided = new Map<string, WasmCompiled>();

/**
 * Gives this thread the module of broadcast `id` compiled elsewhere (by the worker daemon), so the
 * thread instantiates it without compiling it again. Call before the task's env is resolved.
 */
export function provideCompiledWasm(id: string, module: WasmCompiled): void {
  if (!loaded.has(id)) provided.set(id, module);
}

/** Whether this thread has the module of broadcast `id`, compiled (loaded or provided). */
export function hasCompiledWasm(id: string): boolean {
  return loaded.has(id) || provided.has(id);
}

function load(id: string, spec: WasmSpec): Loaded {
  let l = loaded.get(id);
  if (!l) {
    const module = provided.get(id);
    provided.delete(id);
    const grants = { wasi: spec.wasi === 1, native: spec.native };
    const info = inspectGuest(spec.name, spec.bytes, grants, module !== undefined);
    l = { module: module ?? new WebAssemblyApi.Module(spec.bytes), info, shared: module !== undefined };
    loaded.set(id, l);
  }
  return l;
}

function instance(id: string, spec: WasmSpec): GuestInstance {
  const l = load(id, spec);
  if (l.instance && !l.instance.poisoned) return l.instance;
  l.instance = undefined;
  const calls = [
    'instantiate',
    ...l.info.functions.map((f) => f.name),
    ...l.info.arrowUdfs.map((u) => u.signature),
  ];
  const guard: CallGuard = registrar
    ? new WatchGuard(registrar, { id, module: spec.name, calls, timeoutMs: spec.timeoutMs, shared: l.shared })
    : new VmGuard(spec.name, spec.timeoutMs);
  l.instance = new GuestInstance(spec, l.module, l.info, guard);
  return l.instance;
}

/**
 * Drops this thread's compiled module and instance of broadcast `id` (the module was destroyed on
 * the client); returns whether there was an instance.
 */
export function forgetWasm(id: string): boolean {
  const hadInstance = loaded.get(id)?.instance !== undefined;
  loaded.delete(id);
  provided.delete(id);
  return hadInstance;
}

/**
 * What a function sees for a module in env: one method per callable export (numbers for numeric
 * exports, one value for value exports), plus `call`, `mapF64` and `exports`.
 */
export class WasmHandle {
  /** The module's name (sc.wasm's `name`). */
  readonly name: string;
  /** The callable exports and their convention. */
  readonly exports: ReadonlyArray<{ readonly name: string; readonly convention: 'number' | 'value' }>;
  /** One method per callable export. */
  [fn: string]: any;

  constructor(
    private readonly id: string,
    private readonly spec: WasmSpec,
  ) {
    this.name = spec.name;
    const info = load(id, spec).info;
    this.exports = info.functions.map((f) => ({ name: f.name, convention: f.convention }));
    for (const f of info.functions) {
      if (f.name in this) continue; // reachable through call()
      this[f.name] =
        f.convention === 'value'
          ? (v: unknown) => instance(this.id, this.spec).callValue(f.name, v)
          : (...a: unknown[]) => instance(this.id, this.spec).callNumber(f.name, a);
    }
  }

  /** Calls an export by name: numbers for a numeric export, one value for a value export. */
  call(name: string, ...args: unknown[]): unknown {
    const inst = instance(this.id, this.spec);
    const f = inst.info.functions.find((x) => x.name === name);
    if (f?.convention === 'value') {
      if (args.length !== 1)
        throw new InvalidOperationError(`${this.name}.${name} is a value function: pass exactly one value`);
      return inst.callValue(name, args[0]);
    }
    return inst.callNumber(name, args);
  }

  /** The module's arrow-udf functions (RisingWave's ABI), empty for a module of this engine's ABI. */
  get arrowUdfs(): readonly ArrowUdfSignature[] {
    return load(this.id, this.spec).info.arrowUdfs;
  }

  /** Calls the arrow-udf function `signature` on one record batch (Arrow IPC file bytes in and out). */
  callArrowUdf(signature: string, ipc: Uint8Array): Uint8Array {
    return instance(this.id, this.spec).callArrow(signature, ipc);
  }

  /** Runs `name(ptr, n) -> status` over the numbers as f64s in place; returns them (one call per batch). */
  mapF64(name: string, values: ArrayLike<number> | Iterable<number>): Float64Array {
    const arr =
      values instanceof PartitionIterator
        ? (values.takeRest() as ArrayLike<number>)
        : Array.isArray(values) || ArrayBuffer.isView(values)
          ? (values as ArrayLike<number>)
          : Array.from(values as Iterable<number>);
    return instance(this.id, this.spec).mapF64(name, arr);
  }

  toString(): string {
    return `WasmModule(${this.name})`;
  }
}
