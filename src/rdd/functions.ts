/**
 * Functions travel as source text. `shipFunction` turns a function given to a transformation
 * into a typed envelope after checking, with a real JavaScript parser, that it uses no variable
 * from the code around it: every free identifier must be a standard global, a member of the
 * method's `env`, or `env` itself. Nothing but an envelope's source is ever compiled.
 */
import * as acorn from 'acorn';
import * as eslintScope from 'eslint-scope';
import globals from 'globals';
import type { Node as EsNode, Program } from 'estree';
import { CapturedVariableError, FunctionShippingError } from '../protocol/errors.js';
import { packEnv, type PackedEnv } from './env.js';

/** A user function: its source (an expression that evaluates to the function) and its packed env. */
export interface FnEnvelope {
  readonly t: 'fn';
  readonly src: string;
  readonly env?: PackedEnv;
  /** Set for an `async` function or async generator (known when defined; awaited by the runner). */
  readonly async?: true;
  /** Where the user's code gave the function (`job.ts:12`): compiled code reports this file and line. */
  readonly at?: string;
}

/** A library function, named in the task runner's registry; `args` are plain data or callables. */
export interface LibFn {
  readonly t: 'lib';
  readonly name: string;
  readonly args: readonly unknown[];
}

/** Anything the runner can turn into a JavaScript function. */
export type Callable = FnEnvelope | LibFn;

/** Builds a library-function reference. */
export function lib(name: string, ...args: unknown[]): LibFn {
  return { t: 'lib', name, args };
}

/** Helpers that TypeScript/esbuild (tsx, vitest) insert into compiled functions; defined at compile time. */
export const TOOLCHAIN_HELPERS = ['__name', '__publicField'] as const;

const PLATFORM_GLOBALS = [
  'console',
  'Buffer',
  'TextEncoder',
  'TextDecoder',
  'URL',
  'URLSearchParams',
  'structuredClone',
  'atob',
  'btoa',
  'queueMicrotask',
  'performance',
  'crypto',
  // for async functions: timers, fetch and cancellation
  'setTimeout',
  'clearTimeout',
  'setImmediate',
  'clearImmediate',
  'fetch',
  'Headers',
  'Request',
  'Response',
  'AbortController',
  'AbortSignal',
];

/** Identifiers a shipped function may use without `env`: ECMAScript built-ins and a few platform globals. */
export const STANDARD_GLOBALS: ReadonlySet<string> = new Set([
  ...Object.keys(globals.builtin),
  ...PLATFORM_GLOBALS,
  ...TOOLCHAIN_HELPERS,
]);

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval'
  ).split(' '),
);

/** Env members that are bound as variables in a shipped function's scope (valid, non-reserved identifiers). */
export function envBindings(env: unknown): string[] {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return [];
  return Object.keys(env).filter(
    (k) => /^[A-Za-z_$][\w$]*$/.test(k) && !RESERVED.has(k) && k !== 'env' && !STANDARD_GLOBALS.has(k),
  );
}

interface Parsed {
  /** An expression that evaluates to the function. */
  readonly src: string;
  readonly ast: Program;
  /** The function is `async` (a function or a generator). */
  readonly async: boolean;
}

function isAsyncFunctionNode(n: unknown): boolean {
  const f = n as { type?: string; async?: boolean } | undefined;
  return (f?.type === 'ArrowFunctionExpression' || f?.type === 'FunctionExpression') && f.async === true;
}

