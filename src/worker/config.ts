/**
 * The worker daemon's configuration: command-line flags and their `MICROSPARK_<NAME>` environment
 * equivalents (a flag wins), validated at start-up so that a worker with an invalid or inconsistent
 * configuration never starts. Security (DESIGN.md §7): without a cluster secret a worker may only
 * bind a loopback address and talk to loopback peers; the secret is held in a {@link Secret},
 * which never prints, and no error message contains it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import {
  DEFAULT_MEMORY_BYTES,
  HEARTBEAT_INTERVAL_MS,
  LOCALITY_WAIT_MS,
  MIN_MEMORY_BYTES,
  PEER_DEAD_AFTER_MS,
  REDUCER_MAX_BYTES_IN_FLIGHT,
} from '../protocol/defaults.js';
import { ConfigError } from '../protocol/errors.js';
import { REDACTED, Secret, isLoopbackAddress, stripBrackets } from '../protocol/cluster-identity.js';

export { Secret, deriveClusterId, isLoopbackAddress } from '../protocol/cluster-identity.js';

/** Log levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default `--bind`: loopback only, which needs no secret. */
export const DEFAULT_BIND = '127.0.0.1';
/** Default `--cluster`. */
export const DEFAULT_CLUSTER = 'default';
/** Default `--log-level`. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** A peer is declared dead after at least this many heartbeat intervals of silence. */
export const MIN_DEAD_AFTER_HEARTBEATS = 3;
/** The shortest accepted `--heartbeat-ms`: faster heartbeats only flood the network. */
export const MIN_HEARTBEAT_MS = 10;
/** The smallest accepted `--task-heap`: below this a task thread cannot even load the runner. */
export const MIN_TASK_HEAP_BYTES = 32 * 1024 ** 2;
/** The smallest accepted `--max-bytes-in-flight`: less would cut fetches into tiny requests. */
export const MIN_BYTES_IN_FLIGHT = 64 * 1024;

/** A static peer's partition server endpoint. */
export interface PeerEndpoint {
  readonly host: string;
  readonly port: number;
}

/** A worker's fully defaulted, validated configuration (frozen, with frozen arrays). */
export interface WorkerConfig {
  /** Tasks run at once. */
  readonly slots: number;
  /**
   * JavaScript (RDD) tasks run at once, at most `slots`; SQL tasks may take the other slots.
   * Undefined: the machine's CPUs shared among the live workers on this host (the worker follows it).
   */
  readonly cpus: number | undefined;
  /** The IP address the partition server and the record publisher listen on (`localhost` → 127.0.0.1). */
  readonly bind: string;
  /** The partition server's port; 0 = any free port. */
  readonly port: number;
  /** The record publisher's port: `port + 1`, or 0 (any free port) when `port` is 0. */
  readonly publisherPort: number;
  /** Static peers' partition servers, without duplicates, in the order given. */
  readonly peers: readonly PeerEndpoint[];
  /** The cluster name; see {@link deriveClusterId}. */
  readonly cluster: string;
  /** The cluster secret, if any; required unless {@link loopbackOnly}. */
  readonly secret: Secret | undefined;
  /** Absolute directory where blocks spill to disk. */
  readonly dataDir: string;
  /** Block store memory before spilling. */
  readonly memoryBytes: number;
  /** Shuffle bytes a reducer has requested and not yet received, at most (Spark's maxSizeInFlight). */
  readonly maxBytesInFlight: number;
  /**
   * The V8 heap limit (old generation) of each task thread, whole MiB; undefined: Node's default.
   * A task that exceeds it fails with TaskOutOfMemoryError; the worker survives.
   */
  readonly taskHeapMb: number | undefined;
  readonly logLevel: LogLevel;
  readonly heartbeatMs: number;
  /** A silent peer is dead after this long; at least {@link MIN_DEAD_AFTER_HEARTBEATS} heartbeats. */
  readonly deadAfterMs: number;
  /** How long a job preferring another live worker (the holder of what it reads) is left to it; 0: not at all. */
  readonly localityWaitMs: number;
  /** Announce and find peers with mDNS (loopback only without a secret). */
  readonly mdns: boolean;
}

