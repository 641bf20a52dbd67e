import { describe, expect, it } from 'vitest';
import { JobTable, type Clock } from '../../src/core/job-table.js';

class FakeClock implements Pick<Clock, 'now'> {
  t = 1000;
  now(): number {
    return this.t;
  }
}

const err = { name: 'RangeError', message: 'boom' };

function table(maxTaskFailures = 4) {
  const clock = new FakeClock();
  return { clock, jobs: new JobTable<string>({ leaseTtlMs: 10_000, maxTaskFailures, clock }) };
}

describe('JobTable', () => {
  it('grants one lease per attempt and refuses the others', () => {
    const { jobs } = table();
    jobs.post('j', 'task');
    const a = jobs.claim('j', 0, 'w1');
    expect(a).toMatchObject({ granted: true, attempt: 0, ttlMs: 10_000, task: 'task' });
    expect(jobs.claim('j', 0, 'w2')).toEqual({ granted: false, reason: 'taken' });
    expect(jobs.claim('j', 1, 'w2')).toEqual({ granted: false, reason: 'stale' });
    expect(jobs.claim('nope', 0, 'w2')).toEqual({ granted: false, reason: 'unknown' });
    expect(jobs.counters).toMatchObject({ grants: 1, refusedClaims: 3 });
  });

  it('re-posts an expired lease with the next attempt and refuses the straggler', () => {
    const { jobs, clock } = table();
    jobs.post('j', 'task');
    const first = jobs.claim('j', 0, 'w1');
    if (!first.granted) throw new Error('not granted');
    clock.t += 9_999;
    expect(jobs.expireLeases()).toEqual([]);
    expect(jobs.renew('j', first.token)).toBe(true);
    clock.t += 10_000;
    expect(jobs.expireLeases()).toEqual(['j']);
    expect(jobs.open()).toEqual([{ id: 'j', attempt: 1 }]);
    expect(jobs.claim('j', 0, 'w1')).toEqual({ granted: false, reason: 'stale' });
    const second = jobs.claim('j', 1, 'w2');
    if (!second.granted) throw new Error('not granted');
    expect(jobs.complete('j', first.token)).toBe('stale');
    expect(jobs.renew('j', first.token)).toBe(false);
    expect(jobs.complete('j', second.token)).toBe('ok');
    expect(jobs.stateOf('j')).toEqual({ state: 'done', attempt: 1 });
    expect(jobs.claim('j', 1, 'w3')).toEqual({ granted: false, reason: 'done' });
    expect(jobs.counters).toMatchObject({ staleCompletions: 1, reposts: 1, grants: 2 });
  });

  it('re-posts the jobs of a dead holder only', () => {
    const { jobs } = table();
    for (const id of ['a', 'b', 'c']) jobs.post(id, id);
    jobs.claim('a', 0, 'w1');
    jobs.claim('b', 0, 'w2');
    jobs.claim('c', 0, 'w1');
    expect(jobs.holderDead('w1').sort()).toEqual(['a', 'c']);
    expect(jobs.open().sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'a', attempt: 1 },
      { id: 'c', attempt: 1 },
    ]);
  });

  it('counts user failures up to maxTaskFailures, not worker failures', () => {
    const { jobs } = table(4);
    jobs.post('j', 'task');
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      const c = jobs.claim('j', attempt, 'w');
      if (!c.granted) throw new Error(`attempt ${attempt} not granted`);
      // attempts 1 and 3 fail because the worker could not run the task: not counted
      outcomes.push(jobs.fail('j', c.token, err, attempt !== 1 && attempt !== 3));
    }
    expect(outcomes).toEqual(['reposted', 'reposted', 'reposted', 'reposted', 'reposted', 'failed']);
    expect(jobs.failuresOf('j')).toEqual({ failures: 4, lastError: err });
    expect(jobs.stateOf('j')).toEqual({ state: 'failed', attempt: 5, error: err });
    expect(jobs.counters).toMatchObject({ userFailures: 4, workerFailures: 2 });
  });

  it('validates its options', () => {
    expect(() => new JobTable({ leaseTtlMs: 0, maxTaskFailures: 4 })).toThrow(/leaseTtlMs/);
    expect(() => new JobTable({ leaseTtlMs: 10, maxTaskFailures: 0 })).toThrow(/maxTaskFailures/);
  });
});
