/**
 * The web UI's pages, bundled by esbuild into one script the server serves: jobs (actions),
 * a job's stage DAG (laid out by dagre), a stage's summary, task timeline and task table,
 * executors (workers), storage and environment. Everything is read from `/api/v1`; the page
 * re-renders when the server's event stream says something changed.
 */
import dagre from '@dagrejs/dagre';
import { STYLE } from './style.js';

type Json = any;

const root = document.getElementById('app')!;
const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const csrf = meta('microspark-csrf');
const killEnabled = meta('microspark-kill') === 'enabled';

const style = document.createElement('style');
style.textContent = STYLE;
document.head.appendChild(style);

const esc = (s: string | number | null | undefined): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function api(path: string): Promise<Json> {
  const res = await fetch(`/api/v1${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

const epoch = (d: string | undefined): number | undefined =>
  d === undefined ? undefined : Date.parse(d.replace('GMT', 'Z'));

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const time = (d: string | undefined) => (d ? new Date(epoch(d)!).toLocaleTimeString() : '');

/** A progress bar: completed, failed and running parts of `total`. */
function bar(total: number, complete: number, active: number, failed: number): string {
  const pct = (n: number) => (total > 0 ? Math.min(100, (100 * n) / total) : 0);
  return `<div class="bar" title="${complete}/${total} done, ${active} running, ${failed} failed">
    <div class="done" style="width:${pct(complete)}%"></div><div class="running" style="width:${pct(active)}%"></div>
    <span>${complete}/${total}${active ? ` (${active} running)` : ''}${failed ? ` (${failed} failed)` : ''}</span></div>`;
}

const status = (s: string) => `<span class="status ${esc(s.toLowerCase())}">${esc(s)}</span>`;

function table(headers: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${headers.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
  <tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

interface Route {
  readonly app?: string;
  readonly page: string;
  readonly id?: string;
  readonly query: URLSearchParams;
}

function route(): Route {
  const [path = '', q = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter((p) => p !== '');
  const query = new URLSearchParams(q);
  if (parts[0] !== 'app' || parts[1] === undefined) return { page: 'apps', query };
  return { app: decodeURIComponent(parts[1]), page: parts[2] ?? 'jobs', ...(parts[3] !== undefined && { id: parts[3] }), query }; // prettier-ignore
}

const link = (app: string, path: string, text: string) =>
  `<a href="#/app/${encodeURIComponent(app)}/${path}">${text}</a>`;

function nav(app: string, name: string, page: string, completed: boolean): string {
  const tabs = [
    ['jobs', 'Jobs'],
    ['stages', 'Stages'],
    ['storage', 'Storage'],
    ['environment', 'Environment'],
    ['executors', 'Executors'],
    ['sql', 'SQL'],
  ];
  return `<header><span class="brand">MicroSpark</span>${tabs
    .map(
      ([p, t]) =>
        `<a class="tab${page === p || (page === 'job' && p === 'jobs') || (page === 'stage' && p === 'stages') || (page === 'query' && p === 'sql') ? ' active' : ''}" href="#/app/${encodeURIComponent(app)}/${p}">${t}</a>`,
    ) // prettier-ignore
    .join(
      '',
    )}<span class="app">${esc(name)} ${completed ? '(finished)' : '<span class="live">● live</span>'}</span></header>`;
}

// ------------------------------------------------------------------ pages

async function appsPage(): Promise<string> {
  const apps = await api('/applications');
  if (apps.length === 1) {
    location.hash = `#/app/${encodeURIComponent(apps[0].id)}/jobs`;
    return '';
  }
  const rows = apps.map((a: Json) => [
    link(a.id, 'jobs', esc(a.id)),
    esc(a.name),
    esc(time(a.attempts[0].startTime)),
    esc(a.attempts[0].completed ? duration(a.attempts[0].duration) : 'running'),
  ]);
  return `<header><span class="brand">MicroSpark history</span></header><main><h2>Applications</h2>${table(['App ID', 'Name', 'Started', 'Duration'], rows, 'apps')}</main>`; // prettier-ignore
}

