/**
 * A peer on the network, worker or client: its partition server (ROUTER, via {@link RpcServer}),
 * its record publisher (PUB) and a subscriber connected to every known peer's publisher.
 *
 * Membership follows the ZeroMQ guide: discovery only gives hints (an RPC endpoint); a peer counts
 * after a HELLO exchange that proves it speaks this protocol in this cluster. On HELLO each side
 * subscribes to the other's records and asks for a snapshot, so nothing depends on catching one
 * broadcast. Any record from a peer counts as a heartbeat; a peer silent for `deadAfterMs` is
 * declared dead. A new incarnation on a known node id is a new peer. Membership gossips: a node
 * hints every worker it admits (a `peer` record, also in its snapshots), so workers that only met
 * the client meet each other.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import { RecordVersions } from '../core/record-versions.js';
import { derivedTimings, FETCH_CHUNK_BYTES, LOST_PEER_RETRY_MS } from '../protocol/defaults.js';
import { InvalidOperationError } from '../protocol/errors.js';
import {
  parseRecord,
  checkedReply,
  parseRequest,
  type ReplyOf,
  type PeerIdentity,
  type Record,
  type Request,
} from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/wire.js';
import { acquireZap, type CurveKeys } from './curve.js';
import { isLocalEndpoint } from './rpc.js';
import type {
  RecordPublisher,
  RecordSubscriber,
  RequestChannel,
  RequestServer,
  Transport,
} from './transport.js';
import { ZmqTransport } from './zmq-transport.js';

/** How a peer's role answers the requests the peer layer does not handle itself. */
export type RoleHandler = (request: Request, from: PeerIdentity | undefined) => Promise<unknown>;

/** Options of {@link PeerNode.start}. */
export interface PeerNodeOptions {
  readonly role: 'worker' | 'client';
  readonly cluster: string;
  /** Address to bind (127.0.0.1 without a cluster secret). */
  readonly host: string;
  /** Partition server port (0: ephemeral). The publisher binds port + 1, or an ephemeral port. */
  readonly port?: number;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  /** Answers role requests (job.*, fetch, cancel). */
  readonly handler: RoleHandler;
  /** This peer's own records (its heartbeat record first), for snapshots and heartbeats. */
  readonly ownRecords: () => Record[];
  /**
   * Cluster CURVE keys (from the cluster secret): every socket is authenticated. Required to bind
   * anything but loopback.
   */
  readonly curve?: CurveKeys;
  /** Timeout for membership requests (hello, snapshot). */
  readonly requestTimeoutMs?: number;
  /** The network (default: ZeroMQ, with `curve`). */
  readonly transport?: Transport;
  /** Time for heartbeats and death (default: the system clock). */
  readonly clock?: Clock;
  /** This peer's node id and incarnation (default: a random UUID and the clock's now). */
  readonly id?: { readonly node: string; readonly incarnation: number };
}

/** A peer this node knows, after HELLO. */
export interface KnownPeer {
  readonly identity: PeerIdentity;
  lastSeen: number;
  readonly rpc: RequestChannel;
}

/** Counters for tests and the console. */
export interface PeerCounters {
  malformedRecords: number;
  malformedRequests: number;
  refusedHellos: number;
  peersDeclaredDead: number;
  /** Records and withdraws dropped as older than one already heard about the same thing. */
  staleRecords: number;
}

interface PeerEvents {
  record: [record: Record];
  'peer-up': [peer: PeerIdentity];
  'peer-down': [peer: PeerIdentity];
  /** Something went wrong that the node survived (a failed HELLO or snapshot); for logs. */
  warning: [err: unknown];
}

