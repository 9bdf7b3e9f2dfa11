import { createHash } from 'node:crypto';
import { CompactSign, FlattenedSign, type CompactJWSHeaderParameters, type JWSHeaderParameters } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyObjectSigner } from '../../src/crypto/signer.js';
import { loadPolicies, type LoadedPolicy } from '../../src/policy/policy.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { countersignJws, signJws, toCompact, toFlattened, type GeneralJws } from '../../src/sign/jws.js';
import { sequence, setOf, tlv } from '../../src/der/writer.js';
import { OID } from '../../src/oids.js';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { contextTag } from '../../src/der/tags.js';
import { verifyEnvelope, type VerifyEnvelopeInput } from '../../src/verify/envelope.js';
import { sourceUnavailable } from '../../src/verify/errors.js';
import { inMemoryRevocation, noRevocation, unknownRevocation, type RevocationSource } from '../../src/verify/revocation.js';
import { expectCode } from '../helpers/expect-code.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { OTHER_USCC, annualReport, createTestPki, foodLicence, type TestIdentity, type TestPki } from './envelope-pki.js';

const NOW = new Date('2026-03-01T08:00:00Z');
const LATER = new Date(NOW.getTime() + 3600_000);
const policies = loadPolicies();
const annual = policies.require('annual-report');
const food = policies.require('food-business-licence');

let pki: TestPki;
let ent: TestIdentity;
let reviewer: TestIdentity;
let approver: TestIdentity;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  ent = await pki.enterprise();
  reviewer = await pki.officer('reviewer', '350100');
  approver = await pki.officer('approver', '350000');
});

function verify(envelope: Uint8Array | string, extra: Partial<VerifyEnvelopeInput> = {}): Promise<ValidationReport> {
  return verifyEnvelope({
    envelope: typeof envelope === 'string' ? Buffer.from(envelope, 'utf8') : envelope,
    anchors: pki.anchors,
    revocation: noRevocation(),
    policy: annual,
    time: LATER,
    ...extra,
  });
}

const jwsText = (jws: GeneralJws | object): string => JSON.stringify(jws);
const check = (r: ValidationReport, id: string, sig = 0) => r.signatures[sig]!.checks.find((c) => c.id === id);

/** A JWS whose first entry has the given protected header, signed by `who` over `payload`. */
async function craftJws(who: TestIdentity, header: Record<string, unknown>, payload: Buffer): Promise<string> {
  const p = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = payload.toString('base64url');
  const sig = await who.signer.sign(Buffer.from(`${p}.${body}`), { dsaEncoding: 'ieee-p1363' });
  return jwsText({ payload: body, signatures: [{ protected: p, signature: sig.toString('base64url') }] });
}

const baseHeader = (who: TestIdentity): Record<string, unknown> => ({
  alg: 'ES256',
  x5c: who.chain.map((c) => c.toString('base64')),
  iat: Math.floor(NOW.getTime() / 1000),
});

