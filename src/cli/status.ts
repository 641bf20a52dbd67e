/**
 * `microspark status [--json]`: joins the cluster as a client for a moment and reports the peers
 * and records it sees (workers with their slots and blocks, announced jobs and blocks).
 */
import { MicroSpark } from '../client/context.js';
import type { SeenRecords, WorkerStatus } from '../client/cluster-backend.js';
import { workersTable } from '../console/commands.js';
import { formatBytes } from '../console/format.js';
import { hostPort } from '../console/view-model.js';
import { ConfigError } from '../protocol/errors.js';
import type { Connection } from './connection.js';

/** What `status` reports. */
export interface StatusReport {
  readonly client: string;
  readonly workers: readonly WorkerStatus[];
  readonly records: SeenRecords;
  /** `--peers` entries that did not answer within the wait (nothing listening, or a wrong secret). */
  readonly unreachable: readonly string[];
}

/**
 * Joins, waits `waitMs` for records and snapshots, and reports. Each `--peers` entry is asked
 * within that wait too: one that does not answer is listed in `unreachable`.
 */
export async function collectStatus(connection: Connection, waitMs: number): Promise<StatusReport> {
  if (connection.kind !== 'connect')
    throw new ConfigError(
      'status looks at a running cluster: pass --peers host:port,… or --cluster <name>',
      '--peers',
    );
  const sc = await MicroSpark.connect({
    peers: [],
    minWorkers: 0,
    ui: false,
    ...(connection.cluster !== undefined && { cluster: connection.cluster }),
    ...(connection.cluster !== undefined && connection.peers.length === 0 && { discovery: 'mdns' as const }),
    ...(connection.secret !== undefined && { secret: connection.secret }),
    ...(connection.bind !== undefined && { bind: connection.bind }),
  });
  try {
    const cluster = sc.cluster!;
    const answered = new Set<string>();
    for (const peer of connection.peers) {
      void cluster.node.connect(`tcp://${peer.replace(/^tcp:\/\//, '')}`).then((id) => {
        if (id) answered.add(peer);
      });
    }
    await new Promise((r) => setTimeout(r, waitMs));
    return {
      client: cluster.node.identity.rpc,
      workers: cluster.workerStatus(),
      records: cluster.seenRecords(),
      unreachable: connection.peers.filter((p) => !answered.has(p)),
    };
  } finally {
    await sc.stop();
  }
}

/** The report as text for people. */
export function formatStatus(r: StatusReport): string {
  const lines = [
    `${r.workers.length} worker${r.workers.length === 1 ? '' : 's'} seen from ${hostPort(r.client)}`,
  ];
  if (r.workers.length > 0) lines.push(workersTable(r.workers, true));
  lines.push(`${r.records.jobs.length} job records, ${r.records.blocks.length} block records`);
  for (const j of r.records.jobs)
    lines.push(`  job ${j.jobId} attempt ${j.attempt} at ${hostPort(j.source)}`);
  for (const b of r.records.blocks.slice(0, 50))
    lines.push(`  block ${b.blockId} (${formatBytes(b.bytes)}) at ${hostPort(b.holder)}`);
  if (r.records.blocks.length > 50) lines.push(`  … ${r.records.blocks.length - 50} more blocks`);
  const sections = r.records.blocks.filter((b) => b.section);
  if (sections.length > 0) {
    lines.push(`column sections (${sections.length}): the workers' catalogs of structured data`);
    for (const b of sections.slice(0, 50)) {
      const s = b.section!;
      lines.push(`  ${b.blockId} at ${hostPort(b.holder)}: ${s.rows} rows, ${formatBytes(s.bytes)}`);
      for (const c of s.columns)
        lines.push(`    ${c.name} ${c.type}${c.min !== undefined ? ` [${c.min} … ${c.max ?? ''}]` : ''}`);
    }
    if (sections.length > 50) lines.push(`  … ${sections.length - 50} more sections`);
  }
  return lines.join('\n');
}
