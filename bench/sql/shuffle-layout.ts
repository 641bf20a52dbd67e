/**
 * What the sort-shuffle layout costs in blocks and fetch requests, counted (not timed) on TPC-H:
 * 3 workers and a client in this process on the memory transport (real clock, tasks in this
 * thread), the queries through `spark.sql`. For each query: map outputs stored (one block each
 * now), the buckets inside them (the blocks the per-reducer layout stored, one per bucket), and
 * the reducers' bucket reads: local, remote, skipped as empty by the record's sizes, and the
 * `fetch` requests sent (the per-reducer layout sent one per remote bucket, empty ones included,
 * at these sizes: every bucket is below a chunk).
 *
 *   npx tsx bench/sql/shuffle-layout.ts [--sf 0.01] [--only q3,q18] [--partitions N]
 */
import { parseArgs } from 'node:util';
import { ensureTpch } from '../tpch/generate.js';
import { tpchQueries } from '../tpch/queries.js';
import { TPCH_TABLES } from '../tpch/schema.js';
import { MicroSpark } from '../../src/index.js';
import { systemClock } from '../../src/core/clock.js';
import { ClusterBackend } from '../../src/client/cluster-backend.js';
import { MemoryNetwork } from '../../src/partition-server/memory-transport.js';
import { simWorkerOptions } from '../../src/sim/cluster.js';
import { Worker } from '../../src/worker/worker.js';

const { values } = parseArgs({
  options: { sf: { type: 'string' }, only: { type: 'string' }, partitions: { type: 'string' } },
});
const sf = Number(values.sf ?? '0.01');
const only = new Set((values.only ?? 'q3,q18').split(','));

// The memory transport's and the peers' timers do not hold the process open: this does, until the end.
const alive = setInterval(() => undefined, 1000);
const network = new MemoryNetwork();
const client = await ClusterBackend.start({
  cluster: 'bench',
  host: 'client',
  heartbeatMs: 1000,
  deadAfterMs: 5000,
  leaseTtlMs: 10_000,
  reannounceMs: 2000,
  noWorkerGraceMs: 10_000,
  maxTaskFailures: 4,
  transport: network.host('client'),
  id: { node: 'client', incarnation: 1 },
});
const workers = await Promise.all(
  ['w0', 'w1', 'w2'].map((name) =>
    Worker.start(
      simWorkerOptions('bench', name, 1, client.node.identity.rpc, network.host(name), systemClock),
    ),
  ),
);
await client.waitForWorkers(3, 10_000);

// Count what the workers store: every map output put, and the buckets its index holds.
const stored = { mapOutputs: 0, buckets: 0 };
for (const w of workers) {
  const put = w.store.put.bind(w.store);
  w.store.put = (id, data, owner, index) => {
    if (index) {
      stored.mapOutputs++;
      stored.buckets += index.length - 1;
    }
    return put(id, data, owner, index);
  };
}
const reads = () => {
  const c = { local: 0, remote: 0, skipped: 0, requests: 0 };
  for (const w of workers) {
    c.local += w.counters.bucketsReadLocal;
    c.remote += w.counters.bucketsFetched;
    c.skipped += w.counters.bucketsSkippedEmpty;
    c.requests += w.counters.bucketFetchRequests;
  }
  return c;
};

const sc = MicroSpark.overBackend(client, 3);
if (values.partitions !== undefined)
  sc.session.conf.set('spark.sql.shuffle.partitions', Number(values.partitions));
const dir = (await ensureTpch({ sf, format: 'parquet' })).dir;
for (const t of TPCH_TABLES) (await sc.session.read.parquet(`${dir}/${t}`)).createOrReplaceTempView(t);
const rows: Array<Record<string, number | string>> = [];
for (const q of tpchQueries().filter((x) => only.has(x.name))) {
  const before = { ...stored };
  const r0 = reads();
  const n = (await (await sc.session.sql(q.sql)).collect()).length;
  const r1 = reads();
  const skipped = r1.skipped - r0.skipped;
  const remote = r1.remote - r0.remote;
  rows.push({
    query: q.name,
    rows: n,
    'map outputs (blocks now)': stored.mapOutputs - before.mapOutputs,
    'buckets (blocks before)': stored.buckets - before.buckets,
    'local reads': r1.local - r0.local,
    'remote buckets skipped (empty)': skipped,
    'remote buckets fetched': remote,
    'fetch requests now': r1.requests - r0.requests,
    'fetch requests before': remote + skipped,
  });
}
console.table(rows);
await sc.stop();
await Promise.all(workers.map((w) => w.stop()));
clearInterval(alive);
