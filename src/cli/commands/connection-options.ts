import type { Command } from 'commander';
import { DEFAULT_URL } from '../../client/admin.js';
import type { ConnectionOptions } from '../connect.js';

/** The options every registry and certificate command takes to reach Chancery. */
export function withConnection(command: Command): Command {
  return command
    .option('--url <url>', `a running service (default ${DEFAULT_URL} unless --data-dir is given)`)
    .option('--credential <dir>', 'admin credential directory (admin.key.pem, admin.cert.pem; default <data-dir>/admin)')
    .option('--data-dir <dir>', 'without --url: work directly on this data dir (no server may hold its embedded database)')
    .option('--database-url <url>', 'with --data-dir: the PostgreSQL database of that data dir (env DATABASE_URL)')
    .option('--json', 'print the result as JSON');
}

export interface ConnectionFlags extends ConnectionOptions {
  json?: boolean;
}
