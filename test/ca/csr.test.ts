import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { acceptCertificationRequest, parseCertificationRequest } from '../../src/ca/csr.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { createCaFixture, type CaFixture } from './fixtures.js';
import { openssl, scratch } from './openssl.js';

const files = scratch();

async function opensslCsr(name: string, keyArgs: string[], extra: string[] = []): Promise<string> {
  const made = await openssl([
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    files.path(`${name}.key`),
    '-subj',
    '/',
    ...extra,
    '-out',
    files.path(`${name}.csr`),
  ]);
  expect(made.code, made.stderr).toBe(0);
  return readFileSync(files.path(`${name}.csr`), 'utf8');
}

describe('PKCS#10 acceptance (parse, algorithm, proof of possession, key policy)', () => {
  // Making an RSA-4096 key is a random search for primes: 1-5 s, far more on a busy machine. openssl
  // makes it here, under the hooks' time limit, and the test below makes the CSR with it.
  beforeAll(async () => {
    const made = await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', files.path('rsa4096.key')]);
    expect(made.code, made.stderr).toBe(0);
  });

  it.each([
    ['ECDSA P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['ECDSA P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['Ed25519', ['-newkey', 'ed25519']],
    ['RSA 2048', ['-newkey', 'rsa:2048']],
    ['RSA 4096 with PSS', ['-key', files.path('rsa4096.key'), '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']],
  ])('accepts an openssl CSR with %s', async (name, args) => {
    const csr = await opensslCsr(name.replace(/\W/g, ''), args);
    expect(acceptCertificationRequest(csr).key.type).toMatch(/ec|ed25519|rsa/);
  });

  it('accepts the CSRs `chancery csr` makes for every keygen algorithm', async () => {
    for (const alg of ['P-256', 'P-384', 'Ed25519', 'RSA-2048', 'RSA-PSS-2048'] as const) {
      const { pem } = await buildCsr(signerFromPem(alg, generateUserKey(alg).privateKeyPem));
      expect(acceptCertificationRequest(pem).key.type, alg).toBe(
        alg.startsWith('P-') ? 'ec' : alg === 'Ed25519' ? 'ed25519' : alg === 'RSA-2048' ? 'rsa' : 'rsa-pss',
      );
    }
  });

  it('refuses an RSA-1024 key, naming the size', async () => {
    const csr = await opensslCsr('rsa1024', ['-newkey', 'rsa:1024']);
    const error = await expectCode(() => acceptCertificationRequest(csr), 'ERR_CA_KEY_POLICY');
    expect(error.message).toContain('1024 bits');
  });

  it('refuses a SHA-1 signature, naming it', async () => {
    const csr = await opensslCsr('sha1', ['-newkey', 'rsa:2048', '-sha1']);
    const error = await expectCode(() => acceptCertificationRequest(csr), 'ERR_CA_CSR_WEAK_SIGNATURE');
    expect(error.message).toContain('SHA-1');
  });

  it('refuses a CSR whose self-signature is broken (no proof of possession)', async () => {
    const der = Buffer.from(
      acceptCertificationRequest(await opensslCsr('broken', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])).der,
    );
    der[der.length - 3]! ^= 0x01; // inside the signature value
    await expectCode(() => acceptCertificationRequest(der), 'ERR_CA_CSR_SIGNATURE');
  });

  it('refuses a CSR whose key was swapped after signing', async () => {
    const a = parseCertificationRequest(
      Buffer.from(acceptCertificationRequest((await buildCsr(signerFromPem('a', generateUserKey('P-256').privateKeyPem))).pem).der),
    );
    const b = parseCertificationRequest(
      Buffer.from(acceptCertificationRequest((await buildCsr(signerFromPem('b', generateUserKey('P-256').privateKeyPem))).pem).der),
    );
    const swapped = Buffer.from(a.der.toString('hex').replace(a.spki.toString('hex'), b.spki.toString('hex')), 'hex');
    await expectCode(() => acceptCertificationRequest(swapped), 'ERR_CA_CSR_SIGNATURE');
  });

  it.each([
    ['garbage bytes', Buffer.from('not a csr at all')],
    ['a truncated DER', Buffer.from('3082010a0201', 'hex')],
    ['a PEM with broken base64', '-----BEGIN CERTIFICATE REQUEST-----\n@@@@\n-----END CERTIFICATE REQUEST-----\n'],
    [
      'two PEM blocks',
      '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n',
    ],
    ['an oversized input', Buffer.alloc(20_000, 0x30)],
  ])('refuses %s as malformed', async (_name, input) => {
    await expectCode(() => acceptCertificationRequest(input), 'ERR_CA_CSR_MALFORMED');
  });

  it('refuses trailing bytes after the request', async () => {
    const { der } = await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem));
    await expectCode(() => acceptCertificationRequest(Buffer.concat([der, Buffer.from([0])])), 'ERR_CA_CSR_MALFORMED');
  });
});

describe.each(drivers())('issuance refusals store nothing on $name', (driver) => {
  let f: CaFixture;
  const uscc = completeUscc('9111000000020000');
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc, name: 'Beijing Refusal Test Co' }, 'admin:test');
  });
  afterAll(async () => f?.close());

  const count = async (): Promise<number> => (await f.db.query<{ n: number }>('SELECT count(*)::int AS n FROM certificates')).rows[0]!.n;

  it('refuses a CSR whose subject disagrees with the registry, and one for a revoked enterprise', async () => {
    const before = await count();
    const entries = f.audit.entries.length;
    const wrong = await opensslCsr(
      'wrong-subject',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      ['-subj', '/O=Someone Else Co'],
    );
    await expectCode(() => f.ca.issue({ profile: 'enterprise-signing', uscc, csr: wrong }, 'admin:test'), 'ERR_CA_CSR_SUBJECT_MISMATCH');
    const rsa1024 = await opensslCsr('r1024', ['-newkey', 'rsa:1024']);
    await expectCode(() => f.ca.issue({ profile: 'enterprise-signing', uscc, csr: rsa1024 }, 'admin:test'), 'ERR_CA_KEY_POLICY');
    const ok = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    await expectCode(() => f.ca.issue({ profile: 'root', uscc, csr: ok }, 'admin:test'), 'ERR_CA_PROFILE_NOT_ISSUABLE');
    await expectCode(() => f.ca.issue({ profile: 'no-such-profile', uscc, csr: ok }, 'admin:test'), 'ERR_CA_PROFILE_UNKNOWN');
    await expectCode(
      () => f.ca.issue({ profile: 'enterprise-signing', uscc: completeUscc('9111000000020001'), csr: ok }, 'admin:test'),
      'ERR_REGISTRY_ENTERPRISE_NOT_FOUND',
    );
    await expectCode(
      () => f.ca.issue({ profile: 'officer', officerId: 'nobody', csr: ok }, 'admin:test'),
      'ERR_REGISTRY_OFFICER_NOT_FOUND',
    );
    await f.registry.revokeEnterprise(uscc, 'licence revoked by decision 42', 'admin:test');
    await expectCode(
      () => f.ca.issue({ profile: 'enterprise-signing', uscc, csr: ok }, 'admin:test'),
      'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE',
    );
    expect(await count()).toBe(before);
    expect(f.audit.entries.slice(entries).map((e) => e.kind)).toEqual(['enterprise.revoked']);
  });
});
