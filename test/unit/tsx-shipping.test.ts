import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'microspark-tsx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('functions compiled by tsx', () => {
  it('ship with the __name helper esbuild inserts for nested named functions', () => {
    const file = join(dir, 'pipeline.mts');
    const entry = JSON.stringify(join(root, 'src/index.ts'));
    writeFileSync(
      file,
      `import { MicroSpark } from ${entry};
       interface Row { word: string; n: number }
       const sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
       const split = (line: string): string[] => {
         function words(s: string): string[] { return s.split(' '); }
         const keep = (w: string): boolean => w.length > 0;
         return words(line).filter(keep);
       };
       const out = await sc
         .parallelize(['b a', 'a c a'])
         .flatMap(split)
         .map((w: string): Row => ({ word: w, n: 1 }))
         .map((r: Row): [string, number] => [r.word, r.n])
         .reduceByKey((a: number, b: number) => a + b)
         .sortByKey()
         .collect();
       await sc.stop();
       console.log(JSON.stringify({ out, source: split.toString() }));`,
    );
    const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
    const { out, source } = JSON.parse(
      execFileSync(process.execPath, [tsx, file], { cwd: root, encoding: 'utf8' }),
    ) as {
      out: unknown;
      source: string;
    };
    expect(source).toContain('__name'); // the helper really is in the shipped source
    expect(out).toEqual([
      ['a', 3],
      ['b', 1],
      ['c', 1],
    ]);
  });
});
