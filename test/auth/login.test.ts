import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.js';
import { signLoginJws } from '../../src/client/login.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { databaseRevocationSource, revokedSerialCheck } from '../../src/ca/revocation-source.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import type { Signer } from '../../src/crypto/signer.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { createCaFixture, type CaFixture } from '../ca/fixtures.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';

const CONTEXT = { method: 'POST', path: '/api/v1/auth/token' };

interface Holder {
  signer: Signer;
  chain: Buffer[];
  serial: string;
}

describe.each(drivers())('certificate login on $name', (driver) => {
  let f: CaFixture;
  let auth: AuthService;
  const uscc = completeUscc('9144030000040000');

  const holder = async (request: Parameters<CaFixture['ca']['issue']>[0]): Promise<Holder> => {
    const signer = signerFromPem('holder', generateUserKey('P-256').privateKeyPem);
    const info = await f.ca.issue({ ...request, csr: (await buildCsr(signer)).pem }, 'admin:test');
    return { signer, chain: pemDecodeAll(info.pem, ['CERTIFICATE'])!, serial: info.serial };
  };
  const login = async (h: Holder, nonce?: string) =>
    auth.login({ jws: await signLoginJws(h.signer, nonce ?? (await auth.challenge()).nonce, h.chain) }, CONTEXT);
  const denials = (): number => f.audit.entries.filter((e) => e.kind === 'auth.denied').length;

  beforeAll(async () => {
    f = await createCaFixture(driver);
    auth = new AuthService({
      db: f.db,
      audit: f.audit,
      root: parseCertificate(f.hierarchy.root.der),
      issuing: parseCertificate(f.hierarchy.issuing.der),
      revocation: databaseRevocationSource(f.ca),
      tokenSigner: f.hierarchy.tokenSigner,
      holderRevoked: revokedSerialCheck(f.ca),
      now: () => f.now.value,
    });
    await f.registry.registerEnterprise({ uscc, name: 'Shenzhen Login Co' }, 'admin:test');
    await f.registry.registerOfficer({ id: 'gd-0001', name: 'Chen Jing', role: 'approver', jurisdiction: '440000' }, 'admin:test');
  });
  afterAll(async () => f?.close());

  it('gives each holder a 15-minute ES256 token whose claims come from its certificate', async () => {
    const enterprise = await login(await holder({ profile: 'enterprise-signing', uscc }));
    expect(enterprise.principal).toMatchObject({ role: 'enterprise', uscc, actor: `enterprise:${uscc}` });
    const officer = await login(await holder({ profile: 'officer', officerId: 'gd-0001' }));
    expect(officer.principal).toMatchObject({
      role: 'officer',
      actor: 'officer:gd-0001',
      officer: { id: 'gd-0001', role: 'approver', jurisdiction: '440000' },
    });
    const auditor = await login(await holder({ profile: 'auditor', name: 'Wang Fang' }));
    expect(auditor.principal).toMatchObject({ role: 'auditor', name: 'Wang Fang' });
    expect(new Date(officer.expiresAt).getTime() - f.now.value.getTime()).toBeLessThanOrEqual(15 * 60_000);
    expect(JSON.parse(Buffer.from(officer.token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    const verified = await auth.tokens.verify(officer.token);
    expect(verified.officer).toEqual({ id: 'gd-0001', role: 'approver', jurisdiction: '440000' });
  });

  it('uses a nonce once', async () => {
    const h = await holder({ profile: 'enterprise-signing', uscc });
    const { nonce } = await auth.challenge();
    await login(h, nonce);
    const before = denials();
    await expectCode(() => login(h, nonce), 'ERR_AUTH_CHALLENGE_INVALID');
    expect(denials()).toBe(before + 1);
  });

  it('refuses an expired nonce', async () => {
    const h = await holder({ profile: 'enterprise-signing', uscc });
    const { nonce } = await auth.challenge();
    f.now.value = new Date(f.now.value.getTime() + 5 * 60_000);
    try {
      await expectCode(() => login(h, nonce), 'ERR_AUTH_CHALLENGE_INVALID');
    } finally {
      f.now.value = new Date();
    }
  });

  it('gives a revoked certificate no token, and audits the refusal', async () => {
    const h = await holder({ profile: 'enterprise-signing', uscc });
    await f.ca.revoke(h.serial, 'keyCompromise', 'admin:test');
    const before = denials();
    const error = await expectCode(() => login(h), 'ERR_AUTH_CERTIFICATE_REJECTED');
    expect(error.message).toContain('REVOKED');
    const entry = f.audit.entries.filter((e) => e.kind === 'auth.denied').at(-1)!;
    expect(denials()).toBe(before + 1);
    expect(entry).toMatchObject({ actor: `certificate:${h.serial}`, data: { code: 'ERR_AUTH_CERTIFICATE_REJECTED' } });
  });

  it('refuses a token as soon as its certificate is revoked, not at its expiry, and audits it', async () => {
    const h = await holder({ profile: 'auditor', name: 'Sun Li' });
    const { token, principal } = await login(h);
    const context = { method: 'GET', path: '/api/v1/submissions' };
    expect(await auth.authenticate(`Bearer ${token}`, context)).toMatchObject({ actor: principal.actor, certificateSerial: h.serial });
    expect(await auth.authenticate(`Bearer ${token}`, context)).toMatchObject({ actor: principal.actor }); // answered from the epoch cache
    await f.ca.revoke(h.serial, 'affiliationChanged', 'admin:test');
    const before = denials();
    const error = await expectCode(() => auth.authenticate(`Bearer ${token}`, context), 'ERR_AUTH_TOKEN_INVALID');
    expect(error.message).toContain('revoked');
    expect(denials()).toBe(before + 1);
    expect(f.audit.entries.filter((e) => e.kind === 'auth.denied').at(-1)).toMatchObject({
      actor: principal.actor,
      data: { code: 'ERR_AUTH_TOKEN_INVALID', path: '/api/v1/submissions' },
    });
    // Another holder's token is untouched by that revocation.
    const other = await login(await holder({ profile: 'auditor', name: 'Zhou Min' }));
    expect((await auth.authenticate(`Bearer ${other.token}`, context)).name).toBe('Zhou Min');
  });

  it('gives an expired certificate no token', async () => {
    const h = await holder({ profile: 'auditor', name: 'Zhao Lei' });
    f.now.value = new Date(Date.now() + 400 * 86_400_000);
    try {
      const error = await expectCode(() => login(h), 'ERR_AUTH_CERTIFICATE_REJECTED');
      expect(error.message).toMatch(/EXPIRED|OUT_OF_BOUNDS/);
    } finally {
      f.now.value = new Date();
    }
  });

  it('refuses a certificate from another CA, a signature by another key, and malformed logins', async () => {
    const stranger = signerFromPem('stranger', generateUserKey('P-256').privateKeyPem);
    const h = await holder({ profile: 'enterprise-signing', uscc });
    // Signed by a key that is not the certificate's.
    await expectCode(
      async () => auth.login({ jws: await signLoginJws(stranger, (await auth.challenge()).nonce, h.chain) }, CONTEXT),
      'ERR_AUTH_SIGNATURE_INVALID',
    );
    // A self-signed certificate made with openssl-like tooling is not ours: use the OCSP responder's, which has no login role.
    await expectCode(
      async () =>
        auth.login({ jws: await signLoginJws(f.hierarchy.ocsp.signer, (await auth.challenge()).nonce, [f.hierarchy.ocsp.der]) }, CONTEXT),
      'ERR_AUTH_CERTIFICATE_REJECTED',
    );
    for (const body of [
      undefined,
      {},
      { jws: 'a.b' },
      { jws: 'x'.repeat(40_000) },
      { jws: `${Buffer.from('{"alg":"none","x5c":["AA=="]}').toString('base64url')}.e30.` },
    ]) {
      await expectCode(() => auth.login(body, CONTEXT), 'ERR_AUTH_LOGIN_MALFORMED');
    }
  });

  it('refuses forged, expired and missing bearer tokens', async () => {
    const { token } = await login(await holder({ profile: 'enterprise-signing', uscc }));
    const [h, p, s] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'admin' })).toString(
      'base64url',
    );
    await expectCode(() => auth.authenticate(`Bearer ${h}.${forgedPayload}.${s}`, CONTEXT), 'ERR_AUTH_TOKEN_INVALID');
    await expectCode(() => auth.authenticate(undefined, CONTEXT), 'ERR_AUTH_TOKEN_MISSING');
    await expectCode(() => auth.authenticate(`Basic ${token}`, CONTEXT), 'ERR_AUTH_TOKEN_MISSING');
    f.now.value = new Date(Date.now() + 16 * 60_000);
    try {
      const error = await expectCode(() => auth.authenticate(`Bearer ${token}`, CONTEXT), 'ERR_AUTH_TOKEN_INVALID');
      expect(error.message).toContain('expired');
    } finally {
      f.now.value = new Date();
    }
  });
});
