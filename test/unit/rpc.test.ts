import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { QueuedSender, type Frame } from '../../src/partition-server/queued-socket.js';
import { RpcClient, RpcServer, RpcTransportError, type RpcHandler } from '../../src/partition-server/rpc.js';
import { decode, encode } from '../../src/protocol/codec.js';
import {
  InvalidOperationError,
  JobCancelledError,
  RemoteError,
  RequestTimeoutError,
  SerializationError,
} from '../../src/protocol/errors.js';
import {
  HEADER_BYTES,
  PROTOCOL_SIGNATURE,
  PROTOCOL_VERSION,
  decodeFrames,
  encodeFrames,
} from '../../src/protocol/wire.js';

// Everything here binds and connects on 127.0.0.1 only.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handler: RpcHandler, options: { maxMessageBytes?: number } = {}): Promise<RpcServer> {
  const server = await RpcServer.listen({ handler, ...options });
  cleanups.push(() => server.close());
  return server;
}

function connect(endpoint: string, options: { maxMessageBytes?: number } = {}): RpcClient {
  const client = new RpcClient(endpoint, options);
  cleanups.push(() => client.close());
  return client;
}

function socket<S extends zmq.Socket>(s: S): S {
  cleanups.push(() => s.close());
  return s;
}

/** Polls `cond` every 5 ms; fails the test after `timeoutMs`. */
async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const header = (signature = PROTOCOL_SIGNATURE, version = PROTOCOL_VERSION) =>
  Buffer.concat([signature, Buffer.from([version])]);
const echo: RpcHandler = (request) => Promise.resolve(request);
const T = { timeoutMs: 5000 };

describe('wire frames', () => {
  it('round-trips and refuses bad headers and sizes', () => {
    const frames = encodeFrames([Buffer.from('id'), Buffer.from('body')]);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toEqual(header());
    expect(frames[0]).toHaveLength(HEADER_BYTES);
    const ok = decodeFrames(frames, { expectedFrames: 2 });
    expect(ok).toEqual({ ok: true, frames: [Buffer.from('id'), Buffer.from('body')] });
    expect(decodeFrames(frames, { expectedFrames: 3 })).toEqual({ ok: false, reason: 'frame-count' });
    expect(decodeFrames([])).toEqual({ ok: false, reason: 'frame-count' });
    expect(decodeFrames([Buffer.from('MSPX\x01'), Buffer.alloc(1)])).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(decodeFrames([Buffer.from('MSPK'), Buffer.alloc(1)])).toEqual({ ok: false, reason: 'signature' });
    expect(decodeFrames([header(PROTOCOL_SIGNATURE, PROTOCOL_VERSION + 1), Buffer.alloc(1)])).toEqual({
      ok: false,
      reason: 'version',
    });
    expect(decodeFrames(frames, { maxMessageBytes: 5 + 2 + 3 })).toEqual({ ok: false, reason: 'oversize' });
    expect(decodeFrames(frames, { maxMessageBytes: 5 + 2 + 4 }).ok).toBe(true);
    expect(() => encodeFrames([Buffer.alloc(100)], { maxMessageBytes: 104 })).toThrow(SerializationError);
    expect(encodeFrames([Buffer.alloc(100)], { maxMessageBytes: 105 })).toHaveLength(2);
  });
});

