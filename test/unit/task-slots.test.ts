import { describe, expect, it } from 'vitest';
import { TaskSlots, type RunningTask } from '../../src/worker/task-slots.js';

const task = (owner = 'c1'): RunningTask => ({ abort: new AbortController(), owner, released: false });

describe('TaskSlots (a worker’s slot states)', () => {
  it('claims and running tasks hold slots; parked, waiting and reporting ones do not', () => {
    const s = new TaskSlots(2);
    expect(s.free).toBe(2);
    s.claiming('a');
    s.claiming('b');
    expect(s.free).toBe(0);
    expect(s.status()).toEqual({ running: 0, parked: 0, claiming: 2 });
    s.granted('a', task());
    expect(s.free).toBe(0);
    s.move('a', 'parked');
    expect(s.free).toBe(1);
    expect(s.status()).toEqual({ running: 1, parked: 1, claiming: 1 });
    s.move('a', 'reporting');
    expect(s.free).toBe(1);
    s.end('b'); // refused
    expect(s.free).toBe(2);
    expect(s.size).toBe(1);
    s.end('a');
    expect(s.status()).toEqual({ running: 0, parked: 0, claiming: 0 });
  });

  it('a claim in flight has no task and cannot be moved', () => {
    const s = new TaskSlots(1);
    s.claiming('a');
    s.move('a', 'parked');
    expect(s.free).toBe(0);
    expect(s.task('a')).toBeUndefined();
    expect([...s.claimed()]).toHaveLength(0);
    expect(s.has('a')).toBe(true);
    s.move('nobody', 'running'); // unknown: nothing happens
    expect(s.size).toBe(1);
  });

  it('waiting tasks take free slots first in line first, and only as many as are free', async () => {
    const s = new TaskSlots(1);
    const order: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      s.granted(id, task());
      s.move(id, 'parked');
    }
    expect(s.free).toBe(1);
    const never = new AbortController().signal;
    const waits = ['a', 'b', 'c'].map((id) => s.waitForSlot(id, never).then(() => order.push(id)));
    s.serveWaiters();
    await Promise.resolve();
    expect(order).toEqual(['a']);
    expect(s.free).toBe(0);
    expect(s.status()).toEqual({ running: 3, parked: 2, claiming: 0 });
    s.serveWaiters(); // no slot free: nobody moves
    await Promise.resolve();
    expect(order).toEqual(['a']);
    s.end('a');
    s.serveWaiters();
    s.move('b', 'reporting');
    s.serveWaiters();
    await Promise.all(waits);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(s.free).toBe(0);
  });

  it('an aborted waiter gives up its place and resolves without a slot', async () => {
    const s = new TaskSlots(1);
    s.granted('busy', task());
    s.granted('w1', task());
    s.move('w1', 'parked');
    s.granted('w2', task());
    s.move('w2', 'parked');
    const abort = new AbortController();
    const got: string[] = [];
    const w1 = s.waitForSlot('w1', abort.signal).then(() => got.push('w1'));
    const w2 = s.waitForSlot('w2', new AbortController().signal).then(() => got.push('w2'));
    abort.abort();
    await w1;
    expect(got).toEqual(['w1']);
    expect([...s.states()].find((t) => t.task === s.task('w1'))?.state).toBe('waiting');
    s.end('busy');
    s.end('w1');
    s.serveWaiters();
    await w2;
    expect(got).toEqual(['w1', 'w2']);
    expect([...s.states()].map((t) => t.state)).toEqual(['running']);
  });

  it('claimed() and task() reach every claimed task, for cancel and a client’s death', () => {
    const s = new TaskSlots(3);
    const a = task('c1');
    const b = task('c2');
    s.granted('a', a);
    s.granted('b', b);
    s.claiming('c');
    expect([...s.claimed()]).toEqual([a, b]);
    expect(s.task('b')).toBe(b);
    for (const t of s.claimed()) if (t.owner === 'c1') t.abort.abort();
    expect(a.abort.signal.aborted).toBe(true);
    expect(b.abort.signal.aborted).toBe(false);
  });
});
