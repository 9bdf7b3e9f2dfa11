import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { signCms } from '../../src/sign/cms.js';
import { signJws } from '../../src/sign/jws.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { runCli } from '../helpers/spawn.js';
import { annualReport, createTestPki, type TestPki } from '../verify/envelope-pki.js';

/** `chancery verify` as a real process (the built CLI), on files a test PKI made. */

const NOW = new Date('2026-03-01T08:00:00Z');
const AT = '2026-03-01T09:00:00Z';
let pki: TestPki;
let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  pki = await createTestPki(NOW);
  dir = mkdtempSync(join(tmpdir(), 'chancery-cli-verify-'));
  const ent = await pki.enterprise();
  const doc = annualReport();
  writeFileSync(file('root.pem'), pki.root.pem);
  writeFileSync(file('issuing.pem'), pki.issuing.pem);
  writeFileSync(file('app.json'), doc);
  writeFileSync(file('other.json'), annualReport({ reportYear: 2021 }));
  writeFileSync(file('app.p7s'), await signCms({ signer: ent.signer, chain: [ent.der], content: doc, detached: true, time: NOW }));
  const pem = (await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: false, time: NOW }))
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  writeFileSync(file('app.pem'), `-----BEGIN CMS-----\n${pem}-----END CMS-----\n`);
  writeFileSync(file('app.jws'), JSON.stringify(await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW })));
  writeFileSync(file('issuing.crl'), await pki.crl([]));
  writeFileSync(file('root.crl'), await pki.crl([], { issuer: 'root' }));
  writeFileSync(file('revoked.crl'), await pki.crl([{ serialHex: ent.serialHex, at: NOW }]));
});

const base = (): string[] => [
  'verify',
  '--trust',
  file('root.pem'),
  '--untrusted',
  file('issuing.pem'),
  '--at',
  AT,
  '--crl',
  file('root.crl'),
];

describe('chancery verify', () => {
  it('exits 0 and prints the JSON report for a valid detached CMS envelope under a policy', async () => {
    const r = await runCli([
      ...base(),
      '--in',
      file('app.p7s'),
      '--content',
      file('app.json'),
      '--crl',
      file('issuing.crl'),
      '--policy',
      'annual-report',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ValidationReport;
    expect(report).toMatchObject({
      indication: 'TOTAL_PASSED',
      policy: { id: 'annual-report' },
      validationTime: '2026-03-01T09:00:00.000Z',
    });
  });

  it('prints every check for people without --json', async () => {
    const r = await runCli([...base(), '--in', file('app.pem'), '--crl', file('issuing.crl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^TOTAL_PASSED/);
    expect(r.stdout).toContain('[ok]   cms.message-digest');
    expect(r.stdout).toContain('policy: none');
  });

  it('verifies a JWS the same way', async () => {
    const r = await runCli([...base(), '--in', file('app.jws'), '--crl', file('issuing.crl'), '--policy', 'annual-report']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('exits 1 for tampered content and for a revoked signer', async () => {
    const tampered = await runCli([
      ...base(),
      '--in',
      file('app.p7s'),
      '--content',
      file('other.json'),
      '--crl',
      file('issuing.crl'),
      '--json',
    ]);
    expect(tampered.code).toBe(1);
    expect((JSON.parse(tampered.stdout) as ValidationReport).subIndication).toBe('HASH_FAILURE');
    const revoked = await runCli([
      ...base(),
      '--in',
      file('app.p7s'),
      '--content',
      file('app.json'),
      '--crl',
      file('revoked.crl'),
      '--json',
    ]);
    expect(revoked.code).toBe(1);
    expect((JSON.parse(revoked.stdout) as ValidationReport).subIndication).toBe('REVOKED');
  });

  it('exits 2 when revocation cannot be checked (no CRL), and 0 with --no-revocation', async () => {
    const unknown = await runCli([...base(), '--in', file('app.p7s'), '--content', file('app.json')]);
    expect(unknown.code).toBe(2);
    const disabled = await runCli([...base(), '--in', file('app.p7s'), '--content', file('app.json'), '--no-revocation', '--json']);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('revocation checking disabled');
  });

  it('exits 1 with FORMAT_FAILURE for a file that is not an envelope', async () => {
    const r = await runCli([...base(), '--in', file('app.json'), '--no-revocation', '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as ValidationReport).subIndication).toBe('FORMAT_FAILURE');
  });

  it('exits 64 for usage errors: a missing flag, an unknown policy, a bad time, a missing file', async () => {
    expect((await runCli(['verify', '--in', file('app.p7s')])).code).toBe(64);
    const policy = await runCli([...base(), '--in', file('app.p7s'), '--policy', 'parking-permit']);
    expect(policy.code).toBe(64);
    expect(policy.stderr).toContain('annual-report');
    expect((await runCli([...base(), '--in', file('app.p7s'), '--at', 'yesterday'])).code).toBe(64);
    const missing = await runCli([...base(), '--in', file('nope.p7s')]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('no such file');
  });
});
