import { X509Certificate, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Key types Chancery generates and accepts. */
export type KeyAlgorithm = 'P-256' | 'P-384' | 'Ed25519' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';

/** What a public key is, as far as algorithm policy cares. */
export type KeyDescription =
  | { type: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' | string }
  | { type: 'ed25519' }
  | { type: 'rsa'; bits: number }
  | { type: 'rsa-pss'; bits: number }
  | { type: string };

/** Generates a key pair of one of the supported kinds. */
export function generateKeyPair(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case 'P-256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'P-384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'Ed25519':
      return generateKeyPairSync('ed25519');
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(4)), publicExponent: 0x10001 });
  }
}

/**
 * Imports a DER SubjectPublicKeyInfo; a malformed one is a coded error, not an exception.
 * An uncompressed P-256 or P-384 point goes in as a JWK, which OpenSSL 3.0 decodes about twice as
 * fast as DER (measured 65 µs vs 120 µs here); it still checks that the point is on the curve.
 * The JWK path is taken only when the SPKI is exactly
 * `SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 04‖X‖Y }`.
 */
export function importSpki(spki: Uint8Array): KeyObject {
  const ec = uncompressedEcPoint(spki);
  if (ec !== undefined) {
    try {
      const x = Buffer.from(ec.point.subarray(1, 1 + ec.size)).toString('base64url');
      const y = Buffer.from(ec.point.subarray(1 + ec.size)).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: ec.crv, x, y }, format: 'jwk' });
    } catch {
      // not on the curve, say: let the DER path produce the coded error
    }
  }
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CryptoError('ERR_CRYPTO_KEY_INVALID', `the public key cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

// DER prefixes of the SubjectPublicKeyInfo of an uncompressed point, up to and including the 0x04.
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const P384_SPKI_PREFIX = Buffer.from('3076301006072a8648ce3d020106052b8104002203620004', 'hex');

function uncompressedEcPoint(spki: Uint8Array): { crv: 'P-256' | 'P-384'; point: Uint8Array; size: number } | undefined {
  const bytes = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  if (bytes.length === P256_SPKI_PREFIX.length + 64 && bytes.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) {
    return { crv: 'P-256', point: bytes.subarray(P256_SPKI_PREFIX.length - 1), size: 32 };
  }
  if (bytes.length === P384_SPKI_PREFIX.length + 96 && bytes.subarray(0, P384_SPKI_PREFIX.length).equals(P384_SPKI_PREFIX)) {
    return { crv: 'P-384', point: bytes.subarray(P384_SPKI_PREFIX.length - 1), size: 48 };
  }
  return undefined;
}

/** Exports a public key as DER SubjectPublicKeyInfo. */
export function exportSpki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

/**
 * True when `certificate` (DER) certifies `publicKey`: the same SubjectPublicKeyInfo. Undefined when
 * the bytes are not a certificate this runtime can read.
 */
export function certifiesKey(certificate: Uint8Array, publicKey: KeyObject): boolean | undefined {
  let certified: KeyObject;
  try {
    certified = new X509Certificate(certificate).publicKey;
  } catch {
    return undefined;
  }
  return exportSpki(certified).equals(exportSpki(publicKey));
}

/** Type, curve or size of a public (or private) key. */
export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = details.namedCurve;
      const name =
        curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : (curve ?? 'unknown');
      return { type: 'ec', curve: name };
    }
    case 'ed25519':
      return { type: 'ed25519' };
    case 'rsa':
      return { type: 'rsa', bits: details.modulusLength ?? 0 };
    case 'rsa-pss':
      return { type: 'rsa-pss', bits: details.modulusLength ?? 0 };
    default:
      return { type: key.asymmetricKeyType ?? 'unknown' };
  }
}
