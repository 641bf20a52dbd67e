import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLIENT_GONE_AFTER_MS,
  DEFAULT_MEMORY_BYTES,
  HEARTBEAT_INTERVAL_MS,
  JOB_REANNOUNCE_INTERVAL_MS,
  LEASE_RENEW_INTERVAL_MS,
  LEASE_TTL_MS,
  MAX_TASK_FAILURES,
  NO_WORKER_GRACE_MS,
  PEER_DEAD_AFTER_MS,
} from '../../src/protocol/defaults.js';
import { ConfigError, errorToWire } from '../../src/protocol/errors.js';
import {
  deriveClusterId,
  envName,
  isLoopbackAddress,
  loopbackOnly,
  parseWorkerConfig,
  Secret,
  WORKER_HELP,
  type WorkerConfig,
} from '../../src/worker/config.js';

const SECRET = 'correct-horse-battery-staple-7f3a';
const dir = mkdtempSync(join(tmpdir(), 'worker-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Parses and expects a config to run. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}): WorkerConfig {
  const result = parseWorkerConfig(argv, env);
  if (result.kind !== 'run') throw new Error(`expected a run config, got ${result.kind}`);
  return result.config;
}

/** Parses and expects a ConfigError, which must never contain the secret. */
function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseWorkerConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.name).toBe('ConfigError');
    expect(e.message).not.toContain(SECRET);
    expect(JSON.stringify(errorToWire(e))).not.toContain(SECRET);
    return e;
  }
  throw new Error(`expected a ConfigError for ${argv.join(' ')}`);
}

describe('defaults', () => {
  it('are the values of docs/PROTOCOL.md and consistent with each other', () => {
    expect(HEARTBEAT_INTERVAL_MS).toBe(1000);
    expect(PEER_DEAD_AFTER_MS).toBe(5000);
    expect(LEASE_TTL_MS).toBe(10_000);
    expect(LEASE_RENEW_INTERVAL_MS).toBe(3000);
    expect(JOB_REANNOUNCE_INTERVAL_MS).toBe(2000);
    expect(NO_WORKER_GRACE_MS).toBe(10_000);
    expect(CLIENT_GONE_AFTER_MS).toBe(10_000);
    expect(MAX_TASK_FAILURES).toBe(4);
    expect(DEFAULT_MEMORY_BYTES).toBe(1_073_741_824);
    expect(PEER_DEAD_AFTER_MS).toBeGreaterThanOrEqual(3 * HEARTBEAT_INTERVAL_MS);
    expect(LEASE_TTL_MS).toBeGreaterThanOrEqual(3 * LEASE_RENEW_INTERVAL_MS);
  });

  it('turns mDNS on with --mdns or MICROSPARK_MDNS=1 only', () => {
    expect([
      run(['--mdns']).mdns,
      run([], { MICROSPARK_MDNS: '1' }).mdns,
      run([], { MICROSPARK_MDNS: '0' }).mdns,
    ]).toEqual([true, true, false]);
  });

  it('fill a config given no flags and no environment', () => {
    const config = run([]);
    const { dataDir, ...rest } = config;
    expect(rest).toEqual({
      slots: availableParallelism(),
      cpus: undefined,
      bind: '127.0.0.1',
      port: 0,
      publisherPort: 0,
      peers: [],
      cluster: 'default',
      secret: undefined,
      memoryBytes: 1_073_741_824,
      maxBytesInFlight: 48 * 1024 ** 2,
      taskHeapMb: undefined,
      logLevel: 'info',
      heartbeatMs: 1000,
      deadAfterMs: 5000,
      localityWaitMs: 20,
      mdns: false,
    });
    expect(dataDir.startsWith(join(tmpdir(), `microspark-worker-${process.pid}-`))).toBe(true);
    expect(dataDir).toMatch(/microspark-worker-\d+-[0-9a-f]{8}$/);
    expect(run([]).dataDir).not.toBe(dataDir);
    expect(loopbackOnly(config)).toBe(true);
  });

  it('is frozen, arrays included', () => {
    const config = run(['--peers', '127.0.0.1:7000']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.peers)).toBe(true);
    expect(Object.isFrozen(config.peers[0])).toBe(true);
    expect(() => {
      (config as { slots: number }).slots = 99;
    }).toThrow(TypeError);
  });
});

