/**
 * The analyzer: unresolved plan → resolved logical plan. Resolves names (case-insensitively, as
 * Spark by default) against child outputs, outer queries (correlated subqueries) and DataFrame
 * plan ids; types every expression through the function registry; turns aggregate select lists
 * into Aggregate nodes (groups, aggregate calls, output list), HAVING and ORDER BY over
 * aggregates into hidden aggregate outputs, window expressions into Window nodes. Errors are
 * Spark's: UNRESOLVED_COLUMN.WITH_SUGGESTION, TABLE_OR_VIEW_NOT_FOUND, MISSING_AGGREGATION, …
 */
import { AnalysisException } from '../errors.js';
import {
  mapExpr,
  refOf,
  visitExpr,
  type Attr,
  type Expr,
  type LNode,
  type Named,
  type SortKey,
} from '../plan/logical.js';
import type { Expression, IntervalValue, Relation, SortOrder } from '../plan/unresolved.js';
import type { Callable } from '../../rdd/functions.js';
import {
  ArrayType,
  BinaryType,
  BooleanType,
  DataType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  StringType,
  StructType,
  TimestampType,
  DateType,
  commonType,
  isIntegral,
  isNumeric,
} from '../types.js';
import { lookupFunction } from './functions.js';
import { sparkName } from './naming.js';
import { ARROW_UDF_TYPES, arrowUdfTypeName, sparkTypeOfArrowUdf } from '../../wasm/arrow-udf.js';

/** Resolves table names (temp views) to their plans. */
export interface Catalog {
  /** The view's plan, or undefined. Names are case-insensitive; `global_temp.v` for global views. */
  lookupView(name: string): Relation | undefined;
  /** The names of every view (for suggestions). */
  viewNames(): string[];
}

/** Parses a SQL expression string (`F.expr`, `selectExpr`, `filter('…')`). */
export type ExpressionParser = (text: string) => Expression;

/** The session's registered UDFs by name (`spark.udf.register`), looked up before the built-ins. */
export type UdfResolver = (
  name: string,
) => { readonly name: string; readonly fn: Callable; readonly returnType: DataType } | undefined;

interface Scope {
  readonly attrs: readonly Attr[];
  readonly outer?: Scope;
}

/** A literal for a JS value, typed as Spark infers it. */
export function literalType(value: unknown): DataType {
  if (value === null || value === undefined) return new NullType();
  if (typeof value === 'boolean') return new BooleanType();
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return Math.abs(value) <= 2147483647 ? new IntegerType() : new LongType();
    return new DoubleType();
  }
  if (typeof value === 'bigint') return new LongType();
  if (typeof value === 'string') return new StringType();
  if (value instanceof Date) return new TimestampType();
  if (value instanceof Uint8Array) return new BinaryType();
  if (Array.isArray(value)) return new ArrayType(value.length > 0 ? literalType(value[0]) : new NullType());
  return new StringType();
}

const GENERATED = new Set(['explode', 'explode_outer', 'posexplode', 'posexplode_outer']);

function levenshtein(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n]!;
}

/** Spark's suggestion list: the closest names first, at most 5, as `` `a`, `b` ``. */
export function suggestions(name: string, candidates: readonly string[]): string {
  const uniq = [...new Set(candidates)];
  // Spark (orderSuggestedIdentifiersBySimilarity): a one-part name is compared with the candidates'
  // last parts; ties keep the candidates' order (a stable sort).
  const multiPart = name.includes('.');
  const distance = (c: string): number => levenshtein(name, multiPart ? c : c.split('.').pop()!);
  uniq.sort((x, y) => distance(x) - distance(y));
  return uniq
    .slice(0, 5)
    .map((c) => '`' + c.split('.').join('`.`') + '`')
    .join(', ');
}

function quotedName(parts: readonly string[]): string {
  return parts.map((p) => '`' + p + '`').join('.');
}

/** A canonical key of an expression (ids included), for matching GROUP BY expressions. */
export function exprKey(e: Expr): string {
  return JSON.stringify(e, (_k, v: unknown) => {
    if (v instanceof DataType) return v.simpleString();
    if (typeof v === 'bigint') return `${v}n`;
    return v;
  });
}

function isAggregate(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'agg') found = true;
  });
  return found;
}

/** True when `e` has an aggregate call outside any window expression. */
function hasBareAggregate(e: Expr): boolean {
  if (e.k === 'window') return false;
  if (e.k === 'agg') return true;
  let found = false;
  const check = (x: Expr) => {
    if (!found && x !== e && hasBareAggregate(x)) found = true;
  };
  switch (e.k) {
    case 'call':
    case 'udf':
      e.args.forEach(check);
      break;
    case 'cast':
      check(e.e);
      break;
    case 'case':
      e.branches.forEach(([c, v]) => {
        check(c);
        check(v);
      });
      if (e.otherwise) check(e.otherwise);
      break;
    case 'inSubquery':
      e.values.forEach(check);
      break;
    default:
      break;
  }
  return found;
}

function hasWindow(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'window') found = true;
  });
  return found;
}

function isUnresolvedAggregate(e: Expression): boolean {
  switch (e.type) {
    case 'unresolvedFunction': {
      const f = lookupFunction(e.functionName);
      if (f?.spec.kind === 'agg') return true;
      return e.arguments.some(isUnresolvedAggregate);
    }
    case 'alias':
    case 'cast':
      return isUnresolvedAggregate(e.expr);
    case 'window':
      return false;
    case 'expressionString':
      return false;
    default:
      return false;
  }
}

/** The grouping sets of ROLLUP (every prefix, longest first) or CUBE (every subset) of n columns. */
function groupingSets(type: 'rollup' | 'cube', n: number): boolean[][] {
  if (type === 'rollup')
    return Array.from({ length: n + 1 }, (_, i) => Array.from({ length: n }, (_, j) => j < n - i));
  // CUBE: Spark's order, the grouping id counting up from 0 (every column) to 2^n - 1 (none).
  return Array.from({ length: 2 ** n }, (_, id) =>
    Array.from({ length: n }, (_, j) => ((id >> (n - 1 - j)) & 1) === 0),
  );
}

/** Rewrites `e` top-down: where `f` gives a replacement it is used as is, else the children are rewritten. */
function mapTopDown(e: Expr, f: (x: Expr) => Expr | undefined): Expr {
  const r = f(e);
  if (r) return r;
  const m = (x: Expr) => mapTopDown(x, f);
  switch (e.k) {
    case 'call':
    case 'udf':
      return { ...e, args: e.args.map(m) };
    case 'cast':
      return { ...e, e: m(e.e) };
    case 'case':
      return {
        ...e,
        branches: e.branches.map(([c, v]) => [m(c), m(v)] as const),
        ...(e.otherwise && { otherwise: m(e.otherwise) }),
      };
    case 'inSubquery':
      return { ...e, values: e.values.map(m) };
    default:
      return e;
  }
}

/** Refuses grouping() / grouping_id() outside ROLLUP and CUBE, as Spark does. */
function noGroupingCall(e: Expr): Expr {
  visitExpr(e, (x) => {
    if (x.k === 'call' && (x.fn === 'grouping' || x.fn === 'grouping_id'))
      throw new AnalysisException(
        'UNSUPPORTED_GROUPING_EXPRESSION',
        '[UNSUPPORTED_GROUPING_EXPRESSION] grouping()/grouping_id() can only be used with GroupingSets/Cube/Rollup.',
      );
  });
  return e;
}

/** The analyzer of one session; `nextId` hands out attribute ids unique within it. */
export class Analyzer {
  private nextId = 1;
  /** The output of every resolved DataFrame node, by plan id (for `df.col('x')`). */
  private readonly planOutputs = new Map<number, readonly Attr[]>();

  constructor(
    private readonly catalog: Catalog,
    private readonly parseExpression: ExpressionParser,
    private readonly conf: { readonly caseSensitive: boolean; readonly ansi?: boolean } = {
      caseSensitive: false,
    },
    private readonly udfs?: UdfResolver,
  ) {}

  /** A fresh attribute id. */
  newId(): number {
    return this.nextId++;
  }

  /** Resolves a whole plan. */
  analyze(rel: Relation): LNode {
    return this.resolve(rel, undefined, 0);
  }

  private eq(a: string, b: string): boolean {
    return this.conf.caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase();
  }

  private attr(name: string, type: DataType, nullable = true, qualifier?: string): Attr {
    return { id: this.newId(), name, type, nullable, ...(qualifier !== undefined && { qualifier }) };
  }

  private resolve(rel: Relation, outer: Scope | undefined, depth: number): LNode {
    if (depth > 500)
      throw new AnalysisException('INTERNAL_ERROR', 'the plan is too deep (a view that refers to itself?)');
    const node = this.resolveNode(rel, outer, depth);
    if (rel.planId !== undefined) this.planOutputs.set(rel.planId, node.output);
    return node;
  }

