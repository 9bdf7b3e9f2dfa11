import type { Command } from 'commander';
import { loadPolicies } from '../../policy/policy.js';
import { SAMPLE_APPLICANT, sampleDocument } from '../../submissions/samples.js';
import { isValidUscc } from '../../registry/uscc.js';
import { action } from '../run.js';
import { usageError } from '../errors.js';
import { writeOutput } from './sign.js';

/**
 * `chancery sample --policy ID`: a valid example application document for a policy — the bytes
 * to edit and then sign with `chancery sign`. The sample is checked against the policy's schema
 * before it is printed.
 */
export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('print a valid example document for a transaction policy (edit it, then `chancery sign` it)')
    .requiredOption('--policy <id>', 'the policy (transaction type), e.g. food-business-licence')
    .option('--applicant <uscc>', 'your unified social credit code (default: an example code)')
    .option('--out <file>', 'write the document here instead of standard output')
    .option('--force', 'replace an existing --out file')
    .action(
      action(async (opts: { policy: string; applicant?: string; out?: string; force?: boolean }) => {
        const policies = loadPolicies();
        const policy = policies.get(opts.policy);
        if (policy === undefined)
          throw usageError(
            `no policy "${opts.policy}"; known: ${policies
              .list()
              .map((p) => p.id)
              .join(', ')}`,
          );
        const applicant = opts.applicant ?? SAMPLE_APPLICANT;
        if (!isValidUscc(applicant)) throw usageError(`--applicant ${applicant}: not a valid unified social credit code (check character)`);
        const document = sampleDocument(policy.id, applicant);
        if (document === undefined) throw usageError(`policy ${policy.id} has no sample document`);
        const checked = policy.validateDocument(document);
        if (!checked.valid) throw new Error(`the sample for ${policy.id} does not match its own policy: ${checked.errors.join('; ')}`);
        // Indented for editing: a signed document is any JSON text the schema accepts.
        const bytes = Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8');
        if (opts.out === undefined) process.stdout.write(bytes);
        else writeOutput(opts.out, bytes, opts.force === true);
      }),
    );
}
