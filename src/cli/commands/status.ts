import type { Command } from 'commander';
import { DEFAULT_URL } from '../../client/admin.js';
import { ChanceryClient } from '../../client/submissions.js';
import type { SubmissionView } from '../../submissions/types.js';
import { action, print } from '../run.js';
import { hasHolder, readHolder, withHolder, writeOutput, type HolderFlags } from './sign.js';
import { usageError } from '../errors.js';

/**
 * `chancery status`: a submission's status, history (with log indexes) and approval steps, as
 * the logged-in enterprise, officer or auditor sees it; without an ID, the list the caller may
 * see (`--status pending`: an officer's queue). Can save the current envelope, the document and
 * a receipt for offline checks.
 */
export function registerStatus(program: Command): void {
  withHolder(program.command('status').description("a submission's status and history, or (without ID) the submissions you may see"), false)
    .argument('[id]', 'the submission id')
    .option('--url <url>', 'the service', DEFAULT_URL)
    .option('--status <status>', 'without ID: list only this status (pending: the steps you can countersign)')
    .option('--envelope-out <file>', 'save the current envelope (with every countersignature)')
    .option('--document-out <file>', 'save the signed document')
    .option('--receipt-out <file>', 'save the latest receipt (or the one of --index)')
    .option('--index <n>', 'with --receipt-out: the receipt of the transition at this log index')
    .option('--force', 'replace existing files')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (
          id: string | undefined,
          opts: HolderFlags & {
            url: string;
            status?: string;
            envelopeOut?: string;
            documentOut?: string;
            receiptOut?: string;
            index?: string;
            force?: boolean;
            json?: boolean;
          },
        ) => {
          if (!hasHolder(opts)) throw usageError('status needs your credential: --key and --cert (or --credential DIR)');
          const holder = readHolder(opts);
          const client = await ChanceryClient.login(opts.url.replace(/\/+$/, ''), holder.signer, holder.chain);
          if (id === undefined) {
            if (opts.envelopeOut !== undefined || opts.documentOut !== undefined || opts.receiptOut !== undefined)
              throw usageError('--envelope-out, --document-out and --receipt-out need a submission ID');
            const page = await client.list(opts.status === undefined ? {} : { status: opts.status });
            print(opts.json === true, page, () =>
              page.items.length === 0
                ? 'no submissions'
                : page.items
                    .map(
                      (s) =>
                        `${s.id}  ${s.status.padEnd(8)} ${s.applicant} ${s.applicationId} ${s.type ?? '?'}${s.nextStep === null ? '' : ` (next: ${s.nextStep.role})`}`,
                    )
                    .join('\n'),
            );
            return;
          }
          if (opts.index !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(opts.index)) throw usageError('--index must be a log index');
          const view = await client.status(id);
          const force = opts.force === true;
          if (opts.envelopeOut !== undefined) writeOutput(opts.envelopeOut, await client.envelope(id), force);
          if (opts.documentOut !== undefined) writeOutput(opts.documentOut, await client.document(id), force);
          if (opts.receiptOut !== undefined)
            writeOutput(opts.receiptOut, `${await client.receipt(id, opts.index === undefined ? undefined : Number(opts.index))}\n`, force);
          print(opts.json === true, view, () => describeSubmission(view));
        },
      ),
    );
}

export function describeSubmission(v: SubmissionView): string {
  const lines = [
    `${v.id}: ${v.status.toUpperCase()}  ${v.type ?? '?'} ${v.applicationId} of ${v.applicant} (${v.format.toUpperCase()}, document SHA-256 ${v.documentSha256.slice(0, 16)}…)`,
  ];
  if (v.rejection !== null) lines.push(`  rejected: ${v.rejection.code}: ${v.rejection.reason}`);
  for (const s of v.approval.steps) {
    const c = s.countersignature;
    lines.push(
      `  step ${s.index + 1} ${s.role}${s.jurisdiction === 'applicant' ? " of the applicant's jurisdiction" : ''}${s.distinctOfficers ? ', distinct officer' : ''}: ${c === null ? (v.approval.nextStep === s.index ? 'waiting' : '—') : `${c.decision} by ${c.officerId} at ${c.recordedAt} (log ${c.logIndex})${c.reason === undefined ? '' : `, reason ${JSON.stringify(c.reason)}`}`}`,
    );
  }
  for (const h of v.history) lines.push(`  log ${String(h.logIndex).padStart(6)}  ${h.at}  ${h.kind} → ${h.status} by ${h.actor}`);
  return lines.join('\n');
}
