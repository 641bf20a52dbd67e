/**
 * Evaluates console input: TypeScript or JavaScript statements, top-level `await` included, with
 * variables kept between inputs (as Node's REPL does, they live on the global object).
 *
 * Input is transpiled with esbuild (types are erased, not checked), parsed with acorn, and its
 * top-level declarations are rewritten into assignments to globals, so `const x = …` in one input
 * is `x` in the next. The whole input then runs as the body of an async function, and the value
 * of its last expression statement is the result.
 */
import { createRequire, isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { parse, type Node as AcornNode } from 'acorn';
import { transformSync } from 'esbuild';

/** The input cannot be complete yet (an open bracket, string or template): read another line. */
export class IncompleteInputError extends Error {
  override readonly name = 'IncompleteInputError';
}

/** The input does not parse: the message names the position. */
export class ConsoleSyntaxError extends Error {
  override readonly name = 'SyntaxError';
}

interface Declarator {
  id: AcornNode;
  init: AcornNode | null;
}

/** Erases TypeScript types; throws IncompleteInputError for input that ends too early. */
export function transpile(source: string): string {
  return transpileWithLines(source).code;
}

/**
 * Erases types as {@link transpile} does, and says for each line of the output (0-based) which
 * line of the input (0-based) it came from: esbuild reprints the code, so lines move.
 */
export function transpileWithLines(source: string): { code: string; lines: number[] } {
  try {
    const r = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
      // Keep `await` at top level: esbuild accepts it in ESM format.
      supported: { 'top-level-await': true },
      // Keep every import: one the same input does not use is for the inputs that follow
      // (esbuild would drop it as possibly type-only). `import type` is still erased.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      sourcemap: 'external',
    });
    return { code: r.code, lines: originalLines(r.map) };
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { line: number; column: number } }> })
      .errors;
    const first = errors?.[0];
    if (first && isEndOfInput(first.text, first.location, source)) throw new IncompleteInputError(first.text);
    throw new ConsoleSyntaxError(
      first
        ? `${first.text} (line ${first.location?.line ?? '?'}, column ${(first.location?.column ?? 0) + 1})`
        : String(e),
    );
  }
}

