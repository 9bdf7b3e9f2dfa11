import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from '../../src/crypto/digest.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { addSignatureTimestampCms, addValidationDataCms, envelopeSignatureValue, signCms } from '../../src/sign/cms.js';
import { jwsTimestampInput, signJws, withSignatureTimestampJws, withValidationDataJws } from '../../src/sign/jws.js';
import { verifyEnvelope, type VerifyEnvelopeInput } from '../../src/verify/envelope.js';
import { inMemoryRevocation, noRevocation, type RevocationSource } from '../../src/verify/revocation.js';
import { parseToken } from '../../src/verify/timestamp.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { createOpensslTsa, type OpensslTsa } from '../helpers/openssl-timestamper.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from './envelope-pki.js';

/**
 * Validation with time (ETSI EN 319 102-1 §5.6 in spirit): a signature time-stamp from an outside
 * TSA (openssl ts) or a proof of existence from the log decides whether a certificate that has
 * expired, or was revoked since, still validates. openssl stamps the wall clock, so the PKI is made
 * around the real time; "later" is two years on, when the enterprise's one-year certificate has
 * expired and the TSA's five-year certificate has not.
 */

const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const SOON = new Date(NOW.getTime() + 60_000);
const LATER = new Date(NOW.getTime() + 2 * 365 * DAY);
const annual = loadPolicies().require('annual-report');

let pki: TestPki;
let tsa: OpensslTsa;
let ent: TestIdentity;
let doc: Buffer;
let plain: Buffer;
let stamped: Buffer;
let dir: string;

const stamp = async (value: Uint8Array): Promise<Uint8Array> => tsa.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(value) });

beforeAll(async () => {
  pki = await createTestPki(NOW);
  tsa = await createOpensslTsa(pki);
  ent = await pki.enterprise();
  doc = annualReport();
  plain = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: false, time: NOW });
  stamped = addSignatureTimestampCms(plain, await stamp(envelopeSignatureValue(plain)));
  dir = mkdtempSync(join(tmpdir(), 'chancery-poe-'));
});
afterAll(() => {
  tsa?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const revokedAt = (serialHex: string, at: Date): RevocationSource =>
  inMemoryRevocation([
    { issuer: pki.issuing.certificate, revoked: [{ serialNumberHex: serialHex, revokedAt: at }] },
    { issuer: pki.root.certificate, revoked: [] },
  ]);
const goodRevocation = (): RevocationSource => revokedAt('7fff', new Date(0));

const verify = (envelope: Uint8Array, extra: Partial<VerifyEnvelopeInput> = {}): Promise<ValidationReport> =>
  verifyEnvelope({ envelope, anchors: pki.anchors, revocation: goodRevocation(), policy: annual, time: LATER, ...extra });

const notPassed = (r: ValidationReport, sig = 0) => r.signatures[sig]!.checks.filter((c) => c.result !== 'PASSED');

describe('validation with a signature time-stamp (CAdES B-T)', () => {
  it('without a proof of existence, an expired certificate is INDETERMINATE / OUT_OF_BOUNDS_…', async () => {
    const r = await verify(plain);
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.subIndication).toMatch(/^OUT_OF_BOUNDS_/);
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
  });

  it('passes a certificate expired at the validation time when a trusted time-stamp proves the signature existed before', async () => {
    const r = await verify(stamped);
    expect(notPassed(r)).toEqual([]);
    expect(r.indication).toBe('TOTAL_PASSED');
    const s = r.signatures[0]!;
    expect(s.bestSignatureTime.source).toBe('signature-time-stamp');
    expect(Date.parse(s.bestSignatureTime.time)).toBeLessThan(SOON.getTime());
    expect(s.timestamps).toHaveLength(1);
    expect(s.timestamps[0]!.indication).toBe('TOTAL_PASSED');
    expect(s.checks.find((c) => c.id === 'signature.proof-of-existence')?.message).toMatch(/validated at that time/);
  });

  it('still passes at the signing time, and openssl cms -verify and openssl ts -verify accept the augmented envelope and its token', async () => {
    const now = await verify(stamped, { time: SOON });
    expect(now.indication).toBe('TOTAL_PASSED');
    const withData = addValidationDataCms(stamped, { certificates: [pki.issuing.der], crls: [await pki.crl([])] });
    expect((await verify(withData)).indication).toBe('TOTAL_PASSED');
    writeFileSync(join(dir, 'env.p7s'), withData);
    writeFileSync(join(dir, 'root.pem'), pki.root.pem);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'env.p7s'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        join(dir, 'out.json'),
      ],
      { stdio: 'pipe' },
    );
    const token = await stamp(envelopeSignatureValue(plain));
    const outside = await tsa.opensslVerify(token, sha256(envelopeSignatureValue(plain)).toString('hex'), pki.root.pem, pki.issuing.pem);
    expect(outside.ok, outside.output).toBe(true);
  });

  it('passes a signer revoked after the proof of existence; without the proof it is REVOKED', async () => {
    const revocation = revokedAt(ent.serialHex, new Date(NOW.getTime() + 10 * DAY));
    const withPoe = await verify(stamped, { revocation });
    expect(notPassed(withPoe)).toEqual([]);
    expect(withPoe.indication).toBe('TOTAL_PASSED');
    const without = await verify(plain, { revocation });
    expect(without.indication).toBe('TOTAL_FAILED');
    expect(without.subIndication).toBe('REVOKED');
  });

  it('fails a signer revoked before the proof of existence (REVOKED): the signature was made after the revocation', async () => {
    const other = await pki.enterprise();
    const env = await signCms({ signer: other.signer, chain: other.chain, content: doc, detached: false, time: NOW });
    const token = await stamp(envelopeSignatureValue(env));
    const revocation = revokedAt(other.serialHex, new Date(NOW.getTime() - DAY));
    const r = await verify(addSignatureTimestampCms(env, token), { revocation });
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('REVOKED');
  });

  it('fails an envelope with a forged time-stamp (SIG_CRYPTO_FAILURE), never passing on it', async () => {
    const token = Buffer.from(await stamp(envelopeSignatureValue(plain)));
    const sig = Buffer.from(parseToken(token).signerInfo.signature);
    token[token.indexOf(sig) + 10]! ^= 0x01;
    const r = await verify(addSignatureTimestampCms(plain, token));
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('SIG_CRYPTO_FAILURE');
    expect(r.signatures[0]!.timestamps[0]!.indication).toBe('TOTAL_FAILED');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
  });

  it('fails an envelope with a time-stamp over other data (HASH_FAILURE)', async () => {
    const token = await tsa.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(doc) });
    const r = await verify(addSignatureTimestampCms(plain, token), { time: SOON });
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('HASH_FAILURE');
  });

  it('reports and does not trust a time-stamp from an untrusted TSA: the expired certificate stays INDETERMINATE', async () => {
    const other = await createTestPki(NOW, 'Elsewhere');
    const stranger = await createOpensslTsa(other);
    try {
      const token = await stranger.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(envelopeSignatureValue(plain)) });
      const r = await verify(addSignatureTimestampCms(plain, token));
      expect(r.indication).toBe('INDETERMINATE');
      expect(r.signatures[0]!.timestamps[0]!.indication).toBe('INDETERMINATE');
      expect(r.signatures[0]!.timestamps[0]!.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
      expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
      // At the signing time the signature passes on its own; the untrusted token is reported, not used.
      const now = await verify(addSignatureTimestampCms(plain, token), { time: SOON });
      expect(now.indication).toBe('TOTAL_PASSED');
      expect(now.signatures[0]!.timestamps[0]!.indication).not.toBe('TOTAL_PASSED');
    } finally {
      stranger.close();
    }
  });

  it('does not trust a time-stamp whose TSA certificate was revoked: the expired signer stays INDETERMINATE', async () => {
    const r = await verify(stamped, { revocation: revokedAt(tsa.identity.serialHex, new Date(NOW.getTime() + DAY)) });
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.signatures[0]!.timestamps[0]!.subIndication).toBe('REVOKED');
  });

  it('does not use a time-stamp dated after the validation time', async () => {
    const r = await verify(stamped, { time: new Date(NOW.getTime() - 3600_000), revocation: noRevocation() });
    expect(r.signatures[0]!.timestamps[0]!.subIndication).toBe('SIG_CONSTRAINTS_FAILURE');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
  });
});

