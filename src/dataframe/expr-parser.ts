/**
 * The one seam between the DataFrame API and the SQL parser (`src/sql/parser/parser.ts`): the
 * parser registers itself here, so the API can build `expressionString` nodes without importing it.
 */
import { InvalidOperationError } from '../protocol/errors.js';
import type { Expression } from '../sql/plan/unresolved.js';

let parser: ((text: string) => Expression) | undefined;

/** Registers the SQL expression parser (`parseExpression`); called once by the SQL layer. */
export function setExpressionParser(fn: (text: string) => Expression): void {
  parser = fn;
}

/** Parses SQL expression text with the registered parser; throws if none is registered yet. */
export function parseExpressionString(text: string): Expression {
  if (!parser) {
    throw new InvalidOperationError(
      `cannot parse the SQL expression '${text}': no SQL parser is registered (setExpressionParser)`,
    );
  }
  return parser(text);
}
