/**
 * The TPC-H generator at sf 0.01: deterministic bytes, the specification's row counts, consistent
 * keys, the same data in Parquet and CSV, and a non-empty answer to each of the 22 queries.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TpchOptionsError, ensureTpch, generateTpch, type TpchOutput } from '../../bench/tpch/generate.js';
import { tpchQueries } from '../../bench/tpch/queries.js';
import { compareAnswers, runReference, type Answer } from '../../bench/tpch/reference.js';
import { TPCH_TABLES } from '../../bench/tpch/schema.js';

const SF = 0.01;
/** Answer row counts of q1 … q22 at sf 0.01 (the generator is deterministic). */
const EXPECTED_ROWS: Record<string, number> = {
  q1: 4,
  q2: 6,
  q3: 10,
  q4: 5,
  q5: 5,
  q6: 1,
  q7: 4,
  q8: 2,
  q9: 175,
  q10: 20,
  q11: 298,
  q12: 2,
  q13: 26,
  q14: 1,
  q15: 1,
  q16: 276,
  q17: 1,
  q18: 1,
  q19: 1,
  q20: 3,
  q21: 4,
  q22: 7,
};

const root = mkdtempSync(join(tmpdir(), 'tpch-gen-'));
const dirA = join(root, 'a-parquet');
const dirB = join(root, 'b-parquet');
const dirCsv = join(root, 'c-csv');
let outA: TpchOutput;
let outB: TpchOutput;
let outCsv: TpchOutput;

/** Every file under `dir` (relative path → bytes). */
function tree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

const one = async (dir: string, sql: string): Promise<unknown> => (await runReference(dir, sql)).rows[0]?.[0];

