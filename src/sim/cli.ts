/**
 * `npm run sim -- --seeds N [--seed S] [--peers K] [--no-faults] [--reorder] [--from F]`: runs seeds of the
 * deterministic simulation (src/sim/cluster.ts) and reports every seed that broke an invariant,
 * with the trace that led to it. `--seed S` replays one seed exactly and prints its trace.
 * `--scale 10,100` measures traffic per peer for those cluster sizes (src/sim/scale.ts).
 * `--membership mesh|swim` picks how peers decide liveness (default swim, as the daemons).
 */
import { parseArgs } from 'node:util';
import { simulate, type SimResult } from './cluster.js';
import { measureScale } from './scale.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    from: { type: 'string' },
    peers: { type: 'string' },
    'no-faults': { type: 'boolean' },
    reorder: { type: 'boolean' },
    trace: { type: 'boolean' },
    scale: { type: 'string' },
    membership: { type: 'string' },
  },
  strict: true,
});

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${v}\n`);
    process.exit(2);
  }
  return n;
}

const peers = int('peers', values.peers, 3);
const one = values.seed === undefined ? undefined : int('seed', values.seed, 0);
const count = int('seeds', values.seeds, 100);
const from = int('from', values.from, 1);
const faults = !values['no-faults'];
const reorder = values.reorder ?? false;
const membership = values.membership ?? 'swim';
if (membership !== 'swim' && membership !== 'mesh') {
  process.stderr.write(`--membership must be swim or mesh, got ${membership}\n`);
  process.exit(2);
}

function report(r: SimResult, withTrace: boolean): void {
  const acts = r.actions.map((a) => `${a.name}${a.ok ? '' : `!${a.error}`}@${a.ms}ms`).join(' ');
  const f = Object.entries(r.faults)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stdout.write(
    `seed ${r.seed}: ${r.violations.length === 0 ? 'ok' : 'FAILED'} · ${r.simulatedMs} ms simulated, ${r.events} events · ${acts} · faults ${f || 'none'} · trace ${r.traceHash}\n`,
  );
  for (const v of r.violations) process.stdout.write(`  violation: ${v}\n`);
  if (withTrace) for (const l of r.trace) process.stdout.write(`  | ${l}\n`);
}

const t0 = Date.now();
if (values.scale !== undefined) {
  const sizes = values.scale.split(',').map((v) => int('scale', v, 0));
  process.stdout.write(
    'workers  converged  steady: msgs in/peer/s  bytes in/peer/s  msgs out/peer/s  max in/s  |  job: ms  msgs in/peer/s  bytes in/peer/s  |  wall\n',
  );
  for (const n of sizes) {
    const r = await measureScale(n, 5000, membership);
    const f = (x: number) => String(x).padStart(8);
    process.stdout.write(
      `${String(n).padStart(7)}  ${(r.convergedMs === undefined ? 'never' : `${r.convergedMs} ms`).padStart(9)}  ${f(r.steady.messagesInPerPeerPerS)}  ${f(r.steady.bytesInPerPeerPerS)}  ${f(r.steady.messagesOutPerPeerPerS)}  ${f(r.steady.maxMessagesInPerS)}  |  ${f(r.jobMs)}  ${f(r.duringJob.messagesInPerPeerPerS)}  ${f(r.duringJob.bytesInPerPeerPerS)}  |  ${(r.wallMs / 1000).toFixed(1)} s\n`,
    );
  }
  process.exit(0);
}
if (one !== undefined) {
  const r = await simulate({ seed: one, peers, faults, reorder, membership });
  report(r, true);
  process.exit(r.violations.length === 0 ? 0 : 1);
}
const failed: number[] = [];
let typed = 0;
for (let s = from; s < from + count; s++) {
  const r = await simulate({ seed: s, peers, faults, reorder, membership });
  typed += r.actions.filter((a) => !a.ok).length;
  if (r.violations.length > 0) {
    failed.push(s);
    report(r, values.trace ?? false);
  } else if ((s - from + 1) % 100 === 0)
    process.stdout.write(`… ${s - from + 1} seeds, ${failed.length} failed\n`);
}
process.stdout.write(
  `${count} seeds (${from}..${from + count - 1}), ${peers} workers, ${membership}, faults ${faults ? 'on' : 'off'}${reorder ? ', links reorder' : ''}: ` +
    `${count - failed.length} passed, ${failed.length} failed, ${typed} actions ended with a typed error, ` +
    `${((Date.now() - t0) / 1000).toFixed(1)} s${failed.length ? `; replay with --seed ${failed[0]}` : ''}\n`,
);
process.exit(failed.length === 0 ? 0 : 1);
