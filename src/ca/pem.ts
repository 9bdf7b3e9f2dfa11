/** PEM (RFC 7468) encoding and strict decoding. */

/** PEM text of one DER object, 64-column base64 lines. */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text` whose label is one of `labels`, decoded. Returns undefined when a
 * block's body is not strict base64 (RFC 7468 §3 "strict" text, whitespace between lines only).
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

/** True when the bytes look like PEM text rather than DER. */
export function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN ');
}
