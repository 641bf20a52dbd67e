/**
 * The package as another project uses it: built (into a temporary directory, like `npm run
 * build`), linked into a CommonJS project (a package.json without "type", as `npm init -y` makes)
 * and into a TypeScript project whose tsconfig has `types: []` (TypeScript 6's default).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ms-consumers-'));
const pkg = join(tmp, 'microspark');

/** A project directory with `microspark` (the built package) in its node_modules. */
function project(name: string, packageJson: object, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(pkg, join(dir, 'node_modules', 'microspark'));
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function node(cwd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the package in other projects', () => {
  beforeAll(() => {
    mkdirSync(pkg);
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], { cwd: root }); // prettier-ignore
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const cjs = { name: 'cjs-project', version: '1.0.0', main: 'index.js' };

  it('microspark run runs a TypeScript script with top-level await in a CommonJS project', () => {
    const dir = project('cjs-run', cjs, {
      'job.ts': `import type { MicroSpark } from 'microspark';
declare const sc: MicroSpark;
const n: number = await sc.parallelize([1, 2, 3]).map((x) => x * 2).sum();
console.log(n);
`,
    });
    const r = node(dir, [join(pkg, 'dist/bin/microspark.js'), 'run', 'job.ts', '--local', '1']);
    expect([r.code, r.stdout]).toEqual([0, '12\n']);
    expect(r.stderr).toMatch(/^stage 0 sum at job\.ts:3: 2 tasks completed in [\d.]+ s$/m);
  });

  it('imports from tsx and requires from CommonJS in a CommonJS project', () => {
    const dir = project('cjs-import', cjs, {
      'main.ts': `import { MicroSpark } from 'microspark';
async function main(): Promise<void> {
  const sc = await MicroSpark.inProcess();
  console.log(await sc.range(5).sum());
  await sc.stop();
}
void main();
`,
      'plain.js': `const { MicroSpark } = require('microspark');
MicroSpark.inProcess().then(async (sc) => { console.log(await sc.range(4).sum()); await sc.stop(); });
`,
    });
    const viaTsx = node(dir, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'main.ts']);
    expect([viaTsx.code, viaTsx.stdout, viaTsx.stderr]).toEqual([0, '10\n', '']);
    const viaRequire = node(dir, ['plain.js']);
    expect([viaRequire.code, viaRequire.stdout, viaRequire.stderr]).toEqual([0, '6\n', '']);
  });

  it('its types compile in a project with types: [] (no @types picked up by themselves)', () => {
    const dir = project(
      'ts-types',
      { name: 'ts-types', version: '1.0.0', type: 'module' },
      {
        'tsconfig.json': JSON.stringify({
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [], lib: ['ES2023'] }, // prettier-ignore
          files: ['main.ts'],
        }),
        'main.ts': `import { MicroSpark } from 'microspark';
const sc = await MicroSpark.inProcess();
const n: number = await sc.range(5).sum();
const pairs: Array<[string, number]> = await sc.parallelize(['a', 'b']).map((w) => [w, 1] as [string, number]).collect();
await sc.stop();
export { n, pairs };
`,
      },
    );
    const r = node(dir, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect([r.code, r.stdout]).toEqual([0, '']);
  });
});
