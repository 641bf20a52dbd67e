/**
 * Spark SQL's data types (`pyspark.sql.types`): the types of columns, their Spark names
 * (`simpleString`, `typeName`), and their mapping to and from DuckDB, the engine that runs the
 * stages. A type is an immutable value; compare with {@link DataType.equals}.
 */
import { AnalysisException } from './errors.js';

/** The base of every Spark data type. */
export abstract class DataType {
  /** Spark's type name (`integer`, `string`, `decimal`…), as in a schema's JSON form. */
  abstract typeName(): string;
  /** Spark's short form (`int`, `bigint`, `decimal(10,2)`, `array<string>`), as in DDL. */
  simpleString(): string {
    return this.typeName();
  }
  /** The DuckDB type this type is stored as. */
  abstract duckdb(): string;
  /** PySpark's repr (`IntegerType()`). */
  toString(): string {
    const n = this.constructor.name;
    return `${n}()`;
  }
  /** Structural equality (nullability of nested fields included). */
  equals(other: DataType): boolean {
    return this.simpleString() === other.simpleString();
  }
  /** Spark's JSON form of the type (`jsonValue()`). */
  jsonValue(): unknown {
    return this.typeName();
  }
}

/** NULL's type (`void` in Spark's DDL). */
export class NullType extends DataType {
  typeName(): string {
    return 'void';
  }
  duckdb(): string {
    return 'INTEGER';
  }
}
/** A UTF-8 string. */
export class StringType extends DataType {
  typeName(): string {
    return 'string';
  }
  duckdb(): string {
    return 'VARCHAR';
  }
}
/** Bytes (a `Uint8Array` in JavaScript). */
export class BinaryType extends DataType {
  typeName(): string {
    return 'binary';
  }
  duckdb(): string {
    return 'BLOB';
  }
}
/** true / false. */
export class BooleanType extends DataType {
  typeName(): string {
    return 'boolean';
  }
  duckdb(): string {
    return 'BOOLEAN';
  }
}
/** A calendar date (a JavaScript `Date` at 00:00 UTC). */
export class DateType extends DataType {
  typeName(): string {
    return 'date';
  }
  duckdb(): string {
    return 'DATE';
  }
}
/** An instant (a JavaScript `Date`). */
export class TimestampType extends DataType {
  typeName(): string {
    return 'timestamp';
  }
  duckdb(): string {
    return 'TIMESTAMP';
  }
}
/** An 8-byte signed integer. */
export class LongType extends DataType {
  typeName(): string {
    return 'long';
  }
  override simpleString(): string {
    return 'bigint';
  }
  duckdb(): string {
    return 'BIGINT';
  }
}
/** A 4-byte signed integer. */
export class IntegerType extends DataType {
  typeName(): string {
    return 'integer';
  }
  override simpleString(): string {
    return 'int';
  }
  duckdb(): string {
    return 'INTEGER';
  }
}
/** A 2-byte signed integer. */
export class ShortType extends DataType {
  typeName(): string {
    return 'short';
  }
  override simpleString(): string {
    return 'smallint';
  }
  duckdb(): string {
    return 'SMALLINT';
  }
}
/** A 1-byte signed integer. */
export class ByteType extends DataType {
  typeName(): string {
    return 'byte';
  }
  override simpleString(): string {
    return 'tinyint';
  }
  duckdb(): string {
    return 'TINYINT';
  }
}
/** An 8-byte float. */
export class DoubleType extends DataType {
  typeName(): string {
    return 'double';
  }
  duckdb(): string {
    return 'DOUBLE';
  }
}
/** A 4-byte float. */
export class FloatType extends DataType {
  typeName(): string {
    return 'float';
  }
  duckdb(): string {
    return 'FLOAT';
  }
}
/** A fixed-point number of `precision` digits, `scale` after the point (a JavaScript number). */
export class DecimalType extends DataType {
  constructor(
    readonly precision = 10,
    readonly scale = 0,
  ) {
    super();
    if (!Number.isInteger(precision) || precision < 1 || precision > 38)
      throw new AnalysisException(
        'INVALID_PARAMETER_VALUE',
        `decimal precision must be in [1, 38], got ${precision}`,
      );
    if (!Number.isInteger(scale) || scale < 0 || scale > precision)
      throw new AnalysisException(
        'INVALID_PARAMETER_VALUE',
        `decimal scale must be in [0, ${precision}], got ${scale}`,
      );
  }
  typeName(): string {
    return `decimal(${this.precision},${this.scale})`;
  }
  duckdb(): string {
    return `DECIMAL(${this.precision},${this.scale})`;
  }
  override toString(): string {
    return `DecimalType(${this.precision}, ${this.scale})`;
  }
}
/** A list of values of one type (a JavaScript array). */
export class ArrayType extends DataType {
  constructor(
    readonly elementType: DataType,
    readonly containsNull = true,
  ) {
    super();
  }
  typeName(): string {
    return 'array';
  }
  override simpleString(): string {
    return `array<${this.elementType.simpleString()}>`;
  }
  duckdb(): string {
    return `${this.elementType.duckdb()}[]`;
  }
  override toString(): string {
    return `ArrayType(${this.elementType.toString()}, ${this.containsNull})`;
  }
  override jsonValue(): unknown {
    return { type: 'array', elementType: this.elementType.jsonValue(), containsNull: this.containsNull };
  }
}
/** Keys to values (a JavaScript `Map`). */
export class MapType extends DataType {
  constructor(
    readonly keyType: DataType,
    readonly valueType: DataType,
    readonly valueContainsNull = true,
  ) {
    super();
  }
  typeName(): string {
    return 'map';
  }
  override simpleString(): string {
    return `map<${this.keyType.simpleString()},${this.valueType.simpleString()}>`;
  }
  duckdb(): string {
    return `MAP(${this.keyType.duckdb()}, ${this.valueType.duckdb()})`;
  }
  override toString(): string {
    return `MapType(${this.keyType.toString()}, ${this.valueType.toString()}, ${this.valueContainsNull})`;
  }
  override jsonValue(): unknown {
    return {
      type: 'map',
      keyType: this.keyType.jsonValue(),
      valueType: this.valueType.jsonValue(),
      valueContainsNull: this.valueContainsNull,
    };
  }
}