  private resolveNode(rel: Relation, outer: Scope | undefined, depth: number): LNode {
    const sub = (r: Relation) => this.resolve(r, outer, depth + 1);
    switch (rel.type) {
      case 'read': {
        if (rel.namedTable !== undefined) {
          const view = this.catalog.lookupView(rel.namedTable);
          if (!view) {
            throw new AnalysisException(
              'TABLE_OR_VIEW_NOT_FOUND',
              `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${rel.namedTable}\` cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.`,
              { relationName: '`' + rel.namedTable + '`' },
            );
          }
          const child = this.resolve(view, undefined, depth + 1);
          const q = rel.namedTable.split('.').pop()!;
          return { k: 'alias', child, output: child.output.map((a) => ({ ...a, qualifier: q })) };
        }
        const ds = rel.dataSource!;
        if (!ds.schema)
          throw new AnalysisException('INTERNAL_ERROR', `the ${ds.format} source has no schema yet`);
        const attrs = ds.schema.fields.map((f) => this.attr(f.name, f.dataType, f.nullable));
        return { k: 'scan', source: ds, attrs, output: attrs, filters: [] };
      }
      case 'localRelation': {
        const output = rel.schema.fields.map((f) => this.attr(f.name, f.dataType, f.nullable));
        return { k: 'local', schema: rel.schema, rows: rel.rows, numPartitions: rel.numPartitions, output };
      }
      case 'range': {
        const output = [this.attr('id', new LongType(), false)];
        return {
          k: 'range',
          start: rel.start,
          end: rel.end,
          step: rel.step,
          numPartitions: rel.numPartitions ?? 0,
          output,
        };
      }
      case 'subqueryAlias': {
        const child = sub(rel.input);
        const names = rel.columnAliases;
        if (names && names.length !== child.output.length)
          throw new AnalysisException(
            'ASSIGNMENT_ARITY_MISMATCH',
            `[ASSIGNMENT_ARITY_MISMATCH] The alias ${rel.alias} names ${names.length} columns, but the query has ${child.output.length}.`,
          );
        return {
          k: 'alias',
          child,
          output: child.output.map((a, i) => ({ ...a, name: names?.[i] ?? a.name, qualifier: rel.alias })),
        };
      }
      case 'project':
        return this.resolveProject(sub(rel.input), rel.expressions, outer);
      case 'filter': {
        if (
          rel.input.type === 'aggregate' ||
          (rel.input.type === 'project' && this.projectIsAggregate(rel.input))
        ) {
          const { node, extra } = this.resolveAggregateWith(rel.input, [rel.condition], outer, depth);
          const cond = extra[0]!;
          const filtered: LNode = { k: 'filter', child: node.node, cond, output: node.node.output };
          return this.hide(filtered, node.visible);
        }
        const child = sub(rel.input);
        const cond = this.expr(rel.condition, { attrs: child.output, ...(outer && { outer }) });
        this.checkBoolean(cond, 'WHERE');
        return { k: 'filter', child, cond, output: child.output };
      }
      case 'aggregate': {
        const { node } = this.resolveAggregateWith(rel, [], outer, depth);
        return node.node;
      }
      case 'sort':
        return this.resolveSort(rel, outer, depth);
      case 'limit': {
        const child = sub(rel.input);
        if (child.k === 'limit' && child.limit === undefined) return { ...child, limit: rel.limit };
        return { k: 'limit', child, limit: rel.limit, offset: 0, output: child.output };
      }
      case 'offset': {
        const child = sub(rel.input);
        return { k: 'limit', child, offset: rel.offset, output: child.output };
      }
      case 'join':
        return this.resolveJoin(rel, outer, depth);
      case 'setOp':
        return this.resolveSetOp(rel, outer, depth);
      case 'deduplicate': {
        const child = sub(rel.input);
        if (!rel.columnNames) return { k: 'distinct', child, output: child.output };
        const keys = rel.columnNames.map((n) => this.findAttr([n], child.output, child.output));
        // dropDuplicates(subset): the first row of each key, as an aggregate of first() values.
        const groups: Named[] = keys.map((a) => ({ id: this.newId(), name: a.name, e: refOf(a) }));
        const keyIds = new Set(keys.map((k) => k.id));
        const aggs: Named[] = child.output
          .filter((a) => !keyIds.has(a.id))
          .map((a) => ({
            id: this.newId(),
            name: a.name,
            e: { k: 'agg', fn: 'first', args: [refOf(a)], distinct: false, type: a.type },
          }));
        const byId = new Map<number, Named>();
        keys.forEach((k, i) => byId.set(k.id, groups[i]!));
        let j = 0;
        const list: Named[] = child.output.map((a) => {
          const g = byId.get(a.id);
          const src = g ?? aggs[j++]!;
          return {
            id: this.newId(),
            name: a.name,
            e: { k: 'ref', id: src.id, name: a.name, type: a.type, nullable: a.nullable },
          };
        });
        return { k: 'aggregate', child, groups, aggs, list, output: list.map((x) => this.outAttr(x)) };
      }
      case 'withColumns': {
        const child = sub(rel.input);
        const scope: Scope = { attrs: child.output, ...(outer && { outer }) };
        const list: Named[] = child.output.map((a) => ({ id: a.id, name: a.name, e: refOf(a) }));
        for (const { name, expr } of rel.aliases) {
          const e = this.expr(expr, scope);
          const at = list.findIndex((x) => this.eq(x.name, name));
          const named: Named = { id: this.newId(), name, e };
          if (at >= 0) list[at] = named;
          else list.push(named);
        }
        // A window function in withColumn gets its Window node, as in select.
        return this.withWindows(child, list);
      }
      case 'withColumnsRenamed': {
        const child = sub(rel.input);
        const output = child.output.map((a) => {
          const r = rel.renames.find(([from]) => this.eq(from, a.name));
          return r ? { ...a, name: r[1] } : a;
        });
        return { k: 'alias', child, output };
      }
      case 'drop': {
        const child = sub(rel.input);
        const drop = new Set<number>();
        for (const c of rel.columns) {
          if (c.type === 'unresolvedAttribute') {
            const matches = child.output.filter((a) => this.matches(a, c.nameParts, c.planId));
            for (const m of matches) drop.add(m.id);
          } else {
            const e = this.expr(c, { attrs: child.output });
            if (e.k === 'ref') drop.add(e.id);
          }
        }
        const list = child.output
          .filter((a) => !drop.has(a.id))
          .map((a) => ({ id: a.id, name: a.name, e: refOf(a) }));
        return this.project(child, list);
      }
      case 'toDf': {
        const child = sub(rel.input);
        if (rel.columnNames.length !== child.output.length)
          throw new AnalysisException(
            'INVALID_PARAMETER_VALUE',
            `[INVALID_PARAMETER_VALUE] toDF: the number of columns doesn't match. Old column names (${child.output.length}): ${child.output.map((a) => a.name).join(', ')}. New column names (${rel.columnNames.length}): ${rel.columnNames.join(', ')}.`,
          );
        return {
          k: 'alias',
          child,
          output: child.output.map((a, i) => ({ ...a, name: rel.columnNames[i]! })),
        };
      }
      case 'sample': {
        const child = sub(rel.input);
        return {
          k: 'sample',
          child,
          lower: rel.lowerBound,
          upper: rel.upperBound,
          withReplacement: rel.withReplacement,
          seed: rel.seed,
          output: child.output,
        };
      }
      case 'repartition': {
        const child = sub(rel.input);
        const keys = rel.partitionExprs.map((e) => this.expr(e, { attrs: child.output }));
        return {
          k: 'repartition',
          child,
          ...(rel.numPartitions !== undefined && { n: rel.numPartitions }),
          keys,
          shuffle: rel.shuffle,
          output: child.output,
        };
      }
      case 'cached': {
        const child = sub(rel.input);
        return { k: 'cached', child, cacheId: rel.cacheId, output: child.output };
      }
    }
  }

  private projectIsAggregate(rel: Relation): boolean {
    return rel.type === 'project' && rel.expressions.some((e) => isUnresolvedAggregate(e));
  }

  private outAttr(n: Named, qualifier?: string): Attr {
    return {
      id: n.id,
      name: n.name,
      type: n.e.type,
      nullable: n.e.k === 'ref' ? n.e.nullable : n.e.k === 'lit' ? n.e.value === null : true,
      ...(qualifier !== undefined && { qualifier }),
    };
  }

  private project(child: LNode, list: readonly Named[]): LNode {
    return { k: 'project', child, list, output: list.map((n) => this.outAttr(n)) };
  }

  /** Projects `node` down to `visible` (hiding helper columns added for HAVING/ORDER BY). */
  private hide(node: LNode, visible: readonly Attr[]): LNode {
    if (visible.length === node.output.length) return node;
    return this.project(
      node,
      visible.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
    );
  }

  private checkBoolean(e: Expr, where: string): void {
    if (e.type instanceof BooleanType || e.type instanceof NullType) return;
    const sql = `"${sparkName(e)}"`;
    const type = `"${e.type.simpleString().toUpperCase()}"`;
    if (where === 'the join condition')
      throw new AnalysisException(
        'JOIN_CONDITION_IS_NOT_BOOLEAN_TYPE',
        `[JOIN_CONDITION_IS_NOT_BOOLEAN_TYPE] The join condition ${sql} has the invalid type ${type}, expected "BOOLEAN".`,
        { joinCondition: sql, conditionType: type },
      );
    throw new AnalysisException(
      'DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN',
      `[DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN] Cannot resolve ${sql} due to data type mismatch: Filter expression ${sql} of type ${type} is not a boolean.`,
      { sqlExpr: sql, filter: sql, type },
    );
  }

