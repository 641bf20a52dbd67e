/**
 * What the grammar's actions call: the makers of the unresolved plan's nodes, the typing of
 * literals, CTE inlining, named windows, and the syntax errors (Spark's `PARSE_SYNTAX_ERROR` form).
 *
 * Mapping of SQL to the unresolved plan (Spark Connect's names):
 * - operators: `+ - * / %` → `'+' '-' '*' '/' '%'`; `DIV` → `'div'`; `=`/`==` → `'=='`; `<=>` →
 *   `'<=>'`; `<>`/`!=` → `'!='`; `< <= > >=` as written; `AND` → `'and'`; `OR` → `'or'`; `NOT`/`!`
 *   → `'not'`; unary `-` → `'unary_minus'` (on a number literal: a negative literal, as Spark does;
 *   `negative(x)` is the same function, named as called);
 *   unary `+` → `'positive'`; `~ & | ^` as written; `<< >> >>>` → `'shiftleft'`, `'shiftright'`,
 *   `'shiftrightunsigned'`; `||` → `'concat'`.
 * - predicates: `IS [NOT] NULL` → `'isnull'`/`'isnotnull'`; `IS [NOT] TRUE|FALSE` → `'istrue'`,
 *   `'isnottrue'`, `'isfalse'`, `'isnotfalse'`; `IS [NOT] UNKNOWN` → `'isnull'`/`'isnotnull'`;
 *   `IS NOT DISTINCT FROM` → `'<=>'`, `IS DISTINCT FROM` → `not(<=>)`; `[NOT] LIKE p [ESCAPE e]`
 *   → `'like'` (value, pattern[, escape]); `ILIKE` → `'ilike'`; `RLIKE`/`REGEXP` → `'rlike'`;
 *   `IN (list)` → `'in'` (value first); `BETWEEN` → `'between'` (value, low, high); every
 *   `NOT <predicate>` is `not(<predicate>)`.
 * - `CASE [x] WHEN c THEN v … [ELSE e] END` → `'when'` [c1, v1, …, e?] (with a subject x the
 *   conditions are `x == v`); `count(*)` → `count(1)`; `(a, b)` → `'struct'`;
 *   `EXTRACT(f FROM x)` → `'extract'` ('f' as written, x); `substring(x FROM a FOR b)` →
 *   `'substring'` (x, a, b); `trim([BOTH|LEADING|TRAILING] [c] FROM s)` → `'trim'`/`'ltrim'`/
 *   `'rtrim'` (s[, c]); `position(a IN b)` → `'position'` (a, b); `TRY_CAST` → a cast with
 *   `evalMode: 'try'`. Function names are lower-cased.
 * - A SELECT without FROM reads a one-row relation: a `localRelation` with no columns and one row.
 * - A SELECT with aggregate functions but no GROUP BY (nor HAVING) is a `project`: the parser cannot
 *   tell aggregates from scalar functions, the analyzer turns such a project into a global aggregate.
 * - `GROUP BY ALL` → one grouping expression, the attribute `ALL` (as Spark's parser does; the
 *   analyzer expands it).
 * - `VALUES` rows: a `localRelation` (columns `col1`, `col2`, … typed from the literals) when every
 *   cell is a typed literal and each column's non-null cells share one type; otherwise a UNION ALL
 *   of one-row projects (`SELECT e1 AS col1, … `), left to the analyzer.
 * - Literal values: INT/SMALLINT/TINYINT/DOUBLE/FLOAT/DECIMAL → number; BIGINT → number (a bigint
 *   beyond 2^53); DATE → a Date at 00:00 UTC; TIMESTAMP → a Date (UTC unless the text has a zone);
 *   BINARY → Uint8Array; INTERVAL → an IntervalValue, with no dataType.
 */
import { AnalysisException, ParseException } from '../errors.js';
import type {
  Expression,
  FrameBoundary,
  IntervalValue,
  JoinType,
  Relation,
  SortOrder,
} from '../plan/unresolved.js';
import { splitName } from '../plan/unresolved.js';
import {
  BinaryType,
  BooleanType,
  ByteType,
  DataType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  NullType,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampType,
  parseDataType,
} from '../types.js';
import { RESERVED_WORDS } from './grammar.js';
import type { Statement } from './parser.js';

const RESERVED = new Set(RESERVED_WORDS);
/** Spark's strict non-reserved words: not even an alias after AS. */
const STRICT_RESERVED = new Set(
  'anti cross except full inner intersect join lateral left minus natural on right semi union using'.split(
    ' ',
  ),
);
/** Reserved words that are also function names (`left(s, 2)`). */
const KEYWORD_FUNCTIONS = new Set(['left', 'right']);
/** Functions Spark lets you call without parentheses. */
const NILADIC = new Set(['current_date', 'current_timestamp', 'current_user', 'current_timezone', 'user']);

