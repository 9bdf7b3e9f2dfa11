import type { Principal } from '../auth/principal.js';
import type { ApprovalStep, LoadedPolicy } from '../policy/policy.js';
import { jurisdictionCovers } from '../registry/jurisdiction.js';
import type { Enterprise } from '../registry/types.js';
import type { Decision } from '../verify/cms-attributes.js';
import type { SignatureReport, SignerSummary, ValidationReport } from '../verify/validation-report.js';
import { mayRead } from './access.js';
import { sameEnterpriseSignature, type CarriedCountersignature, type EnvelopeParts } from './envelope-parts.js';
import { SubmissionError, type SubmissionErrorCode } from './errors.js';
import type { LockedSubmissionState, SubmissionRecord } from './store.js';
import type { CountersignatureRecord } from './types.js';

/**
 * The rules an officer's countersignature must pass, one function per rule, in the order
 * `SubmissionService.countersign` applies them. Each check reads only what it is given (the
 * service does the reading) and either returns, possibly with what it established, or throws a
 * SubmissionError whose code names the rule. A refusal before the transaction carries the
 * submission's id in its detail; the re-checks under the row lock (`…UnderLock`) carry none.
 */

/** The approval step a pending submission waits for. */
export interface PendingStep {
  index: number;
  /** Steps in the whole approval. */
  count: number;
  rule: ApprovalStep;
}

/** The step `submission` waits for; only meaningful once `checkPending` passed. */
export function pendingStepOf(submission: SubmissionRecord): PendingStep {
  const index = submission.nextStep!;
  return { index, count: submission.approval.length, rule: submission.approval[index]! };
}

function refusal(
  submission: SubmissionRecord,
  code: SubmissionErrorCode,
  message: string,
  detail: Record<string, unknown> = {},
): SubmissionError {
  return new SubmissionError(code, message, { detail: { submission: submission.id, ...detail } });
}

// Before the transaction: who acts, on what.

/** Refuses (OUT_OF_JURISDICTION) a caller who may not even read the submission; `countersigners` is asked only when it matters. */
export async function checkMayAct(
  submission: SubmissionRecord,
  caller: Principal,
  countersigners: () => Promise<readonly string[]>,
): Promise<void> {
  if (await mayRead(caller, submission, countersigners)) return;
  const jurisdiction = caller.officer?.jurisdiction ?? '?';
  throw refusal(
    submission,
    'ERR_SUBMISSION_OUT_OF_JURISDICTION',
    `${caller.actor} (jurisdiction ${jurisdiction}) may not act on submission ${submission.id}: the applicant's division ${submission.division} is outside it`,
  );
}

/** Refuses (CLOSED) a submission that is no longer pending. */
export function checkPending(submission: SubmissionRecord): void {
  if (submission.status === 'pending') return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_CLOSED',
    `submission ${submission.id} is ${submission.status}; it takes no more countersignatures`,
    { status: submission.status },
  );
}

/** Refuses (FORMAT_MISMATCH) an upload of another format than the submission's envelope. */
export function checkSameFormat(submission: SubmissionRecord, uploaded: EnvelopeParts): void {
  if (uploaded.format === submission.format) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_FORMAT_MISMATCH',
    `submission ${submission.id} is a ${submission.format.toUpperCase()} envelope; countersign that envelope, not a ${uploaded.format.toUpperCase()} one`,
  );
}

/** Refuses (COUNTERSIGNATURE_FOREIGN) an upload whose enterprise signature is not the one held: it is another application. */
export function checkSameApplication(submission: SubmissionRecord, uploaded: EnvelopeParts, held: EnvelopeParts): void {
  if (sameEnterpriseSignature(uploaded, held)) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN',
    `the uploaded envelope carries another enterprise signature: it is not submission ${submission.id}; download its current envelope and countersign that`,
  );
}

/**
 * The one countersignature the upload adds to the envelope held. Refuses an upload that adds
 * none (REPLAYED when it carries only recorded ones, MISSING when it carries none at all) or more
 * than one (AMBIGUOUS: one step is countersigned at a time).
 */
export function takeNewCountersignature(
  submission: SubmissionRecord,
  uploaded: EnvelopeParts,
  held: EnvelopeParts,
): CarriedCountersignature {
  const known = new Set(held.countersignatures.map((c) => c.id));
  const added = uploaded.countersignatures.filter((c) => !known.has(c.id));
  if (added.length === 0) {
    throw uploaded.countersignatures.length > 0
      ? refusal(
          submission,
          'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED',
          'every countersignature in the upload is already recorded on this submission: a replay changes nothing',
        )
      : refusal(
          submission,
          'ERR_SUBMISSION_COUNTERSIGNATURE_MISSING',
          'the uploaded envelope carries no countersignature; add one with `chancery countersign`',
        );
  }
  if (added.length > 1) {
    throw refusal(
      submission,
      'ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS',
      `the upload adds ${added.length} countersignatures; one step is countersigned at a time`,
    );
  }
  return added[0]!;
}