describe('flags and their environment equivalents', () => {
  const cases: { option: string; value: string; field: keyof WorkerConfig; expected: unknown }[] = [
    { option: 'slots', value: '3', field: 'slots', expected: 3 },
    { option: 'cpus', value: '1', field: 'cpus', expected: 1 },
    { option: 'bind', value: '127.0.0.2', field: 'bind', expected: '127.0.0.2' },
    { option: 'port', value: '7400', field: 'port', expected: 7400 },
    { option: 'cluster', value: 'analytics', field: 'cluster', expected: 'analytics' },
    { option: 'data-dir', value: '/var/tmp/ms', field: 'dataDir', expected: '/var/tmp/ms' },
    { option: 'memory', value: '512m', field: 'memoryBytes', expected: 536_870_912 },
    { option: 'task-heap', value: '512m', field: 'taskHeapMb', expected: 512 },
    { option: 'max-bytes-in-flight', value: '8m', field: 'maxBytesInFlight', expected: 8 * 1024 ** 2 },
    { option: 'log-level', value: 'debug', field: 'logLevel', expected: 'debug' },
    { option: 'heartbeat-ms', value: '500', field: 'heartbeatMs', expected: 500 },
    { option: 'dead-after-ms', value: '9000', field: 'deadAfterMs', expected: 9000 },
    { option: 'locality-wait-ms', value: '0', field: 'localityWaitMs', expected: 0 },
    {
      option: 'peers',
      value: '127.0.0.1:7000,localhost:7002',
      field: 'peers',
      expected: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'localhost', port: 7002 },
      ],
    },
  ];
  for (const { option, value, field, expected } of cases) {
    it(`--${option} ${value} and ${envName(option)}=${value}`, () => {
      expect(run([`--${option}`, value])[field]).toEqual(expected);
      expect(run([`--${option}=${value}`])[field]).toEqual(expected);
      expect(run([], { [envName(option)]: value })[field]).toEqual(expected);
    });
  }

  it('a flag wins over its environment variable', () => {
    const env = {
      MICROSPARK_SLOTS: '7',
      MICROSPARK_PORT: '9000',
      MICROSPARK_CLUSTER: 'from-env',
      MICROSPARK_LOG_LEVEL: 'error',
      MICROSPARK_MEMORY: '4g',
      MICROSPARK_PEERS: '127.0.0.1:1',
    };
    const config = run(
      ['--slots', '2', '--port', '7400', '--cluster', 'from-flag', '--memory', '64m', '--peers', '[::1]:5'],
      env,
    );
    expect(config.slots).toBe(2);
    expect(config.port).toBe(7400);
    expect(config.cluster).toBe('from-flag');
    expect(config.logLevel).toBe('error'); // no flag: the variable applies
    expect(config.memoryBytes).toBe(64 * 1024 ** 2);
    expect(config.peers).toEqual([{ host: '::1', port: 5 }]);
  });

  it('an empty environment variable counts as unset', () => {
    expect(run([], { MICROSPARK_SLOTS: '', MICROSPARK_BIND: '', MICROSPARK_SECRET: '' }).slots).toBe(
      availableParallelism(),
    );
  });

  it('--port n puts the record publisher on n+1; 0 leaves both ephemeral', () => {
    expect(run(['--port', '7400'])).toMatchObject({ port: 7400, publisherPort: 7401 });
    expect(run(['--port', '65534'])).toMatchObject({ port: 65534, publisherPort: 65535 });
    expect(run(['--port', '0'])).toMatchObject({ port: 0, publisherPort: 0 });
  });

  it('--task-heap is a size of at least 32 MiB, kept in whole MiB', () => {
    expect(run(['--task-heap', '2g']).taskHeapMb).toBe(2048);
    expect(run(['--task-heap', '33554432']).taskHeapMb).toBe(32);
    expect(() => run(['--task-heap', '16m'])).toThrow(/--task-heap "16m": less than 32 MiB/);
    expect(() => run(['--task-heap', 'lots'])).toThrow(/not a size/);
  });

  it('--memory accepts bytes and binary units', () => {
    const sizes: [string, number][] = [
      ['1048576', 1_048_576],
      ['512m', 536_870_912],
      ['512M', 536_870_912],
      ['2g', 2_147_483_648],
      ['2GiB', 2_147_483_648],
      ['1.5g', 1_610_612_736],
      ['4096k', 4_194_304],
      ['1t', 1_099_511_627_776],
      ['3145728b', 3_145_728],
    ];
    for (const [text, bytes] of sizes) expect(run(['--memory', text]).memoryBytes).toBe(bytes);
  });

  it('--peers: repeated flags join, duplicates drop, IPv6 in brackets', () => {
    const config = run(['--peers', '127.0.0.1:7000, [::1]:7000', '--peers', '127.0.0.1:7000,localhost:7100']);
    expect(config.peers).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '::1', port: 7000 },
      { host: 'localhost', port: 7100 },
    ]);
  });

  it('--data-dir is made absolute', () => {
    expect(run(['--data-dir', 'rel/blocks']).dataDir).toBe(resolve('rel/blocks'));
  });

  it('--bind localhost means 127.0.0.1; ::1 and 127.0.0.0/8 are loopback', () => {
    expect(run(['--bind', 'localhost']).bind).toBe('127.0.0.1');
    expect(run(['--bind', '::1']).bind).toBe('::1');
    expect(run(['--bind', '[::1]']).bind).toBe('::1');
    expect(loopbackOnly(run(['--bind', '127.1.2.3']))).toBe(true);
  });

  it('--heartbeat-ms alone scales the dead-after default (5 heartbeats)', () => {
    expect(run(['--heartbeat-ms', '2000'])).toMatchObject({ heartbeatMs: 2000, deadAfterMs: 10_000 });
    expect(run(['--heartbeat-ms', '100'])).toMatchObject({ heartbeatMs: 100, deadAfterMs: 500 });
    expect(run(['--heartbeat-ms', '100', '--dead-after-ms', '300'])).toMatchObject({ deadAfterMs: 300 });
  });
});

