/**
 * WebAssembly guests as RDD functions (docs/WASM.md), in process and on a local cluster of two
 * daemons with identical assertions: numbers element-wise, batches through mapPartitions, msgpack
 * values, guest errors, and hostile guests (an endless loop, a memory bomb, an ungranted WASI import,
 * an out-of-range pointer, a malformed module), each a typed error after which the context still
 * serves. Guests: WAT (wabt) and AssemblyScript compiled here, C and Rust from the committed builds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MicroSpark,
  RemoteError,
  TaskFailedError,
  WasmImportError,
  WasmModuleError,
} from '../../src/index.js';
import type { WasmModule } from '../../src/index.js';
import { assemblyScript, fixturePath, levenshtein, wat } from './guests.js';

type Env = { g: WasmModule };

const modes = [
  { name: 'inProcess', create: () => MicroSpark.inProcess({ defaultParallelism: 2, maxTaskFailures: 2 }) },
  {
    name: 'local cluster of 2 daemons',
    create: () => MicroSpark.local({ workers: 2, defaultParallelism: 2, maxTaskFailures: 2 }),
  },
];

const PAIRS: Array<[string, string]> = [
  ['kitten', 'sitting'],
  ['flaw', 'lawn'],
  ['', 'abc'],
  ['same', 'same'],
  ['héllo', 'hello'],
  ['intention', 'execution'],
];

/** The task failure's cause (the typed error from the task), with its wire name and data. */
async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; data: Record<string, unknown>; attempts: number }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(TaskFailedError);
  const cause = (e as TaskFailedError).cause;
  expect(cause).toBeInstanceOf(RemoteError);
  const r = cause as RemoteError;
  return {
    name: r.remoteName,
    message: r.message,
    data: r.remoteData ?? {},
    attempts: (e as TaskFailedError).attempts,
  };
}

let watBytes: Uint8Array;
let asBytes: Uint8Array;
beforeAll(async () => {
  [watBytes, asBytes] = await Promise.all([wat('guest.wat'), assemblyScript()]);
});

