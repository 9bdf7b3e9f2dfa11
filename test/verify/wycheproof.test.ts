import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { importSpki } from '../../src/crypto/keys.js';
import { verifySignature } from '../../src/crypto/signature.js';
import {
  ALG,
  joseSignatureScheme,
  pssAlgorithmIdentifier,
  signatureSchemeOf,
  simpleAlgorithmIdentifier,
  type SchemeDecision,
} from '../../src/verify/algorithms.js';
import { vectorSuite } from '../helpers/vectors.js';

/**
 * Wycheproof (C2SP/wycheproof @ dac1dd47, vectors/wycheproof/README.md): every vector of every
 * signature file except json_web_signature_test.json (run by the envelope tests) goes through
 * Chancery's algorithm policy (signatureSchemeOf / joseSignatureScheme) and then the one
 * verification primitive, verifySignature. Outcomes: pass, wrong (a valid signature rejected by
 * the primitive or an invalid one accepted — must be 0), policy (refused by the algorithm policy
 * before any verification: reported apart, so a regression can never hide behind it), and the
 * "acceptable" vectors, whose choice is recorded.
 */

const dir = vectorSuite('wycheproof');

interface Group {
  type: string;
  publicKeyDer: string;
  sha?: string;
  sLen?: number;
  mgfSha?: string;
  tests: Array<{ tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable'; flags: string[] }>;
}

const HASH_OID: Record<string, string> = { 'SHA-256': ALG.sha256WithRsa, 'SHA-384': ALG.sha384WithRsa, 'SHA-512': ALG.sha512WithRsa };
const ECDSA_OID: Record<string, string> = {
  'SHA-256': ALG.ecdsaWithSha256,
  'SHA-384': ALG.ecdsaWithSha384,
  'SHA-512': ALG.ecdsaWithSha512,
};

/** The scheme Chancery's policy gives a group's key, the way the service would reach it. */
function decide(group: Group, key: KeyObject): SchemeDecision {
  switch (group.type) {
    case 'EcdsaVerify':
      return signatureSchemeOf(simpleAlgorithmIdentifier(ECDSA_OID[group.sha!]!), key);
    case 'EcdsaP1363Verify':
      return joseSignatureScheme(group.sha === 'SHA-256' ? 'ES256' : group.sha === 'SHA-384' ? 'ES384' : 'ES512', key);
    case 'EddsaVerify':
      return signatureSchemeOf(simpleAlgorithmIdentifier(ALG.ed25519), key);
    case 'RsassaPkcs1Verify':
      return signatureSchemeOf(simpleAlgorithmIdentifier(HASH_OID[group.sha!]!, true), key);
    case 'RsassaPssVerify': {
      const hash = group.sha === 'SHA-256' ? 'sha256' : group.sha === 'SHA-384' ? 'sha384' : 'sha512';
      if (group.mgfSha !== group.sha || group.sLen !== { sha256: 32, sha384: 48, sha512: 64 }[hash])
        return { refused: `PSS parameters ${group.mgfSha}/${group.sLen} are outside the policy` };
      return signatureSchemeOf(pssAlgorithmIdentifier(hash), key);
    }
    default:
      return { refused: `unknown group type ${group.type}` };
  }
}

interface Tally {
  pass: number;
  wrong: string[];
  policy: number;
  policyValid: number;
  acceptable: string[];
}

describe.skipIf(dir === undefined)('Wycheproof signature vectors through the algorithm policy and verifySignature', () => {
  const files =
    dir === undefined
      ? []
      : readdirSync(dir)
          .filter((f) => f.endsWith('_test.json') && f !== 'json_web_signature_test.json')
          .sort();

  it('covers every signature file of the suite but the JWS one', () => {
    expect(files).toHaveLength(9);
  });

  const totals: Tally = { pass: 0, wrong: [], policy: 0, policyValid: 0, acceptable: [] };

  it.each(files)('%s: no wrong answer', (file) => {
    const data = JSON.parse(readFileSync(join(dir!, file), 'utf8')) as { numberOfTests: number; testGroups: Group[] };
    const t: Tally = { pass: 0, wrong: [], policy: 0, policyValid: 0, acceptable: [] };
    let count = 0;
    for (const group of data.testGroups) {
      let key: KeyObject | undefined;
      let keyProblem: string | undefined;
      try {
        key = importSpki(Buffer.from(group.publicKeyDer, 'hex'));
      } catch (error) {
        keyProblem = (error as Error).message;
      }
      const decision: SchemeDecision = key === undefined ? { refused: `key not importable: ${keyProblem}` } : decide(group, key);
      for (const test of group.tests) {
        count++;
        if ('refused' in decision) {
          t.policy++;
          if (test.result === 'valid') t.policyValid++;
          continue;
        }
        const ok = verifySignature(decision.scheme, key!, Buffer.from(test.msg, 'hex'), Buffer.from(test.sig, 'hex'));
        if (test.result === 'acceptable') t.acceptable.push(`${file}#${test.tcId} ${ok ? 'accepted' : 'rejected'}`);
        else if (ok === (test.result === 'valid')) t.pass++;
        else t.wrong.push(`${file}#${test.tcId} (${test.result}, ${test.comment}) → ${ok ? 'accepted' : 'rejected'}`);
      }
    }
    expect(count).toBe(data.numberOfTests);
    totals.pass += t.pass;
    totals.wrong.push(...t.wrong);
    totals.policy += t.policy;
    totals.policyValid += t.policyValid;
    totals.acceptable.push(...t.acceptable);
    process.stdout.write(
      `wycheproof ${file}: ${t.pass} pass, ${t.wrong.length} wrong, ${t.policy} rejected by policy (${t.policyValid} of them valid), acceptable: ${t.acceptable.join(', ') || 'none'}\n`,
    );
    expect(t.wrong).toEqual([]);
  });

  it('prints the totals; every rejection by policy is a small-exponent RSA key', () => {
    process.stdout.write(
      `wycheproof total: ${totals.pass} pass, ${totals.wrong.length} wrong, ${totals.policy} rejected by policy, acceptable: ${totals.acceptable.join(', ')}\n`,
    );
    expect(totals.wrong).toEqual([]);
    expect(totals.pass).toBeGreaterThan(2300);
    // The strict verifier rejects DigestInfo without NULL (flag MissingNull), as the README recommends.
    for (const a of totals.acceptable) expect(a).toMatch(/rejected$/);
  });
});