/** One field of a struct: a name, a type, whether it may be null. */
export class StructField {
  constructor(
    readonly name: string,
    readonly dataType: DataType,
    readonly nullable = true,
    readonly metadata: Readonly<Record<string, unknown>> = {},
  ) {}
  /** `name: type (nullable = true)` as in printSchema. */
  simpleString(): string {
    return `${this.name}:${this.dataType.simpleString()}`;
  }
  toString(): string {
    return `StructField('${this.name}', ${this.dataType.toString()}, ${this.nullable})`;
  }
  /** Spark's JSON form of the field. */
  jsonValue(): unknown {
    return {
      name: this.name,
      type: this.dataType.jsonValue(),
      nullable: this.nullable,
      metadata: this.metadata,
    };
  }
}

/** A row type: named fields in order (a DataFrame's schema, or a struct column's type). */
export class StructType extends DataType {
  readonly fields: readonly StructField[];
  constructor(fields: readonly StructField[] = []) {
    super();
    this.fields = [...fields];
  }
  typeName(): string {
    return 'struct';
  }
  override simpleString(): string {
    return `struct<${this.fields.map((f) => `${f.name}:${f.dataType.simpleString()}`).join(',')}>`;
  }
  duckdb(): string {
    return `STRUCT(${this.fields.map((f) => `${quoteIdent(f.name)} ${f.dataType.duckdb()}`).join(', ')})`;
  }
  override toString(): string {
    return `StructType([${this.fields.map((f) => f.toString()).join(', ')}])`;
  }
  override jsonValue(): unknown {
    return { type: 'struct', fields: this.fields.map((f) => f.jsonValue()) };
  }
  /** A new struct with one more field (PySpark's `add`). */
  add(name: string, dataType: DataType | string, nullable = true): StructType {
    const t = typeof dataType === 'string' ? parseDataType(dataType) : dataType;
    return new StructType([...this.fields, new StructField(name, t, nullable)]);
  }
  /** The field names, in order. */
  fieldNames(): string[] {
    return this.fields.map((f) => f.name);
  }
  /** The DDL form: `a INT, b STRING`. */
  toDDL(): string {
    return this.fields
      .map(
        (f) =>
          `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name) ? f.name : '`' + f.name.replace(/`/g, '``') + '`'} ${f.dataType.simpleString().toUpperCase()}${f.nullable ? '' : ' NOT NULL'}`,
      )
      .join(', ');
  }
  [Symbol.iterator](): Iterator<StructField> {
    return this.fields[Symbol.iterator]();
  }
}

/** A SQL string literal: `'it''s'`. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A DuckDB identifier in double quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** True for the integral types (byte, short, integer, long). */
export function isIntegral(t: DataType): boolean {
  return t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType || t instanceof LongType;
}

/** True for every numeric type. */
export function isNumeric(t: DataType): boolean {
  return isIntegral(t) || t instanceof DoubleType || t instanceof FloatType || t instanceof DecimalType;
}

const INTEGRAL_RANK = [ByteType, ShortType, IntegerType, LongType];

