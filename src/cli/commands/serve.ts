import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { action } from '../run.js';
import type { CliServices } from '../services.js';

export function registerServe(program: Command, services: Pick<CliServices, 'startService'>): void {
  program
    .command('serve')
    .description('run the HTTP service (embedded database unless DATABASE_URL is set)')
    .option('--host <host>', 'address to listen on (env HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env PORT, default 8080)')
    .option('--data-dir <dir>', 'data directory (env CHANCERY_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; default: embedded PGlite)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL, default info)')
    .option('--public-url <url>', 'base URL certificates point at for CRL/OCSP (env CHANCERY_PUBLIC_URL, default http://HOST:PORT)')
    .option(
      '--crl-partitions <n>',
      'CRL partitions (1-4096) when this start initializes the CA; later it must equal the stored count (env CHANCERY_CRL_PARTITIONS)',
    )
    .action(
      action(
        async (opts: {
          host?: string;
          port?: string;
          dataDir?: string;
          databaseUrl?: string;
          logLevel?: string;
          publicUrl?: string;
          crlPartitions?: string;
        }) => {
          const config = loadConfig(process.env, opts);
          const logger = createLogger(config.logLevel);
          const service = await services.startService(config, logger);
          await new Promise<void>((resolve) => {
            const shutdown = (signal: NodeJS.Signals): void => {
              logger.info({ signal }, 'shutting down');
              service.stop().then(resolve, (error: unknown) => {
                logger.error({ err: error }, 'shutdown failed');
                process.exitCode = 1;
                resolve();
              });
            };
            process.once('SIGTERM', shutdown);
            process.once('SIGINT', shutdown);
          });
        },
      ),
    );
}