function isEndOfInput(
  text: string,
  loc: { line: number; column: number } | undefined,
  source: string,
): boolean {
  if (/end of file|Unterminated (template|string|regular expression)/i.test(text)) return true;
  if (!loc) return false;
  // An error on the very last position of the input also means "more is coming".
  const lines = source.replace(/\s+$/, '').split('\n');
  return loc.line >= lines.length && loc.column >= (lines.at(-1)?.length ?? 0);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** For each generated line of a source map, the original line of its first mapping (or the last seen). */
function originalLines(mapJson: string): number[] {
  const mappings = (JSON.parse(mapJson) as { mappings: string }).mappings;
  const out: number[] = [];
  let srcLine = 0;
  for (const lineText of mappings.split(';')) {
    let first: number | undefined;
    for (const seg of lineText.split(',')) {
      if (seg === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      if (fields.length >= 3) {
        srcLine += fields[2]!;
        first ??= srcLine;
      }
    }
    out.push(first ?? srcLine);
  }
  return out;
}

/**
 * Rewrites transpiled JavaScript into the body of an async function that assigns top-level
 * declarations to globals and returns the last expression's value as `{ value }`.
 */
export function rewrite(js: string): string {
  return rewriteStatements(js)
    .map((p) => p.code)
    .join('\n');
}

/** One top-level statement of an input, rewritten; `line` is its first line in the transpiled code (0-based). */
interface Piece {
  readonly code: string;
  readonly line: number;
}

/** {@link rewrite}, statement by statement: the last piece returns `{ value }`. */
function rewriteStatements(js: string): Piece[] {
  const program = parse(js, {
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowAwaitOutsideFunction: true,
    allowReturnOutsideFunction: false,
  }) as unknown as { body: Array<AcornNode & Record<string, any>> };
  // `import(x)` becomes `__microsparkImport(x)`: code compiled by vm cannot import by itself.
  const imports: number[] = [];
  walk(program, (n) => {
    if (n.type === 'ImportExpression') imports.push(n.start);
  });
  if (imports.length > 0) {
    let patched = js;
    for (const at of imports.sort((a, b) => b - a)) patched = `${patched.slice(0, at)}${IMPORT_HELPER}${patched.slice(at + 'import'.length)}`; // prettier-ignore
    return rewriteStatements(patched);
  }
  const pieces: Piece[] = [];
  const body = program.body;
  for (let i = 0; i < body.length; i++) {
    const st = body[i]!;
    const src = js.slice(st.start, st.end);
    const last = i === body.length - 1;
    const out: string[] = [];
    if (st.type === 'VariableDeclaration') {
      for (const d of st.declarations as Declarator[]) {
        const id = js.slice(d.id.start, d.id.end);
        const init = d.init ? js.slice(d.init.start, d.init.end) : 'undefined';
        out.push(`(${id} = ${init});`);
      }
      if (last) out.push('return { value: undefined };');
    } else if (st.type === 'FunctionDeclaration' && st.id) {
      out.push(`${st.id.name} = ${src};`);
      if (last) out.push('return { value: undefined };');
    } else if (st.type === 'ClassDeclaration' && st.id) {
      out.push(`${st.id.name} = ${src};`);
      if (last) out.push('return { value: undefined };');
    } else if (st.type === 'ExpressionStatement' && last) {
      const expr = st.expression as AcornNode;
      out.push(`return { value: (${js.slice(expr.start, expr.end)}) };`);
    } else if (st.type === 'ImportDeclaration') {
      out.push(importAssignments(st, js));
      if (last) out.push('return { value: undefined };');
    } else if (st.type.startsWith('Export')) {
      throw new ConsoleSyntaxError('export is for modules; in the console, just declare the variable');
    } else {
      out.push(src);
      if (last) out.push('return { value: undefined };');
    }
    pieces.push({ code: out.join('\n'), line: js.slice(0, st.start).split('\n').length - 1 });
  }
  if (pieces.length === 0) pieces.push({ code: 'return { value: undefined };', line: 0 });
  return pieces;
}

const IMPORT_HELPER = '__microsparkImport';

/** Imports a module for console code: relative paths and packages resolve from the working directory. */
async function consoleImport(specifier: string): Promise<unknown> {
  if (isBuiltin(specifier)) return import(specifier);
  if (specifier.startsWith('.') || specifier.startsWith('/'))
    return import(pathToFileURL(resolve(specifier)).href);
  try {
    const fromCwd = createRequire(join(process.cwd(), 'console.js')).resolve(specifier);
    return await import(pathToFileURL(fromCwd).href);
  } catch {
    return import(specifier);
  }
}
(globalThis as Record<string, unknown>)[IMPORT_HELPER] = consoleImport;

/** `import x, { a as b } from 'm'` → assignments from `await import('m')`. */
function importAssignments(st: Record<string, any>, js: string): string {
  const source = js.slice(st.source.start, st.source.end);
  const parts = [`const __m = await ${IMPORT_HELPER}(${source});`];
  for (const sp of st.specifiers as Array<Record<string, any>>) {
    const local = sp.local.name as string;
    if (sp.type === 'ImportDefaultSpecifier') parts.push(`${local} = __m.default;`);
    else if (sp.type === 'ImportNamespaceSpecifier') parts.push(`${local} = __m;`);
    else parts.push(`${local} = __m[${JSON.stringify(sp.imported.name ?? sp.imported.value)}];`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** Visits every node of an acorn tree. */
function walk(node: unknown, visit: (n: AcornNode & Record<string, any>) => void): void {
  if (Array.isArray(node)) {
    for (const c of node) walk(c, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as AcornNode & Record<string, any>;
  if (typeof n.type === 'string') visit(n);
  for (const [k, v] of Object.entries(n)) if (k !== 'loc' && typeof v === 'object') walk(v, visit);
}

/** Parses without running: IncompleteInputError if more lines are needed, ConsoleSyntaxError if wrong. */
export function check(source: string): string {
  const js = transpile(source);
  try {
    return rewrite(js);
  } catch (e) {
    if (e instanceof ConsoleSyntaxError) throw e;
    const err = e as { message: string; pos?: number };
    if (err.pos !== undefined && err.pos >= js.trimEnd().length) throw new IncompleteInputError(err.message);
    throw new ConsoleSyntaxError(err.message);
  }
}

/** `{ a: 1 }` alone is an object, not a block (as in Node's REPL). */
function asExpression(source: string): string {
  const t = source.trim();
  if (!t.startsWith('{') || t.endsWith(';')) return source;
  try {
    check(`(${t})`);
    return `(${t})`;
  } catch {
    return source;
  }
}

/** Lines evaluated so far: each input's code is numbered on from there, as in spark-shell (`map at <console>:12`). */
let consoleLines = 0;

/** Runs console input; resolves with the value of its last expression (undefined for statements). */
export async function evaluate(source: string): Promise<unknown> {
  if (source.trim() === '') return undefined;
  const first = consoleLines + 1;
  consoleLines += source.split('\n').length;
  const { code: js, lines } = transpileWithLines(asExpression(source));
  let pieces: Piece[];
  try {
    pieces = rewriteStatements(js);
  } catch {
    check(asExpression(source)); // throws the console's own error for this input
    throw new ConsoleSyntaxError('the input does not parse');
  }
  // Each statement runs as its own function, numbered from the input line it was typed on
  // (esbuild reprints code, so the transpiled line is not the typed one): `map at <console>:3`.
  let result: { value: unknown } | undefined;
  for (const piece of pieces) {
    const typedLine = lines[piece.line] ?? 0;
    // The wrapper's first line is line `first + typedLine - 1`, so the statement's is the next.
    const fn = runInThisContext(`(async () => {\n${piece.code}\n})`, {
      filename: '<console>',
      lineOffset: first + typedLine - 2,
    }) as () => Promise<{ value: unknown } | undefined>;
    result = await fn();
  }
  return result?.value;
}
