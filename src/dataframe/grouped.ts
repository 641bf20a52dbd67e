/**
 * `GroupedData`: what `df.groupBy(…)`, `rollup`, `cube` and `pivot` return; its aggregations
 * build an `aggregate` plan node.
 */
import { AnalysisException } from '../sql/errors.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { E, type Expression } from '../sql/plan/unresolved.js';
import { isNumeric } from '../sql/types.js';
import { Column, colExpr, litExpr, type ColumnOrName } from './column.js';
import type { DataFrame } from './dataframe.js';

/** The grouping kind of an aggregate node. */
export type GroupType = 'groupby' | 'rollup' | 'cube' | 'pivot';

/** Spark's names for the function names of the dict form of `agg` (`{ age: 'mean' }`). */
function dictFunction(fn: string): string {
  const f = fn.toLowerCase();
  if (f === 'mean' || f === 'average') return 'avg';
  if (f === 'std') return 'stddev';
  return f;
}

/** Spark's `spark.sql.pivotMaxValues` default: the most distinct values pivot() finds by itself. */
const PIVOT_MAX_VALUES = 10000;

/** A DataFrame grouped for aggregation. */
export class GroupedData {
  constructor(
    private readonly df: DataFrame,
    /** The grouping kind. */
    readonly groupType: GroupType,
    /** The grouping expressions. */
    readonly groupingExpressions: readonly Expression[],
    /** The pivot column and values, for `groupType` 'pivot'. */
    readonly pivotSpec?: { readonly col: Expression; readonly values?: readonly unknown[] },
  ) {}

  /**
   * Aggregates: Columns (`F.max('age')`), or one object mapping column names to function names
   * (`{ age: 'max', '*': 'count' }`, PySpark's dict form).
   */
  agg(...exprs: (Column | Readonly<Record<string, string>>)[]): DataFrame {
    if (exprs.length === 0) {
      throw new InvalidOperationError('[CANNOT_BE_EMPTY] At least one aggregate expression is required.');
    }
    let aggs: Expression[];
    const first = exprs[0];
    if (exprs.length === 1 && !(first instanceof Column) && typeof first === 'object') {
      aggs = Object.entries(first).map(([name, fn]) => {
        const f = dictFunction(fn);
        if (name === '*' && f === 'count') return E.fn('count', [litExpr(1)]);
        return E.fn(f, [colExpr(name)]);
      });
    } else {
      aggs = exprs.map((e) => {
        if (!(e instanceof Column)) {
          throw new InvalidOperationError('[NOT_COLUMN] agg: all exprs should be Columns, or one object.');
        }
        return e.expr;
      });
    }
    return this.build(aggs);
  }

  private build(aggregateExpressions: readonly Expression[]): DataFrame {
    return this.df._derive({
      type: 'aggregate',
      input: this.df._plan,
      groupType: this.groupType,
      groupingExpressions: this.groupingExpressions,
      // The output list is the grouping columns then the aggregates (PySpark's groupBy().agg()).
      aggregateExpressions: this.pivotSpec
        ? aggregateExpressions
        : [...this.groupingExpressions, ...aggregateExpressions],
      ...(this.pivotSpec && { pivot: this.pivotSpec }),
    });
  }

  /** The number of rows of each group, in a column named `count`. */
  count(): DataFrame {
    return this.build([E.alias(E.fn('count', [litExpr(1)]), 'count')]);
  }

  private numeric(fn: string, cols: readonly string[]): DataFrame {
    const schema = this.df.schema;
    let names: string[];
    if (cols.length === 0) {
      names = schema.fields.filter((f) => isNumeric(f.dataType)).map((f) => f.name);
    } else {
      names = [...cols];
      for (const c of names) {
        const field = schema.fields.find((f) => f.name === c);
        if (!field) {
          throw new AnalysisException(
            'UNRESOLVED_COLUMN.WITH_SUGGESTION',
            `A column or function parameter with name \`${c}\` cannot be resolved. Did you mean one of the following? [${schema.fields.map((f) => `\`${f.name}\``).join(', ')}].`,
            { objectName: `\`${c}\``, proposal: schema.fields.map((f) => `\`${f.name}\``).join(', ') },
          );
        }
        if (!isNumeric(field.dataType)) {
          throw new AnalysisException(
            '_LEGACY_ERROR_TEMP_1039',
            `"${c}" is not a numeric column. Aggregation function can only be applied on a numeric column.`,
            { colName: c },
          );
        }
      }
    }
    return this.build(names.map((n) => E.fn(fn, [E.col(n)])));
  }

  /** The mean of the given numeric columns (all numeric columns when none are given). */
  mean(...cols: string[]): DataFrame {
    return this.numeric('avg', cols);
  }
  /** Same as {@link GroupedData.mean}. */
  avg(...cols: string[]): DataFrame {
    return this.numeric('avg', cols);
  }
  /** The sum of the given numeric columns (all numeric columns when none are given). */
  sum(...cols: string[]): DataFrame {
    return this.numeric('sum', cols);
  }
  /** The minimum of the given numeric columns (all numeric columns when none are given). */
  min(...cols: string[]): DataFrame {
    return this.numeric('min', cols);
  }
  /** The maximum of the given numeric columns (all numeric columns when none are given). */
  max(...cols: string[]): DataFrame {
    return this.numeric('max', cols);
  }

  /**
   * Pivots on a column: one output column per value. Without values, PySpark runs a job for the
   * distinct values (sorted, nulls first; at most `spark.sql.pivotMaxValues`, 10000): so this
   * form returns a Promise of the GroupedData. Only after `groupBy`.
   */
  pivot(pivotCol: ColumnOrName): Promise<GroupedData>;
  pivot(pivotCol: ColumnOrName, values: readonly unknown[]): GroupedData;
  pivot(pivotCol: ColumnOrName, values?: readonly unknown[]): GroupedData | Promise<GroupedData> {
    if (this.groupType !== 'groupby') {
      throw new InvalidOperationError(
        `[UNSUPPORTED_OPERATION] pivot is only supported after a groupBy, not after ${this.groupType}.`,
      );
    }
    const make = (vs: readonly unknown[]) =>
      new GroupedData(this.df, 'pivot', this.groupingExpressions, {
        col: colExpr(pivotCol),
        values: [...vs],
      });
    if (values !== undefined) return make(values);
    const col = pivotCol instanceof Column ? pivotCol : new Column(colExpr(pivotCol));
    const max = PIVOT_MAX_VALUES;
    const name = typeof pivotCol === 'string' ? pivotCol : '(a Column)';
    return this.df
      .select(col.alias('__pivot'))
      .distinct()
      .limit(max + 1)
      .orderBy('__pivot')
      .collect()
      .then((rows) => {
        if (rows.length > max)
          throw new AnalysisException(
            '_LEGACY_ERROR_TEMP_1325',
            `The pivot column ${name} has more than ${max} distinct values, this could indicate an error. If this was intended, set spark.sql.pivotMaxValues to at least the number of distinct values of the pivot column.`,
            { pivotColumn: name, maxValues: String(max) },
          );
        return make(rows.map((r) => r.__pivot));
      });
  }
}
