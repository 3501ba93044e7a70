/**
 * How a message body is kept in the exchanges table (issue #14: "raw bodies stored compactly").
 * A phone's inventory reply is ~35 kB of XML that compresses about six to one; stored as received it
 * was most of the database and most of the pages each commit writes. So a body of BODY_PACK_MIN bytes
 * or more is kept compressed when that is smaller, and `encoding` says so ('deflate-raw'; null = the
 * bytes as received, as in every row written before migration 11). Level 1 with a 4 kB window and
 * small state: measured with the commit it joins, ~35 µs more per 18 kB fragment for a sixth of the
 * bytes (brotli quality 1 cost two to three times that for 10% fewer bytes; its state is larger). Unpacking gives the received bytes back exactly: the
 * inspector, HAR export and search see what was on the wire, byte for byte.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export type BodyEncoding = 'deflate-raw' | null;

/** Bodies smaller than this are kept as received: compressing them saves too little to pay. */
export const BODY_PACK_MIN = 1024;

export interface PackedBody {
  bytes: Buffer;
  encoding: BodyEncoding;
  /** The size as received. */
  size: number;
}

export function packBody(body: Uint8Array): PackedBody {
  const raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (raw.length < BODY_PACK_MIN) return { bytes: Buffer.from(raw), encoding: null, size: raw.length };
  const packed = deflateRawSync(raw, { level: 1, windowBits: 12, memLevel: 5 });
  return packed.length < raw.length ? { bytes: packed, encoding: 'deflate-raw', size: raw.length } : { bytes: Buffer.from(raw), encoding: null, size: raw.length };
}

/**
 * The body as received. `size` (stored with it) bounds the output, so a damaged or altered row
 * cannot make a read expand without limit. Throws, naming `what`, for an encoding this version
 * does not know or bytes that do not unpack to `size`.
 */
export function unpackBody(bytes: Uint8Array, encoding: string | null | undefined, size: number | null | undefined, what: string): Buffer {
  const stored = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === null || encoding === undefined) return stored;
  if (encoding !== 'deflate-raw') throw new Error(`${what} is stored with encoding "${encoding}", which this LocalDLS cannot read: use a newer LocalDLS`);
  if (size === null || size === undefined || !Number.isInteger(size) || size < 0) throw new Error(`${what} is compressed but its size is not recorded: the database is damaged`);
  let out: Buffer;
  try {
    out = inflateRawSync(stored, { maxOutputLength: Math.max(1, size) });
  } catch (e) {
    throw new Error(`${what} does not unpack (${(e as Error).message}): the database is damaged`);
  }
  if (out.length !== size) throw new Error(`${what} unpacks to ${out.length} bytes, not the ${size} recorded: the database is damaged`);
  return out;
}