/** The reference to a named window (`OVER w`) until the WINDOW clause replaces it. */
interface WindowRef {
  readonly type: '$windowRef';
  readonly name: string;
  readonly windowFunction: Expression;
}

interface WindowSpecNode {
  readonly partitionSpec: readonly Expression[];
  readonly orderSpec: readonly SortOrder[];
  readonly frame: { frameType: 'row' | 'range'; lower: FrameBoundary; upper: FrameBoundary } | null;
}

type Bound =
  { kind: 'unbounded'; dir: string } | { kind: 'currentRow' } | { kind: 'value'; value: number; dir: string };

interface SetTail {
  readonly op: string;
  readonly all: boolean;
  readonly t: Relation;
}

interface Cte {
  readonly name: string;
  readonly cols: string[] | null;
  readonly plan: Relation;
  readonly offset: number;
}

interface PredicateNode {
  readonly kind: string;
  readonly not: true | null;
  readonly args?: Expression[];
  readonly query?: Relation;
}

/** The relation a SELECT without FROM reads: one row, no columns (Spark's OneRowRelation). */
export function oneRowRelation(): Relation {
  return { type: 'localRelation', schema: new StructType([]), rows: [[]], numPartitions: 1 };
}

/** True when `s` is a plain identifier that needs no backticks. */
function isPlainIdentifier(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    const digit = c >= 48 && c <= 57;
    if (!(letter || (digit && i > 0))) return false;
  }
  return !RESERVED.has(s.toLowerCase());
}

/** A multipart name as a string, parts that need it in backticks (`` db.`my table` ``). */
export function quoteName(parts: readonly string[]): string {
  return parts.map((p) => (isPlainIdentifier(p) ? p : '`' + p.split('`').join('``') + '`')).join('.');
}

/** Line (1-based) and pos (0-based column) of `offset` in `sql`, as Spark reports them. */
function lineAndPos(sql: string, offset: number): { line: number; pos: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < sql.length; i++) {
    if (sql[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  return { line, pos: offset - start };
}

/**
 * A ParseException in Spark's form: `<head>. SQLSTATE: 42601 (line l, pos p)`, then the `== SQL ==`
 * block with the caret line under the offending line.
 */
export function parseError(sql: string, offset: number, token: string, hint?: string): ParseException {
  const { line, pos } = lineAndPos(sql, offset);
  const near = token === '<EOF>' ? 'end of input' : `'${token}'`;
  const lines = sql.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const above = lines.slice(0, line);
  const below = lines.slice(line);
  const message =
    `[PARSE_SYNTAX_ERROR] Syntax error at or near ${near}${hint ? `: ${hint}` : ''}. SQLSTATE: 42601 ` +
    `(line ${line}, pos ${pos})\n\n== SQL ==\n` +
    above.map((l) => l + '\n').join('') +
    '-'.repeat(pos) +
    '^^^\n' +
    below.map((l) => l + '\n').join('');
  return new ParseException(message, line, pos, token);
}

function isIdChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return (k >= 48 && k <= 57) || (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || k === 95;
}

const MULTI_CHAR_OPS = ['<=>', '>>>', '<>', '!=', '<=', '>=', '==', '||', '::', '->', '<<', '>>', '=>'];

/**
 * The token at or after `offset` (skipping whitespace and comments) and where it starts: a word, a
 * number, a quoted string or identifier, an operator, or `<EOF>`.
 */
export function tokenAt(sql: string, offset: number): { token: string; offset: number } {
  let i = offset;
  // A failure inside a word reports the whole word.
  while (i > 0 && i < sql.length && isIdChar(sql[i - 1]) && isIdChar(sql[i])) i--;
  for (;;) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') i++;
    else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
    } else break;
  }
  if (i >= sql.length) return { token: '<EOF>', offset: sql.length };
  const c = sql[i]!;
  let j = i + 1;
  if (isIdChar(c)) {
    while (j < sql.length && isIdChar(sql[j])) j++;
  } else if (c === "'" || c === '"' || c === '`') {
    while (j < sql.length && sql[j] !== c) j += sql[j] === '\\' && c !== '`' ? 2 : 1;
    j = Math.min(j + 1, sql.length);
  } else {
    const op = MULTI_CHAR_OPS.find((o) => sql.startsWith(o, i));
    if (op) j = i + op.length;
  }
  return { token: sql.slice(i, j), offset: i };
}

