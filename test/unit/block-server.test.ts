import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { BlockStore } from '../../src/partition-server/block-store.js';
import {
  mapDataId,
  mapOutputId,
  rddBlockId,
  shuffleBlockId,
  shufflePrefix,
} from '../../src/protocol/block-ids.js';
import { FETCH_CHUNK_BYTES } from '../../src/protocol/defaults.js';
import type { PeerIdentity, Record as WireRecord } from '../../src/protocol/messages.js';
import type { ShuffleSpec, TaskDesc } from '../../src/rdd/lineage.js';
import { packMapOutput } from '../../src/rdd/map-output.js';
import { BlockServer } from '../../src/worker/block-server.js';
import { MapOutputView } from '../../src/worker/map-outputs.js';

const S1 = 'abcdefghij_1234567890a';
const S2 = 'zyxwvutsrq_0987654321b';
const NODE = 'nodenodeno_nodenode12c';
const self: PeerIdentity = {
  node: 'w1',
  incarnation: 1,
  role: 'worker',
  rpc: 'mem://w1:1',
  pub: 'mem://w1:2',
};
const spec = (id: string): ShuffleSpec => ({
  id,
  parent: NODE,
  numMaps: 2,
  partitioner: { kind: 'hash', n: 3 },
  mapSideCombine: false,
});
const mapTask = (id: string, partition: number): TaskDesc => ({
  stageId: 0,
  attempt: 0,
  nodes: {},
  root: NODE,
  partition,
  output: { kind: 'shuffle', shuffle: spec(id) },
});
const fetch = (id: string, offset = 0, length = FETCH_CHUNK_BYTES) =>
  ({ op: 'fetch', what: 'block', id, index: 0, offset, length }) as const;

const dirs: string[] = [];
const stores: BlockStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'block-server-'));
  dirs.push(dir);
  const store = new BlockStore({ memoryBytes: 1 << 20, dir });
  stores.push(store);
  const published: WireRecord[] = [];
  const clock: Clock & { t: number } = {
    t: 0,
    now: () => clock.t,
    setTimeout: () => ({ cancel: () => undefined }),
    setInterval: () => ({ cancel: () => undefined }),
  };
  const maps = new MapOutputView();
  const server = new BlockServer(
    store,
    { identity: self, publish: (r) => published.push(r) },
    maps,
    clock,
    100,
  );
  return { store, published, clock, maps, server };
}

const result = (mapOutput?: ReturnType<typeof packMapOutput>, blocks: Array<[string, Uint8Array]> = []) => ({
  ...(mapOutput && { mapOutput }),
  blocks,
  accumulators: [],
});

