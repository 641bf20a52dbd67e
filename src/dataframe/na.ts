/**
 * `DataFrameNaFunctions` (`df.na`): fill, drop and replace missing or given values, built (as
 * Spark builds them) from projections and filters over the DataFrame's schema.
 */
import { AnalysisException } from '../sql/errors.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { E, type Expression } from '../sql/plan/unresolved.js';
import { BooleanType, DoubleType, FloatType, StringType, isNumeric, type StructField } from '../sql/types.js';
import { litExpr } from './column.js';
import type { DataFrame } from './dataframe.js';

/** A fill or replacement value: a number, a string or a boolean. */
export type NaValue = number | string | boolean;

function subsetOf(subset: string | readonly string[] | undefined): string[] | undefined {
  if (subset === undefined || subset === null) return undefined;
  return typeof subset === 'string' ? [subset] : [...subset];
}

function isFloating(f: StructField): boolean {
  return f.dataType instanceof DoubleType || f.dataType instanceof FloatType;
}

/** Whether a value of the kind of `v` applies to a column (numbers to numeric columns, …). */
function applies(v: unknown, f: StructField): boolean {
  if (typeof v === 'number') return isNumeric(f.dataType);
  if (typeof v === 'string') return f.dataType instanceof StringType;
  if (typeof v === 'boolean') return f.dataType instanceof BooleanType;
  return false;
}

function checkValue(v: unknown, what: string): void {
  if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') {
    throw new InvalidOperationError(
      `[NOT_BOOL_OR_DICT_OR_FLOAT_OR_INT_OR_STR] Argument \`${what}\` should be a bool, dict, float, int or str, got ${v === null ? 'null' : typeof v}.`,
    );
  }
}

/** The missing-data functions of a DataFrame. */
export class DataFrameNaFunctions {
  constructor(private readonly df: DataFrame) {}

  private attr(name: string): Expression {
    return { type: 'unresolvedAttribute', nameParts: [name], planId: this.df.planId };
  }

