import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { buildCsr } from '../../ca/csr-builder.js';
import { signerFromPem } from '../../crypto/private-key-file.js';
import { action, print } from '../run.js';
import { passphraseFrom } from './passphrase.js';

/**
 * `chancery csr`: a PKCS#10 request signed with the key (proof of possession). The subject is
 * optional: Chancery's CA takes it from its registry; a CN given here must agree with it.
 */
export function registerCsr(program: Command): void {
  program
    .command('csr')
    .description('make a PKCS#10 certificate request for a key (the CA decides the subject)')
    .requiredOption('--key <file>', 'private key (PEM)')
    .requiredOption('--out <file>', 'where to write the request (PEM)')
    .option('--cn <name>', 'a common name to put in the request (optional)')
    .option('--passphrase-env <var>', 'the key is encrypted with the passphrase in this environment variable')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { key: string; out: string; cn?: string; passphraseEnv?: string; json?: boolean }) => {
        const signer = signerFromPem(opts.key, readFileSync(opts.key), passphraseFrom(opts.passphraseEnv));
        const { pem } = await buildCsr(signer, opts.cn === undefined ? [] : [{ type: 'CN', value: opts.cn }]);
        writeFileSync(opts.out, pem);
        print(
          opts.json === true,
          { csr: opts.out, alg: signer.algorithm },
          () => `wrote certificate request ${opts.out} (${signer.algorithm})`,
        );
      }),
    );
}
