import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { CRL_REFRESH_AFTER_MS, ROOT_CRL_VALIDITY_MS } from '../../src/ca/crl-publisher.js';
import { KEY_NAMES, loadHierarchy } from '../../src/ca/hierarchy.js';
import { pemEncode } from '../../src/der/pem.js';
import { loadProfiles } from '../../src/ca/profiles.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { crlSource, parseCrl } from '../../src/verify/crl.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { OcspResponder, OCSP_STATUS } from '../../src/ca/ocsp-responder.js';
import { databaseRevocationSource } from '../../src/ca/revocation-source.js';
import { DbError } from '../../src/db/errors.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { registryLookups } from '../../src/registry/registry.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { BASE_URL, createCaFixture, type CaFixture } from './fixtures.js';
import { openssl, scratch } from './openssl.js';
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
    expect(
      crl.tbsCertList.revokedCertificates!.map((r) =>
        Buffer.from(r.userCertificate)
          .toString('hex')
          .replace(/^(00)+/, ''),
      ),
    ).toContain(cert.serial);
    await expectCode(() => f.ca.revoke(cert.serial, 'keyCompromise', 'admin:test'), 'ERR_CA_ALREADY_REVOKED');
    expect(crlNumber(await crlOf())).toBe(before + 1);
    const last = f.audit.entries.at(-1)!;
    expect(last.kind).toBe('certificate.revoked');
    expect(last.data).toMatchObject({ serial: cert.serial, reason: 'superseded', crlPartition: expect.any(Number) });
  });

  it('echoes a nonce, answers unknown for a serial it never issued, and malformedRequest for garbage', async () => {
    const nonce = Buffer.from('0123456789abcdef');
    const withNonce = parseOcspResponse(
      (await ocsp.respond(buildOcspRequest(f.hierarchy.issuing.der, '0badc0ffee', { nonce, hash: 'sha256' }))).der,
    );
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
      expect(answer.singles[0]).toMatchObject({ status: 'revoked', reason: 5 }); // cessationOfOperation;
    }
    expect((await f.registry.listEnterprises({ status: 'revoked' })).map((e) => e.uscc)).toContain(other);
    await expectCode(() => f.registry.revokeEnterprise(other, undefined, 'admin:test'), 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE');
  });

  it('deregistering an enterprise revokes all its certificates (cessationOfOperation) in one transaction, and it stays off the revoked list', async () => {
    const closing = completeUscc('9131000000030002');
    await f.registry.registerEnterprise({ uscc: closing, name: 'Shanghai Voluntary Closure Co' }, 'admin:test');
    const a = await f.ca.issue({ profile: 'enterprise-signing', uscc: closing, csr: await csr() }, 'admin:test');
    const b = await f.ca.issue({ profile: 'enterprise-signing', uscc: closing, csr: await csr() }, 'admin:test');
    const entries = f.audit.entries.length;
    const crlBefore = crlNumber(await crlOf());
    const result = await f.registry.deregisterEnterprise(closing, undefined, 'admin:test');
    expect(result.enterprise).toMatchObject({
      uscc: closing,
      status: 'deregistered',
      statusReason: 'deregistered at its own request',
      statusChangedAt: f.now.value.toISOString(),
    });
    expect(await f.registry.getEnterprise(closing)).toEqual(result.enterprise);
    expect(result.revokedCertificates.sort()).toEqual([a.serial, b.serial].sort());
    const logged = f.audit.entries.slice(entries);
    expect(logged.map((e) => e.kind)).toEqual(['certificate.revoked', 'certificate.revoked', 'enterprise.deregistered']);
    expect(logged.slice(0, 2).map((e) => e.data['reason'])).toEqual(['cessationOfOperation', 'cessationOfOperation']);
    expect(logged[2]).toMatchObject({
      actor: 'admin:test',
      subject: `enterprise:${closing}`,
      data: { uscc: closing, reason: 'deregistered at its own request', certificatesRevoked: 2 },
    });
    for (const serial of [a.serial, b.serial]) {
      const answer = parseOcspResponse((await ocsp.respond(buildOcspRequest(f.hierarchy.issuing.der, serial))).der);
      expect(answer.singles[0]).toMatchObject({ status: 'revoked', reason: 5 }); // cessationOfOperation
    }
    const crl = parseCrl(await f.ca.currentCrl('issuing'));
    expect(crl.crlNumber).toBe(BigInt(crlBefore + 1));
    // CRL serials are DER INTEGERs (a 00 before a high bit); the CA's serials are plain hex.
    const reasons = new Map([...crl.entries].map(([serial, list]) => [serial.replace(/^(00)+/, ''), list[0]!.reason]));
    expect([reasons.get(a.serial), reasons.get(b.serial)]).toEqual(['cessationOfOperation', 'cessationOfOperation']);
    expect((await f.registry.listEnterprises({ status: 'revoked' })).map((e) => e.uscc)).not.toContain(closing);
    expect((await f.registry.listEnterprises({ status: 'deregistered' })).map((e) => e.uscc)).toEqual([closing]);

    // Once ended, it cannot be ended again either way, and nothing changes.
    await expectCode(() => f.registry.deregisterEnterprise(closing, 'again', 'admin:test'), 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE');
    await expectCode(() => f.registry.revokeEnterprise(closing, 'licence revoked', 'admin:test'), 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE');
    await expectCode(
      () => f.registry.deregisterEnterprise(completeUscc('9131000000030009'), undefined, 'admin:test'),
      'ERR_REGISTRY_ENTERPRISE_NOT_FOUND',
    );
    expect(f.audit.entries.length).toBe(entries + 3);
    expect(await f.registry.getEnterprise(closing)).toEqual(result.enterprise);
    expect(crlNumber(await crlOf())).toBe(crlBefore + 1);
    // The revoked enterprise of the test before cannot be deregistered afterwards.
    await expectCode(
      () => f.registry.deregisterEnterprise(completeUscc('9131000000030001'), undefined, 'admin:test'),
      'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE',
    );
    expect((await f.registry.getEnterprise(completeUscc('9131000000030001'))).status).toBe('revoked');
  });

  it('keeps the reason given for a deregistration, and deregisters an enterprise without certificates without touching the CRL', async () => {
    const empty = completeUscc('9131000000030003');
    await f.registry.registerEnterprise({ uscc: empty, name: 'Shanghai Never Signed Co' }, 'admin:test');
    const before = crlNumber(await crlOf());
    const result = await f.registry.deregisterEnterprise(empty, '  merged into Shanghai Holding Co  ', 'admin:test');
    expect(result).toMatchObject({
      enterprise: { status: 'deregistered', statusReason: 'merged into Shanghai Holding Co' },
      revokedCertificates: [],
    });
    expect(f.audit.entries.at(-1)).toMatchObject({
      kind: 'enterprise.deregistered',
      data: { reason: 'merged into Shanghai Holding Co', certificatesRevoked: 0 },
    });
    expect(crlNumber(await crlOf())).toBe(before);
    await expectCode(
      () => f.registry.deregisterEnterprise(completeUscc('9131000000030004'), 'x'.repeat(501), 'admin:test'),
      'ERR_REGISTRY_INVALID',
    );
  });

  it('serves as a RevocationSource: good, revoked only from its revocation time on, unknown for strangers', async () => {
    const source = databaseRevocationSource(f.ca);
    const issuing = parseCertificate(f.hierarchy.issuing.der);
    const root = parseCertificate(f.hierarchy.root.der);
    const info = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr: await csr() }, 'admin:test');
    const cert = parseCertificate(
      Buffer.from(
        info.pem
          .split('\n')
          .filter((l) => !l.startsWith('-----'))
          .join(''),
        'base64',
      ),
    );
    expect((await source.status(cert, issuing, new Date())).status).toBe('good');
    expect((await source.status(issuing, root, new Date())).status).toBe('good');
    const revoked = await f.ca.revoke(info.serial, 'keyCompromise', 'admin:test');
    const at = new Date(revoked.revokedAt!);
    expect((await source.status(cert, issuing, new Date(at.getTime() - 1000))).status).toBe('good');
    expect(await source.status(cert, issuing, at)).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect((await source.status(cert, root, new Date())).status).toBe('unknown');
    // A database that cannot be reached is no answer at all; a failing query is an unknown status.
    const failing = (error: Error): CertificateAuthority =>
      Object.assign(Object.create(f.ca) as CertificateAuthority, { certificateStatus: () => Promise.reject(error) });
    const unreachable = new DbError('ERR_DB_UNREACHABLE', 'the database is not reachable; try again shortly');
    await expectCode(
      () => databaseRevocationSource(failing(unreachable)).status(cert, issuing, new Date()),
      'ERR_VERIFY_SOURCE_UNAVAILABLE',
    );
    expect(await databaseRevocationSource(failing(new Error('relation missing'))).status(cert, issuing, new Date())).toMatchObject({
      status: 'unknown',
    });
  });

  it("publishes the root's CRL at init: empty, signed by the root (openssl and our CRL source agree), valid a week, and the issuing CA points at it", async () => {
    const der = await f.ca.currentCrl('root');
    const crl = parseCrl(der);
    const root = parseCertificate(f.hierarchy.root.der);
    const issuing = parseCertificate(f.hierarchy.issuing.der);
    expect(crl.issuer.equals(root.subject)).toBe(true);
    expect(crl.entries.size).toBe(0);
    expect(crl.crlNumber).toBeGreaterThanOrEqual(1n);
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(ROOT_CRL_VALIDITY_MS);
    expect(f.audit.entries.find((e) => e.kind === 'ca.initialized')!.data).toMatchObject({ crlNumber: 1, rootCrlNumber: 1 });

    const files = scratch();
    files.write('root.pem', pemEncode('CERTIFICATE', f.hierarchy.root.der));
    files.write('root.crl', der);
    const checked = await openssl(['crl', '-inform', 'DER', '-in', files.path('root.crl'), '-CAfile', files.path('root.pem'), '-noout']);
    expect([checked.code, checked.stdout + checked.stderr]).toEqual([0, expect.stringContaining('verify OK')]);
    // Signed by the issuing CA instead, it would not do: openssl refuses it against the root.
    files.write('issuing.crl', await f.ca.currentCrl('issuing'));
    const wrong = await openssl(['crl', '-inform', 'DER', '-in', files.path('issuing.crl'), '-CAfile', files.path('root.pem'), '-noout']);
    expect(wrong.stdout + wrong.stderr).not.toContain('verify OK');

    // The issuing CA's status, from the root's CRL alone (signature checked by crlSource).
    expect(await crlSource([der]).status(issuing, root, f.now.value)).toMatchObject({
      status: 'good',
      source: expect.stringContaining('Chancery Root CA'),
    });
    expect((await crlSource([await f.ca.currentCrl('issuing')]).status(issuing, root, f.now.value)).status).toBe('unknown');
    // Its pointers: the root's CRL and certificate, and no OCSP (the root has no responder).
    expect(issuing.crlDistributionPoints?.flatMap((dp) => dp.distributionPoint?.fullName ?? [])).toEqual([
      { type: 'uri', value: `${BASE_URL}/ca/root.crl` },
    ]);
    expect(issuing.authorityInfoAccess?.map((a) => a.location)).toEqual([{ type: 'uri', value: `${BASE_URL}/ca/root.cer` }]);
    await expectCode(() => f.ca.currentCrl('nosuch'), 'ERR_CA_UNKNOWN_CA');
  });

  it('re-signs the root CRL at half its week with a higher number, on its own schedule and not on revocations', async () => {
    const rootNumber = async (): Promise<bigint> => parseCrl(await f.ca.currentCrl('root')).crlNumber!;
    const start = f.now.value.getTime();
    const n = await rootNumber();
    try {
      // Half a day on: the issuing CA's CRL is due, the root's is not.
      f.now.value = new Date(start + CRL_REFRESH_AFTER_MS + 1000);
      expect(await f.ca.refreshCrlIfDue('root')).toBe(false);
      expect(await f.ca.refreshCrlIfDue()).toBe(true);
      expect(await rootNumber()).toBe(n);
      const info = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr: await csr() }, 'admin:test');
      await f.ca.revoke(info.serial, 'superseded', 'admin:test');
      expect(await rootNumber()).toBe(n);
      // Half a week on: the root's is re-signed, once.
      f.now.value = new Date(start + ROOT_CRL_VALIDITY_MS / 2 + 1000);
      expect(await f.ca.refreshCrlIfDue('root')).toBe(true);
      expect(await f.ca.refreshCrlIfDue('root')).toBe(false);
      const crl = parseCrl(await f.ca.currentCrl('root'));
      expect(crl.crlNumber).toBe(n + 1n);
      expect(crl.thisUpdate.getTime()).toBe(Math.floor(f.now.value.getTime() / 1000) * 1000);
      expect(crl.entries.size).toBe(0);
    } finally {
      f.now.value = new Date();
    }
  });

  it('publishes the root CRL lazily where none was stored (a data dir from before), and a node without the root key serves the stored one', async () => {
    await f.db.query("DELETE FROM crls WHERE issuer = 'root'");
    // A node whose key store lacks the root key (the operator keeps it elsewhere).
    const keys = mkdtempSync(join(tmpdir(), 'chancery-keys-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'chancery-node-'));
    try {
      cpSync(join(f.dataDir, 'keys'), keys, { recursive: true, filter: (src) => !src.endsWith(`${KEY_NAMES.root}.key.pem`) });
      const hierarchy = await loadHierarchy({ db: f.db, keys: new FileKeyStore(keys, 'test-only passphrase, not a secret'), dataDir });
      expect(hierarchy.root.signer).toBeUndefined();
      const keyless = new CertificateAuthority({
        db: f.db,
        audit: f.audit,
        holders: registryLookups,
        profiles: loadProfiles(),
        hierarchy,
        now: () => f.now.value,
        baseUrl: () => BASE_URL,
      });
      await expectCode(() => keyless.currentCrl('root'), 'ERR_CA_NOT_INITIALIZED');

      const der = await f.ca.currentCrl('root');
      expect(parseCrl(der).crlNumber).toBe(1n);
      expect((await keyless.currentCrl('root')).equals(der)).toBe(true);
      expect((await f.ca.currentCrl('root')).equals(der)).toBe(true);
    } finally {
      rmSync(keys, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