/** A peer's networking and membership (see module doc). Create with {@link PeerNode.start}. */
export class PeerNode extends EventEmitter<PeerEvents> {
  readonly identity: PeerIdentity;
  readonly counters: PeerCounters = {
    malformedRecords: 0,
    malformedRequests: 0,
    refusedHellos: 0,
    peersDeclaredDead: 0,
    staleRecords: 0,
  };
  private readonly known = new Map<string, KnownPeer>();
  /**
   * Endpoints to HELLO again: peers declared dead (they may have been cut off or paused, and have
   * dropped this node too: without a new HELLO neither would hear the other again) and static
   * peers. Retried with backoff; a dead peer's endpoint for LOST_PEER_RETRY_MS, a static one for good.
   */
  private readonly lost = new Map<
    string,
    { since: number; next: number; backoff: number; forever: boolean }
  >();
  /** HELLOs in flight, by endpoint. */
  private readonly connecting = new Map<string, Promise<PeerIdentity | undefined>>();
  private heartbeat: Timer | undefined;
  private stopped = false;
  /** The sequence number of the last job, block or withdraw record this incarnation published. */
  private seq = 0;
  /** The newest version heard of each record (a stale one is dropped, not emitted). */
  private readonly versions: RecordVersions;
  private releaseZap: (() => void) | undefined;
  private sub!: RecordSubscriber;
  /** The clock heartbeats, death and `lastSeen` run on. */
  readonly clock: Clock;

  private constructor(
    private readonly options: PeerNodeOptions,
    private readonly transport: Transport,
    private readonly server: RequestServer,
    private readonly pub: RecordPublisher,
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.identity = {
      node: options.id?.node ?? randomUUID(),
      incarnation: options.id?.incarnation ?? this.clock.now(),
      role: options.role,
      rpc: server.endpoint,
      pub: pub.endpoint,
    };
    this.lastTick = this.clock.now();
    this.versions = new RecordVersions(derivedTimings(options.heartbeatMs).recordVersionRetainMs);
  }

  /** Binds the partition server and the publisher and starts heartbeating. */
  static async start(options: PeerNodeOptions): Promise<PeerNode> {
    if (!(options.deadAfterMs >= 3 * options.heartbeatMs)) {
      throw new InvalidOperationError(
        `deadAfterMs (${options.deadAfterMs}) must be at least 3 heartbeats (${3 * options.heartbeatMs})`,
      );
    }
    const port = options.port ?? 0;
    const transport = options.transport ?? new ZmqTransport(options.curve);
    const zmqLike = options.transport === undefined;
    if (zmqLike && !options.curve && !isLocalEndpoint(`tcp://${options.host}:0`)) {
      throw new InvalidOperationError(
        `refusing to bind ${options.host} without a cluster secret: peers run the code they are sent`,
      );
    }
    const zap = zmqLike && options.curve ? await acquireZap(options.curve) : undefined;
    // The handler needs the node, which needs the bound server: a holder breaks the cycle.
    const ref: { node?: PeerNode } = {};
    let server: RequestServer;
    try {
      server = await transport.serve(options.host, port, (req) => {
        if (!ref.node) return Promise.reject(new InvalidOperationError('peer is starting'));
        return ref.node.serve(req);
      });
    } catch (e) {
      zap?.release();
      throw e;
    }
    let pub: RecordPublisher;
    try {
      pub = await transport.publisher(options.host, port === 0 ? 0 : port + 1);
    } catch (e) {
      await server.close();
      zap?.release();
      throw e;
    }
    const node = new PeerNode(options, transport, server, pub);
    node.sub = transport.subscriber(
      (value) => node.onRecordValue(value),
      () => node.counters.malformedRecords++,
    );
    ref.node = node;
    node.releaseZap = zap?.release;
    node.heartbeat = node.clock.setInterval(() => node.tick(), options.heartbeatMs);
    return node;
  }

  /** Known live peers (after HELLO). */
  peers(): KnownPeer[] {
    return [...this.known.values()];
  }

  /** A known peer by node id. */
  peer(node: string): KnownPeer | undefined {
    return this.known.get(node);
  }

  /**
   * Publishes a record to every subscriber, versioned (a job, block or withdraw record gets this
   * incarnation's next sequence number). Never blocks; a full queue drops (pub-sub is lossy anyway).
   */
  publish(record: Record): void {
    if (this.stopped) return;
    this.pub.send(this.versioned(record));
  }

  /** `r` with this peer's version: a sequence number on job and block records, and the incarnation too on a withdraw. */
  private versioned(r: Record): Record {
    switch (r.kind) {
      case 'job':
      case 'rdd':
        return { ...r, seq: ++this.seq };
      case 'withdraw':
        return { ...r, inc: this.identity.incarnation, seq: ++this.seq };
      default:
        return r; // worker and client records carry their role's own sequence number; hints none
    }
  }

