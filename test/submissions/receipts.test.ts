import { beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../src/oids.js';
import {
  offlineChanceryRevocation,
  readReceipt,
  ReceiptSigner,
  verifyReceipt,
  type ReceiptPayload,
} from '../../src/submissions/receipts.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { expectCode } from '../helpers/expect-code.js';
import { createTestPki, type TestIdentity, type TestPki } from '../verify/envelope-pki.js';

/** Receipts: ES256 compact JWS by the service seal over the transition's log entry. */
const NOW = new Date('2026-05-01T08:00:00Z');
const PAYLOAD: ReceiptPayload = {
  submission: '0b9f6a2c-1f0e-4d4a-9d55-3f1c2a7e9b10',
  applicant: '91350100M000100Y43',
  documentDigest: 'a'.repeat(64),
  status: 'pending',
  at: '2026-05-01T08:00:01.123Z',
  logIndex: 42,
  leafHash: 'b'.repeat(64),
};

let pki: TestPki;
let seal: TestIdentity;
beforeAll(async () => {
  pki = await createTestPki(NOW);
  seal = await pki.issue({ commonName: 'Test Service Seal', organizationIdentifier: null, policies: [OID.policyService] });
});

const trust = (revocation = noRevocation()) => ({ anchors: pki.anchors, revocation });

describe('receipts', () => {
  it('round-trips: the payload is the canonical JSON of the seven members, and it verifies to the root', async () => {
    const jws = await new ReceiptSigner(seal.signer, [seal.der, pki.issuing.der]).sign(PAYLOAD);
    const payloadText = Buffer.from(jws.split('.')[1]!, 'base64url').toString();
    expect(payloadText).toBe(
      '{"applicant":"91350100M000100Y43","at":"2026-05-01T08:00:01.123Z","documentDigest":"' +
        'a'.repeat(64) +
        '","leafHash":"' +
        'b'.repeat(64) +
        '","logIndex":42,"status":"pending","submission":"0b9f6a2c-1f0e-4d4a-9d55-3f1c2a7e9b10"}',
    );
    const verified = await verifyReceipt(jws, trust());
    expect(verified.payload).toEqual(PAYLOAD);
    expect(verified.seal.sha256Fingerprint).toBe(seal.certificate.sha256Fingerprint);
    expect(readReceipt(jws).chain).toHaveLength(2);
  });

  it('refuses a changed payload, a changed header, and a truncated token', async () => {
    const jws = await new ReceiptSigner(seal.signer, [seal.der, pki.issuing.der]).sign(PAYLOAD);
    const [h, , s] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...PAYLOAD, status: 'approved' })).toString('base64url');
    await expectCode(() => verifyReceipt(`${h}.${forged}.${s}`, trust()), 'ERR_SUBMISSION_RECEIPT_INVALID');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
    const noneAlg = Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url');
    const error = await expectCode(() => verifyReceipt(`${noneAlg}.${jws.split('.')[1]}.${s}`, trust()), 'ERR_SUBMISSION_RECEIPT_INVALID');
    expect(error.message).toContain('not ES256');
    await expectCode(() => verifyReceipt(jws.split('.').slice(0, 2).join('.'), trust()), 'ERR_SUBMISSION_RECEIPT_INVALID');
    const extra = Buffer.from(JSON.stringify({ ...PAYLOAD, note: 'x' })).toString('base64url');
    expect((await expectCode(() => verifyReceipt(`${h}.${extra}.${s}`, trust()), 'ERR_SUBMISSION_RECEIPT_INVALID')).message).toContain(
      'unknown member',
    );
  });

  it('refuses a receipt signed with a certificate that is not a service seal (an enterprise certificate)', async () => {
    const enterprise = await pki.enterprise();
    const jws = await new ReceiptSigner(enterprise.signer, [enterprise.der, pki.issuing.der]).sign(PAYLOAD);
    const error = await expectCode(() => verifyReceipt(jws, trust()), 'ERR_SUBMISSION_RECEIPT_INVALID');
    expect(error.message).toContain('not a valid Chancery service seal');
  });

  it('checks the seal on the issuing CA CRL and the issuing CA on the root CRL offline, and refuses a receipt whose seal was revoked before its time', async () => {
    const jws = await new ReceiptSigner(seal.signer, [seal.der, pki.issuing.der]).sign(PAYLOAD);
    const rootCrl = await pki.crl([], { issuer: 'root' });
    const good = offlineChanceryRevocation([await pki.crl([]), rootCrl]);
    const verified = await verifyReceipt(jws, trust(good));
    const revocationOf = (index: number) => verified.path.checks.find((c) => c.id === 'path.revocation' && c.certificateIndex === index);
    expect(revocationOf(0)).toMatchObject({ result: 'PASSED' });
    expect(revocationOf(1)).toMatchObject({ result: 'PASSED' });
    expect(revocationOf(1)!.message).not.toContain('not checked');
    expect(revocationOf(1)!.message).toContain('Root');
    // Without the root's CRL the issuing CA's status is unknown: no receipt verifies.
    const issuingOnly = offlineChanceryRevocation([await pki.crl([])]);
    const withoutRoot = await expectCode(() => verifyReceipt(jws, trust(issuingOnly)), 'ERR_SUBMISSION_RECEIPT_INVALID');
    expect(withoutRoot.message).toMatch(/TRY_LATER: The revocation status of certificate "[^"]*Issuing CA"/);
    const revoked = offlineChanceryRevocation([
      await pki.crl([{ serialHex: seal.serialHex, at: new Date('2026-05-01T07:00:00Z') }]),
      rootCrl,
    ]);
    const error = await expectCode(() => verifyReceipt(jws, trust(revoked)), 'ERR_SUBMISSION_RECEIPT_INVALID');
    expect(error.message).toContain('REVOKED');
  });

  it('will not sign with a key that is not P-256', async () => {
    const rsa = await pki.issue({ keyAlg: 'RSA-2048', policies: [OID.policyService] });
    expect(() => new ReceiptSigner(rsa.signer, [rsa.der])).toThrow(/P-256/);
  });
});