/** What the command line asks for: print the help, print the version, or run a worker. */
export type WorkerCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly config: WorkerConfig };

/** The text of `microspark-worker --help`. */
export const WORKER_HELP = `Usage: microspark-worker [options]

Runs a MicroSpark worker: it finds its peers, runs the tasks they post and serves its blocks.
Every option can also be set in the environment as MICROSPARK_<NAME> (for example
MICROSPARK_SLOTS=4, MICROSPARK_DATA_DIR=/var/tmp/ms); a flag wins over its variable.

Options:
  --slots <n>             tasks run at once (default: the number of CPUs)
  --cpus <n>              of those, JavaScript (RDD) tasks run at once, at most --slots
                          (default: the CPUs shared among the live workers on this host, so
                          all of them for one worker); SQL tasks, which also wait for DuckDB's
                          files and for peers, may take the other slots
  --bind <address>        IP address to listen on (default: ${DEFAULT_BIND}); an address other
                          than loopback (127.0.0.0/8, ::1, localhost) requires a cluster secret
  --port <n>              partition server port, 0 = any free port (default: 0); the record
                          publisher uses port+1, or any free port when port is 0
  --peers <host:port,...> static peers' partition servers, for networks without multicast;
                          IPv6 as [addr]:port; peers on other hosts require a cluster secret
  --cluster <name>        cluster name (default: ${DEFAULT_CLUSTER})
  --secret-file <path>    file holding the cluster secret (surrounding whitespace ignored); or
                          put the secret itself in MICROSPARK_SECRET. Use the same secret on
                          every peer, e.g. from: openssl rand -hex 32
  --data-dir <path>       where blocks spill to disk (default: a new directory under the OS
                          temporary directory)
  --memory <size>         block store memory before spilling: 512m, 2g, 1048576 (bytes)
                          (default: ${formatBytes(DEFAULT_MEMORY_BYTES)})
  --max-bytes-in-flight <size>
                          shuffle bytes a task may have requested from peers and not yet
                          received, at least 64k (default: ${formatBytes(REDUCER_MAX_BYTES_IN_FLIGHT)})
  --task-heap <size>      heap limit of each task thread (at least 32m): a task that needs more
                          fails with TaskOutOfMemoryError and the worker carries on (default:
                          Node's own limit)
  --mdns                  announce and find peers with mDNS (_microspark._tcp); without a
                          cluster secret it stays on the loopback interface (MICROSPARK_MDNS=1)
  --log-level <level>     ${LOG_LEVELS.join(', ')} (default: ${DEFAULT_LOG_LEVEL})
  --heartbeat-ms <n>      advanced: heartbeat interval (default: ${HEARTBEAT_INTERVAL_MS})
  --dead-after-ms <n>     advanced: a silent peer is dead after this long, at least
                          ${MIN_DEAD_AFTER_HEARTBEATS} x heartbeat (default: ${PEER_DEAD_AFTER_MS / HEARTBEAT_INTERVAL_MS} x heartbeat = ${PEER_DEAD_AFTER_MS})
  --locality-wait-ms <n>  advanced: how long a task whose input blocks another live worker
                          holds is left to that worker before this one takes it (as Spark's
                          spark.locality.wait); 0 = at once (default: ${LOCALITY_WAIT_MS})
  -h, --help              print this help and exit
  -v, --version           print the version and exit
`;

