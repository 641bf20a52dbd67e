/**
 * The in-memory {@link Transport}: peers in one process, on a {@link MemoryNetwork}. Every message
 * is msgpack-encoded and decoded as on the wire (so what cannot travel fails as it would), counted
 * per host, and handed to a {@link DeliveryPolicy} that decides when it arrives, whether it
 * arrives, and how often: the default delivers each message once, on the next timer turn; the
 * simulation (src/sim) drops, duplicates, delays and reorders them, cuts hosts apart and pauses
 * them. Request timeouts run on the sending host's clock.
 */
import { decode, encode } from '../protocol/codec.js';
import {
  RequestTimeoutError,
  SerializationError,
  errorFromWire,
  errorToWire,
  type WireError,
} from '../protocol/errors.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import { RpcTransportError } from './rpc.js';
import type {
  RecordPublisher,
  RecordSubscriber,
  RequestChannel,
  RequestHandler,
  RequestOptions,
  RequestServer,
  Transport,
} from './transport.js';

/** What travels: a request, its reply, or a published record. */
export type MessageKind = 'request' | 'reply' | 'record';

/** Decides the fate of each message: call `deliver` never (dropped), once, or more (duplicated). */
export interface DeliveryPolicy {
  /** `label`: a request's `op`, a record's `kind`, a reply's request op (for traces and targeted faults). */
  send(from: string, to: string, kind: MessageKind, bytes: number, deliver: () => void, label: string): void;
}

/** What a message is, in a word: `op` of a request, `kind` of a record. */
function labelOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '?';
  const v = value as { op?: unknown; kind?: unknown; state?: unknown };
  if (typeof v.op === 'string') return typeof v.state === 'string' ? `${v.op}:${v.state}` : v.op;
  return typeof v.kind === 'string' ? v.kind : '?';
}

/** Messages and bytes a host sent and received. */
export interface HostTraffic {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
}

interface Subscriber {
  readonly host: MemoryHost;
  readonly publishers: Set<string>;
  readonly onRecord: (value: unknown) => void;
  readonly onMalformed: () => void;
  closed: boolean;
}

/** The hosts of one in-memory network and what connects them. */
export class MemoryNetwork {
  private readonly servers = new Map<string, { host: MemoryHost; handler: RequestHandler }>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly traffic = new Map<string, HostTraffic>();
  private readonly policy: DeliveryPolicy;

  /** `clock` runs the default policy's deliveries (ignored when a policy is given). */
  constructor(options: { policy?: DeliveryPolicy; clock?: Clock } = {}) {
    const clock = options.clock ?? systemClock;
    this.policy = options.policy ?? { send: (_f, _t, _k, _b, deliver) => void clock.setTimeout(deliver, 0) };
  }

  /**
   * A transport for a (new incarnation of a) machine named `name`; its timers run on `clock`.
   * Endpoints are `mem://name:port`, ports counted per network so a restart gets new ones.
   */
  host(name: string, clock: Clock = systemClock): Transport & { crash(): void; readonly name: string } {
    return new MemoryHost(this, name, clock);
  }

  /** Traffic of each host name, summed over its incarnations. */
  trafficOf(name: string): HostTraffic {
    let t = this.traffic.get(name);
    if (!t)
      this.traffic.set(name, (t = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 }));
    return t;
  }

  /** Every host's traffic so far. */
  allTraffic(): ReadonlyMap<string, HostTraffic> {
    return this.traffic;
  }

  private nextPort = 1;
  /** @internal */
  port(): number {
    return this.nextPort++;
  }

  /** @internal Sends `bytes` from `from` to `to` through the policy; `deliver` runs only if both are up. */
  transmit(
    from: MemoryHost,
    to: MemoryHost,
    kind: MessageKind,
    bytes: number,
    deliver: () => void,
    label: string,
  ): void {
    if (from.crashed) return;
    const out = this.trafficOf(from.name);
    out.messagesSent++;
    out.bytesSent += bytes;
    this.policy.send(
      from.name,
      to.name,
      kind,
      bytes,
      () => {
        if (to.crashed) return;
        const inn = this.trafficOf(to.name);
        inn.messagesReceived++;
        inn.bytesReceived += bytes;
        deliver();
      },
      label,
    );
  }

  /** @internal */
  bindServer(endpoint: string, host: MemoryHost, handler: RequestHandler): void {
    this.servers.set(endpoint, { host, handler });
  }
  /** @internal */
  unbindServer(endpoint: string): void {
    this.servers.delete(endpoint);
  }
  /** @internal */
  server(endpoint: string): { host: MemoryHost; handler: RequestHandler } | undefined {
    return this.servers.get(endpoint);
  }
  /** @internal */
  subscribe(endpoint: string, s: Subscriber): void {
    let set = this.subscribers.get(endpoint);
    if (!set) this.subscribers.set(endpoint, (set = new Set()));
    set.add(s);
  }
  /** @internal */
  unsubscribe(endpoint: string, s: Subscriber): void {
    this.subscribers.get(endpoint)?.delete(s);
  }
  /** @internal */
  subscribersOf(endpoint: string): readonly Subscriber[] {
    return [...(this.subscribers.get(endpoint) ?? [])];
  }
}

/** The host a request server endpoint lives on (a reply goes back to the caller's host). */
const STATUS_OK = 0;