function jobTimeline(jobs: Json[]): string {
  if (jobs.length === 0) return '';
  const starts = jobs.map((j) => epoch(j.submissionTime)!);
  const t0 = Math.min(...starts);
  const t1 = Math.max(...jobs.map((j) => epoch(j.completionTime) ?? Date.now()));
  const w = 900;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => (20 + ((t - t0) / span) * (w - 40)).toFixed(1);
  const rows = [...jobs].reverse();
  const bars = rows
    .map((j, i) => {
      const a = epoch(j.submissionTime)!;
      const b = epoch(j.completionTime) ?? Date.now();
      return `<rect class="job ${esc(j.state)}" x="${x(a)}" y="${8 + i * 18}" width="${Math.max(2, Number(x(b)) - Number(x(a))).toFixed(1)}" height="14"><title>job ${j.jobId}: ${esc(j.name)} (${esc(j.state)}, ${duration(b - a)})</title></rect>`; // prettier-ignore
    })
    .join('');
  return `<h3>Event timeline</h3><svg class="timeline" width="${w}" height="${16 + rows.length * 18}">${bars}</svg>`;
}

async function jobsPage(app: string): Promise<string> {
  const jobs = await api(`/applications/${app}/jobs`);
  const rows = jobs.map((j: Json) => [
    String(j.jobId),
    link(app, `job/${j.jobId}`, esc(j.name)),
    status(j.state.toUpperCase()),
    esc(time(j.submissionTime)),
    esc(duration(j.durationMs)),
    `${j.numCompletedStages}/${j.stageIds.length}${j.numFailedStages ? ` (${j.numFailedStages} failed)` : ''}`,
    bar(j.numTasks, j.numCompletedTasks, j.numActiveTasks, j.numFailedTasks),
    j.numRetriedTasks ? String(j.numRetriedTasks) : '',
    j.status === 'RUNNING' && killEnabled ? `<button class="kill" data-job="${j.jobId}">Cancel</button>` : '',
  ]);
  const running = jobs.filter((j: Json) => j.status === 'RUNNING').length;
  return `<main><h2>Jobs (${jobs.length}${running ? `, ${running} running` : ''})</h2>${jobTimeline(jobs.slice(0, 50))}
  ${table(['Id', 'Description', 'Status', 'Submitted', 'Duration', 'Stages', 'Tasks: succeeded/total', 'Retried', ''], rows, 'jobs')}</main>`; // prettier-ignore
}

function dag(app: string, stages: Json[]): string {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(stages.map((s) => s.stageId as number));
  for (const s of stages) {
    const ops: string[] = s.operations.slice(-6);
    const width = Math.max(160, 7 * Math.max(`Stage ${s.stageId}`.length, ...ops.map((o) => o.length)));
    g.setNode(String(s.stageId), { width, height: 34 + ops.length * 16, stage: s, ops });
  }
  for (const s of stages)
    for (const p of s.parentIds) if (ids.has(p)) g.setEdge(String(p), String(s.stageId));
  dagre.layout(g);
  const { width = 0, height = 0 } = g.graph();
  const nodes = g
    .nodes()
    .map((id) => {
      const n = g.node(id);
      const x = n.x - n.width / 2;
      const y = n.y - n.height / 2;
      const lines = (n.ops as string[])
        .map((o, i) => `<text x="${x + 8}" y="${y + 38 + i * 16}" class="op">${esc(o)}</text>`)
        .join('');
      return `<a href="#/app/${encodeURIComponent(app)}/stage/${id}"><g class="stage-box ${esc(n.stage.status.toLowerCase())}" data-stage="${id}">
        <rect x="${x}" y="${y}" width="${n.width}" height="${n.height}" rx="4"></rect>
        <text x="${x + 8}" y="${y + 18}" class="title">Stage ${id} (${esc(n.stage.kind)}, ${n.stage.numCompleteTasks}/${n.stage.numTasks})</text>${lines}</g></a>`;
    })
    .join('');
  const edges = g
    .edges()
    .map((e) => {
      const pts = g.edge(e).points as Array<{ x: number; y: number }>;
      return `<polyline class="shuffle" points="${pts.map((p) => `${p.x},${p.y}`).join(' ')}" marker-end="url(#arrow)"><title>shuffle</title></polyline>`; // prettier-ignore
    })
    .join('');
  return `<svg class="dag" width="${width + 16}" height="${height + 16}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z"></path></marker></defs>${edges}${nodes}</svg>`; // prettier-ignore
}

