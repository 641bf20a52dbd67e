/**
 * Request/reply between peers over ZeroMQ, with correlation ids and timeouts.
 *
 * Frames (after the ROUTER's identity frame on the server side):
 *
 *   request  [header, id, msgpack(body)]
 *   reply    [header, id, msgpack([0, value])]      the handler resolved
 *            [header, id, msgpack([1, WireError])]  the handler threw
 *
 * `header` is `MSPK` + protocol version (src/protocol/wire.ts); `id` is opaque to the server and
 * echoed back. Whatever cannot be read is dropped and counted, never answered and never a crash:
 * a malformed request has no trustworthy id to answer to, and answering junk amplifies it.
 *
 * Failures handled: handler throws (error reply, typed on the client as a RemoteError), no reply
 * in time (RequestTimeoutError; a late reply is ignored and counted), caller abort, client closed
 * with requests in flight, full send queue, malformed frames either way. Not handled here:
 * retries (the caller decides; a request may have run even if it timed out), authentication
 * (CURVE socket options from curve.ts; without them an endpoint must be on loopback).
 */
import { clientSocketOptions, serverSocketOptions, type CurveKeys } from './curve.js';
import * as zmq from 'zeromq';
import { decode, encode } from '../protocol/codec.js';
import { networkInterfaces } from 'node:os';
import {
  ConfigError,
  MicroSparkError,
  RequestTimeoutError,
  SerializationError,
  errorFromWire,
  errorToWire,
  type WireError,
} from '../protocol/errors.js';
import { MAX_MESSAGE_BYTES, decodeFrames, encodeFrames, type MalformedReason } from '../protocol/wire.js';
import { DEFAULT_MAX_QUEUED, QueuedSender, type Frame } from './queued-socket.js';

/** Where a server binds by default: loopback, an ephemeral port. */
export const DEFAULT_RPC_ENDPOINT = 'tcp://127.0.0.1:0';

/** Longest correlation id a server accepts (it echoes ids back unread). */
export const MAX_ID_BYTES = 32;

const STATUS_OK = 0;
const STATUS_ERROR = 1;

/** Why a message was dropped: a framing problem, or a bad id or body. */
export type RpcMalformedReason = MalformedReason | 'id' | 'body';

/** Answers one request. `peer` is the ROUTER identity of the sender; a throw becomes an error reply. */
export type RpcHandler = (request: unknown, peer: Buffer) => Promise<unknown>;

/**
 * A request could not complete for a local transport reason: the client was closed (`closed`),
 * its send queue was full (`queue-full`), ZeroMQ refused the send (`send-failed`), or the reply
 * could not be read (`bad-reply`). Distinct from {@link RequestTimeoutError} and from the
 * RemoteError of a handler that threw.
 */
