import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { sha256Hex } from '../../crypto/digest.js';
import { exportSpki } from '../../crypto/keys.js';
import { generateUserKey, type UserKeyAlgorithm } from '../../crypto/private-key-file.js';
import { action, print } from '../run.js';
import { passphraseFrom } from './passphrase.js';
import { CliError, usageError } from '../errors.js';

/** The names `chancery keygen --alg` takes and the key each makes. */
export const KEYGEN_ALGORITHMS: Record<string, UserKeyAlgorithm> = {
  ES256: 'P-256',
  ES384: 'P-384',
  EdDSA: 'Ed25519',
  RS2048: 'RSA-2048',
  RS3072: 'RSA-3072',
  RS4096: 'RSA-4096',
  PS2048: 'RSA-PSS-2048',
  PS3072: 'RSA-PSS-3072',
};

/** `chancery keygen`: a key pair for an enterprise or officer, as a PKCS#8 PEM file (mode 0600). */
export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('generate a private key (PKCS#8 PEM, mode 0600) for an enterprise or officer')
    .option('--alg <alg>', `${Object.keys(KEYGEN_ALGORITHMS).join('|')}`, 'ES256')
    .requiredOption('--out <file>', 'where to write the private key')
    .option('--passphrase-env <var>', 'encrypt the key with the passphrase in this environment variable')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .action(
      action((opts: { alg: string; out: string; passphraseEnv?: string; force?: boolean; json?: boolean }) => {
        const algorithm = KEYGEN_ALGORITHMS[opts.alg];
        if (algorithm === undefined) throw usageError(`--alg must be one of ${Object.keys(KEYGEN_ALGORITHMS).join(', ')}`);
        if (existsSync(opts.out) && opts.force !== true)
          throw new CliError('ERR_CLI_FILE_EXISTS', `${opts.out} exists; refusing to replace a key (use --force)`);
        const { privateKeyPem, publicKey } = generateUserKey(algorithm, passphraseFrom(opts.passphraseEnv));
        writeFileSync(opts.out, privateKeyPem, { mode: 0o600, flag: opts.force === true ? 'w' : 'wx' });
        const result = { key: opts.out, alg: opts.alg, publicKeySha256: sha256Hex(exportSpki(publicKey)) };
        print(opts.json === true, result, () => `wrote ${opts.alg} private key ${opts.out} (public key SHA-256 ${result.publicKeySha256})`);
      }),
    );
}
