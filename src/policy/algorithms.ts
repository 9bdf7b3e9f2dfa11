import type { KeyObject } from 'node:crypto';
import { describeKey } from '../crypto/keys.js';
import type { SignatureScheme } from '../crypto/signature.js';
import { POLICY_ALGORITHMS, type PolicyAlgorithm } from './policy-schema.js';

/**
 * A transaction policy's signature rules applied to one
 * signature, after Chancery's algorithm policy (src/verify/algorithms.ts) has accepted it.
 */

export interface SignatureRules {
  formats: ReadonlyArray<'cms' | 'jws'>;
  algorithms: readonly string[];
  minRsaBits: number;
  maxClockSkewMs: number;
}

/** The rules when no transaction policy applies: whatever Chancery's algorithm policy accepts. */
export const DEFAULT_SIGNATURE_RULES: SignatureRules = {
  formats: ['cms', 'jws'],
  algorithms: POLICY_ALGORITHMS,
  minRsaBits: 2048,
  maxClockSkewMs: 5 * 60_000,
};

/**
 * The policy name of a verified scheme: the JOSE name where one fits exactly (ES256 = P-256 with
 * SHA-256, ES384 = P-384 with SHA-384, EdDSA, RSnnn, PSnnn), else `ECDSA-<curve>-<hash>`.
 */
export function algorithmNameOf(scheme: SignatureScheme, key: KeyObject): string {
  switch (scheme.kind) {
    case 'ed25519':
      return 'EdDSA';
    case 'rsa-pkcs1':
      return `RS${scheme.hash.slice(3)}`;
    case 'rsa-pss':
      return `PS${scheme.hash.slice(3)}`;
    case 'ecdsa': {
      const d = describeKey(key);
      const curve = d.type === 'ec' ? (d as { curve: string }).curve : d.type;
      if (curve === 'P-256' && scheme.hash === 'sha256') return 'ES256';
      if (curve === 'P-384' && scheme.hash === 'sha384') return 'ES384';
      return `ECDSA-${curve.replace('-', '')}-${scheme.hash.toUpperCase()}`;
    }
  }
}

/** Whether the policy allows this algorithm and key; otherwise a sentence saying why not. */
export function algorithmAllowed(name: string, key: KeyObject, rules: SignatureRules): { ok: true } | { ok: false; reason: string } {
  if (!rules.algorithms.includes(name)) {
    return { ok: false, reason: `the algorithm ${name} is not among those the policy allows (${rules.algorithms.join(', ')})` };
  }
  const d = describeKey(key);
  if ((d.type === 'rsa' || d.type === 'rsa-pss') && (d as { bits: number }).bits < rules.minRsaBits) {
    return { ok: false, reason: `the RSA key has ${(d as { bits: number }).bits} bits, below the policy's minimum of ${rules.minRsaBits}` };
  }
  return { ok: true };
}

export function isPolicyAlgorithm(name: string): name is PolicyAlgorithm {
  return (POLICY_ALGORITHMS as readonly string[]).includes(name);
}
