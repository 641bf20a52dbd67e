/**
 * Function shipping: functions travel as source, so captured variables, native and bound
 * functions, and values that cannot travel are refused when the transformation is defined, with
 * errors that say how to fix them. Also env packing (Maps, Sets, functions), toolchain helpers,
 * task failures and retries, broadcast variables and accumulators.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturedVariableError,
  FunctionShippingError,
  InvalidOperationError,
  MicroSpark,
  RemoteError,
  SerializationError,
  TaskFailedError,
} from '../../src/index.js';
import { modes } from '../support/modes.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The error `fn` throws synchronously (fails the test if it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw');
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (e: unknown) => e as Error,
  );
}

/** How many attempts were logged to `path` by {@link logAttempt}-style functions (one byte each). */
function attemptsLogged(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').length : 0;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe.each(modes)('function shipping ($name)', (mode) => {
  let sc: MicroSpark;
  let root: string;
  let n = 0;
  const logPath = (): string => join(root, `attempts-${n++}.log`);

  beforeAll(async () => {
    sc = await mode.create(4);
    root = mkdtempSync(join(tmpdir(), 'microspark-shipping-'));
  });
  afterAll(async () => {
    await sc.stop();
    rmSync(root, { recursive: true, force: true });
  });

  describe('captured variables', () => {
    it('refuses a function capturing an outer const at definition, naming it and showing the env fix', () => {
      const k = 3;
      const rdd = sc.parallelize([1, 2, 3]);
      const err = thrown(() => rdd.map((x) => x * k));
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect(err.name).toBe('CapturedVariableError');
      expect((err as CapturedVariableError).variables).toEqual(['k']);
      expect(err.message).toContain('rdd.map');
      expect(err.message).toContain('`k`');
      expect(err.message).toContain('env.k');
      expect(err.message).toContain('{ k }');
    });

    it('accepts the same function with env: (x, env) => x * env.k', async () => {
      const k = 3;
      expect(
        await sc
          .parallelize([1, 2, 3])
          .map((x, env) => x * env.k, { k })
          .collect(),
      ).toEqual([3, 6, 9]);
    });

    it('accepts the free-variable form x => x * k when env is { k }', async () => {
      const k = 3;
      expect(
        await sc
          .parallelize([1, 2, 3])
          .map((x) => x * k, { k })
          .collect(),
      ).toEqual([3, 6, 9]);
    });

    it('names every captured variable, in order of use', () => {
      const a = 1;
      const b = 2;
      const c = 3;
      const err = thrown(() => sc.parallelize([1]).map((x) => x * a + b - c + a));
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['a', 'b', 'c']);
      expect(err.message).toContain('`a`, `b`, `c`');
      expect(err.message).toContain('{ a, b, c }');
    });

    it('still refuses variables that env does not provide', () => {
      const k = 3;
      const m = 4;
      const err = thrown(() => sc.parallelize([1]).map((x) => x * k * m, { k }));
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['m']);
    });

    it('refuses captures in every kind of method, not only map', () => {
      const k = 2;
      const rdd = sc.parallelize([1, 2, 3]);
      const pairs = sc.parallelize<[number, number]>([[1, 2]]);
      expect(() => rdd.filter((x) => x > k)).toThrow(CapturedVariableError);
      expect(() => rdd.flatMap((x) => [x, k])).toThrow(CapturedVariableError);
      expect(() => rdd.mapPartitions((it) => [k, ...it])).toThrow(CapturedVariableError);
      expect(() => pairs.reduceByKey((a, b) => a + b + k)).toThrow(CapturedVariableError);
      expect(() => rdd.sortBy((x) => x * k)).toThrow(CapturedVariableError);
    });

    it('allows standard globals (Math, JSON, Map, console…) without env', async () => {
      const out = await sc
        .parallelize([1, 4, 9])
        .map((x) => {
          const m = new Map([[x, Math.sqrt(x)]]);
          const s = JSON.stringify({ r: m.get(x) });
          return [s, typeof console, Number.isInteger(x), new Set([x]).size, String(x).padStart(2, '0')];
        })
        .collect();
      expect(out).toEqual([
        ['{"r":1}', 'object', true, 1, '01'],
        ['{"r":2}', 'object', true, 1, '04'],
        ['{"r":3}', 'object', true, 1, '09'],
      ]);
    });

    it('explains that the context cannot be used inside a function', () => {
      const err = thrown(() => sc.parallelize([1]).map((x) => sc.defaultParallelism + x));
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['sc']);
      expect(err.message).toContain(
        '`sc` is the context: actions and transformations run only on the client, never inside a function that runs on workers.',
      );
      // No env fix is suggested for the context: it cannot travel in env either.
      expect(err.message).not.toContain('{ sc }');
      expect(err.message).not.toContain('env.sc');
    });

    it('suggests await import() or data for `require`, not { require }', () => {
      const err = thrown(() =>
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- what a user may still write
        sc.parallelize([1]).map((x) => (require('node:path') as { sep: string }).sep + String(x)),
      );
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['require']);
      expect(err.message).toContain("`const m = await import('module')`");
      expect(err.message).toContain('pass the data through env');
      expect(err.message).not.toContain('{ require }');
    });

    it('gives the env fix only for the ordinary variables when sc is captured too', () => {
      const k = 2;
      const err = thrown(() => sc.parallelize([1]).map((x) => x * k + sc.defaultParallelism));
      expect((err as CapturedVariableError).variables).toEqual(['k', 'sc']);
      expect(err.message).toContain('rdd.map((x, env) => … env.k …, { k })');
      expect(err.message).not.toContain('env.sc');
    });
  });

  describe('function forms', () => {
    it('ships functions given in env and makes them callable as env.f(x)', async () => {
      const out = await sc
        .parallelize([1, 2, 3])
        .map((x, env) => env.f(x) + env.g(x), { f: (y: number) => y + 1, g: (y: number) => y * 100 })
        .collect();
      expect(out).toEqual([102, 203, 304]);
    });

    it('lets env functions use the data members of the same env', async () => {
      const k = 7;
      const out = await sc
        .parallelize([1, 2])
        .map((x, env) => env.f(x), { k, f: (y: number) => y * k })
        .collect();
      expect(out).toEqual([7, 14]);
    });

    it('refuses an env function that captures something env does not hold', () => {
      const q = 5;
      const err = thrown(() => sc.parallelize([1]).map((x, env) => env.f(x), { f: (y: number) => y * q }));
      expect(err).toBeInstanceOf(CapturedVariableError);
      expect((err as CapturedVariableError).variables).toEqual(['q']);
      expect(err.message).toBe(
        'rdd.map: the function env.f uses `q`, defined outside it.\n' +
          "Functions in env are shipped as source text too and see only their arguments and the env's data members, by name.\n" +
          'Put `q` into the same env, next to the function:\n' +
          '  rdd.map(…, { f: …, q })',
      );
    });

    it('refuses a native function such as Math.max, suggesting a wrapper', () => {
      const err = thrown(() => sc.parallelize([1, 2]).map(Math.max));
      expect(err).toBeInstanceOf(FunctionShippingError);
      expect(err.message).toContain('`max`');
      expect(err.message).toMatch(/native or bound/);
      expect(err.message).toMatch(/Wrap it in an arrow function/);
    });

    it('refuses a native function passed to an action too', async () => {
      const err = await rejection(sc.parallelize([1, 2]).reduce(Math.max));
      expect(err).toBeInstanceOf(FunctionShippingError);
    });

    it('refuses a bound function, suggesting a wrapper and env', () => {
      const times = function (this: { k: number }, x: number) {
        return x * this.k;
      };
      const bound = times.bind({ k: 2 });
      const err = thrown(() => sc.parallelize([1, 2]).map(bound));
      expect(err).toBeInstanceOf(FunctionShippingError);
      expect(err.message).toMatch(/native or bound/);
      expect(err.message).toMatch(/Wrap it in an arrow function/);
      expect(err.message).toMatch(/env/);
    });

    it('refuses a class', () => {
      expect(() => sc.parallelize([1]).map(Point as unknown as (x: number) => unknown)).toThrow(
        FunctionShippingError,
      );
    });

    it('ships method-shorthand functions', async () => {
      const obj = {
        double(this: void, x: number) {
          return x * 2;
        },
      };
      expect(await sc.parallelize([1, 2, 3]).map(obj.double).collect()).toEqual([2, 4, 6]);
      const withEnv = {
        scale(this: void, x: number, env: { k: number }) {
          return x * env.k;
        },
      };
      expect(await sc.parallelize([1, 2, 3]).map(withEnv.scale, { k: 10 }).collect()).toEqual([10, 20, 30]);
    });

    it('ships function expressions and declarations', async () => {
      expect(
        await sc
          .parallelize([1, 2, 3])
          .map(function (x) {
            return x + 1;
          })
          .collect(),
      ).toEqual([2, 3, 4]);
      expect(
        await sc
          .parallelize([1, 2, 3])
          .map(function named(x) {
            return x * 3;
          })
          .collect(),
      ).toEqual([3, 6, 9]);
      function square(x: number): number {
        return x * x;
      }
      expect(await sc.parallelize([1, 2, 3]).map(square).collect()).toEqual([1, 4, 9]);
    });

    it('ships generator functions to mapPartitions', async () => {
      const out = await sc
        .parallelize([1, 2, 3, 4], 2)
        .mapPartitions(function* (it) {
          let s = 0;
          for (const x of it) s += x;
          yield s;
        })
        .collect();
      expect(out).toEqual([3, 7]);
    });

    it('runs nested named functions and arrow helpers inside a shipped function', async () => {
      const out = await sc
        .parallelize([1, 2, 3])
        .map((x) => {
          function helper(y: number): number {
            return y + 1;
          }
          const twice = (z: number): number => helper(z) * 2;
          class Box {
            v = 0;
            constructor(v: number) {
              this.v = v;
            }
          }
          return [twice(x), helper.name, new Box(x).v];
        })
        .collect();
      expect(out).toEqual([
        [4, 'helper', 1],
        [6, 'helper', 2],
        [8, 'helper', 3],
      ]);
    });

    it('provides the esbuild helper __name (keepNames) to shipped sources', async () => {
      // What esbuild emits with keepNames for a nested named function.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- building the transformed source on purpose
      const f = new Function(
        'return (x) => { const helper = /* @__PURE__ */ __name(function (y) { return y * 10; }, "helper"); ' +
          'return [helper(x), helper.name]; }',
      )() as (x: number) => [number, string];
      expect(Function.prototype.toString.call(f)).toContain('__name(');
      expect(await sc.parallelize([1, 2]).map(f).collect()).toEqual([
        [10, 'helper'],
        [20, 'helper'],
      ]);
    });

    it('ships a nested named function from a file compiled by tsx (esbuild keepNames inserts __name)', async () => {
      const script = join(root, 'keep-names.mts');
      writeFileSync(
        script,
        `import { MicroSpark } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
const f = (x: number) => {
  function helper(y: number): number {
    return y + 1;
  }
  const twice = (z: number): number => helper(z) * 2;
  return [twice(x), helper.name, twice.name];
};
const sc = await MicroSpark.inProcess();
const out = await sc.parallelize([1, 2]).map(f).collect();
process.stdout.write(JSON.stringify({ src: f.toString(), out }));
await sc.stop();
`,
      );
      const stdout = await new Promise<string>((done, fail) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', script],
          { cwd: ROOT, timeout: 30_000 },
          (err, out, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done(out)),
        );
      });
      const r = JSON.parse(stdout) as { src: string; out: unknown };
      expect(r.src).toContain('__name(');
      expect(r.out).toEqual([
        [4, 'helper', 'twice'],
        [6, 'helper', 'twice'],
      ]);
    });

    it('provides the esbuild helper __publicField to shipped sources', async () => {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- building the transformed source on purpose
      const f = new Function(
        'return (x) => { class C { constructor() { __publicField(this, "v", x * 2); } } return new C().v; }',
      )() as (x: number) => number;
      expect(await sc.parallelize([1, 2]).map(f).collect()).toEqual([2, 4]);
    });
  });

  describe('env values', () => {
    it('refuses a class instance, naming its path', () => {
      const err = thrown(() =>
        sc.parallelize([1]).map((x, env) => x + env.cfg.p.x, { cfg: { p: new Point(1, 2) } }),
      );
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.cfg.p');
      expect(err.message).toContain('Point instance');
      expect(err.message).toMatch(/plain data/);
    });

    it('refuses a class instance inside an array, naming its index', () => {
      const err = thrown(() =>
        sc.parallelize([1]).map((x, env) => x + env.list.length, { list: [1, new Point(1, 2)] }),
      );
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.list[1]');
    });

    it('refuses a symbol, naming its path', () => {
      const err = thrown(() => sc.parallelize([1]).map((x, env) => [x, env.tag], { tag: Symbol('t') }));
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.tag');
      expect(err.message).toMatch(/symbol/);
    });

    it('refuses a cycle, naming the path that closes it', () => {
      const node: { name: string; next?: unknown } = { name: 'a' };
      node.next = { name: 'b', back: node };
      const err = thrown(() => sc.parallelize([1]).map((x, env) => [x, env.node.name], { node }));
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.node.next.back');
      expect(err.message).toMatch(/cycle/);
    });

    it('accepts the same object reached twice without a cycle', async () => {
      const shared = { v: 5 };
      const out = await sc
        .parallelize([1])
        .map((x, env) => x + env.a.v + env.b.v, { a: shared, b: shared })
        .collect();
      expect(out).toEqual([11]);
    });

    it('refuses an RDD inside env, explaining why', () => {
      const other = sc.parallelize([1, 2]);
      const err = thrown(() => sc.parallelize([1]).map((x, env) => [x, env.other], { other }));
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.other is an RDD');
      expect(err.message).toMatch(/can only be invoked by the client/);
    });

    it('refuses the context inside env, explaining why', () => {
      const err = thrown(() => sc.parallelize([1]).map((x, env) => [x, env.ctx], { ctx: sc }));
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toContain('env.ctx is the context');
      expect(err.message).toMatch(/can only be used on the client/);
    });

    it('delivers Maps as Maps and Sets as Sets, also nested', async () => {
      const lookup = new Map<unknown, unknown>([
        [1, 'one'],
        ['two', [2, 2]],
        [3, new Map([['inner', true]])],
      ]);
      const allowed = new Set<unknown>([1, 'a', 3]);
      const out = await sc
        .parallelize([1, 2, 3])
        .map(
          (x, env) => [
            env.lookup instanceof Map,
            env.allowed instanceof Set,
            env.nested.m instanceof Map,
            env.lookup.get(x) ?? null,
            env.lookup.get(3) instanceof Map,
            env.allowed.has(x),
            env.nested.m.get('k') ?? null,
          ],
          { lookup, allowed, nested: { m: new Map([['k', 'v']]) } },
        )
        .map((r) => JSON.stringify(r))
        .collect();
      expect(out.map((s) => JSON.parse(s) as unknown)).toEqual([
        [true, true, true, 'one', true, true, 'v'],
        [true, true, true, null, true, false, 'v'],
        [true, true, true, {}, true, true, 'v'],
      ]);
    });

    it('delivers Dates and typed arrays', async () => {
      const when = new Date(Date.UTC(2020, 0, 2));
      const out = await sc
        .parallelize([0, 1])
        .map(
          (i, env) => [
            env.when instanceof Date,
            env.when.getTime(),
            env.bytes instanceof Uint8Array,
            env.bytes[i],
          ],
          {
            when,
            bytes: new Uint8Array([7, 9]),
          },
        )
        .collect();
      expect(out).toEqual([
        [true, when.getTime(), true, 7],
        [true, when.getTime(), true, 9],
      ]);
    });
  });

  describe('task failures', () => {
    it('rejects with TaskFailedError after exactly 4 attempts, carrying the remote error', async () => {
      const log = logPath();
      const rdd = sc.parallelize([1], 1).map(
        (x, env) => {
          (globalThis as any).process.getBuiltinModule('node:fs').appendFileSync(env.log, 'x');
          if (x === 1) throw new RangeError('boom from the task');
          return x;
        },
        { log },
      );
      const err = await rejection(rdd.collect());
      expect(err).toBeInstanceOf(TaskFailedError);
      const tf = err as TaskFailedError;
      expect(tf.attempts).toBe(4);
      expect(tf.partition).toBe(0);
      expect(attemptsLogged(log)).toBe(4);
      expect(tf.message).toMatch(/failed 4 times/);
      expect(tf.message).toContain('RangeError: boom from the task');
      expect(tf.cause).toBeInstanceOf(RemoteError);
      const cause = tf.cause as RemoteError;
      expect(cause.remoteName).toBe('RangeError');
      expect(cause.message).toBe('boom from the task');
      expect(cause.remoteStack).toContain('RangeError: boom from the task');
      expect(cause.stack).toContain('remote stack');
    });

    it("points the remote stack at the user's file and line, not at eval (microspark-fn)", async () => {
      const line = Number(/shipping\.test\.ts:(\d+)/.exec(new Error().stack ?? '')?.[1]) + 1;
      const rdd = sc.parallelize([{}], 1).map((x: any) => x.foo.bar as number);
      const err = await rejection(rdd.collect());
      const stack = ((err as TaskFailedError).cause as RemoteError).remoteStack ?? '';
      expect(stack).toContain("TypeError: Cannot read properties of undefined (reading 'bar')");
      expect(stack).toMatch(new RegExp(`\\(shipping\\.test\\.ts:${line}:\\d+\\)`));
      expect(stack).not.toContain('microspark-fn');
    });

    it('counts lines within a multi-line function on from the line of the call', async () => {
      const line = Number(/shipping\.test\.ts:(\d+)/.exec(new Error().stack ?? '')?.[1]) + 1;
      const rdd = sc.parallelize([{}], 1).map((x: any) => {
        const y = x.foo;
        return y.bar as number;
      });
      const err = await rejection(rdd.collect());
      const stack = ((err as TaskFailedError).cause as RemoteError).remoteStack ?? '';
      expect(stack).toMatch(new RegExp(`\\(shipping\\.test\\.ts:${line + 2}:\\d+\\)`));
    });

    it('names the failing partition', async () => {
      const err = await rejection(
        sc
          .parallelize([1, 2, 3, 4], 4)
          .map((x) => {
            if (x === 3) throw new TypeError('bad element');
            return x;
          })
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).partition).toBe(2);
      expect(((err as TaskFailedError).cause as RemoteError).remoteName).toBe('TypeError');
    });

    it('reports a thrown non-Error value', async () => {
      const err = await rejection(
        sc
          .parallelize([1], 1)
          .map(() => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- what careless user code does
            throw 'plain string';
          })
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(((err as TaskFailedError).cause as Error).message).toContain('plain string');
    });

    it('succeeds when a retry succeeds', async () => {
      const log = logPath();
      const out = await sc
        .parallelize([1, 2], 1)
        .map(
          (x, env) => {
            if (x === 1) {
              // One log byte per attempt of the partition; the first two attempts fail.
              const fs = (globalThis as any).process.getBuiltinModule('node:fs');
              fs.appendFileSync(env.log, 'x');
              if (fs.readFileSync(env.log, 'utf8').length < 3) throw new Error('flaky');
            }
            return x * 10;
          },
          { log },
        )
        .collect();
      expect(out).toEqual([10, 20]);
      expect(attemptsLogged(log)).toBe(3);
    });
  });

  describe('broadcast variables', () => {
    it('makes the value visible through env.b.value', async () => {
      const b = sc.broadcast({ factor: 3, names: ['zero', 'one', 'two'] });
      const out = await sc
        .parallelize([0, 1, 2])
        .map((x, env) => `${env.b.value.names[x]}:${x * env.b.value.factor}`, { b })
        .collect();
      expect(out).toEqual(['zero:0', 'one:3', 'two:6']);
      expect(b.value.factor).toBe(3);
    });

    it('delivers a Map broadcast as a Map', async () => {
      const b = sc.broadcast(
        new Map<number, string>([
          [1, 'one'],
          [2, 'two'],
        ]),
      );
      const out = await sc
        .parallelize([1, 2, 3])
        .map((x, env) => [env.b.value instanceof Map, env.b.value.get(x) ?? null], { b })
        .collect();
      expect(out).toEqual([
        [true, 'one'],
        [true, 'two'],
        [true, null],
      ]);
    });

    it('refuses a broadcast value that cannot travel', () => {
      expect(() => sc.broadcast({ p: new Point(1, 2) })).toThrow(SerializationError);
      expect(() => sc.broadcast({ f: (x: number) => x })).toThrow(SerializationError);
    });

    it('works again after unpersist()', async () => {
      const b = sc.broadcast([10, 20]);
      const rdd = sc.parallelize([0, 1]).map((i, env) => env.b.value[i], { b });
      expect(await rdd.collect()).toEqual([10, 20]);
      b.unpersist();
      expect(await rdd.collect()).toEqual([10, 20]);
    });

    it('after destroy(), reading or using it is an error', async () => {
      const b = sc.broadcast([1, 2, 3]);
      const defined = sc.parallelize([0]).map((i, env) => env.b.value[i], { b });
      expect(await defined.collect()).toEqual([1]);
      b.destroy();
      expect(() => b.value).toThrow(InvalidOperationError);
      expect(() => sc.parallelize([0]).map((i, env) => env.b.value[i], { b })).toThrow(/destroyed/);
      await expect(defined.collect()).rejects.toThrow(/destroyed/);
    });

    it('cannot be destroyed inside a task', async () => {
      const b = sc.broadcast(1);
      const err = await rejection(
        sc
          .parallelize([1], 1)
          .map(
            (x, env) => {
              env.b.destroy();
              return x;
            },
            { b },
          )
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(((err as TaskFailedError).cause as RemoteError).remoteName).toBe('InvalidOperationError');
      expect(b.value).toBe(1);
    });
  });

  describe('accumulators', () => {
    it('adds numbers from tasks', async () => {
      const acc = sc.accumulator(0);
      await sc.parallelize([1, 2, 3, 4], 3).foreach((x, env) => env.acc.add(x), { acc });
      expect(acc.value).toBe(10);
      const fromFive = sc.accumulator(5);
      await sc.parallelize([1, 2, 3, 4], 2).foreach((x, env) => env.acc.add(x), { acc: fromFive });
      expect(fromFive.value).toBe(15);
      fromFive.add(100);
      expect(fromFive.value).toBe(115);
    });

    it('uses a custom param { zero, addInPlace } (list concatenation)', async () => {
      const acc = sc.accumulator<number[]>([], {
        zero: () => [],
        addInPlace: (a, b) => a.concat(b),
      });
      await sc.parallelize([1, 2, 3, 4, 5], 3).foreach((x, env) => env.acc.add([x]), { acc });
      expect([...acc.value].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    });

    it('uses a custom param for strings, keeping the initial value', async () => {
      const acc = sc.accumulator('>', { zero: () => '', addInPlace: (a, b) => a + b });
      await sc.parallelize(['a', 'b', 'c'], 1).foreach((x, env) => env.acc.add(x), { acc });
      expect(acc.value).toBe('>abc');
    });

    it('refuses non-numbers without a param, and an addInPlace capturing a variable', () => {
      expect(() => sc.accumulator('x')).toThrow(InvalidOperationError);
      const sep = ',';
      expect(() => sc.accumulator('', { zero: () => '', addInPlace: (a, b) => a + sep + b })).toThrow(
        CapturedVariableError,
      );
    });

    it('cannot be read inside a task', async () => {
      const acc = sc.accumulator(0);
      const err = await rejection(
        sc
          .parallelize([1], 1)
          .map((x, env) => x + env.acc.value, { acc })
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      const cause = (err as TaskFailedError).cause as RemoteError;
      expect(cause.remoteName).toBe('InvalidOperationError');
      expect(cause.message).toMatch(/only be read on the client/);
    });

    it('counts the updates of the successful attempt only, not of failed ones', async () => {
      const log = logPath();
      const acc = sc.accumulator(0);
      await sc
        .parallelize([1, 2, 3], 1)
        .map(
          (x, env) => {
            env.acc.add(x);
            if (x === 3) {
              const fs = (globalThis as any).process.getBuiltinModule('node:fs');
              fs.appendFileSync(env.log, 'x');
              if (fs.readFileSync(env.log, 'utf8').length < 3) throw new Error('flaky');
            }
            return x;
          },
          { acc, log },
        )
        .count();
      expect(attemptsLogged(log)).toBe(3);
      expect(acc.value).toBe(6);
    });

    it('counts updates made by the client-side merge of reduce, as Spark does on the driver', async () => {
      // 2 partitions of 2 elements: one call of f in each task, one more to merge the 2 partition results.
      const acc = sc.accumulator(0);
      const sum = await sc.parallelize([1, 2, 3, 4], 2).reduce(
        (a, b, env) => {
          env.acc.add(1);
          return a + b;
        },
        { acc },
      );
      expect(sum).toBe(10);
      expect(acc.value).toBe(3);
    });

    it('adds nothing when the action fails', async () => {
      const acc = sc.accumulator(0);
      const err = await rejection(
        sc
          .parallelize([1, 2], 1)
          .map(
            (x, env) => {
              env.acc.add(1);
              if (x === 2) throw new Error('always');
              return x;
            },
            { acc },
          )
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(acc.value).toBe(0);
    });
  });
});

describe('maxTaskFailures', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'microspark-max-failures-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('is respected: the action fails after that many attempts', async () => {
    const sc = await MicroSpark.inProcess({ maxTaskFailures: 2 });
    try {
      const log = join(root, 'two.log');
      const err = await rejection(
        sc
          .parallelize([1], 1)
          .map(
            (x, env) => {
              (globalThis as any).process.getBuiltinModule('node:fs').appendFileSync(env.log, 'x');
              throw new Error(`fail ${x}`);
            },
            { log },
          )
          .collect(),
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).attempts).toBe(2);
      expect(err.message).toMatch(/failed 2 times/);
      expect(attemptsLogged(log)).toBe(2);
    } finally {
      await sc.stop();
    }
  });

  it('1 means no retry', async () => {
    const sc = await MicroSpark.inProcess({ maxTaskFailures: 1 });
    try {
      const log = join(root, 'one.log');
      const err = await rejection(
        sc
          .parallelize([1], 1)
          .map(
            (x, env) => {
              (globalThis as any).process.getBuiltinModule('node:fs').appendFileSync(env.log, 'x');
              throw new Error(`fail ${x}`);
            },
            { log },
          )
          .collect(),
      );
      expect((err as TaskFailedError).attempts).toBe(1);
      expect(attemptsLogged(log)).toBe(1);
    } finally {
      await sc.stop();
    }
  });

  it('must be a positive integer', async () => {
    await expect(async () => MicroSpark.inProcess({ maxTaskFailures: 0 })).rejects.toThrow(
      InvalidOperationError,
    );
    await expect(async () => MicroSpark.inProcess({ maxTaskFailures: 1.5 })).rejects.toThrow(
      InvalidOperationError,
    );
  });
});
