import { join } from 'node:path';
import type { Config } from '../config.js';
import { FileKeyStore, resolveKeyPassphrase } from '../crypto/key-store.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log.js';

/**
 * What every way of running Chancery opens first: the database (migrated) and the key store of
 * the data dir. The caller owns `db` and closes it; on a failed migration it is closed here.
 */
export async function openStorage(config: Config, logger: Logger): Promise<{ db: Database; keys: FileKeyStore }> {
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const keys = new FileKeyStore(
      join(config.dataDir, 'keys'),
      resolveKeyPassphrase(config.dataDir, config.keyPassphrase, (m) => logger.warn(m)),
    );
    return { db, keys };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
