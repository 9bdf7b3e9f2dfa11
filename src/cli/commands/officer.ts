import type { Command } from 'commander';
import { DEFAULT_AUTHORITY } from '../../registry/registry.js';
import { connect, type OpenDirectAdmin } from '../connect.js';
import { action, print } from '../run.js';
import { withConnection, type ConnectionFlags } from './connection-options.js';

/** `chancery officer register` (admin). */
export function registerOfficer(program: Command, openDirect: OpenDirectAdmin): void {
  const officer = program.command('officer').description('approval officers (admin)');
  withConnection(officer.command('register').description('register an approval officer with a role and a jurisdiction'))
    .requiredOption('--id <id>', 'officer id (letters, digits, "." and "-"; becomes the certificate serialNumber)')
    .requiredOption('--name <name>', "the officer's name")
    .requiredOption('--role <role>', 'reviewer | approver | handler')
    .requiredOption('--jurisdiction <code>', '6-digit division code (xx0000: a province, xxxx00: a city)')
    .option('--authority <name>', 'the authority the officer works for', DEFAULT_AUTHORITY)
    .action(
      action(async (opts: ConnectionFlags & { id: string; name: string; role: string; jurisdiction: string; authority: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const o = await client.registerOfficer({
            id: opts.id,
            name: opts.name,
            role: opts.role,
            jurisdiction: opts.jurisdiction,
            authority: opts.authority,
          });
          print(opts.json === true, o, () => `registered officer ${o.id} (${o.name}), ${o.role} for ${o.jurisdiction}, ${o.authority}`);
        } finally {
          await client.close();
        }
      }),
    );
}
