/**
 * Shared harness of the PySpark documentation-example tests: one in-process context and one local
 * cluster of 3 workers per file, running the same assertions; helpers that capture what `show`
 * and `printSchema` print.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { MicroSpark } from '../../src/index.js';
import { DataFrame } from '../../src/dataframe/dataframe.js';
import type { SparkSession } from '../../src/sql/session.js';

/** The two ways every example runs. */
export const MODES = ['in-process', 'local cluster of 3'] as const;

/** Declares `body` once per mode, with the session of a context started in beforeAll. */
export function forEachMode(name: string, body: (spark: () => SparkSession) => void): void {
  for (const mode of MODES) {
    describe(`${name} (${mode})`, () => {
      let sc: MicroSpark | undefined;
      beforeAll(async () => {
        sc =
          mode === 'in-process'
            ? await MicroSpark.inProcess({ defaultParallelism: 3 })
            : await MicroSpark.local({ workers: 3, slotsPerWorker: 1 });
      }, 60_000);
      afterAll(async () => {
        await sc?.stop();
      });
      body(() => sc!.session);
    });
  }
}

function capturing(df: DataFrame): { df: DataFrame; text: () => string } {
  let text = '';
  return { df: new DataFrame(df.engine, df._plan, { out: (t) => (text += t) }), text: () => text };
}

/** What `df.show(...args)` prints, as lines (the trailing empty line dropped). */
export async function showLines(df: DataFrame, ...args: Parameters<DataFrame['show']>): Promise<string[]> {
  const c = capturing(df);
  await c.df.show(...args);
  const lines = c.text().split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** What `df.printSchema(level)` prints, as lines. */
export function schemaLines(df: DataFrame, level?: number): string[] {
  const c = capturing(df);
  c.df.printSchema(level);
  return c
    .text()
    .split('\n')
    .filter((l) => l !== '');
}

/** What `df.explain(mode)` prints. */
export function explainText(df: DataFrame, mode?: boolean | string): string {
  const c = capturing(df);
  c.df.explain(mode);
  return c.text();
}

/** A show() table from its lines, for readable expectations. */
export const table = (...lines: string[]): string[] => lines;
