/**
 * A peer on the network, worker or client: its partition server (ROUTER, via {@link RpcServer}),
 * its record publisher (PUB) and a subscriber connected to every known peer's publisher.
 *
 * Membership follows the ZeroMQ guide: discovery only gives hints (an RPC endpoint); a peer counts
 * after a HELLO exchange that proves it speaks this protocol in this cluster. On HELLO each side
 * subscribes to the other's records and asks for a snapshot, so nothing depends on catching one
 * broadcast. A new incarnation on a known node id is a new peer. Membership gossips: a node hints
 * a worker that joined through it (a `peer` record; a joining peer's first snapshot has a hint of
 * every worker), so workers that only met the client meet each other.
 *
 * Liveness (`membership: 'swim'`, the default; SWIM, Das, Gupta and Motivala 2002): every heartbeat
 * a peer pings the next member of its shuffled round-robin list; no ack within the probe timeout,
 * it asks {@link INDIRECT_PROBES} other members to ping it (`ping-req`); still none, it suspects
 * it (a `suspect` record, which the suspect refutes by publishing its record again). A suspect not
 * heard from within the suspicion timeout is declared dead, and the death is published once
 * (`dead`), so every peer drops it together. Any message from a peer counts as hearing from it.
 * The peer's own record is published when it changes. With `membership: 'mesh'` the own record is
 * published every heartbeat instead, and a peer silent for `deadAfterMs` is declared dead by each
 * observer on its own (every peer receives every peer's heartbeat: N² messages in all).
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import { RecordVersions } from '../core/record-versions.js';
import {
  CLIENT_RECORD_REFRESH_HEARTBEATS,
  derivedTimings,
  FETCH_CHUNK_BYTES,
  INDIRECT_PROBES,
  LOST_PEER_RETRY_MS,
  swimTimings,
  type SwimTimings,
} from '../protocol/defaults.js';
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
  /**
   * How liveness is decided (see the module doc): `swim` (default) probes one member per
   * heartbeat; `mesh` publishes this peer's record every heartbeat to every peer.
   */
  readonly membership?: 'mesh' | 'swim';
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
  /** SWIM: pings sent (probes, pings of suspects, pings for a ping-req) and ping-reqs sent. */
  pingsSent: number;
  pingReqsSent: number;
  /** SWIM: peers this node suspected, and suspicions cleared by hearing from the suspect. */
  suspicions: number;
  suspicionsCleared: number;
  /** SWIM: `dead` records this node published, and suspicions of itself it refuted. */
  deathsPublished: number;
  refutations: number;
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
    pingsSent: 0,
    pingReqsSent: 0,
    suspicions: 0,
    suspicionsCleared: 0,
    deathsPublished: 0,
    refutations: 0,
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
  /** How liveness is decided (see {@link PeerNodeOptions.membership}). */
  readonly membership: 'mesh' | 'swim';
  private readonly swim: SwimTimings;
  /** SWIM: the members still to probe this round (popped from the end), shuffled. */
  private probeOrder: string[] = [];
  /** SWIM: members with a probe in flight. */
  private readonly probing = new Set<string>();
  /** SWIM: suspected members, since when. */
  private readonly suspects = new Map<string, { peer: KnownPeer; since: number; deferred: boolean }>();
  /** Bumped when a pause is detected: a probe that started before it cannot suspect anyone. */
  private epoch = 0;
  /** The content (without `seq`) of the own record last published, and heartbeats since. */
  private ownKey: string | undefined;
  private ticksSinceOwn = 0;

  private constructor(
    private readonly options: PeerNodeOptions,
    private readonly transport: Transport,
    private readonly server: RequestServer,
    private readonly pub: RecordPublisher,
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.membership = options.membership ?? 'swim';
    this.swim = swimTimings(options.heartbeatMs, options.deadAfterMs);
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
    if (options.membership !== undefined && options.membership !== 'mesh' && options.membership !== 'swim')
      throw new InvalidOperationError(
        `membership must be 'mesh' or 'swim', got ${String(options.membership)}`,
      );
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
   * Milliseconds this node has suspected `node` (SWIM: a probe went unanswered, the suspect has not
   * refuted it yet), or undefined when it does not. With `membership: 'mesh'` a peer is suspect once
   * nothing was heard from it for two heartbeats, counted from then. A known peer not suspected is
   * alive as far as this node can tell, however long ago it last spoke (SWIM peers speak rarely).
   */
  suspectedForMs(node: string): number | undefined {
    const now = this.clock.now();
    if (this.membership === 'swim') {
      const s = this.suspects.get(node);
      return s === undefined ? undefined : Math.max(0, now - s.since);
    }
    const p = this.known.get(node);
    if (p === undefined) return undefined;
    const silent = now - p.lastSeen - 2 * this.options.heartbeatMs;
    return silent > 0 ? silent : undefined;
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

  /**
   * Follows a discovery hint: HELLO at `rpcEndpoint`, then subscribe and take a snapshot.
   * `introduced`: the endpoint came from a `peer` hint or a record (not from configuration or
   * discovery), so neither side hints the other to its peers.
   */
  connect(rpcEndpoint: string, introduced = false): Promise<PeerIdentity | undefined> {
    if (this.stopped || rpcEndpoint === this.identity.rpc) return Promise.resolve(undefined);
    for (const p of this.known.values())
      if (p.identity.rpc === rpcEndpoint) return Promise.resolve(p.identity);
    // Concurrent callers (two tasks fetching from the same new peer) share one HELLO.
    let pending = this.connecting.get(rpcEndpoint);
    if (!pending) {
      pending = this.hello(rpcEndpoint, introduced).finally(() => this.connecting.delete(rpcEndpoint));
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
      pending = this.hello(endpoint, true).finally(() => this.connecting.delete(endpoint));
      this.connecting.set(endpoint, pending);
    }
    return pending;
  }

  private async hello(rpcEndpoint: string, introduced: boolean): Promise<PeerIdentity | undefined> {
    const rpc = this.transport.connect(rpcEndpoint);
    try {
      const reply = checkedReply(
        'hello',
        await rpc.request(this.helloRequest(introduced), { timeoutMs: this.timeoutMs }),
      );
      const identity = reply.peer;
      this.admit(identity, rpc, !introduced);
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
    const reply = await p.rpc.request(body, { timeoutMs, ...(signal && { signal }) });
    this.heard(p); // any reply from a peer counts as hearing from it
    return checkedReply<R['op']>(body.op, reply);
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

  private helloRequest(introduced: boolean): Request {
    return {
      op: 'hello',
      peer: this.identity,
      cluster: this.options.cluster,
      protocol: PROTOCOL_VERSION,
      ...(introduced && { introduced }),
    };
  }

  /**
   * Counts `identity` as a member (after a HELLO either way). `announce`: it joined through this
   * node (not introduced by a hint), so a worker is hinted to this node's peers and the snapshot
   * asked of it includes its hints.
   */
  private admit(identity: PeerIdentity, rpc: RequestChannel, announce: boolean): void {
    const retry = this.lost.get(identity.rpc);
    if (retry && !retry.forever) this.lost.delete(identity.rpc);
    const existing = this.known.get(identity.node);
    if (existing && existing.identity.incarnation === identity.incarnation) {
      this.heard(existing);
      if (existing.rpc !== rpc) void rpc.close();
      return;
    }
    if (existing) this.declareDead(existing); // a restarted peer: the old incarnation is gone
    this.known.set(identity.node, { identity, lastSeen: this.clock.now(), rpc });
    this.sub.connect(identity.pub);
    this.emit('peer-up', identity);
    if (announce && identity.role === 'worker')
      this.publish({ kind: 'peer', peer: identity, from: this.identity.node });
    void this.takeSnapshot(identity.node, announce);
  }

  /** Membership hints for a snapshot: every worker this node knows. */
  private hints(): Record[] {
    return [...this.known.values()]
      .filter((p) => p.identity.role === 'worker')
      .map((p) => ({ kind: 'peer', peer: p.identity, from: this.identity.node }));
  }

  private async takeSnapshot(node: string, hints: boolean): Promise<void> {
    try {
      const reply = await this.request(node, { op: 'snapshot', ...(hints && { hints }) }, this.timeoutMs);
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
        this.admit(req.peer, this.transport.connect(req.peer.rpc), req.introduced !== true);
      else this.heard(known);
      return { peer: this.identity };
    }
    if (req.op === 'snapshot') {
      const own = this.options.ownRecords().map((r) => this.versioned(r));
      return { records: req.hints === true ? [...own, ...this.hints()] : own };
    }
    if (req.op === 'ping') {
      const p = this.known.get(req.from);
      const member = p !== undefined && p.identity.incarnation === req.inc;
      if (member) this.heard(p);
      return { inc: this.identity.incarnation, member };
    }
    if (req.op === 'ping-req') {
      const from = this.known.get(req.from);
      if (from) this.heard(from);
      const target = this.known.get(req.target);
      if (!target || target.identity.incarnation !== req.inc) return { ack: false };
      return { ack: await this.ping(target) };
    }
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
      this.heardFrom(r.from);
      if (r.peer.node !== this.identity.node && !this.known.has(r.peer.node))
        void this.connect(r.peer.rpc, true);
      return;
    }
    if (r.kind === 'suspect' || r.kind === 'dead') {
      this.heardFrom(r.from);
      this.onMembershipRecord(r);
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
    if (p) this.heard(p);
    else if (r.kind === 'worker' || r.kind === 'client') void this.connect(r.peer.rpc, true);
    this.emit('record', r);
  }

  /** A `suspect` or `dead` record (SWIM). */
  private onMembershipRecord(r: Extract<Record, { kind: 'suspect' | 'dead' }>): void {
    if (r.peer.node === this.identity.node) {
      if (r.peer.incarnation !== this.identity.incarnation) return;
      if (r.kind === 'suspect') {
        // Refute: a newer version of this peer's record reaches every peer, and a ping makes the
        // suspecter hear from it directly.
        this.counters.refutations++;
        this.publishOwn(true);
        const s = this.known.get(r.from);
        if (s) void this.ping(s);
      } else {
        // Declared dead: peers dropped this node and stopped reading its records. HELLO them
        // again, so they re-admit it (as after a pause).
        for (const p of this.known.values()) void this.rehello(p.identity.node);
      }
      return;
    }
    if (r.kind === 'suspect') {
      // Two peers suspecting the same one at once would both publish its death: the one with the
      // higher node id waits a second suspicion timeout (it still declares it if the other died).
      const s = this.suspects.get(r.peer.node);
      if (
        s &&
        !s.deferred &&
        r.from < this.identity.node &&
        s.peer.identity.incarnation === r.peer.incarnation
      ) {
        s.deferred = true;
        s.since += this.swim.suspicionMs;
      }
      return;
    }
    const p = this.known.get(r.peer.node);
    if (p && p.identity.incarnation <= r.peer.incarnation) this.declareDead(p);
  }

  /** Heard from `p` (a record, request or reply): it is alive, and no longer suspect. */
  private heard(p: KnownPeer): void {
    p.lastSeen = this.clock.now();
    if (this.suspects.get(p.identity.node)?.peer === p) {
      this.suspects.delete(p.identity.node);
      this.counters.suspicionsCleared++;
    }
  }

  private heardFrom(node: string): void {
    const p = this.known.get(node);
    if (p) this.heard(p);
  }

  /**
   * Publishes this peer's own record (its first record) if its content changed since it was last
   * published, or if `force` (a refutation, or a client's periodic refresh).
   */
  private publishOwn(force: boolean): void {
    const own = this.options.ownRecords()[0];
    if (!own) return;
    const key = JSON.stringify({ ...own, seq: 0 });
    this.ticksSinceOwn++;
    if (!force && key === this.ownKey) return;
    this.ownKey = key;
    this.ticksSinceOwn = 0;
    this.publish(own);
  }

  /** SWIM: one ping to `p`; resolves true on its ack (from the incarnation known here). */
  private async ping(p: KnownPeer): Promise<boolean> {
    this.counters.pingsSent++;
    try {
      const reply = checkedReply(
        'ping',
        await p.rpc.request(
          { op: 'ping', from: this.identity.node, inc: this.identity.incarnation },
          { timeoutMs: this.swim.probeTimeoutMs },
        ),
      );
      if (reply.inc !== p.identity.incarnation) return false; // a restarted peer answers for its new self
      if (this.known.get(p.identity.node) === p) this.heard(p);
      // It dropped this node (dead after a pause, say): HELLO it again so it re-admits it.
      if (!reply.member) void this.rehello(p.identity.node);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * SWIM's probe of `p`: a ping; no ack, ping-reqs to {@link INDIRECT_PROBES} other members; no
   * ack through any of them, `p` is suspected (unless this node was paused meanwhile).
   */
  private async probe(p: KnownPeer): Promise<void> {
    const node = p.identity.node;
    if (this.probing.has(node)) return;
    this.probing.add(node);
    const epoch = this.epoch;
    try {
      if (await this.ping(p)) return;
      if (this.known.get(node) !== p || this.stopped || this.epoch !== epoch) return;
      const helpers = this.pickHelpers(node);
      const req: Request = {
        op: 'ping-req',
        from: this.identity.node,
        target: node,
        inc: p.identity.incarnation,
      };
      this.counters.pingReqsSent += helpers.length;
      const acks = await Promise.all(
        helpers.map((h) =>
          this.request(h, req, this.swim.indirectTimeoutMs).then(
            (r) => r.ack,
            () => false,
          ),
        ),
      );
      if (this.known.get(node) !== p || this.stopped || this.epoch !== epoch) return;
      if (acks.some((a) => a)) this.heard(p);
      else this.suspect(p);
    } finally {
      this.probing.delete(node);
    }
  }

  /** Up to {@link INDIRECT_PROBES} members other than `node`, not suspected, drawn at random. */
  private pickHelpers(node: string): string[] {
    const candidates = [...this.known.keys()].filter((n) => n !== node && !this.suspects.has(n));
    const out: string[] = [];
    while (out.length < INDIRECT_PROBES && candidates.length > 0) {
      const i = Math.floor(Math.random() * candidates.length);
      out.push(candidates[i]!);
      candidates[i] = candidates[candidates.length - 1]!;
      candidates.pop();
    }
    return out;
  }

  private suspect(p: KnownPeer): void {
    const node = p.identity.node;
    if (this.suspects.has(node)) return;
    this.suspects.set(node, { peer: p, since: this.clock.now(), deferred: false });
    this.counters.suspicions++;
    this.publish({ kind: 'suspect', peer: p.identity, from: this.identity.node });
  }

  /** SWIM: the next member of the shuffled round-robin list (a new shuffle once it is done). */
  private nextProbeTarget(): KnownPeer | undefined {
    for (let round = 0; round < 2; round++) {
      for (let node = this.probeOrder.pop(); node !== undefined; node = this.probeOrder.pop()) {
        const p = this.known.get(node);
        if (p) return p;
      }
      if (this.known.size === 0) return undefined;
      const order = [...this.known.keys()];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      this.probeOrder = order;
    }
    return undefined;
  }

  private lastTick: number;

  private tick(): void {
    if (this.membership === 'mesh') {
      const own = this.options.ownRecords()[0];
      if (own) this.publish(own);
    } else
      this.publishOwn(
        this.options.role === 'client' && this.ticksSinceOwn + 1 >= CLIENT_RECORD_REFRESH_HEARTBEATS,
      );
    const now = this.clock.now();
    // A tick far later than scheduled means this process was paused (SIGSTOP, a debugger, a
    // suspended VM): the silence was ours, so every peer gets a fresh grace period.
    const paused = now - this.lastTick > this.options.deadAfterMs / 2;
    this.lastTick = now;
    if (paused) {
      // Peers may have declared this node dead meanwhile and unsubscribed from its records: say
      // HELLO again, so they re-admit it (a peer that did not drop it just refreshes it).
      this.epoch++;
      this.suspects.clear();
      for (const p of this.known.values()) {
        p.lastSeen = now;
        void this.rehello(p.identity.node);
      }
      return;
    }
    if (this.membership === 'mesh') {
      for (const p of [...this.known.values()])
        if (now - p.lastSeen > this.options.deadAfterMs) this.declareDead(p);
    } else this.swimRound(now);
    this.retryLost(now);
    this.rehint();
    this.versions.prune(now);
  }

  /**
   * SWIM's round: suspects silent for the suspicion timeout die (published once), the others are
   * pinged again; then one probe of the next member.
   */
  private swimRound(now: number): void {
    for (const [node, s] of [...this.suspects]) {
      if (this.known.get(node) !== s.peer) {
        this.suspects.delete(node);
        continue;
      }
      if (now - s.since >= this.swim.suspicionMs) {
        this.declareDead(s.peer);
        this.counters.deathsPublished++;
        this.publish({ kind: 'dead', peer: s.peer.identity, from: this.identity.node });
      } else void this.ping(s.peer);
    }
    const target = this.nextProbeTarget();
    if (target) void this.probe(target);
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
      void this.connect(endpoint, !r.forever);
    }
  }

  private warn(err: unknown): void {
    if (!this.stopped) this.emit('warning', err);
  }

  private declareDead(p: KnownPeer, leaving = false): void {
    if (this.known.get(p.identity.node) !== p) return;
    this.known.delete(p.identity.node);
    this.suspects.delete(p.identity.node);
    if (!leaving && !this.lost.has(p.identity.rpc)) this.remember(p.identity.rpc);
    this.counters.peersDeclaredDead++;
    this.sub.disconnect(p.identity.pub);
    void p.rpc.close();
    this.emit('peer-down', p.identity);
  }
}
