/**
 * `microspark history DIR`: the web UI of finished (and still running) contexts, read from the
 * event logs in DIR. Files are read again when their size or time changes, at most every second.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IN_PROGRESS, readEventLog } from './event-log.js';
import type { UiApplication } from './rest.js';
import { UiServer } from './server.js';

/** Options of {@link startHistoryServer}. */
export interface HistoryOptions {
  readonly dir: string;
  /** First port to try (default 18080, Spark's history server port). */
  readonly port?: number;
  readonly host?: string;
  readonly secret?: string;
}

/** Spark's history server port. */
export const DEFAULT_HISTORY_PORT = 18080;

/** The applications of the event logs in `dir`, newest first, re-read as the files change. */
export class HistoryDir {
  private readonly cache = new Map<string, { stamp: string; app: UiApplication | undefined }>();
  private scanned = 0;
  private apps: UiApplication[] = [];

  constructor(readonly dir: string) {}

  /** The applications now (files that are not event logs are left out). */
  list(): readonly UiApplication[] {
    if (Date.now() - this.scanned < 1000) return this.apps;
    this.scanned = Date.now();
    const names = readdirSync(this.dir).filter(
      (n) => n.endsWith('.jsonl') || n.endsWith(`.jsonl${IN_PROGRESS}`),
    );
    const live = new Set<string>();
    for (const name of names) {
      const path = join(this.dir, name);
      live.add(path);
      let stamp: string;
      try {
        const st = statSync(path);
        stamp = `${st.size}:${st.mtimeMs}`;
      } catch {
        continue;
      }
      if (this.cache.get(path)?.stamp === stamp) continue;
      let app: UiApplication | undefined;
      try {
        app = readEventLog(path);
      } catch {
        app = undefined;
      }
      this.cache.set(path, { stamp, app });
    }
    for (const k of [...this.cache.keys()]) if (!live.has(k)) this.cache.delete(k);
    // A finished log replaces its `.inprogress` twin (same app id).
    const byId = new Map<string, UiApplication>();
    for (const { app } of this.cache.values()) {
      if (!app) continue;
      const other = byId.get(app.id);
      if (!other || (other.endTime() === undefined && app.endTime() !== undefined)) byId.set(app.id, app);
    }
    this.apps = [...byId.values()].sort((a, b) => b.store.startTime - a.store.startTime);
    return this.apps;
  }
}

/** Serves the UI of the event logs in `options.dir` (the server keeps the process alive). */
export async function startHistoryServer(options: HistoryOptions): Promise<UiServer> {
  statSync(options.dir);
  const history = new HistoryDir(options.dir);
  const server = await UiServer.start({
    apps: () => history.list(),
    port: options.port ?? DEFAULT_HISTORY_PORT,
    title: 'MicroSpark history',
    ...(options.host !== undefined && { host: options.host }),
    ...(options.secret !== undefined && { secret: options.secret }),
  });
  return server.ref();
}