describe.each(modes)('WASM guests ($name)', (mode) => {
  let sc: MicroSpark;
  let g: WasmModule;
  beforeAll(async () => {
    sc = await mode.create();
    g = await sc.wasm(watBytes, { name: 'g', timeoutMs: 300, maxMemoryMb: 2 });
  }, 30_000);
  afterAll(async () => {
    await sc?.stop();
  });

  it('WAT: numeric exports element by element, batched f64 in place, msgpack values', async () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const expected = xs.map((x) => x * x + 1);
    expect(
      await sc
        .parallelize(xs, 3)
        .map((x, env: Env) => env.g.score(x), { g })
        .collect(),
    ).toEqual(expected);
    const batched = sc
      .parallelize(xs, 3)
      .mapPartitions((it, env: Env) => env.g.mapF64('score_all', it), { g });
    expect(await batched.collect()).toEqual(expected);
    // A cached parent hands its partition over as one array; the function reads the first element
    // itself and mapF64 takes only the rest: [0,1,2] [3,4,5] [6,7,8,9]. Twice: computed, then read.
    const cached = sc.parallelize(xs, 3).cache();
    const firstThenRest = cached.mapPartitions(
      (it, env: Env) => {
        const first = it.next();
        return first.done ? [] : [first.value + 100, ...env.g.mapF64('score_all', it)];
      },
      { g },
    );
    const expectedRest = [100, 2, 5, 103, 17, 26, 106, 50, 65, 82];
    expect(await firstThenRest.collect()).toEqual(expectedRest);
    expect(await firstThenRest.collect()).toEqual(expectedRest);
    // The guest block is kept between batches and replaced by a larger one when needed (client side).
    const wide = Array.from({ length: 5000 }, (_, i) => i / 4);
    for (const batch of [[1, 2, 3, 4, 5], [7], wide, [], [0.5, -3]])
      expect([...g.mapF64('score_all', batch)]).toEqual(batch.map((x) => x * x + 1));
    // Under its 2 MiB cap a kept 1.2 MB batch block leaves no room for a 1 MB value: the value
    // call frees the block and succeeds; the next batch allocates one again.
    const many = Array.from({ length: 150_000 }, (_, i) => i % 7);
    const manyOut = many.map((x) => x * x + 1);
    expect([...g.mapF64('score_all', many)]).toEqual(manyOut);
    const text = 'x'.repeat(1_000_000);
    expect(g.echo(text)).toBe(text);
    expect([...g.mapF64('score_all', many)]).toEqual(manyOut);
    // i64 in and out: numbers when safe, bigints beyond.
    const big = await sc
      .parallelize([[1, 2] as const, [2 ** 53, 2 ** 53] as const], 1)
      .map(([a, b], env: Env) => env.g.add64(a, b), { g })
      .collect();
    expect(big).toEqual([3, 2n ** 54n]);
    const values = ['a', { b: [1, 2.5, null], c: 'ü' }, [true, false], 42];
    expect(
      await sc
        .parallelize(values, 2)
        .map((v, env: Env) => env.g.echo(v), { g })
        .collect(),
    ).toEqual(values);
    expect(g.exports.find((e) => e.name === 'echo')?.convention).toBe('value');
  });

  it('AssemblyScript (compiled here): numbers, a batch and a string function', async () => {
    const m = await sc.wasm(asBytes, { name: 'as' });
    const xs = [1.5, -2, 3, 10];
    const expected = xs.map((x) => x * x + 1);
    expect(
      await sc
        .parallelize(xs, 2)
        .map((x, env: { m: WasmModule }) => env.m.score(x), { m })
        .collect(),
    ).toEqual(expected);
    expect(
      await sc
        .parallelize(xs, 2)
        .mapPartitions((it, env: { m: WasmModule }) => env.m.mapF64('score_all', it), { m })
        .collect(),
    ).toEqual(expected);
    expect(
      await sc
        .parallelize(['spark', 'wasm, too', 'Ünïcode ok'], 2)
        .map((s, env: { m: WasmModule }) => env.m.shout(s), { m })
        .collect(),
    ).toEqual(['SPARK', 'WASM, TOO', 'ÜNïCODE OK']);
    const e = await failure(
      sc
        .parallelize([7], 1)
        .map((x, env: { m: WasmModule }) => env.m.shout(x), { m })
        .collect(),
    );
    expect(e).toMatchObject({
      name: 'WasmGuestError',
      message: 'shout: expected a string',
      data: { module: 'as', fn: 'shout' },
    });
  });

  it.each(['c', 'rust'])(
    '%s fixture: string distance per pair and per batch, a numeric hash, a guest error',
    async (lang) => {
      const m = await sc.wasm(fixturePath(`${lang}/strdist.wasm`));
      expect(m.name).toBe('strdist');
      const expected = PAIRS.map(([a, b]) => levenshtein(a, b));
      expect(expected).toEqual([3, 2, 3, 0, 2, 5]);
      const rdd = sc.parallelize(PAIRS, 3);
      expect(await rdd.map((p, env: { m: WasmModule }) => env.m.distance(p), { m }).collect()).toEqual(
        expected,
      );
      expect(
        await rdd
          .mapPartitions((it, env: { m: WasmModule }) => env.m.distances([...it]) as number[], { m })
          .collect(),
      ).toEqual(expected);
      const hashes = await sc
        .parallelize([0, 1, 0xdeadbeef], 1)
        .map((x, env: { m: WasmModule }) => env.m.fnv1a(x), { m })
        .collect();
      // FNV-1a of the 4 little-endian bytes, as the guest computes it, read back as i32.
      const fnv = (v: number) => {
        let h = 2166136261;
        for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((v >>> (8 * i)) & 0xff), 16777619) >>> 0;
        return h | 0;
      };
      expect(hashes).toEqual([0, 1, 0xdeadbeef].map(fnv));
      const e = await failure(
        sc
          .parallelize([['one']], 1)
          .map((p, env: { m: WasmModule }) => env.m.distance(p), { m })
          .collect(),
      );
      expect(e).toMatchObject({
        name: 'WasmGuestError',
        message: 'distance: expected [string, string]',
        data: { module: 'strdist', fn: 'distance' },
      });
    },
  );

  it('hostile: an endless loop is stopped at its timeout (TaskTimeoutError naming the call); the context carries on', async () => {
    const t0 = Date.now();
    const e = await failure(
      sc
        .parallelize([1, 2], 2)
        .map((x, env: Env) => env.g.spin(x), { g })
        .collect(),
    );
    expect(e.name).toBe('TaskTimeoutError');
    expect(e.message).toMatch(/^WebAssembly call g\.spin exceeded its timeout of 300 ms and was stopped/);
    expect(e.data).toEqual({ timeoutMs: 300, fn: 'g.spin' });
    expect(e.attempts).toBe(2); // counted as the task's own failures (maxTaskFailures: 2), not worker deaths
    // On a cluster the pool's watchdog stopped the task thread (a daemon's main thread is never blocked).
    if (mode.name !== 'inProcess') {
      expect(e.message).toMatch(/\(its task thread was terminated\)$/);
      // Both daemons are still up and members: the timeout ended a thread, not a worker.
      expect(sc.localWorkers.map((w) => w.child.exitCode)).toEqual([null, null]);
      expect(sc.cluster!.workers().length).toBe(2);
    }
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(
      await sc
        .parallelize([3, 4], 2)
        .map((x, env: Env) => env.g.score(x), { g })
        .collect(),
    ).toEqual([10, 17]);
  });

  it('hostile: a memory bomb hits maxMemoryMb (WasmMemoryLimitError); a trap and a bad pointer are typed errors', async () => {
    const bomb = await failure(
      sc
        .parallelize([1], 1)
        .map((x, env: Env) => env.g.bomb(x), { g })
        .collect(),
    );
    expect(bomb.name).toBe('WasmMemoryLimitError');
    expect(bomb.message).toMatch(/^g\.bomb needed more memory than its limit of 2 MiB/);
    expect(bomb.data).toEqual({ module: 'g', fn: 'bomb', maxMemoryMb: 2 });
    const trap = await failure(
      sc
        .parallelize([[1, 0]], 1)
        .map(([a, b], env: Env) => env.g.div(a, b), { g })
        .collect(),
    );
    expect(trap).toMatchObject({ name: 'WasmTrapError', message: 'g.div trapped: divide by zero' });
    const ptr = await failure(
      sc
        .parallelize(['x'], 1)
        .map((x, env: Env) => env.g.bad_ptr(x), { g })
        .collect(),
    );
    expect(ptr.name).toBe('WasmAbiError');
    expect(ptr.message).toMatch(
      /^g\.bad_ptr returned 16 bytes at 2147418112, outside its memory of \d+ bytes$/,
    );
    const guest = await failure(
      sc
        .parallelize(['x'], 1)
        .map((x, env: Env) => env.g.fail(x), { g })
        .collect(),
    );
    expect(guest).toMatchObject({ name: 'WasmGuestError', message: 'not a pair' });
    expect(
      await sc
        .parallelize([5], 1)
        .map((x, env: Env) => env.g.score(x), { g })
        .collect(),
    ).toEqual([26]);
  });

  it('hostile: WASI imports are refused unless granted; granted, the guest reads the clock', async () => {
    const bytes = await wat('wasi-clock.wat');
    const refused = await sc.wasm(bytes, { name: 'clock' }).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(WasmImportError);
    expect((refused as Error).message).toBe(
      "module 'clock' imports wasi_snapshot_preview1.clock_time_get (function), which was not granted: a module gets " +
        'no capabilities by default; pass { wasi: true } (or { wasi: { dir } }) to sc.wasm to grant WASI',
    );
    const m = await sc.wasm(bytes, { name: 'clock', wasi: true });
    const [t] = await sc
      .parallelize([0], 1)
      .map((x, env: { m: WasmModule }) => env.m.now_seconds(x), { m })
      .collect();
    expect(Math.abs((t as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('WASI with a preopened directory: the guest reads files under /data and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'microspark-wasi-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'x'.repeat(1234));
      const path = fixturePath('c/wasi-read.wasm');
      const refused = await sc.wasm(path).catch((x: unknown) => x);
      expect(refused).toBeInstanceOf(WasmImportError);
      expect((refused as Error).message).toMatch(
        /^module 'wasi-read' imports wasi_snapshot_preview1\.fd_close \(function\), /,
      );
      const m = await sc.wasm(path, { wasi: { dir } });
      const sizes = await sc
        .parallelize(['/data/a.txt'], 1)
        .map((p, env: { m: WasmModule }) => env.m.file_size(p) as number, { m })
        .collect();
      expect(sizes).toEqual([1234]);
      const outside = await failure(
        sc
          .parallelize(['/etc/hostname'], 1)
          .map((p, env: { m: WasmModule }) => env.m.file_size(p) as number, { m })
          .collect(),
      );
      expect(outside).toMatchObject({ name: 'WasmGuestError', message: 'cannot open /etc/hostname' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hostile: malformed modules and modules without the ABI are refused by sc.wasm', async () => {
    const garbage = await sc.wasm(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])).catch((x: unknown) => x);
    expect(garbage).toBeInstanceOf(WasmModuleError);
    expect((garbage as Error).message).toBe(
      "module 'wasm' is malformed: not a WebAssembly module (bad magic number)",
    );
    const truncated = await sc
      .wasm(watBytes.subarray(0, watBytes.length - 7), { name: 't' })
      .catch((x: unknown) => x);
    expect(truncated).toBeInstanceOf(WasmModuleError);
    expect((truncated as Error).message).toMatch(/^module 't' is malformed: /);
    // A valid module without microspark_abi_version.
    const bare = new Uint8Array([
      0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0,
    ]);
    const noAbi = await sc.wasm(bare, { name: 'bare' }).catch((x: unknown) => x);
    expect(noAbi).toBeInstanceOf(WasmModuleError);
    expect((noAbi as Error).message).toBe(
      "module 'bare' does not export microspark_abi_version() -> i32 (ABI 1, see docs/WASM.md)",
    );
    const tooBig = await sc
      .wasm(fixturePath('rust/strdist.wasm'), { maxMemoryMb: 1 })
      .catch((x: unknown) => x);
    expect(tooBig).toBeInstanceOf(WasmModuleError);
    expect((tooBig as Error).message).toMatch(
      /^module 'strdist' needs [\d.]+ MiB of memory at start, over its maxMemoryMb of 1$/,
    );
  });
});
