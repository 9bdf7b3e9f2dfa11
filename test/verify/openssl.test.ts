import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/policy.js';
import { OID } from '../../src/oids.js';
import { crlSource } from '../../src/verify/crl.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { OTHER_USCC, annualReport, createTestPki, type IssueOptions, type TestPki } from './envelope-pki.js';

/**
 * openssl as the outside signer:
 * `openssl cms -sign -binary -cades -md sha256 -nosmimecap` makes detached CMS with signed
 * attributes and ESS signing-certificate-v2. openssl signs with the wall clock, so the test PKI is
 * made around the real time, read once here; validation runs a minute later.
 */

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const AT = new Date(NOW.getTime() + 60_000);
const DAY = 86_400_000;
const annual = loadPolicies().require('annual-report');

let pki: TestPki;
let dir: string;
let doc: Buffer;
let rootCrl: Buffer;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  dir = mkdtempSync(join(tmpdir(), 'chancery-openssl-'));
  doc = annualReport();
  writeFileSync(join(dir, 'app.json'), doc);
  writeFileSync(join(dir, 'issuing.pem'), pki.issuing.pem);
  rootCrl = await pki.crl([], { issuer: 'root' });
});

let counter = 0;
/** openssl cms -sign with a fresh certificate of the test PKI; extra flags appended (-noattr drops -cades, which needs attributes). */
async function opensslSign(options: IssueOptions = {}, extra: string[] = []): Promise<{ envelope: Buffer; serialHex: string }> {
  const id = await pki.enterprise(options);
  const n = counter++;
  writeFileSync(join(dir, `ent${n}.pem`), id.pem);
  writeFileSync(join(dir, `ent${n}.key`), id.keyPem, { mode: 0o600 });
  const out = join(dir, `app${n}.p7s`);
  execFileSync(
    'openssl',
    [
      'cms',
      '-sign',
      '-binary',
      '-in',
      join(dir, 'app.json'),
      '-signer',
      join(dir, `ent${n}.pem`),
      '-inkey',
      join(dir, `ent${n}.key`),
      '-certfile',
      join(dir, 'issuing.pem'),
      '-md',
      'sha256',
      ...(extra.includes('-noattr') ? [] : ['-cades']),
      '-nosmimecap',
      '-outform',
      'DER',
      '-out',
      out,
      ...extra,
    ],
    { stdio: 'pipe' },
  );
  return { envelope: readFileSync(out), serialHex: id.serialHex };
}

async function verifyWithCrl(
  envelope: Buffer,
  revoked: Array<{ serialHex: string; at: Date }> = [],
  content: Buffer = doc,
): Promise<ValidationReport> {
  const crl = await pki.crl(revoked);
  return verifyEnvelope({ envelope, content, anchors: pki.anchors, revocation: crlSource([crl, rootCrl]), policy: annual, time: AT });
}

