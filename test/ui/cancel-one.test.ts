/**
 * Two actions running at once get their own ids: cancelling one (sc.cancelJob in process, the
 * web UI's kill POST on a local cluster) leaves the other running to its exact answer, and every
 * stage event carries the id of the action it belongs to.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { JobCancelledError, MicroSpark, type ProgressEvent } from '../../src/index.js';

const contexts: MicroSpark[] = [];
afterAll(async () => {
  for (const sc of contexts.splice(0)) await sc.stop();
});

async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a slow action to cancel and one to finish; resolves when both have started tasks. */
async function twoActions(sc: MicroSpark, events: ProgressEvent[], ms: number) {
  const victim = sc
    .parallelize([1, 2, 3, 4, 5, 6, 7, 8], 8)
    .map(
      async (x, env) => {
        await new Promise((r) => setTimeout(r, env.ms));
        return x;
      },
      { ms },
    )
    .collect();
  victim.catch(() => undefined);
  const survivor = sc
    .parallelize(
      Array.from({ length: 40 }, (_, i) => i),
      4,
    )
    .map(
      async (x, env) => {
        await new Promise((r) => setTimeout(r, env.ms));
        return [x % 4, x] as [number, number];
      },
      { ms: 30 },
    )
    .reduceByKey((a, b) => a + b)
    .collectAsMap();
  survivor.catch(() => undefined); // awaited by the test; not unhandled if it fails early
  const started = await waitFor(() => {
    const s = events.filter((e): e is Extract<ProgressEvent, { type: 'action' }> => e.type === 'action' && e.state === 'started'); // prettier-ignore
    const running = new Set(events.flatMap((e) => (e.type === 'stage' && e.state === 'submitted' ? [e.actionId] : []))); // prettier-ignore
    return s.length === 2 && running.size === 2 ? s : undefined;
  });
  const victimId = started.find((a) => /^collect at /.test(a.name))!.actionId;
  const survivorId = started.find((a) => /^collectAsMap at /.test(a.name))!.actionId;
  expect(victimId).not.toBe(survivorId);
  return { victim, survivor, victimId, survivorId };
}

/** What the survivor must give: the sums of 0..39 by x % 4. */
const EXPECTED = new Map([0, 1, 2, 3].map((k) => [k, Array.from({ length: 10 }, (_, i) => i * 4 + k).reduce((a, b) => a + b, 0)])); // prettier-ignore

function checkEvents(events: ProgressEvent[], victimId: number, survivorId: number) {
  const ends = events.flatMap((e) =>
    e.type === 'action' && e.state !== 'started' ? [[e.actionId, e.state]] : [],
  );
  const want: Array<[number, string]> = [
    [victimId, 'cancelled'],
    [survivorId, 'succeeded'],
  ];
  expect(ends.sort()).toEqual(want.sort());
  // Each stage's events all carry the action that submitted it: one stage for the victim, two
  // (map and result) for the survivor.
  const stageAction = new Map<number, Set<number>>();
  for (const e of events) if (e.type === 'stage') stageAction.set(e.stageId, (stageAction.get(e.stageId) ?? new Set()).add(e.actionId)); // prettier-ignore
  const byAction = new Map<number, number[]>();
  for (const [stage, ids] of stageAction) {
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    byAction.set(id, [...(byAction.get(id) ?? []), stage]);
  }
  expect(byAction.get(victimId)).toHaveLength(1);
  expect(byAction.get(survivorId)).toHaveLength(2);
  const survivorStages = events.filter((e) => e.type === 'stage' && e.actionId === survivorId && e.state !== 'submitted'); // prettier-ignore
  expect(survivorStages.map((e) => (e as { state: string }).state)).toEqual(['completed', 'completed']);
}

describe('cancelling one of two concurrent actions', () => {
  it('in process: sc.cancelJob(id) cancels that one; the other gives its exact answer', async () => {
    const sc = await MicroSpark.inProcess({ defaultParallelism: 4 });
    contexts.push(sc);
    const events: ProgressEvent[] = [];
    sc.onProgress((e) => events.push(e));
    const { victim, survivor, victimId, survivorId } = await twoActions(sc, events, 200);
    expect(sc.cancelJob(survivorId + victimId + 1)).toBe(false); // no such action
    expect(sc.cancelJob(victimId)).toBe(true);
    await expect(victim).rejects.toBeInstanceOf(JobCancelledError);
    expect(await survivor).toEqual(EXPECTED);
    checkEvents(events, victimId, survivorId);
    expect(sc.cancelJob(victimId)).toBe(false); // ended
  });

  it("on a local cluster: the UI's kill POST cancels that one; the other gives its exact answer", async () => {
    const sc = await MicroSpark.local({
      workers: 2,
      defaultParallelism: 4,
      ui: { port: 0, killEnabled: true },
    });
    contexts.push(sc);
    const events: ProgressEvent[] = [];
    sc.onProgress((e) => events.push(e));
    const { victim, survivor, victimId, survivorId } = await twoActions(sc, events, 20_000);
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const appId = ((await (await fetch(`${base}/api/v1/applications`)).json()) as Array<{ id: string }>)[0]!
      .id;
    const csrf = /name="microspark-csrf" content="([0-9a-f]+)"/.exec(
      await (await fetch(`${base}/`)).text(),
    )![1]!;
    const res = await fetch(`${base}/api/v1/applications/${appId}/jobs/${victimId}/kill`, {
      method: 'POST',
      headers: { 'x-microspark-csrf': csrf, origin: base },
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(200);
    await expect(victim).rejects.toBeInstanceOf(JobCancelledError);
    expect(await survivor).toEqual(EXPECTED);
    checkEvents(events, victimId, survivorId);
    const jobs = (await (await fetch(`${base}/api/v1/applications/${appId}/jobs`)).json()) as Array<{ jobId: number; state: string }>; // prettier-ignore
    expect(jobs.map((j) => [j.jobId, j.state]).sort()).toEqual(
      [
        [victimId, 'cancelled'],
        [survivorId, 'succeeded'],
      ].sort(),
    );
  }, 60_000);
});
