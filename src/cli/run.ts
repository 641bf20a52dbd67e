/**
 * `microspark run <script>`: runs a JavaScript or TypeScript file with `sc` connected as for the
 * console (a global, and the argument of a default-exported function), shows progress on stderr,
 * stops the context, and resolves with the exit code: 0 on success, 1 with the error on failure.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MicroSpark } from '../client/context.js';
import { formatError } from '../console/format.js';
import { connect, describeConnection, type Connection } from './connection.js';
import { showProgress } from './progress-line.js';

/** Loads TypeScript files through tsx's loader (registered once). */
async function registerTypeScript(): Promise<void> {
  const { register } = await import('tsx/esm/api');
  register();
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
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
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