  // ------------------------------------------------------------------ projections

  private expandStar(target: string | undefined, attrs: readonly Attr[]): Named[] {
    const chosen =
      target === undefined
        ? attrs
        : attrs.filter((a) => a.qualifier !== undefined && this.eq(a.qualifier, target));
    if (target !== undefined && chosen.length === 0)
      throw new AnalysisException(
        'CANNOT_RESOLVE_STAR_EXPAND',
        `[CANNOT_RESOLVE_STAR_EXPAND] Cannot resolve \`${target}\`.* given input columns ${attrs.map((a) => '`' + a.name + '`').join(', ')}.`,
      );
    return chosen.map((a) => ({ id: a.id, name: a.name, e: refOf(a) }));
  }

  private resolveProject(child: LNode, exprs: readonly Expression[], outer: Scope | undefined): LNode {
    const scope: Scope = { attrs: child.output, ...(outer && { outer }) };
    const list: Named[] = [];
    for (const raw of exprs) {
      // selectExpr('a * 2 AS b'): the parsed expression, so that its alias names the column.
      const x = raw.type === 'expressionString' ? this.parseExpression(raw.expression) : raw;
      if (x.type === 'unresolvedStar') {
        list.push(...this.expandStar(x.unparsedTarget, child.output));
        continue;
      }
      const e = this.expr(x, scope);
      list.push(...this.generatorColumns(x, e));
    }
    if (list.some((n) => hasBareAggregate(n.e))) {
      // SELECT sum(x) FROM t: an aggregate without grouping.
      return this.buildAggregate(child, [], list);
    }
    return this.withWindows(child, list);
  }

  /**
   * The output columns of a select-list entry: one, or a generator's several, as Spark's
   * Generate gives them: posexplode gives `pos` and `col`; explode of a map `key` and `value`
   * (posexplode of one `pos`, `key`, `value`); `alias('a', 'b')` names them.
   */
  private generatorColumns(x: Expression, e: Expr): Named[] {
    if (!(e.k === 'call' && GENERATED.has(e.fn))) {
      if (x.type === 'alias' && x.name.length > 1)
        throw new AnalysisException(
          'MULTI_ALIAS_WITHOUT_GENERATOR',
          `[MULTI_ALIAS_WITHOUT_GENERATOR] Multi part aliasing (${x.name.join(', ')}) is not supported with "${sparkName(e)}" as it is not a generator function.`,
        );
      return [this.named(x, e)];
    }
    const outer = e.fn.endsWith('_outer') ? '_outer' : '';
    const input = e.args[0]!;
    const columns: Array<[string, Expr]> = [];
    const aux = (fn: string, type: DataType): Expr => ({
      k: 'call',
      fn: fn + outer,
      args: e.args,
      type,
      nullable: true,
    });
    if (e.fn.startsWith('pos')) columns.push(['pos', aux('generator_pos', new IntegerType())]);
    if (input.type instanceof MapType) {
      columns.push(['key', aux('generator_key', input.type.keyType)]);
      columns.push(['value', e]);
    } else columns.push(['col', e]);
    const names = x.type === 'alias' ? x.name : columns.map(([n]) => n);
    if (names.length !== columns.length)
      throw new AnalysisException(
        'UDTF_ALIAS_NUMBER_MISMATCH',
        `[UDTF_ALIAS_NUMBER_MISMATCH] The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF. Expected ${columns.length} aliases, but got ${names.join(', ')}.`,
        { aliasesSize: String(names.length), aliasesNames: names.join(', ') },
      );
    return columns.map(([, ce], i) => ({ id: this.newId(), name: names[i]!, e: ce }));
  }

  /** Names an output expression: its alias, the column's own name, or Spark's generated name. */
  private named(x: Expression, e: Expr): Named {
    if (x.type === 'alias') return { id: this.newId(), name: x.name.join('.'), e };
    // A generator's output column is `col`, as Spark names it.
    if (e.k === 'call' && GENERATED.has(e.fn)) return { id: this.newId(), name: 'col', e };
    if (e.k === 'ref' && (x.type === 'unresolvedAttribute' || x.type === 'expressionString'))
      return { id: e.id, name: e.name, e };
    if (x.type === 'expressionString' && e.k !== 'ref') return { id: this.newId(), name: sparkName(e), e };
    return { id: this.newId(), name: sparkName(e), e };
  }

  /** A project whose list may contain window expressions: Window node(s) below a project. */
  private withWindows(child: LNode, list: readonly Named[]): LNode {
    if (!list.some((n) => hasWindow(n.e))) {
      // One generator per select (its pos and key columns are `generator_*` calls beside it).
      const generators = list.filter((n) => n.e.k === 'call' && GENERATED.has(n.e.fn));
      if (generators.length > 1)
        throw new AnalysisException(
          'UNSUPPORTED_GENERATOR.MULTI_GENERATOR',
          '[UNSUPPORTED_GENERATOR.MULTI_GENERATOR] Only one generator is allowed per SELECT clause.',
        );
      return this.project(child, list);
    }
    const windows: Named[] = [];
    const rewritten = list.map((n) => ({
      ...n,
      e: mapExpr(n.e, (x) => {
        if (x.k !== 'window') return undefined;
        const w: Named = { id: this.newId(), name: sparkName(x), e: x };
        windows.push(w);
        return { k: 'ref', id: w.id, name: w.name, type: x.type, nullable: true };
      }),
    }));
    const win: LNode = {
      k: 'window',
      child,
      windows,
      output: [...child.output, ...windows.map((w) => this.outAttr(w))],
    };
    return this.project(win, rewritten);
  }

  // ------------------------------------------------------------------ aggregates

  /**
   * Resolves an aggregate relation (or a project with aggregate functions) and, in its context,
   * `extra` expressions (HAVING, ORDER BY) that may use aggregates and grouping columns; those
   * become hidden outputs. Returns the node, its visible output, and the extra expressions as
   * expressions over the node's output.
   */
  private resolveAggregateWith(
    rel: Relation,
    extra: readonly Expression[],
    outer: Scope | undefined,
    depth: number,
  ): { node: { node: LNode; visible: readonly Attr[] }; extra: Expr[] } {
    let input: Relation;
    let groupings: readonly Expression[];
    let selects: readonly Expression[];
    if (rel.type === 'aggregate') {
      input = rel.input;
      groupings = rel.groupingExpressions;
      selects = rel.aggregateExpressions;
      if (rel.groupType === 'pivot') return { node: this.resolvePivot(rel, outer, depth), extra: [] };
    } else if (rel.type === 'project') {
      input = rel.input;
      groupings = [];
      selects = rel.expressions;
    } else throw new AnalysisException('INTERNAL_ERROR', 'not an aggregate');
    const child = this.resolve(input, outer, depth + 1);
    const scope: Scope = { attrs: child.output, ...(outer && { outer }) };
    const selectList: Named[] = [];
    for (const x of selects) {
      if (x.type === 'unresolvedStar') {
        selectList.push(...this.expandStar(x.unparsedTarget, child.output));
        continue;
      }
      selectList.push(this.named(x, this.expr(x, scope)));
    }
    const groupExprs: Expr[] = [];
    const isAll =
      groupings.length === 1 &&
      groupings[0]!.type === 'unresolvedAttribute' &&
      groupings[0].nameParts.length === 1 &&
      groupings[0].nameParts[0]!.toLowerCase() === 'all' &&
      !child.output.some((a) => this.eq(a.name, 'all'));
    if (isAll) {
      for (const n of selectList) if (!isAggregate(n.e)) groupExprs.push(n.e);
    } else {
      for (const g of groupings) {
        // GROUP BY 2: the select list's second expression (spark.sql.groupByOrdinal).
        if (g.type === 'literal' && typeof g.value === 'number' && Number.isInteger(g.value)) {
          const n = selectList[g.value - 1];
          if (!n)
            throw new AnalysisException(
              'GROUP_BY_POS_OUT_OF_RANGE',
              `[GROUP_BY_POS_OUT_OF_RANGE] GROUP BY position ${g.value} is not in select list (valid range is [1, ${selectList.length}]).`,
            );
          if (isAggregate(n.e))
            throw new AnalysisException(
              'GROUP_BY_POS_AGGREGATE',
              `[GROUP_BY_POS_AGGREGATE] GROUP BY ${g.value} refers to an expression ${sparkName(n.e)} that contains an aggregate function.`,
            );
          groupExprs.push(n.e);
          continue;
        }
        try {
          groupExprs.push(this.expr(g, scope));
        } catch (err) {
          // GROUP BY a select alias (spark.sql.groupByAliases).
          if (g.type === 'unresolvedAttribute' && g.nameParts.length === 1) {
            const byAlias = selectList.find((n) => this.eq(n.name, g.nameParts[0]!));
            if (byAlias && !isAggregate(byAlias.e)) {
              groupExprs.push(byAlias.e);
              continue;
            }
          }
          throw err;
        }
      }
    }
    const sets =
      rel.type === 'aggregate' && (rel.groupType === 'rollup' || rel.groupType === 'cube')
        ? groupingSets(rel.groupType, groupExprs.length)
        : undefined;
    const expanded = sets ? this.expandGroupingSets(child, groupExprs, sets) : undefined;
    const aggChild = expanded?.node ?? child;
    const rewrite = expanded?.rewrite ?? ((e: Expr) => noGroupingCall(e));
    const built = this.aggregateParts(
      aggChild,
      expanded?.groups ?? groupExprs,
      selectList.map((n) => ({ ...n, e: rewrite(n.e) })),
    );
    const extraExprs: Expr[] = [];
    for (const x of extra) {
      // Names resolve to the select list's aliases first, then to the child's columns.
      let e: Expr;
      try {
        // A list column that passes a child column through keeps its id: onto the union too.
        e = expanded
          ? rewrite(this.expr(x, { attrs: built.listAttrs }))
          : this.expr(x, { attrs: built.listAttrs });
      } catch (err) {
        if (!(err instanceof AnalysisException) || !err.errorClass.startsWith('UNRESOLVED_COLUMN')) throw err;
        e = rewrite(this.expr(x, { attrs: child.output, ...(outer && { outer }) }));
      }
      extraExprs.push(built.normalize(e, true));
    }
    const hidden: Named[] = [];
    const extraRefs = extraExprs.map((e): Expr => {
      const viaList = built.list.find((n) => exprKey(n.e) === exprKey(e));
      if (viaList) return { k: 'ref', id: viaList.id, name: viaList.name, type: e.type, nullable: true };
      if (e.k === 'ref' && built.list.some((n) => n.id === e.id)) return e;
      // References to list outputs stay; anything else becomes a hidden output column.
      return mapExpr(e, (x) => {
        if (x.k === 'ref' && !built.list.some((n) => n.id === x.id)) {
          const h: Named = { id: this.newId(), name: x.name, e: x };
          hidden.push(h);
          return { k: 'ref', id: h.id, name: x.name, type: x.type, nullable: x.nullable };
        }
        return undefined;
      });
    });
    const list = [...built.list, ...hidden];
    const node: LNode = {
      k: 'aggregate',
      child: aggChild,
      groups: built.groups,
      aggs: built.aggs,
      list,
      output: list.map((n) => this.outAttr(n)),
    };
    const withWin = this.windowsOverAggregate(node);
    return { node: { node: withWin, visible: built.list.map((n) => this.outAttr(n)) }, extra: extraRefs };
  }

