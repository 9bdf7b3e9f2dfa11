import { VerifyError } from './errors.js';

/**
 * A strict, lazy DER reader for CMS envelopes (X.690 §10). Hostile input is parsed here, so every
 * rule is an explicit refusal: definite lengths only (no BER indefinite form), minimal length
 * octets, single-octet tags, no trailing bytes, bounded nesting. Elements keep their original
 * bytes: CMS signatures cover the signed attributes exactly as sent (RFC 5652 §5.4) and the ESS
 * certHash covers the certificate exactly as sent (RFC 5035 §5.4), so nothing may be re-encoded.
 *
 * Why not pkijs or @peculiar/asn1-schema: both re-encode on the way out (original bytes lost)
 * and decode whole certificates eagerly, which costs more than the signature check itself.
 */

/** One TLV. `bytes` and `value` are views into the input, never copies. */
export interface DerElement {
  /** The identifier octet, e.g. 0x30 SEQUENCE, 0xa0 [0] constructed. */
  readonly tag: number;
  /** The whole encoding (identifier, length and contents). */
  readonly bytes: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Nesting depth: 0 for the outermost element. */
  readonly depth: number;
}

/** Deepest nesting the CMS structures Chancery reads can need (with margin); deeper is refused. */
export const MAX_DER_DEPTH = 32;

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag octet: [n] constructed (0xa0 + n) or primitive (0x80 + n). */
export function contextTag(n: number, constructed: boolean): number {
  return (constructed ? 0xa0 : 0x80) + n;
}

/** Reads exactly one element filling `input`; anything left over is refused. */
export function readDer(input: Uint8Array, what = 'the input'): DerElement {
  const el = readElement(input, 0, 0, what);
  if (el.bytes.length !== input.length) {
    throw malformed(`${what} has ${input.length - el.bytes.length} bytes after its DER encoding`);
  }
  return el;
}

/** The elements inside a constructed element, in order. */
export function childrenOf(parent: DerElement, what = 'an element'): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw malformed(`${what} is primitive where a constructed encoding was expected`);
  const depth = parent.depth + 1;
  if (depth > MAX_DER_DEPTH) throw malformed(`${what} is nested deeper than ${MAX_DER_DEPTH} levels`);
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < parent.value.length) {
    const el = readElement(parent.value, offset, depth, what);
    out.push(el);
    offset += el.bytes.length;
  }
  return out;
}

/** Checks the tag and returns the element (for chaining). */
export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (el === undefined) throw malformed(`${what} is missing`);
  if (el.tag !== tag) throw malformed(`${what} has tag 0x${hex2(el.tag)}, expected 0x${hex2(tag)}`);
  return el;
}

/** The children of a SEQUENCE (or another constructed tag), checking the tag first. */
export function sequence(el: DerElement | undefined, what: string, tag: number = TAG.SEQUENCE): DerElement[] {
  return childrenOf(expectTag(el, tag, what), what);
}

/**
 * Dotted-decimal OID (X.690 §8.19), refusing non-minimal sub-identifiers. Arcs may exceed 2^53
 * (UUID arcs under 2.25, X.667, such as Chancery's own), so they are accumulated as BigInt.
 */
export function readOid(el: DerElement | undefined, what: string): string {
  const v = expectTag(el, TAG.OID, what).value;
  if (v.length === 0 || v.length > 64) throw malformed(`${what} is not a valid object identifier`);
  // The same few dozen OIDs recur in every envelope: decoded ones are kept by their exact bytes.
  const key = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  const known = oidCache.get(key);
  if (known !== undefined) return known;
  const oid = decodeOid(v, what);
  if (oidCache.size >= OID_CACHE_LIMIT) oidCache.clear();
  oidCache.set(key, oid);
  return oid;
}

const OID_CACHE_LIMIT = 512;
const oidCache = new Map<string, string>();