describe('openssl cms -sign as the outside signer', () => {
  it('a CAdES detached signature by the applicant is TOTAL_PASSED, revocation checked by CRL', async () => {
    const { envelope } = await opensslSign();
    const r = await verifyWithCrl(envelope);
    expect(r.indication, JSON.stringify(r.signatures[0]?.checks.filter((c) => c.result !== 'PASSED'))).toBe('TOTAL_PASSED');
    const types = r.signatures[0]!.checks.map((c) => c.id);
    expect(types).toContain('cms.signing-certificate-v2');
    expect(r.signatures[0]!.checks.some((c) => c.id.startsWith('path.') && /revo/i.test(c.id + c.message))).toBe(true);
  });

  it('tampered content is HASH_FAILURE', async () => {
    const { envelope } = await opensslSign();
    const r = await verifyWithCrl(envelope, [], annualReport({ employees: { value: 43, publish: true } }));
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
  });

  it('-noattr (no signed attributes) is TOTAL_FAILED', async () => {
    const { envelope } = await opensslSign({}, ['-noattr']);
    const r = await verifyWithCrl(envelope);
    expect(r.indication).toBe('TOTAL_FAILED');
    expect(r.signatures[0]!.checks.find((c) => c.id === 'cms.signed-attributes')?.result).toBe('FAILED');
  });

  it('a signer revoked before the validation time is REVOKED', async () => {
    const { envelope, serialHex } = await opensslSign();
    const r = await verifyWithCrl(envelope, [{ serialHex, at: new Date(NOW.getTime() - 1000) }]);
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
  });

  it('an expired signer certificate is EXPIRED or OUT_OF_BOUNDS', async () => {
    // openssl signs now; the certificate ended yesterday.
    const { envelope } = await opensslSign({ notBefore: new Date(NOW.getTime() - 30 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
    const r = await verifyWithCrl(envelope);
    expect(r.indication).not.toBe('TOTAL_PASSED');
    expect(r.subIndication).toMatch(/^(EXPIRED|OUT_OF_BOUNDS_NO_POE|OUT_OF_BOUNDS_NOT_REVOKED)$/);
  });

  it('a signer without the documentSigning EKU is CHAIN_CONSTRAINTS_FAILURE', async () => {
    const { envelope } = await opensslSign({ eku: [OID.kpClientAuth] });
    expect(await verifyWithCrl(envelope)).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'CHAIN_CONSTRAINTS_FAILURE' });
  });

  it("a signer whose organizationIdentifier is not the applicant's is POLICY_FAILURE", async () => {
    const { envelope } = await opensslSign({ organizationIdentifier: `NTRCN-${OTHER_USCC}` });
    expect(await verifyWithCrl(envelope)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE' });
  });

  it('our own countersigned envelopes still verify in openssl (countersignatures are unsigned attributes)', async () => {
    const { envelope } = await opensslSign();
    const { countersignCms } = await import('../../src/sign/cms.js');
    const officer = await pki.officer('approver');
    const countered = await countersignCms(envelope, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW });
    writeFileSync(join(dir, 'countered.p7s'), countered);
    writeFileSync(join(dir, 'root.pem'), pki.root.pem);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'countered.p7s'),
        '-content',
        join(dir, 'app.json'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { stdio: 'pipe' },
    );
    const r = await verifyWithCrl(countered);
    expect(r.signatures.map((s) => [s.role, s.decision ?? null, s.indication])).toEqual([
      ['signer', null, 'TOTAL_PASSED'],
      ['countersigner', 'approve', 'TOTAL_PASSED'],
    ]);
  });
});

describe('RSASSA-PSS as openssl cms makes it', () => {
  const pss = (saltLength?: string): string[] => [
    '-keyopt',
    'rsa_padding_mode:pss',
    ...(saltLength === undefined ? [] : ['-keyopt', `rsa_pss_saltlen:${saltLength}`]),
  ];
  /** The saltLength field of the RSASSA-PSS parameters, as openssl itself prints it (hex); absent is the DEFAULT, 20. */
  const saltOf = (envelope: Buffer): number => {
    const dump = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER'], { input: envelope }).toString();
    const m = /cont \[ 2 \]\s*\n.*INTEGER\s*:([0-9A-F]+)/.exec(dump);
    return m === null ? 20 : parseInt(m[1]!, 16);
  };

  it('the default (salt = the maximum, 222 octets for RSA-2048/SHA-256) is TOTAL_PASSED', async () => {
    const { envelope } = await opensslSign({ keyAlg: 'RSA-2048' }, pss());
    expect(saltOf(envelope)).toBe(222);
    const r = await verifyWithCrl(envelope);
    expect(r.indication, JSON.stringify(r.signatures[0]?.checks.filter((c) => c.result !== 'PASSED'))).toBe('TOTAL_PASSED');
  });

  it('a salt as long as the hash is TOTAL_PASSED', async () => {
    const { envelope } = await opensslSign({ keyAlg: 'RSA-2048' }, pss('digest'));
    expect(saltOf(envelope)).toBe(32);
    expect((await verifyWithCrl(envelope)).indication).toBe('TOTAL_PASSED');
  });

  it('a salt shorter than the hash is CRYPTO_CONSTRAINTS_FAILURE', async () => {
    const { envelope } = await opensslSign({ keyAlg: 'RSA-2048' }, pss('20'));
    expect(saltOf(envelope)).toBe(20);
    const r = await verifyWithCrl(envelope);
    expect(r).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'CRYPTO_CONSTRAINTS_FAILURE' });
    expect(JSON.stringify(r.signatures[0]!.checks)).toMatch(/20-octet salt.*from the hash length, 32 octets, up to 222 octets/);
  });
});
