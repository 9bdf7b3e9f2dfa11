import { constants, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { describeKey } from './keys.js';

export type HashName = 'sha256' | 'sha384' | 'sha512';

/**
 * A signature scheme with every parameter spelled out. Parsing an AlgorithmIdentifier or a JOSE
 * `alg` into one of these (and refusing what policy forbids) is the caller's job.
 */
export type SignatureScheme =
  | { kind: 'ecdsa'; hash: HashName; encoding: 'der' | 'ieee-p1363' }
  | { kind: 'ed25519' }
  | { kind: 'rsa-pkcs1'; hash: HashName }
  | { kind: 'rsa-pss'; hash: HashName; saltLength: number };

/** Why a signature check could not be run at all (as opposed to running and failing). */
export type SchemeMismatch = { ok: false; reason: string };

/**
 * Verifies a signature with node's OpenSSL (the Wycheproof-clean path). Returns true only for a
 * valid signature by `key` under exactly `scheme`; false for an invalid one. A key that does
 * not fit the scheme (an RSA key for ECDSA, say) returns false too: callers that must tell the
 * two apart check `keyFitsScheme` first.
 */
export function verifySignature(scheme: SignatureScheme, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (keyFitsScheme(scheme, key) !== true) return false;
  try {
    const [hash, keyInput] = verifyArguments(scheme, key);
    return verify(hash, data, keyInput, signature);
  } catch {
    // OpenSSL throws on some malformed encodings (e.g. a DER signature it cannot decode).
    return false;
  }
}

/**
 * `verifySignature`, computed on libuv's thread pool: the same answer for the same inputs,
 * without holding the event loop for the ~0.1 ms an ECDSA verification takes. For servers that
 * verify on their request path.
 */
export function verifySignatureAsync(scheme: SignatureScheme, key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (keyFitsScheme(scheme, key) !== true) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const [hash, keyInput] = verifyArguments(scheme, key);
      verify(hash, data, keyInput, signature, (error, valid) => resolve(error === null && valid));
    } catch {
      resolve(false);
    }
  });
}

/** The digest and key options node's `verify` takes for a scheme. */
function verifyArguments(scheme: SignatureScheme, key: KeyObject): [string | null, KeyObject | VerifyKeyObjectInput] {
  switch (scheme.kind) {
    case 'ecdsa':
      return [scheme.hash, { key, dsaEncoding: scheme.encoding }];
    case 'ed25519':
      return [null, key];
    case 'rsa-pkcs1':
      return [scheme.hash, { key, padding: constants.RSA_PKCS1_PADDING }];
    case 'rsa-pss':
      return [scheme.hash, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }];
  }
}

/** True when the key's type can carry the scheme; otherwise a sentence saying why not. */
export function keyFitsScheme(scheme: SignatureScheme, key: KeyObject): true | SchemeMismatch {
  const d = describeKey(key);
  switch (scheme.kind) {
    case 'ecdsa':
      return d.type === 'ec' ? true : { ok: false, reason: `an ECDSA signature needs an EC key, not ${d.type}` };
    case 'ed25519':
      return d.type === 'ed25519' ? true : { ok: false, reason: `an Ed25519 signature needs an Ed25519 key, not ${d.type}` };
    case 'rsa-pkcs1':
      return d.type === 'rsa' ? true : { ok: false, reason: `an RSA PKCS#1 v1.5 signature needs an RSA key, not ${d.type}` };
    case 'rsa-pss':
      return d.type === 'rsa' || d.type === 'rsa-pss'
        ? true
        : { ok: false, reason: `an RSA-PSS signature needs an RSA key, not ${d.type}` };
  }
}
