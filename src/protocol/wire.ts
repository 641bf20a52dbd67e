/**
 * Framing shared by every ZeroMQ message a peer sends: a 5-byte header (`MSPK` + protocol
 * version) as the first frame, then the message's own frames, all together at most
 * {@link MAX_MESSAGE_BYTES}. Decoding never throws: a peer drops and counts what it cannot read.
 */
import { SerializationError } from './errors.js';

/** The four bytes every message starts with. */
export const PROTOCOL_SIGNATURE: Readonly<Buffer> = Buffer.from('MSPK', 'latin1');

/** The protocol version carried in the header's fifth byte. */
export const PROTOCOL_VERSION = 4;

/** Length of the header frame: the signature and one version byte. */
export const HEADER_BYTES = PROTOCOL_SIGNATURE.length + 1;

/** Default cap on the total size of one message (header and all frames). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const HEADER: Buffer = Buffer.concat([PROTOCOL_SIGNATURE, Buffer.from([PROTOCOL_VERSION])]);

/** Why {@link decodeFrames} refused a message. */
export type MalformedReason = 'frame-count' | 'signature' | 'version' | 'oversize';

/** Result of {@link decodeFrames}: the frames after the header, or why they were refused. */
export type DecodedFrames = { ok: true; frames: Buffer[] } | { ok: false; reason: MalformedReason };

export interface FrameOptions {
  /** Maximum total bytes of the message, header included (default {@link MAX_MESSAGE_BYTES}). */
  maxMessageBytes?: number;
}

/**
 * Prepends the header frame to `frames`. Throws {@link SerializationError} when the message would
 * exceed `maxMessageBytes`: the sender finds out, not the receiver. The header buffer is shared
 * and must not be mutated.
 */
export function encodeFrames(frames: readonly Buffer[], options: FrameOptions = {}): Buffer[] {
  const max = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  let total = HEADER.length;
  for (const f of frames) total += f.length;
  if (total > max)
    throw new SerializationError(`message of ${total} bytes exceeds the maximum of ${max} bytes`);
  return [HEADER, ...frames];
}

/**
 * Checks the header frame and the total size, and returns the frames after the header.
 * `expectedFrames` (frames after the header) is checked when given. Never throws.
 */
export function decodeFrames(
  frames: readonly Buffer[],
  options: FrameOptions & { expectedFrames?: number } = {},
): DecodedFrames {
  const max = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const header = frames[0];
  if (header === undefined) return { ok: false, reason: 'frame-count' };
  if (options.expectedFrames !== undefined && frames.length !== options.expectedFrames + 1)
    return { ok: false, reason: 'frame-count' };
  if (
    header.length !== HEADER_BYTES ||
    !header.subarray(0, PROTOCOL_SIGNATURE.length).equals(PROTOCOL_SIGNATURE)
  )
    return { ok: false, reason: 'signature' };
  if (header[PROTOCOL_SIGNATURE.length] !== PROTOCOL_VERSION) return { ok: false, reason: 'version' };
  let total = 0;
  for (const f of frames) total += f.length;
  if (total > max) return { ok: false, reason: 'oversize' };
  return { ok: true, frames: frames.slice(1) };
}