function decodeOid(v: Uint8Array, what: string): string {
  const arcs: bigint[] = [];
  let acc = 0n;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) throw malformed(`${what} has a non-minimal object identifier arc`);
    started = true;
    acc = (acc << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0n;
      started = false;
    } else if (i === v.length - 1) {
      throw malformed(`${what} ends inside an object identifier arc`);
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** An INTEGER's contents as lowercase hex (for serial numbers); non-minimal encodings refused. */
export function readIntegerHex(el: DerElement | undefined, what: string): string {
  const v = expectTag(el, TAG.INTEGER, what).value;
  checkInteger(v, what);
  return Buffer.from(v).toString('hex');
}

/** A small non-negative INTEGER (versions, counts). */
export function readSmallInteger(el: DerElement | undefined, what: string): number {
  const v = expectTag(el, TAG.INTEGER, what).value;
  checkInteger(v, what);
  if (v.length > 4 || (v[0]! & 0x80) !== 0) throw malformed(`${what} is not a small non-negative integer`);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** OCTET STRING contents (primitive only: DER forbids the constructed form). */
export function readOctets(el: DerElement | undefined, what: string): Uint8Array {
  return expectTag(el, TAG.OCTET_STRING, what).value;
}

/** BIT STRING contents without the unused-bits octet, which must be 0 here. */
export function readBitStringBytes(el: DerElement | undefined, what: string): Uint8Array {
  const v = expectTag(el, TAG.BIT_STRING, what).value;
  if (v.length === 0 || v[0] !== 0) throw malformed(`${what} is not a whole-octet BIT STRING`);
  return v.subarray(1);
}

/**
 * UTCTime or GeneralizedTime in the DER profile (X.690 §11.7/§11.8; RFC 5280 §4.1.2.5): UTC ("Z"),
 * seconds present, GeneralizedTime fraction without trailing zeros. UTCTime years 50–99 are 19xx.
 */
export function readTime(el: DerElement | undefined, what: string): Date {
  if (el === undefined) throw malformed(`${what} is missing`);
  const text = Buffer.from(el.value).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string[];
  let fraction = '';
  if (el.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (m === null) throw malformed(`${what} is not a DER UTCTime (YYMMDDHHMMSSZ)`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = m.slice(2, 7);
  } else if (el.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/.exec(text);
    if (m === null) throw malformed(`${what} is not a DER GeneralizedTime (YYYYMMDDHHMMSS[.f]Z)`);
    year = Number(m[1]);
    rest = m.slice(2, 7);
    fraction = m[7] ?? '';
  } else {
    throw malformed(`${what} is neither UTCTime nor GeneralizedTime`);
  }
  const [mo, d, h, mi, s] = rest.map(Number) as [number, number, number, number, number];
  const ms = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s, ms));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw malformed(`${what} is not a real date and time`);
  }
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** Lowercase hex of bytes, for messages and identifiers. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function malformed(message: string): VerifyError {
  return new VerifyError('ERR_VERIFY_MALFORMED', message);
}

function readElement(buf: Uint8Array, offset: number, depth: number, what: string): DerElement {
  if (offset >= buf.length) throw malformed(`${what} is truncated (no element where one was expected)`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed(`${what} uses a multi-octet tag, which no CMS structure here needs`);
  if (offset + 1 >= buf.length) throw malformed(`${what} is truncated (no length octet)`);
  const first = buf[offset + 1]!;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else if (first === 0x80) {
    throw malformed(`${what} uses the BER indefinite-length form; the envelope must be DER`);
  } else {
    const n = first & 0x7f;
    if (n > 4) throw malformed(`${what} declares a length of ${n} octets, larger than any accepted input`);
    if (offset + 2 + n > buf.length) throw malformed(`${what} is truncated (inside a length)`);
    if (buf[offset + 2] === 0) throw malformed(`${what} has a non-minimal length encoding (leading zero)`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
    if (length < 0x80) throw malformed(`${what} uses the long length form for a short length (not DER)`);
    header = 2 + n;
  }
  const end = offset + header + length;
  if (end > buf.length) throw malformed(`${what} is truncated (an element declares ${length} bytes, ${buf.length - offset - header} remain)`);
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(offset + header, end), depth };
}

function checkInteger(v: Uint8Array, what: string): void {
  if (v.length === 0) throw malformed(`${what} is an empty INTEGER`);
  if (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
    throw malformed(`${what} is a non-minimal INTEGER encoding`);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