const ARG_OPTIONS = {
  slots: { type: 'string' },
  cpus: { type: 'string' },
  bind: { type: 'string' },
  port: { type: 'string' },
  peers: { type: 'string', multiple: true },
  cluster: { type: 'string' },
  'secret-file': { type: 'string' },
  'data-dir': { type: 'string' },
  memory: { type: 'string' },
  'task-heap': { type: 'string' },
  'max-bytes-in-flight': { type: 'string' },
  'log-level': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'dead-after-ms': { type: 'string' },
  'locality-wait-ms': { type: 'string' },
  mdns: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

type ValueOption = Exclude<keyof typeof ARG_OPTIONS, 'help' | 'version' | 'mdns'>;

/** Where a raw value came from, to name it in errors the way the user wrote it. */
interface RawValue {
  readonly option: ValueOption;
  readonly value: string;
  readonly fromEnv: boolean;
}

const SECRET_ENV = 'MICROSPARK_SECRET';
const HELP_HINT = 'Run microspark-worker --help for the list of options.';

/** `MICROSPARK_<NAME>` for a flag: `data-dir` → `MICROSPARK_DATA_DIR`. */
export function envName(option: string): string {
  return `MICROSPARK_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** How a value is named in an error: `--port 70000` or `MICROSPARK_PORT=70000 (the environment form of --port)`. */
function describe(raw: RawValue): string {
  return raw.fromEnv
    ? `${envName(raw.option)}=${JSON.stringify(raw.value)} (the environment form of --${raw.option})`
    : `--${raw.option} ${JSON.stringify(raw.value)}`;
}

function invalid(raw: RawValue, problem: string, fix: string): ConfigError {
  return new ConfigError(`Invalid ${describe(raw)}: ${problem}. Fix: ${fix}`, `--${raw.option}`);
}

const wholeNumber = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform((s) => Number(s))
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER, `${what} is too large`));

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A size flag: `512m`, `2g`, `1048576` (bytes; units are powers of 1024), then checked by `bytes`. */
function size(bytes: z.ZodNumber) {
  return z
    .string()
    .regex(/^\d+(\.\d+)?\s*([kmgt](i?b)?|b)?$/i, 'not a size')
    .transform((s) => {
      const [, num = '', unit = ''] = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(s) ?? [];
      return Math.floor(Number(num) * (SIZE_UNITS[unit.toLowerCase()] ?? Number.NaN));
    })
    .pipe(bytes);
}

/** Field schemas: raw string → value; the issue message is the problem, the `fix` says what to do. */
const FIELDS = {
  slots: {
    schema: wholeNumber('the number of slots').pipe(z.number().min(1, 'a worker needs at least 1 slot')),
    fix: 'pass --slots <n> with n >= 1, or leave it out to use one slot per CPU.',
  },
  cpus: {
    schema: wholeNumber('the number of CPUs for tasks').pipe(
      z.number().min(1, 'a worker needs at least 1 CPU'),
    ),
    fix: "pass --cpus <n> with 1 <= n <= --slots, or leave it out to share the host's CPUs among its workers.",
  },
  port: {
    schema: wholeNumber('the port').pipe(z.number().max(65535, 'a TCP port is at most 65535')),
    fix: 'pass --port <n> with 0 <= n <= 65534 (0 = any free port).',
  },
  'heartbeat-ms': {
    schema: wholeNumber('the heartbeat interval').pipe(
      z.number().min(MIN_HEARTBEAT_MS, `the heartbeat interval must be at least ${MIN_HEARTBEAT_MS} ms`),
    ),
    fix: `pass --heartbeat-ms <n> with n >= ${MIN_HEARTBEAT_MS}, or leave it out (default ${HEARTBEAT_INTERVAL_MS}).`,
  },
  'dead-after-ms': {
    schema: wholeNumber('the dead-after timeout').pipe(z.number().min(1, 'the timeout must be positive')),
    fix: `pass --dead-after-ms <n> with n >= ${MIN_DEAD_AFTER_HEARTBEATS} x the heartbeat interval.`,
  },
  'locality-wait-ms': {
    schema: wholeNumber('the locality wait').pipe(
      z.number().max(60_000, 'the locality wait is at most 60000 ms'),
    ),
    fix: `pass --locality-wait-ms <n> with 0 <= n <= 60000 (0 = claim every job at once), or leave it out (default ${LOCALITY_WAIT_MS}).`,
  },
  memory: {
    schema: size(z.number().min(MIN_MEMORY_BYTES, 'less than 1 MiB (a size without a unit is in bytes)').max(Number.MAX_SAFE_INTEGER, 'too large')), // prettier-ignore
    fix: 'pass a size like --memory 512m, --memory 2g or --memory 1048576 (bytes); units k, m, g, t are powers of 1024.',
  },
  'task-heap': {
    schema: size(z.number().min(MIN_TASK_HEAP_BYTES, 'less than 32 MiB (a size without a unit is in bytes)').max(1024 ** 4, 'more than 1 TiB')), // prettier-ignore
    fix: "pass a size like --task-heap 512m or --task-heap 2g (at least 32m), or leave it out for Node's default.",
  },
  'max-bytes-in-flight': {
    schema: size(z.number().min(MIN_BYTES_IN_FLIGHT, 'less than 64 KiB (a size without a unit is in bytes)').max(1024 ** 4, 'more than 1 TiB')), // prettier-ignore
    fix: 'pass a size like --max-bytes-in-flight 48m (at least 64k), or leave it out for the default.',
  },
  'log-level': {
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
    fix: `pass --log-level ${LOG_LEVELS.join('|')}.`,
  },
  cluster: {
    schema: z
      .string()
      .regex(
        /^[A-Za-z0-9._-]{1,64}$/,
        'a cluster name is 1 to 64 letters, digits, dots, dashes or underscores',
      ),
    fix: 'pass --cluster <name>, e.g. --cluster analytics, the same on every peer.',
  },
  'data-dir': {
    schema: z.string().min(1, 'the path is empty'),
    fix: 'pass --data-dir <path>, or leave it out to use a new directory under the OS temporary directory.',
  },
} satisfies Partial<Record<ValueOption, { schema: z.ZodType<unknown, string>; fix: string }>>;

function field<K extends keyof typeof FIELDS>(
  raw: RawValue & { option: K },
): z.output<(typeof FIELDS)[K]['schema']> {
  const { schema, fix } = FIELDS[raw.option];
  const result = schema.safeParse(raw.value);
  if (result.success) return result.data as z.output<(typeof FIELDS)[K]['schema']>;
  throw invalid(raw, result.error.issues[0]?.message ?? 'invalid value', fix);
}

/** Whether this worker stays on this machine: it binds a loopback address (and so needs no secret). */
export function loopbackOnly(config: Pick<WorkerConfig, 'bind'>): boolean {
  return isLoopbackAddress(config.bind);
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function parseBind(raw: RawValue): string {
  const address = stripBrackets(raw.value);
  // ZeroMQ binds interfaces and IP literals only, not host names.
  if (address.toLowerCase() === 'localhost') return DEFAULT_BIND;
  if (isIP(address) !== 0) return address;
  throw invalid(
    raw,
    'not an IP address',
    `pass --bind <address> with an IP address of this machine (e.g. ${DEFAULT_BIND}, 192.168.1.20, 0.0.0.0, ::1) or localhost.`,
  );
}

function parsePeers(raw: RawValue): PeerEndpoint[] {
  const fix =
    'pass --peers host:port,host:port (IPv6 as [addr]:port), e.g. --peers 192.168.1.20:7400,node2:7400.';
  const peers: PeerEndpoint[] = [];
  const seen = new Set<string>();
  for (const part of raw.value.split(',')) {
    const entry = part.trim();
    const match = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(entry);
    if (!match) throw invalid(raw, `entry ${JSON.stringify(entry)} is not host:port`, fix);
    const [, hostPart = '', portText = ''] = match;
    const host = stripBrackets(hostPart);
    const port = Number(portText);
    const bracketed = hostPart !== host;
    const hostOk = bracketed
      ? isIP(host) === 6
      : isIP(host) === 4 || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host));
    if (!hostOk) throw invalid(raw, `entry ${JSON.stringify(entry)} has an invalid host`, fix);
    if (port < 1 || port > 65535)
      throw invalid(raw, `entry ${JSON.stringify(entry)} has a port outside 1-65535`, fix);
    const key = `${host.toLowerCase()}:${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    peers.push(Object.freeze({ host, port }));
  }
  return peers;
}

function readSecretFile(raw: RawValue): Secret {
  const where = raw.fromEnv
    ? `${envName(raw.option)} (the environment form of --secret-file)`
    : '--secret-file';
  let text: string;
  try {
    text = readFileSync(raw.value, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(
      `Cannot read the cluster secret file ${JSON.stringify(raw.value)} given by ${where}: ${code}. ` +
        'Fix: pass --secret-file <path> naming a readable file that holds the shared secret.',
      '--secret-file',
      { cause: err },
    );
  }
  const secret = text.trim();
  if (secret.length === 0)
    throw new ConfigError(
      `The cluster secret file ${JSON.stringify(raw.value)} given by ${where} is empty. ` +
        `Fix: write the shared secret into it, e.g. openssl rand -hex 32 > ${raw.value}`,
      '--secret-file',
    );
  return new Secret(secret);
}

const SECRET_HOWTO =
  `set one with --secret-file <path> (a file holding the secret) or the ${SECRET_ENV} environment ` +
  'variable, with the same secret on every peer';

/**
 * Parses the worker's command line (`argv` without the node and script paths) and environment.
 * `--help` and `--version` win over every other option once the command line parses.
 * @throws ConfigError naming the flag and the fix; its message never contains the secret.
 */
export function parseWorkerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): WorkerCommand {
  const envSecret = env[SECRET_ENV]?.trim();
  try {
    return parse(argv, env, envSecret);
  } catch (err) {
    // Defence in depth: no message may carry the secret, even one echoing a stray argument.
    if (err instanceof Error && envSecret) {
      const redact = (text: string) => text.split(envSecret).join(REDACTED);
      err.message = redact(err.message);
      if (err.stack !== undefined) err.stack = redact(err.stack);
    }
    throw err;
  }
}

function parse(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  envSecret: string | undefined,
): WorkerCommand {
  let values: ReturnType<typeof parseArgs<{ options: typeof ARG_OPTIONS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: ARG_OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err))
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\.$/, '');
    const option = /(--[A-Za-z0-9-]+)/.exec(message)?.[1] ?? /'(-[A-Za-z0-9])'/.exec(message)?.[1];
    const hint =
      option === '--secret'
        ? `The secret is never a flag: use --secret-file <path> or the ${SECRET_ENV} environment variable. `
        : '';
    // No cause: Node's error echoes the arguments, and one might be the secret pasted by mistake.
    throw new ConfigError(`${message}. ${hint}${HELP_HINT}`, option);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const pick = (option: ValueOption): RawValue | undefined => {
    const flag = values[option];
    if (flag !== undefined)
      return { option, value: Array.isArray(flag) ? flag.join(',') : flag, fromEnv: false };
    const fromEnv = env[envName(option)];
    return fromEnv === undefined || fromEnv === '' ? undefined : { option, value: fromEnv, fromEnv: true };
  };
  const get = <K extends keyof typeof FIELDS>(option: K) => {
    const raw = pick(option);
    return raw === undefined ? undefined : field({ ...raw, option });
  };

  const slots = get('slots') ?? availableParallelism();
  const cpusRaw = pick('cpus');
  const cpus = get('cpus');
  if (cpus !== undefined && cpus > slots)
    throw invalid(
      cpusRaw!,
      `it is more than the ${slots} slot${slots === 1 ? '' : 's'}, and a task runs in a slot`,
      FIELDS.cpus.fix,
    );
  const portRaw = pick('port');
  const port = portRaw === undefined ? 0 : field({ ...portRaw, option: 'port' });
  if (portRaw !== undefined && port === 65535)
    throw invalid(
      portRaw,
      'the record publisher listens on port+1, and 65536 is not a port',
      'pass --port <n> with n <= 65534, or 0 for any free ports.',
    );
  const bindRaw = pick('bind');
  const bind = bindRaw === undefined ? DEFAULT_BIND : parseBind(bindRaw);
  const peersRaw = pick('peers');
  const peers = peersRaw === undefined ? [] : parsePeers(peersRaw);
  const cluster = get('cluster') ?? DEFAULT_CLUSTER;
  const dataDirRaw = get('data-dir');
  const dataDir =
    dataDirRaw === undefined
      ? join(tmpdir(), `microspark-worker-${process.pid}-${randomBytes(4).toString('hex')}`)
      : resolve(dataDirRaw);
  const memoryBytes = get('memory') ?? DEFAULT_MEMORY_BYTES;
  const maxBytesInFlight = get('max-bytes-in-flight') ?? REDUCER_MAX_BYTES_IN_FLIGHT;
  const taskHeapBytes = get('task-heap');
  const taskHeapMb = taskHeapBytes === undefined ? undefined : Math.floor(taskHeapBytes / 1024 ** 2);
  const logLevel = get('log-level') ?? DEFAULT_LOG_LEVEL;
  const heartbeatMs = get('heartbeat-ms') ?? HEARTBEAT_INTERVAL_MS;
  const localityWaitMs = get('locality-wait-ms') ?? LOCALITY_WAIT_MS;
  const deadAfterRaw = pick('dead-after-ms');
  // Without --dead-after-ms, keep the default's tolerance (5 missed heartbeats) at any heartbeat.
  const deadAfterMs =
    deadAfterRaw === undefined
      ? Math.round((heartbeatMs * PEER_DEAD_AFTER_MS) / HEARTBEAT_INTERVAL_MS)
      : field({ ...deadAfterRaw, option: 'dead-after-ms' });
  if (deadAfterRaw !== undefined && deadAfterMs < MIN_DEAD_AFTER_HEARTBEATS * heartbeatMs)
    throw invalid(
      deadAfterRaw,
      `a peer must be allowed at least ${MIN_DEAD_AFTER_HEARTBEATS} heartbeats of silence, and the heartbeat interval is ${heartbeatMs} ms`,
      `pass --dead-after-ms <n> with n >= ${MIN_DEAD_AFTER_HEARTBEATS * heartbeatMs}, or a shorter --heartbeat-ms.`,
    );

  // The flag wins over both variables; the two variables together are ambiguous.
  const secretFileRaw = pick('secret-file');
  if (secretFileRaw?.fromEnv && envSecret)
    throw new ConfigError(
      `Both ${SECRET_ENV} and ${envName('secret-file')} are set, so the cluster secret is ambiguous. ` +
        'Fix: unset one of them (or pass --secret-file <path>, which wins over both).',
      '--secret-file',
    );
  const secret =
    secretFileRaw !== undefined
      ? readSecretFile(secretFileRaw)
      : envSecret
        ? new Secret(envSecret)
        : undefined;

  if (secret === undefined) {
    if (!isLoopbackAddress(bind) && bindRaw !== undefined)
      throw new ConfigError(
        `${describe(bindRaw)} is not a loopback address, and binding a LAN address requires a cluster secret: ` +
          'workers run the functions they are sent, so every peer must prove it holds the secret. ' +
          `Fix: ${SECRET_HOWTO}; or bind ${DEFAULT_BIND} to stay on this machine.`,
        '--bind',
      );
    const remote = peers.find((p) => !isLoopbackAddress(p.host));
    if (remote !== undefined && peersRaw !== undefined)
      throw new ConfigError(
        `${describe(peersRaw)} names ${remote.host}:${remote.port}, which is not on this machine, and talking to ` +
          `peers on other hosts requires a cluster secret. Fix: ${SECRET_HOWTO}; or list only loopback peers.`,
        '--peers',
      );
  }

  const config: WorkerConfig = {
    slots,
    cpus,
    bind,
    port,
    publisherPort: port === 0 ? 0 : port + 1,
    peers: Object.freeze(peers),
    cluster,
    secret,
    dataDir,
    memoryBytes,
    maxBytesInFlight,
    taskHeapMb,
    logLevel,
    heartbeatMs,
    deadAfterMs,
    localityWaitMs,
    mdns: values.mdns === true || env.MICROSPARK_MDNS === '1',
  };
  return { kind: 'run', config: Object.freeze(config) };
}

function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['t', 1024 ** 4],
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