  /** Follows a discovery hint: HELLO at `rpcEndpoint`, then subscribe and take a snapshot. */
  connect(rpcEndpoint: string): Promise<PeerIdentity | undefined> {
    if (this.stopped || rpcEndpoint === this.identity.rpc) return Promise.resolve(undefined);
    for (const p of this.known.values())
      if (p.identity.rpc === rpcEndpoint) return Promise.resolve(p.identity);
    // Concurrent callers (two tasks fetching from the same new peer) share one HELLO.
    let pending = this.connecting.get(rpcEndpoint);
    if (!pending) {
      pending = this.hello(rpcEndpoint).finally(() => this.connecting.delete(rpcEndpoint));
      this.connecting.set(rpcEndpoint, pending);
    }
    return pending;
  }

  /**
   * Connects to a static peer and keeps HELLOing it (with backoff) whenever it is not a member:
   * at start, after it was declared dead, and when the first HELLO was lost.
   */
  keepConnected(rpcEndpoint: string): Promise<PeerIdentity | undefined> {
    const now = this.clock.now();
    this.lost.set(rpcEndpoint, { since: now, next: now, backoff: this.options.heartbeatMs, forever: true });
    return this.connect(rpcEndpoint);
  }

  /**
   * HELLOs a known peer again (it may have dropped this node: after a pause here, or when it
   * refused a request from a non-member), so that it re-admits this node and subscribes to its
   * records again. Resolves with the peer's identity, or undefined if it did not answer.
   */
  rehello(node: string): Promise<PeerIdentity | undefined> {
    const p = this.known.get(node);
    if (this.stopped || !p) return Promise.resolve(undefined);
    const endpoint = p.identity.rpc;
    let pending = this.connecting.get(endpoint);
    if (!pending) {
      pending = this.hello(endpoint).finally(() => this.connecting.delete(endpoint));
      this.connecting.set(endpoint, pending);
    }
    return pending;
  }

  private async hello(rpcEndpoint: string): Promise<PeerIdentity | undefined> {
    const rpc = this.transport.connect(rpcEndpoint);
    try {
      const reply = checkedReply(
        'hello',
        await rpc.request(this.helloRequest(), { timeoutMs: this.timeoutMs }),
      );
      const identity = reply.peer;
      this.admit(identity, rpc);
      return identity;
    } catch (e) {
      await rpc.close();
      this.warn(e);
      // Unanswered (lost, or the peer is busy or cut off): HELLO it again later.
      if (!this.lost.has(rpcEndpoint)) this.remember(rpcEndpoint);
      return undefined;
    }
  }

