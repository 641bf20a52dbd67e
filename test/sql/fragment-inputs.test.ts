import { describe, expect, it } from 'vitest';
import { decodeResultRows, runFragment, withInputs, type FragmentTask } from '../../src/sql/exec/fragment.js';

// A fragment's inputs are common table expressions of its one statement (no view per input),
// and the partition variable is set only where the fragment reads it.

const range = (name: string) =>
  ({ kind: 'range', name, start: 0, end: 10, step: 1, n: 2, column: 'id' }) as const;

async function rows(task: FragmentTask, partition: number): Promise<unknown[][]> {
  const out = await runFragment(task, partition, [[]]);
  expect(out).toHaveLength(1);
  return decodeResultRows(out[0]![1]);
}

describe('fragment inputs', () => {
  it('puts the inputs ahead of the statement, or first in its own WITH list', () => {
    expect(withInputs([], 'SELECT 1')).toBe('SELECT 1');
    expect(withInputs(['a AS NOT MATERIALIZED (SELECT 1)'], 'SELECT * FROM a')).toBe(
      'WITH a AS NOT MATERIALIZED (SELECT 1)\nSELECT * FROM a',
    );
    expect(
      withInputs(['a AS (SELECT 1)', 'b AS (SELECT 2)'], 'with x AS (SELECT * FROM a) SELECT * FROM x, b'),
    ).toBe('WITH a AS (SELECT 1), b AS (SELECT 2),\nx AS (SELECT * FROM a) SELECT * FROM x, b');
    expect(withInputs(['a AS (SELECT 1)'], 'WITH RECURSIVE r(n) AS (SELECT 1) SELECT * FROM r, a')).toBe(
      'WITH RECURSIVE a AS (SELECT 1),\nr(n) AS (SELECT 1) SELECT * FROM r, a',
    );
  });

  it('runs a statement reading an input twice, with its own WITH, and one reading the partition variable', async () => {
    const twice: FragmentTask = {
      sql: 'WITH big AS (SELECT id FROM in0 WHERE id >= 3) SELECT CAST(count(*) AS BIGINT) AS n, CAST(sum(a.id + b.id) AS BIGINT) AS s FROM big AS a JOIN in0 AS b ON a.id = b.id',
      inputs: [range('in0')],
      output: {
        kind: 'result',
        rows: [
          ['n', 'bigint'],
          ['s', 'bigint'],
        ],
      },
    };
    // Partition 0 of 10 rows in 2: ids 0..4; of those, 3 and 4 join themselves.
    expect(await rows(twice, 0)).toEqual([[2, 14]]);
    expect(await rows(twice, 1)).toEqual([[5, 70]]);
    const part: FragmentTask = {
      sql: "SELECT CAST(getvariable('spark_partition_id') AS INTEGER) AS p, CAST(count(*) AS BIGINT) AS n FROM in0",
      inputs: [range('in0')],
      output: {
        kind: 'result',
        rows: [
          ['p', 'int'],
          ['n', 'bigint'],
        ],
      },
    };
    expect(await rows(part, 1)).toEqual([[1, 5]]);
    expect(await rows(part, 0)).toEqual([[0, 5]]);
  });
});
