/**
 * The `microspark` command line: `run` (a script that succeeds, one that throws on the workers,
 * one whose function captures a variable), `status --json` against a running daemon, and flags.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, stopWorkers, type LocalWorker } from '../../src/client/local-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-cli-'));

function cli(
  args: string[],
  bin = 'bin/microspark.ts',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

describe('microspark run', () => {
  it('runs a TypeScript script with sc, prints plain progress lines on a pipe, and exits 0', async () => {
    const file = script(
      'ok.ts',
      `import type { MicroSpark } from '${join(process.cwd(), 'src/index.js')}';
       export default async function (sc: MicroSpark) {
         const pairs = sc.parallelize(['a b', 'b c', 'b'], 3).flatMap((l: string) => l.split(' ')).map((w: string) => [w, 1] as [string, number]);
         const counts = await pairs.reduceByKey((a: number, b: number) => a + b).sortByKey().collect();
         console.log(JSON.stringify(counts));
         console.log('global sc is the same:', (globalThis as any).sc === sc);
       }`,
    );
    const r = await cli(['run', file, '--local', '2']);
    expect(r.stderr).toMatch(/^microspark: local cluster: 2 worker daemons on 127\.0\.0\.1, loopback only$/m);
    expect(r.stdout).toBe('[["a",1],["b",3],["c",1]]\nglobal sc is the same: true\n');
    expect(r.stderr).toMatch(/^stage \d+ map at ok\.ts:3: 3 tasks submitted$/m);
    expect(r.stderr).toMatch(/^stage \d+ collect at ok\.ts:4: 3 tasks completed in [\d.]+ s$/m);
    expect(r.code).toBe(0);
  });

  it('a script whose task throws exits 1 with the remote error and stack', async () => {
    const file = script(
      'fails.mjs',
      `await sc.parallelize([1, 2, 3], 3).map((x) => { if (x === 2) throw new TypeError('two is bad'); return x; }).collect();`,
    );
    const r = await cli(['run', file, '--local', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`microspark run: ${file} failed`);
    expect(r.stderr).toMatch(/TaskFailedError: Task 1 in stage \d+ failed 4 times/);
    expect(r.stderr).toMatch(/Caused by: TypeError: two is bad \(on a worker\)\n\s+at /);
    // The remote stack points at the script's line, not at eval (microspark-fn:…).
    expect(r.stderr).toMatch(/\n\s+at eval \(fails\.mjs:1:\d+\)\n/);
    expect(r.stderr).not.toContain('microspark-fn');
    // One summary of the retries, not a line per retry.
    expect(r.stderr).toMatch(/^collect at fails\.mjs:1: 3 task retries \(user code threw ×3\)$/m);
    expect(r.stderr).not.toMatch(/task 1 of stage \d+ retried/);
  });

  it("an error in the script's own code exits 1 with its stack pointing at the script", async () => {
    const file = script('client.mjs', `const o = { foo: undefined };\nconsole.log(o.foo.bar);\n`);
    const r = await cli(['run', file, '--local', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TypeError: Cannot read properties of undefined (reading 'bar')\n    at ");
    expect(r.stderr).toContain(`${file}:2:`);
  });

  it('a function that captures a variable exits 1 with the explanation', async () => {
    const file = script(
      'captures.mjs',
      `const k = 3;\nawait sc.parallelize([1]).map((x) => x * k).collect();`,
    );
    const r = await cli(['run', file, '--local', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CapturedVariableError: rdd\.map: the function uses `k`, defined outside it/);
    expect(r.stderr).toContain('rdd.map((x, env) => … env.k …, { k })');
  });

  it('bad flags exit 2, a missing script 1, and they say what is wrong', async () => {
    const zero = await cli(['run', 'x.ts', '--local', '0']);
    expect([zero.code, zero.stderr.trim()]).toEqual([2, 'microspark: --local must be a whole number from 1 to 256, got "0"']); // prettier-ignore
    const both = await cli(['run', 'x.ts', '--local', '2', '--peers', '127.0.0.1:1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be combined with --peers/);
    const unknown = await cli(['--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--frobnicate'/);
    const missing = await cli(['run', join(dir, 'nope.ts')]);
    expect([missing.code, missing.stderr]).toEqual([
      1,
      `microspark run: no such file: ${join(dir, 'nope.ts')} (looked for ${join(dir, 'nope.ts')})\n`,
    ]);
    const noTerminal = await cli(['--local', '1']);
    expect([noTerminal.code, noTerminal.stderr]).toEqual([2, 'microspark: the console needs a terminal; use `microspark run <script>` in pipes\n']); // prettier-ignore
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/microspark run <script>/);
  });
});

describe('microspark status', () => {
  let worker: LocalWorker;
  beforeAll(async () => {
    worker = await spawnWorker({
      cluster: 'status-test',
      slots: 2,
      heartbeatMs: 500,
      deadAfterMs: 3000,
      readyTimeoutMs: 20_000,
    });
  });
  afterAll(async () => {
    await stopWorkers([worker], 2000);
  });

  it('--json lists the worker it can see, with slots', async () => {
    const peer = worker.rpc.replace('tcp://', '');
    const r = await cli(['status', '--json', '--peers', peer, '--cluster', 'status-test', '--wait', '1200']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { workers: Array<{ node: string; endpoint: string; slots: number; free: number }> }; // prettier-ignore
    expect(report.workers.map((w) => [w.node, w.endpoint, w.slots, w.free])).toEqual([
      [worker.node, worker.rpc, 2, 2],
    ]);
    const text = await cli(['status', '--peers', peer, '--cluster', 'status-test', '--wait', '1200']);
    expect(text.stdout).toMatch(/^1 worker seen from 127\.0\.0\.1:\d+$/m);
    expect(text.stdout).toContain(worker.node);
  });

  it('a peer with nothing listening: says it cannot reach it, within --wait, and exits 1', async () => {
    const t0 = Date.now();
    const r = await cli(['status', '--peers', '127.0.0.1:1', '--wait', '300']);
    expect(Date.now() - t0).toBeLessThan(4000); // the 5 s HELLO timeout is not waited for
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'microspark status: cannot reach 127.0.0.1:1: nothing answered within 300 ms ' +
        '(is a microspark-worker running there, with the same secret? --wait <ms> waits longer)\n',
    );
    expect(r.stdout).toMatch(/^0 workers seen from 127\.0\.0\.1:\d+$/m);
  });

  it('a --bind address the machine lacks: names it, says so, lists the addresses, exits 2', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'a'.repeat(64));
    // Only a bind is attempted (it fails locally); nothing is sent anywhere.
    const r = await cli(['status', '--peers', '127.0.0.1:1', '--bind', '10.255.255.254', '--secret-file', secret, '--wait', '100']); // prettier-ignore
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^microspark: ConfigError: cannot listen on 10\.255\.255\.254: this machine has no network interface with that address\. Its addresses: .*127\.0\.0\.1 \(lo\).*\. Pass --bind with one of them/m,
    );
    const worker = await cli(['--bind', '10.255.255.254', '--secret-file', secret, '--port', '0'], 'bin/microspark-worker.ts'); // prettier-ignore
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/^microspark-worker: cannot listen on 10\.255\.255\.254: this machine has no network interface with that address\. Its addresses: .*127\.0\.0\.1 \(lo\)/); // prettier-ignore
    expect(worker.stderr.split('\n')).toHaveLength(2); // one line, no stack
  });

  it('without peers or a cluster it says what to pass', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --peers host:port,… or --cluster <name>/);
  });
});
