/**
 * Window specifications (`pyspark.sql.Window`): partitioning, ordering and frame of a window
 * function, used as `F.row_number().over(Window.partitionBy('a').orderBy('b'))`.
 */
import type { Expression, FrameBoundary, SortOrder, WindowFrame } from '../sql/plan/unresolved.js';
import { colExpr, sortOrderOf, type ColumnOrName } from './column.js';

const JAVA_MIN_LONG = -(2 ** 63);
const JAVA_MAX_LONG = 2 ** 63 - 1;

function flatten(cols: readonly (ColumnOrName | readonly ColumnOrName[])[]): ColumnOrName[] {
  return cols.flatMap((c) => (Array.isArray(c) ? [...(c as readonly ColumnOrName[])] : [c as ColumnOrName]));
}

function boundary(v: number, side: 'start' | 'end'): FrameBoundary {
  if (v === 0) return { kind: 'currentRow' };
  if (side === 'start' ? v <= Number.MIN_SAFE_INTEGER : v >= Number.MAX_SAFE_INTEGER)
    return { kind: 'unbounded' };
  return { kind: 'value', value: v };
}

/** An immutable window specification. */
export class WindowSpec {
  constructor(
    /** The PARTITION BY expressions. */
    readonly partitionSpec: readonly Expression[] = [],
    /** The ORDER BY sort orders. */
    readonly orderSpec: readonly SortOrder[] = [],
    /** The frame (ROWS/RANGE BETWEEN); absent means Spark's default frame. */
    readonly frameSpec?: WindowFrame,
  ) {}

  /** The window partitioned by columns (names, Columns or arrays of them). */
  partitionBy(...cols: (ColumnOrName | readonly ColumnOrName[])[]): WindowSpec {
    return new WindowSpec(flatten(cols).map(colExpr), this.orderSpec, this.frameSpec);
  }
  /** The window ordered by columns (ascending unless a column is `asc()`/`desc()`). */
  orderBy(...cols: (ColumnOrName | readonly ColumnOrName[])[]): WindowSpec {
    return new WindowSpec(this.partitionSpec, flatten(cols).map(sortOrderOf), this.frameSpec);
  }
  /** A ROWS frame: offsets from the current row (0 is the current row; the Window sentinels are unbounded). */
  rowsBetween(start: number, end: number): WindowSpec {
    return this.frame('row', start, end);
  }
  /** A RANGE frame: offsets of the ordering value (0 is the current row; the Window sentinels are unbounded). */
  rangeBetween(start: number, end: number): WindowSpec {
    return this.frame('range', start, end);
  }
  private frame(frameType: WindowFrame['frameType'], start: number, end: number): WindowSpec {
    return new WindowSpec(this.partitionSpec, this.orderSpec, {
      frameType,
      lower: boundary(start, 'start'),
      upper: boundary(end, 'end'),
    });
  }
}

/** `Window`: the entry points that start a {@link WindowSpec}, and PySpark's frame sentinels. */
export const Window = {
  /** An unbounded start (PySpark's `Window.unboundedPreceding`, Java's Long.MinValue). */
  unboundedPreceding: JAVA_MIN_LONG,
  /** An unbounded end (PySpark's `Window.unboundedFollowing`, Java's Long.MaxValue). */
  unboundedFollowing: JAVA_MAX_LONG,
  /** The current row (0). */
  currentRow: 0,
  /** A window partitioned by columns. */
  partitionBy(...cols: (ColumnOrName | readonly ColumnOrName[])[]): WindowSpec {
    return new WindowSpec().partitionBy(...cols);
  },
  /** A window ordered by columns. */
  orderBy(...cols: (ColumnOrName | readonly ColumnOrName[])[]): WindowSpec {
    return new WindowSpec().orderBy(...cols);
  },
  /** A window with a ROWS frame. */
  rowsBetween(start: number, end: number): WindowSpec {
    return new WindowSpec().rowsBetween(start, end);
  },
  /** A window with a RANGE frame. */
  rangeBetween(start: number, end: number): WindowSpec {
    return new WindowSpec().rangeBetween(start, end);
  },
};
