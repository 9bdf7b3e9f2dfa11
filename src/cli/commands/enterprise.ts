import type { Command } from 'commander';
import type { Enterprise } from '../../registry/types.js';
import { connect, type OpenDirectAdmin } from '../connect.js';
import { action, print } from '../run.js';
import { withConnection, type ConnectionFlags } from './connection-options.js';

const describe = (e: Enterprise): string =>
  `${e.uscc}  ${e.status.padEnd(12)} ${e.division}  ${e.name}${e.checkOverridden ? '  (legacy code, check overridden)' : ''}${e.statusReason === null ? '' : `  — ${e.statusReason}`}`;

/**
 * `chancery enterprise register|show|revoke|deregister|list` (admin). `revoke` is the authority
 * revoking a licence (the enterprise joins the revoked-enterprise list); `deregister` is an
 * enterprise closing at its own request. Both revoke all its certificates.
 */
export function registerEnterprise(program: Command, openDirect: OpenDirectAdmin): void {
  const enterprise = program.command('enterprise').description('the enterprise registry (admin)');

  withConnection(enterprise.command('register').description('register an enterprise by its USCC'))
    .requiredOption('--uscc <code>', '18-character unified social credit code')
    .requiredOption('--name <name>', 'registered name')
    .option('--override-check', 'accept a legacy code whose check characters fail')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; name: string; overrideCheck?: boolean }) => {
        const client = await connect(opts, openDirect);
        try {
          const e = await client.registerEnterprise({
            uscc: opts.uscc,
            name: opts.name,
            ...(opts.overrideCheck === true ? { overrideCheck: true } : {}),
          });
          print(opts.json === true, e, () => `registered ${describe(e)}`);
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(enterprise.command('show').description('show an enterprise'))
    .requiredOption('--uscc <code>', 'unified social credit code')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const e = await client.getEnterprise(opts.uscc);
          print(opts.json === true, e, () => describe(e));
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(
    enterprise.command('revoke').description("revoke an enterprise's licence: all its certificates are revoked (cessationOfOperation)"),
  )
    .requiredOption('--uscc <code>', 'unified social credit code')
    .option('--reason <text>', 'why (recorded with the revocation)')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; reason?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const r = await client.revokeEnterprise(opts.uscc, opts.reason);
          print(
            opts.json === true,
            r,
            () =>
              `revoked ${describe(r.enterprise)}\n  certificates revoked: ${r.revokedCertificates.length === 0 ? 'none' : r.revokedCertificates.join(', ')}`,
          );
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(
    enterprise
      .command('deregister')
      .description('deregister an enterprise that closes at its own request: all its certificates are revoked (cessationOfOperation)'),
  )
    .requiredOption('--uscc <code>', 'unified social credit code')
    .option('--reason <text>', "why (recorded with the deregistration; default 'deregistered at its own request')")
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; reason?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const r = await client.deregisterEnterprise(opts.uscc, opts.reason);
          print(
            opts.json === true,
            r,
            () =>
              `deregistered ${describe(r.enterprise)}\n  certificates revoked: ${r.revokedCertificates.length === 0 ? 'none' : r.revokedCertificates.join(', ')}`,
          );
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(enterprise.command('list').description('list enterprises (--status revoked: the revoked-enterprise list)'))
    .option('--status <status>', 'active | revoked | deregistered')
    .option('--after <uscc>', 'page after this USCC')
    .option('--limit <n>', 'page size (1–500, default 100)')
    .action(
      action(async (opts: ConnectionFlags & { status?: string; after?: string; limit?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const page = await client.listEnterprises({ status: opts.status, after: opts.after, limit: opts.limit });
          print(opts.json === true, page, () => (page.items.length === 0 ? '(none)' : page.items.map(describe).join('\n')));
        } finally {
          await client.close();
        }
      }),
    );
}
