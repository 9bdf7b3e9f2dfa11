import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { keyObjectSigner } from '../../src/crypto/signer.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { selectEnterprisesByUscc } from '../../src/registry/store.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { signJws } from '../../src/sign/jws.js';
import {
  checkApplicantStandingUnderLock,
  checkCallerIsCountersigner,
  checkDistinctOfficerUnderLock,
  checkJurisdiction,
  checkMayAct,
  checkNotApplicant,
  checkNotRevokedUnderLock,
  checkOfficerCertificate,
  checkPending,
  checkPendingUnderLock,
  checkRole,
  checkSameApplication,
  checkSameFormat,
  checkStepNotTakenUnderLock,
  countersignatureOf,
  decisionOf,
  pendingStepOf,
  reasonOf,
  registeredOfficer,
  takeNewCountersignature,
  validatedOfficer,
  type OfficerSigner,
} from '../../src/submissions/countersign-checks.js';
import { readEnvelopeParts, withCountersignatures } from '../../src/submissions/envelope-parts.js';
import { ReceiptSigner } from '../../src/submissions/receipts.js';
import { newSubmissionId } from '../../src/submissions/service.js';
import {
  insertSubmissions,
  lockSubmissionState,
  recordCountersignature,
  selectCountersignatures,
  selectSubmission,
  type SubmissionRecord,
} from '../../src/submissions/store.js';
import type { SubmissionStatus } from '../../src/submissions/types.js';
import type { Decision } from '../../src/verify/cms-attributes.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { inMemoryRevocation, noRevocation, type RevocationSource } from '../../src/verify/revocation.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { createMigrated, pgliteDriver, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { OTHER_USCC, USCC, createTestPki, foodLicence, type TestIdentity, type TestPki } from '../verify/envelope-pki.js';

/**
 * The rules of a countersignature, one check at a time and without HTTP: envelopes made with
 * src/sign over a test PKI made here, reports from the real `verifyEnvelope`, and submissions
 * stored in (and read back from) a real PGlite database where a check depends on storage.
 */

const NOW = new Date('2026-03-01T08:00:00Z');
const LATER = new Date(NOW.getTime() + 3600_000);
const food = loadPolicies().require('food-business-licence'); // reviewer, then approver (distinct officers), both of the applicant's jurisdiction
const DIVISION = '350100'; // USCC's division

let t: TestDatabase;
let pki: TestPki;
let ent: TestIdentity;
let reviewer: TestIdentity;
let approver: TestIdentity;
let farReviewer: TestIdentity;
let stranger: TestIdentity;
let foreignOfficer: TestIdentity;
let receipts: ReceiptSigner;

beforeAll(async () => {
  t = await createMigrated(pgliteDriver);
  pki = await createTestPki(NOW);
  ent = await pki.enterprise();
  reviewer = await pki.officer('reviewer', '350100');
  approver = await pki.officer('approver', '350000');
  farReviewer = await pki.officer('reviewer', '440300');
  stranger = await pki.enterprise({ organizationIdentifier: `NTRCN-${OTHER_USCC}`, commonName: 'Beijing Other Trading Co Ltd' });
  foreignOfficer = await (await createTestPki(NOW, 'Elsewhere')).officer('reviewer', '350100');
  const seal = generateKeyPair('P-256');
  receipts = new ReceiptSigner(keyObjectSigner('seal', seal.privateKey, seal.publicKey), [Buffer.from([0x30, 0x00])]);
  await t.db.query(
    `INSERT INTO enterprises (uscc, name, division, status, registered_at) VALUES ($1, 'Fuzhou Minjiang Foods Co Ltd', $2, 'active', now())`,
    [USCC, DIVISION],
  );
});
afterAll(async () => t?.drop());

function verify(envelope: Uint8Array, revocation: RevocationSource = noRevocation()): Promise<ValidationReport> {
  return verifyEnvelope({
    envelope,
    anchors: pki.anchors,
    intermediates: [pki.issuing.certificate],
    revocation,
    policy: food,
    time: LATER,
  });
}

function countersign(who: TestIdentity, envelope: Uint8Array, decision: Decision = 'approve', reason?: string): Promise<Buffer> {
  return countersignCms(envelope, { signer: who.signer, chain: who.chain, decision, reason, time: NOW });
}

const REFUSAL_REASON = 'The premises area differs from the one declared';

function officerCaller(id: string, role: 'reviewer' | 'approver', jurisdiction: string): Principal {
  return {
    role: 'officer',
    actor: `officer:${id}`,
    certificateSerial: '01',
    name: id,
    officer: { id, role, jurisdiction },
    expiresAt: LATER.toISOString(),
  };
}

function sealReceipt(submission: string, documentDigest: string, status: SubmissionStatus, logIndex: number): Promise<string> {
  return receipts.sign({ submission, applicant: USCC, documentDigest, status, at: NOW.toISOString(), logIndex, leafHash: '00'.repeat(32) });
}

let applications = 0;
let logIndexes = 0; // transitions' log indexes are unique
/** A food-licence application signed by the enterprise, stored as submitted (pending its first step, or `status`). */
async function storeSubmission(
  status: SubmissionStatus = 'pending',
): Promise<{ submission: SubmissionRecord; envelope: Buffer; document: Buffer }> {
  const document = foodLicence({ applicationId: `FBL-CHECKS-${applications++}` });
  const envelope = await signCms({ signer: ent.signer, chain: ent.chain, content: document, detached: false, time: NOW });
  const report = await verify(envelope);
  const id = newSubmissionId();
  const logIndex = logIndexes++;
  const receipt = await sealReceipt(id, report.document.sha256!, status, logIndex);
  await insertSubmissions(t.db, [
    {
      s: {
        id,
        applicant: USCC,
        applicationId: report.document.applicationId!,
        division: DIVISION,
        documentType: food.id,
        policy: report.policy,
        format: 'cms',
        status,
        envelopeSha256: id.replaceAll('-', '').padEnd(64, '0'),
        requestSha256: id.replaceAll('-', '').padEnd(64, '1'),
        documentSha256: report.document.sha256!,
        signerSerial: null,
        approval: status === 'pending' ? food.approval : [],
        envelope,
        content: null,
        report: JSON.stringify(report),
        rejection: null,
        at: NOW.toISOString(),
      },
      t: {
        status,
        kind: `submission.${status}` as never,
        actor: `enterprise:${USCC}`,
        at: NOW.toISOString(),
        logIndex,
        leafHash: '00'.repeat(32),
        receipt,
        detail: {},
      },
    },
  ]);
  return { submission: (await selectSubmission(t.db, id))!, envelope, document };
}

/** Records `who`'s countersignature on the submission's current step, as the service does; the submission read back. */
async function recordStep(
  submission: SubmissionRecord,
  who: TestIdentity,
  officerId: string,
  decision: Decision = 'approve',
): Promise<SubmissionRecord> {
  const reason = decision === 'refuse' ? REFUSAL_REASON : undefined;
  const countersigned = await countersign(who, submission.envelope, decision, reason);
  const counter = takeNewCountersignature(submission, readEnvelopeParts(countersigned), readEnvelopeParts(submission.envelope));
  const step = pendingStepOf(submission);
  const status: SubmissionStatus = decision === 'refuse' ? 'refused' : step.index + 1 === step.count ? 'approved' : 'pending';
  const logIndex = logIndexes++;
  const receipt = await sealReceipt(submission.id, submission.documentSha256, status, logIndex);
  await recordCountersignature(
    t.db,
    {
      id: submission.id,
      step: step.index,
      officerId,
      certificateSerial: who.serialHex,
      decision,
      reason,
      signingTime: NOW.toISOString(),
      countersignatureSha256: counter.id,
      envelope: withCountersignatures(submission.envelope, [counter]),
      status,
      approval: submission.approval,
      seq: submission.version,
    },
    {
      status,
      kind: status === 'pending' ? 'submission.countersigned' : `submission.${status}`,
      actor: `officer:${officerId}`,
      at: NOW.toISOString(),
      logIndex,
      leafHash: '00'.repeat(32),
      receipt,
      detail: {},
    },
  );
  return (await selectSubmission(t.db, submission.id))!;
}

/** The report the service judges a countersignature by: the submitted envelope with this countersignature alone. */
async function countersignedReport(
  submission: SubmissionRecord,
  upload: Uint8Array,
  revocation?: RevocationSource,
): Promise<ValidationReport> {
  const uploaded = readEnvelopeParts(upload);
  const counter = takeNewCountersignature(submission, uploaded, readEnvelopeParts(submission.envelope));
  return verify(withCountersignatures(submission.originalEnvelope, [counter], { certificates: uploaded.certificates }), revocation);
}

/** The validated officer of `who`'s countersignature on the submission. */
async function officerOf(
  submission: SubmissionRecord,
  who: TestIdentity,
  decision: Decision = 'approve',
): Promise<{ officer: OfficerSigner; report: ValidationReport }> {
  const report = await countersignedReport(submission, await countersign(who, submission.envelope, decision));
  const signature = countersignatureOf(submission, report);
  return { officer: validatedOfficer(submission, signature, report), report };
}

describe('countersign checks: who acts, on what', () => {
  it("refuses an officer outside the applicant's jurisdiction who has not countersigned the submission", async () => {
    const { submission } = await storeSubmission();
    const countersigners = async () => (await selectCountersignatures(t.db, submission.id)).map((c) => c.officerId);
    const error = await expectCode(
      () => checkMayAct(submission, officerCaller('SZ-R-009', 'reviewer', '440300'), countersigners),
      'ERR_SUBMISSION_OUT_OF_JURISDICTION',
    );
    expect(error.detail).toEqual({ submission: submission.id });
    await checkMayAct(submission, officerCaller('FZ-R-001', 'reviewer', '350100'), countersigners);
  });

  it('lets an officer outside the jurisdiction act on a submission it countersigned before', async () => {
    const { submission } = await storeSubmission();
    const after = await recordStep(submission, farReviewer, 'SZ-R-009');
    await checkMayAct(after, officerCaller('SZ-R-009', 'reviewer', '440300'), async () =>
      (await selectCountersignatures(t.db, after.id)).map((c) => c.officerId),
    );
  });

  it('refuses a countersignature on a submission that is no longer pending', async () => {
    const { submission } = await storeSubmission('accepted');
    const error = await expectCode(() => checkPending(submission), 'ERR_SUBMISSION_CLOSED');
    expect(error.detail).toEqual({ submission: submission.id, status: 'accepted' });
  });

  it('refuses a JWS upload for a submission held as a CMS envelope', async () => {
    const { submission } = await storeSubmission();
    const jws = Buffer.from(
      JSON.stringify(await signJws({ signer: ent.signer, chain: ent.chain, payload: foodLicence(), time: NOW })),
      'utf8',
    );
    await expectCode(() => checkSameFormat(submission, readEnvelopeParts(jws)), 'ERR_SUBMISSION_FORMAT_MISMATCH');
    checkSameFormat(submission, readEnvelopeParts(submission.envelope));
  });

  it('refuses an upload whose enterprise signature is another one, even over the same document', async () => {
    const { submission, document } = await storeSubmission();
    const resigned = await signCms({
      signer: ent.signer,
      chain: ent.chain,
      content: document,
      detached: false,
      time: new Date(NOW.getTime() - 1000),
    });
    const upload = readEnvelopeParts(await countersign(reviewer, resigned));
    await expectCode(
      () => checkSameApplication(submission, upload, readEnvelopeParts(submission.envelope)),
      'ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN',
    );
  });

  it('refuses an upload that adds no countersignature', async () => {
    const { submission, envelope } = await storeSubmission();
    await expectCode(
      () => takeNewCountersignature(submission, readEnvelopeParts(envelope), readEnvelopeParts(submission.envelope)),
      'ERR_SUBMISSION_COUNTERSIGNATURE_MISSING',
    );
  });

  it('refuses a replay: an upload whose countersignatures are all recorded already', async () => {
    const { submission } = await storeSubmission();
    const after = await recordStep(submission, reviewer, 'FZ-R-001');
    await expectCode(
      () => takeNewCountersignature(after, readEnvelopeParts(after.envelope), readEnvelopeParts(after.envelope)),
      'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED',
    );
  });

  it('refuses an upload that adds two countersignatures at once, and takes exactly the one added otherwise', async () => {
    const { submission } = await storeSubmission();
    const once = await countersign(reviewer, submission.envelope);
    const twice = await countersign(approver, once);
    const held = readEnvelopeParts(submission.envelope);
    await expectCode(
      () => takeNewCountersignature(submission, readEnvelopeParts(twice), held),
      'ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS',
    );
    const added = readEnvelopeParts(once).countersignatures;
    expect(takeNewCountersignature(submission, readEnvelopeParts(once), held)).toEqual(added[0]);
  });
});

describe('countersign checks: the countersignature, validated now', () => {
  it('refuses a countersigned envelope that carries no countersignature to judge', async () => {
    const { submission, envelope } = await storeSubmission();
    const report = await verify(envelope);
    const error = await expectCode(() => countersignatureOf(submission, report), 'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID');
    expect(error.detail).toMatchObject({ submission: submission.id, report });
  });

  it("refuses the applicant's countersignature on its own application", async () => {
    const { submission } = await storeSubmission();
    const report = await countersignedReport(submission, await countersign(ent, submission.envelope));
    await expectCode(
      () => checkNotApplicant(submission, countersignatureOf(submission, report)),
      'ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT',
    );
  });

  it('refuses a countersignature made with a certificate that carries no officer authorization', async () => {
    const { submission } = await storeSubmission();
    const signature = countersignatureOf(
      submission,
      await countersignedReport(submission, await countersign(stranger, submission.envelope)),
    );
    checkNotApplicant(submission, signature);
    await expectCode(() => checkOfficerCertificate(submission, signature), 'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER');
  });

  it('refuses a countersignature whose officer certificate is revoked, with the report', async () => {
    const { submission } = await storeSubmission();
    const revocation = inMemoryRevocation([
      { issuer: pki.issuing.certificate, revoked: [{ serialNumberHex: reviewer.serialHex, revokedAt: NOW }] },
      { issuer: pki.root.certificate, revoked: [] },
    ]);
    const report = await countersignedReport(submission, await countersign(reviewer, submission.envelope), revocation);
    const signature = countersignatureOf(submission, report);
    checkOfficerCertificate(submission, signature);
    const error = await expectCode(() => validatedOfficer(submission, signature, report), 'ERR_SUBMISSION_COUNTERSIGNER_REVOKED');
    expect(error.detail).toMatchObject({ report });
  });

  it('refuses a countersignature by an officer certificate of another CA as invalid', async () => {
    const { submission } = await storeSubmission();
    const report = await countersignedReport(submission, await countersign(foreignOfficer, submission.envelope));
    const signature = countersignatureOf(submission, report);
    checkNotApplicant(submission, signature);
    checkOfficerCertificate(submission, signature);
    await expectCode(() => validatedOfficer(submission, signature, report), 'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID');
  });

  it('refuses an officer certificate this CA issued to no registered officer', async () => {
    const { submission } = await storeSubmission();
    await expectCode(() => registeredOfficer(submission, reviewer.serialHex, undefined), 'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER');
    expect(registeredOfficer(submission, reviewer.serialHex, 'FZ-R-001')).toBe('FZ-R-001');
  });

  it("refuses another officer's countersignature uploaded by the logged-in officer", async () => {
    const { submission } = await storeSubmission();
    await expectCode(
      () => checkCallerIsCountersigner(submission, officerCaller('FZ-R-002', 'reviewer', '350100'), 'FZ-R-001'),
      'ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER',
    );
    checkCallerIsCountersigner(submission, officerCaller('FZ-R-001', 'reviewer', '350100'), 'FZ-R-001');
  });

  it("refuses an approver's countersignature on the reviewer's step", async () => {
    const { submission } = await storeSubmission();
    const { officer } = await officerOf(submission, approver);
    const error = await expectCode(
      () => checkRole(submission, pendingStepOf(submission), officer, 'FJ-A-001'),
      'ERR_SUBMISSION_WRONG_ROLE',
    );
    expect(error.detail).toEqual({ submission: submission.id, step: 0, role: 'reviewer' });
    expect(error.message).toContain('needs a reviewer; officer FJ-A-001 is an approver');
  });

  it("refuses an officer whose certified jurisdiction does not cover the applicant's division on a step of the applicant's jurisdiction", async () => {
    const { submission } = await storeSubmission();
    const far = await officerOf(submission, farReviewer);
    const step = pendingStepOf(submission);
    checkRole(submission, step, far.officer, 'SZ-R-009');
    await expectCode(() => checkJurisdiction(submission, step, far.officer, 'SZ-R-009'), 'ERR_SUBMISSION_OUT_OF_JURISDICTION');
    checkJurisdiction(submission, step, (await officerOf(submission, reviewer)).officer, 'FZ-R-001');
  });

  it("refuses a review decision on the approver's step, and takes it on the reviewer's", async () => {
    const { submission } = await storeSubmission();
    const reviewed = countersignatureOf(
      submission,
      await countersignedReport(submission, await countersign(reviewer, submission.envelope, 'review')),
    );
    expect(decisionOf(submission, pendingStepOf(submission), reviewed)).toBe('review');
    const atApproval = await recordStep(submission, reviewer, 'FZ-R-001', 'review');
    const signature = countersignatureOf(
      atApproval,
      await countersignedReport(atApproval, await countersign(approver, atApproval.envelope, 'review')),
    );
    await expectCode(() => decisionOf(atApproval, pendingStepOf(atApproval), signature), 'ERR_SUBMISSION_DECISION_INVALID');
  });
});

describe('countersign checks: the reason a decision carries', () => {
  async function signatureWith(submission: SubmissionRecord, decision: Decision, reason?: string) {
    return countersignatureOf(
      submission,
      await countersignedReport(submission, await countersign(reviewer, submission.envelope, decision, reason)),
    );
  }

  it('takes a refusal with the reason signed with it, and refuses one without (REASON_REQUIRED, naming the submission)', async () => {
    const { submission } = await storeSubmission();
    const reasoned = await signatureWith(submission, 'refuse', REFUSAL_REASON);
    expect(reasonOf(submission, 'refuse', reasoned)).toBe(REFUSAL_REASON);
    const bare = await signatureWith(submission, 'refuse');
    const error = await expectCode(() => reasonOf(submission, 'refuse', bare), 'ERR_SUBMISSION_REASON_REQUIRED');
    expect(error.detail).toEqual({ submission: submission.id, decision: 'refuse' });
    expect(error.message).toContain('--reason');
  });

  it('refuses an approval that carries a reason (REASON_NOT_ALLOWED), and takes a review with or without one', async () => {
    const { submission } = await storeSubmission();
    await expectCode(
      async () => reasonOf(submission, 'approve', await signatureWith(submission, 'approve', 'Looks fine')),
      'ERR_SUBMISSION_REASON_NOT_ALLOWED',
    );
    expect(reasonOf(submission, 'approve', await signatureWith(submission, 'approve'))).toBeUndefined();
    expect(reasonOf(submission, 'review', await signatureWith(submission, 'review', 'Check the storage conditions'))).toBe(
      'Check the storage conditions',
    );
    expect(reasonOf(submission, 'review', await signatureWith(submission, 'review'))).toBeUndefined();
  });

  it('stores the reason with the countersignature, and the database refuses a new refusal without one or an approval with one', async () => {
    const { submission } = await storeSubmission();
    const refused = await recordStep(submission, reviewer, 'FZ-R-001', 'refuse');
    expect(refused.status).toBe('refused');
    expect((await selectCountersignatures(t.db, submission.id))[0]).toMatchObject({ decision: 'refuse', reason: REFUSAL_REASON });

    const row = (id: string, decision: Decision, reason: string | null) =>
      t.db.query(
        `INSERT INTO submission_countersignatures (submission_id, step, officer_id, certificate_serial, decision, reason, signing_time, countersignature_sha256, recorded_at, log_index)
         VALUES ($1, 5, 'X', '01', $2, $3, now(), $4, now(), 0)`,
        [id, decision, reason, `${decision}-${String(reason)}`],
      );
    await expect(row(submission.id, 'refuse', null)).rejects.toThrow(/reason_rule/);
    await expect(row(submission.id, 'approve', 'why')).rejects.toThrow(/reason_rule/);
    await expect(row(submission.id, 'refuse', 'x'.repeat(501))).rejects.toThrow(/check/);
    const approved = (await selectCountersignatures(t.db, submission.id)).length;
    expect(approved).toBe(1);
  });
});

describe('countersign checks: under the row lock', () => {
  const locked = (id: string) => t.db.transaction((tx) => lockSubmissionState(tx, id));

  it('refuses when the submission was decided after it was read', async () => {
    const { submission } = await storeSubmission();
    await recordStep(submission, reviewer, 'FZ-R-001', 'refuse');
    const state = await locked(submission.id);
    expect(state?.status).toBe('refused');
    const error = await expectCode(() => checkPendingUnderLock(submission, state), 'ERR_SUBMISSION_CLOSED');
    expect(error.detail).toBeUndefined();
    await expectCode(() => checkPendingUnderLock(submission, undefined), 'ERR_SUBMISSION_CLOSED');
  });

  it('refuses when another countersignature took the step after the submission was read', async () => {
    const { submission } = await storeSubmission();
    checkStepNotTakenUnderLock(submission, (await locked(submission.id))!, pendingStepOf(submission));
    await recordStep(submission, reviewer, 'FZ-R-001');
    const state = (await locked(submission.id))!;
    checkPendingUnderLock(submission, state); // still pending: at the next step
    const error = await expectCode(
      () => checkStepNotTakenUnderLock(submission, state, pendingStepOf(submission)),
      'ERR_SUBMISSION_STEP_TAKEN',
    );
    expect(error.detail).toEqual({ step: 0 });
  });

  it('refuses a second countersignature by the same officer when the policy wants distinct officers', async () => {
    const { submission } = await storeSubmission();
    const atApproval = await recordStep(submission, reviewer, 'FZ-R-001');
    const step = pendingStepOf(atApproval);
    expect(step.rule.distinctOfficers).toBe(true);
    const earlier = () => t.db.transaction((tx) => selectCountersignatures(tx, atApproval.id));
    await expectCode(() => checkDistinctOfficerUnderLock(step, 'FZ-R-001', earlier), 'ERR_SUBMISSION_OFFICER_ALREADY_SIGNED');
    await checkDistinctOfficerUnderLock(step, 'FJ-A-001', earlier);
  });

  it('does not read earlier countersignatures for a step that lets any officer sign', async () => {
    const { submission } = await storeSubmission();
    let asked = false;
    await checkDistinctOfficerUnderLock(pendingStepOf(submission), 'FZ-R-001', async () => ((asked = true), []));
    expect(asked).toBe(false);
  });

  it('refuses an officer certificate revoked by the time the countersignature is recorded', async () => {
    await expectCode(() => checkNotRevokedUnderLock(reviewer.serialHex, NOW), 'ERR_SUBMISSION_COUNTERSIGNER_REVOKED');
    checkNotRevokedUnderLock(reviewer.serialHex, undefined);
  });

  it('refuses to decide the application of an enterprise whose licence was revoked, or that is no longer registered', async () => {
    const { submission } = await storeSubmission();
    const standing = async () => (await selectEnterprisesByUscc(t.db, [USCC]))[0];
    checkApplicantStandingUnderLock(submission, await standing(), food);
    await expectCode(() => checkApplicantStandingUnderLock(submission, undefined, food), 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE');
    await t.db.query(
      `UPDATE enterprises SET status = 'revoked', status_changed_at = now(), status_reason = 'licence revoked' WHERE uscc = $1`,
      [USCC],
    );
    try {
      const revoked = await standing();
      await expectCode(() => checkApplicantStandingUnderLock(submission, revoked, food), 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE');
      checkApplicantStandingUnderLock(submission, revoked, undefined); // no policy: no status rule
    } finally {
      await t.db.query(`UPDATE enterprises SET status = 'active', status_changed_at = NULL, status_reason = NULL WHERE uscc = $1`, [USCC]);
    }
  });
});