/** Bytes and records as Spark's stage tables show them (`1.2 MiB / 3000`); empty when none. */
function sizeRecords(b: number, r: number): string {
  return b > 0 || r > 0 ? esc(`${bytes(b)} / ${r}`) : '';
}

function stageRows(app: string, stages: Json[]): string[][] {
  return stages.map((s) => [
    String(s.stageId),
    link(app, `stage/${s.stageId}`, esc(s.name)),
    status(s.status),
    esc(s.kind),
    esc(time(s.submissionTime)),
    esc(duration(s.completionTime ? epoch(s.completionTime)! - epoch(s.submissionTime)! : Date.now() - epoch(s.submissionTime)!)), // prettier-ignore
    bar(s.numTasks, s.numCompleteTasks, s.numActiveTasks, s.numFailedTasks),
    sizeRecords(s.inputBytes, s.inputRecords),
    sizeRecords(s.outputBytes, s.outputRecords),
    sizeRecords(s.shuffleReadBytes, s.shuffleReadRecords),
    sizeRecords(s.shuffleWriteBytes, s.shuffleWriteRecords),
    s.numRetriedTasks ? esc(Object.entries(s.retryReasons).filter(([, n]) => (n as number) > 0).map(([r, n]) => `${r}: ${n as number}`).join(', ')) : '', // prettier-ignore
  ]);
}

const STAGE_HEADERS = ['Id', 'Description', 'Status', 'Kind', 'Submitted', 'Duration', 'Tasks: succeeded/total', 'Input', 'Output', 'Shuffle read', 'Shuffle write', 'Retries']; // prettier-ignore

/**
 * The stage page's summary rows, as Spark's: duration, run and GC time always, CPU time where
 * measured, time parked waiting for map outputs where any task parked, then input,
 * output, shuffle read (size, records, fetch wait) and write, SQL rows where the stage has any.
 */
function summaryRows(st: Json, s: Json): string[][] {
  const ms = (xs: number[]) => xs.map((d) => esc(duration(d)));
  const n = (xs: number[]) => xs.map((d) => esc(d));
  const pair = (bs: number[], rs: number[]) => bs.map((x, i) => esc(`${bytes(x)} / ${rs[i]}`));
  const rows: string[][] = [
    ['Duration', ...ms(s.duration)],
    ['Run time', ...ms(s.executorRunTime)],
    ['GC time', ...ms(s.jvmGcTime)],
  ];
  // CPU time (ns) where the workers measured it (task threads); otherwise no row, not zeros.
  if (s.executorCpuTime) rows.push(['CPU time', ...s.executorCpuTime.map((d: number) => esc(duration(d / 1e6)))]); // prettier-ignore
  if (st.parkedTime > 0) rows.push(['Parked waiting for map outputs', ...ms(s.parkedTime)]);
  if (st.inputBytes > 0 || st.inputRecords > 0)
    rows.push(['Input size / records', ...pair(s.inputMetrics.bytesRead, s.inputMetrics.recordsRead)]);
  if (st.outputBytes > 0 || st.outputRecords > 0)
    rows.push(['Output size / records', ...pair(s.outputMetrics.bytesWritten, s.outputMetrics.recordsWritten)]); // prettier-ignore
  if (st.shuffleReadBytes > 0 || st.shuffleReadRecords > 0) {
    rows.push(['Shuffle read size / records', ...pair(s.shuffleReadMetrics.readBytes, s.shuffleReadMetrics.readRecords)]); // prettier-ignore
    rows.push(['Shuffle read fetch wait time', ...ms(s.shuffleReadMetrics.fetchWaitTime)]);
  }
  if (st.shuffleWriteBytes > 0 || st.shuffleWriteRecords > 0)
    rows.push(['Shuffle write size / records', ...pair(s.shuffleWriteMetrics.writeBytes, s.shuffleWriteMetrics.writeRecords)]); // prettier-ignore
  if (st.sqlRows > 0) rows.push(['SQL output rows', ...n(s.sqlRows)]);
  if (st.sqlBytes > 0) rows.push(['SQL output size', ...s.sqlBytes.map((d: number) => esc(bytes(d)))]);
  return rows;
}

