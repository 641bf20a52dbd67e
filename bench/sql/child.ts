/**
 * The reference side of the SQL benchmarks, run as a child process (one per measurement, so its
 * peak memory is its own): DuckDB on the TPC-H files, nodejs-polars' lazy API, or arquero.
 *
 *   node bench/data/sql-child/sql/child.js SPEC.json
 *
 * SPEC is a {@link ChildSpec}; the last line of stdout is a {@link ChildReport} as JSON.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { normalizeValue } from '../tpch/reference.js';
import { TPCH_TABLES, tableScanSql } from '../tpch/schema.js';

/** What a child runs: an engine, the TPC-H directory, the queries and the number of runs. */
export interface ChildSpec {
  engine: 'duckdb' | 'polars' | 'arquero';
  /** A TPC-H directory (`<dir>/<table>/part-*.<format>`). */
  dir: string;
  format: 'parquet' | 'csv';
  /** The queries: DuckDB runs `sql`; Polars and arquero know q1 and q6 by name (Parquet only). */
  queries: Array<{ name: string; sql: string }>;
  runs: number;
  /** DuckDB threads (default 2). */
  threads?: number;
}

/** One query's measurements: seconds of each run and the answer of the last one. */
export interface ChildQuery {
  name: string;
  seconds: number[];
  /** For arquero: seconds of each run spent loading the columns (included in `seconds`). */
  loadSeconds?: number[];
  columns: string[];
  rows: unknown[][];
}

/** What a child prints last: its queries and its peak RSS over its life. */
export interface ChildReport {
  queries: ChildQuery[];
  maxRssBytes: number;
}

async function duckdb(spec: ChildSpec): Promise<ChildQuery[]> {
  const root = resolve(spec.dir);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(spec.threads ?? 2),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const out: ChildQuery[] = [];
  try {
    const conn = await instance.connect();
    for (const table of TPCH_TABLES)
      await conn.run(`CREATE VIEW ${table} AS ${tableScanSql(root, table, spec.format)}`);
    for (const q of spec.queries) {
      const seconds: number[] = [];
      let columns: string[] = [];
      let rows: unknown[][] = [];
      for (let r = 0; r < spec.runs; r++) {
        const t0 = performance.now();
        const reader = await conn.runAndReadAll(q.sql);
        const got = reader.getRows();
        seconds.push((performance.now() - t0) / 1000);
        columns = reader.columnNames();
        rows = got.map((row) => row.map(normalizeValue));
      }
      out.push({ name: q.name, seconds, columns, rows });
    }
    conn.closeSync();
  } finally {
    instance.closeSync();
  }
  return out;
}

async function polars(spec: ChildSpec): Promise<ChildQuery[]> {
  const { default: pl } = await import('nodejs-polars');
  const files = join(resolve(spec.dir), 'lineitem', `*.${spec.format}`);
  const scan = () => pl.scanParquet(files);
  const f64 = (name: string) => pl.col(name).cast(pl.Float64);
  const queries = {
    q1: () => {
      const price = f64('l_extendedprice');
      const disc = f64('l_discount');
      return scan()
        .filter(pl.col('l_shipdate').lessThanEquals(pl.lit(new Date('1998-09-02T00:00:00Z'))))
        .groupBy(['l_returnflag', 'l_linestatus'])
        .agg(
          f64('l_quantity').sum().alias('sum_qty'),
          price.sum().alias('sum_base_price'),
          price.mul(pl.lit(1).sub(disc)).sum().alias('sum_disc_price'),
          price
            .mul(pl.lit(1).sub(disc))
            .mul(pl.lit(1).add(f64('l_tax')))
            .sum()
            .alias('sum_charge'),
          f64('l_quantity').mean().alias('avg_qty'),
          price.mean().alias('avg_price'),
          disc.mean().alias('avg_disc'),
          pl.len().alias('count_order'),
        )
        .sort(['l_returnflag', 'l_linestatus']);
    },
    q6: () =>
      scan()
        .filter(
          pl
            .col('l_shipdate')
            .greaterThanEquals(pl.lit(new Date('1994-01-01T00:00:00Z')))
            .and(pl.col('l_shipdate').lessThan(pl.lit(new Date('1995-01-01T00:00:00Z'))))
            .and(f64('l_discount').greaterThanEquals(0.05 - 1e-9))
            .and(f64('l_discount').lessThanEquals(0.07 + 1e-9))
            .and(f64('l_quantity').lessThan(24)),
        )
        .select(f64('l_extendedprice').mul(f64('l_discount')).sum().alias('revenue')),
  };
  const out: ChildQuery[] = [];
  for (const q of spec.queries) {
    const build = queries[q.name as keyof typeof queries];
    const seconds: number[] = [];
    let rows: unknown[][] = [];
    let columns: string[] = [];
    for (let r = 0; r < spec.runs; r++) {
      const t0 = performance.now();
      const df = await build().collect();
      seconds.push((performance.now() - t0) / 1000);
      columns = df.columns;
      rows = df.rows() as unknown[][];
    }
    out.push({ name: q.name, seconds, columns, rows });
  }
  return out;
}