/** Spark's `unescapeSQLString` on a string literal's body. */
function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1]!;
    if (n === 'u' && i + 6 <= s.length && isHex(s.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
      i += 5;
      continue;
    }
    if (i + 4 <= s.length && n >= '0' && n <= '3' && isOctal(s[i + 2]) && isOctal(s[i + 3])) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
      continue;
    }
    i++;
    switch (n) {
      case '0':
        out += '\u0000';
        break;
      case 'b':
        out += '\b';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'Z':
        out += '\u001A';
        break;
      case '%':
        out += '\\%';
        break;
      case '_':
        out += '\\_';
        break;
      default:
        out += n;
    }
  }
  return out;
}

function isHex(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (!'0123456789abcdefABCDEF'.includes(c)) return false;
  return true;
}
function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '7';
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (c < '0' || c > '9') return false;
  return true;
}

const INT_RANGES: Record<string, { type: () => DataType; min: bigint; max: bigint; name: string }> = {
  y: { type: () => new ByteType(), min: -128n, max: 127n, name: 'tinyint' },
  s: { type: () => new ShortType(), min: -32768n, max: 32767n, name: 'smallint' },
  l: { type: () => new LongType(), min: -(2n ** 63n), max: 2n ** 63n - 1n, name: 'bigint' },
};

const MICROS: Record<string, number> = {
  hour: 3_600_000_000,
  minute: 60_000_000,
  second: 1_000_000,
  millisecond: 1_000,
  microsecond: 1,
};

/** The makers the grammar's actions call (one per parse: it knows the SQL text for errors). */
/** Spark's UNBOUND_SQL_PARAMETER: a marker (`:name`, or `?` named `_<offset>`) that `args` gives no value. */
function unboundParameter(name: string): AnalysisException {
  return new AnalysisException(
    'UNBOUND_SQL_PARAMETER',
    `[UNBOUND_SQL_PARAMETER] Found the unbound parameter: ${name}. Please, fix \`args\` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as \`map()\`, \`array()\`, \`struct()\`.`,
    { name },
  );
}

/**
 * Binds a parameter marker to its value's expression: `:name` by name, `?` by its position (0-based,
 * in the text's order). Calls `unbound` (which throws Spark's UNBOUND_SQL_PARAMETER) when the marker has no value.
 */
export type ParamBinder = (
  marker: { readonly name: string } | { readonly index: number },
  unbound: () => never,
) => Expression;

export class Builder {
  /** The position of each `?` marker seen, by its offset (a backtracking parse sees one twice). */
  private readonly positions = new Map<number, number>();

  constructor(
    private readonly sql: string,
    private readonly bind?: ParamBinder,
  ) {}

  /** A parameter marker (`:name`, or `?` when `name` is undefined) as its bound value's expression. */
  param(name: string | undefined, offset: number): Expression {
    let index: number | undefined;
    if (name === undefined) {
      index = this.positions.get(offset) ?? this.positions.size;
      this.positions.set(offset, index);
    }
    const marker = name === undefined ? { index: index! } : { name };
    const unbound = (): never => {
      throw unboundParameter(name ?? `_${offset}`);
    };
    return this.bind ? this.bind(marker, unbound) : unbound();
  }

  /** Throws a ParseException at `offset` (never returns). */
  refuse(hint: string, offset: number, token?: string): never {
    const t = token ?? tokenAt(this.sql, offset).token;
    throw parseError(this.sql, offset, t, hint);
  }

  isReserved(w: string): boolean {
    return RESERVED.has(w.toLowerCase());
  }
  isStrictReserved(w: string): boolean {
    return STRICT_RESERVED.has(w.toLowerCase());
  }
  isKeywordFunction(w: string): boolean {
    return KEYWORD_FUNCTIONS.has(w.toLowerCase());
  }
  isNiladic(w: string): boolean {
    return NILADIC.has(w.toLowerCase());
  }

  // ------------------------------------------------------------ expressions

