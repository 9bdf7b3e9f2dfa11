import type { Command } from 'commander';
import { countersignCms } from '../../sign/cms.js';
import { countersignJws } from '../../sign/jws.js';
import { detectFormat } from '../../verify/envelope.js';
import type { Decision } from '../../verify/cms-attributes.js';
import { normalizeReason, reasonProblem } from '../../verify/decision-reason.js';
import { REASON_RULE } from '../../submissions/countersign-checks.js';
import { action, print } from '../run.js';
import { readHolder, readInput, withHolder, writeOutput, type HolderFlags } from './sign.js';
import { usageError } from '../errors.js';

const DECISIONS: readonly Decision[] = ['approve', 'refuse', 'review'];

/**
 * `chancery countersign`: an officer adds a countersignature with a decision (and the reason for
 * it, signed with it) to an envelope: a CMS countersignature attribute with
 * commitment-type-indication, or a further JWS signature binding the enterprise's. Every other byte is kept. Upload the
 * result with `chancery submit --submission ID`.
 */
export function registerCountersign(program: Command): void {
  withHolder(program.command('countersign').description("add an officer's countersignature (approve, refuse or review) to an envelope"))
    .requiredOption('--in <file>', 'the envelope (CMS DER or JWS), e.g. from `chancery status ID --envelope-out`')
    .requiredOption('--decision <decision>', 'approve, refuse, or review (a reviewer forwarding it)')
    .option('--reason <text>', 'why, signed with the decision: required to refuse, optional to review, not taken to approve')
    .requiredOption('--out <file>', 'where to write the countersigned envelope')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (opts: HolderFlags & { in: string; decision: string; reason?: string; out: string; force?: boolean; json?: boolean }) => {
          if (!DECISIONS.includes(opts.decision as Decision)) throw usageError(`--decision must be one of ${DECISIONS.join(', ')}`);
          const decision = opts.decision as Decision;
          const reason = reasonOption(decision, opts.reason);
          const holder = readHolder(opts);
          const envelope = readInput(opts.in, '--in');
          const format = detectFormat(envelope);
          if (format === undefined) throw usageError(`--in ${opts.in}: neither a DER CMS envelope nor a JWS`);
          const time = new Date();
          const out =
            format === 'cms'
              ? await countersignCms(envelope, { signer: holder.signer, chain: holder.chain, decision, reason, time })
              : Buffer.from(
                  `${JSON.stringify(await countersignJws(envelope, { signer: holder.signer, chain: holder.chain, decision, reason, time }))}\n`,
                  'utf8',
                );
          writeOutput(opts.out, out, opts.force === true);
          print(
            opts.json === true,
            { out: opts.out, format, decision, ...(reason === undefined ? {} : { reason }), bytes: out.length },
            () =>
              `wrote ${format.toUpperCase()} envelope ${opts.out} with your countersignature (${decision}${reason === undefined ? '' : `, reason ${JSON.stringify(reason)}`}); upload it with \`chancery submit --submission ID\``,
          );
        },
      ),
    );
}

/**
 * The reason to sign, in its signed form (what was typed, normalized: decision-reason.ts), or a
 * usage error when the decision needs one and none was given, takes none and one was, or the text
 * cannot be a reason (empty, too long, control characters).
 */
function reasonOption(decision: Decision, typed: string | undefined): string | undefined {
  const rule = REASON_RULE[decision];
  if (typed === undefined) {
    if (rule === 'required')
      throw usageError(`--decision ${decision} needs --reason TEXT: a refusal says why, and the reason is signed with it`);
    return undefined;
  }
  if (rule === 'refused') throw usageError(`--decision ${decision} takes no --reason: an approval's terms are the policy's`);
  const reason = normalizeReason(typed);
  const problem = reasonProblem(reason);
  if (problem !== undefined) throw usageError(`--reason: ${problem}`);
  return reason;
}
