import type { KeyObject } from 'node:crypto';
import { verifySignature } from '../../crypto/signature.js';
import { algorithmName, keyDescription, type AlgorithmPolicy } from '../algorithms.js';
import type { Certificate } from '../certificate.js';
import type { AlgorithmIdentifier } from '../certificate-types.js';

/**
 * Signature checks on certificates, CRLs and OCSP responses: the algorithm policy first (a refused
 * algorithm is CRYPTO_CONSTRAINTS_FAILURE, not a bad signature), then node's OpenSSL through
 * `verifySignature`. Results for certificate links are cached per (child, issuer, policy) on the
 * parsed objects: a signature over fixed bytes with a fixed key and policy has one answer, so the
 * cache cannot change a verdict (time and revocation are not part of it).
 */

export type SignatureOutcome =
  { ok: true; description: string } | { ok: false; refused: true; message: string } | { ok: false; refused: false; message: string };

/** Verifies bytes signed by `key` under `algorithm`, with the policy deciding the scheme. */
export function verifySignedBytes(
  tbs: Uint8Array,
  algorithm: AlgorithmIdentifier,
  signature: Uint8Array,
  key: KeyObject,
  policy: AlgorithmPolicy,
): SignatureOutcome {
  const decision = policy.signatureScheme(algorithm, key);
  if ('refused' in decision) return { ok: false, refused: true, message: decision.refused };
  const description = `${algorithmName(algorithm.oid)}, ${keyDescription(key)}`;
  return verifySignature(decision.scheme, key, tbs, signature)
    ? { ok: true, description }
    : { ok: false, refused: false, message: `the signature does not verify (${description})` };
}

const cache = new WeakMap<Certificate, WeakMap<Certificate, Map<AlgorithmPolicy, SignatureOutcome>>>();

/** The cached outcome for this link, if it was checked before (no work done). */
export function cachedCertificateSignature(child: Certificate, issuer: Certificate, policy: AlgorithmPolicy): SignatureOutcome | undefined {
  return cache.get(child)?.get(issuer)?.get(policy);
}

/** Whether `child`'s signature verifies with `issuer`'s public key under `policy` (cached). */
export function certificateSignedBy(child: Certificate, issuer: Certificate, policy: AlgorithmPolicy): SignatureOutcome {
  let byIssuer = cache.get(child);
  if (byIssuer === undefined) cache.set(child, (byIssuer = new WeakMap()));
  let byPolicy = byIssuer.get(issuer);
  if (byPolicy === undefined) byIssuer.set(issuer, (byPolicy = new Map()));
  const hit = byPolicy.get(policy);
  if (hit !== undefined) return hit;
  const key = issuer.tryPublicKey();
  const outcome: SignatureOutcome =
    key === undefined
      ? { ok: false, refused: false, message: `the public key of ${issuer.describe()} cannot be read` }
      : verifySignedBytes(child.tbs, child.signatureAlgorithm, child.signature, key, policy);
  byPolicy.set(policy, outcome);
  return outcome;
}