  fn(functionName: string, args: readonly Expression[], isDistinct = false): Expression {
    return { type: 'unresolvedFunction', functionName, arguments: args, isDistinct };
  }
  col(nameParts: string[]): Expression {
    return { type: 'unresolvedAttribute', nameParts };
  }
  alias(expr: Expression, name: string): Expression {
    return { type: 'alias', expr, name: [name] };
  }
  star(parts: string[]): Expression {
    return parts.length === 0
      ? { type: 'unresolvedStar' }
      : { type: 'unresolvedStar', unparsedTarget: `${quoteName(parts)}.*` };
  }
  qname(parts: string[]): string {
    return quoteName(parts);
  }
  foldLeft(op: string, head: Expression, tail: Expression[]): Expression {
    return tail.reduce((l, r) => this.fn(op, [l, r]), head);
  }
  foldOps(head: Expression, tail: [string, Expression][]): Expression {
    return tail.reduce((l, [op, r]) => this.fn(op, [l, r]), head);
  }
  subquery(plan: Relation, subqueryType: 'scalar' | 'exists'): Expression {
    return { type: 'subqueryExpression', plan, subqueryType };
  }
  private readonly rows = new WeakSet<Expression>();
  row(args: Expression[]): Expression {
    const e = this.fn('struct', args);
    this.rows.add(e);
    return e;
  }
  predicate(v: Expression, p: PredicateNode): Expression {
    const args = p.args ?? [];
    let e: Expression;
    switch (p.kind) {
      case 'inQuery':
        e = {
          type: 'subqueryExpression',
          plan: p.query!,
          subqueryType: 'in',
          inSubqueryValues: this.rows.has(v) && v.type === 'unresolvedFunction' ? v.arguments : [v],
        };
        break;
      case 'null':
        return this.fn(p.not ? 'isnotnull' : 'isnull', [v]);
      case 'unknown':
        return this.fn(p.not ? 'isnotnull' : 'isnull', [v]);
      case 'true':
      case 'false':
        return this.fn(p.not ? `isnot${p.kind}` : `is${p.kind}`, [v]);
      case 'distinctFrom': {
        const eq = this.fn('<=>', [v, ...args]);
        return p.not ? eq : this.fn('not', [eq]);
      }
      default:
        e = this.fn(p.kind, [v, ...args]);
    }
    return p.not ? this.fn('not', [e]) : e;
  }
  postfix(p: Expression, tail: (Expression | string)[]): Expression {
    return tail.reduce<Expression>(
      (child, t) => ({
        type: 'unresolvedExtractValue',
        child,
        extraction: typeof t === 'string' ? this.str(t) : t,
      }),
      p,
    );
  }
  caseWhen(
    subject: Expression | null,
    branches: [Expression, Expression][],
    otherwise: Expression | null,
  ): Expression {
    const args: Expression[] = [];
    for (const [c, v] of branches) args.push(subject ? this.fn('==', [subject, c]) : c, v);
    if (otherwise) args.push(otherwise);
    return this.fn('when', args);
  }
  cast(expr: Expression, dataType: DataType, isTry: boolean): Expression {
    return isTry ? { type: 'cast', expr, dataType, evalMode: 'try' } : { type: 'cast', expr, dataType };
  }
  dataType(text: string, offset: number): DataType {
    try {
      return parseDataType(text.trim());
    } catch {
      return this.refuse(`unsupported data type '${text.trim()}'`, offset);
    }
  }
  trim(where: string, source: Expression, chars: Expression | null): Expression {
    const name = where === 'leading' ? 'ltrim' : where === 'trailing' ? 'rtrim' : 'trim';
    return this.fn(name, chars ? [source, chars] : [source]);
  }
  call(
    nameParts: string[],
    args: { star: boolean; distinct: boolean; args: Expression[] },
    over: WindowSpecNode | { ref: string } | null,
  ): Expression {
    const name = nameParts.join('.').toLowerCase();
    const argList = args.star
      ? name === 'count'
        ? [this.int(1)]
        : [{ type: 'unresolvedStar' } as const]
      : args.args;
    const f = this.fn(name, argList, args.distinct);
    if (!over) return f;
    if ('ref' in over)
      return { type: '$windowRef', name: over.ref, windowFunction: f } as unknown as Expression;
    return this.window(f, over);
  }
  private window(windowFunction: Expression, spec: WindowSpecNode): Expression {
    return {
      type: 'window',
      windowFunction,
      partitionSpec: spec.partitionSpec,
      orderSpec: spec.orderSpec,
      ...(spec.frame && { frameSpec: spec.frame }),
    };
  }
  frame(kind: string, lo: Bound, hi: Bound, offset: number): WindowSpecNode['frame'] {
    if (lo.kind === 'unbounded' && lo.dir === 'following')
      this.refuse('a window frame cannot start at UNBOUNDED FOLLOWING', offset);
    if (hi.kind === 'unbounded' && hi.dir === 'preceding')
      this.refuse('a window frame cannot end at UNBOUNDED PRECEDING', offset);
    const bound = (b: Bound): FrameBoundary =>
      b.kind === 'value'
        ? { kind: 'value', value: b.dir === 'preceding' && b.value !== 0 ? -b.value : b.value }
        : b.kind === 'unbounded'
          ? { kind: 'unbounded' }
          : { kind: 'currentRow' };
    return { frameType: kind.toLowerCase() === 'rows' ? 'row' : 'range', lower: bound(lo), upper: bound(hi) };
  }
  sortOrder(child: Expression, dir: string | null, nulls: string | null): SortOrder {
    const direction = dir === 'desc' ? 'descending' : 'ascending';
    const nullOrdering =
      nulls === 'first'
        ? 'nullsFirst'
        : nulls === 'last'
          ? 'nullsLast'
          : direction === 'ascending'
            ? 'nullsFirst'
            : 'nullsLast';
    return { type: 'sortOrder', child, direction, nullOrdering };
  }

