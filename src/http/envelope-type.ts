import { HttpError } from './errors.js';

const CMS_TYPES = new Set(['application/cms', 'application/pkcs7-mime']);
const JWS_TYPES = new Set(['application/jose+json', 'application/jose']);

/**
 * Refuses an envelope whose bytes plainly contradict the media type it was sent with — JSON text
 * sent as DER CMS, or DER sent as a JWS — naming the type the bytes need. Without this the
 * verifier reports the wrong format as malformed ("the JWS envelope is malformed"), which sends
 * the sender looking in the wrong place.
 */
export function checkEnvelopeMediaType(type: string | undefined, bytes: Uint8Array): void {
  if (type === undefined) return;
  const first = firstNonSpace(bytes);
  if (CMS_TYPES.has(type) && first !== 0x30) {
    const looksJws = first === 0x7b || (first !== undefined && isBase64UrlChar(first));
    throw new HttpError(
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      looksJws
        ? `Content-Type is ${type} (DER CMS SignedData), but the body is text that looks like a JWS; send a JWS as application/jose+json (JSON serialization) or application/jose (compact)`
        : `Content-Type is ${type}, but the body is not DER (a CMS SignedData starts with a SEQUENCE, byte 0x30)`,
      { detail: { declared: type, expected: looksJws ? 'application/jose+json' : undefined } },
    );
  }
  if (JWS_TYPES.has(type) && first === 0x30 && bytes.length > 1 && (bytes[1]! & 0x80) !== 0) {
    throw new HttpError(
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type is ${type} (a JWS), but the body is binary DER that looks like a CMS SignedData; send it as application/cms`,
      { detail: { declared: type, expected: 'application/cms' } },
    );
  }
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  return undefined;
}

function isBase64UrlChar(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f;
}
