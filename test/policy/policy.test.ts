import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { POLICIES_DIR } from '../../src/paths.js';
import { durationMs, loadPolicies } from '../../src/policy/policy.js';
import { expectCode } from '../helpers/expect-code.js';

const SHIPPED = ['annual-report', 'business-registration-change', 'complaint', 'food-business-licence'];

/** A directory holding the shipped policies with one file replaced (or added). */
function policyDirWith(name: string, text: string, keepShipped = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-policies-'));
  if (keepShipped) for (const id of SHIPPED) writeFileSync(join(dir, `${id}.yaml`), readFileSync(join(POLICIES_DIR, `${id}.yaml`)));
  writeFileSync(join(dir, name), text);
  return dir;
}

const shipped = (id: string): string => readFileSync(join(POLICIES_DIR, `${id}.yaml`), 'utf8');

describe('shipped policies', () => {
  const set = loadPolicies();

  it('loads the four shipped transaction types', () => {
    expect(set.list().map((p) => p.id)).toEqual(SHIPPED);
  });

  it('records each policy hash as the SHA-256 of the file bytes', () => {
    for (const p of set.list()) {
      expect(p.sha256).toBe(createHash('sha256').update(readFileSync(p.file)).digest('hex'));
    }
  });

  it('gives the approval steps of each transaction type', () => {
    expect(set.require('annual-report').approval).toEqual([]);
    expect(set.require('complaint').approval.map((s) => s.role)).toEqual(['handler']);
    const food = set.require('food-business-licence').approval;
    expect(food).toEqual([
      { role: 'reviewer', jurisdiction: 'applicant', distinctOfficers: false },
      { role: 'approver', jurisdiction: 'applicant', distinctOfficers: true },
    ]);
    expect(set.require('business-registration-change').signature.maxClockSkewMs).toBe(5 * 60_000);
  });

  it('accepts a realistic food business licence application', () => {
    const doc = {
      type: 'food-business-licence',
      applicant: '91350100M000100Y43',
      applicationId: 'FBL-2025-0001',
      createdAt: '2025-03-01T09:30:00+08:00',
      premises: { address: '88 Wusi Road, Gulou District, Fuzhou', divisionCode: '350102', areaSquareMetres: 126.5 },
      businessCategories: ['prepackagedFoodSale', 'hotFoodPreparation'],
      foodSafetyManager: { name: 'Chen Li', phone: '+86 591 8765 4321', trainingCertificate: 'FS-2024-118' },
      storageConditions: { ambient: true, refrigerated: true, frozen: false },
    };
    expect(set.require('food-business-licence').validateDocument(doc)).toEqual({ valid: true });
  });

  it('names the fields a document gets wrong', () => {
    const result = set.require('annual-report').validateDocument({
      type: 'annual-report',
      applicant: 'not-a-uscc',
      applicationId: 'AR-2024',
      createdAt: '2025-01-15T10:00:00Z',
      reportYear: 2024,
      registeredAddress: 'x',
      contact: { phone: '+86 10 1234 5678' },
      employees: { value: 12, publish: true },
      totalAssets: { value: '1200000.50', publish: false },
      revenue: { value: 1.5, publish: true },
      taxPaid: { value: '1000', publish: true },
    });
    expect(result.valid).toBe(false);
    const errors = (result as { errors: string[] }).errors.join('\n');
    expect(errors).toContain('/applicant');
    expect(errors).toContain('/revenue/value');
  });

  it('refuses a document of another type under a policy', () => {
    const result = set.require('complaint').validateDocument({ type: 'annual-report' });
    expect(result.valid).toBe(false);
  });

  it('answers an unknown policy id with ERR_POLICY_UNKNOWN listing the known ones', async () => {
    const error = await expectCode(() => set.require('parking-permit'), 'ERR_POLICY_UNKNOWN');
    expect(error.message).toContain('annual-report');
  });
});

describe('loadPolicies refuses a bad policy file, naming the file and the fault', () => {
  it('refuses YAML that does not parse', async () => {
    const dir = policyDirWith('broken.yaml', 'id: [unclosed\n');
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('broken.yaml');
    expect(error.message).toContain('not valid YAML');
  });

  it('refuses an unknown member (a typo must not be silently ignored)', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('minRsaBits: 2048', 'minRsaBits: 2048\n  maxClockSkw: PT1M'));
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toMatch(/complaint\.yaml.*maxClockSkw/);
  });

  it('refuses an algorithm outside the allow-list', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('algorithms: [ES256,', 'algorithms: [HS256, ES256,'));
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('/signature/algorithms/0');
  });

  it('refuses RSA below 2048 bits', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('minRsaBits: 2048', 'minRsaBits: 1024'));
    await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
  });

  it('refuses a document schema that does not compile', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('category:\n      enum:', 'category:\n      enumm:'));
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('does not compile');
  });

  it('refuses a document schema that does not pin type to the policy id', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('type: { const: complaint }', 'type: { type: string }'));
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('const: complaint');
  });

  it('refuses a document schema that does not require the core fields', async () => {
    const dir = policyDirWith(
      'complaint.yaml',
      shipped('complaint').replace('required: [type, applicant, applicationId, createdAt,', 'required: [type, applicationId, createdAt,'),
    );
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('applicant');
  });

  it('refuses a file whose name is not its id', async () => {
    const dir = policyDirWith('complaint-v2.yaml', shipped('complaint'));
    const error = await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
    expect(error.message).toContain('complaint-v2.yaml');
  });

  it('refuses YAML with a key given twice', async () => {
    const dir = policyDirWith('complaint.yaml', shipped('complaint').replace('version: 1', 'version: 1\nversion: 2'));
    await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
  });

  it('refuses an empty directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chancery-policies-'));
    await expectCode(() => loadPolicies(dir), 'ERR_POLICY_INVALID');
  });
});

describe('durationMs', () => {
  it('reads the PTnHnMnS durations a clock skew uses', () => {
    expect(durationMs('PT5M')).toBe(300_000);
    expect(durationMs('PT1H30S')).toBe(3_630_000);
  });
});
