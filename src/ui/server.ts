/**
 * The web UI's HTTP server (node:http): the pages (one bundled script), Spark's REST API under
 * `/api/v1`, a server-sent event stream that tells pages when to refresh, and the kill POST.
 *
 * Security: without a secret it binds a loopback address only. Bound elsewhere it needs the
 * cluster secret, and every request then carries a token derived from it (`?token=` once, then a
 * SameSite=Strict cookie, or `Authorization: Bearer`). The Host header must name the server (no
 * DNS rebinding). The kill POST needs the page's CSRF token in a custom header and a same-origin
 * Origin, so a page of another origin cannot forge it. The secret never appears in any answer.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../protocol/errors.js';
import { isLoopbackAddress } from '../protocol/cluster-identity.js';
import {
  applicationInfo,
  environmentInfo,
  executorLogs,
  executorSummary,
  sqlExecutionData,
  jobData,
  rddStorageInfo,
  stageData,
  taskList,
  taskSummary,
  type UiApplication,
} from './rest.js';

/** Options of {@link UiServer.start}. */
export interface UiServerOptions {
  /** Address to bind (default 127.0.0.1); anything but loopback requires `secret`. */
  readonly host?: string;
  /** First port to try (default 4040); taken ones are skipped, up to 16, then any free one. 0: any. */
  readonly port?: number;
  /** The applications shown (one for a context; every log file for the history server). */
  readonly apps: () => readonly UiApplication[];
  /** The cluster secret: required off loopback; requests then need the token derived from it. */
  readonly secret?: string;
  /** Whether the cancel button and its POST work (Spark's `spark.ui.killEnabled`; default false). */
  readonly killEnabled?: boolean;
  /** Require the token on every request (default: when bound off loopback; then `secret` is needed). */
  readonly requireToken?: boolean;
  /** The page title's prefix (`MicroSpark`, `MicroSpark history`). */
  readonly title?: string;
}

/** Default first port, as Spark's UI. */
export const DEFAULT_UI_PORT = 4040;
/** Ports tried after the first before falling back to any free one (Spark's `spark.port.maxRetries`). */
const PORT_RETRIES = 16;
/** How often the event stream checks for changes (pages update within a second). */
export const STREAM_INTERVAL_MS = 250;
const COOKIE = 'microspark_ui';
/** How often a live application's pages refresh even without progress events. */
const LIVE_REFRESH_MS = 1000;

/** The token a UI bound off loopback requires, derived from the secret (HMAC; reveals nothing of it). */
export function uiToken(secret: string): string {
  return createHmac('sha256', secret).update('microspark web ui token v1').digest('hex').slice(0, 32);
}

let bundle: Promise<string> | undefined;

/** The page script: `web/app.js` beside this module when built, else bundled from `web/main.ts` once. */
export function pageScript(): Promise<string> {
  bundle ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const built = join(here, 'web', 'app.js');
    if (existsSync(built)) return readFileSync(built, 'utf8');
    const { build } = await import('esbuild');
    const r = await build({
      entryPoints: [join(here, 'web', 'main.ts')],
      bundle: true,
      format: 'iife',
      target: 'es2020',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    return r.outputFiles[0]!.text;
  })();
  bundle.catch(() => (bundle = undefined));
  return bundle;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
} as const;