  /** Window expressions in an aggregate's list (rank() OVER (ORDER BY sum(x))) become a Window above it. */
  private windowsOverAggregate(node: LNode): LNode {
    if (node.k !== 'aggregate' || !node.list.some((n) => hasWindow(n.e))) return node;
    const plainList: Named[] = [];
    const windows: Named[] = [];
    const finalList: Named[] = [];
    for (const n of node.list) {
      if (!hasWindow(n.e)) {
        plainList.push(n);
        finalList.push({
          id: n.id,
          name: n.name,
          e: { k: 'ref', id: n.id, name: n.name, type: n.e.type, nullable: true },
        });
        continue;
      }
      // Sub-expressions of the window that are not windows are computed by the aggregate.
      const e = mapExpr(n.e, (x) => {
        if (x.k === 'window') {
          const w: Named = { id: this.newId(), name: sparkName(x), e: x };
          windows.push(w);
          return { k: 'ref', id: w.id, name: w.name, type: x.type, nullable: true };
        }
        return undefined;
      });
      finalList.push({ id: n.id, name: n.name, e });
    }
    // Window inputs over aggregate refs: expose every agg/group ref the windows use as an output.
    const needed = new Map<number, Named>();
    for (const w of windows)
      visitExpr(w.e, (x) => {
        if (x.k === 'ref' && !plainList.some((p) => p.id === x.id))
          needed.set(x.id, { id: x.id, name: x.name, e: x });
      });
    const aggList = [...plainList, ...needed.values()];
    const agg: LNode = { ...node, list: aggList, output: aggList.map((n) => this.outAttr(n)) };
    const win: LNode = {
      k: 'window',
      child: agg,
      windows,
      output: [...agg.output, ...windows.map((w) => this.outAttr(w))],
    };
    return this.project(win, finalList);
  }

  private buildAggregate(child: LNode, groupExprs: readonly Expr[], selectList: readonly Named[]): LNode {
    const built = this.aggregateParts(child, groupExprs, selectList);
    const node: LNode = {
      k: 'aggregate',
      child,
      groups: built.groups,
      aggs: built.aggs,
      list: built.list,
      output: built.list.map((n) => this.outAttr(n)),
    };
    return this.windowsOverAggregate(node);
  }

  /**
   * ROLLUP and CUBE as Spark's Expand: the child once per grouping set (a union of projections:
   * every child column, each grouping expression or NULL when the set leaves it out, and the
   * set's grouping id), grouped by the grouping columns and the id. `rewrite` moves a select-list
   * expression over the child onto the union: grouping expressions outside aggregates become the
   * nullable grouping columns, `grouping(c)` and `grouping_id()` read the id's bits.
   */
  private expandGroupingSets(
    child: LNode,
    groupExprs: readonly Expr[],
    sets: readonly (readonly boolean[])[],
  ): { node: LNode; groups: Expr[]; rewrite: (e: Expr) => Expr } {
    const k = groupExprs.length;
    const LONG = new LongType();
    const branch = (set: readonly boolean[]): LNode => {
      const gid = set.reduce((acc, inSet, j) => acc + (inSet ? 0 : 2 ** (k - 1 - j)), 0);
      const list: Named[] = [
        ...child.output.map((a) => ({ id: this.newId(), name: a.name, e: refOf(a) })),
        ...groupExprs.map((g, j): Named => {
          const nulled: Expr = { k: 'lit', value: null, type: g.type };
          return { id: this.newId(), name: g.k === 'ref' ? g.name : sparkName(g), e: set[j] ? g : nulled };
        }),
        { id: this.newId(), name: 'spark_grouping_id', e: { k: 'lit', value: gid, type: LONG } },
      ];
      return this.project(child, list);
    };
    const branches = sets.map(branch);
    let node = branches[0]!;
    for (const b of branches.slice(1)) {
      const output = node.output.map((a, i) => ({
        id: this.newId(),
        name: a.name,
        type: a.type,
        nullable: a.nullable || b.output[i]!.nullable,
      }));
      node = { k: 'setop', left: node, right: b, op: 'union', all: true, output };
    }
    if (branches.length === 1) {
      // One set (ROLLUP/CUBE of nothing): still a fresh output, as the union gives.
      node = this.project(
        node,
        node.output.map((a) => ({ id: this.newId(), name: a.name, e: refOf(a) })),
      );
    }
    const out = node.output;
    const n = child.output.length;
    const byChild = new Map(child.output.map((a, i) => [a.id, out[i]!]));
    const gcols = groupExprs.map((_, j) => ({ ...out[n + j]!, nullable: true }));
    const gid = out[n + k]!;
    const keys = groupExprs.map(exprKey);
    const onUnion = (e: Expr): Expr =>
      mapExpr(e, (x) => {
        if (x.k !== 'ref') return undefined;
        const a = byChild.get(x.id);
        return a ? refOf(a) : undefined;
      });
    const gidRef = refOf(gid);
    const rewrite = (e: Expr): Expr =>
      mapTopDown(e, (x) => {
        if (x.k === 'agg' || x.k === 'window') return onUnion(x);
        if (x.k === 'call' && (x.fn === 'grouping' || x.fn === 'grouping_id')) {
          if (x.fn === 'grouping_id' && x.args.length === 0) return gidRef;
          // grouping(c): c's bit; grouping_id(c1, c2): the bits of those columns, in that order.
          const bits = x.args.map((arg) => {
            const j = keys.indexOf(exprKey(arg));
            if (j < 0)
              throw new AnalysisException(
                'GROUPING_COLUMN_MISMATCH',
                `[GROUPING_COLUMN_MISMATCH] Column of grouping (${sparkName(arg)}) can't be found in grouping columns ${groupExprs.map((g) => sparkName(g)).join(',')}.`,
                { grouping: sparkName(arg), groupingColumns: groupExprs.map((g) => sparkName(g)).join(',') },
              );
            return k - 1 - j;
          });
          return {
            k: 'call',
            fn: 'grouping_bits',
            args: [gidRef, { k: 'lit', value: bits, type: new ArrayType(new IntegerType()) }],
            type: x.type,
            nullable: false,
          };
        }
        const j = keys.indexOf(exprKey(x));
        if (j >= 0) return refOf(gcols[j]!);
        return x.k === 'ref' ? onUnion(x) : undefined;
      });
    return { node, groups: [...gcols.map(refOf), gidRef], rewrite };
  }

