import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

/** Key types Chancery generates and accepts (DESIGN.md § Certificates). */
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

/** Imports a DER SubjectPublicKeyInfo; a malformed one is a coded error, not an exception. */
export function importSpki(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CryptoError('ERR_CRYPTO_KEY_INVALID', `the public key cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

/** Exports a public key as DER SubjectPublicKeyInfo. */
export function exportSpki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

/** Type, curve or size of a public (or private) key. */
export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = details.namedCurve;
      const name = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : (curve ?? 'unknown');
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