describe('the cluster secret', () => {
  it('from MICROSPARK_SECRET allows a LAN bind and remote peers', () => {
    const config = run(['--bind', '0.0.0.0', '--peers', '192.168.1.20:7400,node2.lan:7400'], {
      MICROSPARK_SECRET: SECRET,
    });
    expect(config.secret?.reveal()).toBe(SECRET);
    expect(config.bind).toBe('0.0.0.0');
    expect(config.peers).toEqual([
      { host: '192.168.1.20', port: 7400 },
      { host: 'node2.lan', port: 7400 },
    ]);
    expect(loopbackOnly(config)).toBe(false);
  });

  it('from --secret-file or MICROSPARK_SECRET_FILE, surrounding whitespace trimmed', () => {
    const path = secretFile('ok.secret', `  ${SECRET}\n`);
    expect(run(['--bind', '192.168.1.5', '--secret-file', path]).secret?.reveal()).toBe(SECRET);
    expect(run(['--bind', '192.168.1.5'], { MICROSPARK_SECRET_FILE: path }).secret?.reveal()).toBe(SECRET);
  });

  it('--secret-file wins over MICROSPARK_SECRET', () => {
    const path = secretFile('file.secret', 'from-the-file');
    expect(run(['--secret-file', path], { MICROSPARK_SECRET: SECRET }).secret?.reveal()).toBe(
      'from-the-file',
    );
  });

  it('is used on loopback too, where it is optional', () => {
    const config = run([], { MICROSPARK_SECRET: SECRET });
    expect(config.secret?.reveal()).toBe(SECRET);
    expect(loopbackOnly(config)).toBe(true);
  });

  it("prints as '[secret]' in every form", () => {
    const config = run([], { MICROSPARK_SECRET: SECRET });
    const secret = config.secret!;
    expect(String(secret)).toBe('[secret]');
    expect(secret.toString()).toBe('[secret]');
    expect(JSON.stringify(secret)).toBe('"[secret]"');
    expect(inspect(secret)).toBe('[secret]');
    expect(Object.keys(secret)).toEqual([]);
    const json = JSON.stringify(config);
    expect(json).toContain('"secret":"[secret]"');
    expect(json).not.toContain(SECRET);
    expect(inspect(config, { depth: 10, showHidden: true })).toContain('secret: [secret]');
    expect(inspect(config, { depth: 10, showHidden: true })).not.toContain(SECRET);
  });

  it('cannot be empty', () => {
    expect(() => new Secret('')).toThrow(RangeError);
  });
});

