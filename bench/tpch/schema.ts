/**
 * The TPC-H schema (clause 1.4): the eight tables with their columns in the specification's order
 * and the SQL types the generator writes (identifiers INTEGER, money and quantities DECIMAL(15,2),
 * dates DATE, text VARCHAR).
 */

/** The eight TPC-H table names, small tables first. */
export const TPCH_TABLES = [
  'region',
  'nation',
  'supplier',
  'customer',
  'part',
  'partsupp',
  'orders',
  'lineitem',
] as const;

/** One of the eight TPC-H table names. */
export type TpchTable = (typeof TPCH_TABLES)[number];

const K = 'INTEGER';
const M = 'DECIMAL(15,2)';
const T = 'VARCHAR';
const D = 'DATE';

/** Each table's columns as [name, DuckDB type], in the specification's order. */
export const TPCH_SCHEMA: Record<TpchTable, ReadonlyArray<readonly [string, string]>> = {
  region: [
    ['r_regionkey', K],
    ['r_name', T],
    ['r_comment', T],
  ],
  nation: [
    ['n_nationkey', K],
    ['n_name', T],
    ['n_regionkey', K],
    ['n_comment', T],
  ],
  supplier: [
    ['s_suppkey', K],
    ['s_name', T],
    ['s_address', T],
    ['s_nationkey', K],
    ['s_phone', T],
    ['s_acctbal', M],
    ['s_comment', T],
  ],
  customer: [
    ['c_custkey', K],
    ['c_name', T],
    ['c_address', T],
    ['c_nationkey', K],
    ['c_phone', T],
    ['c_acctbal', M],
    ['c_mktsegment', T],
    ['c_comment', T],
  ],
  part: [
    ['p_partkey', K],
    ['p_name', T],
    ['p_mfgr', T],
    ['p_brand', T],
    ['p_type', T],
    ['p_size', K],
    ['p_container', T],
    ['p_retailprice', M],
    ['p_comment', T],
  ],
  partsupp: [
    ['ps_partkey', K],
    ['ps_suppkey', K],
    ['ps_availqty', K],
    ['ps_supplycost', M],
    ['ps_comment', T],
  ],
  orders: [
    ['o_orderkey', K],
    ['o_custkey', K],
    ['o_orderstatus', T],
    ['o_totalprice', M],
    ['o_orderdate', D],
    ['o_orderpriority', T],
    ['o_clerk', T],
    ['o_shippriority', K],
    ['o_comment', T],
  ],
  lineitem: [
    ['l_orderkey', K],
    ['l_partkey', K],
    ['l_suppkey', K],
    ['l_linenumber', K],
    ['l_quantity', M],
    ['l_extendedprice', M],
    ['l_discount', M],
    ['l_tax', M],
    ['l_returnflag', T],
    ['l_linestatus', T],
    ['l_shipdate', D],
    ['l_commitdate', D],
    ['l_receiptdate', D],
    ['l_shipinstruct', T],
    ['l_shipmode', T],
    ['l_comment', T],
  ],
};

/** The SQL that reads one table's part files of `dir` (`dir/<table>/*.<format>`) with its schema. */
export function tableScanSql(dir: string, table: TpchTable, format: 'parquet' | 'csv'): string {
  const glob = sqlString(`${dir.replace(/\/+$/, '')}/${table}/*.${format}`);
  if (format === 'parquet') return `SELECT * FROM read_parquet(${glob})`;
  const columns = TPCH_SCHEMA[table]
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
    .join(', ');
  return `SELECT * FROM read_csv(${glob}, header = true, delim = ',', quote = '"', escape = '"', columns = {${columns}})`;
}

/** A SQL string literal of `s` (single quotes doubled). */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
