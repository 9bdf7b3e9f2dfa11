import { divergenceError, type StateBinding } from '../audit/binding.js';
import { reasonName } from '../ca/reasons.js';
import { AuditError } from '../audit/errors.js';
import type { Append, AppendedEntry, AuditLog, JsonValue } from '../audit/types.js';
import { BatchQueue, failed, succeeded, type Outcome } from '../batch.js';
import type { Queryable, Tx } from '../db/types.js';
import type { LoadedPolicy } from '../policy/policy.js';
import { reject, type Rejection } from './rejection.js';
import type { ReceiptSigner } from './receipts.js';
import {
  insertSubmissions,
  iso,
  selectSubmissionContexts,
  type NewSubmission,
  type NewTransition,
  type SubmissionContext,
} from './store.js';
import type { SubmissionStatus, SubmissionSummary, TransitionKind } from './types.js';

/**
 * Group commit of new submissions. Every
 * submission validated concurrently joins the next batch; one `audit.record()` decides the whole
 * batch: one statement reads what the decisions depend on (a live submission with this envelope
 * or application, the applicant's registry status, the signer certificate's revocation), each
 * decision appends its entry and signs its receipt, and one statement inserts every record with
 * its first transition. Inside the log's serialized section a batch thus costs two statements,
 * not two per submission. Batches follow one another; a batch's work may run again on a
 * conflict (23505 from another process's insert), deciding everything afresh.
 */

/** A validated submission, ready to be decided and recorded. */
export interface PreparedSubmission {
  applicant: string;
  applicationId: string;
  /** The enterprise signature verified and is bound to the applicant: it may be "the same application" as a live one. */
  authentic: boolean;
  envelopeSha256: string;
  requestSha256: string;
  signerSerial: string | null;
  policy: LoadedPolicy | undefined;
  /** Why the report alone rejects it, if it does. */
  reportRejection: Rejection | undefined;
  /** The record, without what the decision sets. */
  record: Omit<NewSubmission, 'id' | 'status' | 'rejection' | 'at'>;
  /** The caller's actor when a token came with it. */
  callerActor: string | undefined;
  /** The audit entry's data besides the decision's fields. */
  entryData: { [key: string]: JsonValue };
}

export type WriteOutcome =
  { existing: string } | { created: { summary: SubmissionSummary; receipt: string; logIndex: number; rejection: Rejection | undefined } };

/** Submissions allowed to wait for a batch; beyond it, a 503 asks the client to retry (pushback, not an unbounded queue). */
const MAX_WAITING = 5000;

export class SubmissionWriter {
  readonly #batches: BatchQueue<PreparedSubmission, WriteOutcome>;

