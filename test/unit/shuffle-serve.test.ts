/**
 * A worker serving a bucket of a map output it stores as one block: the bucket id resolves
 * through the index to a range of the data block, served in FETCH_CHUNK_BYTES chunks with
 * `offset`/`total` relative to the bucket; `drop` by the shuffle's prefix takes data and index.
 * Two real workers on the memory transport (tasks in this thread).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { MemoryNetwork } from '../../src/partition-server/memory-transport.js';
import { mapDataId, shuffleBlockId, shufflePrefix } from '../../src/protocol/block-ids.js';
import { FETCH_CHUNK_BYTES } from '../../src/protocol/defaults.js';
import { packMapOutput } from '../../src/rdd/map-output.js';
import { simWorkerOptions } from '../../src/sim/cluster.js';
import { Worker } from '../../src/worker/worker.js';

const SID = 'abcdefghij_1234567890a';
let a: Worker;
let b: Worker;
const alive = setInterval(() => undefined, 1000);

beforeAll(async () => {
  const net = new MemoryNetwork();
  a = await Worker.start(simWorkerOptions('serve', 'wa', 1, 'mem://nobody:1', net.host('wa'), systemClock));
  b = await Worker.start(
    simWorkerOptions('serve', 'wb', 1, a.node.identity.rpc, net.host('wb'), systemClock),
  );
  for (let i = 0; i < 100 && !b.node.peers().some((p) => p.identity.node === 'wa'); i++)
    await new Promise((r) => setTimeout(r, 20));
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  clearInterval(alive);
});

describe('serving a bucket of a map output', () => {
  it('serves each bucket by range, in chunks relative to the bucket, and drops data and index by prefix', async () => {
    expect(b.node.peers().map((p) => p.identity.node)).toContain('wa');
    // Bucket 1 spans three chunks; bucket 0 is small, bucket 2 empty.
    const big = new Uint8Array(2 * FETCH_CHUNK_BYTES + 123).map((_, i) => i % 251);
    const out = packMapOutput([new Uint8Array([7, 7, 7]), big, new Uint8Array(0)]);
    await a.store.put(mapDataId(SID, 0), out.data, 'client', out.index);

    const first = await b.node.fetchChunk('wa', 'block', shuffleBlockId(SID, 0, 1), 0, 0, 10, 5000);
    expect({ bytes: Array.from(first.data), total: first.total }).toEqual({
      bytes: Array.from(big.subarray(0, 10)),
      total: big.byteLength,
    });
    const tail = await b.node.fetchChunk('wa', 'block', shuffleBlockId(SID, 0, 1), 0, 2 * FETCH_CHUNK_BYTES, FETCH_CHUNK_BYTES, 5000); // prettier-ignore
    expect(tail.data.byteLength).toBe(123);
    const whole = await b.node.fetchAll('wa', 'block', shuffleBlockId(SID, 0, 1), 0, 5000);
    expect(Buffer.compare(Buffer.from(whole), Buffer.from(big))).toBe(0);
    expect(Array.from(await b.node.fetchAll('wa', 'block', shuffleBlockId(SID, 0, 0), 0, 5000))).toEqual([7, 7, 7]); // prettier-ignore
    expect((await b.node.fetchAll('wa', 'block', shuffleBlockId(SID, 0, 2), 0, 5000)).byteLength).toBe(0);
    await expect(b.node.fetchAll('wa', 'block', shuffleBlockId(SID, 0, 3), 0, 5000)).rejects.toThrow(
      `block ${shuffleBlockId(SID, 0, 3)} is not stored here`,
    );

    const reply = await b.node.request('wa', { op: 'drop', prefixes: [shufflePrefix(SID)] }, 5000);
    expect(reply).toEqual({ dropped: 1 });
    expect(a.store.indexOf(mapDataId(SID, 0))).toBeUndefined();
    expect(a.store.list(shufflePrefix(SID))).toEqual([]);
    await expect(b.node.fetchAll('wa', 'block', shuffleBlockId(SID, 0, 0), 0, 5000)).rejects.toThrow(
      'is not stored here',
    );
  });
});
