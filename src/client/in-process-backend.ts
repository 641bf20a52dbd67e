/**
 * Runs everything in this process, through the real path: each task is encoded to its wire form
 * (msgpack), decoded, and executed by the task runner, one partition at a time; results, shuffle
 * buckets and errors cross the same encoding. Shuffle map stages run before the stage that reads
 * them; their outputs are kept until the action ends. A task whose user code throws is retried
 * up to `maxTaskFailures` times, then the job rejects with a TaskFailedError carrying the cause.
 */
import { decode, encode } from '../protocol/codec.js';
import { errorFromWire, errorToWire, JobCancelledError, TaskFailedError } from '../protocol/errors.js';
import { blockId, type TaskDesc } from '../rdd/lineage.js';
import { stageShuffles } from '../rdd/plan.js';
import { captureConsole } from '../rdd/task-console.js';
import { runTask, type ShuffleRead, type TaskResult, type TaskServices } from '../rdd/runner.js';
import { bucketOf, type MapOutput } from '../rdd/map-output.js';
import type { RunJobOptions } from '../rdd/rdd.js';
import type { Backend, JobSpec } from './backend.js';
import { InvalidOperationError } from '../protocol/errors.js';
import { MAX_TASK_FAILURES } from '../protocol/defaults.js';
import { ProgressBus, stageShape } from './progress.js';
import { HostedData } from './hosted-data.js';

/** The in-process execution mode (see module doc). */
export class InProcessBackend implements Backend {
  /** Parallelized slices and broadcast values hosted for the tasks. */
  private readonly hosted = new HostedData();
  private readonly broadcastCache = new Map<string, unknown>();
  private readonly blocks = new Map<string, Uint8Array>();
  /** Each shuffle's map outputs (one indexed buffer per map task, as a worker stores them). */
  private readonly shuffleOutputs = new Map<string, MapOutput[]>();
  private nextStageId = 0;
  /** Tasks run (attempts included), for tests and metrics. */
  tasksRun = 0;
  readonly progress = new ProgressBus();

  constructor(private readonly maxTaskFailures = MAX_TASK_FAILURES) {}

  private readonly services: TaskServices = {
    readSlice: (dataId, slice) => {
      const s = this.hosted.slice(dataId, slice);
      if (!s)
        return Promise.reject(new InvalidOperationError(`parallelize data ${dataId} slice ${slice} is gone`));
      return Promise.resolve(s);
    },
    readShuffle: (shuffleId, part) => {
      const out = this.shuffleOutputs.get(shuffleId);
      if (!out) return Promise.reject(new InvalidOperationError(`shuffle ${shuffleId} has no output`));
      const buckets = out.map((m) => bucketOf(m, part));
      let localBytes = 0;
      let localBlocks = 0;
      for (const b of buckets) {
        localBytes += b.byteLength;
        if (b.byteLength > 0) localBlocks++;
      }
      const read: ShuffleRead = { buckets, localBytes, localBlocks, remoteBytes: 0, remoteBlocks: 0 };
      return Promise.resolve(read);
    },
    readBlock: (id) => Promise.resolve(this.blocks.get(id)),
    broadcastValue: (id) => {
      if (!this.broadcastCache.has(id)) {
        const bytes = this.hosted.broadcast(id);
        if (!bytes)
          return Promise.reject(new InvalidOperationError(`broadcast ${id} was destroyed or never created`));
        this.broadcastCache.set(id, decode(bytes));
      }
      return Promise.resolve(this.broadcastCache.get(id));
    },
  };

  private fullyStored = (nodeId: string, n: number): boolean => {
    for (let p = 0; p < n; p++) if (!this.blocks.has(blockId(nodeId, p))) return false;
    return true;
  };

  async runJob(job: JobSpec, opts?: RunJobOptions): Promise<unknown[]> {
    await this.ensureShuffles(job, job.root, opts);
    const stageId = this.nextStageId++;
    const results: unknown[] = [];
    const stage = {
      stageId,
      kind: 'result',
      name: job.name,
      tasks: job.partitions.length,
      ...this.shape(job, job.root),
    } as const;
    const run = async () => {
      for (let i = 0; i < job.partitions.length; i++) {
        const partition = job.partitions[i]!;
        const r = await this.runWithRetries(
          {
            stageId,
            attempt: 0,
            nodes: job.nodes,
            root: job.root,
            partition,
            output: { kind: 'result', fn: job.fn },
          },
          job,
          opts,
        );
        results.push(r.result);
        opts?.onPartition?.(i, r.result);
      }
    };
    await this.progress.stage(stage, run);
    return results;
  }

  async runMapStages(job: JobSpec, opts?: RunJobOptions): Promise<Map<string, number>> {
    await this.ensureShuffles(job, job.root, opts);
    const sizes = new Map<string, number>();
    for (const s of stageShuffles(job.nodes, job.root, this.fullyStored)) {
      const outputs = this.shuffleOutputs.get(s.id) ?? [];
      sizes.set(
        s.id,
        outputs.reduce((t, m) => t + m.data.byteLength, 0),
      );
    }
    return sizes;
  }

  /** Shuffle id → the stage that wrote it (the web UI's DAG). */
  private readonly shuffleStages = new Map<string, number>();

  /** The stage's operations and parent stages, for progress listeners (nothing when none listens). */
  private shape(job: JobSpec, rootId: string): { parentIds?: number[]; operations?: string[] } {
    if (!this.progress.listening) return {};
    return stageShape(job.nodes, rootId, job.sites, (id) => this.shuffleStages.get(id), this.fullyStored);
  }

