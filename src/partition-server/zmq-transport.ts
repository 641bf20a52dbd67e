/**
 * The ZeroMQ {@link Transport}: ROUTER/DEALER request-reply (rpc.ts) and PUB/SUB records, with
 * CURVE on every socket when the cluster has a secret.
 */
import * as zmq from 'zeromq';
import { decode, encode } from '../protocol/codec.js';
import { decodeFrames, encodeFrames } from '../protocol/wire.js';
import { clientSocketOptions, serverSocketOptions, type CurveKeys } from './curve.js';
import { QueuedSender } from './queued-socket.js';
import { RpcClient, RpcServer } from './rpc.js';
import type {
  RecordPublisher,
  RecordSubscriber,
  RequestChannel,
  RequestHandler,
  RequestServer,
  Transport,
} from './transport.js';

/** ZeroMQ sockets for one peer; `curve` authenticates every socket (required off loopback). */
export class ZmqTransport implements Transport {
  constructor(private readonly curve?: CurveKeys) {}

  async serve(host: string, port: number, handler: RequestHandler): Promise<RequestServer> {
    const server = await RpcServer.listen({
      endpoint: `tcp://${host}:${port}`,
      allowNonLoopback: this.curve !== undefined,
      ...(this.curve && { curve: this.curve }),
      handler: (req) => handler(req),
    });
    return { endpoint: server.endpoint, close: () => server.close() };
  }

  connect(endpoint: string): RequestChannel {
    return new RpcClient(endpoint, this.curve ? { curve: this.curve } : {});
  }

  async publisher(host: string, port: number): Promise<RecordPublisher> {
    const socket = new zmq.Publisher({
      linger: 0,
      sendHighWaterMark: 10_000,
      ...serverSocketOptions(this.curve),
    });
    try {
      await socket.bind(`tcp://${host}:${port}`);
    } catch (e) {
      socket.close();
      throw e;
    }
    const sender = new QueuedSender(socket);
    return {
      endpoint: socket.lastEndpoint ?? '',
      send: (record) => void sender.send(encodeFrames([encode(record)])),
      flush: (signal) => sender.flush({ signal }),
      close: () => sender.close(),
    };
  }

  subscriber(onRecord: (value: unknown) => void, onMalformed: () => void): RecordSubscriber {
    const sub = new zmq.Subscriber({ linger: 0, ...clientSocketOptions(this.curve) });
    sub.subscribe();
    void (async () => {
      for (;;) {
        let frames: Buffer[];
        try {
          frames = await sub.receive();
        } catch {
          return; // closed
        }
        const decoded = decodeFrames(frames, { expectedFrames: 1 });
        if (!decoded.ok) {
          onMalformed();
          continue;
        }
        let value: unknown;
        try {
          value = decode(decoded.frames[0]!);
        } catch {
          onMalformed();
          continue;
        }
        onRecord(value);
      }
    })();
    return {
      connect: (endpoint) => sub.connect(endpoint),
      disconnect: (endpoint) => {
        try {
          sub.disconnect(endpoint);
        } catch {
          // already disconnected
        }
      },
      close: () => sub.close(),
    };
  }
}
