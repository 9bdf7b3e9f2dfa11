import type { Command } from 'commander';
import { countersignCms } from '../../sign/cms.js';
import { countersignJws } from '../../sign/jws.js';
import { detectFormat } from '../../verify/envelope.js';
import type { Decision } from '../../verify/cms-attributes.js';
import { action, print } from '../run.js';
import { readHolder, readInput, withHolder, writeOutput, type HolderFlags } from './sign.js';
import { usageError } from '../errors.js';

const DECISIONS: readonly Decision[] = ['approve', 'refuse', 'review'];

/**
 * `chancery countersign`: an officer adds a countersignature with a decision to an envelope
 *: a CMS countersignature attribute with commitment-type-indication,
 * or a further JWS signature binding the enterprise's. Every other byte is kept. Upload the
 * result with `chancery submit --submission ID`.
 */
export function registerCountersign(program: Command): void {
  withHolder(program.command('countersign').description("add an officer's countersignature (approve, refuse or review) to an envelope"))
    .requiredOption('--in <file>', 'the envelope (CMS DER or JWS), e.g. from `chancery status ID --envelope-out`')
    .requiredOption('--decision <decision>', 'approve, refuse, or review (a reviewer forwarding it)')
    .requiredOption('--out <file>', 'where to write the countersigned envelope')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: HolderFlags & { in: string; decision: string; out: string; force?: boolean; json?: boolean }) => {
        if (!DECISIONS.includes(opts.decision as Decision)) throw usageError(`--decision must be one of ${DECISIONS.join(', ')}`);
        const decision = opts.decision as Decision;
        const holder = readHolder(opts);
        const envelope = readInput(opts.in, '--in');
        const format = detectFormat(envelope);
        if (format === undefined) throw usageError(`--in ${opts.in}: neither a DER CMS envelope nor a JWS`);
        const time = new Date();
        const out =
          format === 'cms'
            ? await countersignCms(envelope, { signer: holder.signer, chain: holder.chain, decision, time })
            : Buffer.from(
                `${JSON.stringify(await countersignJws(envelope, { signer: holder.signer, chain: holder.chain, decision, time }))}\n`,
                'utf8',
              );
        writeOutput(opts.out, out, opts.force === true);
        print(
          opts.json === true,
          { out: opts.out, format, decision, bytes: out.length },
          () =>
            `wrote ${format.toUpperCase()} envelope ${opts.out} with your countersignature (${decision}); upload it with \`chancery submit --submission ID\``,
        );
      }),
    );
}