  /** Splits a select list over grouping expressions into groups, aggregate calls, and the output list. */
  private aggregateParts(child: LNode, groupExprs: readonly Expr[], selectList: readonly Named[]) {
    const groups: Named[] = [];
    const groupByKey = new Map<string, Named>();
    for (const g of groupExprs) {
      const key = exprKey(g);
      if (groupByKey.has(key)) continue;
      const n: Named = { id: this.newId(), name: g.k === 'ref' ? g.name : sparkName(g), e: g };
      groups.push(n);
      groupByKey.set(key, n);
    }
    const aggs: Named[] = [];
    const aggByKey = new Map<string, Named>();
    const childIds = new Set(child.output.map((a) => a.id));
    const normalize = (e: Expr, lenient: boolean): Expr => {
      const rec = (x: Expr): Expr => {
        const g = groupByKey.get(exprKey(x));
        if (g) return { k: 'ref', id: g.id, name: g.name, type: x.type, nullable: true };
        if (x.k === 'agg') {
          const key = exprKey(x);
          let a = aggByKey.get(key);
          if (!a) {
            a = { id: this.newId(), name: sparkName(x), e: x };
            aggs.push(a);
            aggByKey.set(key, a);
          }
          return { k: 'ref', id: a.id, name: a.name, type: x.type, nullable: x.fn !== 'count' };
        }
        if (x.k === 'ref' && childIds.has(x.id)) {
          if (lenient) return x;
          throw new AnalysisException(
            'MISSING_AGGREGATION',
            `[MISSING_AGGREGATION] The non-aggregating expression "${x.name}" is based on columns which are not participating in the GROUP BY clause.\nAdd the columns or the expression to the GROUP BY, aggregate the expression, or use "any_value(${x.name})" if you do not care which of the values within a group is returned.`,
            { expression: `"${x.name}"` },
          );
        }
        if (x.k === 'window') {
          return {
            ...x,
            fn:
              x.fn.k === 'agg'
                ? rec(x.fn).k === 'ref'
                  ? { ...x.fn, args: x.fn.args.map(rec) }
                  : x.fn
                : { ...x.fn, ...(x.fn.k === 'call' && { args: x.fn.args.map(rec) }) },
            partition: x.partition.map(rec),
            order: x.order.map((o) => ({ ...o, e: rec(o.e) })),
          };
        }
        return mapChildren(x, rec);
      };
      return rec(e);
    };
    const list = selectList.map((n) => ({
      id: n.id === (n.e.k === 'ref' ? n.e.id : -1) ? this.newId() : n.id,
      name: n.name,
      e: normalize(n.e, false),
    }));
    const listAttrs = list.map((n) => this.outAttr(n));
    return { groups, aggs, list, listAttrs, normalize };
  }

  private resolvePivot(
    rel: Extract<Relation, { type: 'aggregate' }>,
    outer: Scope | undefined,
    depth: number,
  ): { node: LNode; visible: readonly Attr[] } {
    const child = this.resolve(rel.input, outer, depth + 1);
    const scope: Scope = { attrs: child.output, ...(outer && { outer }) };
    const pivotCol = this.expr(rel.pivot!.col, scope);
    const values = rel.pivot!.values;
    if (!values)
      throw new AnalysisException(
        'UNSUPPORTED_FEATURE',
        '[UNSUPPORTED_FEATURE] pivot() without values: list the values, pivot(col, [v1, v2]).',
      );
    const groupExprs = rel.groupingExpressions.map((g) => this.expr(g, scope));
    const selectList: Named[] = groupExprs.map((g) => ({
      id: this.newId(),
      name: g.k === 'ref' ? g.name : sparkName(g),
      e: g,
    }));
    const single = rel.aggregateExpressions.length === 1;
    for (const v of values) {
      for (const x of rel.aggregateExpressions) {
        const base = this.expr(x.type === 'alias' ? x.expr : x, scope);
        const cond: Expr = {
          k: 'call',
          fn: '==',
          args: [pivotCol, { k: 'lit', value: v, type: literalType(v) }],
          type: new BooleanType(),
          nullable: true,
        };
        const filtered = mapExpr(base, (y) => (y.k === 'agg' ? { ...y, filter: cond } : undefined));
        const aggName = x.type === 'alias' ? x.name.join('.') : sparkName(base);
        selectList.push({
          id: this.newId(),
          name: single ? String(v) : `${String(v)}_${aggName}`,
          e: filtered,
        });
      }
    }
    const node = this.buildAggregate(child, groupExprs, selectList);
    return { node, visible: node.output };
  }

  // ------------------------------------------------------------------ sort, join, set operations

  private resolveSort(
    rel: Extract<Relation, { type: 'sort' }>,
    outer: Scope | undefined,
    depth: number,
  ): LNode {
    const input = rel.input;
    const exprs = rel.order.map((o) => o.child);
    const keys = (resolved: Expr[]): SortKey[] =>
      rel.order.map((o, i) => ({
        e: resolved[i]!,
        asc: o.direction === 'ascending',
        nullsFirst: o.nullOrdering === 'nullsFirst',
      }));
    if (
      (input.type === 'aggregate' && input.groupType !== 'pivot') ||
      (input.type === 'project' && this.projectIsAggregate(input))
    ) {
      const ordinalsFirst = this.ordinalKeys(rel.order);
      const { node, extra } = this.resolveAggregateWith(input, ordinalsFirst ? [] : exprs, outer, depth);
      const resolved = ordinalsFirst ? this.ordinalsToRefs(rel.order, node.visible) : extra;
      const sorted: LNode = {
        k: 'sort',
        child: node.node,
        order: keys(resolved),
        global: rel.isGlobal,
        output: node.node.output,
      };
      return this.hide(sorted, node.visible);
    }
    const child = this.resolve(input, outer, depth + 1);
    const scope: Scope = { attrs: child.output, ...(outer && { outer }) };
    const resolved: Expr[] = [];
    const missing: Attr[] = [];
    for (const o of rel.order) {
      const x = o.child;
      if (x.type === 'literal' && typeof x.value === 'number' && Number.isInteger(x.value)) {
        const a = child.output[x.value - 1];
        if (!a)
          throw new AnalysisException(
            'ORDER_BY_POS_OUT_OF_RANGE',
            `[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position ${x.value} is not in select list (valid range is [1, ${child.output.length}]).`,
          );
        resolved.push(refOf(a));
        continue;
      }
      try {
        resolved.push(this.expr(x, scope));
      } catch (err) {
        // ORDER BY a column the projection dropped: resolve below it, carry it as a hidden column.
        if (
          child.k === 'project' &&
          err instanceof AnalysisException &&
          err.errorClass.startsWith('UNRESOLVED_COLUMN')
        ) {
          const below = this.expr(x, { attrs: child.child.output, ...(outer && { outer }) });
          const ids = new Set<number>();
          visitExpr(below, (y) => {
            if (y.k === 'ref') ids.add(y.id);
          });
          for (const a of child.child.output)
            if (
              ids.has(a.id) &&
              !missing.some((m) => m.id === a.id) &&
              !child.output.some((o2) => o2.id === a.id)
            )
              missing.push(a);
          resolved.push(below);
          continue;
        }
        throw err;
      }
    }
    if (missing.length > 0 && child.k === 'project') {
      const widened = this.project(child.child, [
        ...child.list,
        ...missing.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
      ]);
      const sorted: LNode = {
        k: 'sort',
        child: widened,
        order: keys(resolved),
        global: rel.isGlobal,
        output: widened.output,
      };
      return this.hide(sorted, child.output);
    }
    return { k: 'sort', child, order: keys(resolved), global: rel.isGlobal, output: child.output };
  }

  private ordinalKeys(order: readonly SortOrder[]): boolean {
    return order.every((o) => o.child.type === 'literal' && typeof o.child.value === 'number');
  }

  private ordinalsToRefs(order: readonly SortOrder[], output: readonly Attr[]): Expr[] {
    return order.map((o) => {
      const pos = (o.child as { value: number }).value;
      const a = output[pos - 1];
      if (!a)
        throw new AnalysisException(
          'ORDER_BY_POS_OUT_OF_RANGE',
          `[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position ${pos} is not in select list (valid range is [1, ${output.length}]).`,
        );
      return refOf(a);
    });
  }

