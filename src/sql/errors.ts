/**
 * The errors of the SQL layer, with Spark's error classes (`UNRESOLVED_COLUMN.WITH_SUGGESTION`,
 * `PARSE_SYNTAX_ERROR`, …) and Spark 4's message form `[CLASS] text SQLSTATE: xxxxx`. The class
 * and its parameters travel in the wire data, so a remote one keeps them (RemoteError.remoteData).
 */
import { MicroSparkError } from '../protocol/errors.js';

/** SQLSTATEs of Spark's error classes (error-conditions.json), by top-level class. */
const SQL_STATES: Readonly<Record<string, string>> = {
  AMBIGUOUS_COLUMN_OR_FIELD: '42702',
  AMBIGUOUS_REFERENCE: '42704',
  ARITHMETIC_OVERFLOW: '22003',
  CAST_INVALID_INPUT: '22018',
  CAST_OVERFLOW: '22003',
  DIVIDE_BY_ZERO: '22012',
  DATATYPE_MISMATCH: '42K09',
  DATA_SOURCE_NOT_FOUND: '42K02',
  INTERNAL_ERROR: 'XX000',
  JOIN_CONDITION_IS_NOT_BOOLEAN_TYPE: '42K0E',
  MALFORMED_RECORD_IN_PARSING: '22023',
  MISSING_AGGREGATION: '42803',
  NESTED_AGGREGATE_FUNCTION: '42607',
  NUM_COLUMNS_MISMATCH: '42826',
  PARSE_SYNTAX_ERROR: '42601',
  PATH_ALREADY_EXISTS: '42K04',
  PATH_NOT_FOUND: '42K03',
  SCALAR_SUBQUERY_TOO_MANY_ROWS: '21000',
  TABLE_OR_VIEW_NOT_FOUND: '42P01',
  TEMP_TABLE_OR_VIEW_ALREADY_EXISTS: '42P07',
  UNABLE_TO_INFER_SCHEMA: '42KD9',
  UNRESOLVED_COLUMN: '42703',
  UNRESOLVED_ROUTINE: '42883',
  UNRESOLVED_USING_COLUMN_FOR_JOIN: '42703',
  UNSUPPORTED_FEATURE: '0A000',
  WRONG_NUM_ARGS: '42605',
};

/** The SQLSTATE of an error class (`UNRESOLVED_COLUMN.WITH_SUGGESTION` → `42703`), when known. */
export function sqlStateOf(errorClass: string): string | undefined {
  return SQL_STATES[errorClass.split('.')[0]!];
}

/** `[CLASS] text SQLSTATE: xxxxx`, as Spark 4 prints an error (a message that has its SQLSTATE is kept). */
function sparkMessage(errorClass: string, message: string): string {
  const m = message.startsWith('[') ? message : `[${errorClass}] ${message}`;
  const state = sqlStateOf(errorClass);
  return state === undefined || m.includes('SQLSTATE: ') ? m : `${m} SQLSTATE: ${state}`;
}

/** A query that cannot be analyzed: an unknown column or table, a type mismatch, a bad argument. */
export class AnalysisException extends MicroSparkError {
  constructor(
    /** Spark's error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`. */
    readonly errorClass: string,
    message: string,
    /** Message parameters, as Spark's `messageParameters`. */
    readonly messageParameters: Readonly<Record<string, string>> = {},
  ) {
    super(sparkMessage(errorClass, message));
  }
  override wireData(): Record<string, unknown> {
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
  /** The SQLSTATE of the class (`42703`), or undefined when it has none. */
  getSqlState(): string | undefined {
    return sqlStateOf(this.errorClass);
  }
  /** The message parameters (PySpark's `getMessageParameters()`). */
  getMessageParameters(): Record<string, string> {
    return { ...this.messageParameters };
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

/**
 * An error raised while a query runs (in a task, usually on a worker), with Spark's error class:
 * `MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION` (a FAILFAST read), `ARITHMETIC_OVERFLOW`, …
 * Spark's SparkRuntimeException. Crosses the wire as a RemoteError whose remoteData has the class.
 */
export class SparkRuntimeException extends MicroSparkError {
  constructor(
    /** Spark's error class. */
    readonly errorClass: string,
    message: string,
    /** Message parameters, as Spark's `messageParameters`. */
    readonly messageParameters: Readonly<Record<string, string>> = {},
  ) {
    super(sparkMessage(errorClass, message));
  }
  override wireData(): Record<string, unknown> {
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
  /** The SQLSTATE of the class, or undefined when it has none. */
  getSqlState(): string | undefined {
    return sqlStateOf(this.errorClass);
  }
}
