import type { Command } from 'commander';
import { DEFAULT_URL } from '../../client/admin.js';
import { ChanceryClient, type TransitionBody } from '../../client/submissions.js';
import { EXIT, ExitCode, action, print } from '../run.js';
import { hasHolder, readHolder, readInput, withHolder, writeOutput, type HolderFlags } from './sign.js';
import { usageError } from '../errors.js';

/**
 * `chancery submit`: send a signed application to a running service, or — with `--submission ID`
 * — an officer's countersigned envelope of an existing submission. A submission needs no login
 * (the signature authenticates the applicant); a countersignature is uploaded by the logged-in
 * officer (--key/--cert or --credential). Exit 0 when recorded, 1 when rejected or refused.
 */
export function registerSubmit(program: Command): void {
  withHolder(
    program.command('submit').description('submit a signed application (or, with --submission, upload your countersignature)'),
    false,
  )
    .option('--url <url>', 'the service', DEFAULT_URL)
    .requiredOption('--in <file>', 'the envelope (CMS DER or JWS)')
    .option('--content <file>', 'the document, for a detached envelope (sent as the multipart "content" part)')
    .option('--submission <id>', 'upload a countersigned envelope of this submission (officers)')
    .option('--receipt-out <file>', 'write the receipt (compact JWS) of this transition here')
    .option('--force', 'replace an existing receipt file')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (
          opts: HolderFlags & {
            url: string;
            in: string;
            content?: string;
            submission?: string;
            receiptOut?: string;
            force?: boolean;
            json?: boolean;
          },
        ) => {
          const url = opts.url.replace(/\/+$/, '');
          const envelope = readInput(opts.in, '--in');
          const content = opts.content === undefined ? undefined : readInput(opts.content, '--content');
          const holder = hasHolder(opts) ? readHolder(opts) : undefined;
          const client = holder === undefined ? new ChanceryClient(url) : await ChanceryClient.login(url, holder.signer, holder.chain);
          if (opts.submission !== undefined) {
            if (content !== undefined) throw usageError('--content goes with a new submission, not with --submission');
            if (client.token === undefined)
              throw usageError('--submission needs your officer credential (--key and --cert, or --credential)');
            const body = await client.countersign(opts.submission, envelope);
            saveReceipt(opts, body.receipt);
            print(
              opts.json === true,
              body,
              () => `countersignature recorded on ${body.id}: ${describe(body)}; receipt for log entry ${body.logIndex}`,
            );
            return;
          }
          const outcome = await client.submit(envelope, content);
          saveReceipt(opts, outcome.body.receipt);
          if (outcome.kind === 'rejected') {
            const b = outcome.body;
            print(
              opts.json === true,
              b,
              () =>
                `REJECTED ${b.submission.id} (${b.code}): ${b.detail}\n  the rejection is recorded at log entry ${b.logIndex}; its receipt says so`,
            );
            throw new ExitCode(EXIT.failed);
          }
          const body = outcome.body;
          print(
            opts.json === true,
            body,
            () =>
              `${outcome.kind === 'existing' ? 'already submitted' : 'submitted'}: ${body.id} ${describe(body)}; receipt for log entry ${body.logIndex}`,
          );
        },
      ),
    );
}

function describe(body: TransitionBody): string {
  return body.status === 'pending' && body.nextStep !== null
    ? `pending (next: step ${body.nextStep.index + 1}, ${/^[aeiou]/.test(body.nextStep.role) ? 'an' : 'a'} ${body.nextStep.role})`
    : body.status;
}

function saveReceipt(opts: { receiptOut?: string; force?: boolean }, receipt: string): void {
  if (opts.receiptOut !== undefined) writeOutput(opts.receiptOut, `${receipt}\n`, opts.force === true);
}
