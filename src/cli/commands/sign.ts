import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pemDecodeAll } from '../../der/pem.js';
import { sha256Hex } from '../../crypto/digest.js';
import { certifiesKey } from '../../crypto/keys.js';
import { signerFromPem } from '../../crypto/private-key-file.js';
import type { Signer } from '../../crypto/signer.js';
import { signCms } from '../../sign/cms.js';
import { signJws } from '../../sign/jws.js';
import { readCredential } from '../../client/admin.js';
import { action, print } from '../run.js';
import { passphraseFrom } from './passphrase.js';
import { CliError, usageError } from '../errors.js';

/**
 * `chancery sign`: an enterprise signs an application document as a CMS (DER) or JWS (General
 * JSON) envelope with its key and certificate. The envelope
 * carries the certificate and the chain given, so a verifier needs only the root.
 */
export function registerSign(program: Command): void {
  withHolder(program.command('sign').description('sign a document as a CMS or JWS envelope (the enterprise signature)'))
    .requiredOption('--in <file>', 'the document (the JSON application, signed byte for byte)')
    .option('--format <format>', 'cms (DER SignedData) or jws (General JSON Serialization)', 'cms')
    .option('--detached', 'leave the document out of the envelope (submit it with --content)')
    .requiredOption('--out <file>', 'where to write the envelope')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (opts: HolderFlags & { in: string; format: string; detached?: boolean; out: string; force?: boolean; json?: boolean }) => {
          if (opts.format !== 'cms' && opts.format !== 'jws') throw usageError('--format must be cms or jws');
          const holder = readHolder(opts);
          const content = readInput(opts.in, '--in');
          const time = new Date();
          let envelope: Buffer;
          if (opts.format === 'cms') {
            envelope = await signCms({ signer: holder.signer, chain: holder.chain, content, detached: opts.detached === true, time });
          } else {
            const jws = await signJws({ signer: holder.signer, chain: holder.chain, payload: content, time });
            envelope = Buffer.from(`${JSON.stringify(opts.detached === true ? { ...jws, payload: '' } : jws)}\n`, 'utf8');
          }
          writeOutput(opts.out, envelope, opts.force === true);
          const result = {
            out: opts.out,
            format: opts.format,
            detached: opts.detached === true,
            bytes: envelope.length,
            documentSha256: sha256Hex(content),
            signer: holder.signer.algorithm,
          };
          print(
            opts.json === true,
            result,
            () =>
              `wrote ${opts.format.toUpperCase()} envelope ${opts.out} (${envelope.length} bytes, ${holder.signer.algorithm}, document SHA-256 ${result.documentSha256})${result.detached ? `; detached: submit it with --content ${opts.in}` : ''}`,
          );
        },
      ),
    );
}

export interface HolderFlags {
  key?: string;
  cert?: string;
  chain?: string;
  credential?: string;
  passphraseEnv?: string;
}

/** The key and certificate options of a signer (enterprise or officer). */
export function withHolder(command: Command, required = true): Command {
  const described = command
    .option('--chain <pem>', 'further CA certificates to carry (PEM; the issuing CA)')
    .option('--credential <dir>', 'a directory holding key.pem and cert.pem (instead of --key and --cert)')
    .option('--passphrase-env <var>', 'the key is encrypted with the passphrase in this environment variable');
  return required
    ? described.option('--key <file>', 'private key (PEM)').option('--cert <pem>', 'your certificate (PEM; the chain may follow it)')
    : described.option('--key <file>', 'private key (PEM), to log in').option('--cert <pem>', 'your certificate (PEM), to log in');
}

/** The signer and its certificate chain (leaf first) from --key/--cert[/--chain] or --credential. */
export function readHolder(opts: HolderFlags): { signer: Signer; chain: Buffer[] } {
  let keyPem: Buffer;
  let chain: Buffer[];
  if (opts.credential !== undefined) {
    if (opts.key !== undefined || opts.cert !== undefined) throw usageError('give --credential or --key and --cert, not both');
    ({ keyPem, certificates: chain } = readCredential(opts.credential));
  } else {
    if (opts.key === undefined || opts.cert === undefined) throw usageError('give --key and --cert (or --credential DIR)');
    keyPem = readInput(opts.key, '--key');
    chain = certificates(opts.cert, '--cert');
  }
  if (opts.chain !== undefined) chain = [...chain, ...certificates(opts.chain, '--chain').filter((c) => !chain.some((x) => x.equals(c)))];
  const signer = signerFromPem(opts.key ?? 'credential', keyPem, passphraseFrom(opts.passphraseEnv));
  // A key that is not the certificate's would make a signature no verifier accepts; with a
  // submission that is a permanent rejection, so refuse before anything is signed.
  const leaf = chain[0];
  if (leaf !== undefined && certifiesKey(leaf, signer.publicKey) === false) {
    const key = opts.key ?? `${opts.credential ?? ''}/key.pem`;
    const cert = opts.cert ?? `${opts.credential ?? ''}/cert.pem`;
    throw new CliError(
      'ERR_CLI_KEY_CERT_MISMATCH',
      `the private key ${key} does not belong to the certificate ${cert} (their public keys differ); nothing was signed`,
    );
  }
  return { signer, chain };
}

/** True when login options were given (--key/--cert or --credential). */
export function hasHolder(opts: HolderFlags): boolean {
  return opts.credential !== undefined || opts.key !== undefined || opts.cert !== undefined;
}

function certificates(file: string, flag: string): Buffer[] {
  const found = pemDecodeAll(readInput(file, flag).toString('latin1'), ['CERTIFICATE']);
  if (found === undefined || found.length === 0) throw usageError(`${flag} ${file}: no PEM certificate in it`);
  return found;
}

export function readInput(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw usageError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export function writeOutput(file: string, bytes: Uint8Array | string, force: boolean): void {
  if (existsSync(file) && !force) throw new CliError('ERR_CLI_FILE_EXISTS', `${file} exists; refusing to replace it (use --force)`);
  writeFileSync(file, bytes);
}