  private resolveJoin(
    rel: Extract<Relation, { type: 'join' }>,
    outer: Scope | undefined,
    depth: number,
  ): LNode {
    const left = this.resolve(rel.left, outer, depth + 1);
    let right = this.resolve(rel.right, outer, depth + 1);
    // A self-join of one DataFrame: give the right side fresh ids.
    const leftIds = new Set(left.output.map((a) => a.id));
    if (right.output.some((a) => leftIds.has(a.id))) {
      right = this.resolve(rel.right, outer, depth + 1);
      if (right.output.some((a) => leftIds.has(a.id))) right = this.freshen(right);
    }
    const how = rel.joinType;
    const semi = how === 'left_semi' || how === 'left_anti';
    const both = [...left.output, ...right.output];
    if (rel.usingColumns && rel.usingColumns.length > 0) {
      const pairs = rel.usingColumns.map((name) => {
        const l = left.output.filter((a) => this.eq(a.name, name));
        const r = right.output.filter((a) => this.eq(a.name, name));
        if (l.length !== 1 || r.length !== 1)
          throw new AnalysisException(
            'UNRESOLVED_USING_COLUMN_FOR_JOIN',
            `[UNRESOLVED_USING_COLUMN_FOR_JOIN] USING column \`${name}\` cannot be resolved on the ${l.length !== 1 ? 'left' : 'right'} side of the join. The ${l.length !== 1 ? 'left' : 'right'}-side columns: [${(l.length !== 1 ? left : right).output.map((a) => '`' + a.name + '`').join(', ')}].`,
          );
        return [l[0]!, r[0]!] as const;
      });
      const cond = pairs
        .map(([l, r]): Expr => ({
          k: 'call',
          fn: '==',
          args: [refOf(l), refOf(r)],
          type: new BooleanType(),
          nullable: true,
        }))
        .reduce((a, b) => ({ k: 'call', fn: 'and', args: [a, b], type: new BooleanType(), nullable: true }));
      const joined: LNode = { k: 'join', left, right, how, cond, output: semi ? left.output : both };
      if (semi) return joined;
      const usedL = new Set(pairs.map(([l]) => l.id));
      const usedR = new Set(pairs.map(([, r]) => r.id));
      const keyCols: Named[] = pairs.map(([l, r]) => {
        const e: Expr =
          how === 'right'
            ? refOf(r)
            : how === 'full'
              ? {
                  k: 'call',
                  fn: 'coalesce',
                  args: [refOf(l), refOf(r)],
                  type: commonType(l.type, r.type) ?? l.type,
                  nullable: true,
                }
              : refOf(l);
        return { id: how === 'full' ? this.newId() : e.k === 'ref' ? e.id : this.newId(), name: l.name, e };
      });
      const list = [
        ...keyCols,
        ...left.output.filter((a) => !usedL.has(a.id)).map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
        ...right.output.filter((a) => !usedR.has(a.id)).map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
      ];
      const proj = this.project(joined, list);
      // Keep qualifiers so `l.id` still resolves after a USING join.
      return {
        ...proj,
        output: proj.output.map((a) => ({
          ...a,
          ...(both.find((b) => b.id === a.id)?.qualifier !== undefined && {
            qualifier: both.find((b) => b.id === a.id)!.qualifier!,
          }),
        })),
      };
    }
    const cond = rel.joinCondition
      ? this.expr(rel.joinCondition, { attrs: both, ...(outer && { outer }) })
      : undefined;
    if (cond) this.checkBoolean(cond, 'the join condition');
    const output = semi
      ? left.output
      : both.map((a) =>
          (how === 'left' && right.output.includes(a)) ||
          (how === 'right' && left.output.includes(a)) ||
          how === 'full'
            ? { ...a, nullable: true }
            : a,
        );
    return {
      k: 'join',
      left,
      right,
      how: how === 'cross' && cond ? 'inner' : how,
      ...(cond && { cond }),
      output,
    };
  }

  /** The same plan under new attribute ids (a DataFrame joined with itself). */
  private freshen(n: LNode): LNode {
    const map = new Map<number, Attr>();
    const output = n.output.map((a) => {
      const b = { ...a, id: this.newId() };
      map.set(a.id, b);
      return b;
    });
    return this.project(
      n,
      output.map((b, i) => ({ id: b.id, name: b.name, e: refOf(n.output[i]!) })),
    );
  }

  private resolveSetOp(
    rel: Extract<Relation, { type: 'setOp' }>,
    outer: Scope | undefined,
    depth: number,
  ): LNode {
    let left = this.resolve(rel.left, outer, depth + 1);
    let right = this.resolve(rel.right, outer, depth + 1);
    if (rel.byName) {
      // allowMissingColumns: the right's extra columns are added to the left as NULLs, at the end.
      const rightOnly = rel.allowMissingColumns
        ? right.output.filter((b) => !left.output.some((a) => this.eq(a.name, b.name)))
        : [];
      if (rightOnly.length > 0)
        left = this.project(left, [
          ...left.output.map((a) => ({ id: a.id, name: a.name, e: refOf(a) })),
          ...rightOnly.map((b): Named => ({
            id: this.newId(),
            name: b.name,
            e: { k: 'lit', value: null, type: b.type },
          })),
        ]);
      const list: Named[] = [];
      for (const a of left.output) {
        const r = right.output.find((b) => this.eq(b.name, a.name));
        if (r) list.push({ id: this.newId(), name: a.name, e: refOf(r) });
        else if (rel.allowMissingColumns)
          list.push({ id: this.newId(), name: a.name, e: { k: 'lit', value: null, type: a.type } });
        else
          throw new AnalysisException(
            'NUM_COLUMNS_MISMATCH',
            `[UNRESOLVED_COLUMN.WITH_SUGGESTION] Cannot resolve column name "${a.name}" among (${right.output.map((b) => b.name).join(', ')}).`,
          );
      }
      if (!rel.allowMissingColumns && right.output.length !== left.output.length)
        throw new AnalysisException(
          'NUM_COLUMNS_MISMATCH',
          `[NUM_COLUMNS_MISMATCH] UNION can only be performed on inputs with the same number of columns, but the first input has ${left.output.length} columns and the second input has ${right.output.length} columns.`,
        );
      right = this.project(right, list);
    }
    if (left.output.length !== right.output.length)
      throw new AnalysisException(
        'NUM_COLUMNS_MISMATCH',
        `[NUM_COLUMNS_MISMATCH] ${rel.setOpType.toUpperCase()} can only be performed on inputs with the same number of columns, but the first input has ${left.output.length} columns and the second input has ${right.output.length} columns.`,
      );
    const types = left.output.map((a, i) => {
      const b = right.output[i]!;
      const t = commonType(a.type, b.type);
      if (!t)
        throw new AnalysisException(
          'INCOMPATIBLE_COLUMN_TYPE',
          `[INCOMPATIBLE_COLUMN_TYPE] ${rel.setOpType.toUpperCase()} can only be performed on tables with compatible column types. The ${i + 1}th column of the second table is "${b.type.simpleString().toUpperCase()}" type which is not compatible with "${a.type.simpleString().toUpperCase()}" at the same column of the first table.`,
        );
      return t;
    });
    const castSide = (side: LNode): LNode => {
      if (side.output.every((a, i) => a.type.equals(types[i]!))) return side;
      return this.project(
        side,
        side.output.map((a, i) => ({
          id: this.newId(),
          name: a.name,
          e: a.type.equals(types[i]!)
            ? refOf(a)
            : { k: 'cast', e: refOf(a), type: types[i]!, tryCast: false },
        })),
      );
    };
    const l = castSide(left);
    const r = castSide(right);
    const output = l.output.map((a, i) => ({
      id: this.newId(),
      name: left.output[i]!.name,
      type: types[i]!,
      nullable: a.nullable || r.output[i]!.nullable,
    }));
    return { k: 'setop', left: l, right: r, op: rel.setOpType, all: rel.isAll, output };
  }

  // ------------------------------------------------------------------ expressions

  private matches(a: Attr, parts: readonly string[], planId?: number): boolean {
    if (planId !== undefined) {
      const outs = this.planOutputs.get(planId);
      if (outs && !outs.some((o) => o.id === a.id)) return false;
    }
    if (parts.length === 1) return this.eq(a.name, parts[0]!);
    if (parts.length === 2)
      return (
        (a.qualifier !== undefined && this.eq(a.qualifier, parts[0]!) && this.eq(a.name, parts[1]!)) ||
        this.eq(a.name, parts.join('.'))
      );
    return this.eq(a.name, parts.join('.'));
  }

  private findAttr(
    parts: readonly string[],
    attrs: readonly Attr[],
    all: readonly Attr[],
    planId?: number,
  ): Attr {
    const found = this.lookup(parts, attrs, planId);
    if (found) return found;
    throw this.unresolved(parts, all);
  }

  private lookup(parts: readonly string[], attrs: readonly Attr[], planId?: number): Attr | undefined {
    let m = attrs.filter((a) => this.matches(a, parts, planId));
    if (m.length === 0 && planId !== undefined) {
      // df.col('x') of a DataFrame whose node was rewritten: fall back to the name.
      m = attrs.filter((a) => this.matches(a, parts));
    }
    const uniq = [...new Map(m.map((a) => [a.id, a])).values()];
    if (uniq.length > 1)
      throw new AnalysisException(
        'AMBIGUOUS_REFERENCE',
        `[AMBIGUOUS_REFERENCE] Reference \`${parts.join('.')}\` is ambiguous, could be: [${uniq.map((a) => '`' + (a.qualifier ? a.qualifier + '`.`' : '') + a.name + '`').join(', ')}].`,
        { name: '`' + parts.join('.') + '`' },
      );
    return uniq[0];
  }

  private unresolved(parts: readonly string[], attrs: readonly Attr[]): AnalysisException {
    const names = attrs.map((a) => (a.qualifier ? `${a.qualifier}.${a.name}` : a.name));
    const name = quotedName(parts);
    if (names.length === 0)
      return new AnalysisException(
        'UNRESOLVED_COLUMN.WITHOUT_SUGGESTION',
        `[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A column, variable, or function parameter with name ${name} cannot be resolved.`,
        { objectName: name },
      );
    const proposal = suggestions(parts.join('.'), names);
    return new AnalysisException(
      'UNRESOLVED_COLUMN.WITH_SUGGESTION',
      `[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name ${name} cannot be resolved. Did you mean one of the following? [${proposal}].`,
      { objectName: name, proposal },
    );
  }