/**
 * arquero reads neither Parquet nor (fast) CSV: each run loads the columns it needs with
 * nodejs-polars (Parquet → Arrow IPC, in process) and hands them to `aq.fromArrow`; the loading
 * is included in its time and reported apart as `loadSeconds`.
 */
async function arquero(spec: ChildSpec): Promise<ChildQuery[]> {
  const { default: pl } = await import('nodejs-polars');
  const aq = await import('arquero');
  const files = join(resolve(spec.dir), 'lineitem', `*.${spec.format}`);
  const load = (columns: string[]) => {
    return pl
      .scanParquet(files)
      .select(...columns.map((c) => pl.col(c)))
      .collectSync()
      .writeIPC();
  };
  const day = (s: string) => Date.parse(`${s}T00:00:00Z`);
  const queries = {
    q1: {
      columns: [
        'l_returnflag',
        'l_linestatus',
        'l_quantity',
        'l_extendedprice',
        'l_discount',
        'l_tax',
        'l_shipdate',
      ],
      run: (t: ReturnType<typeof aq.fromArrow>) =>
        t
          .params({ cutoff: day('1998-09-02') })
          .filter((d: Record<string, number>, p: Record<string, number>) => +d.l_shipdate! <= p.cutoff!)
          .derive({
            disc_price: (d: Record<string, number>) => d.l_extendedprice! * (1 - d.l_discount!),
            charge: (d: Record<string, number>) => d.l_extendedprice! * (1 - d.l_discount!) * (1 + d.l_tax!),
          })
          .groupby('l_returnflag', 'l_linestatus')
          .rollup({
            sum_qty: aq.op.sum('l_quantity'),
            sum_base_price: aq.op.sum('l_extendedprice'),
            sum_disc_price: aq.op.sum('disc_price'),
            sum_charge: aq.op.sum('charge'),
            avg_qty: aq.op.mean('l_quantity'),
            avg_price: aq.op.mean('l_extendedprice'),
            avg_disc: aq.op.mean('l_discount'),
            count_order: aq.op.count(),
          })
          .orderby('l_returnflag', 'l_linestatus'),
    },
    q6: {
      columns: ['l_extendedprice', 'l_discount', 'l_quantity', 'l_shipdate'],
      run: (t: ReturnType<typeof aq.fromArrow>) =>
        t
          .params({ lo: day('1994-01-01'), hi: day('1995-01-01') })
          .filter(
            (d: Record<string, number>, p: Record<string, number>) =>
              +d.l_shipdate! >= p.lo! &&
              +d.l_shipdate! < p.hi! &&
              d.l_discount! >= 0.05 - 1e-9 &&
              d.l_discount! <= 0.07 + 1e-9 &&
              d.l_quantity! < 24,
          )
          .rollup({ revenue: (d: Record<string, number>) => aq.op.sum(d.l_extendedprice! * d.l_discount!) }),
    },
  };
  const out: ChildQuery[] = [];
  for (const q of spec.queries) {
    const query = queries[q.name as keyof typeof queries];
    const seconds: number[] = [];
    const loadSeconds: number[] = [];
    let rows: unknown[][] = [];
    let columns: string[] = [];
    for (let r = 0; r < spec.runs; r++) {
      const t0 = performance.now();
      const table = aq.fromArrow(load(query.columns));
      loadSeconds.push((performance.now() - t0) / 1000);
      const result = query.run(table);
      const objects = result.objects() as Array<Record<string, unknown>>;
      seconds.push((performance.now() - t0) / 1000);
      columns = result.columnNames();
      rows = objects.map((o) => columns.map((c) => o[c]));
    }
    out.push({ name: q.name, seconds, loadSeconds, columns, rows });
  }
  return out;
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildSpec;
  const queries =
    spec.engine === 'duckdb'
      ? await duckdb(spec)
      : spec.engine === 'polars'
        ? await polars(spec)
        : await arquero(spec);
  const report: ChildReport = { queries, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  const json = JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  process.stdout.write(`${json}\n`);
}

await main();
