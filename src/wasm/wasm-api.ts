/**
 * The part of the WebAssembly JS API this engine uses, typed locally: the project compiles with
 * lib ES2023 and @types/node 20, neither of which declares `WebAssembly`.
 */

/** A compiled module. */
export interface WasmCompiled {
  readonly __brand?: 'WebAssembly.Module';
}

/** A linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** An instance; `exports` holds functions, memories, globals and tables. */
export interface WasmInstanceObject {
  readonly exports: Record<string, unknown>;
}

/** Import object: module name → field → value. */
export type WasmImports = Record<string, Record<string, unknown>>;

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmCompiled;
  Instance: new (module: WasmCompiled, imports?: WasmImports) => WasmInstanceObject;
  RuntimeError: new (...a: never[]) => Error;
  CompileError: new (...a: never[]) => Error;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmCompiled>;
}

/** The global `WebAssembly` object. */
export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
