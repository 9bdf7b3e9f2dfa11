import { createHash, hash, randomBytes as nodeRandomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** SHA-256 of the concatenation of `parts` (bytes or UTF-8 strings), without building it. */
export function sha256(...parts: Array<Uint8Array | string>): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Digest by a hash name node understands ('sha256', 'sha384', 'sha512'); one-shot, so cheap on short inputs. */
export function digest(algorithm: 'sha256' | 'sha384' | 'sha512', data: Uint8Array | string): Buffer {
  return hash(algorithm, data, 'buffer');
}

/**
 * Hashes used as identifiers, never for signatures: OCSP CertID issuer hashes (RFC 6960 §4.1.1,
 * where clients such as openssl still send SHA-1), the OCSP ResponderID byKey (SHA-1 by
 * definition, RFC 6960 §4.2.1) and key identifiers.
 */
export type IdentifierHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export function identifierDigest(algorithm: IdentifierHash, data: Uint8Array): Buffer {
  return createHash(algorithm).update(data).digest();
}

/** Cryptographically secure random bytes. */
export function randomBytes(length: number): Buffer {
  return nodeRandomBytes(length);
}

/** Constant-time equality; false (not an exception) when the lengths differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A random (version 4) UUID in lowercase (RFC 9562 §5.4), from node's buffered CSPRNG. */
export function randomUuid(): string {
  return randomUUID();
}
