/** The DataFrame API's public surface: DataFrame, Column, functions (F), Window, and their helpers. */
export {
  DataFrame,
  normalizeJoinType,
  type DataFrameOptions,
  type OutputWriter,
  type SortOptions,
} from './dataframe.js';
export { Column, colExpr, litExpr, sortOrderOf, toColumn, type ColumnOrName } from './column.js';
export { functions, functions as F, type UserDefinedFunction } from './functions.js';
export { Window, WindowSpec } from './window.js';
export { GroupedData, type GroupType } from './grouped.js';
export { DataFrameNaFunctions, type NaValue } from './na.js';
export { DataFrameWriter, type WriteOptions } from './writer.js';
export {
  formatShow,
  formatSchemaTree,
  formatValue,
  javaDoubleString,
  javaFloatString,
  escapeMetaCharacters,
  stringHalfWidth,
  type ShowOptions,
} from './format.js';
export { setExpressionParser, parseExpressionString } from './expr-parser.js';
export type { SqlEngine, Row, WriteSpec, ExplainMode } from './engine.js';
