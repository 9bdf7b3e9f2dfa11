import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteDriver } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { annualDocument, createWorld, foodDocument, signCmsWith, type World } from '../submissions/fixtures.js';
import { holderFiles, scratchDir, type HolderFiles } from './cli-world.js';

/**
 * `chancery submit` and `chancery audit prove --receipt` as real processes against a running
 * service: the enterprise submits, an officer uploads its countersignature, and the receipts are
 * proven in the log with the log key and the CA root alone.
 */
describe('chancery submit and audit prove --receipt', () => {
  let w: World;
  let dir: string;
  let enterprise: HolderFiles;
  let reviewer: HolderFiles;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
    dir = scratchDir();
    enterprise = holderFiles(w, w.a, dir);
    reviewer = holderFiles(w, w.reviewer, dir);
    writeFileSync(join(dir, 'root.pem'), readFileSync(join(w.ts.dataDir, 'ca', 'root.pem')));
  });
  afterAll(async () => w?.stop());

  const prove = (receipt: string, ...extra: string[]) =>
    runCli([
      'audit',
      'prove',
      '--receipt',
      receipt,
      '--url',
      w.url,
      '--log-key',
      join(w.ts.dataDir, 'log.vkey'),
      '--trust',
      join(dir, 'root.pem'),
      '--no-state',
      ...extra,
    ]);

  it('submits without a login, saves the receipt, answers a resubmission as already submitted', async () => {
    writeFileSync(join(dir, 'food.p7s'), await signCmsWith(w.a, foodDocument(w.a.uscc)));
    const r = await runCli(['submit', '--url', w.url, '--in', join(dir, 'food.p7s'), '--receipt-out', join(dir, 'food.receipt')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^submitted: [0-9a-f-]{36} pending \(next: step 1, a reviewer\)/);
    const again = await runCli(['submit', '--url', w.url, '--in', join(dir, 'food.p7s'), '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ existing: true, status: 'pending' });

    const proven = await prove(join(dir, 'food.receipt'));
    expect(proven.code, proven.stderr).toBe(0);
    expect(proven.stdout).toContain('pending');
    expect(proven.stdout).toContain('inclusion proof verified');
  });

  it("uploads an officer's countersignature with --submission after status --envelope-out and countersign", async () => {
    writeFileSync(join(dir, 'food2.p7s'), await signCmsWith(w.a, foodDocument(w.a.uscc)));
    const submitted = JSON.parse((await runCli(['submit', '--url', w.url, '--in', join(dir, 'food2.p7s'), '--json'])).stdout) as {
      id: string;
    };
    const status = await runCli(['status', '--url', w.url, submitted.id, ...reviewer.args, '--envelope-out', join(dir, 'current.p7s')]);
    expect(status.code, status.stderr).toBe(0);
    const countersigned = await runCli([
      'countersign',
      ...reviewer.args,
      '--in',
      join(dir, 'current.p7s'),
      '--decision',
      'approve',
      '--out',
      join(dir, 'reviewed.p7s'),
    ]);
    expect(countersigned.code, countersigned.stderr).toBe(0);
    const uploaded = await runCli([
      'submit',
      '--url',
      w.url,
      '--in',
      join(dir, 'reviewed.p7s'),
      '--submission',
      submitted.id,
      ...reviewer.args,
      '--receipt-out',
      join(dir, 'reviewed.receipt'),
    ]);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    expect(uploaded.stdout).toContain('pending (next: step 2, an approver)');
    expect((await prove(join(dir, 'reviewed.receipt'), '--json')).code).toBe(0);
    const again = await runCli([
      'submit',
      '--url',
      w.url,
      '--in',
      join(dir, 'reviewed.p7s'),
      '--submission',
      submitted.id,
      ...reviewer.args,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED');
  });

  it('submits a detached envelope with --content, and exits 1 printing the reason for a rejected one', async () => {
    const document = annualDocument(w.a.uscc);
    writeFileSync(join(dir, 'report.json'), document);
    writeFileSync(join(dir, 'report.p7s'), await signCmsWith(w.a, document, { detached: true }));
    const r = await runCli([
      'submit',
      '--url',
      w.url,
      '--in',
      join(dir, 'report.p7s'),
      '--content',
      join(dir, 'report.json'),
      ...enterprise.args,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' accepted');
    writeFileSync(join(dir, 'by-officer.p7s'), await signCmsWith(w.reviewer, annualDocument(w.a.uscc)));
    const rejected = await runCli([
      'submit',
      '--url',
      w.url,
      '--in',
      join(dir, 'by-officer.p7s'),
      '--receipt-out',
      join(dir, 'rejected.receipt'),
    ]);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/^REJECTED [0-9a-f-]{36} \(ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE\)/);
    expect((await prove(join(dir, 'rejected.receipt'))).stdout).toContain('rejected');
  });

  it('audit prove --receipt refuses a tampered receipt', async () => {
    const receipt = readFileSync(join(dir, 'food.receipt'), 'utf8').trim();
    const [h, p, s] = receipt.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    writeFileSync(
      join(dir, 'forged.receipt'),
      `${h}.${Buffer.from(JSON.stringify({ ...payload, status: 'approved' })).toString('base64url')}.${s}`,
    );
    const r = await prove(join(dir, 'forged.receipt'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('signature does not verify');
  });
});
