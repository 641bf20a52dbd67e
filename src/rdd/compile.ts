/**
 * Turns callables back into functions inside a task. A user function's source is compiled once
 * per task with `new Function`, in a scope holding only its env bindings and the toolchain
 * helpers; library functions come from the registry in library.ts.
 */
import { InvalidOperationError } from '../protocol/errors.js';
import { TaskAccumulator } from './accumulator.js';
import { TaskBroadcast } from './broadcast.js';
import { FnRef, resolveEnv, type AccumulatorRef, type EnvResolver } from './env.js';
import { isWasmSpec } from '../wasm/guest.js';
import { WasmHandle } from '../wasm/instances.js';
import { envBindings, type Callable, type FnEnvelope, type LibFn } from './functions.js';
import { pairFormSource } from './pair-form.js';

// esbuild's helpers, as tsx and vitest insert them into compiled TypeScript.
function __name<T>(target: T, value: string): T {
  try {
    Object.defineProperty(target, 'name', { value, configurable: true });
  } catch {
    // a frozen target keeps its name
  }
  return target;
}
function __publicField(obj: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): unknown {
  Object.defineProperty(obj, typeof key !== 'symbol' ? String(key) : key, {
    enumerable: true,
    configurable: true,
    writable: true,
    value,
  });
  return value;
}

const PARAMS = 'env, __name, __publicField';

/**
 * Compiles an expression source that evaluates to a function, with `bind` env members as variables.
 * With `at` (`job.ts:12`, where the user's code gave the function), the code is compiled under that
 * file name with its first line at that line, so stack frames of the function read `job.ts:12:…`
 * (lines within the function count on from there; columns of the first line are approximate).
 */
export function compileSource(
  src: string,
  env: unknown,
  bind: readonly string[],
  at?: string,
): (...args: unknown[]) => unknown {
  const destructure = bind.length > 0 ? `const {${bind.join(', ')}} = env; ` : '';
  const site = at === undefined ? undefined : /^(.*):(\d+)$/.exec(at);
  let factory: (...a: unknown[]) => unknown;
  if (site) {
    // Indirect eval: the code's line 1 is the first line of the text, unlike new Function's header.
    const line = Math.max(1, Number(site[2]));
    const file = site[1]!.replace(/[\r\n]/g, '');
    const code =
      '\n'.repeat(line - 1) +
      `(function (${PARAMS}) { ${destructure}return ${src};\n})\n//# sourceURL=${file}`;
    factory = (0, eval)(code) as (...a: unknown[]) => unknown;
  } else {
    const body = `${destructure}\nreturn ${src};\n//# sourceURL=microspark-fn`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiling shipped functions is this module's job
    factory = new Function('env', '__name', '__publicField', body) as (...a: unknown[]) => unknown;
  }
  const fn = factory(env, __name, __publicField);
  if (typeof fn !== 'function')
    throw new InvalidOperationError('a shipped source did not evaluate to a function');
  return fn as (...args: unknown[]) => unknown;
}

/** Fetches what tasks need to resolve envs. */
export interface CompileServices {
  /** The decoded value of a broadcast variable (already fetched for this task). */
  broadcastValue(id: string): unknown;
  /** On the client: the real accumulator for an id (tasks get a local one instead). */
  accumulator?(id: string): unknown;
}

/** A library implementation: gets its arguments and the compiler, returns whatever its users expect. */
export type LibImpl = (args: readonly unknown[], compiler: Compiler) => unknown;

/** Compiles callables for one task; collects the task's accumulators. */
export class Compiler {
  readonly accumulators = new Map<string, TaskAccumulator<unknown>>();
  private readonly resolver: EnvResolver;

  constructor(
    private readonly libs: ReadonlyMap<string, LibImpl>,
    services: CompileServices,
  ) {
    this.resolver = {
      compile: (src, env) => compileSource(src, env, dataBindings(env)),
      broadcast: (id) => {
        const value = services.broadcastValue(id);
        // A module from sc.wasm travels as a broadcast of its spec; functions see its handle.
        return isWasmSpec(value) ? new WasmHandle(id, value) : new TaskBroadcast(id, value);
      },
      accumulator: (ref: AccumulatorRef) => {
        const own = services.accumulator?.(ref.id);
        if (own !== undefined) return own;
        let acc = this.accumulators.get(ref.id);
        if (!acc) {
          const add = this.fn(ref.addInPlace as Callable, 2) as (a: unknown, b: unknown) => unknown;
          acc = new TaskAccumulator(ref.id, structuredCloneIfObject(ref.zero), add);
          this.accumulators.set(ref.id, acc);
        }
        return acc;
      },
    };
  }

  /** A user function and its resolved env, for callers that pass env themselves (the fused loop). */
  user(c: FnEnvelope): { f: (...args: unknown[]) => unknown; env: unknown } {
    const env = c.env ? resolveEnv(c.env, this.resolver) : undefined;
    return { f: compileSource(c.src, env, envBindings(env), c.at), env };
  }

  /** A callable as a function of exactly `arity` arguments (a user function's env is appended). */
  fn(c: Callable, arity: number): (...args: any[]) => any {
    if (c.t === 'lib') return this.lib(c) as (...args: unknown[]) => unknown;
    const { f, env } = this.user(c);
    if (env === undefined) return f;
    switch (arity) {
      case 1:
        return (a: unknown) => f(a, env);
      case 2:
        return (a: unknown, b: unknown) => f(a, b, env);
      case 3:
        return (a: unknown, b: unknown, c3: unknown) => f(a, b, c3, env);
      default:
        return (...args: unknown[]) => f(...args, env);
    }
  }

  /**
   * The pair form of a one-argument user function that returns `[key, value]` literals
   * (pair-form.ts): called as `(sink, x)`, it calls `sink(key, value)` instead of returning the
   * array. Undefined for anything else (library and async functions, other shapes).
   */
  pairFn(c: Callable): ((sink: (k: unknown, v: unknown) => void, a: unknown) => unknown) | undefined {
    if (c.t !== 'fn' || c.async === true) return undefined;
    const src = pairFormSource(c.src);
    if (src === undefined) return undefined;
    const env = c.env ? resolveEnv(c.env, this.resolver) : undefined;
    const f = compileSource(src, env, envBindings(env), c.at);
    return env === undefined ? f : (sink, a) => f(sink, a, env);
  }

  /** An optional callable (undefined stays undefined). */
  optFn(c: Callable | undefined | null, arity: number): ((...args: any[]) => any) | undefined {
    return c ? this.fn(c, arity) : undefined;
  }

  /** Instantiates a library callable. */
  lib(c: LibFn): unknown {
    const impl = this.libs.get(c.name);
    if (!impl)
      throw new InvalidOperationError(`unknown library function '${c.name}' (peer version mismatch?)`);
    return impl(c.args, this);
  }

  /** The accumulator updates of this task, to send back with its result. */
  accumulatorUpdates(): Array<[string, unknown]> {
    return [...this.accumulators].map(([id, a]) => [id, a.localValue()]);
  }
}

function dataBindings(env: unknown): string[] {
  return envBindings(env).filter((k) => !((env as Record<string, unknown>)[k] instanceof FnRef));
}

/** A fresh copy of a zero value for each use (Spark copies the zero per key/partition). */
export function structuredCloneIfObject<T>(v: T): T {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}
