/**
 * `microspark run <script>`: runs a JavaScript or TypeScript file with `sc` connected as for the
 * console (a global, and the argument of a default-exported function), shows progress on stderr,
 * stops the context, and resolves with the exit code: 0 on success, 1 with the error on failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import type { MicroSpark } from '../client/context.js';
import { formatError } from '../console/format.js';
import { connect, describeConnection, type Connection } from './connection.js';
import { showProgress } from './progress-line.js';

/** Loads TypeScript files through tsx's loader (registered once). */
async function registerTypeScript(): Promise<void> {
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * Module customization hooks (a data: URL, so the built package needs no extra file): the one
 * script named in `data.url` loads as an ES module from `data.source`; every other module as usual.
 */
const SCRIPT_HOOKS =
  'data:text/javascript,' +
  encodeURIComponent(`
let script;
export function initialize(data) { script = data; }
export async function load(url, context, next) {
  if (script && url === script.url) return { format: 'module', source: script.source, shortCircuit: true };
  return next(url, context);
}`);

/**
 * Imports a `.ts`/`.tsx` script as an ES module whatever the package.json around it says: in a
 * CommonJS package (what `npm init -y` makes) tsx would compile it to CommonJS, where top-level
 * `await` is refused and importing `microspark` fails. Other files load as Node decides.
 */
async function importScript(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  if (!/\.tsx?$/.test(file)) return import(url);
  const { code } = await transform(readFileSync(file, 'utf8'), {
    loader: file.endsWith('x') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'es2022',
    sourcefile: file,
    sourcemap: 'inline',
    jsx: 'automatic',
  });
  register(SCRIPT_HOOKS, { data: { url, source: code } });
  return import(url);
}

/** Runs `script` on a fresh context; never throws, reports on stderr and returns the exit code. */
export async function runScript(
  script: string,
  connection: Connection,
  io: { stderr: NodeJS.WriteStream; quiet?: boolean } = { stderr: process.stderr },
): Promise<number> {
  const file = resolve(script);
  if (!existsSync(file)) {
    // Exit 2 is for bad flags; a script that is not there is a failure of the run (1).
    io.stderr.write(`microspark run: no such file: ${script} (looked for ${file})\n`);
    return 1;
  }
  let sc: MicroSpark | undefined;
  let stopProgress = () => {};
  try {
    sc = await connect(connection, basename(script));
    if (!io.quiet) io.stderr.write(`microspark: ${describeConnection(connection, sc)}\n`);
    if (!io.quiet && sc.uiWebUrl) io.stderr.write(`microspark: web UI at ${sc.uiWebUrl}\n`);
    stopProgress = io.quiet ? stopProgress : showProgress(sc, io.stderr);
    (globalThis as Record<string, unknown>).sc = sc;
    if (/\.(c|m)?tsx?$/.test(file)) await registerTypeScript();
    const mod = (await importScript(file)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as (sc: MicroSpark) => unknown)(sc);
    stopProgress();
    return 0;
  } catch (e) {
    stopProgress();
    io.stderr.write(`microspark run: ${script} failed\n${formatError(e, { localStack: true })}\n`);
    return 1;
  } finally {
    await sc?.stop();
  }
}