describe('errors', () => {
  it('a LAN --bind without a secret explains how to set one', () => {
    const e = configError(['--bind', '192.168.1.5']);
    expect(e.option).toBe('--bind');
    expect(e.message).toContain('--bind "192.168.1.5" is not a loopback address');
    expect(e.message).toContain('binding a LAN address requires a cluster secret');
    expect(e.message).toContain('--secret-file <path>');
    expect(e.message).toContain('MICROSPARK_SECRET');
    expect(errorToWire(e)).toMatchObject({ name: 'ConfigError', data: { option: '--bind' } });

    for (const bind of ['0.0.0.0', '::', '10.0.0.1', 'fe80::1', '128.0.0.1']) {
      expect(configError(['--bind', bind]).message).toContain('requires a cluster secret');
    }
    const fromEnv = configError([], { MICROSPARK_BIND: '10.1.2.3' });
    expect(fromEnv.message).toContain('MICROSPARK_BIND="10.1.2.3" (the environment form of --bind)');
  });

  it('a LAN --bind with an empty secret file names the file and never the secret', () => {
    const empty = secretFile('empty.secret', ' \n\n');
    const e = configError(['--bind', '192.168.1.5', '--secret-file', empty], { MICROSPARK_SECRET: SECRET });
    expect(e.option).toBe('--secret-file');
    expect(e.message).toContain(
      `The cluster secret file ${JSON.stringify(empty)} given by --secret-file is empty`,
    );
  });

  it('an unreadable secret file is named with the reason', () => {
    const missing = join(dir, 'missing.secret');
    const e = configError(['--secret-file', missing]);
    expect(e.option).toBe('--secret-file');
    expect(e.message).toContain(`Cannot read the cluster secret file ${JSON.stringify(missing)}`);
    expect(e.message).toContain('ENOENT');
    expect(configError(['--secret-file', dir]).message).toContain('EISDIR');
    expect(configError([], { MICROSPARK_SECRET_FILE: missing }).message).toContain(
      'given by MICROSPARK_SECRET_FILE (the environment form of --secret-file)',
    );
  });

  it('remote --peers without a secret', () => {
    const e = configError(['--peers', '127.0.0.1:7000,192.168.1.20:7400']);
    expect(e.option).toBe('--peers');
    expect(e.message).toContain('names 192.168.1.20:7400, which is not on this machine');
    expect(e.message).toContain('requires a cluster secret');
  });

  it('both secret variables set is ambiguous', () => {
    const path = secretFile('amb.secret', 'other');
    const e = configError([], { MICROSPARK_SECRET: SECRET, MICROSPARK_SECRET_FILE: path });
    expect(e.message).toContain('Both MICROSPARK_SECRET and MICROSPARK_SECRET_FILE are set');
  });

  it('--cpus 0, and --cpus above --slots', () => {
    expect(configError(['--cpus', '0']).message).toBe(
      'Invalid --cpus "0": a worker needs at least 1 CPU. ' +
        "Fix: pass --cpus <n> with 1 <= n <= --slots, or leave it out to share the host's CPUs among its workers.",
    );
    const e = configError(['--slots', '2', '--cpus', '3']);
    expect(e.option).toBe('--cpus');
    expect(e.message).toBe(
      'Invalid --cpus "3": it is more than the 2 slots, and a task runs in a slot. ' +
        "Fix: pass --cpus <n> with 1 <= n <= --slots, or leave it out to share the host's CPUs among its workers.",
    );
    expect(configError([], { MICROSPARK_SLOTS: '1', MICROSPARK_CPUS: '2' }).message).toContain(
      'Invalid MICROSPARK_CPUS="2" (the environment form of --cpus): it is more than the 1 slot,',
    );
    expect(run(['--slots', '4']).cpus).toBe(undefined);
    expect(run(['--slots', '4', '--cpus', '4']).cpus).toBe(4);
  });

  it('--slots 0', () => {
    const e = configError(['--slots', '0']);
    expect(e.option).toBe('--slots');
    expect(e.message).toBe(
      'Invalid --slots "0": a worker needs at least 1 slot. ' +
        'Fix: pass --slots <n> with n >= 1, or leave it out to use one slot per CPU.',
    );
    expect(configError(['--slots', '2.5']).message).toContain('the number of slots must be a whole number');
    expect(configError(['--slots=-1']).message).toContain('the number of slots must be a whole number');
    expect(configError([], { MICROSPARK_SLOTS: 'four' }).message).toContain(
      'Invalid MICROSPARK_SLOTS="four" (the environment form of --slots)',
    );
  });

  it('--port 70000 and 65535', () => {
    const e = configError(['--port', '70000']);
    expect(e.option).toBe('--port');
    expect(e.message).toBe(
      'Invalid --port "70000": a TCP port is at most 65535. ' +
        'Fix: pass --port <n> with 0 <= n <= 65534 (0 = any free port).',
    );
    expect(configError(['--port', '65535']).message).toContain('the record publisher listens on port+1');
    expect(configError(['--port', '0x10']).message).toContain('the port must be a whole number');
  });

  it('--memory 12q and sizes below 1 MiB', () => {
    const e = configError(['--memory', '12q']);
    expect(e.option).toBe('--memory');
    expect(e.message).toBe(
      'Invalid --memory "12q": not a size. Fix: pass a size like --memory 512m, --memory 2g or ' +
        '--memory 1048576 (bytes); units k, m, g, t are powers of 1024.',
    );
    expect(configError(['--memory', '1']).message).toContain(
      'less than 1 MiB (a size without a unit is in bytes)',
    );
    expect(configError(['--memory', '0g']).message).toContain('less than 1 MiB');
    expect(configError(['--memory', 'g']).message).toContain('not a size');
  });

  it('--max-bytes-in-flight below 64 KiB', () => {
    const e = configError(['--max-bytes-in-flight', '1000']);
    expect(e.option).toBe('--max-bytes-in-flight');
    expect(e.message).toBe(
      'Invalid --max-bytes-in-flight "1000": less than 64 KiB (a size without a unit is in bytes). ' +
        'Fix: pass a size like --max-bytes-in-flight 48m (at least 64k), or leave it out for the default.',
    );
    expect(run(['--max-bytes-in-flight', '64k']).maxBytesInFlight).toBe(65_536);
  });

  it('malformed --peers', () => {
    const malformed: [string, string][] = [
      ['127.0.0.1', 'entry "127.0.0.1" is not host:port'],
      ['127.0.0.1:7000,', 'entry "" is not host:port'],
      ['127.0.0.1:x', 'entry "127.0.0.1:x" is not host:port'],
      ['::1:7000', 'entry "::1:7000" is not host:port'],
      ['127.0.0.1:0', 'entry "127.0.0.1:0" has a port outside 1-65535'],
      ['127.0.0.1:65536', 'entry "127.0.0.1:65536" has a port outside 1-65535'],
      ['bad_host:7000', 'entry "bad_host:7000" has an invalid host'],
      ['999.1.1.1:7000', 'entry "999.1.1.1:7000" has an invalid host'],
      ['[127.0.0.1]:7000', 'entry "[127.0.0.1]:7000" has an invalid host'],
    ];
    for (const [peers, problem] of malformed) {
      const e = configError(['--peers', peers], { MICROSPARK_SECRET: SECRET });
      expect(e.option).toBe('--peers');
      expect(e.message).toContain(`Invalid --peers ${JSON.stringify(peers)}: ${problem}.`);
      expect(e.message).toContain('Fix: pass --peers host:port,host:port');
    }
  });

  it('--bind that is not an IP address', () => {
    const e = configError(['--bind', 'eth0']);
    expect(e.message).toContain('Invalid --bind "eth0": not an IP address.');
  });

  it('--locality-wait-ms that is not a whole number, or above a minute', () => {
    const e = configError(['--locality-wait-ms', '2.5']);
    expect(e.option).toBe('--locality-wait-ms');
    expect(e.message).toContain('the locality wait must be a whole number');
    expect(e.message).toContain('pass --locality-wait-ms <n> with 0 <= n <= 60000');
    expect(configError(['--locality-wait-ms', '60001']).message).toContain('at most 60000 ms');
    expect(run(['--locality-wait-ms', '60000']).localityWaitMs).toBe(60000);
  });

  it('--dead-after-ms below 3 heartbeats', () => {
    const e = configError(['--dead-after-ms', '2999']);
    expect(e.option).toBe('--dead-after-ms');
    expect(e.message).toContain('at least 3 heartbeats of silence, and the heartbeat interval is 1000 ms');
    expect(e.message).toContain('pass --dead-after-ms <n> with n >= 3000');
    expect(run(['--dead-after-ms', '3000']).deadAfterMs).toBe(3000);
    expect(configError(['--heartbeat-ms', '2000', '--dead-after-ms', '5000']).message).toContain('n >= 6000');
    expect(configError(['--heartbeat-ms', '5']).message).toContain('at least 10 ms');
  });

  it('--log-level and --cluster values', () => {
    expect(configError(['--log-level', 'trace']).message).toBe(
      'Invalid --log-level "trace": must be one of error, warn, info, debug. ' +
        'Fix: pass --log-level error|warn|info|debug.',
    );
    expect(configError(['--cluster', '']).message).toContain('a cluster name is 1 to 64 letters');
    expect(configError(['--cluster', 'a b']).option).toBe('--cluster');
  });

  it('unknown flags, missing values and positionals', () => {
    const unknown = configError(['--slot', '2']);
    expect(unknown.option).toBe('--slot');
    expect(unknown.message).toBe(
      "Unknown option '--slot'. Run microspark-worker --help for the list of options.",
    );
    const secretFlag = configError([`--secret=${SECRET}`], { MICROSPARK_SECRET: SECRET });
    expect(secretFlag.option).toBe('--secret');
    expect(secretFlag.message).toContain('The secret is never a flag: use --secret-file <path>');
    expect(configError(['--port']).message).toBe(
      "Option '--port <value>' argument missing. Run microspark-worker --help for the list of options.",
    );
    expect(configError(['--help=yes']).option).toBe('--help');
    // Node's own wording, kept whole because it carries the fix.
    const ambiguous = configError(['--slots', '-1']);
    expect(ambiguous.option).toBe('--slots');
    expect(ambiguous.message).toContain("use '--slots=-XYZ'. Run microspark-worker --help");
    // A stray argument is echoed, except the secret itself.
    expect(configError(['stray']).message).toContain("Unexpected argument 'stray'");
    expect(configError([SECRET], { MICROSPARK_SECRET: SECRET }).message).toContain(
      "Unexpected argument '[secret]'",
    );
  });
});

