/** The pages' style sheet (inlined into the bundle: no other file to serve). */
export const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { display: flex; align-items: center; gap: 4px; background: #1f2937; color: #fff; padding: 0 16px; height: 44px; }
header .brand { font-weight: 700; margin-right: 16px; }
header a.tab { color: #cbd5e1; text-decoration: none; padding: 12px 10px; }
header a.tab.active, header a.tab:hover { color: #fff; border-bottom: 3px solid #f97316; }
header .app { margin-left: auto; color: #cbd5e1; }
.live { color: #4ade80; }
main { padding: 8px 16px 32px; }
h2 { font-size: 20px; margin: 12px 0; } h3 { font-size: 16px; margin: 18px 0 6px; }
table { border-collapse: collapse; background: #fff; margin: 4px 0; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: #f3f4f6; } th a { color: inherit; }
.bar { position: relative; width: 220px; height: 18px; background: #e5e7eb; border-radius: 3px; overflow: hidden; display: flex; }
.bar .done { background: #22c55e; } .bar .running { background: #60a5fa; }
.bar span { position: absolute; left: 6px; top: 0; font-size: 12px; line-height: 18px; }
.status { font-size: 12px; padding: 1px 6px; border-radius: 3px; background: #e5e7eb; }
.status.succeeded, .status.complete, .status.success, .status.active { background: #dcfce7; }
.status.running { background: #dbeafe; } .status.failed, .status.lost { background: #fee2e2; }
.status.cancelled, .status.killed { background: #fef3c7; }
.error { color: #b91c1c; }
svg .job { fill: #60a5fa; } svg .job.succeeded { fill: #22c55e; } svg .job.failed { fill: #ef4444; } svg .job.cancelled { fill: #f59e0b; }
svg.dag .stage-box rect { fill: #eff6ff; stroke: #3b82f6; } svg.dag .stage-box.complete rect { fill: #f0fdf4; stroke: #22c55e; }
svg.dag .stage-box.failed rect { fill: #fef2f2; stroke: #ef4444; }
svg.dag text { font-size: 12px; fill: #111; } svg.dag .title { font-weight: 600; }
svg.dag .shuffle { fill: none; stroke: #6b7280; stroke-width: 1.5; } svg.dag marker path { fill: #6b7280; }
svg.task-timeline { background: #fff; border: 1px solid #e5e7eb; }
svg .task { fill: #22c55e; } svg .task.running { fill: #60a5fa; } svg .task.failed { fill: #ef4444; } svg .task.killed { fill: #f59e0b; }
svg .label { font-size: 11px; fill: #374151; }
button.kill { background: #ef4444; color: #fff; border: 0; padding: 3px 10px; border-radius: 3px; cursor: pointer; }
pre.log { background: #fff; border: 1px solid #e5e7eb; padding: 6px 8px; max-height: 240px; overflow: auto; font-size: 12px; margin: 4px 0; }
pre.log .stderr { color: #b91c1c; } h4 { margin: 10px 0 2px; font-size: 14px; }
pre.plan { margin: 0; font-size: 12px; white-space: pre; }
pre.plan .metric { color: #1f6feb; }
ul.engine-ops { list-style: none; margin: 2px 0 0; padding: 0; font: 12px monospace; color: #1f6feb; }
.engine-ops-title { margin-top: 4px; font-size: 12px; color: #57606a; }
.filters { margin: 4px 0; } .pager a { margin-left: 8px; } .empty { color: #6b7280; }
`;
