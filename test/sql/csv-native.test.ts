/**
 * A PERMISSIVE CSV read without a corrupt-record column goes through DuckDB's reader when the
 * file is plain (sources.ts `plainCsvFile`): the rows must be exactly those of the line-by-line
 * reader, and every file that is not plain must be refused (it is read line by line).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseSchema } from '../../src/sql/types.js';
import { plainCsvFile, recordsSpec, recordsView, type RecordsSpec } from '../../src/sql/sources.js';

let dir: string;
let conn: DuckDBConnection;
let n = 0;
const file = (text: string | Buffer): string => {
  const f = join(dir, `f${n++}.csv`);
  writeFileSync(f, text);
  return f;
};
const spec = (schema: string, options: Record<string, string> = { header: 'true' }): RecordsSpec =>
  recordsSpec({ format: 'csv', paths: [], options, schema: parseSchema(schema) })!;

async function rows(files: string[], s: RecordsSpec, lineByLine: boolean): Promise<unknown[][]> {
  const view = await recordsView(conn, `t${n++}`, files, s, lineByLine);
  return (await conn.runAndReadAll(view)).getRowsJS();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'microspark-csv-native-'));
  conn = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
});
afterAll(() => {
  conn?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('native CSV reads', () => {
  const s = spec('id INT, v DOUBLE, s STRING, d DATE');
  it('give the line-by-line rows for plain files: short and long lines, quoted separators, empty fields, CRLF', async () => {
    const a = file(
      'id,v,s,d\n1,1.5,a,2020-01-02\n2,x,"b,c",2020-13-01\n3,3\n4,4,d,2021-01-01,extra\n5,,,\r\n6, 6 ,"é ü",2022-02-02\n',
    );
    const b = file('id,v,s,d\n7,7e2,"",\n');
    expect(await plainCsvFile(a, s)).toBe(true);
    const lineByLine = await rows([a], s, true);
    expect(lineByLine).toHaveLength(6);
    expect(await rows([a], s, false)).toEqual(lineByLine);
    // b has a doubled quote (an empty quoted field): refused, so both ways read it line by line.
    expect(await plainCsvFile(b, s)).toBe(false);
    expect(await rows([a, b], s, false)).toEqual(await rows([a, b], s, true));
  });

  it('give the same rows without a header and with another separator', async () => {
    const t = spec('id INT, s STRING', { sep: ';' });
    const f = file('1;a\n2;"x;y"\n3\n');
    expect(await plainCsvFile(f, t)).toBe(true);
    expect(await rows([f], t, false)).toEqual([
      [1, 'a'],
      [2, 'x;y'],
      [3, null],
    ]);
    expect(await rows([f], t, true)).toEqual(await rows([f], t, false));
  });

  it.each([
    ['an empty file', ''],
    ['no last newline', 'id,v,s,d\n1,2,a,2020-01-01'],
    ['a blank line', 'id,v,s,d\n1,2,a,2020-01-01\n\n2,3,b,2020-01-01\n'],
    ['a line of spaces', 'id,v,s,d\n  \n'],
    ['a lone \\r', 'id,v,s,d\n1,2\ra,2020-01-01\n'],
    ['a doubled quote inside a quoted field', 'id,v,s,d\n1,2,"say ""hi""",2020-01-01\n'],
    ['a quote inside an unquoted field', 'id,v,s,d\n1,2,b"c,2020-01-01\n'],
    ['text after a closing quote', 'id,v,s,d\n1,2,"b"c,2020-01-01\n'],
    ['a quoted field across lines', 'id,v,s,d\n1,2,"b\nc",2020-01-01\n'],
    ['the escape character', 'id,v,s,d\n1,2,"b\\"c",2020-01-01\n'],
    ['a byte-order mark', '\ufeffid,v,s,d\n1,2,a,2020-01-01\n'],
  ])('refuse a file with %s', async (_what, text) => {
    expect(await plainCsvFile(file(text), s)).toBe(false);
  });

  it('refuse invalid UTF-8 and a line longer than the native limit', async () => {
    expect(await plainCsvFile(file(Buffer.from([0x31, 0x2c, 0xff, 0x0a])), s)).toBe(false);
    expect(await plainCsvFile(file(`1,${'x'.repeat(1024 * 1024 + 1)}\n`), s)).toBe(false);
    expect(await plainCsvFile(file(`1,${'x'.repeat(1000)}\n`), s)).toBe(true);
  });

  it('scan files larger than a chunk, with a line across the chunk boundary', async () => {
    const line = '12345,1.25,"quoted, text é",2020-01-01\n';
    const count = Math.ceil((9 * 1024 * 1024) / Buffer.byteLength(line));
    const f = file('id,v,s,d\n' + line.repeat(count));
    expect(await plainCsvFile(f, s)).toBe(true);
    const got = await conn.runAndReadAll(
      `SELECT count(*), sum(id) FROM (${await recordsView(conn, 'big', [f], s)})`,
    );
    expect(got.getRowsJS()).toEqual([[BigInt(count), BigInt(count) * 12345n]]);
  });

  it('scan a file again once it changed (the answer is kept per size and mtime)', async () => {
    const f = file('id,v,s,d\n1,2,plain,2020-01-01\n');
    expect(await rows([f], s, false)).toEqual(await rows([f], s, true));
    // Rewritten with a doubled quote, which DuckDB's reader would keep doubled: line by line now.
    writeFileSync(f, 'id,v,s,d\n1,2,"say ""hi""",2020-01-01\n');
    expect(await rows([f], s, false)).toEqual([[1, 2, 'say "hi"', expect.anything()]]);
  });

  it('are not used for other modes or with a corrupt-record column', async () => {
    const f = file('id,v,s,d\n1,x,a,2020-01-01\n');
    const withCorrupt = spec('id INT, v DOUBLE, s STRING, d DATE, _corrupt_record STRING');
    expect(await rows([f], withCorrupt, false)).toEqual([
      [1, null, 'a', expect.anything(), '1,x,a,2020-01-01'],
    ]);
    const drop = spec('id INT, v DOUBLE, s STRING, d DATE', { header: 'true', mode: 'DROPMALFORMED' });
    expect(await rows([f], drop, false)).toEqual([]);
  });
});
