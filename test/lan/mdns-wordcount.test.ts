/**
 * A private LAN of network namespaces (shared/lan-netns.md): two worker hosts and one client host
 * on a bridge, all inside one `unshare -n` namespace with no route to the machine's interfaces.
 * The client finds the workers over mDNS (with a cluster secret, so every connection is
 * authenticated), runs a word count, and one worker host's link is taken down mid-action: the
 * answer is still right. Needs root and iproute2, as CI has.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'microspark-lan-'));
/** The process group of the LAN script: killed after the test even if vitest timed it out. */
let group: number | undefined;
afterAll(() => {
  if (group !== undefined) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const lines = Array.from({ length: 60 }, (_, i) => `w${i % 7} w${i % 5} w${i % 3}`);
function expectedCounts(): Record<string, number> {
  const m: Record<string, number> = {};
  for (const l of lines) for (const w of l.split(' ')) m[w] = (m[w] ?? 0) + 1;
  return m;
}

describe('LAN of network namespaces', () => {
  it('the client finds the workers over mDNS and survives a worker host losing its link', async () => {
    writeFileSync(join(dir, 'secret'), 'lan test secret 7f3a\n');
    writeFileSync(
      join(dir, 'client.mts'),
      `import { writeFileSync } from 'node:fs';
       import { MicroSpark } from ${JSON.stringify(join(root, 'src/index.ts'))};
       const sc = await MicroSpark.connect({ discovery: 'mdns', bind: '10.99.0.3', secret: 'lan test secret 7f3a',
         minWorkers: 2, joinTimeoutMs: 30000, heartbeatMs: 200, deadAfterMs: 1000, leaseTtlMs: 3000 });
       const found = sc.cluster.workers().map((w) => w.rpc).sort();
       sc.cluster.on('stage', (e) => { if (e.state === 'submitted') writeFileSync(${JSON.stringify(join(dir, 'started'))}, 'x'); });
       const counts = await sc.parallelize(${JSON.stringify(lines)}, 6)
         .flatMap((l, env) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, env.ms); return l.split(' '); }, { ms: 250 })
         .map((w) => [w, 1])
         .reduceByKey((a, b) => a + b, 3)
         .collectAsMap();
       const c = sc.cluster.counters;
       console.log(JSON.stringify({ found, counts: Object.fromEntries(counts), alive: sc.cluster.workers().length,
         recovered: c.reannounced + c.mapOutputsRecomputed + c.fetchFailures }));
       await sc.stop();
       process.exit(0);`,
    );
    const worker = (i: number) =>
      `ip netns exec h${i} node --import tsx ${root}/bin/microspark-worker.ts --bind 10.99.0.${i} --port 7077 ` +
      `--mdns --secret-file ${dir}/secret --slots 1 --heartbeat-ms 200 --dead-after-ms 1000 --log-level warn ` +
      `> ${dir}/w${i}.out 2> ${dir}/w${i}.err &`;
    writeFileSync(
      join(dir, 'lan.sh'),
      `set -e
       mount -t tmpfs none /run && mkdir -p /run/netns && ip link set lo up
       ip link add br0 type bridge mcast_snooping 0 && ip link set br0 up
       for i in 1 2 3; do
         ip netns add h$i
         ip link add v$i type veth peer name e$i
         ip link set v$i master br0 && ip link set v$i up
         ip link set e$i netns h$i
         ip netns exec h$i ip addr add 10.99.0.$i/24 dev e$i
         ip netns exec h$i ip link set e$i up
         ip netns exec h$i ip link set lo up
         ip netns exec h$i ip route add 224.0.0.0/4 dev e$i
       done
       cd ${root}
       ${worker(1)}
       ${worker(2)}
       ip netns exec h3 node --import tsx ${dir}/client.mts > ${dir}/client.out 2> ${dir}/client.err &
       CLIENT=$!
       for n in $(seq 1 600); do [ -f ${dir}/started ] && break; sleep 0.1; done
       sleep 1.5
       ip netns exec h1 ip link set e1 down
       echo "link down" >&2
       wait $CLIENT
       cat ${dir}/client.out`,
    );
    const child = spawn('unshare', ['-n', '-m', '--propagation', 'private', 'bash', join(dir, 'lan.sh')], {
      cwd: root,
      detached: true, // its own process group: everything it starts is killed with it below
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    group = child.pid;
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('exit', resolve);
        const logs = () =>
          ['client.err', 'w1.err', 'w2.err']
            .map((f) => {
              try {
                return `--- ${f}\n${readFileSync(join(dir, f), 'utf8').slice(-3000)}`;
              } catch {
                return `--- ${f}: none`;
              }
            })
            .join('\n');
        setTimeout(
          () => reject(new Error(`no answer within 100 s; stderr:\n${err}\n${logs()}`)),
          100_000,
        ).unref();
      });
      expect(err).toContain('link down'); // the fault fired
      expect(code).toBe(0);
      const line = out.trim().split('\n').pop() ?? '';
      const result = JSON.parse(line) as {
        found: string[];
        counts: Record<string, number>;
        alive: number;
        recovered: number;
      };
      expect(result.found).toEqual(['tcp://10.99.0.1:7077', 'tcp://10.99.0.2:7077']);
      expect(result.counts).toEqual(expectedCounts());
      expect(result.alive).toBe(1); // the host whose link went down was declared dead
      expect(result.recovered).toBeGreaterThanOrEqual(1);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 120_000);
});