  private resolveName(parts: readonly string[], scope: Scope, planId?: number): Expr {
    const a = this.lookup(parts, scope.attrs, planId);
    if (a) return refOf(a);
    // A struct field: `s.f` where `s` is a column.
    if (parts.length >= 2) {
      for (let cut = parts.length - 1; cut >= 1; cut--) {
        const base = this.lookup(parts.slice(0, cut), scope.attrs, planId);
        if (base && base.type instanceof StructType) {
          let e: Expr = refOf(base);
          for (const f of parts.slice(cut))
            e = this.extract(e, { k: 'lit', value: f, type: new StringType() });
          return e;
        }
      }
    }
    for (let s = scope.outer; s; s = s.outer) {
      const o = this.lookup(parts, s.attrs, planId);
      if (o) return { k: 'outer', id: o.id, name: o.name, type: o.type, nullable: o.nullable };
    }
    let all: Attr[] = [...scope.attrs];
    for (let s = scope.outer; s; s = s.outer) all = all.concat(s.attrs);
    throw this.unresolved(parts, scope.attrs.length > 0 ? scope.attrs : all);
  }

  private extract(base: Expr, key: Expr): Expr {
    const spec = lookupFunction('get_field')!.spec;
    const t = base.type;
    if (!(t instanceof StructType) && !(t instanceof MapType) && !(t instanceof ArrayType))
      throw new AnalysisException(
        'INVALID_EXTRACT_BASE_FIELD_TYPE',
        `[INVALID_EXTRACT_BASE_FIELD_TYPE] Can't extract a value from "${sparkName(base)}". Need a complex type [STRUCT, ARRAY, MAP] but got "${t.simpleString().toUpperCase()}".`,
      );
    if (
      t instanceof StructType &&
      key.k === 'lit' &&
      !t.fields.some((f) => this.eq(f.name, String(key.value)))
    )
      throw new AnalysisException(
        'FIELD_NOT_FOUND',
        `[FIELD_NOT_FOUND] No such struct field \`${String(key.value)}\` in ${t.fields.map((f) => '`' + f.name + '`').join(', ')}.`,
      );
    const fixedKey =
      t instanceof StructType && key.k === 'lit'
        ? { ...key, value: t.fields.find((f) => this.eq(f.name, String(key.value)))!.name }
        : key;
    return {
      k: 'call',
      fn: 'get_field',
      args: [base, fixedKey],
      type: spec.type([base, fixedKey], 'get_field'),
      nullable: true,
    };
  }

  /** Resolves one expression in a scope. */
  private expr(x: Expression, scope: Scope): Expr {
    switch (x.type) {
      case 'literal':
        return this.literal(x.value, x.dataType);
      case 'unresolvedAttribute':
        return this.resolveName(x.nameParts, scope, x.planId);
      case 'alias':
        return this.expr(x.expr, scope);
      case 'cast': {
        const e = this.expr(x.expr, scope);
        const cast: Expr = { k: 'cast', e, type: x.dataType, tryCast: x.evalMode === 'try' };
        // ANSI (spark.sql.ansi.enabled): a string that is not a value of the type fails the query.
        const t = x.dataType;
        if (
          x.evalMode !== 'try' &&
          this.ansi &&
          e.type instanceof StringType &&
          (isNumeric(t) || t instanceof BooleanType || t instanceof DateType || t instanceof TimestampType)
        )
          return { k: 'call', fn: 'ansi_cast', args: [cast, e], type: t, nullable: true };
        // Without ANSI an integer that does not fit the narrower type wraps around (Java's cast);
        // a double or float saturates (NaN is 0), through int for a short or a byte.
        const width = (d: DataType) => ['tinyint', 'smallint', 'int', 'bigint'].indexOf(d.simpleString());
        const fractional = e.type instanceof DoubleType || e.type instanceof FloatType;
        if (
          x.evalMode !== 'try' &&
          !this.ansi &&
          isIntegral(t) &&
          ((isIntegral(e.type) && width(t) < width(e.type)) || fractional)
        )
          return { k: 'call', fn: 'legacy_cast', args: [cast, e], type: t, nullable: true };
        return cast;
      }
      case 'expressionString':
        return this.expr(this.parseExpression(x.expression), scope);
      case 'unresolvedStar':
        throw new AnalysisException(
          'INVALID_USAGE_OF_STAR_OR_REGEX',
          "[INVALID_USAGE_OF_STAR_OR_REGEX] Invalid usage of '*' in an expression; `*` is allowed only in a select list or count(*).",
        );
      case 'sortOrder':
        return this.expr(x.child, scope);
      case 'unresolvedExtractValue':
        return this.extract(this.expr(x.child, scope), this.expr(x.extraction, scope));
      case 'subqueryExpression': {
        const plan = this.resolve(x.plan, scope, 0);
        if (x.subqueryType === 'scalar') {
          if (plan.output.length !== 1)
            throw new AnalysisException(
              'INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN',
              `[INVALID_SUBQUERY_EXPRESSION.SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN] Invalid subquery: Scalar subquery must return only one column, but got ${plan.output.length}.`,
            );
          return { k: 'scalarSubquery', plan, type: plan.output[0]!.type };
        }
        if (x.subqueryType === 'exists') return { k: 'exists', plan, type: new BooleanType() };
        const values = (x.inSubqueryValues ?? []).map((v) => this.expr(v, scope));
        if (values.length !== plan.output.length)
          throw new AnalysisException(
            'DATATYPE_MISMATCH.IN_SUBQUERY_LENGTH_MISMATCH',
            `[DATATYPE_MISMATCH.IN_SUBQUERY_LENGTH_MISMATCH] The number of columns in the left hand side of an IN subquery does not match the number of columns in the output of subquery. Left hand side columns(length: ${values.length}), right hand side columns(length: ${plan.output.length}).`,
          );
        return { k: 'inSubquery', values, plan, type: new BooleanType() };
      }
      case 'window': {
        const resolved = this.expr(x.windowFunction, scope);
        // A window's sum is DuckDB's `sum(…) OVER`: the wrapping variant cannot take the OVER.
        const fn: Expr =
          resolved.k === 'agg' && resolved.fn === 'legacy_sum' ? { ...resolved, fn: 'sum' } : resolved;
        if (fn.k !== 'agg' && !(fn.k === 'call' && lookupFunction(fn.fn)?.spec.kind === 'window'))
          throw new AnalysisException(
            'UNSUPPORTED_EXPR_FOR_WINDOW',
            `[UNSUPPORTED_EXPR_FOR_WINDOW] Expression "${sparkName(fn)}" not supported within a window function.`,
          );
        const partition = x.partitionSpec.map((p) => this.expr(p, scope));
        const order = x.orderSpec.map((o) => ({
          e: this.expr(o.child, scope),
          asc: o.direction === 'ascending',
          nullsFirst: o.nullOrdering === 'nullsFirst',
        }));
        const needsOrder =
          fn.k === 'call' &&
          ['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead'].includes(
            fn.fn,
          );
        if (needsOrder && order.length === 0)
          throw new AnalysisException(
            'WINDOW_FUNCTION_WITHOUT_ORDER',
            `[WINDOW_FUNCTION_WITHOUT_ORDER] Window function ${fn.k === 'call' ? fn.fn : ''}() requires the window to be ordered; add ORDER BY to the window (Window.orderBy(...)).`,
          );
        return {
          k: 'window',
          fn,
          partition,
          order,
          ...(x.frameSpec && { frame: x.frameSpec }),
          type: fn.type,
        };
      }
      case 'commonInlineUserDefinedFunction': {
        const args = x.arguments.map((a) => this.expr(a, scope));
        if (x.arrow) return this.arrowUdf(x, x.arrow, args);
        return { k: 'udf', name: x.functionName, fn: x.fn, args, type: x.returnType };
      }
      case 'unresolvedFunction':
        return this.call(x.functionName, x.arguments, x.isDistinct, scope);
    }
  }

  /**
   * An F.wasmUdf call: the arrow-udf function whose argument types are the arguments' (else the
   * only one of that arity, with the arguments cast to its types).
   */
  private arrowUdf(
    x: Extract<Expression, { type: 'commonInlineUserDefinedFunction' }>,
    arrow: NonNullable<Extract<Expression, { type: 'commonInlineUserDefinedFunction' }>['arrow']>,
    args: Expr[],
  ): Expr {
    const names = args.map((a) => arrowUdfTypeName(a.type) ?? a.type.simpleString());
    const list = arrow.candidates.map((c) => c.signature).join(', ');
    const exact = arrow.candidates.find((c) => c.args.join() === names.join());
    const sameArity = arrow.candidates.filter((c) => c.args.length === args.length);
    const chosen = exact ?? (sameArity.length === 1 ? sameArity[0] : undefined);
    if (!chosen)
      throw new AnalysisException(
        sameArity.length === 0
          ? 'WRONG_NUM_ARGS.WITHOUT_SUGGESTION'
          : 'DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE',
        `[${sameArity.length === 0 ? 'WRONG_NUM_ARGS.WITHOUT_SUGGESTION' : 'DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE'}] ` +
          `Cannot call the WebAssembly UDF \`${x.functionName}\` of module '${arrow.module}' with (${names.join(', ')}): it has ${list}.`,
        { functionName: '`' + x.functionName + '`' },
      );
    const implicit: number[] = [];
    const cast = args.map((a, i): Expr => {
      const want = chosen.args[i]!;
      if (arrowUdfTypeName(a.type) === want) return a;
      implicit.push(i);
      const type = sparkTypeOfArrowUdf(want);
      if (!type)
        throw new AnalysisException(
          'DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE',
          `[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The WebAssembly UDF ${chosen.signature} takes ${want}, which F.wasmUdf cannot pass (it passes ${ARROW_UDF_TYPES.join(', ')}).`,
          { functionName: '`' + x.functionName + '`' },
        );
      return { k: 'cast', e: a, type, tryCast: false };
    });
    return {
      k: 'udf',
      name: x.functionName,
      fn: x.fn,
      args: cast,
      type: x.returnType,
      arrow: { module: arrow.module, signature: chosen.signature, implicit },
    };
  }

