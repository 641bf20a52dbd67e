/**
 * Spark's text renderings, as pure functions: `df.show()` (Dataset.showString, with Spark's cell
 * rendering of values, ToPrettyString) and `df.printSchema()` (StructType.treeString).
 */
import {
  ArrayType,
  BinaryType,
  DataType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  MapType,
  StructType,
  TimestampType,
} from '../sql/types.js';
import type { Row } from './engine.js';

// ---------------------------------------------------------------------------- values

/** Java's `Double.toString`: `2.0`, `0.001`, `1.0E7`, `1.234E-5`, `NaN`, `Infinity`. */
export function javaDoubleString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(d);
    return s.includes('.') ? s : `${s}.0`;
  }
  return scientific(d.toExponential());
}

/** Java's `Float.toString` of a float32 value: the shortest digits that round back to it. */
export function javaFloatString(f: number): string {
  if (!Number.isFinite(f) || f === 0) return javaDoubleString(f);
  let digits = 1;
  while (digits < 9 && Math.fround(Number(f.toPrecision(digits))) !== Math.fround(f)) digits++;
  const shortest = Number(f.toPrecision(digits));
  const abs = Math.abs(shortest);
  if (abs >= 1e-3 && abs < 1e7) return javaDoubleString(shortest);
  return scientific(shortest.toExponential());
}