  // ------------------------------------------------------------ literals

  private int(n: number): Expression {
    return { type: 'literal', value: n, dataType: new IntegerType() };
  }
  str(value: string): Expression {
    return { type: 'literal', value, dataType: new StringType() };
  }
  unescape(s: string): string {
    return unescape(s);
  }
  bool(value: boolean): Expression {
    return { type: 'literal', value, dataType: new BooleanType() };
  }
  nullLit(): Expression {
    return { type: 'literal', value: null, dataType: new NullType() };
  }
  intValue(digits: string, offset: number): number {
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) this.refuse(`${digits} is too large here`, offset, digits);
    return n;
  }
  /** A numeric literal, typed as Spark types it (see the file comment). */
  number(lit: { body: string; suffix: string }, negative: boolean, offset: number): Expression {
    const { body } = lit;
    const suffix = lit.suffix.toLowerCase();
    const text = (negative ? '-' : '') + body;
    const token = body + lit.suffix;
    const hasExp = body.includes('e') || body.includes('E');
    const hasDot = body.includes('.');
    if (suffix === 'd') return { type: 'literal', value: Number(text), dataType: new DoubleType() };
    if (suffix === 'f') return { type: 'literal', value: Number(text), dataType: new FloatType() };
    if (suffix === 'bd') {
      if (hasExp) this.refuse('an exponent in a BD literal is not supported', offset, token);
      return this.decimal(text, offset, token);
    }
    if (suffix !== '') {
      const range = INT_RANGES[suffix]!;
      if (hasDot || hasExp) this.refuse(`${range.name} literal must be an integer`, offset, token);
      const v = BigInt(text);
      if (v < range.min || v > range.max)
        this.refuse(
          `numeric literal ${text} is outside the valid range for ${range.name} [${range.min}, ${range.max}]`,
          offset,
          token,
        );
      return { type: 'literal', value: toNumber(v), dataType: range.type() };
    }
    if (hasExp) return { type: 'literal', value: Number(text), dataType: new DoubleType() };
    if (hasDot) return this.decimal(text, offset, token);
    const v = BigInt(text);
    if (v >= -(2n ** 31n) && v < 2n ** 31n)
      return { type: 'literal', value: Number(v), dataType: new IntegerType() };
    if (v >= -(2n ** 63n) && v < 2n ** 63n)
      return { type: 'literal', value: toNumber(v), dataType: new LongType() };
    return this.decimal(text, offset, token);
  }
  /** A decimal literal: DecimalType(max(digits, scale), scale) as Java's BigDecimal gives it. */
  private decimal(text: string, offset: number, token: string): Expression {
    const unsigned = text.startsWith('-') ? text.slice(1) : text;
    const dot = unsigned.indexOf('.');
    const intPart = dot < 0 ? unsigned : unsigned.slice(0, dot);
    const frac = dot < 0 ? '' : unsigned.slice(dot + 1);
    let digits = intPart + frac;
    let k = 0;
    while (k < digits.length - 1 && digits[k] === '0') k++;
    digits = digits.slice(k);
    const scale = frac.length;
    const precision = Math.max(digits.length, scale, 1);
    if (precision > 38)
      this.refuse(`decimal literal ${text} exceeds the maximum precision 38`, offset, token);
    return { type: 'literal', value: Number(text), dataType: new DecimalType(precision, scale) };
  }
  dateLit(s: string, offset: number): Expression {
    const d = parseDate(s.trim());
    if (!d) this.refuse(`the value of the typed literal DATE is invalid: '${s}'`, offset, 'DATE');
    return { type: 'literal', value: d, dataType: new DateType() };
  }
  timestampLit(s: string, offset: number): Expression {
    const d = parseTimestamp(s.trim());
    if (!d) this.refuse(`the value of the typed literal TIMESTAMP is invalid: '${s}'`, offset, 'TIMESTAMP');
    return { type: 'literal', value: d, dataType: new TimestampType() };
  }
  binaryLit(hex: string, _offset: number): Expression {
    const h = hex.length % 2 === 1 ? '0' + hex : hex;
    const bytes = new Uint8Array(h.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
    return { type: 'literal', value: bytes, dataType: new BinaryType() };
  }
  interval(parts: { value: string; unit: string }[], offset: number): Expression {
    const acc = { months: 0, days: 0, microseconds: 0 };
    for (const p of parts) this.addInterval(acc, p.value.trim(), p.unit, offset);
    return { type: 'literal', value: acc satisfies IntervalValue };
  }
  intervalString(s: string, offset: number): Expression {
    const words = s
      .trim()
      .split(' ')
      .filter((w) => w.length > 0);
    if (words[0]?.toLowerCase() === 'interval') words.shift();
    if (words.length === 0 || words.length % 2 !== 0)
      this.refuse(`cannot parse the INTERVAL value '${s}'`, offset, 'INTERVAL');
    const acc = { months: 0, days: 0, microseconds: 0 };
    for (let i = 0; i < words.length; i += 2)
      this.addInterval(acc, words[i]!, words[i + 1]!.toLowerCase(), offset);
    return { type: 'literal', value: acc satisfies IntervalValue };
  }
  private addInterval(
    acc: { months: number; days: number; microseconds: number },
    value: string,
    unit: string,
    offset: number,
  ): void {
    const u = unit.endsWith('s') ? unit.slice(0, -1) : unit;
    const neg = value.startsWith('-');
    const body = neg || value.startsWith('+') ? value.slice(1) : value;
    const [ip, fp, more] = body.split('.');
    if (more !== undefined || ip === undefined || !isDigits(ip) || (fp !== undefined && !isDigits(fp)))
      this.refuse(`cannot parse the INTERVAL value '${value}'`, offset, 'INTERVAL');
    const n = Number(body) * (neg ? -1 : 1);
    const integral = fp === undefined;
    switch (u) {
      case 'year':
      case 'month':
      case 'week':
      case 'day':
        if (!integral)
          this.refuse(`the INTERVAL ${unit} value must be an integer: '${value}'`, offset, 'INTERVAL');
        if (u === 'year') acc.months += 12 * n;
        else if (u === 'month') acc.months += n;
        else acc.days += u === 'week' ? 7 * n : n;
        return;
      default: {
        const m = MICROS[u];
        if (m === undefined) this.refuse(`unknown INTERVAL unit '${unit}'`, offset, 'INTERVAL');
        acc.microseconds += Math.round(n * m);
      }
    }
  }

  // ------------------------------------------------------------ relations

  table(name: string): Relation {
    return { type: 'read', namedTable: name };
  }
  aliased(rel: Relation, alias: { name: string; cols: string[] | null } | null): Relation {
    if (!alias) return rel;
    return {
      type: 'subqueryAlias',
      input: rel,
      alias: alias.name,
      ...(alias.cols && { columnAliases: alias.cols }),
    };
  }
  tableFunction(nameParts: string[], args: Expression[], offset: number): Relation {
    const name = nameParts.join('.').toLowerCase();
    if (name !== 'range')
      this.refuse(
        `the table-valued function ${name} is not supported (only range)`,
        offset,
        nameParts.join('.'),
      );
    const ns = args.map((a) => {
      if (a.type === 'literal' && typeof a.value === 'number' && Number.isInteger(a.value)) return a.value;
      return this.refuse('range() takes integer literals', offset, 'range');
    });
    if (ns.length < 1 || ns.length > 4) this.refuse('range() takes 1 to 4 arguments', offset, 'range');
    const [a, b, step, parts] = ns;
    return ns.length === 1
      ? { type: 'range', start: 0, end: a!, step: 1 }
      : {
          type: 'range',
          start: a!,
          end: b!,
          step: step ?? 1,
          ...(parts !== undefined && { numPartitions: parts }),
        };
  }
  commaJoin(head: Relation, tail: Relation[]): Relation {
    return tail.reduce<Relation>((left, right) => ({ type: 'join', left, right, joinType: 'inner' }), head);
  }
  joins(
    base: Relation,
    parts: { joinType: JoinType; right: Relation; criteria: { on?: Expression; using?: string[] } | null }[],
  ): Relation {
    return parts.reduce<Relation>(
      (left, p) => ({
        type: 'join',
        left,
        right: p.right,
        joinType: p.joinType,
        ...(p.criteria?.on && { joinCondition: p.criteria.on }),
        ...(p.criteria?.using && { usingColumns: p.criteria.using }),
      }),
      base,
    );
  }
  values(rows: Expression[][], offset: number): Relation {
    const width = rows[0]!.length;
    if (rows.some((r) => r.length !== width))
      this.refuse('the rows of VALUES must have the same number of columns', offset, 'VALUES');
    const names = Array.from({ length: width }, (_, i) => `col${i + 1}`);
    const types: (DataType | undefined)[] = [];
    let typed = true;
    for (let c = 0; c < width && typed; c++) {
      let t: DataType | undefined;
      for (const r of rows) {
        const e = r[c]!;
        if (e.type !== 'literal' || !e.dataType) {
          typed = false;
          break;
        }
        if (e.dataType instanceof NullType) continue;
        if (t && !t.equals(e.dataType)) {
          typed = false;
          break;
        }
        t = e.dataType;
      }
      types.push(t);
    }
    if (typed) {
      const fields = names.map(
        (n, c) =>
          new StructField(
            n,
            types[c] ?? new NullType(),
            rows.some((r) => (r[c] as { value: unknown }).value === null),
          ),
      );
      return {
        type: 'localRelation',
        schema: new StructType(fields),
        rows: rows.map((r) => r.map((e) => (e as { value: unknown }).value)),
        numPartitions: 1,
      };
    }
    const projects = rows.map<Relation>((r) => ({
      type: 'project',
      input: oneRowRelation(),
      expressions: r.map((e, i) => this.alias(e, names[i]!)),
    }));
    return projects.reduce((left, right) => unionAll(left, right));
  }
  setOps(head: Relation, tail: SetTail[]): Relation {
    return tail.reduce<Relation>((left, { op, all, t }) => {
      const o = op.toLowerCase();
      return {
        type: 'setOp',
        left,
        right: t,
        setOpType: o === 'union' ? 'union' : o === 'intersect' ? 'intersect' : 'except',
        isAll: all,
        byName: false,
        allowMissingColumns: false,
      };
    }, head);
  }
  querySpec(
    distinct: boolean,
    items: Expression[],
    from: Relation | null,
    where: Expression | null,
    group: { type: 'groupby' | 'rollup' | 'cube'; exprs: Expression[] } | null,
    having: Expression | null,
    windows: { name: string; spec: WindowSpecNode }[] | null,
    offset: number,
  ): Relation {
    if (hasWindowRef(items) || hasWindowRef(where) || hasWindowRef(having)) {
      const defs = new Map<string, WindowSpecNode>();
      for (const w of windows ?? []) defs.set(w.name.toLowerCase(), w.spec);
      const sub = (e: unknown) =>
        mapTree(e, (node) => {
          if (node.type !== '$windowRef') return undefined;
          const r = node as unknown as WindowRef;
          const spec = defs.get(r.name.toLowerCase());
          if (!spec) this.refuse(`the window ${r.name} is not defined in the WINDOW clause`, offset, r.name);
          return this.window(r.windowFunction, spec);
        });
      items = sub(items) as Expression[];
      where = sub(where) as Expression | null;
      having = sub(having) as Expression | null;
    }
    let plan: Relation = from ?? oneRowRelation();
    if (where) plan = { type: 'filter', input: plan, condition: where };
    if (group || having) {
      plan = {
        type: 'aggregate',
        input: plan,
        groupType: group?.type ?? 'groupby',
        groupingExpressions: group?.exprs ?? [],
        aggregateExpressions: items,
      };
      if (having) plan = { type: 'filter', input: plan, condition: having };
    } else plan = { type: 'project', input: plan, expressions: items };
    if (distinct) plan = { type: 'deduplicate', input: plan };
    return plan;
  }
  query(
    ctes: Cte[] | null,
    body: Relation,
    org: { order: SortOrder[] | null; limit: number | null; offset: number | null },
    offset: number,
  ): Relation {
    let plan = body;
    if (org.order) {
      if (hasWindowRef(org.order))
        this.refuse('a named window (OVER name) cannot be used in ORDER BY', offset);
      plan = { type: 'sort', input: plan, order: org.order, isGlobal: true };
    }
    if (org.offset !== null) plan = { type: 'offset', input: plan, offset: org.offset };
    if (org.limit !== null) plan = { type: 'limit', input: plan, limit: org.limit };
    if (!ctes) return plan;
    const seen = new Set<string>();
    const scope = new Map<string, Relation>();
    for (const c of ctes) {
      const key = c.name.toLowerCase();
      if (seen.has(key))
        this.refuse(`CTE definition can't have duplicate names: ${c.name}`, c.offset, c.name);
      seen.add(key);
      const inner = inlineCtes(c.plan, scope);
      scope.set(key, {
        type: 'subqueryAlias',
        input: inner,
        alias: c.name,
        ...(c.cols && { columnAliases: c.cols }),
      });
    }
    return inlineCtes(plan, scope);
  }

  // ------------------------------------------------------------ statements

  createView(
    name: string,
    replace: boolean,
    temporary: boolean,
    global: boolean,
    ifNotExists: boolean,
    cols: string[] | null,
    plan: Relation,
    offset: number,
  ): Statement {
    if (replace && ifNotExists)
      this.refuse('CREATE VIEW with both IF NOT EXISTS and REPLACE is not allowed', offset, 'CREATE');
    return {
      kind: 'createView',
      name,
      replace,
      temporary,
      global,
      ifNotExists,
      plan: cols ? { type: 'toDf', input: plan, columnNames: cols } : plan,
    };
  }
  showTables(database: string | null, pattern: string | null): Statement {
    return {
      kind: 'showTables',
      ...(database !== null && { database }),
      ...(pattern !== null && { pattern }),
    };
  }
  cacheTable(name: string, lazy: boolean, plan: Relation | null): Statement {
    return { kind: 'cacheTable', name, lazy, ...(plan && { plan }) };
  }
  setConf(key: string | undefined, value: string | null | undefined): Statement {
    return {
      kind: 'setConf',
      ...(key !== undefined && { key }),
      ...(value !== undefined && value !== null && { value }),
    };
  }
}

