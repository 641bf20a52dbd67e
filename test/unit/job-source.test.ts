import { describe, expect, it } from 'vitest';
import { JobSource, type JobSourceHooks, type SourcePort } from '../../src/core/job-source.js';
import { taskEnd } from '../../src/core/task-end.js';
import type { Record as WireRecord } from '../../src/protocol/messages.js';
import { SimScheduler } from '../../src/sim/scheduler.js';

interface Job {
  readonly owner: string;
  readonly partition: number;
}

const identity = {
  node: 'src',
  incarnation: 1,
  role: 'client' as const,
  rpc: 'mem://src:1',
  pub: 'mem://src:2',
};

function setup(members = ['w1', 'w2']) {
  const sched = new SimScheduler(1);
  const published: WireRecord[] = [];
  const cancels: Array<[string, string[]]> = [];
  const calls: string[] = [];
  const port: SourcePort = {
    identity,
    publish: (r) => published.push(r),
    isMember: (n) => members.includes(n),
    cancel: (holder, ids) => cancels.push([holder, [...ids]]),
  };
  const hooks: JobSourceHooks<Job> = {
    task: (job, attempt, id) => new TextEncoder().encode(`${id}@${attempt}`),
    granted: (id, _j, attempt, worker) => calls.push(`granted ${id} ${attempt} ${worker}`),
    completed: (id, _j, attempt) => calls.push(`completed ${id} ${attempt}`),
    reposted: (id, _j, attempt, reason) => calls.push(`reposted ${id} ${attempt} ${reason}`),
    failed: (id, _j, attempt, error, failures) =>
      calls.push(`failed ${id} ${attempt} ${error.name} ${failures}`),
  };
  const source = new JobSource<Job>(
    port,
    { leaseTtlMs: 1000, maxTaskFailures: 3, reannounceMs: 10_000, clock: sched.clockFor('src') },
    hooks,
  );
  const claim = (worker: string, attempt = 0) =>
    source.answer({ op: 'job.claim', jobId: 'j', attempt, worker }) as
      { granted: true; lease: { token: string; attempt: number } } | { granted: false; reason: string };
  const token = (r: ReturnType<typeof claim>) => {
    if (!r.granted) throw new Error(`not granted: ${r.reason}`);
    return r.lease.token;
  };
  const jobs = () =>
    published.filter((r) => r.kind === 'job').map((r) => (r.kind === 'job' ? r.attempt : -1));
  return { sched, source, published, cancels, calls, claim, token, jobs };
}

const error = { name: 'Boom', message: 'no' };

describe('JobSource (one copy for the client and every worker)', () => {
  it('grants only to members, once per attempt, and refuses a straggler completion', () => {
    const { source, claim, token, calls, published } = setup();
    source.post('j', { owner: 'c', partition: 5 });
    expect(published).toEqual([
      { kind: 'job', jobId: 'j', attempt: 0, source: identity, owner: 'c', partition: 5 },
    ]);
    expect(claim('stranger')).toEqual({ granted: false, reason: 'not-member' });
    expect(source.counters.claimsFromNonMembers).toBe(1);
    const t = token(claim('w1'));
    expect(claim('w2')).toEqual({ granted: false, reason: 'taken' });
    expect(source.answer({ op: 'job.renew', jobId: 'j', token: t })).toEqual({ ok: true, ttlMs: 1000 });
    const complete = (tok: string) =>
      source.answer({ op: 'job.complete', jobId: 'j', token: tok, worker: 'w1', accumulators: [] });
    expect(complete('wrong')).toEqual({ ok: false });
    expect(complete(t)).toEqual({ ok: true });
    expect(complete(t)).toEqual({ ok: false }); // a second copy of the completion
    expect(calls).toEqual(['granted j 0 w1', 'completed j 0']);
    expect(source.tableCounters).toMatchObject({ grants: 1, refusedClaims: 1, staleCompletions: 2 });
    expect(published.at(-1)).toEqual({ kind: 'withdraw', of: 'job', id: 'j', holder: 'src' });
  });

  it('applies each task end as its worker decided: counted, not counted, or final', () => {
    const { source, claim, token, calls, jobs } = setup();
    source.post('j', { owner: 'c', partition: 0 });
    const fail = (attempt: number, end: ReturnType<typeof taskEnd>) =>
      source.answer({
        op: 'job.fail',
        jobId: 'j',
        token: token(claim('w1', attempt)),
        worker: 'w1',
        error,
        end,
      });
    expect(fail(0, taskEnd('worker-stopping'))).toEqual({ ok: true }); // handed back: not counted
    expect(source.counters.leasesReleased).toBe(1);
    expect(fail(1, taskEnd('worker-error'))).toEqual({ ok: true });
    expect(fail(2, taskEnd('user-error'))).toEqual({ ok: true });
    expect(fail(3, taskEnd('fetch-failed', { shuffleId: 's', map: 1 }))).toEqual({ ok: true });
    expect(fail(4, taskEnd('user-error'))).toEqual({ ok: true }); // the third counted failure
    expect(calls.filter((c) => c.startsWith('reposted'))).toEqual([
      'reposted j 1 worker-lost',
      'reposted j 2 error',
      'reposted j 3 error',
      'reposted j 4 fetch-failed',
    ]);
    expect(calls.at(-1)).toBe('failed j 4 Boom 3');
    expect(jobs()).toEqual([0, 1, 2, 3, 4]);
    expect(source.has('j')).toBe(false);
  });

  it('a dependency that failed for good fails the job at once', () => {
    const { source, claim, token, calls } = setup();
    source.post('j', { owner: 'c', partition: 0 });
    const t = token(claim('w1'));
    source.answer({
      op: 'job.fail',
      jobId: 'j',
      token: t,
      worker: 'w1',
      error,
      end: taskEnd('dependency-failed'),
    });
    expect(calls.at(-1)).toBe('failed j 0 Boom 1');
  });

  it('re-posts on lease expiry (its own timer) and holder death; remove tells the holder', async () => {
    const { sched, source, claim, token, calls, cancels } = setup();
    source.post('j', { owner: 'c', partition: 0 });
    token(claim('w1'));
    await sched.run(1250); // the lease (1000 ms) runs out; checked every 250 ms
    expect(calls.at(-1)).toBe('reposted j 1 lease-expired');
    expect(source.counters.reannounced).toBe(1);
    token(claim('w2', 1));
    expect(source.holderDead('w2')).toEqual(['j']);
    expect(calls.at(-1)).toBe('reposted j 2 worker-lost');
    token(claim('w1', 2));
    source.remove(['j']);
    expect(cancels).toEqual([['w1', ['j']]]);
    expect(source.size).toBe(0);
    source.stop();
  });
});
