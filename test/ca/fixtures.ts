import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditLog, NewEntry } from '../../src/audit/types.js';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { caUrls } from '../../src/ca/crl-publisher.js';
import { initializeHierarchy, type Hierarchy } from '../../src/ca/hierarchy.js';
import { loadProfiles } from '../../src/ca/profiles.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import type { Database } from '../../src/db/types.js';
import { Registry, registryLookups } from '../../src/registry/registry.js';
import { createMigrated, type Driver, type TestDatabase } from '../helpers/db.js';

/**
 * An audit log that commits entries with the caller's transaction and keeps them in memory after
 * the commit, so tests can assert on exactly what was logged.
 */
export function recordingAudit(db: Database): AuditLog & { entries: NewEntry[] } {
  const entries: NewEntry[] = [];
  return {
    entries,
    async record(work) {
      const pending: NewEntry[] = [];
      const value = await db.transaction((tx) => {
        pending.length = 0;
        return work(tx, async (entry) => {
          pending.push(entry);
          return { index: entries.length + pending.length - 1, leafHash: '00'.repeat(32), time: new Date().toISOString() };
        });
      });
      for (const entry of pending) entries.push(entry);
      return value;
    },
  };
}

export interface CaFixture {
  t: TestDatabase;
  db: Database;
  audit: AuditLog & { entries: NewEntry[] };
  registry: Registry;
  ca: CertificateAuthority;
  hierarchy: Hierarchy;
  dataDir: string;
  now: { value: Date };
  close(): Promise<void>;
}

export const BASE_URL = 'http://ca.test:8080';

/** A migrated database of the driver with an initialized CA, registry and recording audit. */
export async function createCaFixture(driver: Driver): Promise<CaFixture> {
  const t = await createMigrated(driver);
  const dataDir = mkdtempSync(join(tmpdir(), 'chancery-ca-'));
  const audit = recordingAudit(t.db);
  const now = { value: new Date() };
  const clock = (): Date => now.value;
  const profiles = loadProfiles();
  const { hierarchy } = await initializeHierarchy({
    db: t.db,
    audit,
    keys: new FileKeyStore(join(dataDir, 'keys'), 'test-only passphrase, not a secret'),
    profiles,
    now: clock,
    dataDir,
    urls: caUrls(BASE_URL),
  });
  const ca = new CertificateAuthority({
    db: t.db,
    audit,
    holders: registryLookups,
    profiles,
    hierarchy,
    now: clock,
    baseUrl: () => BASE_URL,
  });
  const registry = new Registry({ db: t.db, audit, now: clock, certificates: ca });
  return {
    t,
    db: t.db,
    audit,
    registry,
    ca,
    hierarchy,
    dataDir,
    now,
    close: async () => {
      await t.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