function parse(src: string, where: string): Parsed {
  const opts: acorn.Options = { ecmaVersion: 'latest', sourceType: 'script', ranges: true };
  try {
    const ast = acorn.parse(`(${src})`, opts) as unknown as Program;
    const stmt = ast.body[0];
    const expr = stmt?.type === 'ExpressionStatement' ? stmt.expression : undefined;
    return { src: `(${src})`, ast, async: isAsyncFunctionNode(expr) };
  } catch {
    // Method shorthand (`f(x) { … }`, `async f() {}`) is not an expression on its own.
  }
  try {
    const wrapped = `({${src}})`;
    const ast = acorn.parse(wrapped, opts) as unknown as Program;
    const stmt = ast.body[0];
    const obj = stmt?.type === 'ExpressionStatement' ? stmt.expression : undefined;
    const prop = obj?.type === 'ObjectExpression' ? obj.properties[0] : undefined;
    if (
      prop?.type === 'Property' &&
      prop.kind === 'init' &&
      !prop.computed &&
      prop.key.type === 'Identifier'
    ) {
      return {
        src: `(${wrapped}[${JSON.stringify(prop.key.name)}])`,
        ast,
        async: isAsyncFunctionNode(prop.value),
      };
    }
  } catch {
    // fall through to the error below
  }
  throw new FunctionShippingError(
    `${where}: the function's source could not be parsed, so it cannot be shipped to workers.\n` +
      `Source: ${src.length > 200 ? src.slice(0, 200) + '…' : src}\n` +
      'Pass an arrow function or a function expression.',
  );
}

/** The free identifiers of a parsed function, in order of first use. */
function freeIdentifiers(ast: Program): string[] {
  const manager = eslintScope.analyze(ast as unknown as EsNode as never, {
    ecmaVersion: 2022,
    sourceType: 'script',
  });
  const names: string[] = [];
  for (const ref of manager.globalScope?.through ?? []) {
    if (!names.includes(ref.identifier.name)) names.push(ref.identifier.name);
  }
  return names;
}

/** Names that mean the context: a function on a worker can never use it. */
const CONTEXT_NAMES = new Set(['sc', 'spark', 'sparkContext']);

function describeFix(where: string, names: readonly string[], envPath: string | undefined): string {
  const obj = `{ ${names.join(', ')} }`;
  const uses = names.map((n) => `env.${n}`).join(', ');
  if (envPath !== undefined) {
    const member = envPath.replace(/^env\./, '');
    return (
      `Functions in env are shipped as source text too and see only their arguments and the env's data members, by name.\n` +
      `Put ${names.map((n) => `\`${n}\``).join(', ')} into the same env, next to the function:\n` +
      `  ${where}(…, { ${member}: …, ${names.join(', ')} })`
    );
  }
  return (
    `Functions are shipped to workers as source text and cannot see variables from the code around them.\n` +
    `Pass what the function needs as the method's last argument, env, and read it from the last parameter:\n` +
    `  ${where}((x, env) => … ${uses} …, ${obj})\n` +
    'Values in env may be plain data, functions (shipped the same way), broadcast variables or accumulators.'
  );
}

