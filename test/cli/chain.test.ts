import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/spawn.js';
import { CA_EXT, LEAF_EXT, OpensslPki } from '../verify/path-openssl.js';

/** `chancery chain verify` as a real process over openssl-made certificates (dist/ must be built). */
describe('chancery chain verify', () => {
  const pki = new OpensslPki();
  let root: string;
  let int: string;
  let leaf: string;
  let revoked: string;
  let crls: string[];

  beforeAll(() => {
    root = pki.root('root');
    int = pki.issue('int', 'root', CA_EXT);
    leaf = pki.issue('leaf', 'int', `${LEAF_EXT}subjectAltName=DNS:leaf.example.com,IP:192.0.2.10\n`);
    revoked = pki.issue('revoked', 'int', LEAF_EXT);
    crls = [pki.crl('root'), pki.crl('int', ['revoked'])];
  }, 60_000);

  const base = (): string[] => ['chain', 'verify', '--trusted', root, '--untrusted', int];

  it('exits 0 for a valid path and prints the verdict, the path and every check', async () => {
    const r = await runCli([
      ...base(),
      '--leaf',
      leaf,
      '--eku',
      'documentSigning',
      '--key-usage',
      'digitalSignature',
      ...crls.flatMap((c) => ['--crl', c]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^TOTAL_PASSED\n/);
    expect(r.stdout).toMatch(/leaf +O=OpenSSL Test, CN=leaf/);
    expect(r.stdout).toMatch(/\[ok\] +path\.signature: /);
    expect(r.stdout).toMatch(/\[ok\] +path\.revocation: .*not revoked, according to the CRL/);
    expect(r.stdout).toMatch(/\[ok\] +path\.purpose: /);
  });

  it('prints a JSON result with the path and checks under --json', async () => {
    const r = await runCli([...base(), '--leaf', leaf, '--no-revocation', '--json', '--at', new Date(Date.now() + 60_000).toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as {
      indication: string;
      path: Array<{ subject: string; sha256: string }>;
      checks: Array<{ id: string; result: string; message: string }>;
    };
    expect(json.indication).toBe('TOTAL_PASSED');
    expect(json.path.map((p) => p.subject)).toEqual(['O=OpenSSL Test, CN=leaf', 'O=OpenSSL Test, CN=int', 'O=OpenSSL Test, CN=root']);
    expect(json.path[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(json.checks.filter((c) => c.id === 'path.revocation').every((c) => /not checked/.test(c.message))).toBe(true);
  });

  it('exits 1 with REVOKED for a leaf on its issuer CRL', async () => {
    const r = await runCli([...base(), '--leaf', revoked, ...crls.flatMap((c) => ['--crl', c])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^TOTAL_FAILED \/ REVOKED/);
    expect(r.stdout).toMatch(/\[FAIL\] path\.revocation: .*revoked on .*keyCompromise/);
  });

  it('takes OCSP responses with --ocsp, after the CRLs', async () => {
    const good = pki.path('leaf-good.ocsp');
    writeFileSync(good, pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good', name: 'cli-good' }));
    const bad = pki.path('revoked.ocsp');
    writeFileSync(bad, pki.ocsp({ issuer: 'int', cert: 'revoked', status: 'revoked', name: 'cli-revoked' }));
    const rootCrl = ['--crl', crls[0]!];
    const r = await runCli([...base(), '--leaf', leaf, ...rootCrl, '--ocsp', good]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/not revoked, according to the OCSP response/);
    const rv = await runCli([...base(), '--leaf', revoked, ...rootCrl, '--ocsp', bad]);
    expect(rv.code).toBe(1);
    expect(rv.stdout).toMatch(/REVOKED/);
  });

  it('exits 2 when revocation cannot be established, or for a leaf of the wrong purpose, or when expired', async () => {
    const noCrl = await runCli([...base(), '--leaf', leaf]);
    expect(noCrl.code).toBe(2);
    expect(noCrl.stdout).toMatch(/^INDETERMINATE \/ TRY_LATER/);
    const wrongEku = await runCli([...base(), '--leaf', leaf, '--no-revocation', '--eku', 'clientAuth']);
    expect(wrongEku.code).toBe(2);
    expect(wrongEku.stdout).toMatch(/CHAIN_CONSTRAINTS_FAILURE/);
    const later = await runCli([
      ...base(),
      '--leaf',
      leaf,
      '--no-revocation',
      '--at',
      new Date(Date.now() + 800 * 86_400_000).toISOString(),
    ]);
    expect(later.code).toBe(2);
    expect(later.stdout).toMatch(/OUT_OF_BOUNDS_NO_POE/);
  });

  it('checks --peer-name against the subjectAltName and honours --max-depth', async () => {
    expect((await runCli([...base(), '--leaf', leaf, '--no-revocation', '--peer-name', 'leaf.example.com'])).code).toBe(0);
    expect((await runCli([...base(), '--leaf', leaf, '--no-revocation', '--peer-name', '192.0.2.10'])).code).toBe(0);
    expect((await runCli([...base(), '--leaf', leaf, '--no-revocation', '--peer-name', 'other.example.com'])).code).toBe(2);
    const depth = await runCli([...base(), '--leaf', leaf, '--no-revocation', '--max-depth', '0']);
    expect(depth.code).toBe(2);
    expect(depth.stdout).toMatch(/path\.depth/);
  });

  it('answers a truncated or garbage leaf with FORMAT_FAILURE (exit 1), never a crash', async () => {
    const der = Buffer.from(readFileSync(leaf, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const truncated = pki.path('truncated.der');
    writeFileSync(truncated, der.subarray(0, der.length - 20));
    const r = await runCli([...base(), '--leaf', truncated, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(r.stderr).toBe('');
    const garbage = pki.path('garbage.pem');
    writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n');
    const g = await runCli([...base(), '--leaf', garbage]);
    expect(g.code).toBe(1);
    expect(g.stdout).toMatch(/FORMAT_FAILURE/);
  });

  it('exits 64 on usage errors, with one line on stderr', async () => {
    for (const args of [
      ['chain', 'verify', '--leaf', leaf],
      [...base(), '--leaf', leaf, '--at', 'yesterday'],
      [...base(), '--leaf', leaf, '--key-usage', 'signEverything'],
      [...base(), '--leaf', leaf, '--eku', 'not-an-oid'],
      [...base(), '--leaf', leaf, '--max-depth', '-1'],
      [...base(), '--leaf', pki.path('missing.pem')],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
