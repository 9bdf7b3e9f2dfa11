/**
 * A minimal DER writer (X.690 §10) for the envelopes Chancery builds. Callers pass already-encoded
 * children, so original bytes (certificates, a parent's signed attributes) are embedded verbatim.
 * SET OF is sorted as DER requires (X.690 §11.6) — pkijs keeps the caller's order (pkijs #402),
 * which makes other verifiers reject the signature.
 */

/** TLV with a single-octet tag and a definite, minimal length. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const value = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function sequence(...children: Uint8Array[]): Buffer {
  return tlv(0x30, ...children);
}

/** SET OF: the encodings in ascending order, compared as octet strings padded with zeros. */
export function setOf(...children: Uint8Array[]): Buffer {
  return tlv(0x31, ...sortDer(children));
}

/** [n] EXPLICIT (constructed) wrapper. */
export function explicit(n: number, ...children: Uint8Array[]): Buffer {
  return tlv(0xa0 + n, ...children);
}

/** [n] IMPLICIT over a constructed type: the same contents with a context tag. */
export function implicitConstructed(n: number, ...children: Uint8Array[]): Buffer {
  return tlv(0xa0 + n, ...children);
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(0x04, bytes);
}

export function nullValue(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** A non-negative INTEGER from a small number. */
export function integer(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`integer ${n} is not a small non-negative integer`);
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  if ((bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** An INTEGER whose contents are given as they appear in a certificate (already minimal). */
export function integerFromContents(contents: Uint8Array): Buffer {
  return tlv(0x02, contents);
}

/** OBJECT IDENTIFIER; arcs may exceed 2^53 (UUID arcs under 2.25, X.667), so BigInt is used. */
export function oid(dotted: string): Buffer {
  if (!/^[0-2](\.\d+)+$/.test(dotted)) throw new RangeError(`"${dotted}" is not a dotted object identifier`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (value: bigint): void => {
    const chunk: number[] = [Number(value & 0x7fn)];
    value >>= 7n;
    while (value > 0n) {
      chunk.unshift(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    out.push(...chunk);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Buffer.from(out));
}

/** AlgorithmIdentifier with absent parameters (the form RFC 5754 / RFC 5758 want for SHA-2 and ECDSA). */
export function algorithmIdentifier(dotted: string, parameters?: Uint8Array): Buffer {
  return parameters === undefined ? sequence(oid(dotted)) : sequence(oid(dotted), parameters);
}

/**
 * Signing time as RFC 5652 §11.3 wants it: UTCTime for 1950–2049, GeneralizedTime otherwise;
 * whole seconds, UTC.
 */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const year = date.getUTCFullYear();
  const tail = `${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  if (year >= 1950 && year <= 2049) return tlv(0x17, Buffer.from(`${String(year % 100).padStart(2, '0')}${tail}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${String(year).padStart(4, '0')}${tail}`, 'latin1'));
}

export function sortDer(children: Uint8Array[]): Uint8Array[] {
  return [...children].sort(compareDer);
}

function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  while (length > 0) {
    bytes.unshift(length & 0xff);
    length = Math.floor(length / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
