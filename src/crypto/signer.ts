import { sign as nodeSign, constants, type KeyObject } from 'node:crypto';
import { describeKey } from './keys.js';
import { CryptoError } from './errors.js';

/** JOSE names of the signature algorithms Chancery's own keys use. */
export type SigningAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256';

/**
 * A private key that can sign, wherever it lives. Files implement it today (FileKeyStore); a
 * PKCS#11 HSM can implement it later without callers changing. MUST NOT expose key material.
 */
export interface Signer {
  /** The key's name in its store (e.g. 'issuing-ca'). */
  readonly name: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicKey: KeyObject;
  /**
   * Signs `data` (the hash is part of the algorithm). ECDSA signatures are DER (X.509, CMS)
   * unless `ieee-p1363` (r‖s, as JOSE wants) is asked for.
   */
  sign(data: Uint8Array, options?: { dsaEncoding?: 'der' | 'ieee-p1363' }): Promise<Buffer>;
}

/** The JOSE algorithm a key signs with by default. */
export function defaultAlgorithm(key: KeyObject): SigningAlgorithm {
  const d = describeKey(key);
  if (d.type === 'ec' && 'curve' in d) {
    if (d.curve === 'P-256') return 'ES256';
    if (d.curve === 'P-384') return 'ES384';
  }
  if (d.type === 'ed25519') return 'EdDSA';
  if (d.type === 'rsa') return 'RS256';
  if (d.type === 'rsa-pss') return 'PS256';
  throw new CryptoError('ERR_CRYPTO_KEY_UNSUPPORTED', `no signing algorithm for a ${d.type} key`);
}

/** A Signer over a private KeyObject held in memory. */
export function keyObjectSigner(
  name: string,
  privateKey: KeyObject,
  publicKey: KeyObject,
  algorithm: SigningAlgorithm = defaultAlgorithm(publicKey),
): Signer {
  return {
    name,
    algorithm,
    publicKey,
    sign: async (data, options) => signWith(algorithm, privateKey, data, options?.dsaEncoding ?? 'der'),
  };
}

function signWith(algorithm: SigningAlgorithm, key: KeyObject, data: Uint8Array, dsaEncoding: 'der' | 'ieee-p1363'): Buffer {
  switch (algorithm) {
    case 'ES256':
      return nodeSign('sha256', data, { key, dsaEncoding });
    case 'ES384':
      return nodeSign('sha384', data, { key, dsaEncoding });
    case 'EdDSA':
      return nodeSign(null, data, key);
    case 'RS256':
      return nodeSign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'PS256':
      return nodeSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
}
