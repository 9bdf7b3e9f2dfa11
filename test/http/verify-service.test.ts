import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyObjectSigner, type Signer } from '../../src/crypto/signer.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { pemBlocks } from '../../src/verify/certificate.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { pgliteDriver } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';

/**
 * The verify route inside the real service: trust anchors are the service's own CA, revocation
 * is its database, the policies are those loaded (and logged) at start. Certificates come from
 * the real CA through PKCS#10 requests made by openssl, so the shipped profiles are exercised.
 */

const USCC = completeUscc('9135010012345678');
const ADMIN = 'admin:test';

interface Holder {
  signer: Signer;
  chain: Buffer[];
  serial: string;
}

describe('POST /api/v1/verify in the running service', () => {
  let svc: TestService;
  let dir: string;

  beforeAll(async () => {
    svc = await startTestService(pgliteDriver);
    dir = mkdtempSync(join(tmpdir(), 'chancery-verify-svc-'));
  });
  afterAll(async () => {
    await svc?.stop();
  });

  /** A P-256 key and CSR made by openssl, issued by the service's CA under `profile`. */
  async function issue(name: string, request: { profile: string; uscc?: string; officerId?: string }): Promise<Holder> {
    const key = join(dir, `${name}.key`);
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const info = await svc.service.certificates.ca.issue({ ...request, csr }, ADMIN);
    const privateKey = createPrivateKey(readFileSync(key));
    return {
      signer: keyObjectSigner(name, privateKey, createPublicKey(privateKey)),
      chain: [pemBlocks(info.pem, 'CERTIFICATE')[0]!, svc.service.certificates.ca.hierarchy.issuing.der],
      serial: info.serial,
    };
  }

  const verify = async (envelope: Buffer, content: Buffer, policy: string): Promise<ValidationReport> => {
    const res = await fetch(`${svc.url}/api/v1/verify?policy=${policy}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cms: envelope.toString('base64'), content: content.toString('base64') }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as ValidationReport;
  };

  it('exposes the loaded policies and logs one policy.loaded entry per policy with its hash', async () => {
    const ids = svc.service.policies.list().map((p) => p.id);
    expect(ids).toEqual(['annual-report', 'business-registration-change', 'complaint', 'food-business-licence']);
    const size = await svc.service.auditPart.reader.treeSize();
    const page = await svc.service.auditPart.reader.entries(0, size);
    const loaded = JSON.stringify(page).match(/policy\.loaded/g) ?? [];
    expect(loaded.length).toBe(4);
    expect(JSON.stringify(page)).toContain(svc.service.policies.require('complaint').sha256);
  });

  it("passes an enterprise's application and an officer's approval issued by the service's own CA, and refuses them once revoked", async () => {
    const { registry, ca } = svc.service.certificates;
    await registry.registerEnterprise({ uscc: USCC, name: 'Fuzhou Minjiang Foods Co Ltd' }, ADMIN);
    await registry.registerOfficer({ id: 'OFF-0042', name: 'Lin Wei', authority: 'Fuzhou Market Regulation Bureau', role: 'approver', jurisdiction: '350100' }, ADMIN);
    const ent = await issue('enterprise', { profile: 'enterprise-signing', uscc: USCC });
    const officer = await issue('officer', { profile: 'officer', officerId: 'OFF-0042' });
    const doc = Buffer.from(
      JSON.stringify({
        type: 'food-business-licence',
        applicant: USCC,
        applicationId: 'FBL-1',
        createdAt: '2026-01-15T10:00:00+08:00',
        premises: { address: '12 Dongjie Street, Fuzhou', divisionCode: '350102', areaSquareMetres: 86.5 },
        businessCategories: ['prepackagedFoodSale'],
        foodSafetyManager: { name: 'Chen Li', phone: '+86 591 8765 4321', trainingCertificate: 'FS-1' },
        storageConditions: { ambient: true, refrigerated: false, frozen: false },
      }),
    );
    const now = new Date(Date.now() - 1000);
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: now });
    const approved = await countersignCms(env, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: now });

    const ok = await verify(approved, doc, 'food-business-licence');
    expect(ok.indication, JSON.stringify(ok.signatures.map((s) => s.checks.filter((c) => c.result !== 'PASSED')))).toBe('TOTAL_PASSED');
    expect(ok.signatures[1]).toMatchObject({ decision: 'approve', signer: { officer: { role: 'approver', jurisdiction: '350100' } } });

    await ca.revoke(ent.serial, 'keyCompromise', ADMIN);
    const revoked = await verify(approved, doc, 'food-business-licence');
    expect(revoked).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
  });
});
