/**
 * The engine as users run it, for the benchmarks: compiled JavaScript (workers then start from .js
 * files, without a TypeScript loader), a private build under bench/data/dist rebuilt when src/ or
 * bin/ changed; or the TypeScript sources through tsx.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Newest modification time of the .ts files under `dir`. */
function newestTs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Loads the engine: the sources with `src`, else the compiled build (built first if stale). */
export async function loadEngine(src: boolean): Promise<typeof import('../src/index.js')> {
  if (src) return import('../src/index.js');
  const out = 'bench/data/dist';
  const stamp = join(out, '.built');
  const newest = Math.max(newestTs('src'), newestTs('bin'));
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest) {
    console.log(`building the engine into ${out} …`);
    try {
      execFileSync(
        process.execPath,
        ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', out],
        { stdio: 'inherit' },
      );
    } catch {
      if (!existsSync(join(out, 'src/index.js'))) throw new Error('building the engine failed');
      console.log('tsc reported errors (above); benchmarking what it emitted');
    }
    writeFileSync(stamp, new Date().toISOString());
  }
  return (await import(pathToFileURL(join(out, 'src/index.js')).href)) as typeof import('../src/index.js');
}
