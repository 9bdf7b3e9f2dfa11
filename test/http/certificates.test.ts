import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseOcspResponse } from '../ca/ocsp-parse.js';
import { openssl, scratch } from '../ca/openssl.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { adminApi, type Api } from './ca-client.js';

const USCC = completeUscc('9144030000010000');

describe.each(drivers())('CA over HTTP with openssl as the outside client on $name', (driver) => {
  let ts: TestService;
  let admin: Api;
  const files = scratch();
  beforeAll(async () => {
    ts = await startTestService(driver);
    admin = await adminApi(ts);
    const chain = await (await fetch(`${ts.url}/ca/chain.pem`)).text();
    files.write('chain.pem', chain);
    files.write('root.pem', readFileSync(`${ts.dataDir}/ca/root.pem`));
    files.write('issuing.pem', readFileSync(`${ts.dataDir}/ca/issuing.pem`));
  });
  afterAll(async () => ts?.stop());

  it('issues from an openssl CSR; openssl ocsp says good, then revoked after revocation, with the responder signature verified', async () => {
    expect((await admin.post('/api/v1/enterprises', { uscc: USCC, name: 'Shenzhen Example Co Ltd' })).status).toBe(201);
    const req = await openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      files.path('k.pem'),
      '-subj',
      '/CN=Shenzhen Example Co Ltd',
      '-out',
      files.path('r.csr'),
    ]);
    expect(req.code, req.stderr).toBe(0);
    const issued = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: USCC,
      csr: readFileSync(files.path('r.csr'), 'utf8'),
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    files.write('leaf.pem', issued.body.pem);

    const ocspArgs = [
      'ocsp',
      '-issuer',
      files.path('issuing.pem'),
      '-cert',
      files.path('leaf.pem'),
      '-url',
      `${ts.url}/ocsp`,
      '-CAfile',
      files.path('root.pem'),
      '-verify_other',
      files.path('issuing.pem'),
    ];
    const good = await openssl(ocspArgs);
    expect(good.stdout + good.stderr).toContain('Response verify OK');
    expect(good.stdout).toContain(': good');

    const revoked = await admin.post(`/api/v1/certificates/${issued.body.serial}/revoke`, { reason: 'keyCompromise' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const after = await openssl(ocspArgs);
    expect(after.stdout + after.stderr).toContain('Response verify OK');
    expect(after.stdout).toContain(': revoked');
    expect(after.stdout).toContain('Reason: keyCompromise');
  });

  const certificateCount = async (): Promise<number> =>
    Number((await ts.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM certificates')).rows[0]!.n);
  const opensslCsr = async (name: string, args: string[]): Promise<string> => {
    const made = await openssl([
      'req',
      '-new',
      ...args,
      '-nodes',
      '-keyout',
      files.path(`${name}.key`),
      '-subj',
      '/',
      '-out',
      files.path(`${name}.csr`),
    ]);
    expect(made.code, made.stderr).toBe(0);
    return readFileSync(files.path(`${name}.csr`), 'utf8');
  };

  it('refuses RSA-1024, SHA-1 and broken-signature CSRs with a problem naming the reason, storing nothing', async () => {
    const before = await certificateCount();
    const broken = Buffer.from(
      pemDecodeAll(await opensslCsr('b', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']), ['CERTIFICATE REQUEST'])![0]!,
    );
    broken[broken.length - 2]! ^= 0x55;
    const cases: Array<[string, number, string, RegExp]> = [
      [await opensslCsr('r1024', ['-newkey', 'rsa:1024']), 422, 'ERR_CA_KEY_POLICY', /1024 bits/],
      [await opensslCsr('sha1', ['-newkey', 'rsa:2048', '-sha1']), 422, 'ERR_CA_CSR_WEAK_SIGNATURE', /SHA-1/],
      [
        `-----BEGIN CERTIFICATE REQUEST-----\n${broken.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
        422,
        'ERR_CA_CSR_SIGNATURE',
        /proof of possession/,
      ],
      ['-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n', 400, 'ERR_CA_CSR_MALFORMED', /base64/],
      ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA', 400, 'ERR_CA_CSR_MALFORMED', /PKCS#10/],
    ];
    for (const [csr, status, code, reason] of cases) {
      const res = await admin.post('/api/v1/certificates', { profile: 'enterprise-signing', uscc: USCC, csr });
      expect([res.status, res.body.code], JSON.stringify(res.body)).toEqual([status, code]);
      expect(res.body.detail).toMatch(reason);
    }
    const ok = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const unknownProfile = await admin.post('/api/v1/certificates', { profile: 'web-server', uscc: USCC, csr: ok });
    expect([unknownProfile.status, unknownProfile.body.code]).toEqual([400, 'ERR_CA_PROFILE_UNKNOWN']);
    const huge = await fetch(`${ts.url}/api/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'enterprise-signing', uscc: USCC, csr: 'A'.repeat(10 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe('ERR_HTTP_BODY_TOO_LARGE');
    expect(await certificateCount()).toBe(before);
  });

  it('answers unknown and malformed serials with 404 and 400', async () => {
    expect((await admin.get('/api/v1/certificates/0a0b0c0d')).body.code).toBe('ERR_CA_CERTIFICATE_NOT_FOUND');
    expect((await admin.get('/api/v1/certificates/0a0b0c0d')).status).toBe(404);
    expect((await admin.post('/api/v1/certificates/0a0b0c0d/revoke', { reason: 'keyCompromise' })).status).toBe(404);
    const bad = await admin.get('/api/v1/certificates/not-hex');
    expect([bad.status, bad.body.code]).toEqual([400, 'ERR_CA_SERIAL_MALFORMED']);
    const reason = await admin.post('/api/v1/certificates/0a0b/revoke', { reason: 'certificateHold' });
    expect([reason.status, reason.body.code]).toEqual([400, 'ERR_CA_REASON_INVALID']);
  });

  it('serves the issuing and root CRLs: openssl verify -crl_check_all passes with both, and fails with "certificate revoked" after revocation', async () => {
    const issued = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: USCC,
      csr: (await buildCsr(signerFromPem('k', generateUserKey('P-384').privateKeyPem))).pem,
    });
    files.write('crl-leaf.pem', issued.body.pem);
    const fetchCrl = async (ca: 'issuing' | 'root', name: string): Promise<string> => {
      const res = await fetch(`${ts.url}/ca/${ca}.crl`);
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'application/pkix-crl']);
      files.write(`${name}.der`, Buffer.from(await res.arrayBuffer()));
      expect((await openssl(['crl', '-inform', 'DER', '-in', files.path(`${name}.der`), '-out', files.path(`${name}.pem`)])).code).toBe(0);
      return files.path(`${name}.pem`);
    };
    const rootCrl = await fetchCrl('root', 'root-crl');
    // The root's CRL is signed by the root and lists nothing.
    const signed = await openssl([
      'crl',
      '-inform',
      'DER',
      '-in',
      files.path('root-crl.der'),
      '-CAfile',
      files.path('root.pem'),
      '-noout',
      '-text',
    ]);
    expect([signed.code, signed.stdout + signed.stderr]).toEqual([0, expect.stringContaining('verify OK')]);
    expect(signed.stdout).toContain('No Revoked Certificates');
    expect(signed.stdout).toContain('Issuer: C = CN, O = Chancery, CN = Chancery Root CA');
    // -crl_check_all checks the issuing CA too: its CDP names the root's CRL.
    const issuingText = await openssl(['x509', '-in', files.path('issuing.pem'), '-noout', '-ext', 'crlDistributionPoints']);
    expect(issuingText.stdout).toContain(`URI:${ts.url}/ca/root.crl`);
    const verify = ['verify', '-CAfile', files.path('root.pem'), '-untrusted', files.path('issuing.pem'), '-crl_check_all'];
    const issuingCrl = await fetchCrl('issuing', 'crl-a');
    const ok = await openssl([...verify, '-CRLfile', issuingCrl, '-CRLfile', rootCrl, files.path('crl-leaf.pem')]);
    expect([ok.code, ok.stdout.trim()], ok.stderr).toEqual([0, `${files.path('crl-leaf.pem')}: OK`]);
    const withoutRoot = await openssl([...verify, '-CRLfile', issuingCrl, files.path('crl-leaf.pem')]);
    expect(withoutRoot.code).not.toBe(0);
    expect(withoutRoot.stdout + withoutRoot.stderr).toContain('unable to get certificate CRL');
    await admin.post(`/api/v1/certificates/${issued.body.serial}/revoke`, { reason: 'affiliationChanged' });
    const refused = await openssl([
      ...verify,
      '-CRLfile',
      await fetchCrl('issuing', 'crl-b'),
      '-CRLfile',
      rootCrl,
      files.path('crl-leaf.pem'),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('certificate revoked');
    expect((await fetch(`${ts.url}/ca/nosuch.crl`)).status).toBe(404);
  });

  it('answers OCSP over GET, malformed requests with malformedRequest (never an HTTP error), and a wrong content type with 415', async () => {
    const issued = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: USCC,
      csr: (await buildCsr(signerFromPem('k', generateUserKey('Ed25519').privateKeyPem))).pem,
    });
    const issuing = pemDecodeAll(readFileSync(files.path('issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    const request = buildOcspRequest(issuing, issued.body.serial);
    const get = await fetch(`${ts.url}/ocsp/${encodeURIComponent(request.toString('base64'))}`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/ocsp-response');
    expect(get.headers.get('cache-control')).toContain('max-age');
    expect(parseOcspResponse(Buffer.from(await get.arrayBuffer())).singles[0]!.status).toBe('good');
    for (const body of [Buffer.from('garbage'), Buffer.alloc(0), request.subarray(0, 20)]) {
      const res = await fetch(`${ts.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
      expect(res.status).toBe(200);
      expect(parseOcspResponse(Buffer.from(await res.arrayBuffer())).responseStatus).toBe(1);
    }
    for (const path of ['/ocsp/!!!notbase64', '/ocsp/AAAA', '/ocsp/a%2Fb%2B']) {
      const res = await fetch(`${ts.url}${path}`);
      expect(res.status).toBe(200);
      expect(parseOcspResponse(Buffer.from(await res.arrayBuffer())).responseStatus).toBe(1);
    }
    const wrongType = await fetch(`${ts.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: request });
    expect(wrongType.status).toBe(415);
  });

  it('makes a PKCS#12 bundle with a server-generated key that openssl opens with the one-time password', async () => {
    const res = await admin.post('/api/v1/certificates/pkcs12', { profile: 'enterprise-signing', uscc: USCC, keyAlgorithm: 'P-256' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    files.write('bundle.p12', Buffer.from(res.body.pkcs12, 'base64'));
    const opened = await openssl(['pkcs12', '-in', files.path('bundle.p12'), '-passin', `pass:${res.body.password}`, '-nodes']);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain('BEGIN PRIVATE KEY');
    expect(opened.stdout).toContain(res.body.certificate.pem.split('\n')[1]);
    const wrong = await openssl(['pkcs12', '-in', files.path('bundle.p12'), '-passin', 'pass:wrong', '-nodes']);
    expect(wrong.code).not.toBe(0);
  });
});
