/**
 * What a peer needs from the network, and nothing more: a request server, request channels to
 * other servers, a record publisher and a record subscriber. Two implementations keep the same
 * contract: ZeroMQ (zmq-transport.ts, the daemons) and memory (memory-transport.ts, unit tests and
 * the deterministic simulation). test/unit/transport-compliance.test.ts runs one suite on both.
 *
 * Values are plain data (msgpack-encodable); each implementation encodes them, so what cannot
 * travel fails the same way on both.
 */

/** Options of one request. */
export interface RequestOptions {
  /** Reject with RequestTimeoutError when no reply arrived within this many ms. */
  readonly timeoutMs: number;
  /** Reject with `signal.reason` when aborted. The request may still run on the server. */
  readonly signal?: AbortSignal;
}

/** Answers one request; a throw becomes an error reply (a RemoteError at the caller). */
export type RequestHandler = (request: unknown) => Promise<unknown>;

/** A bound request server. */
export interface RequestServer {
  /** Where peers reach it (`tcp://host:port` or `mem://host:port`). */
  readonly endpoint: string;
  /** Stops answering; idempotent. */
  close(): Promise<void>;
}

/** A channel to one request server, any number of requests in flight. */
export interface RequestChannel {
  readonly endpoint: string;
  /**
   * Resolves with the handler's result; rejects with RequestTimeoutError, a RemoteError (the
   * handler threw), `signal.reason`, SerializationError, or RpcTransportError (closed).
   */
  request(body: unknown, options: RequestOptions): Promise<unknown>;
  /** Rejects pending requests and closes; idempotent. */
  close(): Promise<void>;
}

/** A bound record publisher: every subscriber connected to it receives what it sends (lossy). */
export interface RecordPublisher {
  readonly endpoint: string;
  /** Sends one record; never blocks (a full queue drops). */
  send(record: unknown): void;
  /** Waits (up to the signal) until queued records are handed to the network. */
  flush(signal: AbortSignal): Promise<void>;
  close(): void;
}

/** A record subscriber, connected to any number of publishers. */
export interface RecordSubscriber {
  connect(publisher: string): void;
  disconnect(publisher: string): void;
  close(): void;
}

/** A peer's view of the network. */
export interface Transport {
  /** Binds a request server on `host` (port 0: any free port). */
  serve(host: string, port: number, handler: RequestHandler): Promise<RequestServer>;
  /** A request channel to `endpoint` (connects in the background). */
  connect(endpoint: string): RequestChannel;
  /** Binds a record publisher on `host` (port 0: any free port). */
  publisher(host: string, port: number): Promise<RecordPublisher>;
  /** A subscriber: `onRecord` gets each decoded record; `onMalformed` counts unreadable ones. */
  subscriber(onRecord: (value: unknown) => void, onMalformed: () => void): RecordSubscriber;
}
