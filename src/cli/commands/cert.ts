import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import type { CertificateInfo } from '../../ca/authority.js';
import { connect, type OpenDirectAdmin } from '../connect.js';
import { action, print } from '../run.js';
import { withConnection, type ConnectionFlags } from './connection-options.js';
import { usageError } from '../errors.js';

const describe = (c: CertificateInfo): string =>
  [
    `serial   ${c.serial}`,
    `profile  ${c.profile}`,
    `subject  ${c.subject}`,
    `valid    ${c.notBefore} – ${c.notAfter}`,
    `status   ${c.status}${c.revokedAt === null ? '' : ` at ${c.revokedAt} (${c.revocationReason})`}`,
    `sha256   ${c.sha256}`,
  ].join('\n');

/** `chancery cert issue|revoke|show` (admin). */
export function registerCert(program: Command, openDirect: OpenDirectAdmin): void {
  const cert = program.command('cert').description('certificates (admin)');

  withConnection(cert.command('issue').description('issue a certificate from a CSR, or with a server-made key as PKCS#12 (--pkcs12)'))
    .requiredOption('--profile <profile>', 'enterprise-signing | officer | auditor')
    .option('--csr <file>', 'PKCS#10 request (PEM)')
    .option('--uscc <code>', 'enterprise-signing: the enterprise')
    .option('--officer <id>', 'officer: the officer')
    .option('--name <name>', 'auditor: the holder name')
    .option('--out <file>', 'write the certificate (PEM) here')
    .option('--chain', 'with --out: append the CA chain (issuing CA, root)')
    .option('--pkcs12 <file>', 'no CSR: the service makes the key and returns a PKCS#12 bundle, written here')
    .option('--key-alg <alg>', 'with --pkcs12: P-256 | P-384 | Ed25519 | RSA-2048 | RSA-3072', 'P-256')
    .action(
      action(
        async (
          opts: ConnectionFlags & {
            profile: string;
            csr?: string;
            uscc?: string;
            officer?: string;
            name?: string;
            out?: string;
            chain?: boolean;
            pkcs12?: string;
            keyAlg: string;
          },
        ) => {
          if ((opts.csr === undefined) === (opts.pkcs12 === undefined)) throw usageError('give exactly one of --csr and --pkcs12');
          const holder = {
            ...(opts.uscc === undefined ? {} : { uscc: opts.uscc }),
            ...(opts.officer === undefined ? {} : { officerId: opts.officer }),
            ...(opts.name === undefined ? {} : { name: opts.name }),
          };
          const client = await connect(opts, openDirect);
          try {
            if (opts.pkcs12 !== undefined) {
              const r = await client.issuePkcs12({ profile: opts.profile, ...holder, keyAlgorithm: opts.keyAlg });
              writeFileSync(opts.pkcs12, r.pkcs12, { mode: 0o600 });
              print(
                opts.json === true,
                { certificate: r.certificate, pkcs12: opts.pkcs12, password: r.password },
                () =>
                  `${describe(r.certificate)}\nPKCS#12 bundle ${opts.pkcs12}\none-time password: ${r.password}\n(shown once; give it to the holder over a separate channel)`,
              );
              return;
            }
            const c = await client.issue({ profile: opts.profile, csr: readFileSync(opts.csr!, 'utf8'), ...holder });
            if (opts.out !== undefined) writeFileSync(opts.out, opts.chain === true ? c.pem + (await client.chainPem()) : c.pem);
            print(opts.json === true, c, () => `${describe(c)}${opts.out === undefined ? `\n${c.pem}` : `\nwritten to ${opts.out}`}`);
          } finally {
            await client.close();
          }
        },
      ),
    );

  withConnection(cert.command('revoke').description('revoke a certificate'))
    .requiredOption('--serial <hex>', 'serial number (hex)')
    .option('--reason <name>', 'unspecified | keyCompromise | affiliationChanged | superseded | cessationOfOperation | privilegeWithdrawn')
    .action(
      action(async (opts: ConnectionFlags & { serial: string; reason?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const c = await client.revokeCertificate(opts.serial, opts.reason);
          print(opts.json === true, c, () => describe(c));
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(cert.command('show').description('show a certificate and its status'))
    .requiredOption('--serial <hex>', 'serial number (hex)')
    .option('--out <file>', 'also write the certificate (PEM) here')
    .action(
      action(async (opts: ConnectionFlags & { serial: string; out?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const c = await client.getCertificate(opts.serial);
          if (opts.out !== undefined) writeFileSync(opts.out, c.pem);
          print(opts.json === true, c, () => describe(c));
        } finally {
          await client.close();
        }
      }),
    );
}