  private async ensureShuffles(job: JobSpec, rootId: string, opts: RunJobOptions | undefined): Promise<void> {
    for (const s of stageShuffles(job.nodes, rootId, this.fullyStored)) {
      if (this.shuffleOutputs.has(s.id)) continue;
      await this.ensureShuffles(job, s.parent, opts);
      const stageId = this.nextStageId++;
      const outputs: MapOutput[] = [];
      const stage = {
        stageId,
        kind: 'shuffle-map',
        name: job.sites[s.parent] ?? `shuffle ${s.id.slice(0, 8)}`,
        tasks: s.numMaps,
        ...this.shape(job, s.parent),
      } as const;
      this.shuffleStages.set(s.id, stageId);
      await this.progress.stage(stage, async () => {
        for (let m = 0; m < s.numMaps; m++) {
          const r = await this.runWithRetries(
            {
              stageId,
              attempt: 0,
              nodes: job.nodes,
              root: s.parent,
              partition: m,
              output: { kind: 'shuffle', shuffle: s },
            },
            job,
            opts,
          );
          if (!r.mapOutput)
            throw new InvalidOperationError(`map task ${m} of shuffle ${s.id} wrote no output`);
          outputs.push(r.mapOutput);
        }
      });
      this.shuffleOutputs.set(s.id, outputs);
    }
  }

  private async runWithRetries(
    desc: TaskDesc,
    job: JobSpec,
    opts: RunJobOptions | undefined,
  ): Promise<TaskResult> {
    let last: Error | undefined;
    for (let attempt = 0; attempt < this.maxTaskFailures; attempt++) {
      if (opts?.signal?.aborted) throw new JobCancelledError('the job was cancelled');
      this.tasksRun++;
      const task = { type: 'task', stageId: desc.stageId, partition: desc.partition, attempt } as const;
      this.progress.emit({ ...task, state: 'running' });
      // The wire path: the task travels encoded, and so does whatever comes back.
      const wireTask = encode({ ...desc, attempt });
      let reply: Uint8Array;
      try {
        // What the task prints is a `log` event, as from a worker (`driver`: this process).
        const r = await captureConsole(
          (l) =>
            this.progress.emit({
              type: 'log',
              worker: 'driver',
              stageId: desc.stageId,
              partition: desc.partition,
              attempt,
              ...l,
            }),
          () => runTask(decode<TaskDesc>(wireTask), this.services),
        );
        reply = encode({ ok: r });
      } catch (e) {
        reply = encode({ error: errorToWire(e) });
      }
      const msg = decode<{ ok?: TaskResult; error?: ReturnType<typeof errorToWire> }>(reply);
      if (msg.ok) {
        for (const [id, data] of msg.ok.blocks) this.blocks.set(id, data);
        job.onAccumulators(msg.ok.accumulators);
        this.progress.emit({ ...task, state: 'done', ...(msg.ok.metrics && { metrics: msg.ok.metrics }) });
        return msg.ok;
      }
      last = errorFromWire(msg.error!);
      const final = attempt + 1 >= this.maxTaskFailures;
      this.progress.emit({ ...task, state: final ? 'failed' : 'retried', reason: 'error' });
    }
    const cause = last!;
    throw new TaskFailedError(
      `Task ${desc.partition} in stage ${desc.stageId} failed ${this.maxTaskFailures} times; most recent failure: ` +
        `${(cause as { remoteName?: string }).remoteName ?? cause.name}: ${cause.message}`,
      desc.stageId,
      desc.partition,
      this.maxTaskFailures,
      cause,
    );
  }

  putSlices(dataId: string, slices: readonly Uint8Array[]): void {
    this.hosted.putSlices(dataId, slices);
  }
  dropSlices(dataId: string): void {
    this.hosted.dropSlices(dataId);
  }
  putBroadcast(id: string, bytes: Uint8Array): void {
    this.hosted.putBroadcast(id, bytes);
  }
  dropBroadcast(id: string): void {
    this.hosted.dropBroadcast(id);
    this.broadcastCache.delete(id);
  }
  dropBlocks(nodeId: string): void {
    const prefix = blockId(nodeId, 0).slice(0, -1);
    for (const id of [...this.blocks.keys()]) if (id.startsWith(prefix)) this.blocks.delete(id);
  }
  blockLocations(nodeId: string): Map<number, string> {
    const prefix = blockId(nodeId, 0).slice(0, -1);
    const out = new Map<number, string>();
    for (const id of this.blocks.keys())
      if (id.startsWith(prefix)) out.set(Number(id.slice(prefix.length)), 'in-process');
    return out;
  }
  /** The size of each stored partition of a node: partition → bytes. */
  blockSizes(nodeId: string): Map<number, number> {
    const prefix = blockId(nodeId, 0).slice(0, -1);
    const out = new Map<number, number>();
    for (const [id, b] of this.blocks)
      if (id.startsWith(prefix)) out.set(Number(id.slice(prefix.length)), b.byteLength);
    return out;
  }
  storageInfo(nodeId: string): { partitions: number; bytes: number } | undefined {
    const prefix = blockId(nodeId, 0).slice(0, -1);
    let partitions = 0;
    let bytes = 0;
    for (const [id, b] of this.blocks) {
      if (id.startsWith(prefix)) {
        partitions++;
        bytes += b.byteLength;
      }
    }
    return partitions > 0 ? { partitions, bytes } : undefined;
  }
  endAction(_action: number, last: boolean): void {
    if (last) {
      this.shuffleOutputs.clear();
      this.shuffleStages.clear();
    }
  }
  stop(): Promise<void> {
    this.hosted.clear();
    this.broadcastCache.clear();
    this.blocks.clear();
    this.shuffleOutputs.clear();
    return Promise.resolve();
  }
}