describe('verifyEnvelope: CMS', () => {
  it('passes a detached envelope of the applicant and reports the document, the signer and every check', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.subIndication).toBeUndefined();
    expect(r.format).toBe('cms');
    expect(r.policy).toEqual({ id: 'annual-report', version: 1, sha256: annual.sha256 });
    expect(r.document.applicant).toBe('91350100M000100Y43');
    expect(r.document.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.signatures).toHaveLength(1);
    const s = r.signatures[0]!;
    expect(s).toMatchObject({ index: 0, role: 'signer', indication: 'TOTAL_PASSED', algorithm: 'ES256', signingTime: NOW.toISOString() });
    expect(s.signer).toMatchObject({ organizationIdentifier: 'NTRCN-91350100M000100Y43', serialNumber: ent.serialHex, officer: null });
    expect(s.checks.every((c) => c.result === 'PASSED')).toBe(true);
    for (const id of ['cms.message-digest', 'cms.signing-certificate-v2', 'cms.signature', 'policy.applicant-binding', 'path.build'])
      expect(check(r, id)?.result, id).toBe('PASSED');
  });

  it('passes an encapsulated envelope without separate content', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: false, time: NOW });
    expect((await verify(env)).indication).toBe('TOTAL_PASSED');
  });

  it('fails tampered content with HASH_FAILURE', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: true, time: NOW });
    const r = await verify(env, { content: annualReport({ revenue: { value: '1.00', publish: true } }) });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(check(r, 'cms.message-digest')?.result).toBe('FAILED');
  });

  it('is INDETERMINATE/SIGNED_DATA_NOT_FOUND for a detached envelope without its document', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: true, time: NOW });
    const r = await verify(env);
    expect(r).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'SIGNED_DATA_NOT_FOUND' });
    expect(r.document.sha256).toBeNull();
  });

  it("fails with POLICY_FAILURE when the signer is not the document's applicant", async () => {
    const other = await pki.enterprise({ organizationIdentifier: `NTRCN-${OTHER_USCC}` });
    const doc = annualReport();
    const env = await signCms({ signer: other.signer, chain: other.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE' });
    expect(check(r, 'policy.applicant-binding')?.message).toContain(`NTRCN-${OTHER_USCC}`);
  });

  it('does not check the applicant, schema or certificate policy without a policy (document-signing purpose only)', async () => {
    const other = await pki.enterprise({ organizationIdentifier: `NTRCN-${OTHER_USCC}`, policies: ['1.2.3.4'] });
    const doc = Buffer.from('{"not":"a form"}');
    const env = await signCms({ signer: other.signer, chain: other.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc, policy: undefined });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.policy).toBeNull();
    expect(check(r, 'policy.applicant-binding')).toBeUndefined();
  });

  it('fails a document that does not match the policy schema with POLICY_FAILURE naming the field', async () => {
    const doc = annualReport({ employees: { value: -3, publish: true } });
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE' });
    expect(r.checks.find((c) => c.id === 'policy.document-schema')?.message).toContain('/employees/value');
    expect(r.signatures[0]!.indication).toBe('TOTAL_PASSED');
  });

  it('fails a document of another transaction type under a policy', async () => {
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc });
    expect(r.subIndication).toBe('POLICY_FAILURE');
    expect(r.checks.find((c) => c.id === 'policy.document-type')?.result).toBe('FAILED');
  });

  it('refuses a signer without the documentSigning EKU (CHAIN_CONSTRAINTS_FAILURE)', async () => {
    const noEku = await pki.enterprise({ eku: [OID.kpClientAuth] });
    const doc = annualReport();
    const env = await signCms({ signer: noEku.signer, chain: noEku.chain, content: doc, detached: true, time: NOW });
    expect(await verify(env, { content: doc })).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' });
  });

  it('refuses an expired signer certificate', async () => {
    const expired = await pki.enterprise({
      notBefore: new Date(NOW.getTime() - 400 * 86_400_000),
      notAfter: new Date(NOW.getTime() - 86_400_000),
    });
    const doc = annualReport();
    const env = await signCms({
      signer: expired.signer,
      chain: expired.chain,
      content: doc,
      detached: true,
      time: new Date(NOW.getTime() - 2 * 86_400_000),
    });
    const r = await verify(env, { content: doc });
    expect(r.indication).not.toBe('TOTAL_PASSED');
    expect(['EXPIRED', 'OUT_OF_BOUNDS_NO_POE', 'OUT_OF_BOUNDS_NOT_REVOKED']).toContain(r.subIndication);
  });

  it('refuses a signer revoked before the validation time (REVOKED)', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const revocation = inMemoryRevocation([
      { issuer: pki.issuing.certificate, revoked: [{ serialNumberHex: ent.serialHex, revokedAt: new Date(NOW.getTime() + 60_000) }] },
      { issuer: pki.root.certificate, revoked: [] },
    ]);
    const r = await verify(env, { content: doc, revocation });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
  });

  it('does not pass when revocation status cannot be established', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc, revocation: unknownRevocation() });
    expect(r.indication).toBe('INDETERMINATE');
  });

  it('gives no verdict while a revocation source is down, and an unknown status when it merely fails', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const down: RevocationSource = {
      status: () => Promise.reject(sourceUnavailable('the revocation database is not reachable', new Error('connection terminated'))),
    };
    await expectCode(() => verify(env, { content: doc, revocation: down }), 'ERR_VERIFY_SOURCE_UNAVAILABLE');
    const broken: RevocationSource = { status: () => Promise.reject(new Error('a bug in the source')) };
    const r = await verify(env, { content: doc, revocation: broken });
    expect(r.indication).toBe('INDETERMINATE');
    expect(JSON.stringify(r)).toContain('the revocation source failed: a bug in the source');
  });

  it('finds no chain to an unknown root (NO_CERTIFICATE_CHAIN_FOUND)', async () => {
    const stranger = await createTestPki(NOW, 'Stranger');
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    expect(await verify(env, { content: doc, anchors: stranger.anchors })).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'NO_CERTIFICATE_CHAIN_FOUND',
    });
  });

  it('builds the path with supplied intermediates when the envelope carries only the leaf', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: [ent.der], content: doc, detached: true, time: NOW });
    expect((await verify(env, { content: doc })).subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
    expect((await verify(env, { content: doc, intermediates: [pki.issuing.certificate] })).indication).toBe('TOTAL_PASSED');
  });

  it('refuses a signing time after the validation time plus the clock skew', async () => {
    const doc = annualReport();
    const env = await signCms({
      signer: ent.signer,
      chain: ent.chain,
      content: doc,
      detached: true,
      time: new Date(LATER.getTime() + 10 * 60_000),
    });
    expect(await verify(env, { content: doc })).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'SIG_CONSTRAINTS_FAILURE' });
  });

  it('refuses a signature value that does not verify (SIG_CRYPTO_FAILURE)', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    // The signature is the last OCTET STRING of the SignerInfo: flip its last byte.
    const tampered = Buffer.from(env);
    tampered[tampered.length - 1]! ^= 0x01;
    const r = await verify(tampered, { content: doc });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
  });

  it('gives the same verdict with signature values verified on the thread pool (as servers do)', async () => {
    const doc = annualReport();
    const good = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0x01;
    const rsa = await pki.enterprise({ keyAlg: 'RSA-2048' });
    const rsaEnv = await signCms({ signer: rsa.signer, chain: rsa.chain, content: doc, detached: true, time: NOW });
    for (const env of [good, bad, rsaEnv]) {
      const here = await verify(env, { content: doc });
      const pooled = await verify(env, { content: doc, signaturesOnThreadPool: true });
      expect(pooled).toEqual(here);
    }
    expect((await verify(bad, { content: doc, signaturesOnThreadPool: true })).subIndication).toBe('SIG_CRYPTO_FAILURE');
    expect((await verify(rsaEnv, { content: doc, signaturesOnThreadPool: true })).indication).toBe('TOTAL_PASSED');
  });

  it('refuses every single-bit flip of a signed or meaningful byte (exhaustive over the envelope)', async () => {
    // Every bit of a detached envelope, except the extra issuing-CA copy it carries (an untrusted
    // pool: path building uses the supplied one). What may still pass is what RFC 5652/5280 make
    // inert: the unsigned digestAlgorithms set and a letter's case in the signer identifier's
    // issuer name (caseIgnoreMatch; ESS certHash pins the certificate).
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const at = (el: { bytes: Uint8Array }): [number, number] => [
      el.bytes.byteOffset - env.byteOffset,
      el.bytes.byteOffset - env.byteOffset + el.bytes.length,
    ];
    const signedData = childrenOf(childrenOf(childrenOf(readDer(env))[1]!)[0]!);
    const digestAlgorithms = at(signedData[1]!);
    const sid = at(childrenOf(childrenOf(signedData.at(-1)!)[0]!)[1]!);
    const issuingFrom = env.indexOf(pki.issuing.der);
    const inside = (i: number, [from, to]: [number, number]): boolean => i >= from && i < to;
    const isLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    const intermediates = [pki.issuing.certificate];
    const passedWrongly: string[] = [];
    let refused = 0;
    for (let i = 0; i < env.length; i++) {
      if (i >= issuingFrom && i < issuingFrom + pki.issuing.der.length) continue;
      for (let bit = 1; bit < 256; bit <<= 1) {
        const mutated = Buffer.from(env);
        mutated[i]! ^= bit;
        const r = await verify(mutated, { content: doc, intermediates });
        if (r.indication !== 'TOTAL_PASSED') {
          refused++;
          continue;
        }
        if (!(inside(i, digestAlgorithms) || (inside(i, sid) && bit === 0x20 && isLetter(env[i]!))))
          passedWrongly.push(`byte ${i} bit ${bit}`);
      }
    }
    expect(passedWrongly).toEqual([]);
    expect(refused).toBeGreaterThan((env.length - pki.issuing.der.length) * 8 - 200);
  }, 60_000);

  it('refuses an envelope whose ESS certHash names another certificate than the one carried (NO_SIGNING_CERTIFICATE_FOUND)', async () => {
    const twinA = await pki.enterprise({ serialHex: '7a7a' });
    const twinB = await pki.enterprise({ serialHex: '7a7a' });
    const doc = annualReport();
    const env = await signCms({ signer: twinA.signer, chain: twinA.chain, content: doc, detached: true, time: NOW });
    const swapped = replaceCertificates(env, [twinB.der, pki.issuing.der]);
    const r = await verify(swapped, { content: doc });
    expect(r).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NO_SIGNING_CERTIFICATE_FOUND' });
    expect(check(r, 'cms.signer-certificate')?.message).toContain('certHash');
  });

  it('verifies P-384, Ed25519 and RSA signers', async () => {
    for (const keyAlg of ['P-384', 'Ed25519', 'RSA-2048'] as const) {
      const id = await pki.enterprise({ keyAlg });
      const doc = annualReport();
      const env = await signCms({ signer: id.signer, chain: id.chain, content: doc, detached: true, time: NOW });
      const r = await verify(env, { content: doc });
      expect(r.indication, keyAlg).toBe('TOTAL_PASSED');
      expect(r.signatures[0]!.algorithm).toBe({ 'P-384': 'ES384', Ed25519: 'EdDSA', 'RSA-2048': 'RS256' }[keyAlg]);
    }
  });

  it('verifies RSA-PSS (PS256) signatures in CMS and JWS', async () => {
    const rsa = await pki.enterprise({ keyAlg: 'RSA-2048' });
    const signer = keyObjectSigner('pss', rsa.privateKey, rsa.certificate.publicKey, 'PS256');
    const doc = annualReport();
    const env = await signCms({ signer, chain: rsa.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signatures[0]!.algorithm).toBe('PS256');
    const jws = await signJws({ signer, chain: rsa.chain, payload: doc, time: NOW });
    expect((await verify(jwsText(jws))).signatures[0]).toMatchObject({ indication: 'TOTAL_PASSED', algorithm: 'PS256' });
  });

  it("refuses an algorithm the policy does not allow, even one Chancery's algorithm policy accepts", async () => {
    const onlyEd: LoadedPolicy = { ...annual, signature: { ...annual.signature, algorithms: ['EdDSA'] } };
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc, policy: onlyEd });
    expect(r).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE' });
  });

  it('refuses a format the policy does not accept', async () => {
    const jwsOnly: LoadedPolicy = { ...annual, signature: { ...annual.signature, formats: ['jws'] } };
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    expect((await verify(env, { content: doc, policy: jwsOnly })).subIndication).toBe('POLICY_FAILURE');
  });

  it("chooses the policy by the document's type when given the policy set", async () => {
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const r = await verify(env, { content: doc, policy: undefined, policies });
    expect(r).toMatchObject({ indication: 'TOTAL_PASSED', policy: { id: 'food-business-licence' } });
    const noType = Buffer.from('{"applicant":"91350100M000100Y43"}');
    const env2 = await signCms({ signer: ent.signer, chain: ent.chain, content: noType, detached: true, time: NOW });
    const r2 = await verify(env2, { content: noType, policy: undefined, policies });
    expect(r2).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE', policy: null });
    expect(r2.checks.find((c) => c.id === 'policy.select')?.message).toContain('no policy applies');
  });

  it('refuses supplied content that differs from the encapsulated content', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: false, time: NOW });
    expect(await verify(env, { content: annualReport({ reportYear: 2024 }) })).toMatchObject({
      indication: 'TOTAL_FAILED',
      subIndication: 'FORMAT_FAILURE',
    });
  });
});