async function jobPage(app: string, id: string): Promise<string> {
  const job = await api(`/applications/${app}/jobs/${id}`);
  const stages = await Promise.all(job.stageIds.map(async (s: number) => (await api(`/applications/${app}/stages/${s}?details=false`))[0])); // prettier-ignore
  // The DataFrame queries this action ran: their plans, stage by stage.
  const queries = ((await api(`/applications/${app}/sql`)) as Json[]).filter((x) => [...x.runningJobIds, ...x.successJobIds, ...x.failedJobIds].includes(job.jobId)); // prettier-ignore
  const plans = queries.map((x) => `<h3>Plan of ${link(app, `query/${x.id}`, `query ${x.id}`)}</h3>${planTable(app, x)}`).join(''); // prettier-ignore
  return `<main><h2>Job ${job.jobId}: ${esc(job.name)} ${status(job.state.toUpperCase())}
  ${job.status === 'RUNNING' && killEnabled ? `<button class="kill" data-job="${job.jobId}">Cancel</button>` : ''}</h2>
  <p>Duration ${esc(duration(job.durationMs))}; ${job.numCompletedTasks}/${job.numTasks} tasks; ${job.numRetriedTasks} retried${job.errorMessage ? `; <span class="error">${esc(job.errorMessage)}</span>` : ''}</p>
  <h3>DAG</h3>${dag(app, stages)}${plans}<h3>Stages</h3>${table(STAGE_HEADERS, stageRows(app, stages), 'stages')}</main>`;
}

/** A plan stage's text with its measured numbers after its exchange, shuffle reads and file scan. */
function annotatedPlan(s: Json): string {
  const lines = (s.text as string).split('\n').map((l) => esc(l));
  for (const o of s.operators as Json[]) {
    const parts = [
      ...(o.rows === undefined ? [] : [`rows: ${o.rows}`]),
      ...(o.bytes === undefined ? [] : [`size: ${bytes(o.bytes)}`]),
      ...(o.shuffleWriteBytes ? [`shuffle write: ${bytes(o.shuffleWriteBytes)}`] : []),
      ...(o.inputBytes === undefined ? [] : [`input: ${bytes(o.inputBytes)}`]),
    ];
    lines[o.line] += `  <span class="metric" data-kind="${esc(o.kind)}">[${esc(parts.join(', '))}]</span>`;
  }
  return lines.join('\n');
}

/**
 * A plan stage's DuckDB operators (`spark.microspark.sql.operatorMetrics`), summed over its tasks:
 * an indented list, one operator a line (`HASH_GROUP_BY rows 10 · 1.2 ms · Groups: #0`).
 */
function engineOperatorList(s: Json): string {
  const ops = s.engineOperators as Json[] | undefined;
  if (!ops || ops.length === 0) return '';
  const items = ops.map(
    (o) =>
      `<li style="padding-left: ${o.depth * 1.5}em">${esc([`${o.name} rows ${o.rows}`, duration(o.timeMs), ...(o.info ? [o.info] : [])].join(' · '))}</li>`,
  );
  return `<div class="engine-ops-title">DuckDB operators, summed over ${esc(s.engineOperatorTasks)} tasks</div><ul class="engine-ops">${items.join('')}</ul>`;
}

/** A DataFrame query's plan stages: what each runs, the stages that ran it, its rows and bytes. */
function planTable(app: string, x: Json): string {
  const rows = x.stages.map((s: Json) => [
    `<pre class="plan">${annotatedPlan(s)}</pre>${engineOperatorList(s)}`,
    s.stageIds.map((id: number) => link(app, `stage/${id}`, `Stage ${id}`)).join(', '),
    `${s.numCompleteTasks}/${s.numTasks}`,
    esc(s.rows),
    esc(bytes(s.bytes)),
    s.shuffleWriteBytes ? esc(bytes(s.shuffleWriteBytes)) : '',
    s.inputBytes ? esc(bytes(s.inputBytes)) : '',
  ]);
  return table(['Plan stage', 'Ran as', 'Tasks', 'Output rows', 'Output size', 'Shuffle write', 'Input'], rows, 'plan-stages'); // prettier-ignore
}

