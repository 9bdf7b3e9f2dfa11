import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayResult } from '../../src/audit/auditor/replay.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { pemEncode } from '../../src/der/pem.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { countersignWith, createWorld, entriesSince, foodDocument, signCmsWith, type World } from '../submissions/fixtures.js';

/**
 * `chancery audit replay` against a real service: clean, it exits 0; after a database superuser
 * rewrites decision rows behind the log's back (a submission pending → approved, a certificate's
 * revoked_at cleared, an enterprise revoked → active), it names each divergence with the index of
 * the entry that says otherwise, and exits 1.
 */
const USCC_C = completeUscc('9111010500030000');

describe.each(drivers())('chancery audit replay on $name', (driver) => {
  let w: World;
  let work: string;
  let credential: string;
  let vkey: string;
  let pendingId: string;
  let reviewedId: string;
  let refusedId: string;
  let revokedSerial: string;
  let spareSerial: string;

  async function issueFor(uscc: string): Promise<string> {
    const keyPem = generateUserKey('P-256').privateKeyPem;
    const csr = (await buildCsr(signerFromPem('spare', keyPem))).pem;
    return (await w.admin.json<{ serial: string }>('POST', '/api/v1/certificates', { profile: 'enterprise-signing', uscc, csr })).serial;
  }
  async function covered(): Promise<void> {
    await w.ts.service.auditPart.checkpointer.publish();
  }
  async function replay(...extra: string[]): Promise<{ code: number | null; result: ReplayResult }> {
    const run = await runCli(['audit', 'replay', '--url', w.url, '--log-key', vkey, '--json', ...extra]);
    expect(run.stderr).not.toMatch(/Error|at .*\.js/);
    return { code: run.code, result: JSON.parse(run.stdout) as ReplayResult };
  }

  beforeAll(async () => {
    w = await createWorld(driver);
    work = mkdtempSync(join(tmpdir(), 'chancery-replay-'));
    credential = join(work, 'auditor');
    mkdirSync(credential);
    writeFileSync(join(credential, 'key.pem'), w.auditor.keyPem, { mode: 0o600 });
    writeFileSync(join(credential, 'cert.pem'), w.auditor.certPem + pemEncode('CERTIFICATE', w.issuing));
    vkey = join(w.ts.dataDir, 'log.vkey');
    // A pending application, a revoked certificate, a revoked enterprise.
    const submitted = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (submitted.kind === 'rejected') throw new Error('rejected');
    pendingId = submitted.body.id;
    // A second one, reviewed (step 0 countersigned), waiting for its approver.
    const second = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (second.kind === 'rejected') throw new Error('rejected');
    reviewedId = second.body.id;
    const reviewer = await w.as(w.reviewer);
    await reviewer.countersign(reviewedId, await countersignWith(w.reviewer, await reviewer.envelope(reviewedId), 'approve'));
    // A third one, refused at review with the officer's signed reason.
    const third = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (third.kind === 'rejected') throw new Error('rejected');
    refusedId = third.body.id;
    await reviewer.countersign(refusedId, await countersignWith(w.reviewer, await reviewer.envelope(refusedId), 'refuse'));
    revokedSerial = await issueFor(w.b.uscc);
    spareSerial = await issueFor(w.b.uscc);
    await w.admin.json('POST', `/api/v1/certificates/${revokedSerial}/revoke`, { reason: 'keyCompromise' });
    await w.admin.json('POST', '/api/v1/enterprises', { uscc: USCC_C, name: 'Beijing Chaoyang Closed Shop Co Ltd' });
    await w.admin.json('POST', `/api/v1/enterprises/${USCC_C}/revoke`, { reason: 'licence withdrawn' });
    await covered();
  });
  afterAll(async () => {
    await w?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('replays a clean service with exit 0, with and without an auditor credential', async () => {
    const clean = await replay('--credential', credential);
    expect(clean.result.divergences, JSON.stringify(clean.result.divergences)).toEqual({});
    expect(clean.code).toBe(0);
    expect(clean.result.ok).toBe(true);
    expect(clean.result.compared.submissions).toBeGreaterThanOrEqual(1);
    expect(clean.result.compared.certificates).toBeGreaterThanOrEqual(8);
    expect(clean.result.compared.enterprises).toBe(3);
    const anonymous = await replay();
    expect(anonymous.code).toBe(0);
    expect(anonymous.result.skipped.join(' ')).toMatch(/no --credential/);
  });

  it('names each tampered row with the log index that says otherwise, and exits 1', async () => {
    const entries = await entriesSince(w.ts, 0);
    const pendingAt = entries.filter((e) => e.subject === `submission:${pendingId}`).at(-1)!.index;
    const revokedAt = entries.find((e) => e.kind === 'certificate.revoked' && e.data['serial'] === revokedSerial)!.index;
    const reviewedAt = entries.find((e) => e.kind === 'submission.countersigned' && e.subject === `submission:${reviewedId}`)!.index;
    const enterpriseAt = entries.find((e) => e.kind === 'enterprise.revoked' && e.subject === `enterprise:${USCC_C}`)!.index;

    // A database superuser rewrites the rows (the log is untouched and still verifies).
    const db = w.ts.service.db;
    await db.query("UPDATE submissions SET status = 'approved', next_step = NULL WHERE id = $1", [pendingId]);
    await db.query("UPDATE submission_countersignatures SET officer_id = 'GD-A-002' WHERE submission_id = $1 AND step = 0", [reviewedId]);
    await db.query("UPDATE submission_countersignatures SET reason = 'incomplete file' WHERE submission_id = $1", [refusedId]);
    await db.query('UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE serial = $1', [revokedSerial]);
    await db.query("UPDATE enterprises SET status = 'active', status_changed_at = NULL, status_reason = NULL WHERE uscc = $1", [USCC_C]);
    // The next revocation publishes a CRL from the rows: it leaves the cleared serial out.
    await w.admin.json('POST', `/api/v1/certificates/${spareSerial}/revoke`, { reason: 'superseded' });
    await covered();

    const { code, result } = await replay('--credential', credential);
    expect(code).toBe(1);
    expect(result.verify.ok).toBe(true);
    const d = result.divergences;
    // The service itself refuses the rewritten submission (its row no longer matches its entry):
    // replay reports the refusal where it would otherwise have seen 'approved'.
    expect(d['submission-status']?.first).toMatchObject({ subject: `submission:${pendingId}`, logIndex: pendingAt, log: 'pending' });
    expect(d['submission-status']?.first.served).toContain('ERR_STATE_DIVERGES_FROM_LOG');
    expect(d['submission-list']?.first.served).toContain('ERR_STATE_DIVERGES_FROM_LOG');
    expect(d['submission-steps']?.first).toMatchObject({ subject: `submission:${reviewedId}`, logIndex: reviewedAt });
    expect(d['submission-steps']?.first.log).toContain(`by ${w.reviewer.id}`);
    expect(d['submission-steps']?.first.served).toContain('by GD-A-002');
    // The refusal's reason, rewritten in its row, differs from the reason its entry records.
    expect(d['submission-steps']?.count).toBe(2);
    const refusedView = await (
      await w.as(w.reviewer)
    ).json<{ approval: { steps: Array<{ countersignature: { reason?: string } | null }> } }>('GET', `/api/v1/submissions/${refusedId}`);
    expect(refusedView.approval.steps[0]?.countersignature?.reason).toBe('incomplete file');
    // A certificate the log says is revoked is answered as revoked whatever its row says (OCSP,
    // the CRL, the API), so replay finds those answers in agreement with the log.
    for (const kind of ['certificate-ocsp', 'certificate-crl', 'certificate-api'] as const) expect(d[kind], kind).toBeUndefined();
    expect(revokedAt).toBeGreaterThan(0);
    expect(d['revoked-list']?.first).toMatchObject({ subject: `enterprise:${USCC_C}`, logIndex: enterpriseAt, log: 'revoked' });
    expect(d['enterprise-status']?.first).toMatchObject({ subject: `enterprise:${USCC_C}`, logIndex: enterpriseAt });
    expect(d['enterprise-status']?.first.served).toContain('ERR_STATE_DIVERGES_FROM_LOG');

    // Without a credential, what is public still shows the enterprise.
    const anonymous = await replay();
    expect(anonymous.code).toBe(1);
    expect(anonymous.result.divergences['certificate-ocsp']).toBeUndefined();
    expect(anonymous.result.divergences['revoked-list']?.first.logIndex).toBe(enterpriseAt);

    // The text form names them too, one line per kind.
    const text = await runCli(['audit', 'replay', '--url', w.url, '--log-key', vkey, '--credential', credential]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `DIVERGES submission-status: submission:${pendingId}: log index ${pendingAt} says pending; the service says refused by the service (ERR_STATE_DIVERGES_FROM_LOG)`,
    );
  });
});
