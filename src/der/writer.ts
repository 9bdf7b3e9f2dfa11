import { encodeOid } from './oid.js';
import { TAG } from './tags.js';

/**
 * A minimal DER writer (X.690 §10) for the hot paths of the CA and the signers: certificates,
 * CRLs, OCSP responses and CMS envelopes are assembled from pre-encoded constant parts and a few
 * variable fields, which is several times faster than building object trees. Every function
 * returns one complete TLV in a fresh buffer. Functions taking `...items` are for a fixed,
 * small number of fields; wherever the number of items comes from data (CRL entries,
 * certificate lists, extensions, names), use the array forms (`sequenceOf`, `sortedSetOf`,
 * `tlvOf`): spreading a large array into a call overflows the stack (~60k+ items).
 */

/** Octets the identifier and length take for `length` content octets (X.690 §8.1.3, definite form). */
function headerLength(length: number): number {
  if (length < 0x80) return 2;
  let n = 1;
  for (let rest = length; rest > 0xff; rest = Math.floor(rest / 256)) n++;
  return 2 + n;
}

function writeHeader(out: Buffer, tag: number, length: number, size: number): void {
  out[0] = tag;
  if (size === 2) {
    out[1] = length;
    return;
  }
  const n = size - 2;
  out[1] = 0x80 | n;
  for (let i = size - 1, rest = length; i >= 2; i--, rest = Math.floor(rest / 256)) out[i] = rest & 0xff;
}

/** DER identifier and length octets for a tag and a content length (the minimal length form, X.690 §10.1). */
export function encodeHeader(tag: number, length: number): Buffer {
  const size = headerLength(length);
  const out = Buffer.allocUnsafe(size);
  writeHeader(out, tag, length, size);
  return out;
}

/** One TLV with the given tag octet around the concatenated `contents` (an array of any length). */
export function tlvOf(tag: number, contents: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const c of contents) length += c.length;
  const size = headerLength(length);
  // Every octet is written below (header, then each content in turn): no stale pool memory survives.
  const out = Buffer.allocUnsafe(size + length);
  writeHeader(out, tag, length, size);
  let at = size;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One TLV around a few contents; data-driven lists go through `tlvOf`. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  return tlvOf(tag, contents);
}

/** SEQUENCE of a fixed, small number of fields. */
export const sequence = (...items: Uint8Array[]): Buffer => tlvOf(TAG.SEQUENCE, items);

/** SEQUENCE (OF) of any number of encoded items, in the given order. */
export const sequenceOf = (items: readonly Uint8Array[]): Buffer => tlvOf(TAG.SEQUENCE, items);

/** SET OF any number of encoded items: DER sorts them by their encodings (X.690 §11.6). */
export function sortedSetOf(items: readonly Uint8Array[]): Buffer {
  return tlvOf(TAG.SET, [...items].sort(Buffer.compare));
}

/** SET OF a few items, sorted (X.690 §11.6). */
export const setOf = (...items: Uint8Array[]): Buffer => sortedSetOf(items);

/** [n] EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, ...contents: Uint8Array[]): Buffer => tlvOf(0xa0 | n, contents);

/** [n] IMPLICIT over a primitive value's contents. */
export const implicitPrimitive = (n: number, contents: Uint8Array): Buffer => tlvOf(0x80 | n, [contents]);

/** NULL (X.690 §8.8: no contents octets). */
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);

/** BOOLEAN: DER writes TRUE as 0xff (X.690 §11.1). */
export const booleanValue = (value: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, value ? 0xff : 0]);

/** INTEGER from the big-endian magnitude of a non-negative number; minimal, positive encoding (X.690 §8.3.2). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  if (body.length === 0) return Buffer.from([TAG.INTEGER, 1, 0]);
  return body[0]! & 0x80 ? tlvOf(TAG.INTEGER, [Buffer.from([0]), body]) : tlvOf(TAG.INTEGER, [body]);
}

/** A non-negative safe integer as INTEGER (or ENUMERATED, with `tag`). */
export function smallInteger(value: number, tag: number = TAG.INTEGER): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlvOf(tag, [Buffer.from(bytes)]);
}

/** OBJECT IDENTIFIER from dotted form (cached). */
export const oid = (dotted: string): Buffer => encodeOid(dotted);

/** OCTET STRING, primitive (X.690 §10.2). */
export const octetString = (contents: Uint8Array): Buffer => tlvOf(TAG.OCTET_STRING, [contents]);

/** BIT STRING with no unused bits (signatures, keys). */
export const bitString = (contents: Uint8Array): Buffer => tlvOf(TAG.BIT_STRING, [Buffer.from([0]), contents]);