describe('verifyEnvelope: CMS countersignatures', () => {
  it("reports each officer's decision, role and jurisdiction, ordered by signing time", async () => {
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const reviewed = await countersignCms(env, {
      signer: reviewer.signer,
      chain: reviewer.chain,
      decision: 'review',
      time: new Date(NOW.getTime() + 60_000),
    });
    const approved = await countersignCms(reviewed, {
      signer: approver.signer,
      chain: approver.chain,
      decision: 'approve',
      time: new Date(NOW.getTime() + 120_000),
    });
    const r = await verify(approved, { content: doc, policy: food });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signatures.map((s) => [s.role, s.decision, s.signer?.officer])).toEqual([
      ['signer', undefined, null],
      ['countersigner', 'review', { role: 'reviewer', jurisdiction: '350100' }],
      ['countersigner', 'approve', { role: 'approver', jurisdiction: '350000' }],
    ]);
    expect(r.signatures[1]!.checks.find((c) => c.id === 'cms.message-digest')?.message).toContain("enterprise's signature value");
  });

  it('reads refusal', async () => {
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const refused = await countersignCms(env, { signer: approver.signer, chain: approver.chain, decision: 'refuse', time: NOW });
    expect((await verify(refused, { content: doc, policy: food })).signatures[1]!.decision).toBe('refuse');
  });

  it('fails the envelope when a countersignature does not verify', async () => {
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const countersigned = await countersignCms(env, { signer: reviewer.signer, chain: reviewer.chain, decision: 'approve', time: NOW });
    // The countersignature's signature value is the last OCTET STRING in the envelope's signerInfos.
    const tampered = Buffer.from(countersigned);
    const at = lastSignatureOffset(tampered);
    tampered[at]! ^= 0x01;
    const r = await verify(tampered, { content: doc, policy: food });
    expect(r.signatures[0]!.indication).toBe('TOTAL_PASSED');
    expect(r.signatures[1]).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
  });

  it('refuses a countersignature moved onto another enterprise signature (HASH_FAILURE)', async () => {
    const doc = foodLicence();
    const envA = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const envB = await signCms({
      signer: ent.signer,
      chain: ent.chain,
      content: doc,
      detached: true,
      time: new Date(NOW.getTime() + 1000),
    });
    const counteredA = await countersignCms(envA, { signer: approver.signer, chain: approver.chain, decision: 'approve', time: LATER });
    const moved = moveUnsignedAttributes(counteredA, envB);
    const r = await verify(moved, { content: doc, policy: food });
    expect(r.signatures[1]).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
  });

  it("validates an officer's path for the officer certificate policy under a policy", async () => {
    const notOfficer = await pki.enterprise({ commonName: 'Impostor' });
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const countered = await countersignCms(env, { signer: notOfficer.signer, chain: notOfficer.chain, decision: 'approve', time: NOW });
    const r = await verify(countered, { content: doc, policy: food });
    expect(r.signatures[1]!.indication).not.toBe('TOTAL_PASSED');
    expect(r.signatures[1]!.signer?.officer).toBeNull();
  });
});

