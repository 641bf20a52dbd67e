#!/usr/bin/env node
/**
 * The worker daemon: parse flags → validate config → start → wire signals. Prints one JSON line
 * `{"ready":true,...}` on stdout once it serves; logs are JSON lines on stderr.
 * With MICROSPARK_EXIT_WITH_STDIN=1 (set by MicroSpark.local for the workers it spawns) the
 * daemon exits when its standard input closes, so it never outlives the client that started it.
 */
import { ConfigError } from '../src/protocol/errors.js';
import { LEASE_RENEW_INTERVAL_MS } from '../src/protocol/defaults.js';
import { deriveClusterId, parseWorkerConfig, WORKER_HELP } from '../src/worker/config.js';
import { MdnsDiscovery } from '../src/discovery/mdns.js';
import { Worker } from '../src/worker/worker.js';
import { packageVersion } from '../src/cli/version.js';
import { deriveCurveKeys } from '../src/partition-server/curve.js';
import { sweepScratch } from '../src/sql/exec/scratch.js';

const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;

async function main(): Promise<number> {
  let command;
  try {
    command = parseWorkerConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`microspark-worker: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (command.kind === 'help') {
    console.log(WORKER_HELP);
    return 0;
  }
  if (command.kind === 'version') {
    console.log(packageVersion());
    return 0;
  }
  const config = command.config;
  const level = LEVELS[config.logLevel];
  const log = (lvl: keyof typeof LEVELS, msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[lvl] <= level)
      console.error(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...fields }));
  };
  const worker = await Worker.start({
    slots: config.slots,
    cpus: config.cpus,
    host: config.bind,
    port: config.port,
    cluster: config.cluster,
    peers: config.peers.map((p) => `tcp://${p.host}:${p.port}`),
    dataDir: config.dataDir,
    memoryBytes: config.memoryBytes,
    maxBytesInFlight: config.maxBytesInFlight,
    ...(config.taskHeapMb !== undefined && { taskHeapMb: config.taskHeapMb }),
    heartbeatMs: config.heartbeatMs,
    deadAfterMs: config.deadAfterMs,
    localityWaitMs: config.localityWaitMs,
    leaseRenewMs: Math.min(LEASE_RENEW_INTERVAL_MS, Math.max(config.heartbeatMs, 100)),
    requestTimeoutMs: Math.max(2000, 2 * config.heartbeatMs),
    ...(config.secret && { curve: deriveCurveKeys(config.secret.reveal()) }),
    log,
  });
  console.log(
    JSON.stringify({
      ready: true,
      node: worker.node.identity.node,
      rpc: worker.node.identity.rpc,
      pid: process.pid,
    }),
  );
  const swept = sweepScratch();
  if (swept > 0) log('info', 'removed scratch files of processes no longer running', { entries: swept });
  log('info', 'worker started', {
    node: worker.node.identity.node,
    rpc: worker.node.identity.rpc,
    slots: config.slots,
    cpus: config.cpus,
  });

  const discovery = config.mdns
    ? MdnsDiscovery.start({
        clusterId: deriveClusterId(config.cluster, config.secret),
        node: worker.node.identity.node,
        incarnation: worker.node.identity.incarnation,
        authenticated: config.secret !== undefined,
        publish: {
          rpcPort: Number(worker.node.identity.rpc.split(':').pop()),
          pubPort: Number(worker.node.identity.pub.split(':').pop()),
          role: 'worker',
        },
      })
    : undefined;
  discovery?.on('hint', (h) => void worker.node.connect(h.endpoint));
  discovery?.on('warning', (e) => log('debug', 'mdns warning', { error: String(e) }));

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string) => {
    stopping ??= (async () => {
      log('info', 'stopping', { why });
      await discovery?.stop(); // mDNS goodbye first: peers stop trying us
      await worker.stop();
      log('info', 'stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (process.env.MICROSPARK_EXIT_WITH_STDIN === '1') {
    process.stdin.on('end', () => shutdown('parent gone (stdin closed)'));
    process.stdin.on('error', () => shutdown('parent gone (stdin error)'));
    process.stdin.resume();
  }
  return -1; // keep running
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    // A flag the machine cannot honour (a --bind address it lacks): the message says what to do.
    if (e instanceof ConfigError) {
      console.error(`microspark-worker: ${e.message}`);
      process.exit(2);
    }
    console.error(`microspark-worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
