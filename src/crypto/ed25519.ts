import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { importSpki } from './keys.js';
import { verifySignature } from './signature.js';
import { keyObjectSigner, type Signer } from './signer.js';

/**
 * Raw Ed25519 keys (RFC 8032 32-byte encodings) as C2SP signed notes carry them. DER wrappers
 * are fixed prefixes: SubjectPublicKeyInfo (RFC 8410 §4) and PKCS#8 PrivateKeyInfo (RFC 8410 §7).
 */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** A public KeyObject from the raw 32-byte Ed25519 public key. */
export function importEd25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new CryptoError('ERR_CRYPTO_KEY_INVALID', `an Ed25519 public key is 32 bytes, not ${raw.length}`);
  }
  return importSpki(Buffer.concat([SPKI_PREFIX, raw]));
}

/** The raw 32-byte public key of an Ed25519 public KeyObject. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new CryptoError('ERR_CRYPTO_KEY_UNSUPPORTED', `expected an Ed25519 public key, got ${key.type} ${key.asymmetricKeyType ?? ''}`);
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - ED25519_PUBLIC_KEY_BYTES));
}

/** True only for a valid Ed25519 signature (RFC 8032, OpenSSL) of `data` by `publicKey`. */
export function verifyEd25519(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return verifySignature({ kind: 'ed25519' }, publicKey, data, signature);
}

/**
 * A Signer over an Ed25519 key given as its 32-byte seed. For published test keys (C2SP note
 * vectors) and tools; Chancery's own keys live in a KeyStore.
 */
export function ed25519SignerFromSeed(name: string, seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new CryptoError('ERR_CRYPTO_KEY_INVALID', `an Ed25519 seed is 32 bytes, not ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return keyObjectSigner(name, privateKey, publicKey, 'EdDSA');
}
