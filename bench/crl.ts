import { withComposedParts } from './composed.js';
import { buildCsr } from '../src/ca/csr-builder.js';
import { DEFAULT_CRL_PARTITIONS, ISSUING_CA } from '../src/ca/crl-publisher.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import type { Database } from '../src/db/types.js';
import { completeUscc } from '../src/registry/uscc.js';
import { percentile, round } from './lib.js';

/**
 * Revocation cost against the size of the revoked set, with partitioned CRLs: at 10,000 and at
 * 100,000 revoked certificates (seeded rows spread over the 64 partitions, counted as the CA counts
 * them), REVOCATIONS real revocations through `CertificateAuthority.revoke` (row, count, audit
 * entry, commit), one after the other; then the cost of re-signing the partitions of the last
 * few (the median; what the next request for such a CRL pays) and, for comparison, of signing the full CRL
 * (what every revocation paid before partitions). The figure to read is the ratio of the p50 at
 * 100k to the p50 at 10k (flat: ~1), and each p50 against an ECDSA P-256 verify of the same run.
 * On the embedded database, and on PostgreSQL when DATABASE_URL is set.
 */
export async function runCrlBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { partitions: DEFAULT_CRL_PARTITIONS };
  out['pglite'] = await atScales('pglite', baseline);
  if (process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '') out['pg'] = await atScales('pg', baseline);
  return out;
}

const SCALES = [10_000, 100_000];
const REVOCATIONS = 60;
const SIGNINGS = 15;

async function atScales(driver: 'pglite' | 'pg', baseline: Record<string, number>): Promise<Record<string, unknown>> {
  return withComposedParts(driver, 'crl', 10, async ({ db, audit, parts }) => {
    const ca = parts.ca;
    const uscc = completeUscc('9135010000099902');
    await parts.registry.registerEnterprise({ uscc, name: 'CRL Benchmark Co Ltd' }, 'system');
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const issue = async (): Promise<string> => (await ca.issue({ profile: 'enterprise-signing', uscc, csr }, 'system')).serial;
    const verifyMs = 1000 / baseline['ecdsaP256VerifyPerSec']!;
    const result: Record<string, unknown> = {};
    let seeded = 0;
    const p50s: number[] = [];
    for (const scale of SCALES) {
      await seed(db, seeded, scale - seeded);
      seeded = scale;
      const serials: string[] = [];
      for (let i = 0; i < REVOCATIONS + 5; i++) serials.push(await issue());
      const samples: number[] = [];
      for (const [i, serial] of serials.entries()) {
        const start = performance.now();
        await ca.revoke(serial, 'keyCompromise', 'system');
        if (i >= 5) samples.push(performance.now() - start); // the first few warm up
      }
      // Re-signing the partitions of the last SIGNINGS revoked (each behind by its revocation): what the next request pays.
      const signMs: number[] = [];
      let partitionCrl: Buffer = Buffer.alloc(0);
      for (const serial of serials.slice(-SIGNINGS)) {
        const { rows } = await db.query<{ crl_partition: number }>('SELECT crl_partition FROM certificates WHERE serial = $1', [serial]);
        const t = performance.now();
        partitionCrl = await ca.currentPartitionCrl(String(rows[0]!.crl_partition));
        signMs.push(performance.now() - t);
      }
      const partitionSignMs = percentile(signMs, 50);
      const start = performance.now();
      const fullCrl = await ca.currentCrl('issuing');
      const fullSignMs = performance.now() - start;
      const p50 = percentile(samples, 50);
      p50s.push(p50);
      result[`revoked${scale / 1000}k`] = {
        revocationP50Ms: round(p50, 2),
        revocationP99Ms: round(percentile(samples, 99), 2),
        revocationP50InEcdsaVerifies: round(p50 / verifyMs, 1),
        partitionCrlSignP50Ms: round(partitionSignMs, 1),
        partitionCrlBytes: partitionCrl.length,
        fullCrlSignMs: round(fullSignMs, 1),
        fullCrlBytes: fullCrl.length,
        fullVsPartitionSign: round(fullSignMs / partitionSignMs, 1),
      };
    }
    result['revocationP50Ratio100kVs10k'] = round(p50s[1]! / p50s[0]!, 2);
    parts.stop();
    await audit.close();
    return result;
  });
}

/** `count` revoked, unexpired certificate rows after the `from` first, over the partitions, counted in their partitions. */
async function seed(db: Database, from: number, count: number): Promise<void> {
  await db.query(
    `INSERT INTO certificates (serial, issuer, profile, subject, spki_sha256, not_before, not_after, der, issued_at, revoked_at, revocation_reason, crl_partition)
     SELECT '7f' || lpad(to_hex(g), 8, '0'), $4, 'enterprise-signing', 'CN=seeded', repeat('0', 64), now() - interval '1 day',
            now() + interval '300 days', '\\x00'::bytea, now() - interval '1 day', now() - interval '1 hour', g % 6, g % $3
     FROM generate_series($1::int + 1, $1::int + $2::int) AS g`,
    [from, count, DEFAULT_CRL_PARTITIONS, ISSUING_CA],
  );
  await db.query(
    `INSERT INTO crl_revocations (issuer, partition, count)
     SELECT $4, g % $3, count(*) FROM generate_series($1::int + 1, $1::int + $2::int) AS g GROUP BY g % $3
     ON CONFLICT (issuer, partition) DO UPDATE SET count = crl_revocations.count + EXCLUDED.count`,
    [from, count, DEFAULT_CRL_PARTITIONS, ISSUING_CA],
  );
}