  private fields(subset: readonly string[] | undefined): StructField[] {
    const fields = this.df.schema.fields;
    for (const name of subset ?? []) {
      if (!fields.some((f) => f.name === name)) {
        throw new AnalysisException(
          'UNRESOLVED_COLUMN.WITH_SUGGESTION',
          `A column or function parameter with name \`${name}\` cannot be resolved. Did you mean one of the following? [${fields.map((f) => `\`${f.name}\``).join(', ')}].`,
          { objectName: `\`${name}\``, proposal: fields.map((f) => `\`${f.name}\``).join(', ') },
        );
      }
    }
    return [...fields];
  }

  private project(replace: (f: StructField) => Expression | undefined): DataFrame {
    const exprs = this.df.schema.fields.map((f) => {
      const e = replace(f);
      return e === undefined ? this.attr(f.name) : E.alias(e, f.name);
    });
    return this.df._derive({ type: 'project', input: this.df._plan, expressions: exprs });
  }

  /**
   * Replaces NULLs (and NaN in float columns) with `value` in the columns of its kind (numbers in
   * numeric columns, strings in string columns, booleans in boolean columns), among `subset` if
   * given; an object maps column names to their values.
   */
  fill(value: NaValue | Readonly<Record<string, NaValue>>, subset?: string | readonly string[]): DataFrame {
    const perColumn = typeof value === 'object' && value !== null ? value : undefined;
    if (perColumn) Object.values(perColumn).forEach((v) => checkValue(v, 'value'));
    else checkValue(value, 'value');
    const cols = perColumn ? Object.keys(perColumn) : subsetOf(subset);
    const fields = this.fields(cols);
    const chosen = new Map<string, unknown>();
    for (const f of fields) {
      if (perColumn) {
        if (Object.hasOwn(perColumn, f.name)) chosen.set(f.name, perColumn[f.name]);
      } else if ((cols === undefined || cols.includes(f.name)) && applies(value, f)) {
        chosen.set(f.name, value);
      }
    }
    return this.project((f) => {
      if (!chosen.has(f.name)) return undefined;
      const col = isFloating(f) ? E.fn('nanvl', [this.attr(f.name), litExpr(null)]) : this.attr(f.name);
      return E.fn('coalesce', [
        col,
        { type: 'cast', expr: litExpr(chosen.get(f.name)), dataType: f.dataType },
      ]);
    });
  }

  /**
   * Drops rows with NULL (or NaN) values: `how` 'any' (default) drops a row with any, 'all' one
   * with only such values; `thresh` keeps rows with at least that many other values (overrides how).
   */
  drop(how: 'any' | 'all' = 'any', thresh?: number, subset?: string | readonly string[]): DataFrame {
    if (how !== 'any' && how !== 'all') {
      throw new InvalidOperationError(
        `[VALUE_NOT_ANY_OR_ALL] Value for \`how\` must be 'any' or 'all', got '${String(how)}'.`,
      );
    }
    const names = subsetOf(subset);
    const fields = this.fields(names).filter((f) => names === undefined || names.includes(f.name));
    const minNonNulls = thresh ?? (how === 'any' ? fields.length : 1);
    const present = fields.map((f) => {
      const notNull = E.fn('isnotnull', [this.attr(f.name)]);
      return isFloating(f)
        ? E.fn('and', [notNull, E.fn('not', [E.fn('isnan', [this.attr(f.name)])])])
        : notNull;
    });
    let condition: Expression;
    if (minNonNulls <= 0) condition = litExpr(true);
    else if (present.length > 0 && minNonNulls === present.length) {
      condition = present.reduce((a, b) => E.fn('and', [a, b]));
    } else {
      const count = present
        .map((p) => E.fn('when', [p, litExpr(1), litExpr(0)]))
        .reduce<Expression>((a, b) => E.fn('+', [a, b]), litExpr(0));
      condition = E.fn('>=', [count, litExpr(minNonNulls)]);
    }
    return this.df._derive({ type: 'filter', input: this.df._plan, condition });
  }

  /**
   * Replaces values: `toReplace` a value, an array (with `value` a value or an array of the same
   * length) or an object of old → new; only in columns of the kind of the old values, among `subset`.
   */
  replace(
    toReplace: NaValue | readonly NaValue[] | Readonly<Record<string, NaValue | null>>,
    value?: NaValue | null | readonly (NaValue | null)[],
    subset?: string | readonly string[],
  ): DataFrame {
    let pairs: [NaValue, NaValue | null][];
    if (Array.isArray(toReplace)) {
      const keys = toReplace as readonly NaValue[];
      if (Array.isArray(value)) {
        const values = value as readonly (NaValue | null)[];
        if (values.length !== keys.length) {
          throw new InvalidOperationError(
            `[LENGTH_SHOULD_BE_THE_SAME] to_replace and value should be of the same length, got ${keys.length} and ${values.length}.`,
          );
        }
        pairs = keys.map((k, i) => [k, values[i] ?? null]);
      } else {
        pairs = keys.map((k) => [k, (value ?? null) as NaValue | null]);
      }
    } else if (typeof toReplace === 'object' && toReplace !== null) {
      pairs = Object.entries(toReplace);
    } else {
      if (value === undefined) {
        throw new InvalidOperationError(
          '[ARGUMENT_REQUIRED] Argument `value` is required when argument `to_replace` is not a dictionary.',
        );
      }
      pairs = [[toReplace, value as NaValue | null]];
    }
    if (pairs.length === 0) return this.project(() => undefined);
    pairs.forEach(([k]) => checkValue(k, 'to_replace'));
    const kind = typeof pairs[0]![0];
    if (pairs.some(([k]) => typeof k !== kind)) {
      throw new InvalidOperationError('[MIXED_TYPE_REPLACEMENT] Mixed type replacements are not supported.');
    }
    const names = subsetOf(subset);
    const fields = this.fields(names);
    const targets = new Set(
      fields
        .filter((f) => (names === undefined || names.includes(f.name)) && applies(pairs[0]![0], f))
        .map((f) => f.name),
    );
    return this.project((f) => {
      if (!targets.has(f.name)) return undefined;
      const key = this.attr(f.name);
      const args: Expression[] = [];
      for (const [k, v] of pairs) {
        args.push(E.fn('==', [key, litExpr(k)]), { type: 'cast', expr: litExpr(v), dataType: f.dataType });
      }
      args.push(key);
      return E.fn('when', args);
    });
  }
}
