/**
 * The CLI's web UI flags: `microspark run --ui-port 0 --event-log DIR` prints the UI's address and
 * writes the log; `microspark history DIR` serves it; a bad --ui-port exits 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ms-ui-cli-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/microspark.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }); // prettier-ignore
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => (clearTimeout(timer), resolve(code))),
  );
  return { child, out, exit };
}

describe('microspark run --event-log and microspark history', () => {
  it('run prints the web UI address and writes the event log; history serves it', async () => {
    const file = join(dir, 'job.ts');
    writeFileSync(file, `export default async function (sc: any) { console.log(await sc.parallelize([1, 2, 3], 3).map((x: number) => x * 2).sum()); }`); // prettier-ignore
    const logs = join(dir, 'events');
    const run = start(['run', file, '--local', '1', '--ui-port', '0', '--event-log', logs]);
    expect(await run.exit).toBe(0);
    expect(run.out.stdout).toBe('12\n');
    expect(run.out.stderr).toMatch(/^microspark: web UI at http:\/\/127\.0\.0\.1:\d+\/$/m);
    const files = readdirSync(logs);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^app-\d{14}-[0-9a-f]{4}\.jsonl$/);

    const history = start(['history', logs, '--ui-port', '0']);
    const t0 = Date.now();
    while (!/at (http:\S+)/.test(history.out.stderr) && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    const url = /at (http:\S+)/.exec(history.out.stderr)![1]!;
    const apps = (await (await fetch(`${url}api/v1/applications`)).json()) as Array<{ id: string; name: string; attempts: Array<{ completed: boolean }> }>; // prettier-ignore
    expect(apps.map((a) => [a.id + '.jsonl', a.name, a.attempts[0]!.completed])).toEqual([
      [files[0], 'job.ts', true],
    ]);
    const jobs = (await (await fetch(`${url}api/v1/applications/${apps[0]!.id}/jobs`)).json()) as Array<Record<string, unknown>>; // prettier-ignore
    expect(jobs.map((j) => [j.name, j.status, j.numTasks, j.numCompletedTasks])).toEqual([
      ['sum at job.ts:1', 'SUCCEEDED', 3, 3],
    ]);
    history.child.kill('SIGINT');
    expect(await history.exit).toBe(0);
  });

  it('a bad --ui-port exits 2 naming the flag', async () => {
    const r = start(['run', 'x.ts', '--ui-port', '70000']);
    expect(await r.exit).toBe(2);
    expect(r.out.stderr).toMatch(/--ui-port must be a port number/);
  });
});
