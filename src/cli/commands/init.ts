import type { Command } from 'commander';
import { join } from 'node:path';
import { openAudit } from '../../audit/open.js';
import { initializeHierarchy } from '../../ca/hierarchy.js';
import { loadProfiles } from '../../ca/profiles.js';
import { caUrls } from '../../ca/crl-publisher.js';
import { loadConfig } from '../../config.js';
import { FileKeyStore, resolveKeyPassphrase } from '../../crypto/key-store.js';
import { prepareDataDir } from '../../data-dir.js';
import { migrate } from '../../db/migrate.js';
import { openDatabase } from '../../db/open.js';
import { createLogger } from '../../log.js';
import { action, print } from '../run.js';

/**
 * `chancery init`: makes the CA hierarchy (root P-384, issuing CA P-256, delegated OCSP responder,
 * service seal), the log key and the operator's admin credential in the data dir, and records
 * `ca.initialized` in the audit log. Refuses to replace an existing hierarchy.
 */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the CA hierarchy, service keys and the admin credential in the data dir')
    .option('--data-dir <dir>', 'data directory (env CHANCERY_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; default: the embedded database)')
    .option('--public-url <url>', 'base URL the service will be reached at, for CRL/OCSP pointers (env CHANCERY_PUBLIC_URL, default http://HOST:PORT)')
    .option('--admin-name <name>', 'CN of the admin certificate', 'Chancery registry operator')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { dataDir?: string; databaseUrl?: string; publicUrl?: string; adminName: string; json?: boolean }) => {
        const config = loadConfig(process.env, { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, publicUrl: opts.publicUrl, logLevel: process.env['LOG_LEVEL'] ?? 'warn' });
        const logger = createLogger(config.logLevel);
        prepareDataDir(config.dataDir);
        const db = await openDatabase(config);
        try {
          await migrate(db);
          const keyStore = new FileKeyStore(join(config.dataDir, 'keys'), resolveKeyPassphrase(config.dataDir, config.keyPassphrase, (m) => logger.warn(m)));
          const audit = await openAudit({ db, keyStore, dataDir: config.dataDir, logger });
          try {
            const base = config.publicUrl ?? `http://${config.host}:${config.port}`;
            const { hierarchy, files } = await initializeHierarchy(
              {
                db,
                audit: audit.log,
                keys: keyStore,
                profiles: loadProfiles(),
                now: () => new Date(),
                dataDir: config.dataDir,
                urls: caUrls(base),
              },
              { adminName: opts.adminName },
            );
            const result = {
              dataDir: config.dataDir,
              root: { serial: hierarchy.root.serial, sha256: hierarchy.root.sha256, notAfter: hierarchy.root.notAfter.toISOString() },
              issuing: { serial: hierarchy.issuing.serial, sha256: hierarchy.issuing.sha256 },
              admin: { serial: hierarchy.admin.serial, key: files.adminKey, certificate: files.adminCert },
              files: { root: files.root, chain: files.chain, logVkey: join(config.dataDir, 'log.vkey') },
              logKey: audit.logKey.vkey,
            };
            print(opts.json === true, result, () =>
              [
                `CA initialized in ${config.dataDir}`,
                `  root CA        ${files.root} (SHA-256 ${hierarchy.root.sha256})`,
                `  chain          ${files.chain}`,
                `  admin key      ${files.adminKey} (mode 0600: keep it secret)`,
                `  admin cert     ${files.adminCert}`,
                `  log key        ${result.files.logVkey}`,
              ].join('\n'),
            );
          } finally {
            await audit.close();
          }
        } finally {
          await db.close();
        }
      }),
    );
}
