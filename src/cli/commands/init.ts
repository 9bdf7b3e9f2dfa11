import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { action, print } from '../run.js';
import type { CliServices } from '../services.js';

/**
 * `chancery init`: makes the CA hierarchy (root P-384, issuing CA P-256, delegated OCSP responder,
 * service seal), the log key and the operator's admin credential in the data dir, and records
 * `ca.initialized` in the audit log. Refuses to replace an existing hierarchy.
 */
export function registerInit(program: Command, services: Pick<CliServices, 'initialize'>): void {
  program
    .command('init')
    .description('create the CA hierarchy, service keys and the admin credential in the data dir')
    .option('--data-dir <dir>', 'data directory (env CHANCERY_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; default: the embedded database)')
    .option(
      '--public-url <url>',
      'base URL the service will be reached at, for CRL/OCSP pointers (env CHANCERY_PUBLIC_URL, default http://HOST:PORT)',
    )
    .option(
      '--crl-partitions <n>',
      'how many CRL partitions (1-4096) certificates are spread over, fixed for the CA (env CHANCERY_CRL_PARTITIONS, default 64)',
    )
    .option('--admin-name <name>', 'CN of the admin certificate', 'Chancery registry operator')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (opts: {
          dataDir?: string;
          databaseUrl?: string;
          publicUrl?: string;
          crlPartitions?: string;
          adminName: string;
          json?: boolean;
        }) => {
          const config = loadConfig(process.env, {
            dataDir: opts.dataDir,
            databaseUrl: opts.databaseUrl,
            publicUrl: opts.publicUrl,
            crlPartitions: opts.crlPartitions,
            logLevel: process.env['LOG_LEVEL'] ?? 'warn',
          });
          const result = await services.initialize(config, createLogger(config.logLevel), { adminName: opts.adminName });
          print(opts.json === true, result, () =>
            [
              `CA initialized in ${result.dataDir}`,
              `  root CA        ${result.files.root} (SHA-256 ${result.root.sha256})`,
              `  chain          ${result.files.chain}`,
              `  admin key      ${result.admin.key} (mode 0600: keep it secret)`,
              `  admin cert     ${result.admin.certificate}`,
              `  log key        ${result.files.logVkey}`,
              `  CRL partitions ${result.crlPartitions} (fixed for this CA)`,
            ].join('\n'),
          );
        },
      ),
    );
}