describe('BlockServer (the blocks a worker stores, announces and serves)', () => {
  it('stores a map output as one block and announces it with its bucket sizes; serves each bucket by range', async () => {
    const { server, published, maps, store } = await setup();
    const out = packMapOutput([new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3, 4, 5, 6])]);
    await server.storeOutputs(mapTask(S1, 1), result(out), 'c1');
    expect(store.list().map((b) => b.id)).toEqual([mapDataId(S1, 1)]);
    expect(published).toEqual([
      { kind: 'rdd', blockId: mapOutputId(S1, 1), holder: self, bytes: 6, owner: 'c1', buckets: [2, 0, 4] },
    ]);
    expect(maps.holder(S1, 1, 'elsewhere')).toBe(self.rpc);
    expect(maps.bucketSize(S1, 1, self.rpc, 2)).toBe(4);
    const b2 = await server.fetch(fetch(shuffleBlockId(S1, 1, 2), 1, 2));
    expect({ data: [...b2.data], total: b2.total }).toEqual({ data: [4, 5], total: 4 });
    const b0 = await server.fetch(fetch(shuffleBlockId(S1, 1, 0)));
    expect({ data: [...b0.data], total: b0.total }).toEqual({ data: [1, 2], total: 2 });
    await expect(server.fetch(fetch(shuffleBlockId(S1, 1, 3)))).rejects.toThrow(
      `block ${shuffleBlockId(S1, 1, 3)} is not stored here`,
    );
    await expect(server.fetch(fetch(shuffleBlockId(S1, 0, 0)))).rejects.toThrow('is not stored here');
    await expect(server.fetch({ ...fetch('d'), what: 'slice' })).rejects.toThrow(
      'a worker does not host slices',
    );
    expect(server.records()).toEqual(published);
  });

  it('stores and serves persisted partitions; drops by prefix, withdrawing their records and the map outputs’', async () => {
    const { server, published, store } = await setup();
    const p0 = rddBlockId(NODE, 0);
    await server.storeOutputs(mapTask(S1, 0), result(packMapOutput([new Uint8Array([9])]), [[p0, new Uint8Array([7, 8, 9])]]), 'c1'); // prettier-ignore
    await server.storeOutputs(mapTask(S2, 0), result(packMapOutput([new Uint8Array([1])])), 'c1');
    const chunk = await server.fetch(fetch(p0, 1, 10));
    expect({ data: [...chunk.data], total: chunk.total }).toEqual({ data: [8, 9], total: 3 });
    published.length = 0;
    expect(await server.dropPrefixes([shufflePrefix(S1)])).toBe(1);
    expect(published).toEqual([{ kind: 'withdraw', of: 'rdd', id: mapOutputId(S1, 0), holder: 'w1' }]);
    expect(
      store
        .list()
        .map((b) => b.id)
        .sort(),
    ).toEqual([p0, mapDataId(S2, 0)].sort());
    expect(await server.dropPrefixes([`rdd_${NODE}_`])).toBe(1);
    expect(published[1]).toEqual({ kind: 'withdraw', of: 'rdd', id: p0, holder: 'w1' });
    expect(server.size).toBe(1);
    server.withdrawAll();
    expect(published[2]).toEqual({ kind: 'withdraw', of: 'rdd', id: mapOutputId(S2, 0), holder: 'w1' });
    expect(server.size).toBe(0);
  });

  it("a client's record: shuffles it no longer lists are stale once past the grace; other clients' stay", async () => {
    const { server, clock } = await setup();
    const one = () => result(packMapOutput([new Uint8Array([1])]));
    await server.storeOutputs(mapTask(S1, 0), one(), 'c1');
    await server.storeOutputs(mapTask(S2, 0), one(), 'c2');
    const peer = { ...self, node: 'c1', role: 'client' as const };
    const record = (shuffles: string[]) => ({ kind: 'client', peer, seq: 0, shuffles }) as const;
    clock.t = 99;
    expect(server.staleShuffles(record([]))).toEqual([]); // within the grace
    expect(server.staleShuffles({ kind: 'client', peer, seq: 1 })).toEqual([]); // lists nothing: says nothing
    clock.t = 100;
    expect(server.staleShuffles(record([S1]))).toEqual([]);
    expect(server.staleShuffles(record([]))).toEqual([shufflePrefix(S1)]);
    expect(server.staleShuffles(record([]))).toEqual([]); // forgotten once reported
  });

  it("a dead client's blocks are forgotten and deleted", async () => {
    const { server, store } = await setup();
    await server.storeOutputs(
      mapTask(S1, 0),
      result(undefined, [[rddBlockId(NODE, 0), new Uint8Array([1])]]),
      'c1',
    );
    await server.storeOutputs(
      mapTask(S1, 1),
      result(undefined, [[rddBlockId(NODE, 1), new Uint8Array([2])]]),
      'c2',
    );
    server.ownerDown('c1');
    expect(server.records().map((r) => (r.kind === 'rdd' ? r.blockId : ''))).toEqual([rddBlockId(NODE, 1)]);
    expect(store.list().map((b) => b.id)).toEqual([rddBlockId(NODE, 1)]);
  });
});