describe('help and version', () => {
  it('--help / -h and --version / -v win over other flags, even invalid values', () => {
    expect(parseWorkerConfig(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseWorkerConfig(['-h'], {})).toEqual({ kind: 'help' });
    expect(parseWorkerConfig(['--slots', '0', '--help'], { MICROSPARK_BIND: '10.0.0.1' })).toEqual({
      kind: 'help',
    });
    expect(parseWorkerConfig(['--version'], {})).toEqual({ kind: 'version' });
    expect(parseWorkerConfig(['-v', '--port', '70000'], {})).toEqual({ kind: 'version' });
    expect(parseWorkerConfig(['--help', '--version'], {})).toEqual({ kind: 'help' });
  });

  it('the help names every flag and its defaults', () => {
    for (const flag of [
      '--slots <n>',
      '--cpus <n>',
      '--bind <address>',
      '--port <n>',
      '--peers <host:port,...>',
      '--cluster <name>',
      '--secret-file <path>',
      '--data-dir <path>',
      '--memory <size>',
      '--log-level <level>',
      '--heartbeat-ms <n>',
      '--dead-after-ms <n>',
      '--locality-wait-ms <n>',
      '(default: 20)',
      '-h, --help',
      '-v, --version',
      'MICROSPARK_SECRET',
      'MICROSPARK_<NAME>',
      '(default: 127.0.0.1)',
      '(default: 1g)',
      '(default: info)',
      '(default: 1000)',
    ]) {
      expect(WORKER_HELP).toContain(flag);
    }
  });
});

describe('loopback and cluster id', () => {
  it('isLoopbackAddress', () => {
    for (const host of [
      '127.0.0.1',
      '127.255.255.254',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'LOCALHOST',
    ])
      expect(isLoopbackAddress(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '192.168.1.1', 'fe80::1', 'node2', 'localhost.example'])
      expect(isLoopbackAddress(host)).toBe(false);
  });

  it('deriveClusterId is 16 hex digits, stable, and depends on the name and the secret', () => {
    const a = deriveClusterId('default', new Secret(SECRET));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(deriveClusterId('default', new Secret(SECRET))).toBe(a);
    expect(deriveClusterId('default', new Secret(`${SECRET}x`))).not.toBe(a);
    expect(deriveClusterId('other', new Secret(SECRET))).not.toBe(a);
    expect(deriveClusterId('default')).not.toBe(a);
    expect(deriveClusterId('default')).toBe(deriveClusterId('default'));
    expect(deriveClusterId('ab', new Secret('c'))).not.toBe(deriveClusterId('a', new Secret('bc')));
  });

  it('deriveClusterId pins its exact derivation', () => {
    // Peers of different versions must agree: changing the derivation is a protocol change.
    expect(deriveClusterId('default')).toBe('0311f41478f0580e');
    expect(deriveClusterId('default', new Secret('s3cret'))).toBe('e0197cb45ba70e75');
  });
});
