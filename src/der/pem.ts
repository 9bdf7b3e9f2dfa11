/**
 * PEM (RFC 7468) for every DER object Chancery reads or writes: one encoder, one block scanner.
 * Decoding is strict about the body (RFC 7468 §3 strict base64, whitespace allowed between
 * characters only) and lax about layout: explanatory text may surround blocks (§5.2), and a
 * block of another label is skipped whole.
 */

/** PEM text of one DER object: 64-column base64 lines (RFC 7468 §2), each ended by a newline. */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The DER of every PEM block in `text` whose label is one of `labels`, in order. Returns
 * undefined when such a block's body is empty or not strict base64: callers refuse the input
 * with their own coded error, naming what they expected.
 */
export function pemDecodeAll(text: string, labels: readonly string[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const match of text.matchAll(BLOCK)) {
    if (!labels.includes(match[1]!)) continue;
    const body = match[2]!.replace(/\s+/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !BASE64.test(body)) return undefined;
    out.push(Buffer.from(body, 'base64'));
  }
  return out;
}

/**
 * True when the bytes are PEM text rather than DER: an encapsulation boundary within the first
 * 64 octets (after any explanatory text, RFC 7468 §5.2), and not the SEQUENCE identifier 0x30
 * every DER structure read here starts with.
 */
export function looksLikePem(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes[0] === 0x30) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 64)).toString('latin1').includes('-----BEGIN ');
}