class MemoryHost implements Transport {
  crashed = false;
  private readonly endpoints = new Set<string>();

  constructor(
    private readonly network: MemoryNetwork,
    readonly name: string,
    readonly clock: Clock,
  ) {}

  /** Vanishes: servers unbound, publishers silent, nothing sent or received from now on. */
  crash(): void {
    this.crashed = true;
    for (const e of this.endpoints) this.network.unbindServer(e);
  }

  serve(_host: string, port: number, handler: RequestHandler): Promise<RequestServer> {
    const endpoint = `mem://${this.name}:${port === 0 ? this.network.port() : port}`;
    if (this.network.server(endpoint)) return Promise.reject(new Error(`${endpoint} is in use`));
    this.network.bindServer(endpoint, this, handler);
    this.endpoints.add(endpoint);
    return Promise.resolve({
      endpoint,
      close: () => {
        if (this.network.server(endpoint)?.host === this) this.network.unbindServer(endpoint);
        this.endpoints.delete(endpoint);
        return Promise.resolve();
      },
    });
  }

  connect(endpoint: string): RequestChannel {
    return new MemoryChannel(this.network, this, endpoint);
  }

  publisher(_host: string, port: number): Promise<RecordPublisher> {
    const endpoint = `mem://${this.name}:${port === 0 ? this.network.port() : port}`;
    let closed = false;
    return Promise.resolve({
      endpoint,
      send: (record) => {
        if (closed || this.crashed) return;
        const bytes = encode(record);
        const label = labelOf(record);
        for (const s of this.network.subscribersOf(endpoint)) {
          this.network.transmit(
            this,
            s.host,
            'record',
            bytes.byteLength,
            () => {
              if (s.closed || !s.publishers.has(endpoint)) return;
              let value: unknown;
              try {
                value = decode(bytes);
              } catch {
                s.onMalformed();
                return;
              }
              s.onRecord(value);
            },
            label,
          );
        }
      },
      flush: () => Promise.resolve(),
      close: () => {
        closed = true;
      },
    });
  }

  subscriber(onRecord: (value: unknown) => void, onMalformed: () => void): RecordSubscriber {
    const s: Subscriber = { host: this, publishers: new Set(), onRecord, onMalformed, closed: false };
    return {
      connect: (endpoint) => {
        s.publishers.add(endpoint);
        this.network.subscribe(endpoint, s);
      },
      disconnect: (endpoint) => {
        s.publishers.delete(endpoint);
        this.network.unsubscribe(endpoint, s);
      },
      close: () => {
        s.closed = true;
        for (const e of s.publishers) this.network.unsubscribe(e, s);
        s.publishers.clear();
      },
    };
  }
}

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: Timer;
  readonly cleanup: () => void;
}

class MemoryChannel implements RequestChannel {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly host: MemoryHost,
    readonly endpoint: string,
  ) {}

  request(body: unknown, options: RequestOptions): Promise<unknown> {
    const { timeoutMs, signal } = options;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      return Promise.reject(new RangeError(`timeoutMs must be a positive finite number, got ${timeoutMs}`));
    if (this.closed)
      return Promise.reject(new RpcTransportError(`channel to ${this.endpoint} is closed`, 'closed'));
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract
    if (signal?.aborted) return Promise.reject(signal.reason);
    let bytes: Uint8Array;
    try {
      bytes = encode(body);
    } catch (err) {
      return Promise.reject(
        new SerializationError(`request cannot be encoded: ${(err as Error).message}`, { cause: err }),
      );
    }
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract
        if (this.settle(id)) reject(signal?.reason);
      };
      const timer = this.host.clock.setTimeout(() => {
        if (this.settle(id))
          reject(new RequestTimeoutError(`no reply from ${this.endpoint} within ${timeoutMs} ms`, timeoutMs));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve,
        reject,
        timer,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      const target = this.network.server(this.endpoint);
      if (!target) return; // nobody there: the request vanishes and times out, as on TCP
      const label = labelOf(body);
      this.network.transmit(
        this.host,
        target.host,
        'request',
        bytes.byteLength,
        () => {
          const server = this.network.server(this.endpoint);
          if (server?.host !== target.host) return;
          void this.serve(server.handler, bytes, id, target.host, label);
        },
        label,
      );
    });
  }

  private async serve(
    handler: RequestHandler,
    bytes: Uint8Array,
    id: number,
    at: MemoryHost,
    label: string,
  ): Promise<void> {
    let reply: Uint8Array;
    try {
      const value = await handler(decode(bytes));
      try {
        reply = encode([STATUS_OK, value]);
      } catch (err) {
        reply = encode([
          1,
          errorToWire(new SerializationError(`reply cannot be encoded: ${(err as Error).message}`)),
        ]);
      }
    } catch (err) {
      reply = encode([1, errorToWire(err)]);
    }
    this.network.transmit(
      at,
      this.host,
      'reply',
      reply.byteLength,
      () => {
        const p = this.settle(id);
        if (!p) return; // late (timed out) or duplicated
        const [status, value] = decode<[number, unknown]>(reply);
        if (status === STATUS_OK) p.resolve(value);
        else p.reject(errorFromWire(value as WireError));
      },
      label,
    );
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.timer.cancel();
    p.cleanup();
    return p;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const err = new RpcTransportError(`channel to ${this.endpoint} is closed`, 'closed');
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
    }
    return Promise.resolve();
  }
}
