/**
 * Malformed CSV and JSON records follow `mode` as in Spark: PERMISSIVE (the default: nulls where a
 * value does not parse, the raw line in `_corrupt_record` when the schema has it), DROPMALFORMED
 * (dropped), FAILFAST (the action fails with `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION]`,
 * whose class survives the wire). In process and on a local cluster of 3 workers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroSpark, RemoteError, TaskFailedError } from '../../src/index.js';

// Row 2: a non-number in an int column; row 3: too few fields; row 4: too many; row 5: a quoted
// doubled quote that is not a number; the blank line is skipped.
const CSV = 'id,v,s\n1,10,a\n2,x,b\n3,30\n4,40,d,extra\n\n5,"5""0",e\n6,60,"f,g"\n';
// Line 2 is broken JSON; line 3 has a string where the schema has a bigint.
const JSON_LINES = '{"id":1,"s":"a"}\n{"id":2,"s":\n{"id":"3","s":"c"}\n{"id":4,"s":"d"}\n';

const failFast = (record: string): string =>
  `[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: ${record}.\n` +
  "Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. SQLSTATE: 22023";

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`malformed records by mode (${mode})`, () => {
    let sc: MicroSpark;
    let dir: string;
    let csv: string;
    let json: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'microspark-modes-'));
      csv = join(dir, 'a.csv');
      json = join(dir, 'a.json');
      writeFileSync(csv, CSV);
      writeFileSync(json, JSON_LINES);
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 2, maxTaskFailures: 2 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1, maxTaskFailures: 2 });
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const withCorrupt = 'id INT, v INT, s STRING, _corrupt_record STRING';

    it('CSV, PERMISSIVE (the default): nulls where a value does not parse, the raw line in _corrupt_record', async () => {
      const df = await sc.session.read.csv(csv, { header: true, schema: withCorrupt });
      expect(await df.collect()).toEqual([
        { id: 1, v: 10, s: 'a', _corrupt_record: null },
        { id: 2, v: null, s: 'b', _corrupt_record: '2,x,b' },
        { id: 3, v: 30, s: null, _corrupt_record: '3,30' },
        { id: 4, v: 40, s: 'd', _corrupt_record: '4,40,d,extra' },
        { id: 5, v: null, s: 'e', _corrupt_record: '5,"5""0",e' },
        { id: 6, v: 60, s: 'f,g', _corrupt_record: null },
      ]);
      const plain = await sc.session.read.csv(csv, {
        header: true,
        schema: 'id INT, v INT, s STRING',
        mode: 'PERMISSIVE',
      });
      expect(await plain.collect()).toEqual([
        { id: 1, v: 10, s: 'a' },
        { id: 2, v: null, s: 'b' },
        { id: 3, v: 30, s: null },
        { id: 4, v: 40, s: 'd' },
        { id: 5, v: null, s: 'e' },
        { id: 6, v: 60, s: 'f,g' },
      ]);
      // columnNameOfCorruptRecord names another column.
      const named = await sc.session.read.csv(csv, {
        header: true,
        schema: 'id INT, v INT, s STRING, bad STRING',
        columnNameOfCorruptRecord: 'bad',
      });
      expect((await named.where('bad IS NOT NULL').collect()).map((r) => r.bad)).toEqual([
        '2,x,b',
        '3,30',
        '4,40,d,extra',
        '5,"5""0",e',
      ]);
    });

    it('CSV without a schema: the header names the columns, extra fields are cut', async () => {
      const df = await sc.session.read.csv(csv, { header: true });
      expect(df.columns).toEqual(['id', 'v', 's']);
      expect((await df.collect()).map((r) => [r.id, r.v, r.s])).toEqual([
        ['1', '10', 'a'],
        ['2', 'x', 'b'],
        ['3', '30', null],
        ['4', '40', 'd'],
        ['5', '5"0', 'e'],
        ['6', '60', 'f,g'],
      ]);
    });

    it('CSV, DROPMALFORMED: malformed rows are dropped', async () => {
      const df = await sc.session.read.csv(csv, { header: true, schema: withCorrupt, mode: 'DROPMALFORMED' });
      expect(await df.collect()).toEqual([
        { id: 1, v: 10, s: 'a', _corrupt_record: null },
        { id: 6, v: 60, s: 'f,g', _corrupt_record: null },
      ]);
    });

    it('CSV, FAILFAST: the action fails with MALFORMED_RECORD_IN_PARSING, its class kept across the wire', async () => {
      const df = await sc.session.read.csv(csv, {
        header: true,
        schema: 'id INT, v INT, s STRING',
        mode: 'FAILFAST',
      });
      const err = await df.collect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      const remote = (err as TaskFailedError).cause as RemoteError;
      expect(remote).toBeInstanceOf(RemoteError);
      expect(remote.remoteName).toBe('SparkRuntimeException');
      expect(remote.message).toBe(failFast('[2,null,b]'));
      expect(remote.remoteData).toEqual({
        errorClass: 'MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION',
        messageParameters: { badRecord: '[2,null,b]', failFastMode: 'FAILFAST' },
      });
    });

    it('JSON lines, all three modes, with a schema', async () => {
      const schema = 'id BIGINT, s STRING, _corrupt_record STRING';
      const permissive = await sc.session.read.json(json, { schema });
      expect(await permissive.collect()).toEqual([
        { id: 1, s: 'a', _corrupt_record: null },
        { id: null, s: null, _corrupt_record: '{"id":2,"s":' },
        { id: null, s: 'c', _corrupt_record: '{"id":"3","s":"c"}' },
        { id: 4, s: 'd', _corrupt_record: null },
      ]);
      const dropped = await sc.session.read.json(json, { schema, mode: 'DROPMALFORMED' });
      expect(await dropped.collect()).toEqual([
        { id: 1, s: 'a', _corrupt_record: null },
        { id: 4, s: 'd', _corrupt_record: null },
      ]);
      const strict = await sc.session.read.json(json, { schema: 'id BIGINT, s STRING', mode: 'FAILFAST' });
      const err = await strict.collect().then(
        () => undefined,
        (e: unknown) => e,
      );
      const remote = (err as TaskFailedError).cause as RemoteError;
      expect(remote.remoteName).toBe('SparkRuntimeException');
      expect(remote.message).toBe(failFast('[null,null]'));
    });

    it('JSON lines without a schema: inferred as Spark does, a broken line adds _corrupt_record', async () => {
      const df = await sc.session.read.json(json);
      expect(df.dtypes).toEqual([
        ['_corrupt_record', 'string'],
        ['id', 'string'],
        ['s', 'string'],
      ]);
      expect(await df.collect()).toEqual([
        { _corrupt_record: null, id: '1', s: 'a' },
        { _corrupt_record: '{"id":2,"s":', id: null, s: null },
        { _corrupt_record: null, id: '3', s: 'c' },
        { _corrupt_record: null, id: '4', s: 'd' },
      ]);
    });
  });
}