async function sqlPage(app: string): Promise<string> {
  const xs: Json[] = (await api(`/applications/${app}/sql`)).reverse();
  const rows = xs.map((x) => [
    String(x.id),
    link(app, `query/${x.id}`, esc(x.description)),
    status(x.status),
    esc(time(x.submissionTime)),
    esc(duration(x.duration)),
    [...x.runningJobIds, ...x.successJobIds, ...x.failedJobIds].sort((a, b) => a - b).map((j: number) => link(app, `job/${j}`, String(j))).join(', '), // prettier-ignore
    esc(x.stages.at(-1)?.rows ?? ''),
  ]);
  return `<main><h2>SQL / DataFrame queries (${xs.length})</h2>${rows.length === 0 ? '<p class="empty">No DataFrame query has run.</p>' : table(['Id', 'Description', 'Status', 'Submitted', 'Duration', 'Jobs', 'Result rows'], rows, 'sql')}</main>`; // prettier-ignore
}

async function queryPage(app: string, id: string): Promise<string> {
  const x = await api(`/applications/${app}/sql/${id}`);
  const jobs = [...x.runningJobIds, ...x.successJobIds, ...x.failedJobIds].sort(
    (a: number, b: number) => a - b,
  );
  return `<main><h2>Query ${x.id}: ${esc(x.description)} ${status(x.status)}</h2>
  <p>Duration ${esc(duration(x.duration))}; jobs ${jobs.map((j: number) => link(app, `job/${j}`, String(j))).join(', ') || 'none yet'}</p>
  <h3>Plan stages</h3>${planTable(app, x)}<h3>Physical plan</h3><pre class="plan">${esc(x.planDescription)}</pre></main>`;
}

async function stagesPage(app: string): Promise<string> {
  const stages = await api(`/applications/${app}/stages`);
  return `<main><h2>Stages (${stages.length})</h2>${table(STAGE_HEADERS, stageRows(app, stages), 'stages')}</main>`;
}

function taskTimeline(tasks: Json[]): string {
  if (tasks.length === 0) return '';
  const start = (t: Json) => epoch(t.launchTime)!;
  const end = (t: Json) => start(t) + (t.duration ?? Date.now() - start(t));
  // One lane per task slot in use (Dask's task stream): a task takes the first lane free at its start.
  const lanes = new Map<string, number[]>();
  const placed = [...tasks]
    .sort((a, b) => start(a) - start(b))
    .map((t) => {
      const ends = lanes.get(t.executorId) ?? [];
      lanes.set(t.executorId, ends);
      let lane = ends.findIndex((e) => e <= start(t));
      if (lane < 0) lane = ends.push(0) - 1;
      ends[lane] = end(t);
      return { t, lane };
    });
  const executors = [...lanes.keys()].sort();
  const firstRow = new Map<string, number>();
  let rowCount = 0;
  for (const e of executors) {
    firstRow.set(e, rowCount);
    rowCount += lanes.get(e)!.length;
  }
  const t0 = Math.min(...tasks.map(start));
  const span = Math.max(1, Math.max(...tasks.map(end)) - t0);
  const w = 900;
  const left = 110;
  const x = (t: number) => left + ((t - t0) / span) * (w - left - 10);
  const labels = executors
    .map((e) => `<text x="4" y="${firstRow.get(e)! * 22 + 22}" class="label">${esc(e.slice(0, 12))}</text>`)
    .join('');
  const rects = placed
    .map(({ t, lane }) => {
      const row = firstRow.get(t.executorId)! + lane;
      const reason = t.retryReason ? `, retried: ${t.retryReason}` : '';
      return `<rect class="task ${esc(t.status.toLowerCase())}${t.retryReason ? ' retried' : ''}" x="${x(start(t)).toFixed(1)}" y="${row * 22 + 8}" width="${Math.max(1.5, x(end(t)) - x(start(t)) - 1).toFixed(1)}" height="18"><title>task ${t.taskId} (partition ${t.index}, attempt ${t.attempt}) ${esc(t.status)}${esc(reason)}, ${duration(end(t) - start(t))}</title></rect>`; // prettier-ignore
    })
    .join('');
  return `<h3>Task timeline (per worker and slot)</h3><svg class="task-timeline" width="${w}" height="${rowCount * 22 + 16}">${labels}${rects}</svg>`; // prettier-ignore
}

const PAGE = 50;

