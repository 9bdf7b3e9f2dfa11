import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/app/server.js';
import { copyMigratedPgliteTemplate, createPgDatabase, dropPgDatabase, type Driver } from './db.js';

export interface TestService {
  service: Service;
  /** http://127.0.0.1:PORT */
  url: string;
  dataDir: string;
  config: Config;
  /** Stops the service and removes its data dir and database. */
  stop(): Promise<void>;
}

/**
 * The real service, in process, on a loopback port chosen by the OS, over a fresh database of the
 * given driver and a fresh data dir. Logs are silent unless TEST_LOG_LEVEL is set.
 */
export async function startTestService(driver: Driver, env: NodeJS.ProcessEnv = {}): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chancery-svc-'));
  let databaseUrl: string | undefined;
  if (driver.name === 'pg') databaseUrl = await createPgDatabase();
  // Migrated already: the start then only checks the migrations. Starting on an empty embedded
  // database is what test/cli/serve.test.ts does (and every test service on PostgreSQL).
  else copyMigratedPgliteTemplate(dataDir);
  const config = loadConfig(
    // Suites that probe refusals make hundreds from one address: a wide bucket unless a test sets one.
    { CHANCERY_KEY_PASSPHRASE: 'test-only passphrase, not a secret', CHANCERY_RATE_LIMIT_BURST: '100000', ...env },
    { dataDir, databaseUrl, host: '127.0.0.1', port: '0', logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent' },
  );
  const service = await startService(config, createLogger(config.logLevel));
  return {
    service,
    url: `http://127.0.0.1:${service.server.port}`,
    dataDir,
    config,
    stop: async () => {
      await service.stop();
      if (databaseUrl !== undefined) await dropPgDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
