/**
 * The connection flags shared by `microspark` (the console), `microspark run` and
 * `microspark status`: `--local N` spawns N loopback workers; `--peers`, `--cluster` and
 * `--secret-file` join running workers. Validated before anything starts.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../protocol/errors.js';
import { MicroSpark } from '../client/context.js';

/** Flags for node:util parseArgs. */
export const CONNECTION_FLAGS = {
  local: { type: 'string' },
  peers: { type: 'string' },
  cluster: { type: 'string' },
  'secret-file': { type: 'string' },
  parallelism: { type: 'string' },
  bind: { type: 'string' },
  'ui-port': { type: 'string' },
  'event-log': { type: 'string' },
} as const;

/** The connection flags' help lines. */
export const CONNECTION_HELP = `Connection (default: --local 2):
  --local <n>             spawn n worker daemons on 127.0.0.1, stopped on exit
  --peers <host:port,…>   join running workers at these partition servers
  --cluster <name>        the cluster's name (default "default"); without --peers, its
                          workers are found over mDNS (loopback only unless a secret is set)
  --secret-file <path>    the cluster secret (or MICROSPARK_SECRET); required off loopback
  --bind <address>        the address this client listens on for its workers (default
                          127.0.0.1); a LAN address requires the secret
  --parallelism <n>       default number of partitions (default 2 × workers)
  --ui-port <n|off>       the web UI's first port (default 4040, else the next free one);
                          off: no web UI
  --event-log <dir>       write every progress event to <dir> (microspark history <dir>)`;

/** The web UI and event log flags, validated. */
export interface UiFlags {
  readonly ui?: { readonly port: number } | false;
  readonly eventLog?: { readonly dir: string };
}

/** Where to connect, validated. */
export type Connection = UiFlags &
  (
    | {
        readonly kind: 'local';
        readonly workers: number;
        readonly secret?: string;
        readonly parallelism?: number;
      }
    | {
        readonly kind: 'connect';
        readonly peers: readonly string[];
        readonly cluster?: string;
        readonly secret?: string;
        readonly parallelism?: number;
        readonly bind?: string;
      }
  );

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new ConfigError(`${flag} must be a whole number from 1 to 256, got "${v}"`, flag);
  return n;
}

/** Turns parsed flags into a Connection; throws ConfigError naming the flag and the fix. */
export function connectionFrom(values: {
  local?: string | undefined;
  peers?: string | undefined;
  cluster?: string | undefined;
  'secret-file'?: string | undefined;
  parallelism?: string | undefined;
  bind?: string | undefined;
  'ui-port'?: string | undefined;
  'event-log'?: string | undefined;
}): Connection {
  let secret: string | undefined = process.env.MICROSPARK_SECRET || undefined;
  const file = values['secret-file'];
  if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(
        `cannot read --secret-file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}. ` +
          'Fix: pass a readable file that holds the shared secret.',
        '--secret-file',
      );
    }
    if (secret === '') throw new ConfigError(`--secret-file ${file} is empty`, '--secret-file');
  }
  const parallelism =
    values.parallelism !== undefined ? positiveInt(values.parallelism, '--parallelism') : undefined;
  const joining = values.peers !== undefined || values.cluster !== undefined;
  if (values.local !== undefined && joining)
    throw new ConfigError(
      '--local spawns its own workers; it cannot be combined with --peers or --cluster',
      '--local',
    );
  const uiPort = values['ui-port'];
  if (uiPort !== undefined && uiPort !== 'off' && (!/^\d{1,5}$/.test(uiPort) || Number(uiPort) > 65535))
    throw new ConfigError(`--ui-port must be a port number (0 for any free one) or off, got "${uiPort}"`, '--ui-port'); // prettier-ignore
  const common = {
    ...(secret !== undefined && { secret }),
    ...(parallelism !== undefined && { parallelism }),
    ...(uiPort !== undefined && { ui: uiPort === 'off' ? (false as const) : { port: Number(uiPort) } }),
    ...(values['event-log'] !== undefined && { eventLog: { dir: values['event-log'] } }),
  };
  if (values.bind !== undefined && !joining)
    throw new ConfigError('--bind is for joining workers on a LAN (with --peers or --cluster); --local stays on 127.0.0.1', '--bind'); // prettier-ignore
  if (!joining) return { kind: 'local', workers: positiveInt(values.local ?? '2', '--local'), ...common };
  const peers = (values.peers ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  for (const p of peers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(p.replace(/^tcp:\/\//, '')))
      throw new ConfigError(`--peers entry "${p}" is not host:port (e.g. 192.168.1.20:7077)`, '--peers');
  }
  return {
    kind: 'connect',
    peers,
    ...(values.cluster !== undefined && { cluster: values.cluster }),
    ...(values.bind !== undefined && { bind: values.bind }),
    ...common,
  };
}

/**
 * Starts the context a Connection describes; `appName` names it in the web UI and event log.
 * `taskLogs: false` leaves tasks' output to the caller (the console shows it in its log).
 */
export function connect(
  c: Connection,
  appName?: string,
  opts: { taskLogs?: boolean } = {},
): Promise<MicroSpark> {
  const taskLogs = opts.taskLogs !== undefined ? { taskLogs: opts.taskLogs } : {};
  if (c.kind === 'local') {
    return MicroSpark.local({
      ...taskLogs,
      workers: c.workers,
      defaultParallelism: c.parallelism ?? 2 * c.workers,
      ...(c.secret !== undefined && { secret: c.secret }),
      ...(c.ui !== undefined && { ui: c.ui }),
      ...(c.eventLog !== undefined && { eventLog: c.eventLog }),
      ...(appName !== undefined && { appName }),
    });
  }
  return MicroSpark.connect({
    ...taskLogs,
    peers: c.peers,
    ...(c.cluster !== undefined && { cluster: c.cluster }),
    ...(c.cluster !== undefined && c.peers.length === 0 && { discovery: 'mdns' as const }),
    ...(c.secret !== undefined && { secret: c.secret }),
    ...(c.bind !== undefined && { bind: c.bind }),
    ...(c.parallelism !== undefined && { defaultParallelism: c.parallelism }),
    ...(c.ui !== undefined && { ui: c.ui }),
    ...(c.eventLog !== undefined && { eventLog: c.eventLog }),
    ...(appName !== undefined && { appName }),
  });
}

/** One line saying what a context is connected to, for banners. */
export function describeConnection(c: Connection, sc: MicroSpark): string {
  const workers = sc.cluster?.workers().length ?? 0;
  const auth = c.secret !== undefined ? ', authenticated (CURVE)' : ', loopback only';
  if (c.kind === 'local') return `local cluster: ${workers} worker daemons on 127.0.0.1${auth}`;
  const where = [
    c.peers.length > 0 ? `peers ${c.peers.join(', ')}` : '',
    c.cluster ? `cluster "${c.cluster}" (mDNS)` : '',
  ]
    .filter((s) => s !== '')
    .join(' and ');
  return `${where}: ${workers} workers${auth}`;
}
