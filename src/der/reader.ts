import { malformedDer as malformed } from './errors.js';
import { decodeOid } from './oid.js';
import { TAG } from './tags.js';
import { decodeTime } from './time.js';

/**
 * A strict, lazy DER reader (X.690 §10) for everything Chancery reads: certificates, CRLs, CSRs,
 * OCSP, CMS envelopes. Hostile input is parsed here, so every rule is an explicit refusal with
 * a DerError (ERR_DER_MALFORMED): definite lengths only (no BER indefinite form, §10.1), minimal
 * length octets (§10.1), single-octet tags, no trailing bytes, bounded nesting. Elements keep
 * their original bytes: signatures cover the signed attributes and TBS structures exactly as
 * sent (RFC 5652 §5.4, RFC 5280 §4.1.1.3) and the ESS certHash covers the certificate exactly as
 * sent (RFC 5035 §5.4), so nothing may be re-encoded.
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

/** Deepest nesting the structures Chancery reads can need (with margin); deeper is refused. */
export const MAX_DER_DEPTH = 32;

/** Reads exactly one element filling `input`; anything left over is refused. */
export function readDer(input: Uint8Array, what = 'the input'): DerElement {
  // Views of a plain Uint8Array are made about twice as fast as those of a Buffer (which every
  // element needs two of): read a Buffer through a plain view of the same memory.
  const bytes = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const el = readElement(bytes, 0, 0, what);
  if (el.bytes.length !== bytes.length) {
    throw malformed(`${what} has ${bytes.length - el.bytes.length} bytes after its DER encoding`);
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

/**
 * Reads every constructed element below `el` (not the contents of primitive ones), so that the
 * whole tree is known to be DER TLVs: for bytes that are copied into something else verbatim.
 */
export function checkDerTree(el: DerElement, what: string): void {
  if ((el.tag & 0x20) === 0) return;
  for (const child of childrenOf(el, what)) checkDerTree(child, what);
}

/** Checks the tag and returns the element (for chaining). */
export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (el === undefined) throw malformed(`${what} is missing`);
  if (el.tag !== tag) throw malformed(`${what} has tag 0x${hex2(el.tag)}, expected 0x${hex2(tag)}`);
  return el;
}

/** The children of a SEQUENCE (or another constructed tag), checking the tag first. */
export function readSequence(el: DerElement | undefined, what: string, tag: number = TAG.SEQUENCE): DerElement[] {
  return childrenOf(expectTag(el, tag, what), what);
}

/** Dotted-decimal OID (X.690 §8.19), refusing non-minimal sub-identifiers; see decodeOid. */
export function readOid(el: DerElement | undefined, what: string): string {
  return decodeOid(expectTag(el, TAG.OID, what).value, what);
}

/** BOOLEAN in its DER form: one octet, 0x00 or 0xff (X.690 §11.1). */
export function readBoolean(el: DerElement | undefined, what: string): boolean {
  const v = expectTag(el, TAG.BOOLEAN, what).value;
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed(`${what} is not a DER BOOLEAN`);
  return v[0] === 0xff;
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

/** True when INTEGER contents are empty or not minimal (X.690 §8.3.2: the first nine bits are not all 0 or all 1). */
export function isNonMinimalInteger(v: Uint8Array): boolean {
  return v.length === 0 || (v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0)));
}

/** OCTET STRING contents (primitive only: DER forbids the constructed form, X.690 §10.2). */
export function readOctets(el: DerElement | undefined, what: string): Uint8Array {
  return expectTag(el, TAG.OCTET_STRING, what).value;
}

/** BIT STRING contents without the unused-bits octet, which must be 0 here. */
export function readBitStringBytes(el: DerElement | undefined, what: string): Uint8Array {
  const v = expectTag(el, TAG.BIT_STRING, what).value;
  if (v.length === 0 || v[0] !== 0) throw malformed(`${what} is not a whole-octet BIT STRING`);
  return v.subarray(1);
}

/** BIT STRING: the contents bytes and the number of unused bits in the last one (X.690 §8.6, §11.2). */
export function readBitString(el: DerElement | undefined, what: string): { bytes: Uint8Array; unusedBits: number } {
  const v = expectTag(el, TAG.BIT_STRING, what).value;
  if (v.length === 0) throw malformed(`${what} is an empty BIT STRING`);
  const unusedBits = v[0]!;
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) throw malformed(`${what} has an invalid unused-bits count`);
  if (unusedBits > 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0) throw malformed(`${what} has non-zero unused bits (not DER)`);
  return { bytes: v.subarray(1), unusedBits };
}

/** The set bits of a named BIT STRING, by position; a set bit without a name is refused. */
export function readNamedBits<T extends string>(el: DerElement | undefined, names: readonly T[], what: string): Set<T> {
  const { bytes } = readBitString(el, what);
  const out = new Set<T>();
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) {
      const name = names[bit];
      if (name === undefined) throw malformed(`${what} sets bit ${bit}, which has no meaning`);
      out.add(name);
    }
  }
  return out;
}

/** UTCTime or GeneralizedTime in the DER profile; see decodeTime. */
export function readTime(el: DerElement | undefined, what: string): Date {
  if (el === undefined) throw malformed(`${what} is missing`);
  return decodeTime(el.tag, el.value, what);
}

/** Lowercase hex of bytes, for messages and identifiers. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
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
  if (end > buf.length)
    throw malformed(`${what} is truncated (an element declares ${length} bytes, ${buf.length - offset - header} remain)`);
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(offset + header, end), depth };
}

function checkInteger(v: Uint8Array, what: string): void {
  if (v.length === 0) throw malformed(`${what} is an empty INTEGER`);
  if (isNonMinimalInteger(v)) throw malformed(`${what} is a non-minimal INTEGER encoding`);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
