import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, type CertificateInfo } from '../../src/ca/authority.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { crlPartitionOf, DEFAULT_CRL_PARTITIONS, partitionCrlUrl } from '../../src/ca/crl-publisher.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { OcspResponder } from '../../src/ca/ocsp-responder.js';
import { loadProfiles } from '../../src/ca/profiles.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { pemEncode } from '../../src/der/pem.js';
import { registryLookups } from '../../src/registry/registry.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';
import { parseCrl, type Crl } from '../../src/verify/crl.js';
import { EXT } from '../../src/oids.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { BASE_URL, createCaFixture, type CaFixture } from './fixtures.js';
import { parseOcspResponse } from './ocsp-parse.js';
import { openssl, scratch } from './openssl.js';

const csr = async (): Promise<string> => (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
const certOf = (info: CertificateInfo): Certificate => parseCertificate(Buffer.from(info.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
const crlKey = (serial: string): string => (parseInt(serial[0]!, 16) >= 8 ? `00${serial}` : serial);
const lists = (crl: Crl, serial: string): boolean => crl.entries.has(crlKey(serial));
const dpUris = (cert: Certificate): string[] =>
  (cert.crlDistributionPoints ?? []).flatMap((dp) => dp.distributionPoint?.fullName ?? []).map((n) => (n as { value: string }).value);

describe.each(drivers())('partitioned CRLs on $name', (driver) => {
  let f: CaFixture;
  /** A CA of two partitions over the fixture's database: certificates share partitions quickly. */
  let ca2: CertificateAuthority;
  const uscc = completeUscc('9131000000050000');
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc, name: 'Shanghai Partition Co' }, 'admin:test');
    ca2 = new CertificateAuthority({
      db: f.db,
      audit: f.audit,
      holders: registryLookups,
      profiles: loadProfiles(),
      hierarchy: f.hierarchy,
      now: () => f.now.value,
      baseUrl: () => BASE_URL,
      crlPartitions: 2,
    });
  });
  afterAll(async () => f?.close());

  const issue = (ca: CertificateAuthority = f.ca) =>
    csr().then((c) => ca.issue({ profile: 'enterprise-signing', uscc, csr: c }, 'admin:test'));
  const stored = async (serial: string): Promise<number | null> =>
    (await f.db.query<{ crl_partition: number | null }>('SELECT crl_partition FROM certificates WHERE serial = $1', [serial])).rows[0]!
      .crl_partition;
  const signedNumber = async (partition: number): Promise<number | undefined> => {
    const { rows } = await f.db.query<{ number: string }>("SELECT number FROM crl_partitions WHERE issuer = 'issuing' AND partition = $1", [
      partition,
    ]);
    return rows[0] === undefined ? undefined : Number(rows[0].number);
  };

  it("names the certificate's partition in its CRL distribution point, chosen from its serial", async () => {
    const info = await issue();
    const partition = crlPartitionOf(info.serial, DEFAULT_CRL_PARTITIONS);
    expect(await stored(info.serial)).toBe(partition);
    expect(dpUris(certOf(info))).toEqual([`${BASE_URL}/ca/crl/${partition}`]);
    // The hierarchy's own service certificates name the full CRL, as before partitions.
    expect(dpUris(parseCertificate(f.hierarchy.seal.der))).toEqual([`${BASE_URL}/ca/issuing.crl`]);
  });

  it('a revocation signs no CRL; the next CRL of its partition lists it, with a critical issuingDistributionPoint naming the same URL', async () => {
    const info = await issue();
    const partition = (await stored(info.serial))!;
    const first = parseCrl(await f.ca.currentPartitionCrl(String(partition)));
    expect(lists(first, info.serial)).toBe(false);
    const idp = first.extensions.find((e) => e.oid === EXT.issuingDistributionPoint);
    expect(idp?.critical).toBe(true);
    expect(first.issuingDistributionPoint).toMatchObject({ onlyContainsUserCerts: true, onlyContainsCACerts: false, indirectCrl: false });
    expect(first.issuingDistributionPoint!.distributionPoint!.fullName).toEqual([
      { type: 'uri', value: partitionCrlUrl(BASE_URL, partition) },
    ]);
    expect(first.problems).toEqual([]);
    // Served again unchanged while nothing happened.
    expect((await f.ca.currentPartitionCrl(String(partition))).equals(first.der)).toBe(true);

    const other = (partition + 1) % DEFAULT_CRL_PARTITIONS;
    const otherBefore = parseCrl(await f.ca.currentPartitionCrl(String(other)));
    await f.ca.revoke(info.serial, 'keyCompromise', 'admin:test');
    expect(f.audit.entries.at(-1)!.data).toMatchObject({ serial: info.serial, crlPartition: partition });
    expect(await signedNumber(partition)).toBe(Number(first.crlNumber)); // nothing signed by the revocation itself

    const after = parseCrl(await f.ca.currentPartitionCrl(String(partition)));
    expect(after.crlNumber).toBe(first.crlNumber! + 1n);
    expect(after.entries.get(crlKey(info.serial))?.[0]?.reason).toBe('keyCompromise');
    // Another partition is not re-signed.
    expect((await f.ca.currentPartitionCrl(String(other))).equals(otherBefore.der)).toBe(true);
    // The full CRL lists it too (a small deployment's single list).
    expect(lists(parseCrl(await f.ca.currentCrl('issuing')), info.serial)).toBe(true);
  });

  it('refuses a partition that does not exist', async () => {
    for (const bad of [String(DEFAULT_CRL_PARTITIONS), '-1', '01', 'x', '1e3', '99999', '']) {
      await expectCode(() => f.ca.currentPartitionCrl(bad), 'ERR_CA_UNKNOWN_CA');
    }
  });

  it('concurrent revocations in one partition all succeed, CRL numbers only grow, and each acknowledged revocation is on the next CRL', async () => {
    const certs = await Promise.all(Array.from({ length: 12 }, () => issue(ca2)));
    const byPartition = new Map<number, CertificateInfo[]>();
    for (const c of certs) {
      const p = (await stored(c.serial))!;
      expect(p).toBe(crlPartitionOf(c.serial, 2));
      byPartition.set(p, [...(byPartition.get(p) ?? []), c]);
    }
    const numbers: bigint[] = [];
    await Promise.all(
      certs.map(async (c) => {
        await ca2.revoke(c.serial, 'superseded', 'admin:test');
        const partition = crlPartitionOf(c.serial, 2);
        const crl = parseCrl(await ca2.currentPartitionCrl(String(partition)));
        expect(lists(crl, c.serial)).toBe(true);
        if (partition === 0) numbers.push(crl.crlNumber!);
      }),
    );
    // Numbers seen in order of the answers never go down.
    expect([...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(numbers);
    for (const [p, list] of byPartition) {
      const crl = parseCrl(await ca2.currentPartitionCrl(String(p)));
      for (const c of list) expect(lists(crl, c.serial)).toBe(true);
      for (const c of byPartition.get(1 - p) ?? []) expect(lists(crl, c.serial)).toBe(false);
    }
  });

  it('a licence revocation counts every certificate in its own partition, and OCSP says revoked at once', async () => {
    const other = completeUscc('9131000000050001');
    await f.registry.registerEnterprise({ uscc: other, name: 'Shanghai Cascade Co' }, 'admin:test');
    const certs = await Promise.all(
      Array.from({ length: 6 }, () => csr().then((c) => ca2.issue({ profile: 'enterprise-signing', uscc: other, csr: c }, 'admin:test'))),
    );
    const ocsp = new OcspResponder({
      issuer: { subject: f.hierarchy.issuing.subject, spki: f.hierarchy.issuing.spki },
      responder: { der: f.hierarchy.ocsp.der, spki: f.hierarchy.ocsp.spki, signer: f.hierarchy.ocsp.signer },
      status: (serial) => ca2.certificateStatus(serial),
      epoch: () => ca2.revocationEpoch(),
      now: () => f.now.value,
    });
    const ask = async (serial: string) =>
      parseOcspResponse((await ocsp.respond(buildOcspRequest(f.hierarchy.issuing.der, serial))).der).singles[0]!.status;
    expect(await ask(certs[0]!.serial)).toBe('good');
    const registry = new (f.registry.constructor as new (deps: unknown) => typeof f.registry)({
      db: f.db,
      audit: f.audit,
      now: () => f.now.value,
      certificates: ca2,
    });
    await registry.revokeEnterprise(other, 'licence revoked', 'admin:test');
    ca2.revocationsCommitted();
    ocsp.invalidate();
    for (const c of certs) {
      expect(await ask(c.serial)).toBe('revoked');
      const logged = f.audit.entries.find((e) => e.kind === 'certificate.revoked' && e.data['serial'] === c.serial)!;
      expect(logged.data['crlPartition']).toBe(crlPartitionOf(c.serial, 2));
      expect(lists(parseCrl(await ca2.currentPartitionCrl(String(crlPartitionOf(c.serial, 2)))), c.serial)).toBe(true);
    }
  });

  it('drops an expired certificate from its partition CRL at the next signing, keeping its row revoked', async () => {
    const info = await issue();
    const partition = (await stored(info.serial))!;
    await f.ca.revoke(info.serial, 'superseded', 'admin:test');
    expect(lists(parseCrl(await f.ca.currentPartitionCrl(String(partition))), info.serial)).toBe(true);
    const start = f.now.value;
    try {
      f.now.value = new Date(new Date(info.notAfter).getTime() + 1000);
      const crl = parseCrl(await f.ca.currentPartitionCrl(String(partition)));
      expect(crl.thisUpdate.getTime()).toBeGreaterThan(new Date(info.notAfter).getTime());
      expect(lists(crl, info.serial)).toBe(false);
      expect((await f.ca.getCertificate(info.serial)).revokedAt).not.toBeNull();
      expect((await f.ca.certificateStatus(info.serial)).status).toBe('revoked');
    } finally {
      f.now.value = start;
    }
  });

  it('openssl verify -crl_check_all accepts a certificate with its partition CRL, refuses it once revoked, and will not use another partition', async () => {
    const info = await issue();
    const partition = (await stored(info.serial))!;
    const files = scratch();
    files.write('root.pem', pemEncode('CERTIFICATE', f.hierarchy.root.der));
    files.write('issuing.pem', pemEncode('CERTIFICATE', f.hierarchy.issuing.der));
    files.write('root-crl.pem', pemEncode('X509 CRL', await f.ca.currentCrl('root')));
    files.write('leaf.pem', info.pem);
    const verify = async (crl: Buffer) => {
      files.write('partition.pem', pemEncode('X509 CRL', crl));
      const args = ['verify', '-CAfile', files.path('root.pem'), '-untrusted', files.path('issuing.pem'), '-crl_check_all'];
      return openssl([...args, '-CRLfile', files.path('partition.pem'), '-CRLfile', files.path('root-crl.pem'), files.path('leaf.pem')]);
    };
    const ok = await verify(await f.ca.currentPartitionCrl(String(partition)));
    expect([ok.code, ok.stdout + ok.stderr]).toEqual([0, expect.stringContaining(': OK')]);
    const wrong = await verify(await f.ca.currentPartitionCrl(String((partition + 1) % DEFAULT_CRL_PARTITIONS)));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain('different CRL scope');

    await f.ca.revoke(info.serial, 'keyCompromise', 'admin:test');
    const refused = await verify(await f.ca.currentPartitionCrl(String(partition)));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('certificate revoked');
  });

  it('with no partitions, certificates name the full CRL and there is no partition route', async () => {
    const flat = new CertificateAuthority({
      db: f.db,
      audit: f.audit,
      holders: registryLookups,
      profiles: loadProfiles(),
      hierarchy: f.hierarchy,
      now: () => f.now.value,
      baseUrl: () => BASE_URL,
      crlPartitions: 0,
    });
    const info = await issue(flat);
    expect(await stored(info.serial)).toBeNull();
    expect(dpUris(certOf(info))).toEqual([`${BASE_URL}/ca/issuing.crl`]);
    await flat.revoke(info.serial, 'superseded', 'admin:test');
    expect(lists(parseCrl(await flat.currentCrl('issuing')), info.serial)).toBe(true);
    // Partitions used by certificates issued earlier stay served; unused ones do not exist.
    const used = (
      await f.db.query<{ partition: number }>("SELECT partition FROM crl_revocations WHERE issuer = 'issuing' AND partition >= 0")
    ).rows[0]!.partition;
    expect(parseCrl(await flat.currentPartitionCrl(String(used))).issuingDistributionPoint).toBeDefined();
    await expectCode(() => flat.currentPartitionCrl('4000'), 'ERR_CA_UNKNOWN_CA');
  });
});
