import { malformedDer } from './errors.js';
import { TAG } from './tags.js';

/**
 * OBJECT IDENTIFIER values (X.690 §8.19), both ways. Arcs may exceed 2^53 (UUID arcs under 2.25,
 * X.667, such as Chancery's own), so they are computed as BigInt. The same few dozen OIDs recur
 * in every certificate and envelope, so both directions are cached; the caches are bounded
 * because the decoded side is keyed by hostile input.
 */

const CACHE_LIMIT = 512;
const decoded = new Map<string, string>();
const encoded = new Map<string, Buffer>();

/** Longest OID contents accepted when reading: far above any real OID, small enough to be cheap. */
export const MAX_OID_CONTENTS = 64;

/**
 * Dotted-decimal form of an OBJECT IDENTIFIER's contents octets. MUST refuse (DerError) empty or
 * oversized contents, a sub-identifier with a leading 0x80 octet (X.690 §8.19.2: "the leading
 * octet of the subidentifier shall not have the value 0x80") and one cut off by the end.
 */
export function decodeOid(contents: Uint8Array, what: string): string {
  if (contents.length === 0 || contents.length > MAX_OID_CONTENTS) throw malformedDer(`${what} is not a valid object identifier`);
  const key = Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength).toString('latin1');
  const known = decoded.get(key);
  if (known !== undefined) return known;
  const oid = decodeArcs(contents, what);
  if (decoded.size >= CACHE_LIMIT) decoded.clear();
  decoded.set(key, oid);
  return oid;
}

function decodeArcs(v: Uint8Array, what: string): string {
  const arcs: bigint[] = [];
  let acc = 0n;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) throw malformedDer(`${what} has a non-minimal object identifier arc`);
    started = true;
    acc = (acc << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0n;
      started = false;
    } else if (i === v.length - 1) {
      throw malformedDer(`${what} ends inside an object identifier arc`);
    }
  }
  // X.690 §8.19.4: the first sub-identifier is 40 × arc1 + arc2, arc1 ∈ {0, 1, 2}.
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** The complete DER OBJECT IDENTIFIER (tag, length, contents) of a dotted OID; cached. */
export function encodeOid(dotted: string): Buffer {
  const cached = encoded.get(dotted);
  if (cached !== undefined) return cached;
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`not an OID: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(Number(n & 0x7fn));
      n >>= 7n;
    } while (n > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  // Any real OID is under 128 octets (short length form); the long form is there for completeness.
  const length =
    bytes.length < 0x80 ? [bytes.length] : bytes.length < 0x100 ? [0x81, bytes.length] : [0x82, bytes.length >> 8, bytes.length & 0xff];
  const tlv = Buffer.from([TAG.OID, ...length, ...bytes]);
  if (encoded.size >= CACHE_LIMIT) encoded.clear();
  encoded.set(dotted, tlv);
  return tlv;
}
