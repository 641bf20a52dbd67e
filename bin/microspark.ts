#!/usr/bin/env node
/**
 * `microspark`: the interactive console (default), `microspark run <script>` and
 * `microspark status`. Flags are validated before anything starts; a bad flag exits 2 with the fix.
 */
import { parseArgs } from 'node:util';
import {
  connect,
  connectionFrom,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  describeConnection,
} from '../src/cli/connection.js';
import { runScript } from '../src/cli/run.js';
import { collectStatus, formatStatus } from '../src/cli/status.js';
import { packageVersion } from '../src/cli/version.js';
import { formatError } from '../src/console/format.js';
import { ConfigError } from '../src/protocol/errors.js';
import { startHistoryServer } from '../src/ui/history.js';
import { existsSync, statSync } from 'node:fs';

const HELP = `microspark ${packageVersion()} — a Spark-like RDD engine for Node.js, with no master

Usage:
  microspark [connection]                 the interactive console (sc is ready)
  microspark run <script> [connection]    run a .js/.ts file with sc connected; progress on stderr
  microspark status [--json] [connection] the workers and records a client can see
  microspark history <dir> [--ui-port n]  the web UI of the contexts whose event logs are in <dir>
  microspark --help | --version

${CONNECTION_HELP}

status:
  --json                  machine-readable output
  --wait <ms>             how long to listen for records before reporting (default 1500)

Examples:
  microspark --local 2
  microspark run examples/wordcount.ts --local 2 --event-log /tmp/events
  microspark history /tmp/events
  microspark status --peers 192.168.1.20:7077 --secret-file /etc/microspark/secret`;

/**
 * Imports the console with the CI variables hidden. ink decides once, when it loads, whether it
 * runs in CI (`CI`, `CONTINUOUS_INTEGRATION`), and there it prints only the final frame: a console
 * on a real terminal would show no input line, no stage bars and no workers panel. The variables are
 * restored afterwards, so scripts and workers still see them.
 */
async function importWithoutCiMode<T>(load: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) {
    saved[key] = process.env[key];
    delete process.env[key];
  }
  try {
    return await load();
  } finally {
    for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CONNECTION_FLAGS,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        json: { type: 'boolean' },
        wait: { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`microspark: ${(e as Error).message}\nRun microspark --help for the flags.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (values.version) {
    process.stdout.write(packageVersion() + '\n');
    return 0;
  }
  const [command, ...rest] = positionals;
  let connection;
  try {
    connection = connectionFrom(values);
  } catch (e) {
    process.stderr.write(`microspark: ${(e as Error).message}\n`);
    return 2;
  }
  switch (command) {
    case undefined: {
      if (!process.stdin.isTTY) {
        process.stderr.write(
          'microspark: the console needs a terminal; use `microspark run <script>` in pipes\n',
        );
        return 2;
      }
      // Task output goes into the console's log, not to stderr under the live region.
      const sc = await connect(connection, 'MicroSpark console', { taskLogs: false });
      try {
        const { startConsole } = await importWithoutCiMode(() => import('../src/console/start.js'));
        const ui = sc.uiWebUrl ? `; web UI at ${sc.uiWebUrl}` : '';
        await startConsole(sc, describeConnection(connection, sc) + ui);
      } finally {
        await sc.stop();
      }
      return 0;
    }
    case 'run': {
      const [script, ...extra] = rest;
      if (script === undefined || extra.length > 0) {
        process.stderr.write(
          'microspark run: give exactly one script, e.g. microspark run job.ts --local 2\n',
        );
        return 2;
      }
      return runScript(script, connection);
    }
    case 'status': {
      const waitMs = values.wait === undefined ? 1500 : Number(values.wait);
      if (!Number.isInteger(waitMs) || waitMs < 0) {
        process.stderr.write(`microspark status: --wait must be milliseconds, got "${values.wait}"\n`);
        return 2;
      }
      if (values.local === undefined && values.peers === undefined && values.cluster === undefined) {
        process.stderr.write(
          'microspark status: pass --peers host:port,… or --cluster <name> (a running cluster)\n',
        );
        return 2;
      }
      const report = await collectStatus(connection, waitMs);
      process.stdout.write((values.json ? JSON.stringify(report, null, 2) : formatStatus(report)) + '\n');
      // A peer named on the command line that did not answer is a failure (exit 1).
      if (report.unreachable.length > 0) {
        for (const peer of report.unreachable)
          process.stderr.write(
            `microspark status: cannot reach ${peer}: nothing answered within ${waitMs} ms ` +
              '(is a microspark-worker running there, with the same secret? --wait <ms> waits longer)\n',
          );
        return 1;
      }
      return 0;
    }
    case 'history': {
      const [dir, ...extra] = rest;
      if (dir === undefined || extra.length > 0) {
        process.stderr.write('microspark history: give one directory of event logs, e.g. microspark history /tmp/events\n'); // prettier-ignore
        return 2;
      }
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        process.stderr.write(`microspark history: no such directory: ${dir}\n`);
        return 2;
      }
      if (connection.ui === false) {
        process.stderr.write('microspark history: --ui-port off leaves nothing to serve\n');
        return 2;
      }
      const server = await startHistoryServer({ dir, ...(connection.ui && { port: connection.ui.port }) });
      process.stderr.write(`microspark history: ${dir} at ${server.url} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.stop();
      return 0;
    }
    default:
      process.stderr.write(
        `microspark: unknown command "${command}"; commands are run, status and history (--help)\n`,
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`microspark: ${formatError(e)}\n`);
    // A flag the machine cannot honour (a --bind address it lacks) is a bad flag: 2.
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
