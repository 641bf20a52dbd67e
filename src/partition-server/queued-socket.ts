/**
 * A send queue owned by one ZeroMQ socket.
 *
 * zeromq.js allows one pending `send` per socket (a second one rejects with EBUSY), so every
 * writer of a socket goes through one {@link QueuedSender}: callers enqueue without awaiting, and a
 * single pump awaits `socket.send` one message at a time. The queue is bounded: when the peer is
 * slow or gone, new messages are dropped and counted instead of growing memory without limit.
 */
import type * as zmq from 'zeromq';

/** One frame of a multipart message. */
export type Frame = Buffer | Uint8Array | string;

/** A socket a {@link QueuedSender} can own: Dealer, Router, Publisher, … */
export type WritableSocket = zmq.Writable & { close(): void; readonly closed: boolean };

/** Default bound of {@link QueuedSenderOptions.maxQueued}. */
export const DEFAULT_MAX_QUEUED = 10_000;

export interface QueuedSenderOptions {
  /** Messages accepted but not yet handed to the socket (the one in flight included). */
  maxQueued?: number;
  /** Called for each message whose `socket.send` rejected (not after {@link QueuedSender.close}). */
  onError?: (err: unknown, frames: readonly Frame[]) => void;
}

export class QueuedSender {
  readonly maxQueued: number;
  private readonly onError: ((err: unknown, frames: readonly Frame[]) => void) | undefined;
  // A deque as an array and a head index: shift() on a 10k-element array copies.
  private queue: (readonly Frame[])[] = [];
  private head = 0;
  private pumping = false;
  private closedFlag = false;
  private flushWaiters: (() => void)[] = [];
  private sentCount = 0;
  private droppedCount = 0;
  private failedCount = 0;

  constructor(
    readonly socket: WritableSocket,
    options: QueuedSenderOptions = {},
  ) {
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isInteger(maxQueued) || maxQueued < 1)
      throw new RangeError(`maxQueued must be a positive integer, got ${maxQueued}`);
    this.maxQueued = maxQueued;
    this.onError = options.onError;
  }

  /** Messages the socket accepted (queued in ZeroMQ; delivery is ZeroMQ's business). */
  get sent(): number {
    return this.sentCount;
  }
  /** Messages refused by {@link send} (queue full, or sender closed). */
  get dropped(): number {
    return this.droppedCount;
  }
  /** Messages whose `socket.send` rejected. */
  get failed(): number {
    return this.failedCount;
  }
  /** Messages accepted and not yet sent, the one in flight included. */
  get queued(): number {
    return this.queue.length - this.head;
  }
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Enqueues a message and returns at once. Returns false, and counts a drop, when the queue
   * holds `maxQueued` messages or the sender is closed. Frames must not be mutated until sent.
   */
  send(frames: Frame[]): boolean {
    if (this.closedFlag || this.queued >= this.maxQueued) {
      this.droppedCount++;
      return false;
    }
    this.queue.push(frames);
    // The pump runs synchronously up to its first await, so an idle socket sends right here.
    if (!this.pumping) void this.pump();
    return true;
  }

  /** Resolves when every accepted message was handed to the socket (or the sender closed). */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.queued === 0 || this.closedFlag) return Promise.resolve();
    const { signal } = options;
    return new Promise<void>((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract: the caller's reason, as given
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== done);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- AbortSignal contract: the caller's reason, as given
        reject(signal?.reason);
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.flushWaiters.push(done);
    });
  }

  /** Discards queued messages, closes the socket and resolves pending flushes. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.queue = [];
    this.head = 0;
    this.socket.close();
    this.wakeFlushers();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.closedFlag && this.head < this.queue.length) {
        const frames = this.queue[this.head] as readonly Frame[];
        try {
          // zeromq's `send` accepts a mutable array; it does not modify it.
          await this.socket.send(frames as Frame[]);
          this.sentCount++;
        } catch (err) {
          if (!this.closedFlag) {
            this.failedCount++;
            this.report(err, frames);
          }
        }
        if (this.closedFlag) break;
        this.queue[this.head++] = undefined as never; // release the frames
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.pumping = false;
      if (this.queued === 0) this.wakeFlushers();
    }
  }

  private report(err: unknown, frames: readonly Frame[]): void {
    try {
      this.onError?.(err, frames);
    } catch {
      // A throwing callback must not stop the pump; the failure is already counted.
    }
  }

  private wakeFlushers(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }
}