export class RpcTransportError extends MicroSparkError {
  constructor(
    message: string,
    readonly reason: 'closed' | 'queue-full' | 'send-failed' | 'bad-reply',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override wireData() {
    return { reason: this.reason };
  }
}

function emptyReasons(): Record<RpcMalformedReason, number> {
  return { 'frame-count': 0, signature: 0, version: 0, oversize: 0, id: 0, body: 0 };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True for endpoints that cannot be reached from another machine. */
export function isLocalEndpoint(endpoint: string): boolean {
  const m = /^tcp:\/\/(\[[^\]]*\]|[^:]*):/.exec(endpoint);
  if (m) return LOOPBACK_HOSTS.has(m[1] ?? '');
  return endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://');
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

export interface RpcServerOptions {
  /** Answers each well-formed request. */
  handler: RpcHandler;
  /** Bind address; default {@link DEFAULT_RPC_ENDPOINT}. */
  endpoint?: string;
  /**
   * Allow binding a non-loopback address. Only once peers are authenticated (DESIGN §7); without
   * it such an endpoint is refused, because requests lead to code execution.
   */
  allowNonLoopback?: boolean;
  /** Cluster CURVE keys: the ROUTER is a CURVE server checked by the process's ZAP handler. */
  curve?: CurveKeys;
  /** Largest request or reply, header included; default {@link MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
  /** Bound of the reply queue; default {@link DEFAULT_MAX_QUEUED}. */
  maxQueued?: number;
  /** Socket-level failures (a reply ZeroMQ refused, a receive error). Counted either way. */
  onError?: (err: unknown) => void;
}

/**
 * The ROUTER side: receives requests from any number of peers and answers each with its handler.
 * Handlers run concurrently; replies go out through one {@link QueuedSender}.
 */
export class RpcServer {
  /** The bound address with the actual port, e.g. `tcp://127.0.0.1:41234`. */
  readonly endpoint: string;
  private readonly sender: QueuedSender;
  private readonly maxMessageBytes: number;
  private readonly reasons = emptyReasons();
  private receivedCount = 0;
  private repliedCount = 0;
  private handlerErrorCount = 0;
  private malformedCount = 0;
  private inFlightCount = 0;
  private loop: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly router: zmq.Router,
    private readonly handler: RpcHandler,
    private readonly options: RpcServerOptions,
  ) {
    this.endpoint = router.lastEndpoint ?? '';
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.sender = new QueuedSender(router, {
      maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
      onError: (err) => this.report(err),
    });
  }

  /** Binds a ROUTER and starts serving. Rejects if the address is taken or not loopback. */
  static async listen(options: RpcServerOptions): Promise<RpcServer> {
    const endpoint = options.endpoint ?? DEFAULT_RPC_ENDPOINT;
    if (!options.allowNonLoopback && !isLocalEndpoint(endpoint))
      throw new RangeError(
        `refusing to bind ${endpoint}: without peer authentication the RPC endpoint must be on loopback`,
      );
    const maxMessageBytes = positiveInteger('maxMessageBytes', options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    positiveInteger('maxQueued', options.maxQueued ?? DEFAULT_MAX_QUEUED); // before a socket exists
    // ZeroMQ's own cap is per frame and disconnects the sender; the total is checked per message.
    const router = new zmq.Router({
      linger: 0,
      maxMessageSize: maxMessageBytes,
      ...serverSocketOptions(options.curve),
    });
    try {
      await router.bind(endpoint);
    } catch (err) {
      router.close();
      throw bindError(endpoint, err);
    }
    const server = new RpcServer(router, options.handler, options);
    server.loop = server.receiveLoop();
    return server;
  }

  /** Well-formed requests received. */
  get received(): number {
    return this.receivedCount;
  }
  /** Replies (results and errors) handed to the socket's queue. */
  get replied(): number {
    return this.repliedCount;
  }
  /** Requests whose handler threw (each got an error reply). */
  get handlerErrors(): number {
    return this.handlerErrorCount;
  }
  /** Messages dropped because they could not be read; see {@link malformedByReason}. */
  get malformed(): number {
    return this.malformedCount;
  }
  get malformedByReason(): Readonly<Record<RpcMalformedReason, number>> {
    return { ...this.reasons };
  }
  /** Handlers running now. */
  get inFlight(): number {
    return this.inFlightCount;
  }
  /** Replies the queue refused (full, or server closed while a handler ran). */
  get repliesDropped(): number {
    return this.sender.dropped;
  }

  /** Stops receiving and closes the socket; replies of handlers still running are dropped. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.sender.close();
      await this.loop;
    })();
    return this.closing;
  }

  private async receiveLoop(): Promise<void> {
    while (!this.router.closed) {
      let frames: Buffer[];
      try {
        frames = await this.router.receive();
      } catch (err) {
        // Closing the socket rejects the pending receive: the normal way out.
        if (!this.router.closed) this.report(err);
        return;
      }
      this.onMessage(frames);
    }
  }

  private onMessage(frames: Buffer[]): void {
    const [identity, ...rest] = frames;
    if (identity === undefined) return this.dropMalformed('frame-count');
    const decoded = decodeFrames(rest, { expectedFrames: 2, maxMessageBytes: this.maxMessageBytes });
    if (!decoded.ok) return this.dropMalformed(decoded.reason);
    const [id, body] = decoded.frames as [Buffer, Buffer];
    if (id.length === 0 || id.length > MAX_ID_BYTES) return this.dropMalformed('id');
    let request: unknown;
    try {
      request = decode(body);
    } catch {
      return this.dropMalformed('body');
    }
    this.receivedCount++;
    void this.serveSafely(identity, id, request);
  }

  private async serve(identity: Buffer, id: Buffer, request: unknown): Promise<void> {
    this.inFlightCount++;
    let frames: Buffer[];
    try {
      const value = await this.handler(request, identity);
      try {
        frames = this.encodeReply(id, STATUS_OK, value);
      } catch (err) {
        frames = this.encodeError(id, err); // a result that cannot travel: SerializationError
      }
    } catch (err) {
      this.handlerErrorCount++;
      frames = this.encodeError(id, err);
    } finally {
      this.inFlightCount--;
    }
    if (this.sender.send([identity, ...frames])) this.repliedCount++;
  }

  /** Never rejects: whatever goes wrong is reported and the request goes unanswered (it times out). */
  private async serveSafely(identity: Buffer, id: Buffer, request: unknown): Promise<void> {
    try {
      await this.serve(identity, id, request);
    } catch (err) {
      this.report(err);
    }
  }

  /** Throws SerializationError when the value cannot be encoded or is too large. */
  private encodeReply(id: Buffer, status: number, payload: unknown): Buffer[] {
    let body: Buffer;
    try {
      body = encode([status, payload]);
    } catch (err) {
      throw new SerializationError(`reply cannot be encoded: ${(err as Error).message}`, { cause: err });
    }
    return encodeFrames([id, body], { maxMessageBytes: this.maxMessageBytes });
  }

  private encodeError(id: Buffer, err: unknown): Buffer[] {
    try {
      return this.encodeReply(id, STATUS_ERROR, errorToWire(err));
    } catch (encodeErr) {
      // The error itself would not travel (huge stack, odd data): send what surely does.
      const wire: WireError = {
        name: err instanceof Error ? err.name : 'Error',
        message: `error reply could not be encoded: ${(encodeErr as Error).message}`,
      };
      return this.encodeReply(id, STATUS_ERROR, wire);
    }
  }

  private dropMalformed(reason: RpcMalformedReason): void {
    this.malformedCount++;
    this.reasons[reason]++;
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err);
    } catch {
      // The callback's failure is not ours to surface.
    }
  }
}