describe('validation with a proof of existence from the log', () => {
  it('passes an expired certificate with a log proof naming its signature value, and ignores one for another value', async () => {
    const value = sha256Hex(envelopeSignatureValue(plain));
    const proof = { source: 'log-inclusion-proof' as const, time: NOW, detail: 'log entry 7 proven into checkpoint 19' };
    const r = await verify(plain, { proofsOfExistence: [{ ...proof, signatureValueSha256: value }] });
    expect(notPassed(r)).toEqual([]);
    expect(r.signatures[0]!.bestSignatureTime).toEqual({ time: NOW.toISOString(), source: 'log-inclusion-proof', detail: proof.detail });
    const miss = await verify(plain, { proofsOfExistence: [{ ...proof, signatureValueSha256: sha256Hex('other') }] });
    expect(miss.indication).toBe('INDETERMINATE');
  });

  it('fails a signer revoked before the log proof (REVOKED)', async () => {
    const value = sha256Hex(envelopeSignatureValue(plain));
    const r = await verify(plain, {
      revocation: revokedAt(ent.serialHex, new Date(NOW.getTime() - 1000)),
      proofsOfExistence: [{ source: 'log-inclusion-proof', time: NOW, detail: 'log entry', signatureValueSha256: value }],
    });
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('REVOKED');
  });
});

describe('validation with a JAdES signature time-stamp (sigTst)', () => {
  it('passes an expired certificate with sigTst over the base64url signature value, and xVals carry the chain', async () => {
    const jws = await signJws({ signer: ent.signer, chain: [ent.der], payload: doc, time: NOW });
    const entry = jws.signatures[0]!;
    const token = await tsa.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(jwsTimestampInput(entry)) });
    const augmented = withValidationDataJws(withSignatureTimestampJws(entry, token), { certificates: [pki.issuing.der] });
    const text = Buffer.from(JSON.stringify({ ...jws, signatures: [augmented] }));
    const r = await verify(text);
    expect(notPassed(r)).toEqual([]);
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('signature-time-stamp');
    const bare = await verify(Buffer.from(JSON.stringify(jws)), { intermediates: [pki.issuing.certificate] });
    expect(bare.indication).toBe('INDETERMINATE');
  });

  it('refuses a malformed etsiU (FORMAT_FAILURE)', async () => {
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    const entry = { ...jws.signatures[0]!, header: { etsiU: ['not json!'] } };
    const r = await verify(Buffer.from(JSON.stringify({ ...jws, signatures: [entry] })), { time: SOON });
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.subIndication).toBe('FORMAT_FAILURE');
  });
});