function toNumber(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function unionAll(left: Relation, right: Relation): Relation {
  return {
    type: 'setOp',
    left,
    right,
    setOpType: 'union',
    isAll: true,
    byName: false,
    allowMissingColumns: false,
  };
}

/** A copy of a tree of plain objects and arrays where `f` replaced nodes (`undefined`: descend). */
function mapTree(node: unknown, f: (n: { type?: unknown }) => unknown): unknown {
  if (Array.isArray(node)) {
    let changed = false;
    const out = node.map((x) => {
      const y = mapTree(x, f);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : node;
  }
  if (node === null || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype)
    return node;
  const r = f(node);
  if (r !== undefined) return r;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(node)) {
    const y = mapTree(v, f);
    if (y !== v) (out ??= { ...(node as Record<string, unknown>) })[k] = y;
  }
  return out ?? node;
}

function hasWindowRef(node: unknown): boolean {
  let found = false;
  mapTree(node, (n) => {
    if (n.type === '$windowRef') found = true;
    return found ? n : undefined;
  });
  return found;
}

/** Replaces the reads of single-part names in `scope` by the CTE's plan (case-insensitive). */
function inlineCtes(plan: Relation, scope: ReadonlyMap<string, Relation>): Relation {
  if (scope.size === 0) return plan;
  return mapTree(plan, (n) => {
    if (n.type !== 'read') return undefined;
    const name = (n as { namedTable?: string }).namedTable;
    if (name === undefined) return n;
    const parts = splitName(name);
    return (parts.length === 1 && scope.get(parts[0]!.toLowerCase())) || n;
  }) as Relation;
}

/** `yyyy`, `yyyy-[m]m`, `yyyy-[m]m-[d]d`, optionally followed by ` …` or `T…` (Spark's stringToDate). */
function parseDate(s: string): Date | undefined {
  let end = s.length;
  for (let i = 0; i < s.length; i++)
    if (s[i] === ' ' || s[i] === 'T') {
      end = i;
      break;
    }
  const parts = s.slice(0, end).split('-');
  if (parts.length > 3 || parts.some((p) => !isDigits(p))) return undefined;
  const [ys, ms, ds] = parts;
  if (
    ys === undefined ||
    ys.length !== 4 ||
    (ms !== undefined && ms.length > 2) ||
    (ds !== undefined && ds.length > 2)
  )
    return undefined;
  const y = Number(ys);
  const m = ms === undefined ? 1 : Number(ms);
  const d = ds === undefined ? 1 : Number(ds);
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCFullYear(y);
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return date;
}

/** `yyyy-mm-dd[( |T)hh:mm[:ss[.f…]]][Z|±hh:mm]`, UTC unless a zone is given. */
function parseTimestamp(s: string): Date | undefined {
  let sep = -1;
  for (let i = 0; i < s.length; i++)
    if (s[i] === ' ' || s[i] === 'T') {
      sep = i;
      break;
    }
  const date = parseDate(sep < 0 ? s : s.slice(0, sep));
  if (!date) return undefined;
  if (sep < 0) return date;
  let rest = s.slice(sep + 1).trim();
  let zoneMinutes = 0;
  if (rest.endsWith('Z')) rest = rest.slice(0, -1);
  else {
    const z = Math.max(rest.lastIndexOf('+'), rest.lastIndexOf('-'));
    if (z > 0) {
      const [zh, zm] = rest.slice(z + 1).split(':');
      if (zh === undefined || !isDigits(zh) || (zm !== undefined && !isDigits(zm))) return undefined;
      zoneMinutes = (rest[z] === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm ?? 0));
      rest = rest.slice(0, z);
    }
  }
  const [hs, mins, secs] = rest.split(':');
  if (hs === undefined || !isDigits(hs) || mins === undefined || !isDigits(mins)) return undefined;
  const [ss, frac] = (secs ?? '0').split('.');
  if (ss === undefined || !isDigits(ss) || (frac !== undefined && !isDigits(frac))) return undefined;
  const h = Number(hs);
  const mi = Number(mins);
  const sec = Number(ss);
  if (h > 23 || mi > 59 || sec > 59) return undefined;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  return new Date(date.getTime() + ((h * 60 + mi - zoneMinutes) * 60 + sec) * 1000 + ms);
}