export interface RpcClientOptions {
  /** Cluster CURVE keys: the DEALER authenticates as a CURVE client. */
  curve?: CurveKeys;
  /** Largest request or reply, header included; default {@link MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
  /** Requests waiting for the socket; past it `request` rejects with `queue-full`. */
  maxQueued?: number;
  /** Socket-level failures (a receive error). Counted either way. */
  onError?: (err: unknown) => void;
}

export interface RequestOptions {
  /** Reject with {@link RequestTimeoutError} when no reply arrived within this many ms. */
  timeoutMs: number;
  /** Reject with `signal.reason` when aborted. The request may still run on the server. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The DEALER side: one connection to one peer's {@link RpcServer}, any number of requests in
 * flight, matched to replies by a 4-byte correlation id.
 */
export class RpcClient {
  private readonly dealer: zmq.Dealer;
  private readonly sender: QueuedSender;
  private readonly maxMessageBytes: number;
  private readonly pendingById = new Map<number, Pending>();
  private readonly reasons = emptyReasons();
  private nextId = 0;
  private requestCount = 0;
  private ignoredCount = 0;
  private malformedCount = 0;
  private readonly loop: Promise<void>;
  private closing: Promise<void> | undefined;

  /** Connects (in the background; requests queue until the connection is up). */
  constructor(
    readonly endpoint: string,
    private readonly options: RpcClientOptions = {},
  ) {
    this.maxMessageBytes = positiveInteger('maxMessageBytes', options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    positiveInteger('maxQueued', options.maxQueued ?? DEFAULT_MAX_QUEUED); // before a socket exists
    this.dealer = new zmq.Dealer({
      linger: 0,
      maxMessageSize: this.maxMessageBytes,
      ...clientSocketOptions(options.curve),
    });
    this.dealer.connect(endpoint);
    this.sender = new QueuedSender(this.dealer, {
      maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
      onError: (err, frames) => this.onSendFailed(err, frames),
    });
    this.loop = this.receiveLoop();
  }

  /** Requests issued (accepted by the send queue). */
  get requests(): number {
    return this.requestCount;
  }
  /** Requests waiting for their reply. */
  get pending(): number {
    return this.pendingById.size;
  }
  /** Well-formed replies for no pending request: late (after timeout or abort) or unknown ids. */
  get ignored(): number {
    return this.ignoredCount;
  }
  /** Replies dropped because they could not be read; see {@link malformedByReason}. */
  get malformed(): number {
    return this.malformedCount;
  }
  get malformedByReason(): Readonly<Record<RpcMalformedReason, number>> {
    return { ...this.reasons };
  }

  /**
   * Sends `body` and resolves with the handler's result. Rejects with {@link RequestTimeoutError}
   * after `timeoutMs`, with a RemoteError when the handler threw, with `signal.reason` on abort,
   * with {@link SerializationError} when `body` cannot travel, and with {@link RpcTransportError}
   * when the client is closed or its queue is full. A timed-out request may have run remotely.
   */
  request(body: unknown, options: RequestOptions): Promise<unknown> {
    const { timeoutMs, signal } = options;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      return Promise.reject(new RangeError(`timeoutMs must be a positive finite number, got ${timeoutMs}`));
    if (this.closing) return Promise.reject(this.closedError());
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract: the caller's reason, as given
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.allocateId();
    const idFrame = Buffer.allocUnsafe(4);
    idFrame.writeUInt32BE(id);
    let frames: Buffer[];
    try {
      frames = encodeFrames([idFrame, encode(body)], { maxMessageBytes: this.maxMessageBytes });
    } catch (err) {
      return Promise.reject(
        err instanceof SerializationError
          ? err
          : new SerializationError(`request cannot be encoded: ${(err as Error).message}`, { cause: err }),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.settle(id))
          reject(new RequestTimeoutError(`no reply from ${this.endpoint} within ${timeoutMs} ms`, timeoutMs));
      }, timeoutMs);
      const onAbort = () => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract: the caller's reason, as given
        if (this.settle(id)) reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pendingById.set(id, { resolve, reject, timer, signal, onAbort });
      if (this.sender.send(frames)) {
        this.requestCount++;
      } else {
        this.settle(id);
        reject(
          new RpcTransportError(
            `send queue to ${this.endpoint} is full (${this.sender.maxQueued} messages)`,
            'queue-full',
          ),
        );
      }
    });
  }

  /** Rejects pending requests with `closed`, closes the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const err = this.closedError();
      for (const id of [...this.pendingById.keys()]) this.settle(id)?.reject(err);
      this.sender.close();
      await this.loop;
    })();
    return this.closing;
  }

  private closedError(): RpcTransportError {
    return new RpcTransportError(`RpcClient to ${this.endpoint} is closed`, 'closed');
  }

  private allocateId(): number {
    // 2^32 ids before a wrap; skipping the pending ones keeps correlation unique even then.
    do this.nextId = (this.nextId + 1) >>> 0;
    while (this.pendingById.has(this.nextId));
    return this.nextId;
  }

  /** Removes a pending request and its timer and listener; undefined if already finished. */
  private settle(id: number): Pending | undefined {
    const p = this.pendingById.get(id);
    if (!p) return undefined;
    this.pendingById.delete(id);
    clearTimeout(p.timer);
    p.signal?.removeEventListener('abort', p.onAbort);
    return p;
  }

  private async receiveLoop(): Promise<void> {
    while (!this.dealer.closed) {
      let frames: Buffer[];
      try {
        frames = await this.dealer.receive();
      } catch (err) {
        if (!this.dealer.closed) this.report(err);
        return;
      }
      this.onReply(frames);
    }
  }

  private onReply(frames: Buffer[]): void {
    const decoded = decodeFrames(frames, { expectedFrames: 2, maxMessageBytes: this.maxMessageBytes });
    if (!decoded.ok) return this.dropMalformed(decoded.reason);
    const [idFrame, body] = decoded.frames as [Buffer, Buffer];
    if (idFrame.length !== 4) return this.dropMalformed('id');
    const p = this.settle(idFrame.readUInt32BE(0));
    if (!p) {
      this.ignoredCount++;
      return;
    }
    let reply: unknown;
    try {
      reply = decode(body);
    } catch (err) {
      this.dropMalformed('body');
      return p.reject(
        new RpcTransportError(`unreadable reply from ${this.endpoint}`, 'bad-reply', { cause: err }),
      );
    }
    if (Array.isArray(reply) && reply.length === 2) {
      if (reply[0] === STATUS_OK) return p.resolve(reply[1]);
      const wire = reply[0] === STATUS_ERROR ? asWireError(reply[1], 0) : undefined;
      if (wire) return p.reject(errorFromWire(wire));
    }
    this.dropMalformed('body');
    p.reject(new RpcTransportError(`reply from ${this.endpoint} has an unknown shape`, 'bad-reply'));
  }

  private onSendFailed(err: unknown, frames: readonly Frame[]): void {
    this.report(err);
    const idFrame = frames[1];
    if (!(idFrame instanceof Uint8Array) || idFrame.length !== 4) return;
    const id = Buffer.from(idFrame.buffer, idFrame.byteOffset, 4).readUInt32BE(0);
    this.settle(id)?.reject(
      new RpcTransportError(`send to ${this.endpoint} failed`, 'send-failed', { cause: err }),
    );
  }

  private dropMalformed(reason: RpcMalformedReason): void {
    this.malformedCount++;
    this.reasons[reason]++;
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err);
    } catch {
      // The callback's failure is not ours to surface.
    }
  }
}