async function stagePage(app: string, id: string, q: URLSearchParams): Promise<string> {
  const st = (await api(`/applications/${app}/stages/${id}?details=false`))[0];
  const qs = [0, 0.25, 0.5, 0.75, 1];
  const summary = await api(`/applications/${app}/stages/${id}/0/taskSummary?quantiles=${qs.join(',')}`);
  const sortBy = q.get('sortBy') ?? 'ID';
  const statusFilter = q.get('status') ?? '';
  const executor = q.get('executor') ?? '';
  const offset = Number(q.get('offset') ?? 0);
  const params = new URLSearchParams({ offset: String(offset), length: String(PAGE), sortBy });
  if (statusFilter) params.set('status', statusFilter);
  if (executor) params.set('executor', executor);
  const res = await fetch(`/api/v1/applications/${app}/stages/${id}/0/taskList?${params}`);
  const tasks: Json[] = await res.json();
  const total = Number(res.headers.get('x-total-count') ?? tasks.length);
  const timeline: Json[] = await api(
    `/applications/${app}/stages/${id}/0/taskList?length=2000&sortBy=launchTime`,
  );
  const executors = [...new Set(timeline.map((t) => t.executorId as string))].sort();
  const here = (changes: Record<string, string>) => {
    const p = new URLSearchParams(q);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '') p.delete(k);
      else p.set(k, v);
    }
    return `#/app/${encodeURIComponent(app)}/stage/${id}?${p}`;
  };
  const sortLink = (key: string, text: string) =>
    `<a href="${here({ sortBy: sortBy === key ? `-${key}` : key, offset: '0' })}">${text}${sortBy.replace('-', '') === key ? (sortBy.startsWith('-') ? ' ▾' : ' ▴') : ''}</a>`; // prettier-ignore
  const rows = tasks.map((t) => [
    String(t.taskId),
    String(t.index),
    String(t.attempt),
    status(t.status),
    esc(t.executorId),
    esc(t.host),
    esc(time(t.launchTime)),
    esc(duration(t.duration)),
    esc(t.taskMetrics ? duration(t.taskMetrics.jvmGcTime) : ''),
    esc(t.taskMetrics?.executorCpuTime === undefined ? '' : duration(t.taskMetrics.executorCpuTime / 1e6)),
    esc(t.taskMetrics?.parkedTime ? duration(t.taskMetrics.parkedTime) : ''),
    t.taskMetrics
      ? sizeRecords(t.taskMetrics.inputMetrics.bytesRead, t.taskMetrics.inputMetrics.recordsRead)
      : '',
    t.taskMetrics
      ? sizeRecords(t.taskMetrics.shuffleReadMetrics.readBytes, t.taskMetrics.shuffleReadMetrics.recordsRead)
      : '',
    t.taskMetrics
      ? sizeRecords(
          t.taskMetrics.shuffleWriteMetrics.bytesWritten,
          t.taskMetrics.shuffleWriteMetrics.recordsWritten,
        )
      : '',
    esc(t.retryReason ?? ''),
  ]);
  const reasons = Object.entries(st.retryReasons).filter(([, n]) => (n as number) > 0).map(([r, n]) => `${r}: ${n as number}`).join(', '); // prettier-ignore
  const filters = `<form class="filters">Status <select name="status">${['', 'RUNNING', 'SUCCESS', 'FAILED', 'KILLED'].map((s) => `<option${s === statusFilter ? ' selected' : ''}>${s}</option>`).join('')}</select>
    Worker <select name="executor">${['', ...executors].map((e) => `<option${e === executor ? ' selected' : ''}>${esc(e)}</option>`).join('')}</select></form>`; // prettier-ignore
  const pager = `<p class="pager">${total === 0 ? 'no tasks' : `tasks ${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}`}
    ${offset > 0 ? `<a href="${here({ offset: String(Math.max(0, offset - PAGE)) })}">‹ previous</a>` : ''}
    ${offset + PAGE < total ? `<a class="next" href="${here({ offset: String(offset + PAGE) })}">next ›</a>` : ''}
    ${st.numDroppedTasks ? ` (${st.numDroppedTasks} older finished tasks not retained)` : ''}</p>`;
  return `<main><h2>Stage ${st.stageId}: ${esc(st.name)} ${status(st.status)}</h2>
  <p>${link(app, `job/${st.jobId}`, `Job ${st.jobId}`)}; ${esc(st.kind)}; ${st.numCompleteTasks}/${st.numTasks} tasks done, ${st.numActiveTasks} running, ${st.numFailedTasks} failed${reasons ? ` (retries: ${esc(reasons)})` : ''}</p>
  ${bar(st.numTasks, st.numCompleteTasks, st.numActiveTasks, st.numFailedTasks)}
  <h3>Summary metrics for ${summary.numTasks} completed tasks</h3>
  ${table(['Metric', 'Min', '25th percentile', 'Median', '75th percentile', 'Max'], summaryRows(st, summary), 'summary')}
  ${taskTimeline(timeline)}
  <h3>Tasks</h3>${filters}${pager}
  ${table([sortLink('ID', 'Task'), sortLink('index', 'Index'), 'Attempt', 'Status', sortLink('executor', 'Worker'), 'Host', sortLink('launchTime', 'Launched'), sortLink('runtime', 'Duration'), 'GC time', 'CPU time', 'Parked', 'Input', 'Shuffle read', 'Shuffle write', 'Retry reason'], rows, 'tasks')}</main>`; // prettier-ignore
}

