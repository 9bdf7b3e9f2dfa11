import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { CRL_REFRESH_AFTER_MS } from '../../src/ca/crl-publisher.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { OcspResponder, OCSP_STATUS } from '../../src/ca/ocsp-responder.js';
import { databaseRevocationSource } from '../../src/ca/revocation-source.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { createCaFixture, type CaFixture } from './fixtures.js';
import { parseOcspResponse } from './ocsp-parse.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';

const csr = async (): Promise<string> => (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;

describe.each(drivers())('revocation, CRL and OCSP on $name', (driver) => {
  let f: CaFixture;
  let ocsp: OcspResponder;
  const uscc = completeUscc('9131000000030000');
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc, name: 'Shanghai Revocation Co' }, 'admin:test');
    ocsp = new OcspResponder({
      issuer: { subject: f.hierarchy.issuing.subject, spki: f.hierarchy.issuing.spki },
      responder: { der: f.hierarchy.ocsp.der, spki: f.hierarchy.ocsp.spki, signer: f.hierarchy.ocsp.signer },
      status: (serial) => f.ca.certificateStatus(serial),
      epoch: () => f.ca.revocationEpoch(),
      now: () => f.now.value,
    });
    f.ca.onRevocation(() => ocsp.invalidate());
  });
  afterAll(async () => f?.close());

  const crlOf = async () => AsnConvert.parse(await f.ca.currentCrl('issuing'), CertificateList);
  const crlNumber = (crl: CertificateList): number => {
    const ext = crl.tbsCertList.crlExtensions!.find((e) => e.extnID === '2.5.29.20')!;
    return Buffer.from(ext.extnValue.buffer).readUIntBE(2, Buffer.from(ext.extnValue.buffer)[1]!);
  };

  it('answers good, then revoked with time and reason, re-signing the CRL with a higher number each time', async () => {
    const cert = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr: await csr() }, 'admin:test');
    const request = buildOcspRequest(f.hierarchy.issuing.der, cert.serial);
    const good = parseOcspResponse((await ocsp.respond(request)).der);
    expect(good.responseStatus).toBe(OCSP_STATUS.successful);
    expect(good.signatureValid).toBe(true);
    expect(good.singles).toEqual([{ status: 'good', serialHex: expect.stringContaining(cert.serial) }]);
    const before = crlNumber(await crlOf());

    await f.ca.revoke(cert.serial, 'superseded', 'admin:test');
    const revoked = parseOcspResponse((await ocsp.respond(request)).der);
    expect(revoked.singles[0]!.status).toBe('revoked');
    expect(revoked.singles[0]!.reason).toBe(4); // superseded
    const crl = await crlOf();
    expect(crlNumber(crl)).toBe(before + 1);
    expect(crl.tbsCertList.revokedCertificates!.map((r) => Buffer.from(r.userCertificate).toString('hex').replace(/^(00)+/, ''))).toContain(cert.serial);
    await expectCode(() => f.ca.revoke(cert.serial, 'keyCompromise', 'admin:test'), 'ERR_CA_ALREADY_REVOKED');
    expect(crlNumber(await crlOf())).toBe(before + 1);
    const last = f.audit.entries.at(-1)!;
    expect(last.kind).toBe('certificate.revoked');
    expect(last.data).toMatchObject({ serial: cert.serial, reason: 'superseded', crlNumber: before + 1 });
  });

  it('echoes a nonce, answers unknown for a serial it never issued, and malformedRequest for garbage', async () => {
    const nonce = Buffer.from('0123456789abcdef');
    const withNonce = parseOcspResponse((await ocsp.respond(buildOcspRequest(f.hierarchy.issuing.der, '0badc0ffee', { nonce, hash: 'sha256' }))).der);
    expect(withNonce.singles[0]!.status).toBe('unknown');
    expect(withNonce.nonce!.subarray(2).equals(nonce)).toBe(true);
    for (const garbage of [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('3000', 'hex'), Buffer.from('30820000', 'hex')]) {
      expect(parseOcspResponse((await ocsp.respond(garbage)).der).responseStatus).toBe(OCSP_STATUS.malformedRequest);
    }
    // A certificate of another issuer (the root's own) is unknown to this delegated responder.
    const rootQuestion = buildOcspRequest(f.hierarchy.root.der, f.hierarchy.issuing.serial);
    expect(parseOcspResponse((await ocsp.respond(rootQuestion)).der).singles[0]!.status).toBe('unknown');
  });

  it('re-signs the CRL once half its validity has passed, and not before', async () => {
    const n = crlNumber(await crlOf());
    expect(await f.ca.refreshCrlIfDue()).toBe(false);
    f.now.value = new Date(f.now.value.getTime() + CRL_REFRESH_AFTER_MS + 1000);
    try {
      expect(await f.ca.refreshCrlIfDue()).toBe(true);
      expect(crlNumber(await crlOf())).toBe(n + 1);
    } finally {
      f.now.value = new Date();
    }
  });

  it('revoking an enterprise revokes all its certificates (cessationOfOperation) in one transaction', async () => {
    const other = completeUscc('9131000000030001');
    await f.registry.registerEnterprise({ uscc: other, name: 'Shanghai Closing Co' }, 'admin:test');
    const a = await f.ca.issue({ profile: 'enterprise-signing', uscc: other, csr: await csr() }, 'admin:test');
    const b = await f.ca.issue({ profile: 'enterprise-signing', uscc: other, csr: await csr() }, 'admin:test');
    const entries = f.audit.entries.length;
    const result = await f.registry.revokeEnterprise(other, 'business licence revoked', 'admin:test');
    expect(result.enterprise.status).toBe('revoked');
    expect(result.revokedCertificates.sort()).toEqual([a.serial, b.serial].sort());
    expect(f.audit.entries.slice(entries).map((e) => e.kind)).toEqual(['certificate.revoked', 'certificate.revoked', 'enterprise.revoked']);
    for (const serial of [a.serial, b.serial]) {
      const answer = parseOcspResponse((await ocsp.respond(buildOcspRequest(f.hierarchy.issuing.der, serial))).der);
      expect(answer.singles[0]).toMatchObject({ status: 'revoked', reason: 5 }) // cessationOfOperation;
    }
    expect((await f.registry.listEnterprises({ status: 'revoked' })).map((e) => e.uscc)).toContain(other);
    await expectCode(() => f.registry.revokeEnterprise(other, undefined, 'admin:test'), 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE');
  });

  it('serves as a RevocationSource: good, revoked only from its revocation time on, unknown for strangers', async () => {
    const source = databaseRevocationSource(f.ca);
    const issuing = parseCertificate(f.hierarchy.issuing.der);
    const root = parseCertificate(f.hierarchy.root.der);
    const info = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr: await csr() }, 'admin:test');
    const cert = parseCertificate(Buffer.from(info.pem.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64'));
    expect((await source.status(cert, issuing, new Date())).status).toBe('good');
    expect((await source.status(issuing, root, new Date())).status).toBe('good');
    const revoked = await f.ca.revoke(info.serial, 'keyCompromise', 'admin:test');
    const at = new Date(revoked.revokedAt!);
    expect((await source.status(cert, issuing, new Date(at.getTime() - 1000))).status).toBe('good');
    expect(await source.status(cert, issuing, at)).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect((await source.status(cert, root, new Date())).status).toBe('unknown');
  });
});
