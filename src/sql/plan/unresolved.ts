/**
 * The unresolved plan: what the DataFrame API and the SQL parser build, before names and types are
 * resolved. Its shapes follow Spark Connect's `Relation` and `Expression` messages
 * (`spark/connect/relations.proto`, `expressions.proto`): the same node names and field names, so
 * a Spark Connect endpoint can decode into it. Operators (`+`, `==`, `and`) and CASE are
 * `unresolvedFunction`s named as Spark Connect names them.
 */
import type { ArrowUdfSignature } from '../../wasm/arrow-udf.js';
import type { Callable } from '../../rdd/functions.js';
import type { DataType, StructType } from '../types.js';

/** An interval value (Spark's CalendarInterval). */
export interface IntervalValue {
  readonly months: number;
  readonly days: number;
  readonly microseconds: number;
}

/** Expression.SortOrder */
export interface SortOrder {
  readonly type: 'sortOrder';
  readonly child: Expression;
  readonly direction: 'ascending' | 'descending';
  readonly nullOrdering: 'nullsFirst' | 'nullsLast';
}

/** A window frame boundary: unbounded, the current row, or a value offset. */
export type FrameBoundary =
  | { readonly kind: 'currentRow' }
  | { readonly kind: 'unbounded' }
  | { readonly kind: 'value'; readonly value: number };

/** Expression.Window.WindowFrame */
export interface WindowFrame {
  readonly frameType: 'row' | 'range';
  readonly lower: FrameBoundary;
  readonly upper: FrameBoundary;
}

/** Expression: the unresolved expression tree. */
export type Expression =
  | { readonly type: 'literal'; readonly value: unknown; readonly dataType?: DataType }
  | { readonly type: 'unresolvedAttribute'; readonly nameParts: readonly string[]; readonly planId?: number }
  | {
      readonly type: 'unresolvedFunction';
      readonly functionName: string;
      readonly arguments: readonly Expression[];
      readonly isDistinct: boolean;
    }
  | { readonly type: 'unresolvedStar'; readonly unparsedTarget?: string }
  | { readonly type: 'alias'; readonly expr: Expression; readonly name: readonly string[] }
  | {
      readonly type: 'cast';
      readonly expr: Expression;
      readonly dataType: DataType;
      /** `'try'` for TRY_CAST (null where the value does not convert); absent for CAST. */
      readonly evalMode?: 'try';
    }
  | SortOrder
  | {
      readonly type: 'window';
      readonly windowFunction: Expression;
      readonly partitionSpec: readonly Expression[];
      readonly orderSpec: readonly SortOrder[];
      readonly frameSpec?: WindowFrame;
    }
  | {
      readonly type: 'subqueryExpression';
      readonly plan: Relation;
      readonly subqueryType: 'scalar' | 'exists' | 'in';
      /** For IN: the values compared with the subquery's columns. */
      readonly inSubqueryValues?: readonly Expression[];
    }
  /** `F.expr('a + 1')`: parsed when the plan is analyzed. */
  | { readonly type: 'expressionString'; readonly expression: string }
  | { readonly type: 'unresolvedExtractValue'; readonly child: Expression; readonly extraction: Expression }
  | {
      readonly type: 'commonInlineUserDefinedFunction';
      readonly functionName: string;
      readonly arguments: readonly Expression[];
      readonly fn: Callable;
      readonly returnType: DataType;
      /**
       * For F.wasmUdf: the module's name and its arrow-udf functions of this name and return type
       * (the analyzer picks one by the arguments' types); `fn(signature, ipc)` calls it.
       */
      readonly arrow?: { readonly module: string; readonly candidates: readonly ArrowUdfSignature[] };
    };

/** Spark Connect's Join.JoinType, in PySpark's spelling. */
export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'left_semi' | 'left_anti' | 'cross';

/** Where a read relation's data comes from. */
export interface DataSourceSpec {
  readonly format: string;
  readonly paths: readonly string[];
  readonly options: Readonly<Record<string, string>>;
  readonly schema?: StructType;
  /** Columns of `schema` whose values come from the files' `column=value` directories. */
  readonly partitionColumns?: readonly string[];
}

