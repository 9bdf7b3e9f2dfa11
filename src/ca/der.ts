/**
 * A minimal DER writer (X.690 §10) for the hot paths of the CA: certificates, CRLs and OCSP
 * responses are assembled from pre-encoded constant parts and a few variable fields, which is
 * several times faster than building object trees. Every function returns complete TLVs.
 */

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte around the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const length = contents.reduce((n, c) => n + c.length, 0);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(length), ...contents]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, ...items);

/** SET OF: DER sorts the encoded elements (X.690 §11.6). */
export function setOf(...items: Uint8Array[]): Buffer {
  return tlv(TAG.set, ...[...items].sort(Buffer.compare));
}

/** [n] EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);

/** [n] IMPLICIT over a primitive value's contents. */
export const implicitPrimitive = (n: number, contents: Uint8Array): Buffer => tlv(0x80 | n, contents);

export const nullValue = (): Buffer => Buffer.from([TAG.null, 0]);

export const booleanValue = (value: boolean): Buffer => Buffer.from([TAG.boolean, 1, value ? 0xff : 0]);

/** INTEGER from the big-endian magnitude of a non-negative number; minimal, positive encoding. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = Buffer.from(magnitude.subarray(start));
  if (body.length === 0) return Buffer.from([TAG.integer, 1, 0]);
  return body[0]! & 0x80 ? tlv(TAG.integer, Buffer.from([0]), body) : tlv(TAG.integer, body);
}

export function smallInteger(value: number, tag: number = TAG.integer): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(tag, Buffer.from(bytes));
}

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted form (cached: the CA uses a fixed handful). */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached !== undefined) return cached;
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`not an OID: ${dotted}`);
  const first = arcs[0]! * 40n + arcs[1]!;
  const bytes: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(Number(n & 0x7fn));
      n >>= 7n;
    } while (n > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  const encoded = tlv(TAG.oid, Buffer.from(bytes));
  oidCache.set(dotted, encoded);
  return encoded;
}

export const octetString = (contents: Uint8Array): Buffer => tlv(TAG.octetString, contents);

/** BIT STRING with no unused bits (signatures, keys). */
export const bitString = (contents: Uint8Array): Buffer => tlv(TAG.bitString, Buffer.from([0]), contents);

export const utf8String = (value: string): Buffer => tlv(TAG.utf8String, Buffer.from(value, 'utf8'));
export const printableString = (value: string): Buffer => tlv(TAG.printableString, Buffer.from(value, 'latin1'));
export const ia5String = (value: string): Buffer => tlv(TAG.ia5String, Buffer.from(value, 'latin1'));

/** X.680 PrintableString repertoire. */
export const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** GeneralizedTime YYYYMMDDHHMMSSZ (whole seconds, UTC). */
export function generalizedTime(date: Date): Buffer {
  return tlv(TAG.generalizedTime, Buffer.from(date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z'), 'latin1'));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) {
    return tlv(TAG.utcTime, Buffer.from(date.toISOString().slice(2).replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z'), 'latin1'));
  }
  return generalizedTime(date);
}

/**
 * Reads one TLV at `offset` (definite lengths only, as DER requires): its tag, where its
 * contents start and where it ends. Throws RangeError on anything truncated or non-minimal.
 */
export function readTlv(bytes: Uint8Array, offset = 0): { tag: number; start: number; end: number } {
  if (offset + 2 > bytes.length) throw new RangeError('truncated DER');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('high-tag-number form is not used here');
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('indefinite or oversized DER length');
    if (start + count > bytes.length) throw new RangeError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!;
    if (length < 0x80 || bytes[start] === 0) throw new RangeError('non-minimal DER length');
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new RangeError('truncated DER value');
  return { tag, start, end };
}

/** Dotted form of an OBJECT IDENTIFIER's contents (arcs of any size). */
export function decodeOid(contents: Uint8Array): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of contents) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80n ? value / 40n : 2n;
        arcs.push(first, value - first * 40n);
      } else {
        arcs.push(value);
      }
      value = 0n;
    }
  }
  if (contents.length === 0 || (contents[contents.length - 1]! & 0x80) !== 0) throw new RangeError('truncated OBJECT IDENTIFIER');
  return arcs.join('.');
}

/** The elements inside a constructed TLV's contents, each checked to end within it. */
export function children(bytes: Uint8Array, parent: { start: number; end: number }): Array<{ tag: number; start: number; end: number; offset: number }> {
  const out: Array<{ tag: number; start: number; end: number; offset: number }> = [];
  for (let at = parent.start; at < parent.end; ) {
    const el = readTlv(bytes, at);
    if (el.end > parent.end) throw new RangeError('element overruns its parent');
    out.push({ ...el, offset: at });
    at = el.end;
  }
  return out;
}

/** Text of a directory string (UTF8String, PrintableString, IA5String, T61String, BMPString, UniversalString). */
export function decodeDirectoryString(tag: number, contents: Uint8Array): string | undefined {
  const bytes = Buffer.from(contents);
  switch (tag) {
    case TAG.utf8String:
      return bytes.toString('utf8');
    case TAG.printableString:
    case TAG.ia5String:
    case 0x14: // T61String: read as Latin-1, as most software does
      return bytes.toString('latin1');
    case 0x1e: // BMPString: UTF-16BE
      return bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : undefined;
    case 0x1c: {
      // UniversalString: UTF-32BE
      if (bytes.length % 4 !== 0) return undefined;
      let s = '';
      for (let i = 0; i < bytes.length; i += 4) s += String.fromCodePoint(bytes.readUInt32BE(i));
      return s;
    }
    default:
      return undefined;
  }
}