// Before the transaction: the countersignature, as validated now.

/**
 * The countersignature's report, from the report of the enterprise envelope carrying it alone.
 * Refuses (COUNTERSIGNATURE_INVALID, with the report) when that envelope does not pass every
 * envelope-level check or carries no countersignature.
 */
export function countersignatureOf(submission: SubmissionRecord, report: ValidationReport): SignatureReport {
  const signature = report.signatures[1];
  const envelopeFault = report.checks.find((c) => c.result !== 'PASSED');
  if (signature !== undefined && envelopeFault === undefined) return signature;
  const why = envelopeFault?.message ?? 'no countersignature was found in it';
  throw refusal(submission, 'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID', `the countersigned envelope does not validate: ${why}`, { report });
}

/** Refuses (COUNTERSIGNER_IS_APPLICANT) a countersignature made with the applicant's own certificate. */
export function checkNotApplicant(submission: SubmissionRecord, signature: SignatureReport): void {
  if (signature.signer === null || signature.signer.organizationIdentifier !== `NTRCN-${submission.applicant}`) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT',
    `the applicant ${submission.applicant} countersigned its own application; only officers countersign`,
  );
}

/** Refuses (COUNTERSIGNER_NOT_OFFICER) a countersignature whose certificate carries no officer authorization. */
export function checkOfficerCertificate(submission: SubmissionRecord, signature: SignatureReport): void {
  if (signature.signer === null || signature.signer.officer !== null) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER',
    `the countersignature is made with ${signature.signer.subject}, not with an officer certificate`,
  );
}

/** An officer certificate whose countersignature validated. */
export type OfficerSigner = SignerSummary & { officer: NonNullable<SignerSummary['officer']> };

/**
 * The officer certificate of a countersignature that validated now (TOTAL_PASSED). Refuses with
 * COUNTERSIGNER_REVOKED when its certificate is revoked, COUNTERSIGNATURE_INVALID otherwise
 * (both with the report).
 */
export function validatedOfficer(submission: SubmissionRecord, signature: SignatureReport, report: ValidationReport): OfficerSigner {
  const signer = signature.signer;
  if (signature.indication === 'TOTAL_PASSED' && signer !== null && signer.officer !== null) return signer as OfficerSigner;
  const fault = signature.checks.find((c) => c.result !== 'PASSED');
  const code: SubmissionErrorCode =
    signature.subIndication === 'REVOKED' ? 'ERR_SUBMISSION_COUNTERSIGNER_REVOKED' : 'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID';
  const indication = `${signature.indication}${signature.subIndication === undefined ? '' : `/${signature.subIndication}`}`;
  throw refusal(submission, code, `the countersignature does not validate (${indication}): ${fault?.message ?? 'no signer certificate'}`, {
    report,
  });
}

/** The registered officer this CA issued certificate `serial` to; refuses (COUNTERSIGNER_NOT_OFFICER) when there is none. */
export function registeredOfficer(submission: SubmissionRecord, serial: string, officerId: string | undefined): string {
  if (officerId !== undefined) return officerId;
  throw refusal(
    submission,
    'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER',
    `certificate ${serial} was not issued by this CA to a registered officer`,
  );
}

/** Refuses (COUNTERSIGNER_NOT_CALLER) a countersignature that is not the logged-in officer's own. */
export function checkCallerIsCountersigner(submission: SubmissionRecord, caller: Principal, officerId: string): void {
  if (caller.officer?.id === officerId) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER',
    `the countersignature is officer ${officerId}'s, but ${caller.actor} is logged in; officers upload their own countersignatures`,
  );
}

/** Refuses (WRONG_ROLE) an officer whose certified role is not the one the step needs. */
export function checkRole(submission: SubmissionRecord, step: PendingStep, officer: OfficerSigner, officerId: string): void {
  if (officer.officer.role === step.rule.role) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_WRONG_ROLE',
    `step ${step.index + 1} of ${step.count} needs ${article(step.rule.role)} ${step.rule.role}; officer ${officerId} is ${article(officer.officer.role)} ${officer.officer.role}`,
    {
      step: step.index,
      role: step.rule.role,
    },
  );
}

/** Refuses (OUT_OF_JURISDICTION) an officer whose certified jurisdiction does not cover the applicant, where the step says it must. */
export function checkJurisdiction(submission: SubmissionRecord, step: PendingStep, officer: OfficerSigner, officerId: string): void {
  if (step.rule.jurisdiction !== 'applicant' || jurisdictionCovers(officer.officer.jurisdiction, submission.division)) return;
  throw refusal(
    submission,
    'ERR_SUBMISSION_OUT_OF_JURISDICTION',
    `officer ${officerId}'s jurisdiction ${officer.officer.jurisdiction} does not cover the applicant's division ${submission.division}`,
  );
}

