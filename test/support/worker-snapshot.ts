/** Reads a worker daemon's own record (slots, free slots, stored blocks) through its partition server. */
import { RpcClient } from '../../src/partition-server/rpc.js';

export interface WorkerState {
  readonly slots: number;
  readonly free: number;
  readonly blocks: number;
}

/** The worker record a daemon at `rpc` reports right now. */
export async function workerState(rpc: string): Promise<WorkerState> {
  const client = new RpcClient(rpc);
  try {
    const r = (await client.request({ op: 'snapshot' }, { timeoutMs: 2000 })) as {
      records: Array<{ kind: string } & Partial<WorkerState>>;
    };
    const own = r.records.find((x) => x.kind === 'worker');
    if (!own) throw new Error(`no worker record from ${rpc}`);
    return { slots: own.slots ?? 0, free: own.free ?? 0, blocks: own.blocks ?? 0 };
  } finally {
    await client.close();
  }
}
