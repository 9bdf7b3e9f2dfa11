import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { DEFAULT_CRL_PARTITIONS } from '../../src/ca/crl-publisher.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { drivers } from '../helpers/db.js';
import { createCaFixture, type CaFixture } from '../ca/fixtures.js';
import { generalizedTime } from '../../src/der/time.js';
import { bitString, explicit, oid, sequence, sequenceOf, smallInteger, tlv } from '../../src/der/writer.js';
import { TAG } from '../../src/der/tags.js';
import { crlSource, parseCrl } from '../../src/verify/crl.js';
import { expectCode } from '../helpers/expect-code.js';

/** An (unsigned) CRL whose entries carry the given serial INTEGER contents, for the parser alone. */
function crlWithSerials(serials: Buffer[]): Buffer {
  const algorithm = sequence(oid('1.2.840.10045.4.3.2'));
  const issuer = sequence(tlv(TAG.SET, sequence(oid('2.5.4.3'), tlv(TAG.UTF8_STRING, Buffer.from('Test CA')))));
  const at = generalizedTime(new Date('2026-03-01T07:00:00Z'));
  const entries = sequenceOf(serials.map((s) => sequence(tlv(TAG.INTEGER, s), at)));
  const tbs = sequence(smallInteger(1), algorithm, issuer, at, at, entries, explicit(0, sequence()));
  return sequence(tbs, algorithm, bitString(Buffer.alloc(8)));
}

describe('CRL parsing', () => {
  it('reads the serial numbers of its entries', () => {
    const crl = parseCrl(crlWithSerials([Buffer.from('4593', 'hex'), Buffer.from('00c964', 'hex')]));
    expect([...crl.entries.keys()].sort()).toEqual(['00c964', '4593']);
  });

  it('refuses an entry whose serial has a redundant leading octet (X.690 §8.3.2), which no encoder may write', async () => {
    await expectCode(() => parseCrl(crlWithSerials([Buffer.from('004593', 'hex')])), 'ERR_VERIFY_MALFORMED');
  });
});

describe.each(drivers())('partition CRLs as a revocation source (RFC 5280 §6.3.3) on $name', (driver) => {
  let f: CaFixture;
  const uscc = completeUscc('9131000000060000');
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc, name: 'Shanghai Verify Partition Co' }, 'admin:test');
  });
  afterAll(async () => f?.close());

  it("accepts the partition CRL its certificate names, and refuses another partition's or one for a certificate naming the full CRL", async () => {
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const info = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr }, 'admin:test');
    const cert = parseCertificate(Buffer.from(info.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const issuing = parseCertificate(f.hierarchy.issuing.der);
    const uri = cert.crlDistributionPoints![0]!.distributionPoint!.fullName![0] as { value: string };
    const partition = Number(/\/ca\/crl\/(\d+)$/.exec(uri.value)![1]);
    const own = await f.ca.currentPartitionCrl(String(partition));
    const other = await f.ca.currentPartitionCrl(String((partition + 1) % DEFAULT_CRL_PARTITIONS));

    expect(await crlSource([own]).status(cert, issuing, f.now.value)).toMatchObject({ status: 'good' });
    const refused = await crlSource([other]).status(cert, issuing, f.now.value);
    expect(refused.status).toBe('unknown');
    expect((refused as { reason: string }).reason).toContain(
      "its issuing distribution point is not one of the certificate's distribution points",
    );
    // The service seal names the full CRL: no partition CRL speaks for it, the full CRL (no IDP) does.
    const seal = parseCertificate(f.hierarchy.seal.der);
    expect((await crlSource([own]).status(seal, issuing, f.now.value)).status).toBe('unknown');
    expect((await crlSource([await f.ca.currentCrl('issuing')]).status(seal, issuing, f.now.value)).status).toBe('good');

    await f.ca.revoke(info.serial, 'keyCompromise', 'admin:test');
    expect(await crlSource([await f.ca.currentPartitionCrl(String(partition))]).status(cert, issuing, f.now.value)).toMatchObject({
      status: 'revoked',
      reason: 'keyCompromise',
    });
    // With both partitions at hand, the one that applies decides.
    expect((await crlSource([other, await f.ca.currentPartitionCrl(String(partition))]).status(cert, issuing, f.now.value)).status).toBe(
      'revoked',
    );
  });
});
