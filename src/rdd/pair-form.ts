/**
 * The pair form of a shipped function that returns `[key, value]` array literals: the same
 * function with a sink as a first parameter, which it calls with the two elements instead of
 * allocating the array (`(w) => [w, 1]` becomes `(__msPairSink, w) => __msPairSink(w, 1)`). A
 * chain ending in such a map that feeds a shuffle by key hands key and value on without an array
 * per record. Only arrow functions qualify whose every return (outside nested functions) is an
 * array literal of exactly two elements, and whose block body, if any, ends with one; anything
 * else keeps its ordinary form.
 */
import * as acorn from 'acorn';

/** The sink parameter's name; a function whose source mentions it keeps its ordinary form. */
const SINK = '__msPairSink';

interface AstNode {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly [k: string]: unknown;
}

function isNode(x: unknown): x is AstNode {
  return typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';
}

/** A two-element array literal without holes or spreads. */
function isPairLiteral(n: unknown): n is AstNode & { elements: [AstNode, AstNode] } {
  if (!isNode(n) || n.type !== 'ArrayExpression') return false;
  const els = n.elements as unknown[];
  return els.length === 2 && els.every((e) => isNode(e) && e.type !== 'SpreadElement');
}

const FUNCTION_TYPES = new Set(['FunctionExpression', 'FunctionDeclaration', 'ArrowFunctionExpression']);

/** The return statements of a function body, not descending into nested functions (or classes). */
function returnsOf(body: AstNode, out: AstNode[]): void {
  for (const key of Object.keys(body)) {
    const v = body[key];
    const kids = Array.isArray(v) ? (v as unknown[]) : [v];
    for (const k of kids) {
      if (!isNode(k)) continue;
      if (k.type === 'ReturnStatement') out.push(k);
      if (FUNCTION_TYPES.has(k.type) || k.type === 'ClassExpression' || k.type === 'ClassDeclaration')
        continue;
      returnsOf(k, out);
    }
  }
}

/** Pair forms by source, computed once per thread. */
const cache = new Map<string, string | undefined>();

/**
 * The pair form's source of a shipped function's source (an expression evaluating to the function),
 * or undefined when the function does not qualify (see the module doc). The pair form takes the
 * sink first, then the function's own parameters.
 */
export function pairFormSource(src: string): string | undefined {
  if (cache.has(src)) return cache.get(src);
  let out: string | undefined;
  try {
    out = rewrite(src);
  } catch {
    out = undefined; // not parseable here: the ordinary form reports what is wrong
  }
  if (cache.size > 1000) cache.clear();
  cache.set(src, out);
  return out;
}

function rewrite(src: string): string | undefined {
  if (src.includes(SINK)) return undefined;
  const ast = acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'script' }) as unknown as AstNode;
  const body = ast.body as AstNode[];
  if (body.length !== 1 || body[0]!.type !== 'ExpressionStatement') return undefined;
  let fn = body[0]!.expression as AstNode;
  while (fn.type === 'ParenthesizedExpression') fn = fn.expression as AstNode;
  if (fn.type !== 'ArrowFunctionExpression' || fn.async === true) return undefined;
  const params = fn.params as AstNode[];
  const fbody = fn.body as AstNode;
  const head =
    params.length === 0 ? SINK : `${SINK}, ${src.slice(params[0]!.start, params[params.length - 1]!.end)}`;
  const call = (pair: AstNode & { elements: [AstNode, AstNode] }) =>
    `${SINK}(${src.slice(pair.elements[0].start, pair.elements[0].end)}, ` +
    `${src.slice(pair.elements[1].start, pair.elements[1].end)})`;
  if (fn.expression === true) {
    if (!isPairLiteral(fbody)) return undefined;
    return `((${head}) => ${call(fbody)})`;
  }
  // A block body: every return gives a pair literal, and the last statement is one (no fall-through).
  const stmts = fbody.body as AstNode[];
  if (stmts.at(-1)?.type !== 'ReturnStatement') return undefined;
  const returns: AstNode[] = [];
  returnsOf(fbody, returns);
  if (!returns.every((r) => isPairLiteral(r.argument))) return undefined;
  let text = '';
  let at = fbody.start;
  for (const r of returns.sort((a, b) => a.start - b.start)) {
    const arg = r.argument as AstNode & { elements: [AstNode, AstNode] };
    text += src.slice(at, arg.start) + ` void ${call(arg)}`; // `return[a,b]` (minified) needs the space
    at = arg.end;
  }
  text += src.slice(at, fbody.end);
  return `((${head}) => ${text})`;
}