function scientific(exp: string): string {
  const [mantissa = '', e = '0'] = exp.split('e');
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(e)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function dateString(d: Date): string {
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

function timestampString(d: Date): string {
  const base = `${dateString(d)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? base : `${base}.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
}

function asDate(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  return undefined;
}

/** The entries of a map value: a JavaScript Map, an array of pairs, or a plain object. */
function mapEntries(v: unknown): [unknown, unknown][] {
  if (v instanceof Map) return [...(v as Map<unknown, unknown>).entries()];
  if (Array.isArray(v)) return v.map((e) => (Array.isArray(e) ? [e[0], e[1]] : [e, undefined]));
  if (typeof v === 'object' && v !== null) return Object.entries(v);
  return [];
}

/**
 * A value as Spark's `show` renders it (ToPrettyString): NULL as `NULL`, doubles as Java prints
 * them, decimals with their scale, dates and UTC timestamps, `[a, b]` arrays, `{k -> v}` maps,
 * `{a, b}` structs, `[0A FF]` binary. `type` is the column's type (undefined: infer from the value).
 */
export function formatValue(value: unknown, type?: DataType): string {
  if (value === null || value === undefined) return 'NULL';
  if (type instanceof DoubleType && typeof value === 'number') return javaDoubleString(value);
  if (type instanceof FloatType && typeof value === 'number') return javaFloatString(value);
  if (type instanceof DecimalType && typeof value === 'number') return value.toFixed(type.scale);
  if (type instanceof DateType) {
    const d = asDate(value);
    if (d) return dateString(d);
  }
  if (type instanceof TimestampType) {
    const d = asDate(value);
    if (d) return timestampString(d);
  }
  if (value instanceof Uint8Array || type instanceof BinaryType) {
    if (value instanceof Uint8Array) {
      return `[${[...value].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}]`;
    }
  }
  if (type instanceof MapType || (type === undefined && value instanceof Map)) {
    const kt = type instanceof MapType ? type.keyType : undefined;
    const vt = type instanceof MapType ? type.valueType : undefined;
    const parts = mapEntries(value).map(([k, v]) => `${formatValue(k, kt)} -> ${formatValue(v, vt)}`);
    return `{${parts.join(', ')}}`;
  }
  if (Array.isArray(value) && !(type instanceof StructType)) {
    const et = type instanceof ArrayType ? type.elementType : undefined;
    return `[${value.map((v) => formatValue(v, et)).join(', ')}]`;
  }
  if (type instanceof StructType) {
    const values = Array.isArray(value)
      ? type.fields.map((_, i) => (value as unknown[])[i])
      : type.fields.map((f) => (value as Record<string, unknown>)[f.name]);
    return `{${values.map((v, i) => formatValue(v, type.fields[i]?.dataType)).join(', ')}}`;
  }
  if (value instanceof Date) return timestampString(value);
  if (typeof value === 'number')
    return type === undefined && !Number.isInteger(value) ? javaDoubleString(value) : String(value);
  if (typeof value === 'object') {
    return `{${Object.values(value)
      .map((v) => formatValue(v))
      .join(', ')}}`;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value === 'symbol' ? value.toString() : 'NULL';
}

// ---------------------------------------------------------------------------- show

/** Escapes control characters as Spark does so they cannot break the table layout. */
export function escapeMetaCharacters(s: string): string {
  return s
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\f/g, '\\f')
    .replaceAll('\b', '\\b')
    .replace(/\v/g, '\\v')
    .replaceAll('\x07', '\\a');
}

const FULL_WIDTH =
  /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6]/g;

/** The display width of a string: full-width (East Asian) characters count twice (Spark's stringHalfWidth). */
export function stringHalfWidth(s: string): number {
  return s.length + (s.match(FULL_WIDTH)?.length ?? 0);
}

/** What {@link formatShow} renders. */
export interface ShowOptions {
  /** The number of rows asked for (`show(n)`). */
  readonly n: number;
  /** true: cut cells at 20 characters; false or 0: no cut; a number: cut at that many. */
  readonly truncate: boolean | number;
  /** One `-RECORD i-` block per row instead of a table. */
  readonly vertical: boolean;
  /** There are more rows than `n` (prints the `only showing top n rows` footer). */
  readonly hasMore: boolean;
}

function cellOf(row: Row | readonly unknown[], i: number, name: string): unknown {
  return Array.isArray(row) ? (row as readonly unknown[])[i] : (row as Row)[name];
}

/**
 * Spark's `Dataset.showString`: the table (or vertical records) of the first `n` rows, exactly as
 * `df.show()` prints it (with the trailing newline, without the extra one Python's print adds).
 * Rows are objects keyed by field name, or arrays in field order.
 */
export function formatShow(
  schema: StructType,
  rows: readonly (Row | readonly unknown[])[],
  opts: ShowOptions,
): string {
  const numRows = Math.max(0, Math.trunc(opts.n));
  const truncate = opts.truncate === true ? 20 : opts.truncate === false ? 0 : Math.trunc(opts.truncate);
  const names = schema.fields.map((f) => escapeMetaCharacters(f.name));
  const data = rows.slice(0, numRows).map((row) =>
    schema.fields.map((f, i) => {
      const str = escapeMetaCharacters(formatValue(cellOf(row, i, f.name), f.dataType));
      if (truncate > 0 && str.length > truncate) {
        return truncate < 4 ? str.slice(0, truncate) : str.slice(0, truncate - 3) + '...';
      }
      return str;
    }),
  );
  const all = [names, ...data];
  const minimumColWidth = 3;
  let sb = '';
  if (!opts.vertical) {
    const widths = names.map(() => minimumColWidth);
    for (const row of all)
      row.forEach((cell, i) => (widths[i] = Math.max(widths[i]!, stringHalfWidth(cell))));
    const padded = all.map((row) =>
      row.map((cell, i) => {
        const len = widths[i]! - stringHalfWidth(cell) + cell.length;
        return truncate > 0 ? cell.padStart(len) : cell.padEnd(len);
      }),
    );
    const sep = `+${widths.map((w) => '-'.repeat(w)).join('+')}+\n`;
    sb += sep;
    sb += `|${padded[0]!.join('|')}|\n`;
    sb += sep;
    for (const row of padded.slice(1)) sb += `|${row.join('|')}|\n`;
    sb += sep;
  } else {
    const nameWidth = names.reduce((m, n) => Math.max(m, stringHalfWidth(n)), minimumColWidth);
    const dataWidth = data.reduce(
      (m, row) =>
        Math.max(
          m,
          row.reduce((mm, c) => Math.max(mm, stringHalfWidth(c)), 0),
        ),
      minimumColWidth,
    );
    data.forEach((row, i) => {
      sb += `-RECORD ${i}`.padEnd(nameWidth + dataWidth + 5, '-') + '\n';
      sb +=
        row
          .map((cell, j) => {
            const name = names[j]!;
            const fieldName = name.padEnd(nameWidth - stringHalfWidth(name) + name.length);
            const value = cell.padEnd(dataWidth - stringHalfWidth(cell) + cell.length);
            return ` ${fieldName} | ${value} `;
          })
          .join('\n') + '\n';
    });
  }
  if (opts.vertical && data.length === 0) sb += '(0 rows)\n';
  else if (opts.hasMore) sb += `only showing top ${numRows} ${numRows === 1 ? 'row' : 'rows'}\n`;
  return sb;
}

// ---------------------------------------------------------------------------- printSchema

function nested(type: DataType, prefix: string, depth: number, out: string[]): void {
  if (depth <= 0) return;
  if (type instanceof StructType) {
    for (const f of type.fields) {
      out.push(
        `${prefix}-- ${escapeMetaCharacters(f.name)}: ${f.dataType.typeName()} (nullable = ${f.nullable})`,
      );
      nested(f.dataType, `${prefix}    |`, depth - 1, out);
    }
  } else if (type instanceof ArrayType) {
    out.push(`${prefix}-- element: ${type.elementType.typeName()} (containsNull = ${type.containsNull})`);
    nested(type.elementType, `${prefix}    |`, depth - 1, out);
  } else if (type instanceof MapType) {
    out.push(`${prefix}-- key: ${type.keyType.typeName()}`);
    nested(type.keyType, `${prefix}    |`, depth - 1, out);
    out.push(
      `${prefix}-- value: ${type.valueType.typeName()} (valueContainsNull = ${type.valueContainsNull})`,
    );
    nested(type.valueType, `${prefix}    |`, depth - 1, out);
  }
}

/**
 * Spark's `StructType.treeString(level)`: `root` then one ` |-- name: type (nullable = …)` line per
 * field, nested fields, elements, keys and values indented below; `level` limits the depth.
 */
export function formatSchemaTree(schema: StructType, level?: number): string {
  const depth = level !== undefined && level > 0 ? level : Number.MAX_SAFE_INTEGER;
  const out = ['root'];
  nested(schema, ' |', depth, out);
  return out.join('\n') + '\n';
}