describe('verifyEnvelope: JWS', () => {
  it('passes general, flattened and compact serializations', async () => {
    const doc = annualReport();
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    for (const text of [jwsText(jws), jwsText(toFlattened(jws)), toCompact(jws)]) {
      const r = await verify(text);
      expect(r.indication, text.slice(0, 20)).toBe('TOTAL_PASSED');
      expect(r.format).toBe('jws');
      expect(r.document.applicationId).toBe('AR-2025-0001');
    }
  });

  it('passes a compact JWS with a detached payload when the document is supplied', async () => {
    const doc = annualReport();
    const [h, , s] = toCompact(await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW })).split('.');
    expect((await verify(`${h}..${s}`, { content: doc })).indication).toBe('TOTAL_PASSED');
    expect((await verify(`${h}..${s}`)).subIndication).toBe('SIGNED_DATA_NOT_FOUND');
  });

  it('fails a tampered payload (SIG_CRYPTO_FAILURE)', async () => {
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: annualReport(), time: NOW });
    jws.payload = annualReport({ reportYear: 2024 }).toString('base64url');
    expect(await verify(jwsText(jws))).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
  });

  it('refuses alg none, b64:false and unknown crit as FORMAT_FAILURE', async () => {
    const doc = annualReport();
    const none = jwsText({
      payload: doc.toString('base64url'),
      signatures: [{ protected: Buffer.from('{"alg":"none"}').toString('base64url'), signature: '' }],
    });
    expect(await verify(none)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    const b64 = await craftJws(ent, { ...baseHeader(ent), b64: false, crit: ['b64'] }, doc);
    expect((await verify(b64)).subIndication).toBe('FORMAT_FAILURE');
    const crit = await craftJws(ent, { ...baseHeader(ent), exp: 1, crit: ['exp'] }, doc);
    const r = await verify(crit);
    expect(r.subIndication).toBe('FORMAT_FAILURE');
    expect(check(r, 'jws.header')?.message).toContain('"exp" critical');
  });

  it('refuses an x5c given only in the unprotected header', async () => {
    const doc = annualReport();
    const { x5c, ...rest } = baseHeader(ent);
    const jws = JSON.parse(await craftJws(ent, rest, doc)) as GeneralJws;
    jws.signatures[0]!.header = { x5c };
    expect((await verify(jwsText(jws))).indication).toBe('TOTAL_FAILED');
  });

  it('refuses a JWS without x5c (NO_SIGNING_CERTIFICATE_FOUND) and one without iat (FORMAT_FAILURE)', async () => {
    const doc = annualReport();
    const { x5c: _x, ...noX5c } = baseHeader(ent);
    expect((await verify(await craftJws(ent, noX5c, doc))).subIndication).toBe('NO_SIGNING_CERTIFICATE_FOUND');
    const { iat: _i, ...noIat } = baseHeader(ent);
    expect((await verify(await craftJws(ent, noIat, doc))).subIndication).toBe('FORMAT_FAILURE');
  });

  it('refuses an alg that does not fit the key, and one outside the policy (CRYPTO_CONSTRAINTS_FAILURE)', async () => {
    const doc = annualReport();
    const wrong = await craftJws(ent, { ...baseHeader(ent), alg: 'ES384' }, doc);
    expect((await verify(wrong)).subIndication).toBe('CRYPTO_CONSTRAINTS_FAILURE');
    const hs = await craftJws(ent, { ...baseHeader(ent), alg: 'HS256' }, doc);
    expect((await verify(hs)).subIndication).toBe('CRYPTO_CONSTRAINTS_FAILURE');
  });

  it('reports countersignatures with decisions, bound to the enterprise signature', async () => {
    const doc = foodLicence();
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    const reviewed = await countersignJws(jws, {
      signer: reviewer.signer,
      chain: reviewer.chain,
      decision: 'review',
      time: new Date(NOW.getTime() + 60_000),
    });
    const approved = await countersignJws(reviewed, {
      signer: approver.signer,
      chain: approver.chain,
      decision: 'approve',
      time: new Date(NOW.getTime() + 120_000),
    });
    const r = await verify(jwsText(approved), { policy: food });
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signatures.map((s) => s.decision ?? null)).toEqual([null, 'review', 'approve']);
    expect(r.signatures[2]!.signer?.officer).toEqual({ role: 'approver', jurisdiction: '350000' });
  });

  it('refuses a countersignature taken from another envelope (HASH_FAILURE on sig#S256)', async () => {
    const doc = foodLicence();
    const a = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    const b = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: new Date(NOW.getTime() + 1000) });
    const counteredA = await countersignJws(a, { signer: approver.signer, chain: approver.chain, decision: 'approve', time: LATER });
    const moved: GeneralJws = { payload: b.payload, signatures: [b.signatures[0]!, counteredA.signatures[1]!] };
    const r = await verify(jwsText(moved), { policy: food });
    expect(r.signatures[1]).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(r.indication).toBe('TOTAL_FAILED');
  });

  it('refuses a countersignature with an unknown decision', async () => {
    const doc = foodLicence();
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    const countered = await countersignJws(jws, { signer: approver.signer, chain: approver.chain, decision: 'approve', time: LATER });
    const entry = countered.signatures[1]!;
    const header = JSON.parse(Buffer.from(entry.protected, 'base64url').toString()) as Record<string, unknown>;
    header['decision'] = 'maybe';
    const p = Buffer.from(JSON.stringify(header)).toString('base64url');
    const sig = await approver.signer.sign(Buffer.from(`${p}.${countered.payload}`), { dsaEncoding: 'ieee-p1363' });
    countered.signatures[1] = { protected: p, signature: sig.toString('base64url') };
    const r = await verify(jwsText(countered), { policy: food });
    expect(r.signatures[1]!.checks.find((c) => c.id === 'jws.decision')?.result).toBe('FAILED');
    expect(r.signatures[1]!.decision).toBeNull();
  });

  it('refuses an enterprise entry that carries countersignature parameters', async () => {
    const doc = annualReport();
    const jws = await craftJws(ent, { ...baseHeader(ent), decision: 'approve', 'sig#S256': 'x', crit: ['decision', 'sig#S256'] }, doc);
    expect((await verify(jws)).subIndication).toBe('FORMAT_FAILURE');
  });

  it('verifies Ed25519, P-384 and RSA JWS signers', async () => {
    for (const keyAlg of ['Ed25519', 'P-384', 'RSA-2048'] as const) {
      const id = await pki.enterprise({ keyAlg });
      const r = await verify(jwsText(await signJws({ signer: id.signer, chain: id.chain, payload: annualReport(), time: NOW })));
      expect(r.indication, keyAlg).toBe('TOTAL_PASSED');
    }
  });
});

