import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TimeStamper, TimeStampRequest } from '../../src/tsa/types.js';
import type { IssueOptions, TestIdentity, TestPki } from '../verify/envelope-pki.js';

const run = promisify(execFile);

/** RFC 5280 id-kp-timeStamping. */
export const KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

const HASH_FLAG: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': '-sha256',
  '2.16.840.1.101.3.4.2.2': '-sha384',
  '2.16.840.1.101.3.4.2.3': '-sha512',
};

/**
 * An outside time-stamping authority for tests: `openssl ts -query` and `openssl ts -reply` with a
 * TSA key and certificate made at test time under the test PKI's issuing CA (critical EKU
 * timeStamping alone, RFC 3161 §2.3). Its tokens are made by OpenSSL, not by Chancery's code.
 */
export interface OpensslTsa extends TimeStamper {
  identity: TestIdentity;
  dir: string;
  /** `openssl ts -verify` of a token over a digest (hex), against the PKI's root: true when accepted. */
  opensslVerify(token: Uint8Array, digestHex: string, rootPem: string, untrustedPem: string): Promise<{ ok: boolean; output: string }>;
  close(): void;
}

export interface OpensslTsaOptions {
  /** The certificate hash in ESS signing-certificate: sha1 (ESSCertID) or sha256 (ESSCertIDv2, RFC 5816). */
  essCertIdAlg?: 'sha1' | 'sha256';
  /** Include the TSA certificate in tokens (as `-cert` in the query asks). Default true. */
  includeCertificate?: boolean;
  /** Use this identity instead of issuing a new TSA certificate. */
  identity?: TestIdentity;
  issue?: IssueOptions;
}

export async function createOpensslTsa(pki: TestPki, options: OpensslTsaOptions = {}): Promise<OpensslTsa> {
  const identity =
    options.identity ??
    (await pki.issue({
      commonName: 'Test Outside TSA',
      organizationIdentifier: null,
      eku: [KP_TIME_STAMPING],
      ekuCritical: true,
      keyUsage: 1, // @peculiar/x509 KeyUsageFlags.digitalSignature
      policies: ['2.5.29.32.0'],
      notAfter: new Date(pki.now.getTime() + 5 * 365 * 86_400_000),
      ...options.issue,
    }));
  const dir = mkdtempSync(join(tmpdir(), 'chancery-test-tsa-'));
  writeFileSync(join(dir, 'tsa.pem'), identity.pem);
  writeFileSync(join(dir, 'tsa.key'), identity.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'chain.pem'), pki.issuing.pem);
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    join(dir, 'ts.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `dir = ${dir}`,
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${join(dir, 'tsa.pem')}`,
      `certs = ${join(dir, 'chain.pem')}`,
      `signer_key = ${join(dir, 'tsa.key')}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.99999.3161.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      `ess_cert_id_alg = ${options.essCertIdAlg ?? 'sha256'}`,
      '',
    ].join('\n'),
  );
  let counter = 0;
  // openssl ts -reply rewrites its serial file: one request at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const timestamp = (request: TimeStampRequest): Promise<Uint8Array> => {
    const next = queue.then(async () => {
      const flag = HASH_FLAG[request.hashAlgorithm];
      if (flag === undefined) throw new Error(`the test TSA does not support ${request.hashAlgorithm}`);
      const n = counter++;
      const query = join(dir, `q${n}.tsq`);
      const token = join(dir, `t${n}.der`);
      const queryArgs = ['ts', '-query', '-digest', Buffer.from(request.digest).toString('hex'), flag, '-out', query];
      if (options.includeCertificate !== false) queryArgs.splice(2, 0, '-cert');
      await run('openssl', queryArgs);
      await run('openssl', ['ts', '-reply', '-config', join(dir, 'ts.cnf'), '-queryfile', query, '-token_out', '-out', token]);
      const bytes = readFileSync(token);
      rmSync(query);
      rmSync(token);
      return new Uint8Array(bytes);
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    identity,
    dir,
    timestamp,
    async opensslVerify(token, digestHex, rootPem, untrustedPem) {
      const n = counter++;
      const file = join(dir, `v${n}.der`);
      const root = join(dir, `root${n}.pem`);
      const untrusted = join(dir, `untrusted${n}.pem`);
      writeFileSync(file, token);
      writeFileSync(root, rootPem);
      writeFileSync(untrusted, untrustedPem);
      try {
        const { stdout, stderr } = await run('openssl', [
          'ts',
          '-verify',
          '-token_in',
          '-in',
          file,
          '-digest',
          digestHex,
          '-CAfile',
          root,
          '-untrusted',
          untrusted,
        ]);
        return { ok: /Verification: OK/.test(stdout + stderr), output: stdout + stderr };
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
