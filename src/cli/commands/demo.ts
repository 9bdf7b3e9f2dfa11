import type { Command } from 'commander';
import { EXIT, ExitCode, action } from '../run.js';
import type { CliServices } from '../services.js';

/**
 * `chancery demo`: the whole story end to end on an embedded instance in a temp dir. Exit 0
 * only when every step behaved as described.
 */
export function registerDemo(program: Command, services: Pick<CliServices, 'runDemo'>): void {
  program
    .command('demo')
    .description('run the whole story on an embedded instance: register, certify, sign, submit, countersign, reject, receipts, audit')
    .option('--data-dir <dir>', 'run in this (empty) directory instead of a temp dir, and keep it')
    .option('--keep', 'keep the temp dir: keys, envelopes and receipts are left in <dir>/demo')
    .action(
      action(async (opts: { dataDir?: string; keep?: boolean }) => {
        const ok = await services.runDemo({
          ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
          keep: opts.keep === true || opts.dataDir !== undefined,
          say: (line) => process.stdout.write(`${line}\n`),
        });
        if (!ok) throw new ExitCode(EXIT.failed);
      }),
    );
}
