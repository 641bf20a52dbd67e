/**
 * Bad input gives Spark's error classes with Spark 4's exact message texts (error-conditions.json,
 * `[CLASS] text SQLSTATE: xxxxx`), raised when the DataFrame is defined or `spark.sql` is called:
 * no action starts (no 'action' progress event). An error raised in a task (a DuckDB overflow)
 * keeps its class across the wire, in process and on a local cluster of 3 workers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AnalysisException,
  MicroSpark,
  ParseException,
  RemoteError,
  TaskFailedError,
} from '../../src/index.js';
import type { ProgressEvent } from '../../src/client/progress.js';

const TABLE_NOT_FOUND = (name: string): string =>
  `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${name}\` cannot be found. Verify the spelling and correctness of the schema and catalog.\n` +
  'If you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\n' +
  'To tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS. SQLSTATE: 42P01';

for (const mode of ['in-process', 'local cluster of 3'] as const) {
  describe(`SQL errors (${mode})`, () => {
    let sc: MicroSpark;
    let dir: string;
    const events: ProgressEvent[] = [];

    beforeAll(async () => {
      sc =
        mode === 'in-process'
          ? await MicroSpark.inProcess({ defaultParallelism: 2, maxTaskFailures: 2 })
          : await MicroSpark.local({ workers: 3, slotsPerWorker: 1, maxTaskFailures: 2 });
      sc.onProgress((e) => events.push(e));
      sc.session
        .createDataFrame([
          { id: 1, name: 'a', amount: 2.5 },
          { id: 2, name: 'b', amount: 3.5 },
        ])
        .createOrReplaceTempView('t');
      sc.session.createDataFrame([{ id: 1, x: 'q' }]).createOrReplaceTempView('u');
      dir = mkdtempSync(join(tmpdir(), 'microspark-errors-'));
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Runs `f`, which must throw an AnalysisException of `errorClass` with `message`, before any action. */
    async function expectRaised(
      f: () => unknown,
      errorClass: string,
      message: string,
    ): Promise<AnalysisException> {
      const before = events.length;
      let caught: unknown;
      try {
        await f();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AnalysisException);
      const err = caught as AnalysisException;
      expect(err.errorClass).toBe(errorClass);
      expect(err.getCondition()).toBe(errorClass);
      expect(err.message).toBe(message);
      expect(events.slice(before).filter((e) => e.type === 'action')).toEqual([]);
      return err;
    }

    it('PARSE_SYNTAX_ERROR names the line, the position and the token', async () => {
      const err = await expectRaised(
        () => sc.session.sql('SELECT *\nFORM t'),
        'PARSE_SYNTAX_ERROR',
        "[PARSE_SYNTAX_ERROR] Syntax error at or near 'FORM'. SQLSTATE: 42601 (line 2, pos 0)\n\n== SQL ==\nSELECT *\nFORM t\n^^^\n",
      );
      expect(err).toBeInstanceOf(ParseException);
      const p = err as ParseException;
      expect([p.line, p.column, p.token]).toEqual([2, 0, 'FORM']);
      expect(p.getSqlState()).toBe('42601');
    });

    it('UNRESOLVED_COLUMN.WITH_SUGGESTION names the closest columns (SQL and DataFrame)', async () => {
      const err = await expectRaised(
        () => sc.session.sql('SELECT nme FROM t'),
        'UNRESOLVED_COLUMN.WITH_SUGGESTION',
        '[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nme` cannot be resolved. Did you mean one of the following? [`t`.`name`, `t`.`id`, `t`.`amount`]. SQLSTATE: 42703',
      );
      expect(err.messageParameters).toEqual({
        objectName: '`nme`',
        proposal: '`t`.`name`, `t`.`id`, `t`.`amount`',
      });
      await expectRaised(
        () => sc.session.table('t').select('amout'),
        'UNRESOLVED_COLUMN.WITH_SUGGESTION',
        '[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `amout` cannot be resolved. Did you mean one of the following? [`t`.`amount`, `t`.`name`, `t`.`id`]. SQLSTATE: 42703',
      );
    });

    it('DATATYPE_MISMATCH: a non-boolean filter, a binary operator over incompatible types', async () => {
      await expectRaised(
        () => sc.session.sql('SELECT * FROM t WHERE name'),
        'DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN',
        '[DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN] Cannot resolve "name" due to data type mismatch: Filter expression "name" of type "STRING" is not a boolean. SQLSTATE: 42K09',
      );
      const err = await expectRaised(
        () => sc.session.sql('SELECT id + array(1) FROM t'),
        'DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES',
        '[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve "(id + array(1))" due to data type mismatch: the left and right operands of the binary operator have incompatible types ("BIGINT" and "ARRAY<INT>"). SQLSTATE: 42K09',
      );
      expect(err.getSqlState()).toBe('42K09');
    });

    it('PATH_NOT_FOUND at read, PATH_ALREADY_EXISTS at write, before any job', async () => {
      const missing = join(dir, 'nope');
      await expectRaised(
        () => sc.session.read.parquet(missing),
        'PATH_NOT_FOUND',
        `[PATH_NOT_FOUND] Path does not exist: file:${missing}. SQLSTATE: 42K03`,
      );
      await expectRaised(
        () => sc.session.read.csv(join(dir, 'no-*.csv')),
        'PATH_NOT_FOUND',
        `[PATH_NOT_FOUND] Path does not exist: file:${join(dir, 'no-*.csv')}. SQLSTATE: 42K03`,
      );
      await expectRaised(
        () => sc.session.table('t').write.parquet(dir),
        'PATH_ALREADY_EXISTS',
        `[PATH_ALREADY_EXISTS] Path file:${dir} already exists. Set mode as "overwrite" to overwrite the existing path. SQLSTATE: 42K04`,
      );
    });

    it('TABLE_OR_VIEW_NOT_FOUND in a query, spark.table and DROP VIEW', async () => {
      await expectRaised(
        () => sc.session.sql('SELECT * FROM nope'),
        'TABLE_OR_VIEW_NOT_FOUND',
        TABLE_NOT_FOUND('nope'),
      );
      await expectRaised(() => sc.session.table('nope'), 'TABLE_OR_VIEW_NOT_FOUND', TABLE_NOT_FOUND('nope'));
      await expectRaised(
        () => sc.session.sql('DROP VIEW nope'),
        'TABLE_OR_VIEW_NOT_FOUND',
        TABLE_NOT_FOUND('nope'),
      );
    });

    it('AMBIGUOUS_REFERENCE, MISSING_AGGREGATION', async () => {
      await expectRaised(
        () => sc.session.sql('SELECT id FROM t JOIN u ON t.id = u.id'),
        'AMBIGUOUS_REFERENCE',
        '[AMBIGUOUS_REFERENCE] Reference `id` is ambiguous, could be: [`t`.`id`, `u`.`id`]. SQLSTATE: 42704',
      );
      await expectRaised(
        () => sc.session.sql('SELECT name, sum(amount) FROM t GROUP BY id'),
        'MISSING_AGGREGATION',
        '[MISSING_AGGREGATION] The non-aggregating expression "name" is based on columns which are not participating in the GROUP BY clause.\n' +
          'Add the columns or the expression to the GROUP BY, aggregate the expression, or use "any_value(name)" if you do not care which of the values within a group is returned. SQLSTATE: 42803',
      );
    });

    it('UNRESOLVED_ROUTINE, WRONG_NUM_ARGS', async () => {
      await expectRaised(
        () => sc.session.sql('SELECT foo(id) FROM t'),
        'UNRESOLVED_ROUTINE',
        '[UNRESOLVED_ROUTINE] Cannot resolve routine `foo` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]. SQLSTATE: 42883',
      );
      await expectRaised(
        () => sc.session.sql('SELECT abs(id, 2) FROM t'),
        'WRONG_NUM_ARGS.WITHOUT_SUGGESTION',
        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `abs` requires 1 parameters but the actual number is 2. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
      );
    });

    it('NUM_COLUMNS_MISMATCH, TEMP_TABLE_OR_VIEW_ALREADY_EXISTS', async () => {
      await expectRaised(
        () => sc.session.sql('SELECT id FROM t UNION SELECT id, x FROM u'),
        'NUM_COLUMNS_MISMATCH',
        '[NUM_COLUMNS_MISMATCH] UNION can only be performed on inputs with the same number of columns, but the first input has 1 columns and the second input has 2 columns. SQLSTATE: 42826',
      );
      const exists =
        '[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view `t` because it already exists.\n' +
        'Choose a different name, drop or replace the existing view,  or add the IF NOT EXISTS clause to tolerate pre-existing views. SQLSTATE: 42P07';
      await expectRaised(
        () => sc.session.sql('CREATE TEMP VIEW t AS SELECT 1'),
        'TEMP_TABLE_OR_VIEW_ALREADY_EXISTS',
        exists,
      );
      await expectRaised(
        () => sc.session.table('u').createTempView('t'),
        'TEMP_TABLE_OR_VIEW_ALREADY_EXISTS',
        exists,
      );
    });

    it('an error raised in a task keeps its class across the wire (ARITHMETIC_OVERFLOW)', async () => {
      const df = await sc.session.sql('SELECT id * 9223372036854775807 AS big FROM t');
      const before = events.length;
      const err = await df.collect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).attempts).toBe(2);
      const cause = (err as TaskFailedError).cause;
      expect(cause).toBeInstanceOf(RemoteError);
      const remote = cause as RemoteError;
      const message =
        '[ARITHMETIC_OVERFLOW] long overflow. Use \'try_multiply\' to tolerate overflow and return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass this error. SQLSTATE: 22003';
      expect(remote.remoteName).toBe('SparkRuntimeException');
      expect(remote.message).toBe(message);
      expect(remote.remoteData).toEqual({
        errorClass: 'ARITHMETIC_OVERFLOW',
        messageParameters: {
          message: 'long overflow',
          alternative: " Use 'try_multiply' to tolerate overflow and return NULL instead.",
          config: '"spark.sql.ansi.enabled"',
        },
      });
      // The job did run: this one is raised in a task, not at definition.
      expect(events.slice(before).filter((e) => e.type === 'action').length).toBeGreaterThan(0);
    });
  });
}