  /**
   * Fetches a whole block, slice or broadcast from a peer, FETCH_CHUNK_BYTES at a time. Rejects
   * when a chunk comes back empty before the end or the total changes between chunks.
   */
  async fetchAll(
    node: string,
    what: 'block' | 'slice' | 'broadcast',
    id: string,
    index: number,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    let total: number | undefined;
    while (total === undefined || offset < total) {
      const r = await this.fetchChunk(node, what, id, index, offset, FETCH_CHUNK_BYTES, timeoutMs);
      if (total !== undefined && r.total !== total)
        throw new InvalidOperationError(`${what} ${id} changed while being fetched`);
      total = r.total;
      if (r.data.byteLength === 0 && offset < total)
        throw new InvalidOperationError(`empty chunk fetching ${what} ${id}`);
      parts.push(r.data);
      offset += r.data.byteLength;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * One `fetch` request: at most `length` bytes of a block/slice/broadcast from `offset`, and its
   * total size (for a shuffle bucket, both relative to the bucket).
   */
  fetchChunk(
    node: string,
    what: 'block' | 'slice' | 'broadcast',
    id: string,
    index: number,
    offset: number,
    length: number,
    timeoutMs: number,
  ): Promise<{ data: Uint8Array; total: number }> {
    return this.request(node, { op: 'fetch', what, id, index, offset, length }, timeoutMs);
  }

  /**
   * Sends a request to a known peer and resolves with its reply, checked against the request's
   * reply schema (a reply that does not fit rejects with InvalidOperationError, naming the op).
   */
  async request<R extends Request>(
    node: string,
    body: R,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ReplyOf<R['op']>> {
    const p = this.known.get(node);
    if (!p) throw new InvalidOperationError(`peer ${node} is not known (dead or never met)`);
    return checkedReply<R['op']>(
      body.op,
      await p.rpc.request(body, { timeoutMs, ...(signal && { signal }) }),
    );
  }

  /**
   * Says goodbye: stops heartbeating and publishes a `withdraw` of this peer, so peers drop it at
   * once instead of after the dead-after timeout. Call before {@link stop} when leaving for good.
   */
  goodbye(): void {
    if (this.stopped) return;
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    this.publish({ kind: 'withdraw', of: 'peer', id: this.identity.node, holder: this.identity.node });
  }

  /** Stops heartbeating, closes every socket. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.heartbeat?.cancel();
    await this.pub.flush(AbortSignal.timeout(200)).catch(() => undefined);
    this.pub.close();
    this.sub.close();
    await Promise.all([...this.known.values()].map((p) => p.rpc.close()));
    this.known.clear();
    await this.server.close();
    this.releaseZap?.();
  }

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? derivedTimings(this.options.heartbeatMs).membershipTimeoutMs;
  }

  private helloRequest(): Request {
    return { op: 'hello', peer: this.identity, cluster: this.options.cluster, protocol: PROTOCOL_VERSION };
  }

  private admit(identity: PeerIdentity, rpc: RequestChannel): void {
    const retry = this.lost.get(identity.rpc);
    if (retry && !retry.forever) this.lost.delete(identity.rpc);
    const existing = this.known.get(identity.node);
    if (existing && existing.identity.incarnation === identity.incarnation) {
      existing.lastSeen = this.clock.now();
      if (existing.rpc !== rpc) void rpc.close();
      return;
    }
    if (existing) this.declareDead(existing); // a restarted peer: the old incarnation is gone
    this.known.set(identity.node, { identity, lastSeen: this.clock.now(), rpc });
    this.sub.connect(identity.pub);
    this.emit('peer-up', identity);
    if (identity.role === 'worker') this.publish({ kind: 'peer', peer: identity, from: this.identity.node });
    void this.takeSnapshot(identity.node);
  }

  /** Membership hints for a snapshot: every worker this node knows. */
  private hints(): Record[] {
    return [...this.known.values()]
      .filter((p) => p.identity.role === 'worker')
      .map((p) => ({ kind: 'peer', peer: p.identity, from: this.identity.node }));
  }

  private async takeSnapshot(node: string): Promise<void> {
    try {
      const reply = await this.request(node, { op: 'snapshot' }, this.timeoutMs);
      for (const r of reply.records) this.onRecordValue(r);
    } catch (e) {
      this.warn(e);
    }
  }

  private async serve(raw: unknown): Promise<unknown> {
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      this.counters.malformedRequests++;
      throw new InvalidOperationError(`malformed request: ${parsed.reason}`);
    }
    const req = parsed.request;
    if (req.op === 'hello') {
      if (req.cluster !== this.options.cluster || req.protocol !== PROTOCOL_VERSION) {
        this.counters.refusedHellos++;
        throw new InvalidOperationError('hello refused: different cluster or protocol version');
      }
      const known = this.known.get(req.peer.node);
      if (!known || known.identity.incarnation !== req.peer.incarnation)
        this.admit(req.peer, this.transport.connect(req.peer.rpc));
      else known.lastSeen = this.clock.now();
      return { peer: this.identity };
    }
    if (req.op === 'snapshot')
      return { records: [...this.options.ownRecords().map((r) => this.versioned(r)), ...this.hints()] };
    return this.options.handler(req, undefined);
  }

  private onRecordValue(value: unknown): void {
    const parsed = parseRecord(value);
    if (!parsed.ok) {
      this.counters.malformedRecords++;
      return;
    }
    const r = parsed.record;
    if (r.kind === 'withdraw' && r.of === 'peer') {
      // A goodbye: the peer is leaving; drop it now rather than after the dead-after timeout.
      // Only for the incarnation it names or a later one: a goodbye overtaken by its restarted
      // peer's HELLO does not drop the new incarnation.
      const p = this.known.get(r.holder);
      if (p && r.id === r.holder && (r.inc === undefined || r.inc >= p.identity.incarnation))
        this.declareDead(p, true);
      return;
    }
    if (r.kind === 'peer') {
      // A hint only: the hinted worker counts after its own HELLO, and this is not its heartbeat.
      const p = this.known.get(r.from);
      if (p) p.lastSeen = this.clock.now();
      if (r.peer.node !== this.identity.node && !this.known.has(r.peer.node)) void this.connect(r.peer.rpc);
      return;
    }
    const from =
      r.kind === 'worker' || r.kind === 'client'
        ? r.peer.node
        : r.kind === 'job'
          ? r.source.node
          : r.kind === 'rdd'
            ? r.holder.node
            : r.holder;
    if (from === this.identity.node) return;
    if (!this.versions.admit(r, this.clock.now())) {
      // Older than what was heard about the same thing (overtaken on another link, or a
      // duplicate): applying it would undo the newer record or withdraw.
      this.counters.staleRecords++;
      return;
    }
    const p = this.known.get(from);
    if (p) p.lastSeen = this.clock.now();
    else if (r.kind === 'worker' || r.kind === 'client') void this.connect(r.peer.rpc);
    this.emit('record', r);
  }

  private lastTick: number;

  private tick(): void {
    const own = this.options.ownRecords()[0];
    if (own) this.publish(own);
    const now = this.clock.now();
    // A tick far later than scheduled means this process was paused (SIGSTOP, a debugger, a
    // suspended VM): the silence was ours, so every peer gets a fresh grace period.
    const paused = now - this.lastTick > this.options.deadAfterMs / 2;
    this.lastTick = now;
    if (paused) {
      // Peers may have declared this node dead meanwhile and unsubscribed from its records: say
      // HELLO again, so they re-admit it (a peer that did not drop it just refreshes it).
      for (const p of this.known.values()) {
        p.lastSeen = now;
        void this.rehello(p.identity.node);
      }
      return;
    }
    for (const p of [...this.known.values()])
      if (now - p.lastSeen > this.options.deadAfterMs) this.declareDead(p);
    this.retryLost(now);
    this.rehint();
    this.versions.prune(now);
  }

  private remember(endpoint: string): void {
    const now = this.clock.now();
    this.lost.set(endpoint, {
      since: now,
      next: now + this.options.heartbeatMs,
      backoff: this.options.heartbeatMs,
      forever: false,
    });
  }

  /** Which worker the next tick hints again (round robin: one `peer` record per tick). */
  private hintCursor = 0;

  /**
   * A client hints one known worker again (a `peer` record), in turn: a hint lost on the way
   * would otherwise leave two workers that only met the client strangers for good. One record per
   * tick whatever the cluster's size.
   */
  private rehint(): void {
    // Only clients (a handful): a worker doing it too would double every peer's steady traffic.
    if (this.options.role !== 'client') return;
    const workers = [...this.known.values()].filter((p) => p.identity.role === 'worker');
    if (workers.length < 2) return;
    const p = workers[this.hintCursor++ % workers.length]!;
    this.publish({ kind: 'peer', peer: p.identity, from: this.identity.node });
  }

  /** HELLOs the endpoints of lost and static peers that are due (see {@link lost}). */
  private retryLost(now: number): void {
    if (this.lost.size === 0) return;
    const members = new Set([...this.known.values()].map((p) => p.identity.rpc));
    for (const [endpoint, r] of this.lost) {
      if (members.has(endpoint)) {
        if (!r.forever) this.lost.delete(endpoint);
        continue;
      }
      if (!r.forever && now - r.since > LOST_PEER_RETRY_MS) {
        this.lost.delete(endpoint);
        continue;
      }
      if (now < r.next) continue;
      r.next = now + r.backoff;
      r.backoff = Math.min(2 * r.backoff, derivedTimings(this.options.heartbeatMs).lostPeerMaxBackoffMs);
      void this.connect(endpoint);
    }
  }

  private warn(err: unknown): void {
    if (!this.stopped) this.emit('warning', err);
  }

  private declareDead(p: KnownPeer, leaving = false): void {
    if (this.known.get(p.identity.node) !== p) return;
    this.known.delete(p.identity.node);
    if (!leaving && !this.lost.has(p.identity.rpc)) this.remember(p.identity.rpc);
    this.counters.peersDeclaredDead++;
    this.sub.disconnect(p.identity.pub);
    void p.rpc.close();
    this.emit('peer-down', p.identity);
  }
}
