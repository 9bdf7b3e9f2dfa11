import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of the given bytes (or UTF-8 string). */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Digest by a hash name node understands ('sha256', 'sha384', 'sha512'). */
export function digest(algorithm: 'sha256' | 'sha384' | 'sha512', data: Uint8Array | string): Buffer {
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