/** The wider of two numeric types, by Spark's rules for arithmetic and comparison. */
export function widerNumeric(a: DataType, b: DataType): DataType {
  if (a instanceof NullType) return b;
  if (b instanceof NullType) return a;
  if (a instanceof DoubleType || b instanceof DoubleType || a instanceof FloatType || b instanceof FloatType)
    return a instanceof FloatType && b instanceof FloatType ? new FloatType() : new DoubleType();
  if (a instanceof DecimalType || b instanceof DecimalType) {
    const da = toDecimal(a);
    const db = toDecimal(b);
    const scale = Math.max(da.scale, db.scale);
    const range = Math.max(da.precision - da.scale, db.precision - db.scale);
    return new DecimalType(Math.min(38, range + scale), Math.min(scale, 38));
  }
  const ra = INTEGRAL_RANK.findIndex((c) => a instanceof c);
  const rb = INTEGRAL_RANK.findIndex((c) => b instanceof c);
  return ra >= rb ? a : b;
}

/** The decimal type an integral type fits in (Spark's `DecimalType.forType`). */
export function toDecimal(t: DataType): DecimalType {
  if (t instanceof DecimalType) return t;
  if (t instanceof ByteType) return new DecimalType(3, 0);
  if (t instanceof ShortType) return new DecimalType(5, 0);
  if (t instanceof IntegerType) return new DecimalType(10, 0);
  if (t instanceof LongType) return new DecimalType(20, 0);
  return new DecimalType(38, 18);
}

/**
 * The common type of values from several branches (CASE, COALESCE, UNION): Spark's
 * `findWiderTypeForTwo`, or undefined when there is none.
 */
export function commonType(a: DataType, b: DataType): DataType | undefined {
  if (a.equals(b)) return a;
  if (a instanceof NullType) return b;
  if (b instanceof NullType) return a;
  if (isNumeric(a) && isNumeric(b)) return widerNumeric(a, b);
  if (a instanceof StringType || b instanceof StringType) return new StringType();
  if (
    (a instanceof DateType && b instanceof TimestampType) ||
    (a instanceof TimestampType && b instanceof DateType)
  )
    return new TimestampType();
  if (a instanceof ArrayType && b instanceof ArrayType) {
    const e = commonType(a.elementType, b.elementType);
    return e && new ArrayType(e, a.containsNull || b.containsNull);
  }
  return undefined;
}

const SIMPLE: Record<string, () => DataType> = {
  string: () => new StringType(),
  varchar: () => new StringType(),
  char: () => new StringType(),
  text: () => new StringType(),
  binary: () => new BinaryType(),
  boolean: () => new BooleanType(),
  bool: () => new BooleanType(),
  date: () => new DateType(),
  timestamp: () => new TimestampType(),
  timestamp_ltz: () => new TimestampType(),
  timestamp_ntz: () => new TimestampType(),
  bigint: () => new LongType(),
  long: () => new LongType(),
  int: () => new IntegerType(),
  integer: () => new IntegerType(),
  smallint: () => new ShortType(),
  short: () => new ShortType(),
  tinyint: () => new ByteType(),
  byte: () => new ByteType(),
  double: () => new DoubleType(),
  float: () => new FloatType(),
  real: () => new FloatType(),
  decimal: () => new DecimalType(10, 0),
  dec: () => new DecimalType(10, 0),
  numeric: () => new DecimalType(10, 0),
  void: () => new NullType(),
  null: () => new NullType(),
};

