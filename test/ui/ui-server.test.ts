/**
 * The web UI without a cluster: the event log and the history server (same answers as the live
 * UI), the security rules (Host check, token, kill disabled by default, no secret anywhere), the
 * port rules, and a 100,000-task stage (bounded memory, pages under 200 ms).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, MicroSpark, type ProgressEvent } from '../../src/index.js';
import { startHistoryServer, StatusStore, UiServer, uiToken } from '../../src/ui/index.js';
import type { UiApplication } from '../../src/ui/rest.js';

const dir = mkdtempSync(join(tmpdir(), 'microspark-ui-'));
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.splice(0)) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

/** A GET with a forged Host header (fetch does not allow setting it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('event log and history server', () => {
  it('the history server answers as the live UI did, from the log of a stopped context', async () => {
    const logDir = join(dir, 'events');
    const sc = await MicroSpark.inProcess({
      ui: { port: 0 },
      eventLog: { dir: logDir },
      appName: 'history-test',
    });
    const seen: ProgressEvent[] = [];
    sc.onProgress((e) => seen.push(e));
    const words = sc.parallelize(['a b', 'b c', 'c c'], 3).flatMap((l) => l.split(' '));
    expect(await words.map((w) => [w, 1] as [string, number]).reduceByKey((a, b) => a + b, 2).collectAsMap()).toEqual(new Map([['a', 1], ['b', 2], ['c', 3]])); // prettier-ignore
    await expect(sc.parallelize([1, 2], 1).map((x) => { if (x === 2) throw new Error('no two'); return x; }).collect()).rejects.toThrow(/no two/); // prettier-ignore
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const live = (await getJson(`${base}/api/v1/applications`)).body;
    expect(live).toHaveLength(1);
    const id = live[0].id as string;
    expect(live[0].name).toBe('history-test');
    const routes = ['/jobs', '/jobs/0', '/jobs/1', '/stages', '/stages/0', '/stages/1', '/stages/2', '/stages/1/0/taskSummary', '/allexecutors', '/environment']; // prettier-ignore
    const liveAnswers = new Map<string, unknown>();
    for (const r of routes) liveAnswers.set(r, (await getJson(`${base}/api/v1/applications/${id}${r}`)).body);
    expect(readdirSync(logDir)).toEqual([`${id}.jsonl.inprogress`]);
    await sc.stop();

    // One line per event, between the application's start and end lines.
    expect(readdirSync(logDir)).toEqual([`${id}.jsonl`]);
    const lines = readFileSync(join(logDir, `${id}.jsonl`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)); // prettier-ignore
    expect(lines).toHaveLength(seen.length + 2);
    expect(lines[0]).toMatchObject({
      type: 'application',
      state: 'started',
      appId: id,
      name: 'history-test',
    });
    expect(lines.at(-1)).toMatchObject({ type: 'application', state: 'ended' });
    expect(lines.slice(1, -1).map(({ time, ...e }) => (expect(typeof time).toBe('number'), e))).toEqual(seen);

    const history = await startHistoryServer({ dir: logDir, port: 0 });
    cleanup.push(() => history.stop());
    const h = history.url.replace(/\/$/, '');
    const apps = (await getJson(`${h}/api/v1/applications`)).body;
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ id, name: 'history-test', attempts: [{ completed: true }] });
    for (const r of routes) {
      const past = (await getJson(`${h}/api/v1/applications/${id}${r}`)).body;
      const now = liveAnswers.get(r) as any;
      // Live-only fields: none of these routes has any except the job's running duration (ended).
      expect(past, r).toEqual(now);
    }
    const jobs = (await getJson(`${h}/api/v1/applications/${id}/jobs`)).body;
    expect(
      jobs.map((j: any) => [j.jobId, j.status, j.state, j.numTasks, j.numCompletedTasks, j.numFailedTasks]),
    ).toEqual([
      [1, 'FAILED', 'failed', 1, 0, 4],
      [0, 'SUCCEEDED', 'succeeded', 5, 5, 0],
    ]);
    const page = (await getJson(`${h}/`)).body as string;
    expect(page).toContain('<title>MicroSpark history</title>');
  });
});

describe('web UI security and ports', () => {
  it('binds 127.0.0.1, refuses a foreign Host header, and is off with ui: false', async () => {
    const sc = await MicroSpark.inProcess({ ui: { port: 0 } });
    cleanup.push(() => sc.stop());
    const url = sc.uiWebUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = Number(new URL(url).port);
    expect(await getWithHost(url + 'api/v1/applications', `127.0.0.1:${port}`)).toBe(200);
    expect(await getWithHost(url + 'api/v1/applications', `localhost:${port}`)).toBe(200);
    expect(await getWithHost(url + 'api/v1/applications', `evil.example:${port}`)).toBe(403); // DNS rebinding
    const off = await MicroSpark.inProcess({ ui: false });
    expect(off.uiWebUrl).toBeNull();
    await off.stop();
  });

  it('kill is disabled unless killEnabled, even with the page token', async () => {
    const sc = await MicroSpark.inProcess({ ui: { port: 0 } });
    cleanup.push(() => sc.stop());
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const page = (await getJson(`${base}/`)).body as string;
    expect(page).toContain('name="microspark-kill" content="disabled"');
    const csrf = /name="microspark-csrf" content="([0-9a-f]+)"/.exec(page)![1]!;
    const id = (await getJson(`${base}/api/v1/applications`)).body[0].id;
    const res = await fetch(`${base}/api/v1/applications/${id}/jobs/0/kill`, { method: 'POST', headers: { 'x-microspark-csrf': csrf } }); // prettier-ignore
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/killEnabled/);
  });

  it('off loopback the secret is required; with a token required, requests without it get 401 and the secret appears nowhere', async () => {
    await expect(MicroSpark.inProcess({ ui: { port: 0, host: '0.0.0.0' } })).rejects.toThrow(ConfigError);
    const secret = 'correct horse battery staple 0123456789';
    const store = new StatusStore(Date.now());
    const app: UiApplication = {
      id: 'app-1',
      name: 'x',
      store,
      endTime: () => undefined,
      environment: {
        runtime: {},
        sparkProperties: [['microspark.secret', '*********(redacted)']],
        systemProperties: [],
      },
    };
    const server = await UiServer.start({ apps: () => [app], port: 0, secret, requireToken: true });
    cleanup.push(() => server.stop());
    const token = uiToken(secret);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${token}`);
    expect(token).not.toContain(secret.slice(0, 8));
    const plain = `http://127.0.0.1:${server.port}`;
    const denied = await getJson(`${plain}/api/v1/applications`);
    expect(denied.status).toBe(401);
    expect(String(denied.body)).not.toContain(secret);
    expect((await getJson(`${plain}/api/v1/applications?token=${'0'.repeat(32)}`)).status).toBe(401);
    expect((await getJson(`${plain}/api/v1/applications`, { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
    const first = await fetch(server.url);
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^microspark_ui=[0-9a-f]{32}; HttpOnly; SameSite=Strict; Path=\/$/);
    const withCookie = await getJson(`${plain}/api/v1/applications/app-1/environment`, { cookie: cookie.split(';')[0]! }); // prettier-ignore
    expect(withCookie.status).toBe(200);
    expect(JSON.stringify(withCookie.body)).not.toContain(secret);
    expect(await first.text()).not.toContain(secret);
  });

  it('takes the next free port when the first is taken', async () => {
    const apps = () => [];
    const a = await UiServer.start({ apps, port: 0 });
    cleanup.push(() => a.stop());
    const b = await UiServer.start({ apps, port: a.port });
    cleanup.push(() => b.stop());
    // The next free one of the 16 after it (another process may hold a.port + 1).
    expect(b.port).toBeGreaterThan(a.port);
    expect(b.port).toBeLessThanOrEqual(a.port + 16);
  });
});

describe('a 100,000-task stage', () => {
  it('keeps at most retainedTasks finished tasks, exact counts, and answers every page in under 200 ms', async () => {
    const store = new StatusStore(Date.now(), { retainedTasks: 1000 });
    const N = 100_000;
    const feed = (stageId: number, actionId: number) => {
      let t = Date.now();
      store.apply({ type: 'action', actionId, state: 'started', name: `count at big.ts:${actionId}` }, t);
      store.apply({ type: 'stage', actionId, stageId, kind: 'result', state: 'submitted', name: 'count at big.ts:1', tasks: N }, t); // prettier-ignore
      for (let p = 0; p < N; p++) {
        const worker = `w${p % 4}`;
        store.apply({ type: 'task', stageId, partition: p, attempt: 0, state: 'running', worker }, t);
        if (p % 1000 === 7) {
          store.apply({ type: 'task', stageId, partition: p, attempt: 1, state: 'retried', reason: 'lease-expired' }, ++t); // prettier-ignore
          store.apply({ type: 'task', stageId, partition: p, attempt: 1, state: 'running', worker }, t);
        }
        store.apply({ type: 'task', stageId, partition: p, attempt: 0, state: 'done', worker }, (t += p % 3));
      }
      store.apply({ type: 'stage', actionId, stageId, kind: 'result', state: 'completed', name: 'count at big.ts:1', tasks: N }, t); // prettier-ignore
      store.apply({ type: 'action', actionId, state: 'succeeded', name: `count at big.ts:${actionId}` }, t);
    };
    global.gc?.();
    feed(0, 0);
    const st = store.stages.get(0)!;
    expect(st.finished).toHaveLength(1000);
    expect(st.counts).toMatchObject({ complete: N, failed: 100, active: 0, killed: 0 });
    expect(st.counts.retried['lease-expired']).toBe(100);
    expect(st.numCompletedIndices).toBe(N);
    expect(st.droppedTasks).toBe(N + 100 - 1000);
    const heapAfterOne = process.memoryUsage().heapUsed;
    for (let s = 1; s < 4; s++) feed(s, s);
    const heapAfterFour = process.memoryUsage().heapUsed;
    // Three more 100k-task stages retain 3 × 1000 tasks: a few MB at most, not 300k records.
    expect(heapAfterFour - heapAfterOne).toBeLessThan(40 * 1024 * 1024);
    for (const s of store.stages.values()) expect(s.finished.length).toBe(1000);

    const app: UiApplication = {
      id: 'big',
      name: 'big',
      store,
      endTime: () => undefined,
      environment: { runtime: {}, sparkProperties: [], systemProperties: [] },
    };
    const server = await UiServer.start({ apps: () => [app], port: 0 });
    cleanup.push(() => server.stop());
    const base = `http://127.0.0.1:${server.port}`;
    await getJson(`${base}/`); // warm up
    for (const r of [
      '/',
      '/api/v1/applications/big/jobs',
      '/api/v1/applications/big/stages',
      '/api/v1/applications/big/stages/0',
      '/api/v1/applications/big/stages/0/0/taskList?offset=500&length=50&sortBy=-runtime',
      '/api/v1/applications/big/stages/0/0/taskSummary',
      '/api/v1/applications/big/executors',
    ]) {
      // prettier-ignore
      const t0 = performance.now();
      const res = await getJson(`${base}${r}`);
      const ms = performance.now() - t0;
      expect(res.status, r).toBe(200);
      expect(ms, `${r} took ${ms.toFixed(1)} ms`).toBeLessThan(200);
    }
    const job = (await getJson(`${base}/api/v1/applications/big/jobs/0`)).body;
    expect(job).toMatchObject({
      numTasks: N,
      numCompletedTasks: N,
      numFailedTasks: 100,
      numRetriedTasks: 100,
    });
    const ex = (await getJson(`${base}/api/v1/applications/big/executors`)).body;
    expect(ex.map((e: any) => [e.id, e.completedTasks])).toEqual([['w0', N], ['w1', N], ['w2', N], ['w3', N]]); // prettier-ignore
  });

  it('a real 100,000-task action in process: counts equal the events, 1000 tasks retained, pages under 200 ms', async () => {
    const sc = await MicroSpark.inProcess({ ui: { port: 0 } });
    cleanup.push(() => sc.stop());
    let done = 0;
    sc.onProgress((e) => {
      if (e.type === 'task' && e.state === 'done') done++;
    });
    expect(await sc.range(0, 100_000, 1, 100_000).count()).toBe(100_000);
    expect(done).toBe(100_000);
    const base = sc.uiWebUrl!.replace(/\/$/, '');
    const id = (await getJson(`${base}/api/v1/applications`)).body[0].id;
    await getJson(`${base}/api/v1/applications/${id}/jobs`); // warm up
    for (const r of [
      '/jobs/0',
      '/stages/0',
      '/stages/0/0/taskList?offset=900&length=50&sortBy=-runtime',
      '/stages/0/0/taskSummary',
      '/allexecutors',
    ]) {
      // prettier-ignore
      const t0 = performance.now();
      const res = await getJson(`${base}/api/v1/applications/${id}${r}`);
      const ms = performance.now() - t0;
      expect(res.status, r).toBe(200);
      expect(ms, `${r} took ${ms.toFixed(1)} ms`).toBeLessThan(200);
    }
    const stage = (await getJson(`${base}/api/v1/applications/${id}/stages/0`)).body[0];
    expect(stage).toMatchObject({ numTasks: 100_000, numCompleteTasks: done, numCompletedIndices: 100_000, numRetainedTasks: 1000, numDroppedTasks: 99_000 }); // prettier-ignore
    expect(Object.keys(stage.tasks)).toHaveLength(1000);
  });
});
