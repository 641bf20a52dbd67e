/**
 * Discovery over mDNS (bonjour-service): each worker publishes `_microspark._tcp` with a TXT
 * record of its node id, incarnation, cluster id, protocol version and ports; browsers emit the
 * partition server endpoints they find as *hints*. Membership is still decided by HELLO (and,
 * with a secret, by CURVE): a hint is only an address to try.
 *
 * Without a cluster secret, mDNS is pinned to the loopback interface, so nothing is multicast on
 * the machine's real interfaces. The cluster id in TXT is derived from the cluster name and the
 * secret (a hash); the secret itself never appears.
 */
import { EventEmitter } from 'node:events';
import { Bonjour, type Service } from 'bonjour-service';
import { PROTOCOL_VERSION } from '../protocol/wire.js';

/** The service type peers publish and browse. */
export const SERVICE_TYPE = 'microspark';

/** Options of {@link MdnsDiscovery.start}. */
export interface MdnsOptions {
  /** The cluster id (see deriveClusterId): peers of other clusters are ignored. */
  readonly clusterId: string;
  /** This peer's node id and incarnation (its own announcements are ignored). */
  readonly node: string;
  readonly incarnation: number;
  /** Publish this peer's partition server (workers do; clients only browse). */
  readonly publish?: {
    readonly rpcPort: number;
    readonly pubPort: number;
    readonly role: 'worker' | 'client';
  };
  /** Whether the cluster has a secret; without one mDNS stays on the loopback interface. */
  readonly authenticated: boolean;
}

/** A hint: a partition server endpoint that announced itself, with its TXT identity. */
export interface DiscoveryHint {
  readonly endpoint: string;
  readonly node: string;
  readonly role: string;
}

/** mDNS publishing and browsing (see module doc). */
export class MdnsDiscovery extends EventEmitter<{ hint: [DiscoveryHint]; warning: [unknown] }> {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly bonjour: Bonjour,
    private readonly options: MdnsOptions,
  ) {
    super();
  }

  /** Starts publishing (if asked) and browsing. */
  static start(options: MdnsOptions): MdnsDiscovery {
    const ref: { d?: MdnsDiscovery } = {};
    // Loopback only without a secret: the multicast interface and membership are 127.0.0.1.
    const mdnsOptions = options.authenticated ? {} : { interface: '127.0.0.1', loopback: true };
    // bonjour-service types these as service defaults; they are multicast-dns options at runtime.
    const bonjour = new Bonjour(mdnsOptions as never, (err: unknown) => ref.d?.emit('warning', err));
    const d = new MdnsDiscovery(bonjour, options);
    ref.d = d;
    if (options.publish) {
      bonjour.publish({
        name: `microspark-${options.node.slice(0, 8)}-${options.incarnation}`,
        type: SERVICE_TYPE,
        port: options.publish.rpcPort,
        disableIPv6: true,
        txt: {
          node: options.node,
          inc: String(options.incarnation),
          cluster: options.clusterId,
          proto: String(PROTOCOL_VERSION),
          rpc: String(options.publish.rpcPort),
          pub: String(options.publish.pubPort),
          role: options.publish.role,
        },
      });
    }
    const browser = bonjour.find({ type: SERVICE_TYPE });
    browser.on('up', (s: Service) => d.onService(s));
    browser.on('srv-update', (s: Service) => d.onService(s));
    // Ask again now and then: announcements are lossy and peers come and go.
    d.timer = setInterval(() => browser.update(), 3000);
    d.timer.unref();
    return d;
  }

  private onService(s: Service): void {
    const txt = (s.txt ?? {}) as Record<string, string>;
    if (txt.cluster !== this.options.clusterId || txt.proto !== String(PROTOCOL_VERSION)) return;
    if (txt.node === this.options.node || !txt.node || !txt.rpc) return;
    const addresses = (s.addresses ?? []).filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    const address = addresses.find((a) => !a.startsWith('127.')) ?? addresses[0] ?? s.referer?.address;
    if (!address) return;
    this.emit('hint', {
      endpoint: `tcp://${address}:${txt.rpc}`,
      node: txt.node,
      role: txt.role ?? 'worker',
    });
  }

  /** Unpublishes (goodbye packets) and stops browsing. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await new Promise<void>((resolve) => {
      this.bonjour.unpublishAll(() => resolve());
      setTimeout(resolve, 500).unref();
    });
    this.bonjour.destroy();
  }
}
