import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeParts, type Parts } from '../src/app/parts.js';
import { openAudit, type AuditPart } from '../src/audit/open.js';
import { FileKeyStore } from '../src/crypto/key-store.js';
import { migrate } from '../src/db/migrate.js';
import { openPg } from '../src/db/pg.js';
import { openPglite } from '../src/db/pglite.js';
import type { Database } from '../src/db/types.js';
import { createLogger } from '../src/log.js';

/**
 * The service's parts composed in process on a fresh database (an embedded PGlite in a temp dir,
 * or a new database on DATABASE_URL's server), for the in-process benchmarks; removed afterwards.
 */
export async function withComposedParts<T>(
  driver: 'pglite' | 'pg',
  name: string,
  poolMax: number,
  run: (composed: { db: Database; audit: AuditPart; parts: Parts }) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), `chancery-bench-${name}-`));
  let db: Database;
  let dropUrl: string | undefined;
  if (driver === 'pglite') {
    db = await openPglite(dataDir);
  } else {
    const { createPgDatabase } = await import('../test/helpers/db.js');
    dropUrl = await createPgDatabase();
    db = await openPg(dropUrl, { max: poolMax });
  }
  const logger = createLogger('warn');
  try {
    await migrate(db);
    const keys = new FileKeyStore(join(dataDir, 'keys'), 'bench-only passphrase, not a secret');
    const audit = await openAudit({ db, keyStore: keys, dataDir, logger });
    const parts = await composeParts({
      db,
      audit: audit.log,
      keys,
      dataDir,
      logger,
      baseUrl: () => 'http://127.0.0.1:8080',
      initializeIfEmpty: true,
      crlRefreshIntervalMs: 0,
    });
    return await run({ db, audit, parts });
  } finally {
    await db.close();
    if (dropUrl !== undefined) {
      const { dropPgDatabase } = await import('../test/helpers/db.js');
      await dropPgDatabase(dropUrl);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
