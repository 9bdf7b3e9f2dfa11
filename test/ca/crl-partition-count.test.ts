import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeParts, type Parts } from '../../src/app/parts.js';
import { openAudit, type AuditPart } from '../../src/audit/open.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { crlPartitionOf, DEFAULT_CRL_PARTITIONS } from '../../src/ca/crl-publisher.js';
import { settleCrlPartitionCount } from '../../src/ca/hierarchy.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/log.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';

const BASE = 'http://ca.test:8080';
const logger = createLogger('silent');

/** A node of the service over `t`: its own audit part and composed parts, as `chancery serve` builds them. */
async function compose(t: TestDatabase, dataDir: string, crlPartitions: number | undefined): Promise<{ audit: AuditPart; parts: Parts }> {
  const keys = new FileKeyStore(join(dataDir, 'keys'), 'test-only passphrase, not a secret');
  const audit = await openAudit({ db: t.db, keyStore: keys, dataDir, logger });
  try {
    const parts = await composeParts({
      db: t.db,
      audit: audit.log,
      keys,
      dataDir,
      logger,
      baseUrl: () => BASE,
      initializeIfEmpty: true,
      crlPartitions,
      crlRefreshIntervalMs: 0,
    });
    return { audit, parts };
  } catch (error) {
    await audit.close();
    throw error;
  }
}

const stored = async (t: TestDatabase): Promise<Array<{ issuer: string; partitions: number }>> =>
  (await t.db.query<{ issuer: string; partitions: number }>('SELECT issuer, partitions FROM ca_crl_partition_count')).rows.map((r) => ({
    issuer: r.issuer,
    partitions: Number(r.partitions),
  }));

describe.each(drivers())('the CRL partition count is chosen at init and fixed ($name)', (driver) => {
  let t: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'chancery-partition-count-'));
  let first: { audit: AuditPart; parts: Parts } | undefined;
  beforeAll(async () => {
    t = await createMigrated(driver);
    first = await compose(t, dataDir, 8);
  });
  afterAll(async () => {
    first?.parts.stop();
    await first?.audit.close();
    await t?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores the count init was given, records it in ca.initialized, and issues into those partitions', async () => {
    expect(await stored(t)).toEqual([{ issuer: 'issuing', partitions: 8 }]);
    const { parts, audit } = first!;
    expect(parts.ca.crlPartitions).toBe(8);
    const initialized = JSON.parse((await audit.reader.entries(0, 1)).entries[0]!.entry) as { kind: string; data: Record<string, unknown> };
    expect(initialized.kind).toBe('ca.initialized');
    expect(initialized.data['crlPartitions']).toBe(8);

    const uscc = completeUscc('9133010000070000');
    await parts.registry.registerEnterprise({ uscc, name: 'Hangzhou Partition Count Co' }, 'admin:test');
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
      const info = await parts.ca.issue({ profile: 'enterprise-signing', uscc, csr }, 'admin:test');
      const cert = parseCertificate(Buffer.from(info.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      const uris = (cert.crlDistributionPoints ?? [])
        .flatMap((dp) => dp.distributionPoint?.fullName ?? [])
        .map((n) => (n as { value: string }).value);
      const partition = crlPartitionOf(info.serial, 8);
      expect(uris).toEqual([`${BASE}/ca/crl/${partition}`]);
      seen.add(partition);
    }
    // Twelve serials over eight partitions: more than one partition, none outside 0..7.
    expect(seen.size).toBeGreaterThan(1);
    expect([...seen].every((p) => p >= 0 && p < 8)).toBe(true);
  });

  it('every later start (another node, a restart) uses the stored count, unset or given the same', async () => {
    for (const requested of [undefined, 8]) {
      const node = await compose(t, dataDir, requested);
      try {
        expect(node.parts.ca.crlPartitions).toBe(8);
      } finally {
        node.parts.stop();
        await node.audit.close();
      }
    }
  });

  it('refuses a start with a different count, naming both, and leaves the stored count alone', async () => {
    const error = await expectCode(() => compose(t, dataDir, 16), 'ERR_CA_STATE_MISMATCH');
    expect(error.message).toContain('CHANCERY_CRL_PARTITIONS (--crl-partitions) is 16');
    expect(error.message).toContain('initialized with 8 CRL partitions');
    await expectCode(() => settleCrlPartitionCount(t.db, 64, () => new Date()), 'ERR_CA_STATE_MISMATCH');
    expect(await stored(t)).toEqual([{ issuer: 'issuing', partitions: 8 }]);
  });

  it('refuses counts outside 1..4096 before reading anything', async () => {
    for (const bad of [0, -1, 4097, 2.5]) await expect(settleCrlPartitionCount(t.db, bad, () => new Date())).rejects.toThrow(RangeError);
    expect(await stored(t)).toEqual([{ issuer: 'issuing', partitions: 8 }]);
  });
});

describe.each(drivers())('the stored CRL partition count without a choice ($name)', (driver) => {
  it('is the default when init was given none', async () => {
    const t = await createMigrated(driver);
    const dataDir = mkdtempSync(join(tmpdir(), 'chancery-partition-count-'));
    try {
      const node = await compose(t, dataDir, undefined);
      node.parts.stop();
      await node.audit.close();
      expect(node.parts.ca.crlPartitions).toBe(DEFAULT_CRL_PARTITIONS);
      expect(await stored(t)).toEqual([{ issuer: 'issuing', partitions: DEFAULT_CRL_PARTITIONS }]);
    } finally {
      await t.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is 64, the count it issued with, for a CA initialized before the count was stored', async () => {
    const t = await driver.create();
    try {
      const all = readMigrations();
      await migrate(
        t.db,
        all.filter((m) => m.id < 25),
      );
      await t.db.query(
        "INSERT INTO ca_hierarchy (role, serial, key_name, der, created_at) VALUES ('issuing', '01', 'issuing-ca', $1, now())",
        [Buffer.from([0x30, 0x00])],
      );
      await migrate(t.db, all);
      expect(await stored(t)).toEqual([{ issuer: 'issuing', partitions: 64 }]);
    } finally {
      await t.drop();
    }
  });
});
