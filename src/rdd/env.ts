/**
 * The `env` a shipped function receives: validated and packed on the client when the
 * transformation is defined, resolved in the task. Packing copies plain data, turns functions into
 * {@link FnRef}s (source checked like any shipped function), broadcast variables and accumulators
 * into references, and refuses everything that cannot travel (symbols, class instances, cycles,
 * RDDs and the context) with an error naming the path.
 */
import { SerializationError } from '../protocol/errors.js';
import { checkedSource } from './functions.js';
import { AccumulatorRef, BroadcastRef, EnvMap, FnRef } from '../protocol/extensions.js';

export { AccumulatorRef, BroadcastRef, FnRef };

/** Brand property by which env packing recognises RDDs and contexts without importing them. */
export const KIND = Symbol.for('microspark.kind');

/** An env after packing: `v` is the packed copy; `refs` says whether it holds functions or references. */
export interface PackedEnv {
  readonly v: unknown;
  readonly refs: boolean;
  /** Ids of the broadcast variables it references (fetched before the task compiles). */
  readonly bcs?: readonly string[];
  /** It references an accumulator (its tasks send updates). */
  readonly accs?: true;
}

/** What packing needs from broadcast variables and accumulators (implemented in broadcast.ts/accumulator.ts). */
export interface EnvShippable {
  toEnvRef(): BroadcastRef | AccumulatorRef;
}

function isShippable(v: object): v is EnvShippable {
  return typeof (v as Partial<EnvShippable>).toEnvRef === 'function';
}

const RDD_IN_FUNCTION =
  'RDD transformations and actions can only be invoked by the client, not inside functions that run on ' +
  'workers: for example, rdd1.map((x) => rdd2.count() * x) cannot work, because rdd2.count() needs the ' +
  'context. Compute the value first (const n = await rdd2.count()) and pass it through env, or use a join.';
const CONTEXT_IN_FUNCTION =
  'The context (MicroSpark) can only be used on the client, not in functions that run on workers. ' +
  'Run the action on the client and pass its result through env, or use a broadcast variable.';

/** Packs an env for shipping (see module doc). `where` names the method for messages. */
export function packEnv(env: unknown, where: string): PackedEnv {
  const dataNames: string[] = [];
  if (typeof env === 'object' && env !== null && !Array.isArray(env)) {
    for (const [k, v] of Object.entries(env)) if (typeof v !== 'function') dataNames.push(k);
  }
  const state = { refs: false, accs: false, seen: new Set<object>(), bcs: [] as string[] };
  const walk = (v: unknown, path: string): unknown => {
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'undefined':
      case 'bigint':
        return v;
      case 'symbol':
        throw new SerializationError(`${where}: ${path} is a symbol, which cannot be sent to workers.`);
      case 'function':
        state.refs = true;
        // A function in env sees the env's data members and `env` itself (other env functions via env.f).
        return new FnRef(checkedSource(v as (...args: never[]) => unknown, new Set(dataNames), where, path));
    }
    if (v === null) return null;
    const o = v as object & { [KIND]?: unknown };
    if (o[KIND] === 'rdd') throw new SerializationError(`${where}: ${path} is an RDD. ${RDD_IN_FUNCTION}`);
    if (o[KIND] === 'context')
      throw new SerializationError(`${where}: ${path} is the context. ${CONTEXT_IN_FUNCTION}`);
    if (isShippable(o)) {
      state.refs = true;
      const ref = o.toEnvRef();
      if (ref instanceof BroadcastRef && !state.bcs.includes(ref.id)) state.bcs.push(ref.id);
      if (ref instanceof AccumulatorRef) state.accs = true;
      return ref;
    }
    if (ArrayBuffer.isView(o) || o instanceof Date || o instanceof RegExp) return o;
    if (state.seen.has(o))
      throw new SerializationError(`${where}: ${path} refers back to itself; a cycle cannot be sent.`);
    state.seen.add(o);
    try {
      if (Array.isArray(o)) return o.map((x, i) => walk(x, `${path}[${i}]`));
      if (o instanceof Map) {
        const entries: unknown[] = [];
        for (const [k, x] of o) entries.push(walk(k, `${path} key`), walk(x, `${path}.get(${String(k)})`));
        return new EnvMap(entries);
      }
      if (o instanceof Set) {
        const out = new Set<unknown>();
        for (const x of o) {
          if (typeof x === 'function')
            throw new SerializationError(`${where}: ${path} is a Set holding a function.`);
          out.add(walk(x, `${path} element`));
        }
        return out;
      }
      const proto = Object.getPrototypeOf(o) as object | null;
      if (proto !== Object.prototype && proto !== null) {
        const name = (o.constructor as { name?: string } | undefined)?.name ?? 'class';
        throw new SerializationError(
          `${where}: ${path} is a ${name} instance; only plain data (objects, arrays, strings, numbers, ` +
            `booleans, null, Dates, Maps, Sets, typed arrays), functions, broadcast variables and accumulators ` +
            `can be sent to workers. Convert it to plain data first.`,
        );
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) out[k] = walk(x, `${path}.${k}`);
      return out;
    } finally {
      state.seen.delete(o);
    }
  };
  const v = walk(env, 'env');
  return {
    v,
    refs: state.refs,
    ...(state.bcs.length > 0 && { bcs: state.bcs }),
    ...(state.accs && { accs: true as const }),
  };
}

/** What resolving an env in a task needs from the task's context. */
export interface EnvResolver {
  /** Compiles an env function's source with the env's data members bound. */
  compile(src: string, env: unknown): (...args: unknown[]) => unknown;
  /** The broadcast object (with `.value`) for an id. */
  broadcast(id: string): unknown;
  /** The task-local accumulator for a reference. */
  accumulator(ref: AccumulatorRef): unknown;
}

/** Resolves a decoded env in place: references become values, FnRefs become compiled functions. */
export function resolveEnv(packed: PackedEnv, resolver: EnvResolver): unknown {
  if (!packed.refs) return packed.v;
  const fns: Array<{ holder: any; key: unknown; src: string }> = [];
  const visit = (v: unknown, holder: any, key: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (v instanceof FnRef) {
      fns.push({ holder, key, src: v.src });
      return v;
    }
    if (v instanceof BroadcastRef) return resolver.broadcast(v.id);
    if (v instanceof AccumulatorRef) return resolver.accumulator(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i], v, i);
    } else if (v instanceof Map) {
      for (const [k, x] of v) v.set(k, visit(x, v, k));
    } else if (!ArrayBuffer.isView(v) && !(v instanceof Date) && !(v instanceof Set)) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = visit(o[k], o, k);
    }
    return v;
  };
  const root = { v: packed.v };
  root.v = visit(packed.v, root, 'v');
  for (const { holder, key, src } of fns) {
    const f = resolver.compile(src, root.v);
    if (holder instanceof Map) holder.set(key, f);
    else holder[key as string] = f;
  }
  return root.v;
}
