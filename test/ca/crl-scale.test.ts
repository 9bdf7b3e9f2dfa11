import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCrl } from '../../src/verify/crl.js';
import { drivers } from '../helpers/db.js';
import { createCaFixture, type CaFixture } from './fixtures.js';

/**
 * `count` revoked, unexpired certificate rows straight into the table (serials 7f00000001…), in CRL
 * partition `partition`, counted there as the CA counts its revocations: what a large deployment holds.
 */
async function seedRevoked(f: CaFixture, count: number, partition: number): Promise<void> {
  await f.db.query(
    `INSERT INTO certificates (serial, issuer, profile, subject, spki_sha256, not_before, not_after, der, issued_at, revoked_at, revocation_reason, crl_partition)
     SELECT '7f' || lpad(to_hex(g), 8, '0'), 'issuing', 'enterprise-signing', 'CN=seeded', repeat('0', 64),
            now() - interval '1 day', now() + interval '300 days', '\\x00'::bytea, now() - interval '1 day', now() - interval '1 hour', g % 6, $2
     FROM generate_series(1, $1::int) AS g`,
    [count, partition],
  );
  await f.db.query(
    `INSERT INTO crl_revocations (issuer, partition, count) VALUES ('issuing', $2, $1)
     ON CONFLICT (issuer, partition) DO UPDATE SET count = crl_revocations.count + EXCLUDED.count`,
    [count, partition],
  );
}

const crlKey = (serial: string): string => (parseInt(serial[0]!, 16) >= 8 ? `00${serial}` : serial);

describe.each(drivers())('revocation with a large revoked set on $name', (driver) => {
  let f: CaFixture;
  const uscc = completeUscc('9131000000040000');
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc, name: 'Shanghai Scale Co' }, 'admin:test');
  });
  afterAll(async () => f?.close());

  it('revokes one more certificate when 100,000 in its partition are revoked, and both its partition CRL and the full CRL list them all', async () => {
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const cert = await f.ca.issue({ profile: 'enterprise-signing', uscc, csr }, 'admin:test');
    const { rows } = await f.db.query<{ crl_partition: number }>('SELECT crl_partition FROM certificates WHERE serial = $1', [cert.serial]);
    const partition = rows[0]!.crl_partition;
    await seedRevoked(f, 100_000, partition);
    const revoked = await f.ca.revoke(cert.serial, 'keyCompromise', 'admin:test');
    expect(revoked.status).toBe('revoked');
    const partitionCrl = await f.ca.currentPartitionCrl(String(partition));
    const fullCrl = await f.ca.currentCrl('issuing');
    for (const der of [partitionCrl, fullCrl]) {
      const crl = parseCrl(der);
      expect(crl.entryCount).toBe(100_001);
      expect(crl.entries.get(crlKey(cert.serial))?.[0]?.reason).toBe('keyCompromise');
    }
  }, 300_000);
});
