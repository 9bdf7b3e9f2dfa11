import { join } from 'node:path';
import { HttpAdminClient, DEFAULT_URL, type AdminClient } from '../client/admin.js';
import { loadConfig } from '../config.js';

export interface ConnectionOptions {
  url?: string;
  dataDir?: string;
  credential?: string;
  databaseUrl?: string;
}

/** Opens admin operations directly on a data dir; given to the CLI by the composition root. */
export type OpenDirectAdmin = (dataDir: string, databaseUrl: string | undefined) => Promise<AdminClient>;

/**
 * `--url` given: that service. `--data-dir` given without `--url`: the data dir directly (its
 * embedded database must not be held by a running server; with DATABASE_URL, that database).
 * Neither: the service at http://127.0.0.1:8080 with the credential of ./data/admin.
 */
export async function connect(options: ConnectionOptions, openDirect: OpenDirectAdmin): Promise<AdminClient> {
  if (options.url === undefined && options.dataDir !== undefined) return openDirect(options.dataDir, options.databaseUrl);
  const config = loadConfig(process.env, { dataDir: options.dataDir });
  const credential = options.credential ?? join(config.dataDir, 'admin');
  return HttpAdminClient.login(options.url ?? DEFAULT_URL, credential);
}
