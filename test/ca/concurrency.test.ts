import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { drivers } from '../helpers/db.js';
import { createCaFixture, type CaFixture } from './fixtures.js';

describe.each(drivers())('issuance racing a licence revocation on $name', (driver) => {
  let f: CaFixture;
  beforeAll(async () => {
    f = await createCaFixture(driver);
  });
  afterAll(async () => f?.close());

  it('leaves no unrevoked certificate of a revoked enterprise, and logs every stored certificate exactly once', async () => {
    const uscc = completeUscc('9133010000070000');
    await f.registry.registerEnterprise({ uscc, name: 'Hangzhou Race Co' }, 'admin:test');
    const csrs = await Promise.all(
      Array.from({ length: 8 }, async () => (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem),
    );
    const issuing = Array.from({ length: 40 }, (_, i) =>
      f.ca.issue({ profile: 'enterprise-signing', uscc, csr: csrs[i % csrs.length] }, 'admin:test'),
    );
    const revoking = new Promise((r) => setTimeout(r, 5)).then(() => f.registry.revokeEnterprise(uscc, 'licence revoked', 'admin:test'));
    const outcomes = await Promise.allSettled([...issuing, revoking]);
    expect(outcomes.at(-1)!.status).toBe('fulfilled');
    for (const o of outcomes.slice(0, -1)) {
      if (o.status === 'rejected') expect((o.reason as { code: string }).code).toBe('ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE');
    }
    const { rows } = await f.db.query<{ serial: string; revoked: boolean }>(
      'SELECT serial, revoked_at IS NOT NULL AS revoked FROM certificates WHERE uscc = $1',
      [uscc],
    );
    expect(rows.every((r) => r.revoked)).toBe(true);
    const issued = outcomes.slice(0, -1).filter((o) => o.status === 'fulfilled').length;
    expect(rows).toHaveLength(issued);
    const logged = f.audit.entries.filter((e) => e.kind === 'certificate.issued' && e.data['uscc'] === uscc);
    expect(logged).toHaveLength(issued);
    expect(f.audit.entries.filter((e) => e.kind === 'certificate.revoked' && e.data['uscc'] === uscc)).toHaveLength(issued);
  });
});