/** Relation: the unresolved plan tree. `planId` identifies a DataFrame's node (for `df.col`). */
export type Relation = { readonly planId?: number } & (
  | { readonly type: 'read'; readonly namedTable?: string; readonly dataSource?: DataSourceSpec }
  /** Rows given by the client: encoded per partition (Parquet bytes) with their schema. */
  | {
      readonly type: 'localRelation';
      readonly schema: StructType;
      readonly rows: readonly (readonly unknown[])[];
      readonly numPartitions: number;
    }
  | {
      readonly type: 'range';
      readonly start: number;
      readonly end: number;
      readonly step: number;
      readonly numPartitions?: number;
    }
  | { readonly type: 'project'; readonly input: Relation; readonly expressions: readonly Expression[] }
  | { readonly type: 'filter'; readonly input: Relation; readonly condition: Expression }
  | {
      readonly type: 'join';
      readonly left: Relation;
      readonly right: Relation;
      readonly joinCondition?: Expression;
      readonly joinType: JoinType;
      readonly usingColumns?: readonly string[];
    }
  | {
      readonly type: 'setOp';
      readonly left: Relation;
      readonly right: Relation;
      readonly setOpType: 'union' | 'intersect' | 'except';
      readonly isAll: boolean;
      readonly byName: boolean;
      readonly allowMissingColumns: boolean;
    }
  | {
      readonly type: 'sort';
      readonly input: Relation;
      readonly order: readonly SortOrder[];
      readonly isGlobal: boolean;
    }
  | { readonly type: 'limit'; readonly input: Relation; readonly limit: number }
  | { readonly type: 'offset'; readonly input: Relation; readonly offset: number }
  | {
      readonly type: 'aggregate';
      readonly input: Relation;
      readonly groupType: 'groupby' | 'rollup' | 'cube' | 'pivot';
      readonly groupingExpressions: readonly Expression[];
      /**
       * The whole output list, grouping columns included, as Catalyst's Aggregate (Spark Connect's
       * Aggregate lists only the aggregates: a Connect decoder prepends the grouping expressions).
       * With a pivot: only the aggregates.
       */
      readonly aggregateExpressions: readonly Expression[];
      readonly pivot?: { readonly col: Expression; readonly values?: readonly unknown[] };
    }
  | { readonly type: 'deduplicate'; readonly input: Relation; readonly columnNames?: readonly string[] }
  | {
      readonly type: 'subqueryAlias';
      readonly input: Relation;
      readonly alias: string;
      readonly columnAliases?: readonly string[];
    }
  | {
      readonly type: 'withColumns';
      readonly input: Relation;
      readonly aliases: ReadonlyArray<{ readonly name: string; readonly expr: Expression }>;
    }
  | {
      readonly type: 'withColumnsRenamed';
      readonly input: Relation;
      readonly renames: ReadonlyArray<readonly [string, string]>;
    }
  | { readonly type: 'drop'; readonly input: Relation; readonly columns: readonly Expression[] }
  | {
      readonly type: 'sample';
      readonly input: Relation;
      readonly lowerBound: number;
      readonly upperBound: number;
      readonly withReplacement: boolean;
      readonly seed: number;
    }
  | {
      readonly type: 'repartition';
      readonly input: Relation;
      readonly numPartitions?: number;
      readonly partitionExprs: readonly Expression[];
      readonly shuffle: boolean;
    }
  | { readonly type: 'toDf'; readonly input: Relation; readonly columnNames: readonly string[] }
  /** A cached DataFrame: its plan, computed once and stored (`df.cache()`). */
  | { readonly type: 'cached'; readonly input: Relation; readonly cacheId: string }
);

/** Convenience constructors used by the DataFrame API and the parser. */
export const E = {
  col(name: string, planId?: number): Expression {
    return {
      type: 'unresolvedAttribute',
      nameParts: splitName(name),
      ...(planId !== undefined && { planId }),
    };
  },
  lit(value: unknown, dataType?: DataType): Expression {
    return { type: 'literal', value, ...(dataType && { dataType }) };
  },
  fn(functionName: string, args: readonly Expression[], isDistinct = false): Expression {
    return { type: 'unresolvedFunction', functionName, arguments: args, isDistinct };
  },
  alias(expr: Expression, name: string): Expression {
    return { type: 'alias', expr, name: [name] };
  },
};

/** Splits `a.b.c` (backticks quote a part: `` `a.b`.c ``) into name parts. */
export function splitName(name: string): string[] {
  if (!name.includes('`')) return name === '*' ? ['*'] : name.split('.');
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '`') {
      if (quoted && name[i + 1] === '`') {
        cur += '`';
        i++;
      } else quoted = !quoted;
    } else if (c === '.' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}
