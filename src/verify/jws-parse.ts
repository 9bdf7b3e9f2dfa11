import { parseDocument } from '../policy/document.js';
import { VerifyError } from './errors.js';

/**
 * Parsing of JWS in its three serializations (RFC 7515 §7): compact, flattened JSON and general
 * JSON, into one shape. Strict where the RFC leaves room: base64url without padding or stray
 * characters and with zero trailing bits (a JWS must have one spelling), header JSON without
 * duplicate names (§5.2), protected and unprotected header names disjoint (§7.2.1), bounded
 * sizes. Parsing decides nothing about validity.
 */

/** Largest JWS text accepted (a 1 MiB document is about 1.4 MB once base64url-encoded). */
export const MAX_JWS_BYTES = 3 * 1024 * 1024;
/** Most entries of `signatures` (the enterprise's and the officers'). */
export const MAX_JWS_SIGNATURES = 9;
/** Largest protected header (it carries `x5c`, a few certificates). */
export const MAX_JWS_HEADER_BYTES = 64 * 1024;

export type JwsSerialization = 'compact' | 'flattened' | 'general';

export interface JwsEntry {
  /** The protected header as sent (base64url), part of the signing input. */
  protectedB64: string;
  protectedHeader: Record<string, unknown>;
  /** The unprotected `header` member (JSON serializations only). */
  unprotectedHeader: Record<string, unknown> | undefined;
  signatureB64: string;
  signature: Buffer;
}

export interface ParsedJws {
  serialization: JwsSerialization;
  /** The payload as sent (base64url), or undefined for a detached payload. */
  payloadB64: string | undefined;
  payload: Buffer | undefined;
  signatures: JwsEntry[];
}

/** Parses JWS text in any serialization. Throws VerifyError ERR_VERIFY_MALFORMED. */
export function parseJws(input: Uint8Array | string): ParsedJws {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_JWS_BYTES) throw bad(`the JWS is ${size} bytes, above the limit of ${MAX_JWS_BYTES}`);
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw bad('the JWS is not valid UTF-8');
  }
  text = text.trim();
  return text.startsWith('{') ? parseJson(text) : parseCompact(text);
}

function parseCompact(text: string): ParsedJws {
  const parts = text.split('.');
  if (parts.length !== 3) throw bad(`a compact JWS has three dot-separated parts, this has ${parts.length}`);
  const [protectedB64, payloadB64, signatureB64] = parts as [string, string, string];
  const entry = readEntry(protectedB64, undefined, signatureB64, 'the JWS');
  return {
    serialization: 'compact',
    payloadB64: payloadB64 === '' ? undefined : payloadB64,
    payload: payloadB64 === '' ? undefined : decodeBase64Url(payloadB64, 'the JWS payload'),
    signatures: [entry],
  };
}

function parseJson(text: string): ParsedJws {
  const parsed = parseDocument(Buffer.from(text, 'utf8'));
  if (!parsed.ok) throw bad(`the JWS JSON cannot be read: ${parsed.reason}`);
  const obj = parsed.value;
  let serialization: JwsSerialization;
  let raw: unknown[];
  if ('signatures' in obj) {
    if ('signature' in obj || 'protected' in obj || 'header' in obj)
      throw bad('a general JWS must not also have the flattened members signature/protected/header');
    if (!Array.isArray(obj['signatures']) || obj['signatures'].length === 0) throw bad('"signatures" must be a non-empty array');
    if (obj['signatures'].length > MAX_JWS_SIGNATURES)
      throw bad(`the JWS has ${obj['signatures'].length} signatures, above the limit of ${MAX_JWS_SIGNATURES}`);
    serialization = 'general';
    raw = obj['signatures'];
  } else if ('signature' in obj) {
    serialization = 'flattened';
    raw = [{ protected: obj['protected'], header: obj['header'], signature: obj['signature'] }];
  } else {
    throw bad('the JSON is not a JWS: it has neither "signatures" nor "signature"');
  }
  for (const key of Object.keys(obj)) {
    if (!['payload', 'signatures', 'protected', 'header', 'signature'].includes(key))
      throw bad(`the JWS has an unknown member "${key.slice(0, 64)}"`);
  }
  const payloadB64 = obj['payload'];
  if (payloadB64 !== undefined && typeof payloadB64 !== 'string') throw bad('the JWS "payload" is not a string');
  const signatures = raw.map((s, i) => {
    const what = serialization === 'general' ? `signatures[${i}]` : 'the JWS';
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw bad(`${what} is not an object`);
    const e = s as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!['protected', 'header', 'signature'].includes(key)) throw bad(`${what} has an unknown member "${key.slice(0, 64)}"`);
    if (typeof e['protected'] !== 'string') throw bad(`${what} has no protected header (Chancery requires one)`);
    if (typeof e['signature'] !== 'string') throw bad(`${what} has no "signature" string`);
    const header = e['header'];
    if (header !== undefined && (header === null || typeof header !== 'object' || Array.isArray(header)))
      throw bad(`${what} "header" is not an object`);
    return readEntry(e['protected'], header as Record<string, unknown> | undefined, e['signature'], what);
  });
  return {
    serialization,
    payloadB64: payloadB64 === undefined || payloadB64 === '' ? undefined : payloadB64,
    payload: payloadB64 === undefined || payloadB64 === '' ? undefined : decodeBase64Url(payloadB64, 'the JWS payload'),
    signatures,
  };
}

function readEntry(
  protectedB64: string,
  unprotectedHeader: Record<string, unknown> | undefined,
  signatureB64: string,
  what: string,
): JwsEntry {
  if (protectedB64.length > (MAX_JWS_HEADER_BYTES * 4) / 3 + 4)
    throw bad(`${what} has a protected header above ${MAX_JWS_HEADER_BYTES} bytes`);
  if (protectedB64 === '') throw bad(`${what} has an empty protected header (Chancery requires one)`);
  const headerBytes = decodeBase64Url(protectedB64, `${what} protected header`);
  const header = parseDocument(headerBytes);
  if (!header.ok) throw bad(`${what} protected header is not a JSON object without duplicate names: ${header.reason}`);
  if (unprotectedHeader !== undefined) {
    for (const name of Object.keys(unprotectedHeader)) {
      if (name in header.value)
        throw bad(`${what} gives the header parameter "${name.slice(0, 64)}" both protected and unprotected (RFC 7515 §7.2.1)`);
    }
  }
  return {
    protectedB64,
    protectedHeader: header.value,
    unprotectedHeader,
    signatureB64,
    signature: decodeBase64Url(signatureB64, `${what} signature`),
  };
}

/**
 * base64url without padding (RFC 7515 §2, RFC 4648 §5), canonical: only the URL-safe alphabet,
 * no `=`, a length that is not 1 mod 4, and zero bits after the last whole octet.
 */
export function decodeBase64Url(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw bad(`${what} is not base64url (only A-Z a-z 0-9 - _ without padding)`);
  if (text.length % 4 === 1) throw bad(`${what} has an impossible base64url length`);
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw bad(`${what} is not canonical base64url (non-zero trailing bits)`);
  return bytes;
}

/** Standard base64 with padding, canonical (RFC 7515 §4.1.6: `x5c` entries). */
export function decodeBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw bad(`${what} is not padded base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw bad(`${what} is not canonical base64`);
  return bytes;
}

function bad(message: string): VerifyError {
  return new VerifyError('ERR_VERIFY_MALFORMED', message);
}
