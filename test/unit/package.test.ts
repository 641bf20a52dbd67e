import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the built package', () => {
  it('ships type declarations and the ESM entry point', () => {
    expect(existsSync(`${root}/dist/src/index.js`)).toBe(true);
    expect(existsSync(`${root}/dist/src/index.d.ts`)).toBe(true);
  });

  it("imports as 'microspark' and runs a job from plain Node", () => {
    const script = `
      import { MicroSpark } from 'microspark';
      const sc = await MicroSpark.inProcess({ defaultParallelism: 3 });
      const out = await sc.range(10).map((x) => [x % 3, x]).reduceByKey((a, b) => a + b).sortByKey().collect();
      await sc.stop();
      console.log(JSON.stringify(out));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual([
      [0, 18],
      [1, 12],
      [2, 15],
    ]);
  });
});
