import { describe, expect, it } from 'vitest';
import { mapDataId, shuffleBlockId } from '../../src/protocol/block-ids.js';
import { encode } from '../../src/protocol/codec.js';
import { FetchFailedError } from '../../src/protocol/errors.js';
import type { PeerIdentity } from '../../src/protocol/messages.js';
import { packMapOutput } from '../../src/rdd/map-output.js';
import type { TaskDesc } from '../../src/rdd/lineage.js';
import { MapOutputView } from '../../src/worker/map-outputs.js';
import { TaskServiceHost, type TaskNetwork, type TaskStore } from '../../src/worker/task-services.js';

const id = (node: string): PeerIdentity => ({
  node,
  incarnation: 1,
  role: 'worker',
  rpc: `mem://${node}:1`,
  pub: `mem://${node}:2`,
});
const bytes = (...xs: number[]) => new Uint8Array(xs);

function setup() {
  const calls: string[] = [];
  const peers = [id('w2'), id('client')];
  /** What each peer serves: node → block/slice/broadcast id → bytes. */
  const served = new Map<string, Map<string, Uint8Array>>([
    ['w2', new Map()],
    ['w3', new Map()],
    ['client', new Map()],
  ]);
  const net: TaskNetwork = {
    identity: id('w1'),
    peers: () => peers.map((identity) => ({ identity })),
    connect: (endpoint) => {
      calls.push(`connect ${endpoint}`);
      const p = endpoint === 'mem://w3:1' ? id('w3') : undefined;
      if (p) peers.push(p);
      return Promise.resolve(p);
    },
    fetchChunk: (node, what, blockId, _index, offset, length) => {
      calls.push(`chunk ${node} ${blockId} ${offset}+${length}`);
      const data = served.get(node)?.get(blockId);
      if (!data) return Promise.reject(new Error(`${what} ${blockId} is not stored here`));
      return Promise.resolve({ data: data.subarray(offset, offset + length), total: data.byteLength });
    },
    fetchAll: (node, what, blockId, index) => {
      calls.push(`all ${node} ${what} ${blockId}/${index}`);
      const data = served.get(node)?.get(what === 'slice' ? `${blockId}/${index}` : blockId);
      return data ? Promise.resolve(data) : Promise.reject(new Error('gone'));
    },
  };
  const local = new Map<string, { data: Uint8Array; index?: readonly number[] }>();
  const store: TaskStore = {
    get: (k) => Promise.resolve(local.get(k)?.data),
    indexOf: (k) => local.get(k)?.index,
    getRange: (k, s, e) => Promise.resolve(local.get(k)?.data.subarray(s, e)),
  };
  const maps = new MapOutputView();
  const counters = { bucketsReadLocal: 0, bucketsFetched: 0, bucketsSkippedEmpty: 0, bucketFetchRequests: 0 };
  const host = new TaskServiceHost(net, store, maps, counters, {
    requestTimeoutMs: 1000,
    maxBytesInFlight: 4,
  });
  return { calls, served, local, maps, counters, host };
}

const task = (extra: Partial<TaskDesc> = {}): TaskDesc => ({
  stageId: 0,
  attempt: 0,
  nodes: {},
  root: 'r',
  partition: 1,
  output: { kind: 'result', fn: { t: 'fn', src: 'x => x', env: {} } as never },
  ...extra,
});

