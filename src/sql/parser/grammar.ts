/**
 * The Spark SQL grammar, as a peggy grammar. Actions stay small: they call the builder passed in
 * the parse options (`options.h`, see `build.ts`), which makes the unresolved plan nodes.
 *
 * Precedence (lowest first), as in Spark's SqlBaseParser.g4: OR; AND; NOT; EXISTS / predicate
 * (`[NOT] BETWEEN`, `[NOT] IN`, `[NOT] LIKE|ILIKE|RLIKE|REGEXP`, `IS [NOT] NULL|TRUE|FALSE|
 * DISTINCT FROM`) applied once to a value expression; comparison (`= == <> != < <= > >= <=>`);
 * `|`; `^`; `&`; shifts; `+ - ||`; `* / % DIV`; unary `- + ~`; postfix `[i]` and `.field`.
 * Set operations: INTERSECT binds tighter than UNION / EXCEPT / MINUS (both left-associative).
 */

/** Words that cannot be bare identifiers or aliases (backticks still allow them). */
export const RESERVED_WORDS: readonly string[] = [
  'all',
  'and',
  'anti',
  'as',
  'between',
  'by',
  'case',
  'cluster',
  'cross',
  'distinct',
  'distribute',
  'div',
  'else',
  'end',
  'except',
  'false',
  'from',
  'full',
  'group',
  'having',
  'ilike',
  'in',
  'inner',
  'intersect',
  'is',
  'join',
  'lateral',
  'left',
  'like',
  'limit',
  'minus',
  'natural',
  'not',
  'null',
  'offset',
  'on',
  'or',
  'order',
  'outer',
  'regexp',
  'right',
  'rlike',
  'select',
  'semi',
  'sort',
  'then',
  'true',
  'union',
  'using',
  'when',
  'where',
  'window',
  'with',
];

/** Keyword rules `K_<WORD>`: the word, case-insensitive, not followed by an identifier character. */
const KEYWORDS = [
  ...RESERVED_WORDS,
  'asc',
  'both',
  'cache',
  'cast',
  'codegen',
  'cost',
  'create',
  'cube',
  'current',
  'date',
  'desc',
  'describe',
  'drop',
  'escape',
  'exists',
  'explain',
  'extended',
  'extract',
  'filter',
  'first',
  'following',
  'for',
  'formatted',
  'global',
  'grouping',
  'if',
  'interval',
  'last',
  'lazy',
  'leading',
  'logical',
  'nulls',
  'or',
  'over',
  'partition',
  'position',
  'preceding',
  'query',
  'range',
  'recursive',
  'replace',
  'rollup',
  'row',
  'rows',
  'set',
  'sets',
  'show',
  'substr',
  'substring',
  'table',
  'tables',
  'temp',
  'temporary',
  'timestamp',
  'to',
  'trailing',
  'trim',
  'try_cast',
  'unbounded',
  'uncache',
  'unknown',
  'values',
  'view',
];

const keywordRules = [...new Set(KEYWORDS)]
  .map((k) => `K_${k.toUpperCase()} "${k.toUpperCase()}" = $("${k}"i !IdChar)`)
  .join('\n');

