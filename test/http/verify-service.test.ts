import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemEncode } from '../../src/der/pem.js';
import { keyObjectSigner, type Signer } from '../../src/crypto/signer.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { pemBlocks } from '../../src/verify/pem-input.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { runCli } from '../helpers/spawn.js';
import { annualReport } from '../verify/envelope-pki.js';

/**
 * The verify route inside the real service: trust anchors are the service's own CA, revocation
 * is its database, the policies are those loaded (and logged) at start. Certificates come from
 * the real CA through PKCS#10 requests made by openssl, so the shipped profiles are exercised.
 * The same signatures verify offline (`chancery verify`, `chancery chain verify`, built dist/)
 * with nothing but the service's root and its two CRLs.
 */

const USCC = completeUscc('9135010012345678');
const ADMIN = 'admin:test';

interface Holder {
  signer: Signer;
  chain: Buffer[];
  serial: string;
}

describe.each(drivers())('POST /api/v1/verify in the running service on $name', (driver) => {
  let svc: TestService;
  let dir: string;

  beforeAll(async () => {
    svc = await startTestService(driver);
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
    const info = await svc.service.parts.ca.issue({ ...request, csr }, ADMIN);
    const privateKey = createPrivateKey(readFileSync(key));
    return {
      signer: keyObjectSigner(name, privateKey, createPublicKey(privateKey)),
      chain: [pemBlocks(info.pem, 'CERTIFICATE')[0]!, svc.service.parts.ca.hierarchy.issuing.der],
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
    const { registry, ca } = svc.service.parts;
    await registry.registerEnterprise({ uscc: USCC, name: 'Fuzhou Minjiang Foods Co Ltd' }, ADMIN);
    await registry.registerOfficer(
      { id: 'OFF-0042', name: 'Lin Wei', authority: 'Fuzhou Market Regulation Bureau', role: 'approver', jurisdiction: '350100' },
      ADMIN,
    );
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

  it(
    "verifies offline with the service's root and its issuing and root CRLs: TOTAL_PASSED, INDETERMINATE without the root's CRL, REVOKED once revoked",
    { timeout: 60_000 },
    async () => {
      const { registry, ca } = svc.service.parts;
      const uscc = completeUscc('9135010012345679');
      await registry.registerEnterprise({ uscc, name: 'Fuzhou Offline Verification Co Ltd' }, ADMIN);
      const ent = await issue('offline-enterprise', { profile: 'enterprise-signing', uscc });
      const doc = annualReport({ applicant: uscc });
      const file = (name: string): string => join(dir, name);
      writeFileSync(file('app.json'), doc);
      writeFileSync(
        file('app.p7s'),
        await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: new Date(Date.now() - 1000) }),
      );
      writeFileSync(file('ent.pem'), pemEncode('CERTIFICATE', ent.chain[0]!));
      writeFileSync(file('root.pem'), readFileSync(`${svc.dataDir}/ca/root.pem`));
      writeFileSync(file('issuing.pem'), readFileSync(`${svc.dataDir}/ca/issuing.pem`));
      const fetchCrls = async (): Promise<void> => {
        for (const ca of ['issuing', 'root'])
          writeFileSync(file(`${ca}.crl`), Buffer.from(await (await fetch(`${svc.url}/ca/${ca}.crl`)).arrayBuffer()));
      };
      await fetchCrls();
      const verify = (...crls: string[]) =>
        runCli([
          'verify',
          '--in',
          file('app.p7s'),
          '--content',
          file('app.json'),
          '--trust',
          file('root.pem'),
          '--untrusted',
          file('issuing.pem'),
          ...crls.flatMap((c) => ['--crl', file(c)]),
          '--policy',
          'annual-report',
          '--json',
        ]);

      const passed = await verify('issuing.crl', 'root.crl');
      expect(passed.code, passed.stdout + passed.stderr).toBe(0);
      const report = JSON.parse(passed.stdout) as ValidationReport;
      expect(report.indication).toBe('TOTAL_PASSED');
      // The issuing CA's own status came from the root's CRL, not from a workaround.
      const revocationChecks = report.signatures[0]!.checks.filter((c) => c.id === 'path.revocation');
      expect(revocationChecks.map((c) => c.result)).toEqual(['PASSED', 'PASSED']);
      expect(revocationChecks.find((c) => c.certificateIndex === 1)!.message).toMatch(
        /Chancery Issuing CA 1.* is not revoked, according to the CRL of "C=CN, O=Chancery, CN=Chancery Root CA"/,
      );

      const chain = await runCli([
        'chain',
        'verify',
        '--trusted',
        file('root.pem'),
        '--untrusted',
        file('issuing.pem'),
        '--leaf',
        file('ent.pem'),
        '--eku',
        'documentSigning',
        '--crl',
        file('issuing.crl'),
        '--crl',
        file('root.crl'),
      ]);
      expect(chain.code, chain.stdout + chain.stderr).toBe(0);
      expect(chain.stdout).toMatch(/^TOTAL_PASSED\n/);

      const withoutRoot = await verify('issuing.crl');
      expect(withoutRoot.code).toBe(2);
      expect(JSON.parse(withoutRoot.stdout) as ValidationReport).toMatchObject({ indication: 'INDETERMINATE' });

      await ca.revoke(ent.serial, 'keyCompromise', ADMIN);
      await fetchCrls();
      const revoked = await verify('issuing.crl', 'root.crl');
      expect(revoked.code).toBe(1);
      expect(JSON.parse(revoked.stdout) as ValidationReport).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    },
  );
});
