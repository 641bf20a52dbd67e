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
}

/** Joins, waits `waitMs` for records and snapshots, and reports. */
export async function collectStatus(connection: Connection, waitMs: number): Promise<StatusReport> {
  if (connection.kind !== 'connect')
    throw new ConfigError(
      'status looks at a running cluster: pass --peers host:port,… or --cluster <name>',
      '--peers',
    );
  const sc = await MicroSpark.connect({
    peers: connection.peers,
    minWorkers: 0,
    ...(connection.cluster !== undefined && { cluster: connection.cluster }),
    ...(connection.cluster !== undefined && connection.peers.length === 0 && { discovery: 'mdns' as const }),
    ...(connection.secret !== undefined && { secret: connection.secret }),
  });
  try {
    await new Promise((r) => setTimeout(r, waitMs));
    const cluster = sc.cluster!;
    return {
      client: cluster.node.identity.rpc,
      workers: cluster.workerStatus(),
      records: cluster.seenRecords(),
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
  return lines.join('\n');
}
