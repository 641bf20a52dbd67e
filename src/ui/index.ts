/**
 * A context's web UI and event log: one more subscriber to its progress events. The UI keeps a
 * {@link StatusStore} and serves it (see server.ts); the event log writes every event to a file
 * the history server reads. Neither asks workers anything: worker rows come from the records the
 * client already holds.
 */
import { randomBytes } from 'node:crypto';
import { arch, platform } from 'node:os';
import { packageVersion } from '../cli/version.js';
import type { ProgressEvent, ProgressListener } from '../client/progress.js';
import { EventLogWriter } from './event-log.js';
import type { EnvironmentInfo, LiveWorker, RddStorage, UiApplication } from './rest.js';
import { UiServer } from './server.js';
import { StatusStore, type RetentionLimits } from './status-store.js';

/** The `ui` option of a context (`ui: false` serves nothing). */
export interface UiOptions extends RetentionLimits {
  /** First port to try (default 4040; the next free one is used, as in Spark). 0: any free port. */
  readonly port?: number;
  /** Address to bind (default 127.0.0.1); anything else requires the cluster secret. */
  readonly host?: string;
  /** Show the cancel button and accept its POST (Spark's `spark.ui.killEnabled`; default false). */
  readonly killEnabled?: boolean;
}

/** The `eventLog` option of a context. */
export interface EventLogOptions {
  /** Directory the log file is written to (created if missing). */
  readonly dir: string;
}

/** What the UI reads from its context. */
export interface LiveSource {
  readonly name: string;
  readonly onProgress: (listener: ProgressListener) => () => void;
  readonly workers: () => readonly LiveWorker[];
  readonly storage: () => readonly RddStorage[];
  /** Cancels one running action by its id (others run on); false when it is not running. */
  readonly cancelJob: (jobId: number) => boolean;
  /** Configuration entries (secret already redacted). */
  readonly properties: ReadonlyArray<readonly [string, string]>;
}

/** An application id as Spark makes them: `app-20240101120000-1a2b`. */
function newAppId(now: number): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`; // prettier-ignore
  return `app-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** The runtime and system entries of the environment page. */
function environmentOf(properties: ReadonlyArray<readonly [string, string]>): EnvironmentInfo {
  return {
    runtime: {
      microsparkVersion: packageVersion(),
      nodeVersion: process.version,
      v8Version: process.versions.v8,
    },
    sparkProperties: properties,
    systemProperties: [
      ['os.platform', platform()],
      ['os.arch', arch()],
      ['node.version', process.version],
      ['process.pid', String(process.pid)],
      ['process.cwd', process.cwd()],
    ],
  };
}

/** A context's UI and event log; `stop()` is idempotent. */
export class ContextUi {
  private stopped = false;

  private constructor(
    /** The application as the server shows it. */
    readonly app: UiApplication,
    private readonly server: UiServer | undefined,
    private readonly log: EventLogWriter | undefined,
    private readonly unsubscribe: () => void,
    private readonly ended: { time: number | undefined },
  ) {}

  /** Starts what the options ask for; undefined when neither the UI nor the event log is on. */
  static async start(
    source: LiveSource,
    ui: UiOptions | false | undefined,
    eventLog: EventLogOptions | undefined,
    secret: string | undefined,
  ): Promise<ContextUi | undefined> {
    if (ui === false && !eventLog) return undefined;
    const startTime = Date.now();
    const id = newAppId(startTime);
    const environment = environmentOf(source.properties);
    const store = new StatusStore(startTime, ui || {});
    const ended: { time: number | undefined } = { time: undefined };
    const app: UiApplication = {
      id,
      name: source.name,
      store,
      endTime: () => ended.time,
      environment,
      liveWorkers: source.workers,
      storage: source.storage,
      kill: (jobId) => {
        if (store.jobs.get(jobId)?.status !== 'RUNNING') return false;
        return source.cancelJob(jobId);
      },
    };
    const log = eventLog
      ? new EventLogWriter(eventLog.dir, { type: 'application', state: 'started', appId: id, name: source.name, time: startTime, environment }) // prettier-ignore
      : undefined;
    let server: UiServer | undefined;
    try {
      if (ui !== false) {
        server = await UiServer.start({
          apps: () => [app],
          ...(ui?.port !== undefined && { port: ui.port }),
          ...(ui?.host !== undefined && { host: ui.host }),
          ...(ui?.killEnabled !== undefined && { killEnabled: ui.killEnabled }),
          ...(secret !== undefined && { secret }),
        });
      }
    } catch (e) {
      log?.close(Date.now());
      throw e;
    }
    const listener = (e: ProgressEvent) => {
      const now = Date.now();
      if (ui !== false) store.apply(e, now);
      log?.write(e, now);
    };
    // The workers that joined before the UI started, as if it had seen them join.
    for (const w of source.workers()) listener({ type: 'worker', state: 'joined', node: w.node, endpoint: w.endpoint }); // prettier-ignore
    const unsubscribe = source.onProgress(listener);
    return new ContextUi(app, server, log, unsubscribe, ended);
  }

  /** The UI's address (with its token when one is required), or null when it is off. */
  get url(): string | null {
    return this.server?.url ?? null;
  }

  /** Stops listening, closes the server and finishes the event log. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.ended.time = Date.now();
    this.log?.close(this.ended.time);
    await this.server?.stop();
  }
}

export { UiServer, uiToken, DEFAULT_UI_PORT } from './server.js';
export { startHistoryServer, HistoryDir, DEFAULT_HISTORY_PORT } from './history.js';
export { readEventLog, EventLogWriter } from './event-log.js';
export { StatusStore } from './status-store.js';