/** The peggy grammar text: start rules `Statement` and `SingleExpression`. */
export const grammar: string =
  String.raw`
{
  const h = options.h;
}

// ---------------------------------------------------------------- statements

Statement
  = _ s:StatementBody _ (";" _)* !. { return s; }

SingleExpression
  = _ e:NamedExpression _ !. { return e; }

StatementBody
  = ExplainStatement
  / CreateView
  / DropView
  / ShowTables
  / Describe
  / CacheTable
  / UncacheTable
  / SetStatement
  / q:Query { return { kind: 'query', plan: q }; }

ExplainStatement
  = K_EXPLAIN _ m:(m:ExplainMode _ { return m; })? s:StatementBody
    { return { kind: 'explain', mode: m ?? 'simple', statement: s }; }

ExplainMode
  = K_EXTENDED { return 'extended'; }
  / K_FORMATTED { return 'formatted'; }
  / K_CODEGEN { return 'codegen'; }
  / K_COST { return 'cost'; }
  / K_LOGICAL { h.refuse('EXPLAIN LOGICAL is not supported', location().start.offset, 'LOGICAL'); }

CreateView
  = K_CREATE _ r:(K_OR _ K_REPLACE _)? t:(g:(K_GLOBAL _)? (K_TEMPORARY / K_TEMP) _ { return { global: g !== null }; })?
    K_VIEW _ ine:(K_IF _ K_NOT _ K_EXISTS _)? name:MultipartName _ cols:(c:IdentifierList _ { return c; })?
    K_AS _ q:Query
    { return h.createView(name, r !== null, t !== null, t?.global ?? false, ine !== null, cols, q, location().start.offset); }

DropView
  = K_DROP _ K_VIEW _ ie:(K_IF _ K_EXISTS _)? name:MultipartName
    { return { kind: 'dropView', name, ifExists: ie !== null }; }

ShowTables
  = K_SHOW _ K_TABLES db:(_ (K_FROM / K_IN) _ d:MultipartName { return d; })? p:(_ (K_LIKE _)? s:StringLit { return s.value; })?
    { return h.showTables(db, p); }

Describe
  = (K_DESCRIBE / K_DESC) _ K_QUERY _ q:Query
    { return { kind: 'describe', target: { kind: 'query', plan: q }, extended: false }; }
  / (K_DESCRIBE / K_DESC) _ (K_TABLE _)? x:((K_EXTENDED / K_FORMATTED) _)? name:MultipartName &(_ (";" _)* !.)
    { return { kind: 'describe', target: { kind: 'table', name }, extended: x !== null }; }
  / (K_DESCRIBE / K_DESC) _ q:Query
    { return { kind: 'describe', target: { kind: 'query', plan: q }, extended: false }; }

CacheTable
  = K_CACHE _ lz:(K_LAZY _)? K_TABLE _ name:MultipartName q:(_ (K_AS _)? q:Query { return q; })?
    { return h.cacheTable(name, lz !== null, q); }

UncacheTable
  = K_UNCACHE _ K_TABLE _ ie:(K_IF _ K_EXISTS _)? name:MultipartName
    { return { kind: 'uncacheTable', name, ifExists: ie !== null }; }

SetStatement
  = K_SET kv:(_ k:SetKey _ v:("=" _ v:SetValue { return v; })? { return { k, v }; })?
    { return h.setConf(kv?.k, kv?.v); }

SetKey = $[^=; \t\r\n]+
SetValue = $(!(_ (";" _)* !.) .)*

// ---------------------------------------------------------------- queries

Query
  = K_WITH _ K_RECURSIVE _ Identifier
    { h.refuse('recursive CTEs (WITH RECURSIVE) are not supported', location().start.offset, 'WITH'); }
  / ctes:(K_WITH _ c:CteList _ { return c; })? body:QueryExpr org:QueryOrganization
    { return h.query(ctes, body, org, location().start.offset); }

CteList
  = head:Cte tail:(_ "," _ c:Cte { return c; })* { return [head, ...tail]; }

Cte
  = name:Identifier _ cols:(c:IdentifierList _ { return c; })? (K_AS _)? "(" _ q:Query _ ")"
    { return { name, cols, plan: q, offset: location().start.offset }; }

QueryExpr
  = head:SetTerm tail:(_ op:(K_UNION / K_EXCEPT / K_MINUS) _ q:(q:(K_ALL / K_DISTINCT) _ { return q; })? t:SetTerm { return { op, all: q !== null && q.toLowerCase() === 'all', t }; })*
    { return h.setOps(head, tail); }

SetTerm
  = head:QueryPrimary tail:(_ op:K_INTERSECT _ q:(q:(K_ALL / K_DISTINCT) _ { return q; })? t:QueryPrimary { return { op, all: q !== null && q.toLowerCase() === 'all', t }; })*
    { return h.setOps(head, tail); }

QueryPrimary
  = QuerySpec
  / InlineTable
  / K_TABLE _ n:MultipartName { return h.table(n); }
  / "(" _ q:Query _ ")" { return q; }

QueryOrganization
  = o:(_ K_ORDER _ K_BY _ s:SortList { return s; })?
    l:(_ K_LIMIT _ l:(K_ALL { return null; } / IntValue) { return l; })?
    f:(_ K_OFFSET _ n:IntValue { return n; })?
    { return { order: o, limit: l, offset: f }; }

IntValue "integer"
  = d:$[0-9]+ !IdChar { return h.intValue(d, location().start.offset); }

QuerySpec
  = K_SELECT _ q:(q:(K_DISTINCT / K_ALL) _ { return q.toLowerCase(); })? items:SelectList
    from:(_ K_FROM _ r:FromClause { return r; })?
    where:(_ K_WHERE _ e:Expr { return e; })?
    group:(_ g:GroupBy { return g; })?
    having:(_ K_HAVING _ e:Expr { return e; })?
    windows:(_ w:WindowClause { return w; })?
    { return h.querySpec(q === 'distinct', items, from, where, group, having, windows, location().start.offset); }

SelectList
  = head:NamedExpression tail:(_ "," _ e:NamedExpression { return e; })* { return [head, ...tail]; }

NamedExpression
  = Star
  / e:Expr a:(_ K_AS _ a:AliasName { return a; } / _ a:Identifier { return a; })? { return a === null ? e : h.alias(e, a); }

Star
  = parts:(p:IdentifierPart "." { return p; })* "*" { return h.star(parts); }

GroupBy
  = K_GROUP _ K_BY _ g:GroupingSpec { return g; }

GroupingSpec
  = K_ALL !(_ "(") { return { type: 'groupby', exprs: [h.col(['ALL'])] }; }
  / K_ROLLUP _ "(" _ e:ExprList _ ")" { return { type: 'rollup', exprs: e }; }
  / K_CUBE _ "(" _ e:ExprList _ ")" { return { type: 'cube', exprs: e }; }
  / K_GROUPING _ K_SETS { h.refuse('GROUPING SETS is not supported', location().start.offset, 'GROUPING'); }
  / e:ExprList w:(_ K_WITH _ w:(K_ROLLUP / K_CUBE) { return w.toLowerCase(); })? { return { type: w ?? 'groupby', exprs: e }; }

WindowClause
  = K_WINDOW _ head:NamedWindow tail:(_ "," _ w:NamedWindow { return w; })* { return [head, ...tail]; }

NamedWindow
  = name:Identifier _ K_AS _ spec:WindowSpec { return { name, spec }; }

SortList
  = head:SortItem tail:(_ "," _ s:SortItem { return s; })* { return [head, ...tail]; }

SortItem
  = e:Expr d:(_ d:(K_ASC / K_DESC) { return d.toLowerCase(); })? n:(_ K_NULLS _ n:(K_FIRST / K_LAST) { return n.toLowerCase(); })?
    { return h.sortOrder(e, d, n); }

// ---------------------------------------------------------------- relations

FromClause
  = head:RelationItem tail:(_ "," _ r:RelationItem { return r; })* { return h.commaJoin(head, tail); }

RelationItem
  = base:RelationPrimary joins:(_ j:JoinPart { return j; })* { return h.joins(base, joins); }

JoinPart
  = K_NATURAL { h.refuse('NATURAL JOIN is not supported; use JOIN ... USING (...)', location().start.offset, 'NATURAL'); }
  / t:(t:JoinType _ { return t; })? K_JOIN _ r:RelationPrimary c:(_ c:JoinCriteria { return c; })?
    { return { joinType: t ?? 'inner', right: r, criteria: c }; }

JoinType
  = K_INNER { return 'inner'; }
  / K_CROSS { return 'cross'; }
  / K_LEFT _ K_SEMI { return 'left_semi'; }
  / K_LEFT _ K_ANTI { return 'left_anti'; }
  / K_LEFT (_ K_OUTER)? { return 'left'; }
  / K_RIGHT (_ K_OUTER)? { return 'right'; }
  / K_FULL (_ K_OUTER)? { return 'full'; }
  / K_SEMI { return 'left_semi'; }
  / K_ANTI { return 'left_anti'; }

JoinCriteria
  = K_ON _ e:Expr { return { on: e }; }
  / K_USING _ c:IdentifierList { return { using: c }; }

RelationPrimary
  = "(" _ q:Query _ ")" a:(_ a:TableAlias { return a; })? { return h.aliased(q, a); }
  / "(" _ r:FromClause _ ")" a:(_ a:TableAlias { return a; })? { return h.aliased(r, a); }
  / v:InlineTable { return v; }
  / f:FunctionName _ "(" _ args:ExprList? _ ")" a:(_ a:TableAlias { return a; })?
    { return h.aliased(h.tableFunction(f, args ?? [], location().start.offset), a); }
  / n:MultipartName a:(_ a:TableAlias { return a; })? { return h.aliased(h.table(n), a); }

TableAlias
  = K_AS _ name:AliasName cols:(_ c:IdentifierList { return c; })? { return { name, cols }; }
  / name:Identifier cols:(_ c:IdentifierList { return c; })? { return { name, cols }; }

InlineTable
  = K_VALUES _ head:InlineRow tail:(_ "," _ r:InlineRow { return r; })* a:(_ a:TableAlias { return a; })?
    { return h.aliased(h.values([head, ...tail], location().start.offset), a); }

InlineRow
  = "(" _ e:ExprList _ ")" { return e; }
  / e:Expr { return [e]; }

// ---------------------------------------------------------------- expressions

ExprList
  = head:Expr tail:(_ "," _ e:Expr { return e; })* { return [head, ...tail]; }

Expr = OrExpr

OrExpr
  = head:AndExpr tail:(_ K_OR _ e:AndExpr { return e; })* { return h.foldLeft('or', head, tail); }

AndExpr
  = head:NotExpr tail:(_ K_AND _ e:NotExpr { return e; })* { return h.foldLeft('and', head, tail); }

NotExpr
  = (K_NOT / "!" !"=") _ e:NotExpr { return h.fn('not', [e]); }
  / K_EXISTS _ "(" _ q:Query _ ")" { return h.subquery(q, 'exists'); }
  / Predicated

Predicated
  = v:ValueExpr p:(_ p:Predicate { return p; })? { return p === null ? v : h.predicate(v, p); }

Predicate
  = n:NotKw? K_BETWEEN _ lo:ValueExpr _ K_AND _ hi:ValueExpr { return { kind: 'between', not: n, args: [lo, hi] }; }
  / n:NotKw? K_IN _ "(" _ q:Query _ ")" { return { kind: 'inQuery', not: n, query: q }; }
  / n:NotKw? K_IN _ "(" _ l:ExprList _ ")" { return { kind: 'in', not: n, args: l }; }
  / n:NotKw? (K_RLIKE / K_REGEXP) _ p:ValueExpr { return { kind: 'rlike', not: n, args: [p] }; }
  / n:NotKw? k:(K_LIKE / K_ILIKE) _ p:ValueExpr e:(_ K_ESCAPE _ s:StringLit { return h.str(s.value); })?
    { return { kind: k.toLowerCase(), not: n, args: e === null ? [p] : [p, e] }; }
  / K_IS _ n:NotKw? K_NULL { return { kind: 'null', not: n }; }
  / K_IS _ n:NotKw? v:(K_TRUE / K_FALSE / K_UNKNOWN) { return { kind: v.toLowerCase(), not: n }; }
  / K_IS _ n:NotKw? K_DISTINCT _ K_FROM _ r:ValueExpr { return { kind: 'distinctFrom', not: n, args: [r] }; }

NotKw = K_NOT _ { return true; }

ValueExpr = Comparison

Comparison
  = head:BitOr tail:(_ op:CompOp _ e:BitOr { return [op, e]; })* { return h.foldOps(head, tail); }

CompOp
  = "<=>" { return '<=>'; }
  / "==" { return '=='; }
  / "=" { return '=='; }
  / "<>" { return '!='; }
  / "!=" { return '!='; }
  / "<=" { return '<='; }
  / ">=" { return '>='; }
  / "<" !"<" { return '<'; }
  / ">" !">" { return '>'; }

BitOr
  = head:BitXor tail:(_ "|" !"|" _ e:BitXor { return ['|', e]; })* { return h.foldOps(head, tail); }

BitXor
  = head:BitAnd tail:(_ "^" _ e:BitAnd { return ['^', e]; })* { return h.foldOps(head, tail); }

BitAnd
  = head:Shift tail:(_ "&" !"&" _ e:Shift { return ['&', e]; })* { return h.foldOps(head, tail); }

Shift
  = head:Additive tail:(_ op:ShiftOp _ e:Additive { return [op, e]; })* { return h.foldOps(head, tail); }

ShiftOp
  = "<<" { return 'shiftleft'; }
  / ">>>" { return 'shiftrightunsigned'; }
  / ">>" { return 'shiftright'; }

Additive
  = head:Multiplicative tail:(_ op:AddOp _ e:Multiplicative { return [op, e]; })* { return h.foldOps(head, tail); }

AddOp
  = "+" { return '+'; }
  / "-" { return '-'; }
  / "||" { return 'concat'; }

Multiplicative
  = head:Unary tail:(_ op:MulOp _ e:Unary { return [op, e]; })* { return h.foldOps(head, tail); }

MulOp
  = "*" { return '*'; }
  / "/" { return '/'; }
  / "%" { return '%'; }
  / K_DIV { return 'div'; }

Unary
  = "-" _ n:NumberLit { return h.number(n, true, location().start.offset); }
  / "-" _ e:Unary { return h.fn('unary_minus', [e]); }
  / "+" _ e:Unary { return h.fn('positive', [e]); }
  / "~" _ e:Unary { return h.fn('~', [e]); }
  / Postfix

Postfix
  = p:Primary tail:PostfixOp* { return h.postfix(p, tail); }

PostfixOp
  = _ "[" _ e:Expr _ "]" { return e; }
  / "." f:IdentifierPart { return f; }

Primary
  = CaseExpr
  / CastExpr
  / SpecialFunction
  / Literal
  / "(" _ q:Query _ ")" { return h.subquery(q, 'scalar'); }
  / "(" _ head:Expr _ "," _ tail:ExprList _ ")" { return h.row([head, ...tail]); }
  / "(" _ e:Expr _ ")" { return e; }
  / FunctionCall
  / ColumnRef

CaseExpr
  = K_CASE _ subject:(!K_WHEN e:Expr _ { return e; })? branches:(K_WHEN _ c:Expr _ K_THEN _ v:Expr _ { return [c, v]; })+
    e:(K_ELSE _ e:Expr _ { return e; })? K_END
    { return h.caseWhen(subject, branches, e); }

CastExpr
  = k:(K_CAST / K_TRY_CAST) _ "(" _ e:Expr _ K_AS _ t:DataType _ ")"
    { return h.cast(e, t, k.toLowerCase() === 'try_cast'); }

DataType
  = t:$TypeBody { return h.dataType(t, location().start.offset); }

TypeBody
  = Word _ ("<" _ TypeArg (_ "," _ TypeArg)* _ ">" / "(" _ [0-9]+ _ ("," _ [0-9]+ _)? ")")?

TypeArg
  = IdentifierPart _ ":" _ TypeBody
  / IdentifierPart Ws TypeBody &(_ [,>])
  / TypeBody

SpecialFunction
  = K_EXTRACT _ "(" _ f:Word _ K_FROM _ e:Expr _ ")" { return h.fn('extract', [h.str(f), e]); }
  / (K_SUBSTRING / K_SUBSTR) _ "(" _ e:Expr _ K_FROM _ p:Expr l:(_ K_FOR _ l:Expr { return l; })? _ ")"
    { return h.fn('substring', l === null ? [e, p] : [e, p, l]); }
  / K_TRIM _ "(" _ w:TrimWhere? c:(!K_FROM c:Expr _ { return c; })? K_FROM _ s:Expr _ ")"
    { return h.trim(w ?? 'both', s, c); }
  / K_POSITION _ "(" _ a:ValueExpr _ K_IN _ b:ValueExpr _ ")" { return h.fn('position', [a, b]); }

TrimWhere
  = w:(K_BOTH / K_LEADING / K_TRAILING) _ { return w.toLowerCase(); }

FunctionCall
  = name:FunctionName _ "(" _ args:FunctionArgs _ ")"
    f:(_ K_FILTER _ "(" { h.refuse('FILTER (WHERE ...) on aggregate functions is not supported', location().start.offset, 'FILTER'); })?
    over:(_ K_OVER _ w:(WindowSpec / n:Identifier { return { ref: n }; }) { return w; })?
    { return h.call(name, args, over); }
  / name:NiladicFunction !(_ "(") { return h.fn(name, []); }

NiladicFunction
  = w:Word &{ return h.isNiladic(w); } { return w.toLowerCase(); }

FunctionArgs
  = "*" &(_ ")") { return { star: true, distinct: false, args: [] }; }
  / q:(q:(K_DISTINCT / K_ALL) _ { return q.toLowerCase(); })? args:FunctionArgList
    { return { star: false, distinct: q === 'distinct', args }; }
  / "" { return { star: false, distinct: false, args: [] }; }

FunctionArgList
  = head:FunctionArg tail:(_ "," _ a:FunctionArg { return a; })* { return [head, ...tail]; }

FunctionArg
  = Star
  / Expr

FunctionName
  = parts:(p:IdentifierPart "." { return p; })* last:(IdentifierPart / w:Word &{ return h.isKeywordFunction(w); } { return w; })
    { return [...parts, last]; }

WindowSpec
  = "(" _ p:((K_PARTITION / K_DISTRIBUTE) _ K_BY _ p:ExprList _ { return p; })?
    o:((K_ORDER / K_SORT) _ K_BY _ o:SortList _ { return o; })?
    f:(f:Frame _ { return f; })? ")"
    { return { partitionSpec: p ?? [], orderSpec: o ?? [], frame: f }; }

Frame
  = t:(K_ROWS / K_RANGE) _ K_BETWEEN _ lo:FrameBound _ K_AND _ hi:FrameBound
    { return h.frame(t, lo, hi, location().start.offset); }
  / t:(K_ROWS / K_RANGE) _ lo:FrameBound
    { return h.frame(t, lo, { kind: 'currentRow' }, location().start.offset); }

FrameBound
  = K_UNBOUNDED _ d:(K_PRECEDING / K_FOLLOWING) { return { kind: 'unbounded', dir: d.toLowerCase() }; }
  / K_CURRENT _ K_ROW { return { kind: 'currentRow' }; }
  / n:$([0-9]+ ("." [0-9]+)?) _ d:(K_PRECEDING / K_FOLLOWING) { return { kind: 'value', value: Number(n), dir: d.toLowerCase() }; }

ColumnRef
  = head:IdentifierPart tail:("." p:IdentifierPart { return p; })* { return h.col([head, ...tail]); }

// ---------------------------------------------------------------- literals

Literal
  = n:NumberLit { return h.number(n, false, location().start.offset); }
  / s:StringLit { return h.str(s.value); }
  / K_TRUE { return h.bool(true); }
  / K_FALSE { return h.bool(false); }
  / K_NULL { return h.nullLit(); }
  / K_DATE _ s:StringLit { return h.dateLit(s.value, location().start.offset); }
  / K_TIMESTAMP _ s:StringLit { return h.timestampLit(s.value, location().start.offset); }
  / [xX] "'" hex:$[0-9a-fA-F]* "'" { return h.binaryLit(hex, location().start.offset); }
  / IntervalLit
  / ":" name:Word { return h.param(name, location().start.offset); }
  / "?" { return h.param(undefined, location().start.offset); }

NumberLit "number"
  = body:$(([0-9]+ ("." [0-9]*)? / "." [0-9]+) ([eE] [+-]? [0-9]+)?) suffix:$("BD"i / [lLsSyYdDfF])? !IdChar
    { return { body, suffix }; }

StringLit "string"
  = head:OneString tail:(_ s:OneString { return s; })* { return { value: [head, ...tail].join('') }; }

OneString
  = [rR] "'" s:$[^']* "'" { return s; }
  / [rR] '"' s:$[^"]* '"' { return s; }
  / "'" s:$([^'\\] / "\\" .)* "'" { return h.unescape(s); }
  / '"' s:$([^"\\] / "\\" .)* '"' { return h.unescape(s); }

IntervalLit
  = K_INTERVAL _ parts:IntervalPart|1.., _| { return h.interval(parts, location().start.offset); }
  / K_INTERVAL _ s:StringLit { return h.intervalString(s.value, location().start.offset); }

IntervalPart
  = v:IntervalValue _ u:IntervalUnit { return { value: v, unit: u }; }

IntervalValue
  = s:StringLit { return s.value; }
  / sign:"-"? _ n:$([0-9]+ ("." [0-9]+)?) { return (sign ?? '') + n; }

IntervalUnit
  = u:$("YEARS"i / "YEAR"i / "MONTHS"i / "MONTH"i / "WEEKS"i / "WEEK"i / "DAYS"i / "DAY"i / "HOURS"i / "HOUR"i / "MINUTES"i / "MINUTE"i / "SECONDS"i / "SECOND"i / "MILLISECONDS"i / "MILLISECOND"i / "MICROSECONDS"i / "MICROSECOND"i) !IdChar
    { return u.toLowerCase(); }

// ---------------------------------------------------------------- names

MultipartName
  = head:IdentifierPart tail:("." p:IdentifierPart { return p; })* { return h.qname([head, ...tail]); }

IdentifierList
  = "(" _ head:Identifier tail:(_ "," _ i:Identifier { return i; })* _ ")" { return [head, ...tail]; }

Identifier = IdentifierPart

// After AS a name is expected: any word but Spark's strict non-reserved ones (JOIN, ON, UNION…).
AliasName
  = QuotedIdent
  / w:Word &{ return !h.isStrictReserved(w); } { return w; }

IdentifierPart
  = QuotedIdent
  / w:Word &{ return !h.isReserved(w); } { return w; }

QuotedIdent "quoted identifier"
  = "\x60" s:$([^\x60] / "\x60\x60")* "\x60" { return s.split("\x60\x60").join("\x60"); }

Word "identifier" = $([a-zA-Z_] [a-zA-Z0-9_]*)

IdChar = [a-zA-Z0-9_]

// ---------------------------------------------------------------- whitespace and comments

_ "whitespace" = (Ws / Comment)*

Ws = [ \t\r\n\f]+

Comment
  = "--" [^\n]*
  / BlockComment

BlockComment
  = "/*" (BlockComment / !"*/" .)* "*/"

// ---------------------------------------------------------------- keywords

` + keywordRules;