describe('RpcServer / RpcClient', () => {
  it('round-trips a request and its reply', async () => {
    const peers: Buffer[] = [];
    const server = await serve((request, peer) => {
      peers.push(peer);
      return Promise.resolve({ got: request, at: 'server' });
    });
    expect(server.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const client = connect(server.endpoint);
    const body = { op: 'ping', n: 42, list: [1, 'two', null], bytes: Buffer.from([1, 2, 3]), big: 2n ** 70n };
    expect(await client.request(body, T)).toEqual({ got: body, at: 'server' });
    expect(await client.request(undefined, T)).toEqual({ got: undefined, at: 'server' });
    expect(peers).toHaveLength(2);
    expect(peers[0]).toEqual(peers[1]); // the same DEALER has one ROUTER identity
    expect([server.received, server.replied, server.handlerErrors, server.malformed]).toEqual([2, 2, 0, 0]);
    expect([client.requests, client.pending, client.ignored, client.malformed]).toEqual([2, 0, 0, 0]);
  });

  it('answers 500 concurrent requests from two clients with the right correlation', async () => {
    const server = await serve(async (request) => {
      const { client, i } = request as { client: string; i: number };
      await new Promise((r) => setTimeout(r, i % 7)); // replies come back out of order
      return { client, doubled: i * 2 };
    });
    const a = connect(server.endpoint);
    const b = connect(server.endpoint);
    const calls = Array.from({ length: 500 }, (_, i) => {
      const [c, name] = i % 2 === 0 ? [a, 'a'] : [b, 'b'];
      return c.request({ client: name, i }, T);
    });
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => expect(r).toEqual({ client: i % 2 === 0 ? 'a' : 'b', doubled: i * 2 }));
    expect([server.received, server.replied, server.malformed]).toEqual([500, 500, 0]);
    expect([a.requests, b.requests, a.pending + b.pending, a.ignored + b.ignored]).toEqual([250, 250, 0, 0]);
  });

  it('turns a handler throw into a RemoteError with the remote name, message and stack', async () => {
    const server = await serve((request) => {
      if (request === 'typed') throw new InvalidOperationError('partition 3 does not exist');
      if (request === 'plain') return Promise.reject(new TypeError('x is not a function'));
      if (request === 'symbol') return Promise.resolve({ s: Symbol('cannot travel') });
      return Promise.resolve('fine');
    });
    const client = connect(server.endpoint);

    const typed = await client.request('typed', T).catch((e: unknown) => e);
    expect(typed).toBeInstanceOf(RemoteError);
    expect((typed as RemoteError).remoteName).toBe('InvalidOperationError');
    expect((typed as RemoteError).message).toBe('partition 3 does not exist');
    expect((typed as RemoteError).remoteStack).toContain('InvalidOperationError: partition 3 does not exist');

    const plain = (await client.request('plain', T).catch((e: unknown) => e)) as RemoteError;
    expect([plain.name, plain.remoteName, plain.message]).toEqual([
      'RemoteError',
      'TypeError',
      'x is not a function',
    ]);

    // A result the codec refuses comes back as the server's SerializationError, not as silence.
    const unsendable = (await client.request('symbol', T).catch((e: unknown) => e)) as RemoteError;
    expect(unsendable.remoteName).toBe('SerializationError');
    expect(unsendable.message).toMatch(/reply cannot be encoded/);

    expect(await client.request('other', T)).toBe('fine');
    expect([server.received, server.replied, server.handlerErrors]).toEqual([4, 4, 2]);
  });

  it('times out when the server does not answer, then ignores and counts the late reply', async () => {
    const release = gate();
    const server = await serve(async () => {
      await release.promise;
      return 'late';
    });
    const client = connect(server.endpoint);
    const started = performance.now();
    const err = await client.request('slow', { timeoutMs: 150 }).catch((e: unknown) => e);
    const elapsedMs = performance.now() - started;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).timeoutMs).toBe(150);
    expect(elapsedMs).toBeGreaterThanOrEqual(145);
    expect(elapsedMs).toBeLessThan(150 + 250);
    expect(client.pending).toBe(0);
    expect(server.inFlight).toBe(1);

    release.open();
    await waitFor(() => client.ignored === 1);
    expect([server.replied, client.ignored, client.malformed, client.pending]).toEqual([1, 1, 0, 0]);
  });

  it('rejects with the signal reason on abort, before or during the request', async () => {
    const release = gate();
    const server = await serve(async () => {
      await release.promise;
      return 'done';
    });
    const client = connect(server.endpoint);

    const reason = new JobCancelledError('cancelled by the user');
    const controller = new AbortController();
    const pending = client.request('wait', { timeoutMs: 10_000, signal: controller.signal });
    await waitFor(() => server.inFlight === 1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(client.pending).toBe(0);

    const before = client.requests;
    const already = AbortSignal.abort(reason);
    await expect(client.request('never sent', { timeoutMs: 1000, signal: already })).rejects.toBe(reason);
    expect(client.requests).toBe(before);

    release.open();
    await waitFor(() => client.ignored === 1);
    expect([server.received, server.replied, client.ignored]).toEqual([1, 1, 1]);
  });

  it('drops and counts garbage frames, and keeps serving valid requests', async () => {
    const maxMessageBytes = 4096;
    const server = await serve(echo, { maxMessageBytes });
    const raw = socket(new zmq.Dealer({ linger: 0 }));
    raw.connect(server.endpoint);
    const id = Buffer.from([0, 0, 0, 1]);
    const body = encode({ ok: 1 });
    const junk: Frame[][] = [
      ['junk'], // frame-count
      [header(), id, body, 'extra'], // frame-count
      [header(), id], // frame-count
      [Buffer.from('XXXX\x01'), id, body], // signature
      [Buffer.from('MSPK'), id, body], // signature (header too short)
      [header(PROTOCOL_SIGNATURE, PROTOCOL_VERSION + 1), id, body], // version
      [header(), Buffer.alloc(0), body], // id: missing
      [header(), Buffer.alloc(33, 7), body], // id: too long
      [header(), id, Buffer.from('junk')], // body: not msgpack
      [header(), id, Buffer.alloc(0)], // body: empty
      [header(), id, Buffer.alloc(maxMessageBytes - 5)], // oversize in total (every frame alone fits)
    ];
    for (const frames of junk) await raw.send(frames);
    // Replies on one connection keep their order: once this one is back, all junk was handled.
    await raw.send([header(), Buffer.from('valid'), encode('ping')]);
    const reply = await raw.receive();
    expect(reply).toHaveLength(3);
    expect(reply[1]).toEqual(Buffer.from('valid'));
    expect(decode(reply[2] as Buffer)).toEqual([0, 'ping']);
    expect(server.malformed).toBe(11);
    expect(server.malformedByReason).toEqual({
      'frame-count': 3,
      signature: 2,
      version: 1,
      id: 2,
      body: 2,
      oversize: 1,
    });

    // One frame over the limit: ZeroMQ itself disconnects that peer; nothing reaches the server.
    const huge = socket(new zmq.Dealer({ linger: 0 }));
    const disconnected = new Promise<void>((resolve) => huge.events.on('disconnect', () => resolve()));
    huge.connect(server.endpoint);
    await huge.send([header(), id, Buffer.alloc(maxMessageBytes * 2)]);
    await disconnected;

    const client = connect(server.endpoint);
    expect(await client.request({ still: 'serving' }, T)).toEqual({ still: 'serving' });
    expect([server.received, server.replied, server.malformed]).toEqual([2, 2, 11]);
  });

  it('client drops and counts garbage replies and rejects a pending request whose reply is unreadable', async () => {
    const router = socket(new zmq.Router({ linger: 0 }));
    await router.bind('tcp://127.0.0.1:0');
    const client = connect(router.lastEndpoint as string);

    const first = client.request('first', T);
    const [identity, , id] = await router.receive();
    const to = (...frames: Frame[]) => router.send([identity as Buffer, ...frames]);
    await to(Buffer.from('XXXX\x01'), id as Buffer, encode([0, 'x'])); // signature
    await to(header(PROTOCOL_SIGNATURE, 9), id as Buffer, encode([0, 'x'])); // version
    await to(header(), Buffer.from([1, 2]), encode([0, 'x'])); // id: not 4 bytes
    await to(header(), Buffer.from([9, 9, 9, 9]), encode([0, 'x'])); // well formed, unknown id: ignored
    await to(header(), id as Buffer, Buffer.from('junk')); // body for the pending request
    const err = await first.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTransportError);
    expect((err as RpcTransportError).reason).toBe('bad-reply');

    const second = client.request('second', T);
    const [, , id2] = await router.receive();
    await to(header(), id2 as Buffer, encode({ not: 'an envelope' }));
    await expect(second).rejects.toMatchObject({ reason: 'bad-reply' });

    const third = client.request('third', T);
    const [, , id3, body3] = await router.receive();
    await to(header(), id3 as Buffer, encode([0, decode(body3 as Buffer)]));
    expect(await third).toBe('third');
    expect([client.malformed, client.ignored, client.pending]).toEqual([5, 1, 0]);
    expect(client.malformedByReason).toMatchObject({ signature: 1, version: 1, id: 1, body: 2 });
  });

  it('refuses bodies that cannot travel, bad timeouts and non-loopback binds, without sending', async () => {
    const server = await serve(echo);
    const client = connect(server.endpoint, { maxMessageBytes: 1024 });
    await expect(client.request(Buffer.alloc(2000), T)).rejects.toThrow(SerializationError);
    await expect(client.request({ s: Symbol('x') }, T)).rejects.toThrow(SerializationError);
    await expect(client.request('x', { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(client.request('x', { timeoutMs: Number.POSITIVE_INFINITY })).rejects.toThrow(RangeError);
    expect(client.requests).toBe(0);
    expect(await client.request(Buffer.alloc(900), T)).toEqual(Buffer.alloc(900));
    // Refused before any socket exists: nothing is bound to another interface.
    await expect(RpcServer.listen({ handler: echo, endpoint: 'tcp://0.0.0.0:0' })).rejects.toThrow(
      /loopback/,
    );
  });

  it('closes idempotently, rejecting requests in flight and later ones', async () => {
    const release = gate();
    const server = await serve(async () => {
      await release.promise;
      return 'x';
    });
    const client = new RpcClient(server.endpoint);
    const inFlight = client.request('a', T);
    await waitFor(() => server.inFlight === 1);
    const closing = client.close();
    expect(client.close()).toBe(closing);
    await closing;
    await expect(inFlight).rejects.toMatchObject({ name: 'RpcTransportError', reason: 'closed' });
    await expect(client.request('b', T)).rejects.toMatchObject({ reason: 'closed' });
    expect(client.pending).toBe(0);

    await server.close();
    await server.close();
    release.open();
    await new Promise((r) => setTimeout(r, 10));
    // The handler finished after close: its reply is dropped, not sent on a closed socket.
    expect([server.replied, server.repliesDropped, server.inFlight]).toEqual([0, 1, 0]);
  });
});

describe('QueuedSender', () => {
  it('drops past maxQueued, counts exactly, and delivers the accepted messages in order', async () => {
    const router = socket(new zmq.Router({ linger: 0 }));
    await router.bind('tcp://127.0.0.1:0');
    // A DEALER without a connection blocks on send: the first message stays in flight.
    const dealer = new zmq.Dealer({ linger: 0 });
    const sender = new QueuedSender(dealer, { maxQueued: 5 });
    cleanups.push(() => sender.close());

    const accepted = Array.from({ length: 12 }, (_, i) => sender.send([`m${i}`]));
    expect(accepted).toEqual([true, true, true, true, true, false, false, false, false, false, false, false]);
    expect([sender.queued, sender.sent, sender.dropped, sender.failed]).toEqual([5, 0, 7, 0]);

    dealer.connect(router.lastEndpoint as string);
    await sender.flush({ signal: AbortSignal.timeout(5000) });
    expect([sender.queued, sender.sent, sender.dropped, sender.failed]).toEqual([0, 5, 7, 0]);
    expect(sender.send(['end'])).toBe(true);

    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(String((await router.receive())[1]));
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'end']);
  });

  it('counts send failures and reports them through onError, never as unhandled rejections', async () => {
    // sendTimeout 0 on a DEALER without peers: every send rejects with EAGAIN at once.
    const dealer = new zmq.Dealer({ linger: 0, sendTimeout: 0 });
    const reported: { code: unknown; frames: readonly Frame[] }[] = [];
    const sender = new QueuedSender(dealer, {
      onError: (err, frames) => {
        reported.push({ code: (err as { code?: unknown }).code, frames });
        throw new Error('a throwing callback does not stop the pump');
      },
    });
    cleanups.push(() => sender.close());
    expect([sender.send(['a']), sender.send(['b']), sender.send(['c'])]).toEqual([true, true, true]);
    await sender.flush({ signal: AbortSignal.timeout(5000) });
    expect([sender.sent, sender.failed, sender.dropped]).toEqual([0, 3, 0]);
    expect(reported).toEqual([
      { code: 'EAGAIN', frames: ['a'] },
      { code: 'EAGAIN', frames: ['b'] },
      { code: 'EAGAIN', frames: ['c'] },
    ]);
  });

  it('close is idempotent, discards the queue and releases waiting flushes', async () => {
    const dealer = new zmq.Dealer({ linger: 0 }); // never connected: sends block
    const sender = new QueuedSender(dealer, { maxQueued: 3 });
    expect([sender.send(['1']), sender.send(['2'])]).toEqual([true, true]);
    const flushed = sender.flush();
    sender.close();
    sender.close();
    await flushed;
    expect(dealer.closed).toBe(true);
    expect(sender.closed).toBe(true);
    expect(sender.send(['3'])).toBe(false);
    await sender.flush();
    expect([sender.queued, sender.sent, sender.dropped, sender.failed]).toEqual([0, 0, 1, 0]);
    const other = socket(new zmq.Dealer({ linger: 0 }));
    expect(() => new QueuedSender(other, { maxQueued: 0 })).toThrow(RangeError);
  });
});
