/**
 * The Spark SQL parser: SQL text to the unresolved plan, synchronously. The peggy parser is
 * generated from `grammar.ts` ahead of time into `generated.ts` (`npm run parser:gen`; a test
 * checks it is current), so no process pays for generating it.
 */
import * as generated from './generated.js';
import type { Expression, Relation } from '../plan/unresolved.js';
import { Builder, parseError, tokenAt, type ParamBinder } from './build.js';

/** A parsed SQL statement. Names are multipart names as strings (`db.t`, backticks where needed). */
export type Statement =
  | { readonly kind: 'query'; readonly plan: Relation }
  | {
      readonly kind: 'createView';
      readonly name: string;
      readonly replace: boolean;
      readonly temporary: boolean;
      readonly global: boolean;
      readonly ifNotExists: boolean;
      /** The view's query; with a column list `v(a, b)`, a `toDf` over it. */
      readonly plan: Relation;
    }
  | { readonly kind: 'dropView'; readonly name: string; readonly ifExists: boolean }
  /** SHOW TABLES [FROM|IN db] [[LIKE] 'pattern']. */
  | { readonly kind: 'showTables'; readonly database?: string; readonly pattern?: string }
  | {
      readonly kind: 'describe';
      readonly target:
        | { readonly kind: 'table'; readonly name: string }
        | { readonly kind: 'query'; readonly plan: Relation };
      /** DESCRIBE EXTENDED / FORMATTED. */
      readonly extended: boolean;
    }
  | {
      readonly kind: 'explain';
      readonly mode: 'simple' | 'extended' | 'formatted' | 'codegen' | 'cost';
      readonly statement: Statement;
    }
  /** CACHE [LAZY] TABLE name [[AS] query]. */
  | { readonly kind: 'cacheTable'; readonly name: string; readonly lazy: boolean; readonly plan?: Relation }
  | { readonly kind: 'uncacheTable'; readonly name: string; readonly ifExists: boolean }
  /** SET k=v (both), SET k (key only), SET (neither). */
  | { readonly kind: 'setConf'; readonly key?: string; readonly value?: string };

interface GeneratedParser {
  parse(input: string, options: { startRule: string; h: Builder }): unknown;
  SyntaxError: new (...args: never[]) => { location: { start: { offset: number } } };
}

/** The parser generated from the grammar at build time (`npm run parser:gen`). */
function sqlParser(): GeneratedParser {
  return generated as unknown as GeneratedParser;
}

function run(sql: string, startRule: string, bind?: ParamBinder): unknown {
  const parser = sqlParser();
  try {
    return parser.parse(sql, { startRule, h: new Builder(sql, bind) });
  } catch (e) {
    if (e instanceof parser.SyntaxError) {
      const { token, offset } = tokenAt(sql, e.location.start.offset);
      throw parseError(
        sql,
        offset,
        token,
        token === '::' ? '`::` casts are not Spark SQL, use CAST(x AS type)' : undefined,
      );
    }
    throw e;
  }
}

/**
 * Parses one SQL statement (a trailing `;` allowed); raises ParseException on a syntax error.
 * Parameter markers (`:name`, `?`) take their values from `bind`; without it they are unbound.
 */
export function parseStatement(sql: string, bind?: ParamBinder): Statement {
  return run(sql, 'Statement', bind) as Statement;
}

/** Parses one expression with an optional alias (`a + 1 AS b`), or `*` / `t.*` (selectExpr, expr). */
export function parseExpression(text: string): Expression {
  return run(text, 'SingleExpression') as Expression;
}

/** Parses a query and returns its plan; raises ParseException when the text is not a query. */
export function parseQuery(sql: string): Relation {
  const s = parseStatement(sql);
  if (s.kind !== 'query') {
    const { token, offset } = tokenAt(sql, 0);
    throw parseError(sql, offset, token, 'a query was expected');
  }
  return s.plan;
}
