import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeUscc } from '../../src/registry/uscc.js';
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
    const req = await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.path('k.pem'), '-subj', '/CN=Shenzhen Example Co Ltd', '-out', files.path('r.csr')]);
    expect(req.code, req.stderr).toBe(0);
    const issued = await admin.post('/api/v1/certificates', { profile: 'enterprise-signing', uscc: USCC, csr: readFileSync(files.path('r.csr'), 'utf8') });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    files.write('leaf.pem', issued.body.pem);

    const ocspArgs = ['ocsp', '-issuer', files.path('issuing.pem'), '-cert', files.path('leaf.pem'), '-url', `${ts.url}/ocsp`, '-CAfile', files.path('root.pem'), '-verify_other', files.path('issuing.pem')];
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
});