  constructor(
    private readonly audit: AuditLog,
    private readonly receipts: ReceiptSigner,
    private readonly newId: () => string,
    private readonly subjectOf: (id: string) => string,
    /** Where the rows decisions rely on are checked against the log first (absent: not checked). */
    private readonly standing?: { db: Queryable; binding: StateBinding },
    maxBatch = 128,
  ) {
    this.#batches = new BatchQueue<PreparedSubmission, WriteOutcome>({
      run: (items) => this.#writeBatch(items),
      maxBatch,
      maxWaiting: MAX_WAITING,
      overloaded: (waiting) =>
        new AuditError('ERR_AUDIT_OVERLOADED', `${waiting} submissions are waiting to be recorded; try again shortly`, {
          detail: { retryAfterSeconds: 1 },
        }),
    });
  }

  /** Decides and records a submission; resolves after its batch committed. */
  write(item: PreparedSubmission): Promise<WriteOutcome> {
    return this.#batches.submit(item);
  }

  /**
   * One batch, decided in one `audit.record()`; when it fails for a reason a retry of the whole
   * batch did not cure, each of its submissions is tried alone, so that one bad submission fails
   * only itself. A closed or overloaded log fails the whole batch.
   */
  async #writeBatch(all: readonly PreparedSubmission[]): Promise<Array<Outcome<WriteOutcome>>> {
    const refused = await this.#checkStanding(all);
    if (refused.size > 0) {
      const rest = all.filter((_, i) => !refused.has(i));
      const decided = rest.length === 0 ? [] : await this.#writeBatch(rest);
      return all.map((_, i) => (refused.has(i) ? failed(refused.get(i)) : decided.shift()!));
    }
    const items = all;
    try {
      const outcomes = await this.audit.record((tx, append) => this.#decide(items, tx, append), { retryOnUniqueViolation: true });
      return outcomes.map(succeeded);
    } catch (error) {
      if (
        items.length === 1 ||
        (error instanceof AuditError && (error.code === 'ERR_AUDIT_CLOSED' || error.code === 'ERR_AUDIT_OVERLOADED'))
      )
        throw error;
      const alone: Array<Outcome<WriteOutcome>> = [];
      for (const item of items) alone.push(...(await this.#writeBatch([item]).catch((single: unknown) => [failed(single)])));
      return alone;
    }
  }

  /**
   * The registry and CA rows the decisions will read (the applicant's status, the signer
   * certificate's revocation) must agree with the log. Checked on committed state before the
   * batch's transaction, outside the log's serialized section (one statement for the rows and
   * their entries): the submissions whose rows disagree fail with ERR_STATE_DIVERGES_FROM_LOG.
   */
  async #checkStanding(items: readonly PreparedSubmission[]): Promise<Map<number, Error>> {
    if (this.standing === undefined) return new Map();
    const { db, binding } = this.standing;
    const usccs = [...new Set(items.map((p) => p.applicant))];
    const serials = [...new Set(items.flatMap((p) => (p.signerSerial === null ? [] : [p.signerSerial])))];
    const refused = new Map<number, Error>();
    for (const divergence of await binding.checkStanding(db, usccs, serials, reasonName)) {
      for (const [i, p] of items.entries()) {
        if (divergence.subject === `enterprise:${p.applicant}` || divergence.subject === `certificate:${p.signerSerial ?? ''}`)
          refused.set(i, divergenceError(divergence));
      }
    }
    return refused;
  }

  async #decide(items: readonly PreparedSubmission[], tx: Tx, append: Append): Promise<WriteOutcome[]> {
    const contexts = await selectSubmissionContexts(
      tx,
      items.map((p) => ({
        envelopeSha256: p.envelopeSha256,
        applicant: p.applicant,
        // Only an authentic envelope is "the same application": a forged one must not reach another's record.
        applicationId: p.authentic ? p.applicationId : '',
        signerSerial: p.signerSerial,
        requestSha256: p.requestSha256,
      })),
    );
    // What this batch decided so far, for duplicates inside the batch.
    const liveEnvelope = new Map<string, string>();
    const liveApplication = new Map<string, string>();
    const rejectedRequest = new Map<string, string>();
    const outcomes: WriteOutcome[] = [];
    const rows: Array<{ s: NewSubmission; t: NewTransition }> = [];
    for (const [i, p] of items.entries()) {
      const context = contexts[i]!;
      const applicationKey = `${p.applicant}/${p.applicationId}`;
      const live = context.liveId ?? liveEnvelope.get(p.envelopeSha256) ?? (p.authentic ? liveApplication.get(applicationKey) : undefined);
      if (live !== undefined) {
        outcomes.push({ existing: live });
        continue;
      }
      const rejection =
        registryRejection(context, p.policy, p.applicant) ??
        p.reportRejection ??
        (context.signerRevokedAt !== null
          ? reject(
              'ERR_SUBMISSION_CERTIFICATE_REVOKED',
              `the signer certificate ${p.signerSerial ?? ''} was revoked at ${iso(context.signerRevokedAt)}`,
            )
          : undefined);
      if (rejection !== undefined) {
        const earlier = context.rejectedId ?? rejectedRequest.get(p.requestSha256);
        if (earlier !== undefined) {
          outcomes.push({ existing: earlier });
          continue;
        }
      }
      const approval = p.record.approval;
      const status: SubmissionStatus = rejection !== undefined ? 'rejected' : approval.length === 0 ? 'accepted' : 'pending';
      const id = this.newId();
      const kind = `submission.${status}` as TransitionKind;
      const actor = p.callerActor ?? (rejection === undefined ? `enterprise:${p.applicant}` : 'anonymous');
      const entry = await append({
        kind,
        actor,
        subject: this.subjectOf(id),
        data: {
          submission: id,
          ...p.entryData,
          status,
          ...(rejection === undefined ? {} : { code: rejection.code, reason: rejection.reason }),
          ...(status === 'pending' ? { nextStep: 0, nextRole: approval[0]!.role } : {}),
        },
      });
      const receipt = await this.#receipt(id, p.applicant, p.record.documentSha256, status, entry);
      rows.push({
        s: { ...p.record, id, status, rejection: rejection ?? null, at: entry.time },
        t: {
          status,
          kind,
          actor,
          at: entry.time,
          logIndex: entry.index,
          leafHash: entry.leafHash,
          receipt,
          detail: rejection === undefined ? {} : { code: rejection.code, reason: rejection.reason },
        },
      });
      if (rejection === undefined) {
        liveEnvelope.set(p.envelopeSha256, id);
        liveApplication.set(applicationKey, id);
      } else {
        rejectedRequest.set(p.requestSha256, id);
      }
      const summary: SubmissionSummary = {
        id,
        status,
        applicant: p.applicant,
        applicationId: p.applicationId,
        type: p.record.documentType,
        submittedAt: entry.time,
        updatedAt: entry.time,
        nextStep: status === 'pending' ? { index: 0, role: approval[0]!.role } : null,
      };
      outcomes.push({ created: { summary, receipt, logIndex: entry.index, rejection } });
    }
    if (rows.length > 0) await insertSubmissions(tx, rows);
    return outcomes;
  }

  #receipt(id: string, applicant: string, documentDigest: string, status: SubmissionStatus, entry: AppendedEntry): Promise<string> {
    return this.receipts.sign({
      submission: id,
      applicant,
      documentDigest,
      status,
      at: entry.time,
      logIndex: entry.index,
      leafHash: entry.leafHash,
    });
  }
}

/** A rejection the registry calls for: the applicant unknown, or in a status the policy refuses. */
export function registryRejection(
  state: Pick<SubmissionContext, 'enterpriseStatus' | 'enterpriseReason' | 'enterpriseChangedAt'>,
  policy: LoadedPolicy | undefined,
  applicant: string,
): Rejection | undefined {
  if (state.enterpriseStatus === null)
    return reject('ERR_SUBMISSION_ENTERPRISE_UNKNOWN', `no enterprise with USCC ${applicant} is registered`);
  const allowed = policy?.signer.enterpriseStatus ?? ['active'];
  if (!allowed.includes(state.enterpriseStatus)) {
    const since = state.enterpriseChangedAt === null ? '' : ` since ${iso(state.enterpriseChangedAt)}`;
    return reject(
      'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE',
      `enterprise ${applicant} is ${state.enterpriseStatus}${since}${state.enterpriseReason === null ? '' : ` (${state.enterpriseReason})`}; the policy accepts applications from ${allowed.join(' or ')} enterprises only`,
    );
  }
  return undefined;
}
