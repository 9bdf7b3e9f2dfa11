import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/digest.js';
import { OID } from '../../src/oids.js';
import { inMemoryRevocation, noRevocation } from '../../src/verify/revocation.js';
import { parseToken, verifyTimestampToken, type TimestampValidation } from '../../src/verify/timestamp.js';
import { createOpensslTsa, type OpensslTsa } from '../helpers/openssl-timestamper.js';
import { createTestPki, type TestPki } from './envelope-pki.js';

/**
 * RFC 3161 tokens made by an outside TSA (`openssl ts -reply`, test key and certificate under the
 * test CA) and validated by verifyTimestampToken; `openssl ts -verify` is the outside check of
 * the good tokens and of the forged one. openssl stamps the wall clock, so the PKI is made around
 * the real time and validation runs a minute later.
 */

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const AT = new Date(NOW.getTime() + 60_000);

let pki: TestPki;
let tsa: OpensslTsa;
let tsaV1: OpensslTsa;
const data = randomBytes(96);
const imprint = sha256(data);
let token: Uint8Array;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  tsa = await createOpensslTsa(pki);
  tsaV1 = await createOpensslTsa(pki, { essCertIdAlg: 'sha1' });
  token = await tsa.timestamp({ hashAlgorithm: OID.sha256, digest: imprint });
});
afterAll(() => {
  tsa?.close();
  tsaV1?.close();
});

const verify = (t: Uint8Array, extra: Partial<Parameters<typeof verifyTimestampToken>[0]> = {}): Promise<TimestampValidation> =>
  verifyTimestampToken({
    token: t,
    data,
    dataName: 'the test data',
    anchors: pki.anchors,
    intermediates: [pki.issuing.certificate],
    revocation: noRevocation(),
    time: AT,
    ...extra,
  });

const failing = (v: TimestampValidation) => v.report.checks.filter((c) => c.result !== 'PASSED').map((c) => c.id);

