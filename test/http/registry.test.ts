import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLoginJws } from '../../src/client/login.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc, usccCheckCharacter } from '../../src/registry/uscc.js';
import { signCms } from '../../src/sign/cms.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { foodDocument } from '../submissions/fixtures.js';
import { adminApi, api, type Api } from './ca-client.js';

describe.each(drivers())('registry and auth routes on $name', (driver) => {
  let ts: TestService;
  let admin: Api;
  const uscc = completeUscc('9135020000050000');
  const other = completeUscc('9135020000050001');

  /** Logs in as a new holder of `profile` and returns its API. */
  const holderApi = async (request: Record<string, unknown>): Promise<Api> => {
    const signer = signerFromPem('h', generateUserKey('P-256').privateKeyPem);
    const issued = await admin.post('/api/v1/certificates', { ...request, csr: (await buildCsr(signer)).pem });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const { nonce } = (await api(ts.url, undefined).get('/api/v1/auth/challenge')).body;
    const token = await api(ts.url, undefined).post('/api/v1/auth/token', {
      jws: await signLoginJws(signer, nonce, pemDecodeAll(issued.body.pem, ['CERTIFICATE'])!),
    });
    expect(token.status).toBe(200);
    return api(ts.url, token.body.token);
  };
  const logSize = async (): Promise<number> =>
    Number((await ts.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries')).rows[0]!.n);
  const lastEntry = async (): Promise<{ kind: string; actor: string; data: Record<string, unknown> }> => {
    const { rows } = await ts.service.db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq DESC LIMIT 1');
    return JSON.parse(Buffer.from(rows[0]!.entry).toString('utf8'));
  };

  beforeAll(async () => {
    ts = await startTestService(driver);
    admin = await adminApi(ts);
    expect((await admin.post('/api/v1/enterprises', { uscc, name: 'Xiamen Harbour Trading Co' })).status).toBe(201);
    expect((await admin.post('/api/v1/enterprises', { uscc: other, name: 'Xiamen Other Co' })).status).toBe(201);
  });
  afterAll(async () => ts?.stop());

  it('refuses bad registrations with a specific 4xx code and changes nothing', async () => {
    const size = await logSize();
    const wrongCheck = uscc.slice(0, 17) + (usccCheckCharacter(uscc.slice(0, 17)) === '0' ? '1' : '0');
    const cases: Array<[unknown, number, string]> = [
      [{ uscc: wrongCheck, name: 'X' }, 400, 'ERR_REGISTRY_USCC_CHECK'],
      [{ uscc: 'not-a-uscc', name: 'X' }, 400, 'ERR_REGISTRY_USCC_MALFORMED'],
      [{ uscc: completeUscc('9135020000050002') }, 400, 'ERR_REGISTRY_INVALID'],
      [{ uscc, name: 'Duplicate' }, 409, 'ERR_REGISTRY_ENTERPRISE_EXISTS'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin.post('/api/v1/enterprises', body);
      expect([res.status, res.body.code]).toEqual([status, code]);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const officer = { id: 'fj-01', name: 'Lin Hua', role: 'reviewer', jurisdiction: '350200' };
    expect((await admin.post('/api/v1/officers', officer)).status).toBe(201);
    expect((await admin.post('/api/v1/officers', officer)).body.code).toBe('ERR_REGISTRY_OFFICER_EXISTS');
    expect((await admin.post('/api/v1/officers', { ...officer, id: 'fj-02', role: 'boss' })).body.code).toBe('ERR_REGISTRY_INVALID');
    expect((await admin.post('/api/v1/officers', { ...officer, id: 'fj-03', jurisdiction: '35' })).body.code).toBe('ERR_REGISTRY_INVALID');
    // Ids no officer can have are answered without a lookup (a NUL would make PostgreSQL fail).
    expect((await admin.get('/api/v1/officers/fj-01')).body.name).toBe('Lin Hua');
    for (const [path, status, code] of [
      ['/api/v1/officers/%00', 404, 'ERR_REGISTRY_OFFICER_NOT_FOUND'],
      ['/api/v1/officers/no%20spaces', 404, 'ERR_REGISTRY_OFFICER_NOT_FOUND'],
      ['/api/v1/officers?after=%00', 400, 'ERR_REGISTRY_INVALID'],
      ['/api/v1/officers?after=a&after=b', 400, 'ERR_REGISTRY_INVALID'],
    ] as const) {
      const res = await admin.get(path);
      expect([path, res.status, res.body.code]).toEqual([path, status, code]);
    }
    expect((await admin.get('/api/v1/officers?after=fj-00')).body.items.map((o: { id: string }) => o.id)).toContain('fj-01');
    expect(await logSize()).toBe(size + 1); // only the one officer registered
    expect(await lastEntry()).toMatchObject({ kind: 'officer.registered' });
  });

  it('lets only the admin register, revoke and deregister, audits every denial, and lets an enterprise read only itself', async () => {
    const anonymous = api(ts.url, undefined);
    const size = await logSize();
    const res = await anonymous.post('/api/v1/enterprises', { uscc: completeUscc('9135020000050003'), name: 'Sneaky Co' });
    expect([res.status, res.body.code]).toEqual([401, 'ERR_AUTH_TOKEN_MISSING']);
    // An anonymous refusal is noise: counted for the next summary entry, not an entry of its own.
    expect(await logSize()).toBe(size);
    await ts.service.parts.auth.denials.flush();
    expect(await lastEntry()).toMatchObject({
      kind: 'auth.denied.summary',
      actor: 'anonymous',
      data: { byCode: { ERR_AUTH_TOKEN_MISSING: 1 }, byPath: { '/api/v1/enterprises': 1 } },
    });

    const enterprise = await holderApi({ profile: 'enterprise-signing', uscc });
    expect((await enterprise.get(`/api/v1/enterprises/${uscc}`)).body.name).toBe('Xiamen Harbour Trading Co');
    const forbidden = await enterprise.get(`/api/v1/enterprises/${other}`);
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    const revokeAttempt = await enterprise.post(`/api/v1/enterprises/${other}/revoke`, {});
    expect([revokeAttempt.status, revokeAttempt.body.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    expect(await lastEntry()).toMatchObject({ kind: 'auth.denied', actor: `enterprise:${uscc}`, data: { code: 'ERR_AUTH_FORBIDDEN' } });
    // Not even its own deregistration: closing is recorded by the admin.
    const deregisterAttempt = await enterprise.post(`/api/v1/enterprises/${uscc}/deregister`, {});
    expect([deregisterAttempt.status, deregisterAttempt.body.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    expect(await lastEntry()).toMatchObject({
      kind: 'auth.denied',
      actor: `enterprise:${uscc}`,
      data: { code: 'ERR_AUTH_FORBIDDEN', path: `/api/v1/enterprises/${uscc}/deregister` },
    });
    expect((await admin.get(`/api/v1/enterprises/${uscc}`)).body.status).toBe('active');
    expect((await enterprise.get('/api/v1/auth/whoami')).body).toMatchObject({ role: 'enterprise', uscc });
    const garbageToken = await api(ts.url, 'abc.def.ghi').get('/api/v1/auth/whoami');
    expect([garbageToken.status, garbageToken.body.code]).toEqual([401, 'ERR_AUTH_TOKEN_INVALID']);
  });

  it('revokes an enterprise: its certificates are revoked and it appears on the public revoked list', async () => {
    const signer = signerFromPem('h', generateUserKey('P-256').privateKeyPem);
    const cert = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: other,
      csr: (await buildCsr(signer)).pem,
    });
    const revoked = await admin.post(`/api/v1/enterprises/${other}/revoke`, { reason: 'business licence revoked, decision 2024-17' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedCertificates).toEqual([cert.body.serial]);
    expect((await admin.get(`/api/v1/certificates/${cert.body.serial}`)).body).toMatchObject({
      status: 'revoked',
      revocationReason: 'cessationOfOperation',
    });
    const list = await api(ts.url, undefined).get('/api/v1/enterprises?status=revoked');
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { uscc: string }) => e.uscc)).toEqual([other]);
    expect((await api(ts.url, undefined).get('/api/v1/enterprises')).status).toBe(401);
    expect((await admin.get('/api/v1/enterprises?status=active')).body.items.map((e: { uscc: string }) => e.uscc)).toContain(uscc);
    const again = await admin.post(`/api/v1/enterprises/${other}/revoke`);
    expect([again.status, again.body.code]).toEqual([409, 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE']);
    const refused = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: other,
      csr: (await buildCsr(signer)).pem,
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE']);
  });

  it('deregisters an enterprise at its own request: its certificates are revoked, it is on ?status=deregistered and not on the revoked list, and its applications are rejected', async () => {
    const closing = completeUscc('9135020000050004');
    expect((await admin.post('/api/v1/enterprises', { uscc: closing, name: 'Xiamen Closing Down Co' })).status).toBe(201);
    const signer = signerFromPem('h', generateUserKey('P-256').privateKeyPem);
    const cert = await admin.post('/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: closing,
      csr: (await buildCsr(signer)).pem,
    });
    expect(cert.status).toBe(201);
    const issuing = pemDecodeAll(readFileSync(join(ts.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    const chain = [pemDecodeAll(cert.body.pem, ['CERTIFICATE'])![0]!, issuing];
    const envelope = await signCms({ signer, chain, content: foodDocument(closing), detached: false, time: new Date() });

    const size = await logSize();
    const deregistered = await admin.post(`/api/v1/enterprises/${closing}/deregister`);
    expect(deregistered.status).toBe(200);
    expect(deregistered.body.enterprise).toMatchObject({
      uscc: closing,
      status: 'deregistered',
      statusReason: 'deregistered at its own request',
      statusChangedAt: expect.any(String),
    });
    expect(deregistered.body.revokedCertificates).toEqual([cert.body.serial]);
    expect(await logSize()).toBe(size + 2);
    expect(await lastEntry()).toMatchObject({
      kind: 'enterprise.deregistered',
      subject: `enterprise:${closing}`,
      data: { uscc: closing, reason: 'deregistered at its own request', certificatesRevoked: 1 },
    });
    expect((await admin.get(`/api/v1/certificates/${cert.body.serial}`)).body).toMatchObject({
      status: 'revoked',
      revocationReason: 'cessationOfOperation',
    });
    expect((await admin.get(`/api/v1/enterprises/${closing}`)).body).toEqual(deregistered.body.enterprise);

    const revokedList = await api(ts.url, undefined).get('/api/v1/enterprises?status=revoked');
    expect(revokedList.body.items.map((e: { uscc: string }) => e.uscc)).not.toContain(closing);
    expect((await api(ts.url, undefined).get('/api/v1/enterprises?status=deregistered')).status).toBe(401);
    expect((await admin.get('/api/v1/enterprises?status=deregistered')).body.items.map((e: { uscc: string }) => e.uscc)).toEqual([closing]);

    // Ended once: neither a second deregistration nor a revocation changes anything.
    const sizeAfter = await logSize();
    const again = await admin.post(`/api/v1/enterprises/${closing}/deregister`, { reason: 'closed twice' });
    expect([again.status, again.body.code]).toEqual([409, 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE']);
    const revoke = await admin.post(`/api/v1/enterprises/${closing}/revoke`, { reason: 'licence revoked' });
    expect([revoke.status, revoke.body.code]).toEqual([409, 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE']);
    const unknown = await admin.post(`/api/v1/enterprises/${completeUscc('9135020000050009')}/deregister`);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ERR_REGISTRY_ENTERPRISE_NOT_FOUND']);
    expect(await logSize()).toBe(sizeAfter);
    expect((await admin.get(`/api/v1/enterprises/${closing}`)).body).toEqual(deregistered.body.enterprise);

    // An application signed while it was active is refused now that it is deregistered.
    const outcome = await new ChanceryClient(ts.url).submit(envelope);
    expect(outcome.kind).toBe('rejected');
    expect(outcome.kind === 'rejected' && outcome.body.code).toBe('ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE');
    expect(outcome.kind === 'rejected' && outcome.body.detail).toContain('deregistered');
  });
});
