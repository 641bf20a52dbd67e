/**
 * The one msgpack codec every peer uses for tasks, results and blocks.
 *
 * Safe options: no record structures (nothing from the wire can define shapes), no structured
 * clone (no references or cycles), Sets/typed arrays/Dates/Buffers preserved. JavaScript `Map`s
 * travel as msgpack maps and decode as plain objects, so keys must be strings: the engine's own
 * results that are Maps (`collectAsMap`, `countByKey`, …) are rebuilt on the client from arrays.
 */
import { Packr } from 'msgpackr';
import './extensions.js';

const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: true,
  int64AsType: 'auto' as 'number', // 'auto': safe integers as numbers, larger ones as bigint
  largeBigIntToFloat: false,
});

/** Encodes a value to msgpack bytes. Throws on values msgpack cannot represent (symbols, cycles). */
export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes msgpack bytes produced by {@link encode}. */
export function decode<T = unknown>(bytes: Uint8Array): T {
  // Through a Buffer view (no copy), so binary values always decode as Buffers.
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return packr.unpack(view) as T;
}