async function executorsPage(app: string): Promise<string> {
  const ex = await api(`/applications/${app}/allexecutors`);
  const rows = ex.map((e: Json) => [
    esc(e.id.slice(0, 12)),
    esc(e.hostPort),
    e.isActive ? status('ACTIVE') : status('LOST'),
    `${e.busySlots ?? e.activeTasks}/${e.totalCores}`,
    String(e.activeTasks),
    String(e.rddBlocks),
    esc(bytes(e.memoryUsed)),
    esc(bytes(e.diskUsed)),
    e.numSpills === undefined ? '' : esc(`${bytes(e.diskBytesSpilled)} / ${e.numSpills}`),
    String(e.completedTasks),
    String(e.failedTasks),
    esc(duration(e.totalDuration)),
    esc(duration(e.totalGCTime)),
    esc(bytes(e.totalInputBytes)),
    esc(bytes(e.totalShuffleRead)),
    esc(bytes(e.totalShuffleWrite)),
    e.heartbeatAgeMs === undefined ? '' : esc(duration(e.heartbeatAgeMs)),
  ]);
  // Each worker's recent task output (a bounded ring per worker, newest last).
  const logs = await Promise.all(
    ex.filter((e: Json) => e.numLogLines > 0).map((e: Json) => api(`/applications/${app}/executors/${encodeURIComponent(e.id)}/logs`)), // prettier-ignore
  );
  const logSections = logs
    .map((l: Json) => {
      const lines = l.lines
        .map(
          (x: Json) =>
            `<span class="${esc(x.stream)}">${esc(time(x.time))} [stage ${x.stageId}.${x.partition}${x.attempt ? ` attempt ${x.attempt}` : ''}] ${esc(x.line)}</span>`,
        ) // prettier-ignore
        .join('\n');
      const more = l.numDroppedLines ? ` (newest ${l.lines.length} of ${l.numLines})` : '';
      return `<h4>${esc(l.executorId.slice(0, 12))}${esc(more)}</h4><pre class="log" data-executor="${esc(l.executorId)}">${lines}</pre>`; // prettier-ignore
    })
    .join('');
  return `<main><h2>Executors (workers)</h2>${table(['Worker', 'Address', 'Status', 'Busy/slots', 'Active tasks', 'Blocks', 'Memory', 'Disk', 'Spilled (size / blocks)', 'Completed', 'Failed', 'Task time', 'GC time', 'Input', 'Shuffle read', 'Shuffle write', 'Heartbeat age'], rows, 'executors')}
  <h3>Recent task log lines</h3>${logSections || '<p class="empty">No task has printed anything.</p>'}</main>`; // prettier-ignore
}

