/**
 * The errors of the SQL layer, with Spark's error classes (`UNRESOLVED_COLUMN.WITH_SUGGESTION`,
 * `PARSE_SYNTAX_ERROR`, …). The class travels in the wire data, so a remote one keeps it.
 */
import { MicroSparkError } from '../protocol/errors.js';

/** A query that cannot be analyzed: an unknown column or table, a type mismatch, a bad argument. */
export class AnalysisException extends MicroSparkError {
  constructor(
    /** Spark's error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`. */
    readonly errorClass: string,
    message: string,
    /** Message parameters, as Spark's `messageParameters`. */
    readonly messageParameters: Readonly<Record<string, string>> = {},
  ) {
    super(message.startsWith('[') ? message : `[${errorClass}] ${message}`);
  }
  override wireData() {
    return { errorClass: this.errorClass, messageParameters: { ...this.messageParameters } };
  }
  /** PySpark's `getErrorClass()` (Spark 4: `getCondition()`). */
  getErrorClass(): string {
    return this.errorClass;
  }
  /** Spark 4's name for the error class. */
  getCondition(): string {
    return this.errorClass;
  }
}

/** SQL text that does not parse: `[PARSE_SYNTAX_ERROR]` with the line, column and token. */
export class ParseException extends AnalysisException {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly token: string,
  ) {
    super('PARSE_SYNTAX_ERROR', message, { error: token });
  }
  override wireData() {
    return { ...super.wireData(), line: this.line, column: this.column, token: this.token };
  }
}