describe('verifyEnvelope: JAdES made by another tool (jose)', () => {
  const jadesHeader = (who: TestIdentity, time: Date): Record<string, unknown> => ({
    alg: 'ES256',
    cty: 'json',
    x5c: who.chain.map((c) => c.toString('base64')),
    'x5t#S256': createHash('sha256').update(who.chain[0]!).digest('base64url'),
    sigT: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    crit: ['sigT'],
  });

  it('a CompactSign and a FlattenedSign JAdES baseline signature validate as ours do, sigT as the claimed signing time', async () => {
    const doc = annualReport();
    const signedAt = new Date(NOW.getTime() + 5_000);
    const compact = await new CompactSign(doc)
      .setProtectedHeader(jadesHeader(ent, signedAt) as CompactJWSHeaderParameters)
      .sign(ent.privateKey, { crit: { sigT: true } });
    const flattened = await new FlattenedSign(doc)
      .setProtectedHeader({ ...jadesHeader(ent, signedAt), iat: Math.floor(signedAt.getTime() / 1000) } as JWSHeaderParameters)
      .sign(ent.privateKey, { crit: { sigT: true } });
    const ours = await verify(jwsText(await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: signedAt })));
    for (const text of [compact, jwsText(flattened)]) {
      const r = await verify(text);
      expect(r.indication, JSON.stringify(r.signatures[0]?.checks.filter((c) => c.result !== 'PASSED'))).toBe('TOTAL_PASSED');
      expect(r.signatures[0]!.signingTime).toBe(signedAt.toISOString());
      expect(r.signatures[0]!.checks.map((c) => [c.id, c.result])).toEqual(ours.signatures[0]!.checks.map((c) => [c.id, c.result]));
      expect(check(r, 'jws.signing-time')?.message).toContain('sigT');
    }
  });

  it('refuses sigT outside crit, a malformed sigT, sigT and iat that disagree, and sigD (FORMAT_FAILURE)', async () => {
    const doc = annualReport();
    const h = jadesHeader(ent, NOW);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...h, crit: undefined }, /"sigT" is not listed in "crit"/],
      [{ ...h, sigT: '2026-03-01 08:00:00Z' }, /"sigT" is not a UTC time/],
      [{ ...h, sigT: '2026-02-30T08:00:00Z' }, /"sigT" is not a UTC time/],
      [{ ...h, iat: Math.floor(NOW.getTime() / 1000) + 1 }, /"iat" and "sigT" do not name the same/],
      [{ ...h, sigD: { mId: 'http://uri.etsi.org/19182/ObjectIdByURI', pars: ['doc'] } }, /"sigD"/],
      [{ ...h, sigD: { mId: 'x', pars: [] }, crit: ['sigT', 'sigD'] }, /"sigD"/],
    ];
    for (const [header, message] of cases) {
      const clean = Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined));
      const r = await verify(await craftJws(ent, clean, doc));
      expect(r.indication, JSON.stringify(clean)).not.toBe('TOTAL_PASSED');
      expect(r.subIndication).toBe('FORMAT_FAILURE');
      expect(r.signatures[0]!.checks.map((c) => c.message).join('\n')).toMatch(message);
    }
  });

  it('a plain JWS with iat only (no sigT) still validates', async () => {
    expect((await verify(await craftJws(ent, baseHeader(ent), annualReport()))).indication).toBe('TOTAL_PASSED');
  });
});

