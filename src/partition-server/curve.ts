/**
 * Authentication with a cluster secret: ZeroMQ CURVE with keypairs derived from the secret, and a
 * ZAP handler that admits only clients presenting the derived client key. A peer without the
 * secret cannot complete the handshake (it does not know the server key), and one with another
 * secret's keys is refused by ZAP; either way no message of it reaches the application. The
 * secret itself never leaves this module: only keys derived from it are used.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import * as zmq from 'zeromq';

/** CURVE keys of a cluster (z85 strings, as ZeroMQ takes them). */
export interface CurveKeys {
  readonly serverPublicKey: string;
  readonly serverSecretKey: string;
  readonly clientPublicKey: string;
  readonly clientSecretKey: string;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (ZeroMQ RFC 32) encoding of bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError('z85 needs a multiple of 4 bytes');
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85[v % 85]! + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

function keypair(secret: string, role: string): { publicKey: string; secretKey: string } {
  // Domain-separated scalar from the secret; X25519 (Curve25519) as CurveZMQ uses it.
  const d = createHash('sha256').update(`microspark/curve/v1/${role}\0`).update(secret).digest();
  const priv = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: d.toString('base64url'), x: '' },
    format: 'jwk',
  });
  const x = (createPublicKey(priv).export({ format: 'jwk' }) as { x: string }).x;
  return { publicKey: z85Encode(Buffer.from(x, 'base64url')), secretKey: z85Encode(d) };
}

/** Derives the cluster's CURVE keys from its secret (the same on every peer). */
export function deriveCurveKeys(secret: string): CurveKeys {
  if (secret.length === 0) throw new RangeError('the cluster secret is empty');
  const server = keypair(secret, 'server');
  const client = keypair(secret, 'client');
  return {
    serverPublicKey: server.publicKey,
    serverSecretKey: server.secretKey,
    clientPublicKey: client.publicKey,
    clientSecretKey: client.secretKey,
  };
}

/** Options for sockets that bind (ROUTER, PUB): CURVE server, checked by ZAP. Empty without keys. */
export function serverSocketOptions(keys: CurveKeys | undefined): Record<string, unknown> {
  if (!keys) return {};
  return {
    curveServer: true,
    curvePublicKey: keys.serverPublicKey,
    curveSecretKey: keys.serverSecretKey,
    zapDomain: 'microspark',
  };
}

/** Options for sockets that connect (DEALER, SUB): CURVE client with the cluster's keys. */
export function clientSocketOptions(keys: CurveKeys | undefined): Record<string, unknown> {
  if (!keys) return {};
  return {
    curveServerKey: keys.serverPublicKey,
    curvePublicKey: keys.clientPublicKey,
    curveSecretKey: keys.clientSecretKey,
  };
}

/** Counters of the process's ZAP handler. */
export interface ZapCounters {
  accepted: number;
  refused: number;
}

interface ZapHandler {
  readonly counters: ZapCounters;
  users: number;
  readonly keys: Set<string>;
  readonly router: zmq.Router;
  readonly loop: Promise<void>;
}

let handler: ZapHandler | undefined;

/**
 * Starts (or shares) this process's ZAP handler and admits clients with `keys`' client key.
 * Returns a release function; the handler stops when the last user releases it.
 */
export async function acquireZap(keys: CurveKeys): Promise<{ counters: ZapCounters; release: () => void }> {
  if (!handler) {
    const router = new zmq.Router({ linger: 0 });
    await router.bind('inproc://zeromq.zap.01');
    const h: ZapHandler = {
      counters: { accepted: 0, refused: 0 },
      users: 0,
      keys: new Set(),
      router,
      loop: Promise.resolve(),
    };
    h.keys.add(keys.clientPublicKey);
    handler = { ...h, loop: serveZap(h) };
  }
  const h = handler;
  h.users++;
  h.keys.add(keys.clientPublicKey);
  let released = false;
  return {
    counters: h.counters,
    release: () => {
      if (released) return;
      released = true;
      if (--h.users === 0 && handler === h) {
        handler = undefined;
        h.router.close();
      }
    },
  };
}

async function serveZap(h: ZapHandler): Promise<void> {
  for (;;) {
    let frames: Buffer[];
    try {
      frames = await h.router.receive();
    } catch {
      return; // closed
    }
    // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials…]
    const [routing, empty, version, requestId, , , , mechanism, credential] = frames;
    if (!routing || !empty || !version || !requestId) continue;
    const key = mechanism?.toString() === 'CURVE' && credential?.length === 32 ? z85Encode(credential) : '';
    const ok = h.keys.has(key);
    if (ok) h.counters.accepted++;
    else h.counters.refused++;
    try {
      await h.router.send([
        routing,
        empty,
        '1.0',
        requestId,
        ok ? '200' : '400',
        ok ? 'OK' : 'unknown key',
        '',
        '',
      ]);
    } catch {
      return;
    }
  }
}

/** The counters of this process's ZAP handler, if one is running. */
export function zapCounters(): Readonly<ZapCounters> | undefined {
  return handler?.counters;
}
