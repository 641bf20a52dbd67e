import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import type { JobRecord } from '../../src/core/job-source.js';
import { JobDirectory } from '../../src/worker/job-directory.js';
import { mapJobId } from '../../src/worker/map-job-source.js';

function clock(): Clock & { t: number } {
  const c = {
    t: 1000,
    now: () => c.t,
    setTimeout: () => ({ cancel: () => undefined }),
    setInterval: () => ({ cancel: () => undefined }),
  };
  return c;
}

const peer = (node: string) => ({
  node,
  incarnation: 1,
  role: 'worker' as const,
  rpc: `mem://${node}:1`,
  pub: `mem://${node}:2`,
});

function job(
  jobId: string,
  opts: {
    source?: string;
    owner?: string;
    partition?: number;
    attempt?: number;
    leased?: boolean;
    prefer?: string;
  } = {},
): JobRecord {
  return {
    kind: 'job',
    jobId,
    attempt: opts.attempt ?? 0,
    source: peer(opts.source ?? 'client'),
    owner: opts.owner ?? 'client',
    partition: opts.partition ?? 0,
    ...(opts.leased && { leased: true }),
    ...(opts.prefer !== undefined && { prefer: opts.prefer }),
  };
}

const ids = (it: Iterable<JobRecord>) => [...it].map((j) => j.jobId);