describe('TaskServiceHost (what a task asks its worker for)', () => {
  it('reads a shuffle bucket here, skips an empty one, fetches the others in chunks within the bound', async () => {
    const { host, local, served, maps, counters, calls } = setup();
    // Map 0 is stored here; map 1 at w2 is empty for reduce 1; map 2 at w3 (met on demand); map 3 at w2.
    const out0 = packMapOutput([bytes(9), bytes(1, 2, 3)]);
    local.set(mapDataId('s', 0), out0);
    maps.add('s', 1, 'w2', 'mem://w2:1', [5, 0]);
    maps.add('s', 2, 'w3', 'mem://w3:1', [0, 6]);
    served.get('w3')!.set(shuffleBlockId('s', 2, 1), bytes(1, 2, 3, 4, 5, 6));
    served.get('w2')!.set(shuffleBlockId('s', 3, 1), bytes(7, 7));
    const desc = task({ locations: { s: ['mem://w1:1', 'mem://w2:1', 'mem://w3:1', 'mem://w2:1'] } });
    const read = await host.forTask('client', desc).readShuffle('s', 1, 4);
    expect(read.buckets.map((b) => [...b])).toEqual([[1, 2, 3], [], [1, 2, 3, 4, 5, 6], [7, 7]]);
    expect(counters).toEqual({
      bucketsReadLocal: 1,
      bucketsFetched: 2,
      bucketsSkippedEmpty: 1,
      bucketFetchRequests: 3,
    });
    expect(calls.filter((c) => c.startsWith('connect'))).toEqual(['connect mem://w3:1']);
    expect(calls.filter((c) => c.startsWith('chunk w3'))).toEqual([
      `chunk w3 ${shuffleBlockId('s', 2, 1)} 0+4`,
      `chunk w3 ${shuffleBlockId('s', 2, 1)} 4+2`,
    ]);
  });

  it('a bucket it cannot read fails with a FetchFailedError naming the map output', async () => {
    const { host } = setup();
    const desc = task({ locations: { s: ['', 'mem://w2:1'] } });
    const e = await host.readShuffle(desc, 's', 0, 2).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(FetchFailedError);
    expect((e as FetchFailedError).mapIndex).toBe(0);
    expect((e as FetchFailedError).message).toBe(
      'could not fetch map output 0 of shuffle s: its location is unknown',
    );
  });

  it('fetches a broadcast once per worker, again after a failed fetch or a drop', async () => {
    const { host, served, calls } = setup();
    const services = host.forTask('client', task());
    await expect(services.broadcastValue('b')).rejects.toThrow('gone');
    const value = Uint8Array.from(encode({ k: 3 }));
    served.get('client')!.set('b', value);
    expect(await services.broadcastValue('b')).toEqual({ k: 3 });
    expect(await host.forTask('client', task()).broadcastValue('b')).toEqual({ k: 3 });
    host.dropBroadcasts(['b']);
    expect(await services.broadcastBytes!('b')).toBe(value);
    expect(calls).toEqual([
      'all client broadcast b/0',
      'all client broadcast b/0',
      'all client broadcast b/0',
    ]);
  });

  it('reads a persisted block only where the task says it is; a lost one is recomputed (undefined)', async () => {
    const { host, local, served, calls } = setup();
    local.set('rdd_n_0', { data: bytes(1) });
    local.set('rdd_n_3', { data: bytes(3) }); // a stale copy the client does not list
    served.get('w2')!.set('rdd_n_1', bytes(2));
    const desc = task({ blocks: { rdd_n_0: 'mem://w1:1', rdd_n_1: 'mem://w2:1', rdd_n_2: 'mem://w9:1' } });
    const s = host.forTask('client', desc);
    expect(await s.readBlock('rdd_n_0')).toEqual(bytes(1));
    expect(await s.readBlock('rdd_n_1')).toEqual(bytes(2));
    expect(await s.readBlock('rdd_n_2')).toBeUndefined(); // its holder does not answer
    expect(await s.readBlock('rdd_n_3')).toBeUndefined();
    served.get('w2')!.delete('rdd_n_1');
    expect(await s.readBlock('rdd_n_1')).toBeUndefined();
    expect(calls).toEqual(['all w2 block rdd_n_1/0', 'connect mem://w9:1', 'all w2 block rdd_n_1/0']);
  });

  it('reads a slice of client-hosted data from the task’s client', async () => {
    const { host, served, calls } = setup();
    served.get('client')!.set('d/2', bytes(4, 2));
    expect(await host.forTask('client', task()).readSlice('d', 2)).toEqual(bytes(4, 2));
    expect(calls).toEqual(['all client slice d/2']);
  });
});
