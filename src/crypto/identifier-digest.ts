import { createHash } from 'node:crypto';

/**
 * Hashes used as identifiers, never for signatures: OCSP CertID issuer hashes (RFC 6960 §4.1.1,
 * where clients such as openssl still send SHA-1), the OCSP ResponderID byKey (SHA-1 by
 * definition, RFC 6960 §4.2.1) and key identifiers.
 */
export type IdentifierHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export function identifierDigest(algorithm: IdentifierHash, data: Uint8Array): Buffer {
  return createHash(algorithm).update(data).digest();
}