/** A tiny tokenizer for type strings and DDL schemas: words, numbers, punctuation, backticked names. */
function tokenizeDDL(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '`') {
      let j = i + 1;
      let name = '';
      for (;;) {
        if (j >= s.length) throw new AnalysisException('PARSE_SYNTAX_ERROR', `unclosed \` in schema: ${s}`);
        if (s[j] === '`') {
          if (s[j + 1] === '`') {
            name += '`';
            j += 2;
            continue;
          }
          break;
        }
        name += s[j];
        j++;
      }
      out.push('`' + name);
      i = j + 1;
    } else if ('<>(),:'.includes(c)) {
      out.push(c);
      i++;
    } else {
      let j = i;
      while (j < s.length && !' \t\n\r<>(),:`'.includes(s[j]!)) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

class DDLParser {
  private i = 0;
  constructor(
    private readonly toks: string[],
    private readonly text: string,
  ) {}
  peek(): string | undefined {
    return this.toks[this.i];
  }
  next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) this.fail('unexpected end of input');
    return t;
  }
  expect(t: string): void {
    const got = this.next();
    if (got !== t) this.fail(`expected '${t}' but found '${got}'`);
  }
  fail(msg: string): never {
    throw new AnalysisException(
      'PARSE_SYNTAX_ERROR',
      `[PARSE_SYNTAX_ERROR] Syntax error in the type '${this.text}': ${msg}.`,
    );
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  name(): string {
    const t = this.next();
    return t.startsWith('`') ? t.slice(1) : t;
  }
  type(): DataType {
    const word = this.next().toLowerCase();
    if (word === 'array') {
      this.expect('<');
      const e = this.type();
      this.expect('>');
      return new ArrayType(e);
    }
    if (word === 'map') {
      this.expect('<');
      const k = this.type();
      this.expect(',');
      const v = this.type();
      this.expect('>');
      return new MapType(k, v);
    }
    if (word === 'struct') {
      this.expect('<');
      const fields: StructField[] = [];
      if (this.peek() !== '>') {
        for (;;) {
          const n = this.name();
          if (this.peek() === ':') this.next();
          fields.push(new StructField(n, this.type()));
          if (this.peek() === ',') {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expect('>');
      return new StructType(fields);
    }
    const make = SIMPLE[word];
    if (!make) this.fail(`unknown data type '${word}'`);
    let t = make();
    if (this.peek() === '(') {
      this.next();
      const a = Number(this.next());
      let b = 0;
      if (this.peek() === ',') {
        this.next();
        b = Number(this.next());
      }
      this.expect(')');
      if (t instanceof DecimalType) t = new DecimalType(a, b);
      else if (!(t instanceof StringType)) this.fail(`type '${word}' takes no parameters`);
    }
    return t;
  }
}

/** Parses a Spark type string: `int`, `decimal(10,2)`, `array<string>`, `struct<a:int,b:string>`. */
export function parseDataType(text: string): DataType {
  const p = new DDLParser(tokenizeDDL(text), text);
  const t = p.type();
  if (!p.done()) p.fail(`unexpected '${p.peek()}'`);
  return t;
}

/** Parses a DDL schema (`'id INT, name STRING NOT NULL'`) or a struct type string into a StructType. */
export function parseSchema(text: string): StructType {
  const trimmed = text.trim();
  if (/^struct\s*</i.test(trimmed)) {
    const t = parseDataType(trimmed);
    if (t instanceof StructType) return t;
  }
  const p = new DDLParser(tokenizeDDL(trimmed), text);
  const fields: StructField[] = [];
  while (!p.done()) {
    const n = p.name();
    if (p.peek() === ':') p.next();
    const t = p.type();
    let nullable = true;
    if (p.peek()?.toLowerCase() === 'not') {
      p.next();
      if (p.next().toLowerCase() !== 'null') p.fail('expected NULL after NOT');
      nullable = false;
    }
    fields.push(new StructField(n, t, nullable));
    if (p.done()) break;
    p.expect(',');
  }
  if (fields.length === 0) p.fail('the schema has no fields');
  return new StructType(fields);
}

/** Splits a DuckDB type string's top-level comma-separated parts (`a INT, b STRUCT(x INT, y INT)`). */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out.filter((x) => x.length > 0);
}

/** The Spark type of a DuckDB column type (as DuckDB prints it: `DECIMAL(15,2)`, `VARCHAR[]`…). */
export function fromDuckDB(type: string): DataType {
  const t = type.trim();
  if (t.endsWith('[]')) return new ArrayType(fromDuckDB(t.slice(0, -2)));
  const up = t.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(up);
  if (dec) return new DecimalType(Number(dec[1]), Number(dec[2]));
  if (up.startsWith('STRUCT(') && up.endsWith(')')) {
    const inner = t.slice(7, -1);
    return new StructType(
      splitTopLevel(inner).map((part) => {
        let name: string;
        let rest: string;
        if (part.startsWith('"')) {
          const end = part.indexOf('"', 1);
          name = part.slice(1, end);
          rest = part.slice(end + 1);
        } else {
          const sp = part.indexOf(' ');
          name = part.slice(0, sp);
          rest = part.slice(sp + 1);
        }
        return new StructField(name, fromDuckDB(rest));
      }),
    );
  }
  if (up.startsWith('MAP(') && up.endsWith(')')) {
    const [k, v] = splitTopLevel(t.slice(4, -1));
    return new MapType(fromDuckDB(k ?? 'VARCHAR'), fromDuckDB(v ?? 'VARCHAR'));
  }
  switch (up) {
    case 'VARCHAR':
    case 'UUID':
    case 'JSON':
      return new StringType();
    case 'BLOB':
      return new BinaryType();
    case 'BOOLEAN':
      return new BooleanType();
    case 'DATE':
      return new DateType();
    case 'TIMESTAMP':
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
      return new TimestampType();
    case 'BIGINT':
    case 'UINTEGER':
    case 'HUGEINT':
    case 'UBIGINT':
    case 'UHUGEINT':
      return new LongType();
    case 'INTEGER':
    case 'USMALLINT':
      return new IntegerType();
    case 'SMALLINT':
    case 'UTINYINT':
      return new ShortType();
    case 'TINYINT':
      return new ByteType();
    case 'DOUBLE':
      return new DoubleType();
    case 'FLOAT':
      return new FloatType();
    case '"NULL"':
    case 'NULL':
      return new NullType();
    default:
      return new StringType();
  }
}