function tokenEquals(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** A running UI server. `stop()` is idempotent. */
export class UiServer {
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Map<ServerResponse, string | null>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  /** The page's token for state-changing requests (random per server, never derived from the secret). */
  private readonly csrf = randomBytes(16).toString('hex');

  private constructor(
    private readonly server: Server,
    private readonly options: UiServerOptions,
    readonly host: string,
    readonly port: number,
    private readonly token: string | undefined,
  ) {
    server.on('connection', (s) => {
      s.unref();
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const seen = new Map<ServerResponse, { version: number; at: number }>();
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const [res, id] of this.streams) {
        const apps = this.options.apps();
        const app = apps.find((a) => a.id === id) ?? apps[0];
        const v = app?.store.version ?? 0;
        const last = seen.get(res);
        // A change, or a second gone by for a live application (worker records and storage change without events).
        if (last?.version !== v || (app?.liveWorkers !== undefined && now - last.at >= LIVE_REFRESH_MS)) {
          seen.set(res, { version: v, at: now });
          res.write(`data: ${JSON.stringify({ version: v })}\n\n`);
        }
      }
      for (const res of seen.keys()) if (!this.streams.has(res)) seen.delete(res);
    }, STREAM_INTERVAL_MS);
    this.timer.unref();
  }

  /** Binds the server (see {@link UiServerOptions}); rejects with ConfigError for a bad address. */
  static async start(options: UiServerOptions): Promise<UiServer> {
    const host = options.host ?? '127.0.0.1';
    const requireToken = options.requireToken ?? !isLoopbackAddress(host);
    if (requireToken && !options.secret) {
      throw new ConfigError(
        `the web UI can bind ${host} only with the cluster secret (every request then needs its token); ` +
          'without it the UI stays on 127.0.0.1',
        'ui.host',
      );
    }
    const first = options.port ?? DEFAULT_UI_PORT;
    if (!Number.isInteger(first) || first < 0 || first > 65535)
      throw new ConfigError(`ui.port must be a port number from 0 to 65535, got ${first}`, 'ui.port');
    const candidates =
      first === 0
        ? [0]
        : [...Array.from({ length: PORT_RETRIES + 1 }, (_, i) => first + i).filter((p) => p <= 65535), 0];
    const ref: { server?: UiServer } = {};
    const server = createServer((req, res) => {
      if (!ref.server) return void res.writeHead(503).end();
      ref.server.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      });
    });
    server.unref();
    let port = -1;
    for (const p of candidates) {
      try {
        await new Promise<void>((resolve, reject) => {
          const onError = (e: Error) => reject(e);
          server.once('error', onError);
          server.listen({ host, port: p, exclusive: true }, () => {
            server.off('error', onError);
            resolve();
          });
        });
        port = (server.address() as AddressInfo).port;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          throw new ConfigError(
            `the web UI cannot listen on ${host}:${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
            'ui.port',
          );
        }
      }
    }
    ref.server = new UiServer(
      server,
      options,
      host,
      port,
      options.secret ? uiToken(options.secret) : undefined,
    );
    return ref.server;
  }

  /** The address to open: `http://127.0.0.1:4040/` (with `?token=…` when one is required). */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}/${this.token ? `?token=${this.token}` : ''}`;
  }

  /** Keeps the process alive while the server listens (a context's UI does not; the history server does). */
  ref(): this {
    this.server.ref();
    return this;
  }

  /** Closes the server and every open connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    for (const s of this.streams.keys()) s.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private allowedHosts(): Set<string> {
    const hosts = new Set([`${this.host}:${this.port}`, `[${this.host}]:${this.port}`]);
    if (isLoopbackAddress(this.host))
      for (const h of ['127.0.0.1', 'localhost', '[::1]']) hosts.add(`${h}:${this.port}`);
    return hosts;
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string,
    type: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
    res.end(body);
  }

  private json(
    res: ServerResponse,
    status: number,
    value: unknown,
    extra: Record<string, string> = {},
  ): void {
    this.send(res, status, JSON.stringify(value, null, 2), 'application/json; charset=utf-8', extra);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    if (!this.allowedHosts().has((req.headers.host ?? '').toLowerCase()))
      return this.send(res, 403, 'unexpected Host header\n', 'text/plain');
    const extra: Record<string, string> = {};
    if (this.token) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const fromQuery = url.searchParams.get('token') ?? undefined;
      const ok =
        tokenEquals(fromQuery, this.token) ||
        tokenEquals(bearer, this.token) ||
        tokenEquals(cookie(req, COOKIE), this.token);
      if (!ok)
        return this.send(
          res,
          401,
          'this UI requires its token: open the address the context printed\n',
          'text/plain',
        );
      if (tokenEquals(fromQuery, this.token))
        extra['set-cookie'] = `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'POST') return this.post(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.json(res, 405, { error: `${req.method} is not allowed` }, { allow: 'GET, POST' });
    if (path === '/' || path === '/index.html')
      return this.send(res, 200, this.page(), 'text/html; charset=utf-8', extra);
    if (path === '/static/app.js')
      return this.send(res, 200, await pageScript(), 'text/javascript; charset=utf-8');
    if (path === '/ui/stream') return this.stream(res, url.searchParams.get('app'));
    if (path.startsWith('/api/v1')) return this.api(res, path.slice('/api/v1'.length), url.searchParams);
    return this.json(res, 404, { error: `no such page: ${path}` });
  }

  private page(): string {
    const title = this.options.title ?? 'MicroSpark';
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="microspark-csrf" content="${this.csrf}">
<meta name="microspark-kill" content="${this.options.killEnabled ? 'enabled' : 'disabled'}">
</head><body><div id="app">Loading…</div><script src="/static/app.js"></script></body></html>`;
  }

  private stream(res: ServerResponse, app: string | null): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write(': microspark ui\n\n');
    this.streams.set(res, app);
    res.on('close', () => this.streams.delete(res));
  }

  private async post(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/api\/v1\/applications\/([^/]+)\/jobs\/(\d+)\/kill$/.exec(path);
    // Drain the body (none is needed); a large one is refused.
    let size = 0;
    for await (const chunk of req) if ((size += (chunk as Buffer).length) > 4096) break;
    if (!m) return this.json(res, 404, { error: `no such route: POST ${path}` });
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    const sameOrigin =
      (origin === undefined || this.allowedHosts().has(origin.replace(/^https?:\/\//, '').toLowerCase())) &&
      (site === undefined || site === 'same-origin');
    if (!sameOrigin || !tokenEquals(req.headers['x-microspark-csrf'] as string | undefined, this.csrf))
      return this.json(res, 403, { error: 'cross-site request refused: use the cancel button of this UI' });
    if (!this.options.killEnabled)
      return this.json(res, 403, { error: 'cancelling from the UI is disabled: start the context with ui: { killEnabled: true }' }); // prettier-ignore
    const app = this.options.apps().find((a) => a.id === decodeURIComponent(m[1]!));
    if (!app?.kill) return this.json(res, 404, { error: `no live application ${m[1]}` });
    const killed = app.kill(Number(m[2]));
    return this.json(res, killed ? 200 : 409, killed ? { killed: true } : { killed: false, error: `job ${m[2]} is not running` }); // prettier-ignore
  }

  private api(res: ServerResponse, path: string, q: URLSearchParams): void {
    const seg = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const notFound = (what: string) => this.json(res, 404, { error: what });
    if (seg[0] !== 'applications') return notFound(`unknown route /api/v1${path}`);
    const apps = this.options.apps();
    if (seg.length === 1) {
      const status = q.get('status');
      return this.json(
        res,
        200,
        apps
          .filter((a) => !status || (status === 'completed') === (a.endTime() !== undefined))
          .map(applicationInfo),
      );
    }
    const app = apps.find((a) => a.id === seg[1]);
    if (!app) return notFound(`unknown app: ${seg[1]}`);
    const store = app.store;
    const [, , what, id, attempt, sub] = seg;
    if (what === undefined) return this.json(res, 200, applicationInfo(app));
    switch (what) {
      case 'jobs': {
        if (id === undefined) {
          const wanted = q.getAll('status').map((s) => s.toUpperCase());
          const jobs = [...store.jobs.values()]
            .filter((j) => wanted.length === 0 || wanted.includes(j.status))
            .sort((a, b) => b.jobId - a.jobId);
          return this.json(
            res,
            200,
            jobs.map((j) => jobData(store, j)),
          );
        }
        const job = store.jobs.get(Number(id));
        return job ? this.json(res, 200, jobData(store, job)) : notFound(`unknown job: ${id}`);
      }
      case 'stages': {
        if (id === undefined) {
          const wanted = q.getAll('status').map((s) => s.toUpperCase());
          const details = q.get('details') === 'true';
          const stages = [...store.stages.values()]
            .filter((s) => wanted.length === 0 || wanted.includes(s.status))
            .sort((a, b) => b.stageId - a.stageId);
          return this.json(
            res,
            200,
            stages.map((s) => stageData(store, s, details)),
          );
        }
        const st = store.stages.get(Number(id));
        if (!st) return notFound(`unknown stage: ${id}`);
        const qs = (q.get('quantiles') ?? '0.0,0.25,0.5,0.75,1.0').split(',').map(Number);
        if (qs.some((x) => !(x >= 0 && x <= 1)))
          return this.json(res, 400, { error: 'quantiles must be in [0, 1]' });
        // Spark's `withSummaries=true`: the attempt with its taskMetricsDistributions.
        const attemptData = () => ({
          ...stageData(store, st, q.get('details') !== 'false'),
          ...(q.get('withSummaries') === 'true' && { taskMetricsDistributions: taskSummary(st, qs) }),
        });
        if (attempt === undefined) return this.json(res, 200, [attemptData()]);
        if (attempt !== '0') return notFound(`unknown attempt ${attempt} of stage ${id}`);
        if (sub === undefined) return this.json(res, 200, attemptData());
        if (sub === 'taskSummary') {
          const sqs = (q.get('quantiles') ?? '0.05,0.25,0.5,0.75,0.95').split(',').map(Number);
          if (sqs.some((x) => !(x >= 0 && x <= 1)))
            return this.json(res, 400, { error: 'quantiles must be in [0, 1]' });
          return this.json(res, 200, taskSummary(st, sqs));
        }
        if (sub === 'taskList') {
          const num = (k: string, d: number) => {
            const v = Number(q.get(k) ?? d);
            return Number.isInteger(v) && v >= 0 ? v : d;
          };
          const r = taskList(store, st, {
            offset: num('offset', 0),
            length: num('length', 20),
            sortBy: q.get('sortBy') ?? 'ID',
            ...(q.get('status') && { status: q.get('status')! }),
            ...(q.get('executor') && { executor: q.get('executor')! }),
          });
          return this.json(res, 200, r.page, { 'x-total-count': String(r.total) });
        }
        return notFound(`unknown route /api/v1${path}`);
      }
      case 'executors':
      case 'allexecutors': {
        if (id !== undefined) {
          const logs = attempt === 'logs' && sub === undefined ? executorLogs(store, id) : undefined;
          return logs ? this.json(res, 200, logs) : notFound(`unknown route /api/v1${path}`);
        }
        const live = new Map((app.liveWorkers?.() ?? []).map((w) => [w.node, w]));
        const out = [...store.executors.values()]
          .filter((e) => what === 'allexecutors' || e.isActive)
          .map((e) => executorSummary(store, e.id, live.get(e.id)));
        return this.json(res, 200, out);
      }
      case 'storage': {
        if (id !== 'rdd') return notFound(`unknown route /api/v1${path}`);
        const rdds = app.storage?.() ?? [];
        if (attempt === undefined)
          return this.json(
            res,
            200,
            rdds.map((r) => rddStorageInfo(r, false)),
          );
        const r = rdds.find((x) => x.id === Number(attempt));
        return r ? this.json(res, 200, rddStorageInfo(r, true)) : notFound(`unknown rdd: ${attempt}`);
      }
      case 'environment':
        return this.json(res, 200, environmentInfo(app.environment));
      case 'sql': {
        if (id === undefined)
          return this.json(
            res,
            200,
            [...store.sql.values()].sort((a, b) => a.id - b.id).map((x) => sqlExecutionData(store, x)),
          );
        const x = store.sql.get(Number(id));
        return x ? this.json(res, 200, sqlExecutionData(store, x)) : notFound(`unknown execution: ${id}`);
      }
      default:
        return notFound(`unknown route /api/v1${path}`);
    }
  }
}