  private literal(value: unknown, dataType?: DataType): Expr {
    if (isInterval(value)) return { k: 'lit', value, type: new StringType(), ...{ interval: true } };
    return { k: 'lit', value: value === undefined ? null : value, type: dataType ?? literalType(value) };
  }

  /**
   * `struct(a, b AS x, expr)`: field names from column names and aliases, `colN` for others
   * (Spark's CreateStruct), as a named_struct with the names as literal arguments.
   */
  private struct(rawArgs: readonly Expression[], scope: Scope): Expr {
    if (rawArgs.length === 0)
      throw new AnalysisException(
        'WRONG_NUM_ARGS.WITHOUT_SUGGESTION',
        '[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `struct` requires at least 1 parameters but the actual number is 0.',
        { functionName: '`struct`' },
      );
    const args: Expr[] = [];
    rawArgs.forEach((x, i) => {
      const e = this.expr(x, scope);
      const name = x.type === 'alias' ? x.name.join('.') : e.k === 'ref' ? e.name : `col${i + 1}`;
      args.push({ k: 'lit', value: name, type: new StringType() }, e);
    });
    const f = lookupFunction('named_struct')!;
    return { k: 'call', fn: 'struct', args, type: f.spec.type(args, 'struct'), nullable: true };
  }

  private call(name: string, rawArgs: readonly Expression[], distinct: boolean, scope: Scope): Expr {
    const lower = name.toLowerCase();
    if (lower === 'when') {
      const args = rawArgs.map((a) => this.expr(a, scope));
      const branches: Array<readonly [Expr, Expr]> = [];
      for (let i = 0; i + 1 < args.length; i += 2) branches.push([args[i]!, args[i + 1]!]);
      const otherwise = args.length % 2 === 1 ? args[args.length - 1] : undefined;
      let t: DataType = new NullType();
      for (const v of [...branches.map((b) => b[1]), ...(otherwise ? [otherwise] : [])]) {
        const c = commonType(t, v.type);
        if (!c)
          throw new AnalysisException(
            'DATATYPE_MISMATCH.DATA_DIFF_TYPES',
            `[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve "CASE WHEN ..." due to data type mismatch: Input to \`casewhen\` should all be the same type, but it's [${[...branches.map((b) => b[1]), ...(otherwise ? [otherwise] : [])].map((v) => '"' + v.type.simpleString().toUpperCase() + '"').join(', ')}].`,
          );
        t = c;
      }
      for (const [c] of branches) this.checkBoolean(c, 'CASE WHEN');
      return { k: 'case', branches, ...(otherwise && { otherwise }), type: t };
    }
    if (lower === 'count' && rawArgs.length === 1 && rawArgs[0]!.type === 'unresolvedStar')
      return {
        k: 'agg',
        fn: 'count',
        args: [{ k: 'lit', value: 1, type: new IntegerType() }],
        distinct: false,
        type: new LongType(),
      };
    const udf = this.udfs?.(lower);
    if (udf)
      return {
        k: 'udf',
        name: udf.name,
        fn: udf.fn,
        args: rawArgs.map((a) => this.expr(a, scope)),
        type: udf.returnType,
      };
    if (lower === 'struct') return this.struct(rawArgs, scope);
    const f = lookupFunction(lower);
    if (!f) {
      throw new AnalysisException(
        'UNRESOLVED_ROUTINE',
        `[UNRESOLVED_ROUTINE] Cannot resolve routine \`${name}\` on search path [\`system\`.\`builtin\`, \`system\`.\`session\`, \`spark_catalog\`.\`default\`].`,
        {
          routineName: '`' + name + '`',
          searchPath: '[`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]',
        },
      );
    }
    // `hash(*)`, `concat(*)`: a star argument stands for every input column, as in Spark.
    const args = rawArgs.flatMap((a) =>
      a.type === 'unresolvedStar' && f.spec.kind === 'scalar'
        ? this.expandStar(a.unparsedTarget, scope.attrs).map((n) => n.e)
        : [this.expr(a, scope)],
    );
    const [lo, hi] = f.spec.arity;
    if (args.length < lo || args.length > hi)
      throw new AnalysisException(
        'WRONG_NUM_ARGS.WITHOUT_SUGGESTION',
        `[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The \`${lower}\` requires ${lo === hi ? lo : `[${lo}, ${hi}]`} parameters but the actual number is ${args.length}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix.`,
        {
          functionName: '`' + lower + '`',
          expectedNum: lo === hi ? String(lo) : `[${lo}, ${hi}]`,
          actualNum: String(args.length),
          docroot: 'https://spark.apache.org/docs/latest',
        },
      );
    // Interval arithmetic: date +/- interval literal.
    if ((f.name === '+' || f.name === '-') && args[1] && isIntervalLit(args[1]))
      return {
        k: 'call',
        fn: f.name === '+' ? 'date_plus_interval' : 'date_minus_interval',
        args,
        type: args[0]!.type,
        nullable: true,
      };
    if (f.spec.kind === 'agg') {
      for (const a of args)
        if (isAggregate(a))
          throw new AnalysisException(
            'NESTED_AGGREGATE_FUNCTION',
            '[NESTED_AGGREGATE_FUNCTION] It is not allowed to use an aggregate function in the argument of another aggregate function. Please use the inner aggregate function in a sub-query.',
          );
      if (
        (f.name === 'sum' || f.name === 'avg') &&
        args[0] &&
        !(isNumeric(args[0].type) || args[0].type instanceof NullType || args[0].type instanceof StringType)
      )
        throw new AnalysisException(
          'DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE',
          `[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve "${f.name}(${sparkName(args[0])})" due to data type mismatch: The first parameter requires the "NUMERIC" or "ANSI INTERVAL" type, however "${sparkName(args[0])}" has the type "${args[0].type.simpleString().toUpperCase()}".`,
          { sqlExpr: `"${f.name}(${sparkName(args[0])})"` },
        );
      const type = f.spec.type(args, f.name);
      // A sum of integers that leaves the long range fails under ANSI (the cast of DuckDB's
      // HUGEINT sum: ARITHMETIC_OVERFLOW); without ANSI it wraps around, as Java's long addition.
      const wraps = !this.ansi && f.name === 'sum' && type instanceof LongType;
      return {
        k: 'agg',
        fn: wraps ? 'legacy_sum' : f.name,
        args,
        distinct: distinct || name.toLowerCase() === 'count_distinct',
        type,
      };
    }
    const type = f.spec.type(args, `${f.name}(${args.map((a) => sparkName(a)).join(', ')})`);
    // spark.sql.ansi.enabled: division by zero fails (ANSI) or is NULL; integer overflow fails
    // (ANSI) or wraps around (legacy).
    let fn = f.name;
    if (this.ansi && ANSI_CHECKED.has(fn)) fn = `ansi_${fn}`;
    if (!this.ansi && LEGACY_WRAPPED.has(fn) && isIntegral(type)) fn = `legacy_${fn}`;
    const nullable =
      f.spec.nullIntolerant === false
        ? true
        : args.some((a) => a.k !== 'lit' || a.value === null) || args.length === 0
          ? true
          : false;
    return { k: 'call', fn, args, type, nullable: nullable || true };
  }

  /** `spark.sql.ansi.enabled` (Spark 4's default: true). */
  private get ansi(): boolean {
    return this.conf.ansi ?? true;
  }
}

/** Functions that fail on a zero divisor under ANSI (their `ansi_` variant). */
const ANSI_CHECKED = new Set(['/', '%', 'pmod', 'div']);
/** Integer arithmetic that wraps around without ANSI (their `legacy_` variant). */
const LEGACY_WRAPPED = new Set(['+', '-', '*']);

function isInterval(v: unknown): v is IntervalValue {
  return typeof v === 'object' && v !== null && 'months' in v && 'days' in v && 'microseconds' in v;
}

function isIntervalLit(e: Expr): boolean {
  return e.k === 'lit' && isInterval(e.value);
}

/** Rebuilds an expression with `f` applied to its direct children. */
function mapChildren(e: Expr, f: (x: Expr) => Expr): Expr {
  switch (e.k) {
    case 'call':
      return { ...e, args: e.args.map(f) };
    case 'udf':
      return { ...e, args: e.args.map(f) };
    case 'agg':
      return { ...e, args: e.args.map(f), ...(e.filter && { filter: f(e.filter) }) };
    case 'cast':
      return { ...e, e: f(e.e) };
    case 'case':
      return {
        ...e,
        branches: e.branches.map(([c, v]) => [f(c), f(v)] as const),
        ...(e.otherwise && { otherwise: f(e.otherwise) }),
      };
    case 'inSubquery':
      return { ...e, values: e.values.map(f) };
    case 'window':
      return {
        ...e,
        fn: f(e.fn),
        partition: e.partition.map(f),
        order: e.order.map((o) => ({ ...o, e: f(o.e) })),
      };
    default:
      return e;
  }
}