describe('verifyTimestampToken', () => {
  it('passes an outside TSA token over the data (ESSCertIDv2) and openssl ts -verify agrees', async () => {
    const v = await verify(token);
    expect(failing(v)).toEqual([]);
    expect(v.report.indication).toBe('TOTAL_PASSED');
    expect(v.intact).toBe(true);
    expect(v.proofTime!.getTime()).toBeGreaterThanOrEqual(NOW.getTime() - 1000);
    expect(v.proofTime!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(v.report.tsa?.subject).toContain('Test Outside TSA');
    const outside = await tsa.opensslVerify(token, imprint.toString('hex'), pki.root.pem, pki.issuing.pem);
    expect(outside.ok, outside.output).toBe(true);
  });

  it('passes a token whose signing-certificate is an ESSCertID with a SHA-1 hash (RFC 3161 as first published)', async () => {
    const t = await tsaV1.timestamp({ hashAlgorithm: OID.sha256, digest: imprint });
    const v = await verify(t);
    expect(failing(v)).toEqual([]);
    expect(v.report.checks.find((c) => c.id === 'timestamp.tsa-certificate')?.message).toContain('ESSCertID SHA1');
  });

  it('refuses a token for other data (HASH_FAILURE), never as proof', async () => {
    const v = await verify(token, { data: randomBytes(96) });
    expect(v.report.indication).toBe('TOTAL_FAILED');
    expect(v.report.subIndication).toBe('HASH_FAILURE');
    expect(v.intact).toBe(false);
    expect(v.proofTime).toBeUndefined();
  });

  it('refuses a forged token (TSA signature altered): SIG_CRYPTO_FAILURE, and openssl ts -verify refuses it too', async () => {
    const { signerInfo } = parseToken(token);
    const sig = Buffer.from(signerInfo.signature);
    const at = Buffer.from(token).indexOf(sig);
    expect(at).toBeGreaterThan(0);
    const forged = Buffer.from(token);
    forged[at + 10]! ^= 0x01; // inside r of the DER ECDSA signature: still well formed, no longer valid
    const v = await verify(forged);
    expect(v.report.indication).toBe('TOTAL_FAILED');
    expect(v.report.subIndication).toBe('SIG_CRYPTO_FAILURE');
    expect(v.proofTime).toBeUndefined();
    const outside = await tsa.opensslVerify(forged, imprint.toString('hex'), pki.root.pem, pki.issuing.pem);
    expect(outside.ok).toBe(false);
  });

  it('refuses a token whose TSTInfo was altered after signing (message-digest HASH_FAILURE)', async () => {
    const { tstInfoDer } = parseToken(token);
    const at = Buffer.from(token).indexOf(Buffer.from(tstInfoDer));
    const altered = Buffer.from(token);
    altered[at + tstInfoDer.length - 3]! ^= 0x01; // inside the TSTInfo (serial, genTime, accuracy, nonce)
    const v = await verify(altered);
    expect(v.report.indication).not.toBe('TOTAL_PASSED');
    expect(v.proofTime).toBeUndefined();
  });

  it('does not trust a token from a TSA outside the trust anchors (NO_CERTIFICATE_CHAIN_FOUND), though intact', async () => {
    const other = await createTestPki(NOW, 'Elsewhere');
    const stranger = await createOpensslTsa(other);
    try {
      const t = await stranger.timestamp({ hashAlgorithm: OID.sha256, digest: imprint });
      const v = await verify(t, { intermediates: [other.issuing.certificate] });
      expect(v.intact).toBe(true);
      expect(v.report.indication).toBe('INDETERMINATE');
      expect(v.report.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
      expect(v.proofTime).toBeUndefined();
    } finally {
      stranger.close();
    }
  });

  it('refuses a token whose ESSCertID names another certificate than the one with the signer identifier', async () => {
    const serialHex = 'aa55';
    const real = await pki.issue({
      serialHex,
      commonName: 'Test Outside TSA',
      organizationIdentifier: null,
      eku: ['1.3.6.1.5.5.7.3.8'],
      ekuCritical: true,
      keyUsage: 1,
      policies: ['2.5.29.32.0'],
    });
    const twin = await pki.issue({
      serialHex,
      commonName: 'Test Outside TSA',
      organizationIdentifier: null,
      eku: ['1.3.6.1.5.5.7.3.8'],
      ekuCritical: true,
      keyUsage: 1,
      policies: ['2.5.29.32.0'],
    });
    const bare = await createOpensslTsa(pki, { identity: real, includeCertificate: false });
    try {
      const t = await bare.timestamp({ hashAlgorithm: OID.sha256, digest: imprint });
      // Only the twin (same issuer and serial, another key) is at hand: the sid matches it, the certHash does not.
      const v = await verify(t, { intermediates: [twin.certificate, pki.issuing.certificate] });
      expect(v.report.indication).not.toBe('TOTAL_PASSED');
      expect(v.report.subIndication).toBe('NO_SIGNING_CERTIFICATE_FOUND');
      expect(v.report.checks.find((c) => c.id === 'timestamp.tsa-certificate')?.message).toMatch(/certHash/);
      expect(v.intact).toBe(false);
      // With the right certificate supplied, the same token passes.
      const ok = await verify(t, { intermediates: [real.certificate, pki.issuing.certificate] });
      expect(failing(ok)).toEqual([]);
    } finally {
      bare.close();
    }
  });

  it('does not take a token dated after the validation time as proof', async () => {
    const v = await verify(token, { time: new Date(NOW.getTime() - 3600_000) });
    expect(v.report.indication).toBe('INDETERMINATE');
    expect(v.report.subIndication).toBe('SIG_CONSTRAINTS_FAILURE');
    expect(v.proofTime).toBeUndefined();
  });

  it('does not trust a token whose TSA certificate was revoked before the validation time', async () => {
    const revocation = inMemoryRevocation([
      {
        issuer: pki.issuing.certificate,
        revoked: [{ serialNumberHex: tsa.identity.serialHex, revokedAt: new Date(NOW.getTime() + 1000) }],
      },
      { issuer: pki.root.certificate, revoked: [] },
    ]);
    const v = await verify(token, { revocation });
    expect(v.report.indication).toBe('TOTAL_FAILED');
    expect(v.report.subIndication).toBe('REVOKED');
    expect(v.proofTime).toBeUndefined();
  });

  it('reports garbage and truncated tokens as FORMAT_FAILURE, never throwing', async () => {
    for (const bad of [
      new Uint8Array(0),
      randomBytes(40),
      Buffer.from(token).subarray(0, token.length - 7),
      Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]),
    ]) {
      const v = await verify(bad);
      expect(v.report.indication).toBe('TOTAL_FAILED');
      expect(v.report.subIndication).toBe('FORMAT_FAILURE');
      expect(v.proofTime).toBeUndefined();
    }
  });
});
