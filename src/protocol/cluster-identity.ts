/**
 * Who belongs to a cluster, shared by every peer (client, worker, UI): the cluster secret (never
 * printed), whether an address stays on this machine (binding anything else needs the secret:
 * peers run the code they are sent), and the cluster id that discovery announces.
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { inspect } from 'node:util';
import { ConfigError } from './errors.js';

/** What a secret prints as. */
export const REDACTED = '[secret]';

/**
 * The cluster secret. Its string, JSON and `util.inspect` forms are all `[secret]`, and it has no
 * enumerable fields, so logging or serializing a config never reveals it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    if (value.length === 0) throw new RangeError('a cluster secret cannot be empty');
    this.#value = value;
  }
  /** The secret itself: only for deriving keys and authenticating peers, never for output. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 (also IPv4-mapped), or `localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const h = stripBrackets(host);
  if (h.toLowerCase() === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The cluster id announced in discovery records: the first 16 hex digits of a SHA-256 over the
 * cluster name and the secret (if any). Peers with the same name and secret agree on it; it does
 * not reveal the secret, though a weak secret could be guessed offline from it.
 */
export function deriveClusterId(cluster: string, secret?: Secret): string {
  const hash = createHash('sha256').update('microspark/cluster-id/v1\0');
  const name = Buffer.from(cluster, 'utf8');
  hash.update(`${name.length}:`).update(name);
  if (secret !== undefined) {
    const value = Buffer.from(secret.reveal(), 'utf8');
    hash.update(`;secret ${value.length}:`).update(value);
  }
  return hash.digest('hex').slice(0, 16);
}

/** `host` without the brackets of an IPv6 literal. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The one rule: binding `host` off loopback requires a cluster secret. Throws a ConfigError naming
 * `option` and the fix; returns when `host` is loopback or a secret is set.
 */
export function requireSecretOffLoopback(host: string, hasSecret: boolean, option: string): void {
  if (hasSecret || isLoopbackAddress(host)) return;
  throw new ConfigError(
    `binding ${host} requires a cluster secret: workers run the code they are sent, so every peer must ` +
      'prove it holds the secret. Pass { secret } or set MICROSPARK_SECRET, the same on every peer.',
    option,
  );
}
