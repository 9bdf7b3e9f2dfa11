import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemEncode } from '../../src/der/pem.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { createCaFixture, type CaFixture } from './fixtures.js';
import { openssl, scratch } from './openssl.js';

const USCC = completeUscc('9135010000010000'); // division 350100

describe.each(drivers())('issuance from PKCS#10 on $name', (driver) => {
  let f: CaFixture;
  const files = scratch();
  beforeAll(async () => {
    f = await createCaFixture(driver);
    await f.registry.registerEnterprise({ uscc: USCC, name: 'Fuzhou Example Trading Co., Ltd.' }, 'admin:test');
    files.write('root.pem', pemEncode('CERTIFICATE', f.hierarchy.root.der));
    files.write('issuing.pem', pemEncode('CERTIFICATE', f.hierarchy.issuing.der));
  });
  afterAll(async () => f?.close());

  it('accepts an openssl req CSR; openssl verifies the certificate against the CRL, and refuses it once revoked', async () => {
    const made = await openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      files.path('ent.key'),
      '-subj',
      '/',
      '-out',
      files.path('ent.csr'),
    ]);
    expect(made.code, made.stderr).toBe(0);
    const issued = await f.ca.issue(
      { profile: 'enterprise-signing', uscc: USCC, csr: readFileSync(files.path('ent.csr'), 'utf8') },
      'admin:test',
    );
    expect(issued.status).toBe('good');
    expect(issued.subject).toBe(
      `C=CN, O=Fuzhou Example Trading Co.\\, Ltd., organizationIdentifier=NTRCN-${USCC}, CN=Fuzhou Example Trading Co.\\, Ltd.`,
    );
    files.write('ent.pem', issued.pem);
    files.write('crl.der', await f.ca.currentCrl('issuing'));
    await openssl(['crl', '-inform', 'DER', '-in', files.path('crl.der'), '-out', files.path('crl.pem')]);
    const text = await openssl(['x509', '-in', files.path('ent.pem'), '-noout', '-text']);
    expect(text.stdout).toContain('Digital Signature, Non Repudiation');
    expect(text.stdout).toContain('1.3.6.1.5.5.7.3.36');
    expect(text.stdout).toContain('OCSP - URI:http://ca.test:8080/ocsp');
    const ok = await openssl([
      'verify',
      '-CAfile',
      files.path('root.pem'),
      '-untrusted',
      files.path('issuing.pem'),
      '-crl_check',
      '-CRLfile',
      files.path('crl.pem'),
      files.path('ent.pem'),
    ]);
    expect(ok.stdout + ok.stderr).toContain(': OK');
    expect(ok.code).toBe(0);

    await f.ca.revoke(issued.serial, 'keyCompromise', 'admin:test');
    files.write('crl2.der', await f.ca.currentCrl('issuing'));
    await openssl(['crl', '-inform', 'DER', '-in', files.path('crl2.der'), '-out', files.path('crl2.pem')]);
    const refused = await openssl([
      'verify',
      '-CAfile',
      files.path('root.pem'),
      '-untrusted',
      files.path('issuing.pem'),
      '-crl_check',
      '-CRLfile',
      files.path('crl2.pem'),
      files.path('ent.pem'),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('certificate revoked');
    await expectCode(() => f.ca.revoke(issued.serial, 'superseded', 'admin:test'), 'ERR_CA_ALREADY_REVOKED');
  });
});