const MAX_CAUSE_DEPTH = 8;

/** Checks that a decoded value has the shape of a {@link WireError}; drops what does not fit. */
function asWireError(value: unknown, depth: number): WireError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || typeof v.message !== 'string') return undefined;
  const cause = depth < MAX_CAUSE_DEPTH ? asWireError(v.cause, depth + 1) : undefined;
  return {
    name: v.name,
    message: v.message,
    ...(typeof v.stack === 'string' && { stack: v.stack }),
    ...(typeof v.data === 'object' && v.data !== null && { data: v.data as Record<string, unknown> }),
    ...(cause && { cause }),
  };
}

/**
 * A bind failure that says what to do: for an address this machine does not have, the address,
 * that no interface has it, and the addresses it has (ZeroMQ says only "Cannot assign requested
 * address"). Other failures are returned as they are.
 */
export function bindError(endpoint: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const host = /^tcp:\/\/\[?([^\]]*?)\]?:\d+$/.exec(endpoint)?.[1];
  if (host === undefined) return err;
  if (code === 'EADDRNOTAVAIL') {
    const have = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
      (addrs ?? []).map((a) => `${a.address} (${name})`),
    );
    return new ConfigError(
      `cannot listen on ${host}: this machine has no network interface with that address. ` +
        `Its addresses: ${have.join(', ') || 'none'}. Pass --bind with one of them (or 0.0.0.0 for all).`,
      '--bind',
      { cause: err },
    );
  }
  return err;
}
