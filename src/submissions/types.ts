import type { ApprovalStep } from '../policy/policy.js';
import type { Decision } from '../verify/cms-attributes.js';
import type { ValidationReport } from '../verify/validation-report.js';

/**
 * Submissions as the API and the CLI show them:
 * `received → rejected`, `received → accepted`, or `received → pending → approved | refused`.
 * `received` is never stored: the first stored status is the decision on the submission.
 */
export const SUBMISSION_STATUSES = ['rejected', 'accepted', 'pending', 'approved', 'refused'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/** Audit kind of each transition (src/audit/types.ts). */
export type TransitionKind =
  | 'submission.rejected'
  | 'submission.accepted'
  | 'submission.pending'
  | 'submission.countersigned'
  | 'submission.approved'
  | 'submission.refused';

/** One transition: its audit entry (index, leaf hash, time) and what it decided. */
export interface Transition {
  seq: number;
  status: SubmissionStatus;
  kind: TransitionKind;
  actor: string;
  at: string;
  logIndex: number;
  leafHash: string;
  detail: Record<string, unknown>;
}

/** A recorded countersignature. */
export interface CountersignatureRecord {
  step: number;
  officerId: string;
  certificateSerial: string;
  decision: Decision;
  /** The officer's reason, signed with the decision (every refusal recorded since reasons are signed has one). */
  reason?: string;
  signingTime: string | null;
  countersignatureSha256: string;
  recordedAt: string;
  logIndex: number;
}

/** A step of the approval the policy required, and the countersignature given for it, if any. */
export interface ApprovalStepView extends ApprovalStep {
  index: number;
  countersignature: CountersignatureRecord | null;
}

/** `GET /api/v1/submissions/{id}`. */
export interface SubmissionView {
  id: string;
  status: SubmissionStatus;
  applicant: string;
  applicationId: string;
  type: string | null;
  policy: { id: string; version: number; sha256: string } | null;
  format: 'cms' | 'jws';
  documentSha256: string;
  /** SHA-256 of the envelope as submitted, and of the current one (with countersignatures). */
  envelopeSha256: string;
  currentEnvelopeSha256: string;
  submittedAt: string;
  updatedAt: string;
  rejection: { code: string; reason: string } | null;
  approval: { steps: ApprovalStepView[]; nextStep: number | null };
  history: Transition[];
  /** The validation report at submission. */
  report: ValidationReport;
}

/** A row of a submission list. */
export interface SubmissionSummary {
  id: string;
  status: SubmissionStatus;
  applicant: string;
  applicationId: string;
  type: string | null;
  submittedAt: string;
  updatedAt: string;
  nextStep: { index: number; role: string } | null;
  /** A refused submission: the reason the refusing officer signed (absent for refusals recorded before reasons were signed). */
  refusalReason?: string;
}
