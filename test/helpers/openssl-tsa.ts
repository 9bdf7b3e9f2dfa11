import { execFile, execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How the wrapper answers: as openssl does, or broken in one way for a client test. */
export type OpensslTsaMode = 'normal' | 'replay' | 'tamper' | 'http-500' | 'wrong-type';

export interface OpensslTsa {
  url: string;
  /** The test CA's root certificate (PEM file), which issued the TSA certificate. */
  caPem: string;
  /** The TSA policy openssl stamps with. */
  policy: string;
  mode: OpensslTsaMode;
  close(): Promise<void>;
}

const POLICY = '1.3.6.1.4.1.99999.3161.1';

/**
 * An RFC 3161 TSA that is not Chancery's code: `openssl ts -reply` behind a small node:http
 * wrapper (POST application/timestamp-query → application/timestamp-reply), with a test-only CA
 * and TSA key and certificate generated here by the openssl CLI (critical EKU timeStamping) and
 * removed by `close`. The TSA accepts SHA-256/384/512 imprints only. `essCertId: 'v1'` leaves
 * openssl at its default certificate identifier, ESSCertID (SHA-1) instead of ESSCertIDv2.
 */
export async function startOpensslTsa(options: { essCertId?: 'v2' | 'v1' } = {}): Promise<OpensslTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-openssl-tsa-'));
  const f = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  writeFileSync(
    f('ext.cnf'),
    [
      '[ca]',
      'basicConstraints = critical, CA:true',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[tsa]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature, nonRepudiation',
      'extendedKeyUsage = critical, timeStamping',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key')]);
  openssl([
    'req',
    '-new',
    '-x509',
    '-key',
    f('ca.key'),
    '-subj',
    '/C=XX/O=Outside TSA Test/CN=Outside Test Root',
    '-days',
    '2',
    '-out',
    f('ca.pem'),
    '-extensions',
    'ca',
    '-config',
    f('ext.cnf'),
  ]);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('tsa.key')]);
  openssl([
    'req',
    '-new',
    '-key',
    f('tsa.key'),
    '-subj',
    '/C=XX/O=Outside TSA Test/CN=Outside Test TSA',
    '-out',
    f('tsa.csr'),
    '-config',
    f('ext.cnf'),
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    f('tsa.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-extensions',
    'tsa',
    '-out',
    f('tsa.pem'),
  ]);
  writeFileSync(f('serial'), '01\n');
  writeFileSync(
    f('tsa.cnf'),
    [
      '[tsa]',
      'default_tsa = tsa_config',
      '[tsa_config]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'crypto_device = builtin',
      'signer_cert = $dir/tsa.pem',
      'certs = $dir/ca.pem',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      `default_policy = ${POLICY}`,
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1, millisecs:500',
      'clock_precision_digits = 3',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      // Without ess_cert_id_alg openssl writes signing-certificate with an ESSCertID (v1, SHA-1).
      ...(options.essCertId === 'v1' ? [] : ['ess_cert_id_alg = sha256']),
      '',
    ].join('\n'),
  );

  let counter = 0;
  let first: Buffer | undefined;
  const tsa: OpensslTsa = { url: '', caPem: f('ca.pem'), policy: POLICY, mode: 'normal', close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (tsa.mode === 'http-500') {
          res.writeHead(500).end();
          return;
        }
        const n = counter++;
        writeFileSync(f(`q${n}.tsq`), Buffer.concat(chunks));
        // openssl ts -reply answers even bad queries with a rejection TimeStampResp.
        await run('openssl', ['ts', '-reply', '-config', f('tsa.cnf'), '-queryfile', f(`q${n}.tsq`), '-out', f(`r${n}.tsr`)], { cwd: dir });
        let reply: Buffer = readFileSync(f(`r${n}.tsr`));
        first ??= reply;
        if (tsa.mode === 'replay') reply = first;
        if (tsa.mode === 'tamper') {
          reply = Buffer.from(reply);
          reply[reply.length - 10]! ^= 0x01; // inside the signature value
        }
        res.writeHead(200, { 'content-type': tsa.mode === 'wrong-type' ? 'text/plain' : 'application/timestamp-reply' }).end(reply);
      })().catch((error: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  tsa.url = `http://127.0.0.1:${address.port}/tsr`;
  tsa.close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  return tsa;
}