beforeAll(async () => {
  // Run A with one thread, run B with two: the bytes must not depend on it.
  [outA, outB, outCsv] = await Promise.all([
    generateTpch({ sf: SF, format: 'parquet', outDir: dirA, threads: 1 }),
    generateTpch({ sf: SF, format: 'parquet', outDir: dirB, threads: 2 }),
    generateTpch({ sf: SF, format: 'csv', outDir: dirCsv }),
  ]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('TPC-H generator', () => {
  it('writes byte-identical files on two runs', () => {
    const a = tree(dirA);
    const b = tree(dirB);
    expect([...a.keys()]).toEqual([...b.keys()]);
    expect(a.size).toBe(TPCH_TABLES.length + 2 * 3 + 1); // one file per table, +3 parts each for orders and lineitem, marker
    for (const [path, bytes] of a) expect(bytes.equals(b.get(path)!), path).toBe(true);
    expect(outB).toEqual({
      tables: Object.fromEntries(
        Object.entries(outA.tables).map(([t, v]) => [
          t,
          { ...v, files: v.files.map((f) => f.replace(dirA, dirB)) },
        ]),
      ),
    });
  });

  it('writes byte-identical CSV on a second run, the same rows with another part count', async () => {
    const again = join(root, 'd-csv');
    const split3 = join(root, 'e-csv');
    await generateTpch({ sf: SF, format: 'csv', outDir: again });
    await generateTpch({ sf: SF, format: 'csv', outDir: split3, parts: 3 });
    const a = tree(dirCsv);
    const b = tree(again);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [path, bytes] of a) expect(bytes.equals(b.get(path)!), path).toBe(true);
    // parts: 3 splits the two large tables into 3 files instead of 4; the rows are the same.
    const c = tree(split3);
    expect([...c.keys()].filter((p) => p.startsWith('lineitem/'))).toHaveLength(3);
    const rows = (files: Map<string, Buffer>, table: string) =>
      [...files]
        .filter(([p]) => p.startsWith(`${table}/`))
        .flatMap(([, bytes]) => bytes.toString('utf8').trimEnd().split('\n').slice(1));
    for (const table of TPCH_TABLES) expect(rows(c, table), table).toEqual(rows(a, table));
  });

  it('writes CSV with a header line, comma separators and quoted fields that hold commas', () => {
    const customer = tree(dirCsv).get('customer/part-00000.csv')!.toString('utf8').split('\n');
    expect(customer[0]).toBe(
      'c_custkey,c_name,c_address,c_nationkey,c_phone,c_acctbal,c_mktsegment,c_comment',
    );
    expect(customer[1]!.split(',').slice(0, 2)).toEqual(['1', '"Customer#000000001"']);
    expect(customer.some((line) => /,"[^"]*,[^"]*"$/.test(line))).toBe(true);
    expect(outCsv.tables.customer.rows).toBe(1500);
  });

  it("matches the specification's row counts", () => {
    const rows = Object.fromEntries(TPCH_TABLES.map((t) => [t, outA.tables[t].rows]));
    expect(rows).toEqual({
      region: 5,
      nation: 25,
      supplier: 100,
      customer: 1500,
      part: 2000,
      partsupp: 8000,
      orders: 15000,
      lineitem: 60126,
    });
    expect(outA.tables.lineitem.files.map((f) => relative(dirA, f))).toEqual([
      'lineitem/part-00000.parquet',
      'lineitem/part-00001.parquet',
      'lineitem/part-00002.parquet',
      'lineitem/part-00003.parquet',
    ]);
    expect(outA.tables.part.files).toHaveLength(1);
  });

  it('has 1 to 7 lines per order and consistent keys', async () => {
    const perOrder = await runReference(
      dirA,
      `SELECT min(n), max(n), count(*) FROM (SELECT o_orderkey, count(l_orderkey) AS n
       FROM orders LEFT JOIN lineitem ON l_orderkey = o_orderkey GROUP BY o_orderkey)`,
    );
    expect(perOrder.rows).toEqual([[1, 7, 15000]]);
    expect(await one(dirA, 'SELECT count(*) FROM lineitem ANTI JOIN orders ON l_orderkey = o_orderkey')).toBe(
      0,
    );
    expect(
      await one(
        dirA,
        'SELECT count(*) FROM lineitem ANTI JOIN partsupp ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey',
      ),
    ).toBe(0);
    expect(await one(dirA, 'SELECT count(DISTINCT (ps_partkey, ps_suppkey)) FROM partsupp')).toBe(8000);
    expect(await one(dirA, 'SELECT count(*) FROM orders ANTI JOIN customer ON o_custkey = c_custkey')).toBe(
      0,
    );
    expect(await one(dirA, 'SELECT count(*) FROM orders WHERE o_custkey % 3 = 0')).toBe(0);
    expect(
      await one(dirA, 'SELECT count(*) FROM supplier ANTI JOIN nation ON s_nationkey = n_nationkey'),
    ).toBe(0);
    // Balanced supplier nations: 100 suppliers, 4 in each of the 25 nations.
    const perNation = 'SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM supplier GROUP BY s_nationkey)';
    expect((await runReference(dirA, perNation)).rows).toEqual([[4, 4]]);
    // P_NAME: five distinct colour words; the drawn columns in their ranges.
    expect(
      await one(dirA, "SELECT count(*) FROM part WHERE len(list_distinct(string_split(p_name, ' '))) = 5"),
    ).toBe(2000);
    const ranges = await runReference(
      dirA,
      `SELECT min(l_quantity), max(l_quantity), min(l_discount), max(l_discount), min(l_tax), max(l_tax),
         min(o_orderdate), max(o_orderdate), count(*) FILTER (WHERE l_shipdate <= o_orderdate)
       FROM lineitem JOIN orders ON l_orderkey = o_orderkey`,
    );
    expect(ranges.rows).toEqual([[1, 50, 0, 0.1, 0, 0.08, '1992-01-01', '1998-08-02', 0]]);
    expect(
      await one(dirA, "SELECT count(*) FROM supplier WHERE s_comment LIKE '%Customer%Complaints%'"),
    ).toBe(1);
    expect(
      await one(
        dirA,
        'SELECT count(*) FROM customer WHERE substring(c_phone, 1, 2) <> CAST(c_nationkey + 10 AS VARCHAR)',
      ),
    ).toBe(0);
    const status = await runReference(
      dirA,
      `SELECT count(*) FROM orders JOIN (SELECT l_orderkey, bool_and(l_linestatus = 'F') AS f, bool_and(l_linestatus = 'O') AS o
       FROM lineitem GROUP BY l_orderkey) ON l_orderkey = o_orderkey
       WHERE o_orderstatus <> CASE WHEN f THEN 'F' WHEN o THEN 'O' ELSE 'P' END`,
    );
    expect(status.rows).toEqual([[0]]);
  });

  it('answers all 22 queries non-empty, the same from Parquet and CSV', async () => {
    const counts: Record<string, number> = {};
    for (const q of tpchQueries()) {
      const parquet = await runReference(dirA, q.sql);
      const csv = await runReference(dirCsv, q.sql);
      counts[q.name] = parquet.rows.length;
      expect(compareAnswers(parquet, csv, { ordered: q.ordered }), q.name).toEqual([]);
    }
    expect(counts).toEqual(EXPECTED_ROWS);
  });

  it('reuses a complete cached output and rejects bad options', async () => {
    const dir = join(root, 'cache');
    const first = await ensureTpch({ sf: SF, format: 'parquet', outDir: dir });
    const mtime = statSync(first.tables.lineitem.files[0]!).mtimeMs;
    const second = await ensureTpch({ sf: SF, format: 'parquet', outDir: dir });
    expect(second).toEqual(first);
    expect(statSync(second.tables.lineitem.files[0]!).mtimeMs).toBe(mtime);
    expect(
      tree(dir).get('lineitem/part-00002.parquet')!.equals(tree(dirA).get('lineitem/part-00002.parquet')!),
    ).toBe(true);
    await expect(generateTpch({ sf: 0, format: 'csv', outDir: dir })).rejects.toBeInstanceOf(
      TpchOptionsError,
    );
  });
});

describe('compareAnswers', () => {
  const answer = (rows: unknown[][]): Answer => ({ columns: ['k', 'v'], rows });

  it('accepts equal answers, numbers within the relative tolerance and permuted unordered rows', () => {
    expect(
      compareAnswers(answer([['a', 1e6]]), answer([['a', 1e6 * (1 + 1e-12)]]), { ordered: true }),
    ).toEqual([]);
    expect(
      compareAnswers(
        answer([
          ['a', 1],
          ['b', 2n],
        ]),
        answer([
          ['b', 2],
          ['a', 1],
        ]),
        { ordered: false },
      ),
    ).toEqual([]);
    expect(
      compareAnswers(answer([['d', '1995-03-15']]), answer([['d', new Date('1995-03-15T00:00:00Z')]]), {
        ordered: true,
      }),
    ).toEqual([]);
  });

  it('lists row, value, order and column differences', () => {
    expect(compareAnswers(answer([['a', 1]]), answer([['a', 1.001]]), { ordered: true })).toEqual([
      'row 0, column v: expected 1, got 1.001',
    ]);
    expect(
      compareAnswers(
        answer([
          ['a', 1],
          ['b', 2],
        ]),
        answer([
          ['b', 2],
          ['a', 1],
        ]),
        { ordered: true },
      ),
    ).toHaveLength(4);
    expect(
      compareAnswers(
        answer([
          ['a', 1],
          ['a', 1],
        ]),
        answer([['a', 1]]),
        { ordered: false },
      ),
    ).toEqual(['row count: expected 2, got 1']);
    expect(compareAnswers(answer([]), { columns: ['k', 'w'], rows: [] }, { ordered: true })).toEqual([
      'columns: expected [k, v], got [k, w]',
    ]);
    expect(compareAnswers(answer([[null, 'x']]), answer([[0, 'x']]), { ordered: true })).toEqual([
      'row 0, column k: expected null, got 0',
    ]);
  });
});
