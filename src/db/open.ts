import type { Config } from '../config.js';
import { openPg } from './pg.js';
import { openPglite } from './pglite.js';
import type { Database } from './types.js';

/** The database the configuration names: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  return config.databaseUrl !== undefined ? openPg(config.databaseUrl) : openPglite(config.dataDir);
}