function capturedMessage(where: string, captured: readonly string[], envPath: string | undefined): string {
  const list = captured.map((n) => `\`${n}\``).join(', ');
  const what = envPath === undefined ? 'the function' : `the function ${envPath}`;
  const parts = [`${where}: ${what} uses ${list}, defined outside it.`];
  const ctx = captured.filter((n) => CONTEXT_NAMES.has(n));
  if (ctx.length > 0) {
    parts.push(
      `${ctx.map((n) => `\`${n}\``).join(', ')} is the context: actions and transformations run only on the client, ` +
        `never inside a function that runs on workers. Run the action first on the client ` +
        `(const n = await other.count()) and pass its result through env, use a broadcast variable, or a join.`,
    );
  }
  if (captured.includes('require')) {
    parts.push(
      '`require` does not exist where shipped functions run. Load a module inside the function with ' +
        "`const m = await import('module')` (the function must then be async: `async (x) => …`), " +
        'or compute what you need on the client and pass the data through env.',
    );
  }
  const rest = captured.filter((n) => !CONTEXT_NAMES.has(n) && n !== 'require');
  if (rest.length > 0) parts.push(describeFix(where, rest, envPath));
  return parts.join('\n');
}

/** Methods whose functions may be `async` (the runner awaits them); any other refuses one when defined. */
export const ASYNC_METHODS: ReadonlySet<string> = new Set([
  'rdd.map',
  'rdd.flatMap',
  'rdd.filter',
  'rdd.mapValues',
  'rdd.flatMapValues',
  'rdd.keyBy',
  'rdd.foreach',
  'rdd.mapPartitions',
  'rdd.mapPartitionsWithIndex',
  'rdd.mapPartitionsWithSplit',
  'rdd.foreachPartition',
]);

function refuseAsync(where: string): never {
  const method = where.replace(/^rdd\./, '').replace(/ \(.*\)$/, '');
  throw new FunctionShippingError(
    `${where}: an async function cannot be used with ${method}: ${method} calls it synchronously, so it would ` +
      'see promises instead of values. Pass a synchronous function, and do the asynchronous work first in ' +
      'map, flatMap, filter or mapPartitions, which await async functions.',
  );
}

/**
 * Checks and wraps a function for shipping. `where` names the method for error messages
 * (e.g. `rdd.map`). Throws {@link CapturedVariableError} naming any captured variable,
 * {@link FunctionShippingError} for native/bound functions, classes and async functions where
 * the method cannot await them, and SerializationError (from env packing) for an env that cannot travel.
 */
export function shipFunction(fn: unknown, env: unknown, where: string, at?: string): FnEnvelope {
  if (typeof fn !== 'function') {
    throw new TypeError(`${where} expects a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  const packed = env === undefined ? undefined : packEnv(env, where);
  return shipWithPackedEnv(fn, packed, env, where, at);
}

/**
 * Like {@link shipFunction} for an env already packed (several functions of one call share it).
 * `at` (`file:line` of the user's call) is recorded so that errors in the compiled function point there.
 */
export function shipWithPackedEnv(
  fn: unknown,
  packed: PackedEnv | undefined,
  env: unknown,
  where: string,
  at?: string,
): FnEnvelope {
  if (typeof fn !== 'function') {
    throw new TypeError(`${where} expects a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  const { src, async } = analyseSource(fn as (...args: never[]) => unknown, new Set(envBindings(env)), where);
  if (async && !ASYNC_METHODS.has(where)) refuseAsync(where);
  return {
    t: 'fn',
    src,
    ...(packed !== undefined && { env: packed }),
    ...(async && { async: true as const }),
    ...(at !== undefined && at !== '<unknown>' && { at }),
  };
}

/**
 * Returns the shippable source of `fn` (an expression evaluating to it) after checking that every
 * free identifier is a standard global, `env`, or one of `allowed`. Throws typed errors otherwise.
 * `envPath` (`env.f`) says the function is a member of an env, for the messages.
 */
export function checkedSource(
  fn: (...args: never[]) => unknown,
  allowed: ReadonlySet<string>,
  where: string,
  envPath?: string,
): string {
  return analyseSource(fn, allowed, where, envPath).src;
}

/** {@link checkedSource}, also telling whether the function is `async`. */
export function analyseSource(
  fn: (...args: never[]) => unknown,
  allowed: ReadonlySet<string>,
  where: string,
  envPath?: string,
): { src: string; async: boolean } {
  const raw = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(raw)) {
    const name = fn.name ? `\`${fn.name.replace(/^bound /, '')}\`` : 'this function';
    throw new FunctionShippingError(
      `${where}: ${name} is a native or bound function, whose source cannot be shipped to workers.\n` +
        `Wrap it in an arrow function, for example (a, b) => Math.max(a, b), and pass bound values through env.`,
    );
  }
  if (/^class[\s{]/.test(raw)) {
    throw new FunctionShippingError(`${where}: a class cannot be shipped as a function; pass a function.`);
  }
  const parsed = parse(raw, where);
  const captured = freeIdentifiers(parsed.ast).filter(
    (n) => !STANDARD_GLOBALS.has(n) && !allowed.has(n) && n !== 'env',
  );
  if (captured.length > 0) {
    throw new CapturedVariableError(capturedMessage(where, captured, envPath), captured);
  }
  return { src: parsed.src, async: parsed.async };
}