describe('JobDirectory (the jobs a worker has heard of)', () => {
  it('keeps the newest attempt open; a leased record from its source closes it, one from another source does not', () => {
    const d = new JobDirectory(clock());
    d.heard(job('a', { attempt: 1 }));
    d.heard(job('a', { attempt: 0 })); // older: ignored
    expect(d.openJob('a')?.attempt).toBe(1);
    d.heard(job('a', { attempt: 2 }));
    expect(d.openJob('a')?.attempt).toBe(2);
    d.heard(job('a', { source: 'w9', leased: true, attempt: 3 }));
    expect(d.openJob('a')?.attempt).toBe(2);
    d.heard(job('a', { leased: true, attempt: 2 }));
    expect(d.openJob('a')).toBeUndefined();
    expect(d.openCount).toBe(0);
    d.reopen(job('a', { attempt: 5 }));
    expect(d.openJob('a')?.attempt).toBe(5);
  });

  it('remembers for a while who else posted a map job, and when one was withdrawn', () => {
    const c = clock();
    const d = new JobDirectory(c);
    const id = mapJobId('client', 3, 's1', 0);
    const live = new Set(['w2']);
    const isLive = (n: string) => live.has(n);
    d.heard(job(id, { source: 'w2' }));
    expect(d.postedElsewhere(id, 'w1', isLive, 500)).toBe(true);
    expect(d.postedElsewhere(id, 'w2', isLive, 500)).toBe(false); // its own
    c.t += 500;
    expect(d.postedElsewhere(id, 'w1', isLive, 500)).toBe(false); // not heard again in time
    d.heard(job(id, { source: 'w2' }));
    live.delete('w2');
    expect(d.postedElsewhere(id, 'w1', isLive, 500)).toBe(false); // its source is gone
    d.withdrawn(id);
    expect(d.withdrawnWithin(id, 100)).toBe(true);
    c.t += 100;
    expect(d.withdrawnWithin(id, 100)).toBe(false);
    // A result job's withdrawal is not remembered, nor that of a job never heard of.
    d.heard(job('3-0-abc'));
    d.withdrawn('3-0-abc');
    d.withdrawn(mapJobId('client', 3, 's1', 1));
    expect(d.withdrawnWithin('3-0-abc', 1000)).toBe(false);
    expect(d.withdrawnWithin(mapJobId('client', 3, 's1', 1), 1000)).toBe(false);
    expect(d.openCount).toBe(0);
  });

  it('forgets withdrawals older than a minute once it holds more than 10,000', () => {
    const c = clock();
    const d = new JobDirectory(c);
    const id = (m: number) => mapJobId('client', 0, 's', m);
    for (let m = 0; m < 10_000; m++) {
      d.heard(job(id(m)));
      d.withdrawn(id(m));
    }
    c.t += 60_001;
    d.heard(job(id(10_000)));
    d.withdrawn(id(10_000)); // the 10,001st: the old ones go
    expect(d.withdrawnWithin(id(0), Infinity)).toBe(false);
    expect(d.withdrawnWithin(id(9_999), Infinity)).toBe(false);
    expect(d.withdrawnWithin(id(10_000), Infinity)).toBe(true);
  });

  it('claim order: each worker tries its share of partitions first, its own jobs first within a share', () => {
    const d = new JobDirectory(clock());
    for (let p = 0; p < 6; p++) d.heard(job(`c${p}`, { partition: p }));
    d.heard(job('m1', { source: 'w2', partition: 1 }));
    d.heard(job('m0', { source: 'w2', partition: 0 }));
    // w2 is ranked 1 of [w1, w2, w3]: partitions 1 and 4 are its share.
    expect(ids(d.claimOrder('w2', () => ['w3', 'w1']))).toEqual([
      'm1',
      'c1',
      'c4',
      'm0',
      'c0',
      'c2',
      'c3',
      'c5',
    ]);
    expect(ids(d.claimOrder('w1', () => ['w2', 'w3']))).toEqual([
      'c0',
      'c3',
      'm0',
      'c1',
      'c2',
      'c4',
      'c5',
      'm1',
    ]);
  });

  it('claim order of a lone worker: its own jobs, then the others from a random start', () => {
    const d = new JobDirectory(clock());
    for (let p = 0; p < 4; p++) d.heard(job(`c${p}`, { partition: p }));
    d.heard(job('m0', { source: 'w1' }));
    let calls = 0;
    expect(
      ids(
        d.claimOrder(
          'w1',
          () => [],
          () => (calls++, 0.5),
        ),
      ),
    ).toEqual(['m0', 'c2', 'c3', 'c0', 'c1']);
    expect(calls).toBe(1);
    const one = new JobDirectory(clock());
    one.heard(job('x'));
    expect(ids(one.claimOrder('w1', () => { throw new Error('not asked'); }))).toEqual(['x']); // prettier-ignore
  });

  it('locality: a job preferring this worker comes first; one preferring another live worker waits', () => {
    const c = clock();
    const d = new JobDirectory(c);
    d.heard(job('a', { partition: 0 }));
    d.heard(job('mine', { partition: 1, prefer: 'w2' }));
    d.heard(job('theirs', { partition: 2, prefer: 'w1' }));
    d.heard(job('dead', { partition: 3, prefer: 'w9' })); // w9 is not a live worker: no wait
    const order = () => ids(d.claimOrder('w2', () => ['w1'], Math.random, 20));
    expect(order()).toEqual(['mine', 'dead', 'a']);
    expect(d.nextDeferredAt).toBe(1020);
    c.t = 1019;
    expect(order()).toEqual(['mine', 'dead', 'a']);
    // Heard again (re-announced): the wait still counts from the first time.
    d.heard(job('theirs', { partition: 2, prefer: 'w1' }));
    c.t = 1020;
    expect(order()).toEqual(['mine', 'dead', 'a', 'theirs']);
    expect(d.nextDeferredAt).toBeUndefined();
    // A new attempt is a new job: its wait starts when it is heard.
    d.heard(job('theirs', { partition: 2, prefer: 'w1', attempt: 1 }));
    expect(order()).toEqual(['mine', 'dead', 'a']);
    expect(d.nextDeferredAt).toBe(1040);
    // Without a wait (0), preferences only order: the preferred first, the rest by share.
    expect(ids(d.claimOrder('w2', () => ['w1'], Math.random, 0))).toEqual(['mine', 'dead', 'a', 'theirs']);
    expect(d.nextDeferredAt).toBeUndefined();
  });

  it('locality: a single open job preferring another live worker waits too', () => {
    const d = new JobDirectory(clock());
    d.heard(job('only', { prefer: 'w1' }));
    expect(ids(d.claimOrder('w2', () => ['w1'], Math.random, 20))).toEqual([]);
    expect(d.nextDeferredAt).toBe(1020);
    expect(ids(d.claimOrder('w1', () => ['w2'], Math.random, 20))).toEqual(['only']);
  });

  it('a dead client’s open jobs close; a dead source’s jobs are forgotten, not closed', () => {
    const d = new JobDirectory(clock());
    const id = mapJobId('c2', 0, 's', 0);
    d.heard(job('a', { owner: 'c1' }));
    d.heard(job(id, { owner: 'c2', source: 'w2' }));
    d.ownerDown('c1');
    expect(d.openJob('a')).toBeUndefined();
    d.sourceDown('w2');
    expect(d.postedElsewhere(id, 'w1', () => true, Infinity)).toBe(false);
    expect(d.openJob(id)?.source.node).toBe('w2');
    d.close(id);
    expect(d.openCount).toBe(0);
  });
});