async function storagePage(app: string): Promise<string> {
  const rdds = await api(`/applications/${app}/storage/rdd`);
  const details = await Promise.all(rdds.map((r: Json) => api(`/applications/${app}/storage/rdd/${r.id}`)));
  const rows = details.map((r: Json) => [
    String(r.id),
    esc(r.name),
    esc(r.storageLevel),
    `${r.numCachedPartitions}/${r.numPartitions}`,
    esc(bytes(r.memoryUsed)),
    esc(bytes(r.diskUsed)),
    esc(r.dataDistribution.map((d: Json) => `${d.address} (${d.numBlocks})`).join(', ')),
  ]);
  // Each cached RDD's partitions: size and holder (Spark's per-RDD storage page).
  const parts = details
    .map(
      (r: Json) =>
        `<h3>RDD ${r.id}: ${esc(r.name)} — partitions</h3>${table(
          ['Block', 'Partition', 'Size', 'Held by'],
          r.partitions.map((p: Json) => [
            esc(p.blockName),
            esc(p.index),
            esc(bytes(p.memoryUsed + p.diskUsed)),
            esc(p.executors.join(', ')),
          ]),
          'partitions',
        )}`,
    ) // prettier-ignore
    .join('');
  return `<main><h2>Storage</h2>${rows.length === 0 ? '<p class="empty">No RDD is cached.</p>' : table(['Id', 'RDD', 'Storage level', 'Cached partitions', 'In memory', 'On disk', 'Held by'], rows, 'storage')}${parts}</main>`; // prettier-ignore
}

async function environmentPage(app: string): Promise<string> {
  const env = await api(`/applications/${app}/environment`);
  const kv = (pairs: Array<[string, string]>) =>
    table(
      ['Name', 'Value'],
      pairs.map(([k, v]) => [esc(k), esc(v)]),
      'env',
    );
  return `<main><h2>Environment</h2><h3>Runtime</h3>${kv(Object.entries(env.runtime))}
  <h3>Configuration</h3>${kv(env.sparkProperties)}<h3>System</h3>${kv(env.systemProperties)}</main>`;
}

// ------------------------------------------------------------------ render loop

let rendering = false;
let again = false;
let stream: EventSource | undefined;
let streamApp: string | undefined;

async function render(): Promise<void> {
  if (rendering) {
    again = true;
    return;
  }
  rendering = true;
  try {
    const r = route();
    if (r.page === 'apps' || r.app === undefined) {
      const html = await appsPage();
      if (html) root.innerHTML = html;
      return;
    }
    const app = r.app;
    if (streamApp !== app) {
      stream?.close();
      streamApp = app;
      stream = new EventSource(`/ui/stream?app=${encodeURIComponent(app)}`);
      stream.onmessage = () => void render();
    }
    const info = await api(`/applications/${encodeURIComponent(app)}`);
    const a = encodeURIComponent(app);
    const body =
      r.page === 'job' && r.id !== undefined
        ? await jobPage(a, r.id)
        : r.page === 'stage' && r.id !== undefined
          ? await stagePage(a, r.id, r.query)
          : r.page === 'stages'
            ? await stagesPage(a)
            : r.page === 'sql'
              ? await sqlPage(a)
              : r.page === 'query' && r.id !== undefined
                ? await queryPage(a, r.id)
                : r.page === 'executors'
                  ? await executorsPage(a)
                  : r.page === 'storage'
                    ? await storagePage(a)
                    : r.page === 'environment'
                      ? await environmentPage(a)
                      : await jobsPage(a);
    const scrollY = window.scrollY;
    root.innerHTML = nav(app, info.name, r.page, info.attempts[0].completed) + body;
    window.scrollTo(0, scrollY);
    root.dataset.rendered = String(Date.now());
  } catch (e) {
    root.innerHTML = `<main><p class="error">${esc((e as Error).message)}</p></main>`;
  } finally {
    rendering = false;
    if (again) {
      again = false;
      void render();
    }
  }
}

root.addEventListener('click', (ev) => {
  const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button.kill');
  const app = route().app;
  if (!button || app === undefined) return;
  button.disabled = true;
  button.textContent = 'Cancelling…';
  void fetch(`/api/v1/applications/${encodeURIComponent(app)}/jobs/${button.dataset.job}/kill`, {
    method: 'POST',
    headers: { 'x-microspark-csrf': csrf },
  }).then(() => render());
});

root.addEventListener('change', (ev) => {
  const select = ev.target as HTMLSelectElement;
  if (!select.closest('form.filters')) return;
  const [path = '', q = ''] = location.hash.split('?');
  const p = new URLSearchParams(q);
  if (select.value === '') p.delete(select.name);
  else p.set(select.name, select.value);
  p.delete('offset');
  location.hash = `${path}?${p}`;
});

window.addEventListener('hashchange', () => void render());
void render();