describe('verifyEnvelope: input that is not an envelope', () => {
  it('answers FORMAT_FAILURE with no signatures', async () => {
    for (const bad of ['', 'hello', '{"a":1}', '[1,2]', 'a.b', '\x30\x03\x02\x01']) {
      const r = await verify(bad);
      expect(r, JSON.stringify(bad)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', signatures: [] });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Envelope surgery for the tests above (DER in, DER out).

/** The envelope with its certificate set replaced. */
function replaceCertificates(env: Buffer, certs: Buffer[]): Buffer {
  const [type, content] = childrenOf(readDer(env));
  const fields = childrenOf(childrenOf(content!)[0]!);
  const out = fields.map((f) => (f.tag === contextTag(0, true) ? tlv(contextTag(0, true), ...certs) : Buffer.from(f.bytes)));
  return sequence(Buffer.from(type!.bytes), tlv(0xa0, sequence(...out)));
}

/** `target` with the SignerInfo's unsigned attributes of `source`. */
function moveUnsignedAttributes(source: Buffer, target: Buffer): Buffer {
  const signerInfo = (env: Buffer) => {
    const [type, content] = childrenOf(readDer(env));
    const fields = childrenOf(childrenOf(content!)[0]!);
    const sis = fields[fields.length - 1]!;
    return { type, fields, si: childrenOf(childrenOf(sis)[0]!) };
  };
  const src = signerInfo(source);
  const dst = signerInfo(target);
  const unsigned = src.si[src.si.length - 1]!;
  const newSi = sequence(...dst.si.map((f) => Buffer.from(f.bytes)), Buffer.from(unsigned.bytes));
  const certs = src.fields.find((f) => f.tag === contextTag(0, true))!;
  const newFields = dst.fields.slice(0, -1).map((f) => (f.tag === contextTag(0, true) ? Buffer.from(certs.bytes) : Buffer.from(f.bytes)));
  return sequence(Buffer.from(dst.type!.bytes), tlv(0xa0, sequence(...newFields, setOf(newSi))));
}

/** Offset of the last byte of the countersignature's signature value. */
function lastSignatureOffset(env: Buffer): number {
  const [, content] = childrenOf(readDer(env));
  const fields = childrenOf(childrenOf(content!)[0]!);
  const si = childrenOf(childrenOf(fields[fields.length - 1]!)[0]!);
  const unsigned = si[si.length - 1]!;
  const attr = childrenOf(unsigned)[0]!;
  const counter = childrenOf(childrenOf(attr)[1]!)[0]!;
  const sig = childrenOf(counter)[5]!;
  return sig.value.byteOffset - env.byteOffset + sig.value.length - 1;
}