/** The decision the countersignature makes on the step: approve, refuse, or review (a reviewer's pass); refuses (DECISION_INVALID) any other. */
export function decisionOf(submission: SubmissionRecord, step: PendingStep, signature: SignatureReport): Decision {
  const d = signature.decision;
  if (d === 'approve' || d === 'refuse') return d;
  const reviewer = step.rule.role === 'reviewer';
  if (d === 'review' && reviewer) return d;
  throw refusal(
    submission,
    'ERR_SUBMISSION_DECISION_INVALID',
    `the countersignature's decision is ${JSON.stringify(d ?? null)}; step ${step.index + 1} (${step.rule.role}) takes approve or refuse${reviewer ? ' (or review)' : ''}`,
  );
}

/**
 * Whether a decision takes the officer's reason (signed with it, src/verify/decision-reason.ts):
 * a refusal must say why, since the applicant has to know what to put right and a court what was
 * weighed; a review may say what to look at; an approval takes none, because free text next to an
 * approval reads as a condition the registry neither checks nor enforces (an approval's terms are
 * the policy's).
 */
export const REASON_RULE: Readonly<Record<Decision, 'required' | 'optional' | 'refused'>> = {
  refuse: 'required',
  review: 'optional',
  approve: 'refused',
};

/** The reason signed with the decision, if any; refuses (REASON_REQUIRED / REASON_NOT_ALLOWED) one that REASON_RULE does not allow. */
export function reasonOf(submission: SubmissionRecord, decision: Decision, signature: SignatureReport): string | undefined {
  const reason = signature.reason;
  const rule = REASON_RULE[decision];
  if (rule === 'required' && reason === undefined)
    throw refusal(
      submission,
      'ERR_SUBMISSION_REASON_REQUIRED',
      'a refusal must carry the reason for it, signed with the decision (`chancery countersign --decision refuse --reason TEXT`)',
      { decision },
    );
  if (rule === 'refused' && reason !== undefined)
    throw refusal(
      submission,
      'ERR_SUBMISSION_REASON_NOT_ALLOWED',
      "an approval carries no reason: its terms are the policy's; countersign again without one",
      { decision },
    );
  return reason;
}

// Inside the transaction, under the submission's row lock: what may have changed since.

/** Refuses (CLOSED) a submission decided (or gone) since it was read. */
export function checkPendingUnderLock(
  submission: SubmissionRecord,
  locked: LockedSubmissionState | undefined,
): asserts locked is LockedSubmissionState {
  if (locked !== undefined && locked.status === 'pending') return;
  throw new SubmissionError(
    'ERR_SUBMISSION_CLOSED',
    `submission ${submission.id} was decided a moment ago (${locked?.status ?? 'gone'}); it takes no more countersignatures`,
  );
}

/** Refuses (STEP_TAKEN) when another countersignature was recorded since the submission was read (its version moved). */
export function checkStepNotTakenUnderLock(submission: SubmissionRecord, locked: LockedSubmissionState, step: PendingStep): void {
  if (locked.version === submission.version) return;
  throw new SubmissionError(
    'ERR_SUBMISSION_STEP_TAKEN',
    `another countersignature was recorded on submission ${submission.id} a moment ago (step ${step.index + 1} is done); download the current envelope and look again`,
    { detail: { step: step.index } },
  );
}

/** Refuses (OFFICER_ALREADY_SIGNED) an officer who countersigned an earlier step; `earlier` is read only when the step wants distinct officers. */
export async function checkDistinctOfficerUnderLock(
  step: PendingStep,
  officerId: string,
  earlier: () => Promise<readonly CountersignatureRecord[]>,
): Promise<void> {
  if (!step.rule.distinctOfficers) return;
  if (!(await earlier()).some((c) => c.officerId === officerId)) return;
  throw new SubmissionError(
    'ERR_SUBMISSION_OFFICER_ALREADY_SIGNED',
    `officer ${officerId} already countersigned an earlier step, and the policy wants distinct officers`,
  );
}

/** Refuses (COUNTERSIGNER_REVOKED) an officer certificate revoked by now (`revokedAt`, from the CA's own records). */
export function checkNotRevokedUnderLock(serial: string, revokedAt: Date | undefined): void {
  if (revokedAt === undefined) return;
  throw new SubmissionError(
    'ERR_SUBMISSION_COUNTERSIGNER_REVOKED',
    `officer certificate ${serial} was revoked at ${revokedAt.toISOString()}`,
  );
}

/** Refuses (ENTERPRISE_NOT_ACTIVE) an applicant no longer registered, or in a status the policy does not decide applications of. */
export function checkApplicantStandingUnderLock(
  submission: SubmissionRecord,
  enterprise: Enterprise | undefined,
  policy: LoadedPolicy | undefined,
): void {
  if (enterprise !== undefined && (policy === undefined || policy.signer.enterpriseStatus.includes(enterprise.status))) return;
  throw new SubmissionError(
    'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE',
    `the applicant ${submission.applicant} is ${enterprise?.status ?? 'no longer registered'}: its application cannot be decided`,
  );
}

/** "a" or "an" before a role name ("an approver", "a reviewer"). */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
