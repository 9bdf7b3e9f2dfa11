import { approvalDigest, bindRows, divergenceError, type BoundRow, type StateBinding } from '../audit/binding.js';
import type { Append, AppendedEntry, AuditLog } from '../audit/types.js';
import { AuthError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { parseSerial } from '../ca/serial.js';
import { randomUuid, sha256, sha256Hex } from '../crypto/digest.js';
import { OID } from '../oids.js';
import type { Database, Tx } from '../db/types.js';
import type { LoadedPolicy, PolicySet } from '../policy/policy.js';
import type { Enterprise } from '../registry/types.js';
import { parseUscc } from '../registry/uscc.js';
import type { Certificate } from '../verify/certificate.js';
import type { Decision } from '../verify/cms-attributes.js';
import { parseCmsSignedData } from '../verify/cms-parse.js';
import { verifyEnvelope } from '../verify/envelope.js';
import { parseJws } from '../verify/jws-parse.js';
import type { RevocationSource } from '../verify/revocation.js';
import type { ValidationReport } from '../verify/validation-report.js';
import { listScope, mayRead } from './access.js';
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
  reasonOf,
  pendingStepOf,
  registeredOfficer,
  takeNewCountersignature,
  validatedOfficer,
  type PendingStep,
} from './countersign-checks.js';
import {
  addValidationData,
  envelopeCertificates,
  timestampCountersignature,
  timestampEnterpriseSignature,
  type Augmentation,
} from './augment.js';
import { buildEvidence, evidenceManifest, type EvidenceInput } from './evidence.js';
import type { ArchiveEvidenceLink } from '../audit/archive-evidence.js';
import { readEnvelopeParts, withCountersignatures, type CarriedCountersignature, type EnvelopeFormat } from './envelope-parts.js';
import { SubmissionError, type SubmissionErrorCode } from './errors.js';
import type { ReceiptSigner } from './receipts.js';
import { rejectionOfReport, type Rejection } from './rejection.js';
import { Turns } from './turns.js';
import { SubmissionWriter } from './writer.js';
import {
  isOwnCertificate,
  lockOpenApplications,
  lockSubmissionState,
  recordClosing,
  recordCountersignature,
  selectCountersignatures,
  selectPage,
  selectReceipt,
  selectSubmission,
  selectSubmissionWithLatest,
  selectTransitions,
  type SubmissionRecord,
} from './store.js';
import { SUBMISSION_STATUSES, type SubmissionStatus, type SubmissionSummary, type SubmissionView, type TransitionKind } from './types.js';

/**
 * The submission workflow: submit, status, the
 * officers' queue, countersign, receipts. Validation (the pure `verifyEnvelope`) and every other
 * piece of cryptography run before the log's serialized section. New submissions are decided in
 * batches (writer.ts: two statements per batch); inside `audit.record()` each decision costs its
 * log entry and the receipt's one ECDSA signature.
 * Every state change commits in the same transaction as its `submission.*` entry and its receipt.
 * Refusals of a countersignature are decisions too and are logged as `auth.denied`.
 */

export interface SubmissionDeps {
  db: Database;
  audit: AuditLog;
  policies: PolicySet;
  /** The service's CA: its root as the trust anchor, the issuing CA to build paths with (parsed once). */
  trust: { anchors: readonly Certificate[]; intermediates: readonly Certificate[] };
  /** Revocation from the CA database (cached by epoch: `epochCachedRevocation`). */
  revocation: RevocationSource;
  receipts: ReceiptSigner;
  /** The registry's record of an enterprise, read in the caller's transaction. */
  findEnterprise(uscc: string, q: Tx): Promise<Enterprise | undefined>;
  /** When a certificate of this CA was revoked (undefined: not revoked), read in the caller's transaction. */
  certificateRevokedAt(serial: string, q: Tx): Promise<Date | undefined>;
  /** The officer a certificate of this CA was issued to (undefined: none, or not this CA's). */
  officerOfCertificate(serial: string): Promise<string | undefined>;
  /** Checks rows against the log entries that made them before they are served or acted on. */
  binding: StateBinding;
  /** Writes an `auth.denied` entry (src/auth's AuthService.recordDenial). */
  recordDenial(code: string, reason: string, actor: string, context: RequestContext): Promise<void>;
  now: () => Date;
  /**
   * Augmentation of accepted signatures (augment.ts): signature time-stamps from `timeStamper`
   * (B-T), validation data when a workflow ends (B-LT). Absent: envelopes are kept as signed.
   */
  augmentation?: Augmentation | undefined;
  /** The log's read side for evidence containers (absent: `evidence` is not available). */
  evidenceLog?: EvidenceLog | undefined;
}

/** What an evidence container needs from the log (src/audit's reader and checkpointer). */
export interface EvidenceLog {
  latestCheckpoint(): Promise<{ size: number; note: string }>;
  /** Publishes a checkpoint of the current tree head (when entries are not yet covered). */
  publishCheckpoint(): Promise<void>;
  inclusionProof(index: number, size: number): Promise<{ treeSize: number; leafHash: string; proof: string[] }>;
  /** The canonical bytes of entry `index`. */
  entry(index: number): Promise<Buffer>;
  /** The log's C2SP verifier key. */
  verifierKey: string;
  /** Archive time-stamps covering entries below `coveredSize`, linked to the checkpoint of `checkpointSize` (src/audit/archive-evidence.ts). */
  archiveEvidence?(coveredSize: number, checkpointSize: number): Promise<ArchiveEvidenceLink[]>;
}

/** Where a request came from, for denial entries. */
export interface RequestContext {
  method: string;
  path: string;
}

/** What an envelope upload carries. */
export interface EnvelopeUpload {
  envelope: Uint8Array;
  /** The document, when the envelope is detached. */
  content?: Uint8Array | undefined;
}

/** The answer to a submission or a countersignature: the submission's state and the latest receipt. */
export interface TransitionResult {
  /** created: a new submission; existing: the same envelope or application was submitted before; recorded: a countersignature. */
  outcome: 'created' | 'existing' | 'recorded';
  submission: SubmissionSummary;
  receipt: string;
  logIndex: number;
}

/** A countersignature that passed every check before the transaction, with what they established. */
interface AcceptedCountersignature {
  counter: CarriedCountersignature;
  officerId: string;
  /** The officer certificate's serial, canonical hex. */
  serial: string;
  decision: Decision;
  /** The reason signed with the decision, when it carries one. */
  reason: string | undefined;
  signingTime: string | null;
  /** The current envelope with the countersignature added. */
  merged: Buffer;
}

const APPLICATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export class SubmissionService {
  readonly #writer: SubmissionWriter;
  /** Validations take turns with the event loop's I/O (turns.ts). */
  readonly #turns = new Turns();

  constructor(private readonly deps: SubmissionDeps) {
    this.#writer = new SubmissionWriter(deps.audit, deps.receipts, newSubmissionId, subjectOf, { db: deps.db, binding: deps.binding });
  }

  /**
   * Submits an envelope. Resolves with the new submission (accepted or pending), or the existing
   * one when this envelope — or, for an authentic envelope, this (applicant, applicationId) —
   * was submitted before. MUST throw a 422 SubmissionError carrying the record, the report and
   * the receipt when the application is rejected; a 4xx without a record when the envelope
   * cannot be read or names no applicant and applicationId.
   */
  async submit(upload: EnvelopeUpload, caller: Principal | undefined, context: RequestContext): Promise<TransitionResult> {
    await this.#turns.take();
    const envelopeSha256 = sha256Hex(upload.envelope);
    const report = await verifyEnvelope({
      envelope: upload.envelope,
      content: upload.content,
      anchors: this.deps.trust.anchors,
      intermediates: this.deps.trust.intermediates,
      revocation: this.deps.revocation,
      policies: this.deps.policies,
      time: this.deps.now(),
      signaturesOnThreadPool: true,
    });
    const { applicant, applicationId, division, format } = identify(report);
    await this.#checkSubmitter(caller, applicant, context);
    const policy = report.policy === null ? undefined : this.deps.policies.get(report.policy.id);
    const reportRejection = rejectionOfReport(report);
    const signerSerial = canonicalSerial(report.signatures[0]?.signer?.serialNumber);
    // A rejection is recorded for a signer this CA certified. An envelope carrying no certificate
    // of this CA names nobody the registry knows: anyone can make any number of them, so it is
    // refused without a record, an entry or a receipt. (A report that passed chains to this CA.)
    if (reportRejection !== undefined) {
      const signer = report.signatures[0]?.signer;
      if (
        signer === null ||
        signer === undefined ||
        signerSerial === null ||
        !(await isOwnCertificate(this.deps.db, signerSerial, signer.certificateSha256))
      ) {
        throw new SubmissionError(
          'ERR_SUBMISSION_UNIDENTIFIED',
          `no record is kept: the envelope is not signed with a certificate of this CA (${reportRejection.reason.slice(0, 200)})`,
          { detail: { report } },
        );
      }
    }
    const documentSha256 = report.document.sha256!;
    // The type as the document writes it, bounded: a policy id is at most 64 characters.
    const documentType = report.document.type === null ? null : report.document.type.slice(0, 64);
    // A detached JWS is kept with its payload embedded, so officers countersign one object.
    // Parts of an envelope the report rejects may not be readable; that submission is still recorded.
    const parts = reportRejection === undefined ? readEnvelopeParts(upload.envelope) : undefined;
    let currentEnvelope =
      format === 'jws' && upload.content !== undefined && readEnvelopeParts(upload.envelope).payloadB64 === undefined
        ? withCountersignatures(upload.envelope, [], { content: upload.content })
        : undefined;
    // An authentic signature is time-stamped as it is accepted (B-T), and when no approval steps
    // follow, the workflow ends here: the validation data go in too (B-LT).
    let timestamped: boolean | undefined;
    if (reportRejection === undefined && this.deps.augmentation !== undefined) {
      const final = (policy?.approval.length ?? 0) === 0;
      const augmented = await this.#augment(currentEnvelope ?? upload.envelope, format, upload.content, final);
      if (augmented.envelope !== undefined) currentEnvelope = augmented.envelope;
      timestamped = augmented.timestamped;
    }
    const requestSha256 =
      upload.content === undefined ? envelopeSha256 : sha256Hex(Buffer.concat([sha256(upload.envelope), sha256(upload.content)]));
    const outcome = await this.#writer.write({
      applicant,
      applicationId,
      authentic: reportRejection === undefined,
      envelopeSha256,
      requestSha256,
      signerSerial,
      policy,
      reportRejection,
      callerActor: caller?.actor,
      record: {
        applicant,
        applicationId,
        division,
        documentType,
        policy: report.policy,
        format,
        envelopeSha256,
        requestSha256,
        documentSha256,
        signerSerial,
        approval: policy?.approval ?? [],
        envelope: upload.envelope,
        ...(currentEnvelope === undefined ? {} : { currentEnvelope }),
        content: upload.content ?? null,
        report: JSON.stringify(report),
      },
      entryData: {
        applicant,
        applicationId,
        type: documentType,
        format,
        documentSha256,
        envelopeSha256,
        // The log entry proves the signature value existed when it was recorded (a proof of
        // existence for validation with time, independent of any TSA).
        ...(parts === undefined ? {} : { signatureSha256: sha256Hex(parts.enterpriseSignature) }),
        ...(timestamped === undefined ? {} : { timestamped }),
        policy: report.policy === null ? null : { ...report.policy },
        signer: signerSerial,
        currentEnvelopeSha256: currentEnvelope === undefined ? envelopeSha256 : sha256Hex(currentEnvelope),
        approvalSha256: approvalDigest(policy?.approval ?? []),
        indication: report.indication,
        ...(report.subIndication === undefined ? {} : { subIndication: report.subIndication }),
      },
    });
    if ('existing' in outcome) return this.#existing(outcome.existing, caller, context);
    const { summary, receipt, logIndex, rejection } = outcome.created;
    if (rejection !== undefined) throw rejected(rejection, summary, receipt, logIndex, report);
    return { outcome: 'created', submission: summary, receipt, logIndex };
  }

  /** The status view of a submission the caller may read. */
  async get(id: string, caller: Principal, context: RequestContext): Promise<SubmissionView> {
    const s = await this.#readable(id, caller, context);
    const [history, given] = await Promise.all([selectTransitions(this.deps.db, s.id), selectCountersignatures(this.deps.db, s.id)]);
    return {
      id: s.id,
      status: s.status,
      applicant: s.applicant,
      applicationId: s.applicationId,
      type: s.documentType,
      policy: s.policy,
      format: s.format,
      documentSha256: s.documentSha256,
      envelopeSha256: s.envelopeSha256,
      currentEnvelopeSha256: sha256Hex(s.envelope),
      submittedAt: s.submittedAt,
      updatedAt: s.updatedAt,
      rejection: s.rejection,
      approval: {
        steps: s.approval.map((step, index) => ({ index, ...step, countersignature: given.find((c) => c.step === index) ?? null })),
        nextStep: s.nextStep,
      },
      history,
      report: s.report,
    };
  }

  /** The current envelope (with every countersignature recorded): bytes anyone can verify. */
  async envelope(id: string, caller: Principal, context: RequestContext): Promise<{ format: 'cms' | 'jws'; bytes: Buffer }> {
    const s = await this.#readable(id, caller, context);
    return { format: s.format, bytes: s.envelope };
  }

  /**
   * The submission's evidence as an ASiC-E container (evidence.ts): the document, the current
   * envelope, each transition's receipt and log entry with its inclusion proof into one signed
   * checkpoint (published first when the latest does not cover them yet), the log key and the CRLs.
   */
  async evidence(id: string, caller: Principal, context: RequestContext): Promise<Buffer> {
    const s = await this.#readable(id, caller, context);
    const log = this.deps.evidenceLog;
    if (log === undefined) throw new SubmissionError('ERR_SUBMISSION_NOT_FOUND', 'this service keeps no evidence containers');
    const history = await selectTransitions(this.deps.db, s.id);
    const last = Math.max(...history.map((t) => t.logIndex));
    let checkpoint = await log.latestCheckpoint();
    if (checkpoint.size <= last) {
      await log.publishCheckpoint();
      checkpoint = await log.latestCheckpoint();
    }
    const transitions = await Promise.all(
      history.map(async (t) => {
        const found = await selectReceipt(this.deps.db, s.id, t.logIndex);
        return {
          logIndex: t.logIndex,
          receipt: found?.receipt ?? '',
          entry: await log.entry(t.logIndex),
          inclusion: await log.inclusionProof(t.logIndex, checkpoint.size),
        };
      }),
    );
    const data = await this.deps.augmentation?.validationData?.();
    const input: EvidenceInput = {
      document: await this.document(id, caller, context),
      envelope: s.envelope,
      format: s.format,
      transitions,
      checkpoint: checkpoint.note,
      logVerifierKey: log.verifierKey,
      crls: data?.crls ?? [],
      archive: await log.archiveEvidence?.(last + 1, checkpoint.size),
    };
    // The ASiC time assertion: a time-stamp over the manifest, when the TSA answers (else none).
    const stamper = this.deps.augmentation?.timeStamper;
    const manifestTimestamp =
      stamper === undefined
        ? undefined
        : await stamper.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(evidenceManifest(input)) }).catch(() => undefined);
    return buildEvidence({ ...input, manifestTimestamp });
  }

  /** The signed document itself (what a detached envelope needs beside it). */
  async document(id: string, caller: Principal, context: RequestContext): Promise<Buffer> {
    const s = await this.#readable(id, caller, context);
    const document =
      s.content !== null
        ? s.content
        : s.format === 'cms'
          ? Buffer.from(parseCmsSignedData(s.envelope).eContent!)
          : parseJws(s.envelope).payload!;
    // The stored document must be the one the log names (a detached document lives in its own column).
    const digest = sha256Hex(document);
    if (digest !== s.documentSha256) {
      const divergence = {
        kind: 'submission' as const,
        subject: subjectOf(s.id),
        field: 'document',
        row: digest,
        log: s.documentSha256,
        entry: undefined,
        logIndex: null,
      };
      this.deps.binding.report(divergence, { id: s.id });
      throw divergenceError(divergence);
    }
    return document;
  }

  /** The latest receipt, or the one of the transition logged at `logIndex`. */
  async receipt(
    id: string,
    caller: Principal,
    context: RequestContext,
    logIndex?: number,
  ): Promise<{ receipt: string; logIndex: number; status: SubmissionStatus }> {
    const s = await this.#readable(id, caller, context);
    const found = await selectReceipt(this.deps.db, s.id, logIndex);
    if (found === undefined)
      throw new SubmissionError('ERR_SUBMISSION_NOT_FOUND', `submission ${id} has no transition at log index ${logIndex}`);
    return found;
  }

  /**
   * A page of the submissions the caller may see: its own (enterprise), its jurisdiction's
   * (officer; with `status=pending`, only steps its role signs and that it has not signed yet),
   * or all (auditor). `after` is the `next` cursor of the previous page.
   */
  async list(
    query: { status?: unknown; after?: unknown; limit?: unknown; signedBy?: unknown },
    caller: Principal,
    context: RequestContext,
  ): Promise<{ items: SubmissionSummary[]; next: string | null }> {
    const status = query.status === undefined ? undefined : parseStatus(query.status);
    const after = query.after === undefined ? undefined : parseCursor(query.after);
    const limit = query.limit === undefined ? DEFAULT_PAGE : parseLimit(query.limit);
    if (query.signedBy !== undefined && query.signedBy !== 'applicant' && query.signedBy !== 'others')
      throw new SubmissionError('ERR_SUBMISSION_QUERY_INVALID', 'signedBy is "applicant" or "others"');
    const others = query.signedBy === 'others';
    const scope = listScope(caller);
    if (scope.kind === 'none') {
      const reason = `${caller.role} ${caller.actor} has no submissions to list`;
      await this.deps.recordDenial('ERR_AUTH_FORBIDDEN', reason, caller.actor, context);
      throw new AuthError('ERR_AUTH_FORBIDDEN', reason);
    }
    const page = {
      ...(status === undefined ? {} : { status }),
      ...(after === undefined ? {} : { after }),
      limit,
      // An enterprise's own list is what it signed; rejected junk that names it, signed by someone
      // else, is listed apart (?signedBy=others) and flagged, so it never passes for its own.
      ...(scope.kind === 'applicant' ? { applicant: scope.uscc, signedByApplicant: !others } : {}),
      ...(scope.kind === 'jurisdiction'
        ? {
            divisionPrefix: scope.prefix,
            ...(status === 'pending' ? { actionableBy: { role: scope.role, officerId: scope.officerId } } : {}),
          }
        : {}),
    };
    // A listed row is a served row: it must agree with the log (status, step, digests, approval).
    const rows = await this.deps.binding.verified(
      this.deps.db,
      () => selectPage(this.deps.db, page),
      (rows) =>
        rows.map((r) => ({
          kind: 'submission' as const,
          state: {
            id: r.id,
            status: r.status,
            nextStep: r.nextStep?.index ?? null,
            applicant: r.applicant,
            documentSha256: r.bound.documentSha256,
            envelopeSha256: r.bound.envelopeSha256,
            currentEnvelopeSha256: undefined,
            approvalSha256: approvalDigest(r.bound.approval),
            policy: r.bound.policy,
          },
        })),
    );
    const next = rows.length === limit ? String(rows[rows.length - 1]!.cursor) : null;
    const flagged = scope.kind === 'applicant' && others;
    return {
      items: rows.map(({ cursor: _cursor, bound: _bound, ...summary }) => (flagged ? { ...summary, signedByApplicant: false } : summary)),
      next,
    };
  }

  /**
   * Records an officer's countersignature: `upload` is the envelope with the officer's
   * countersignature added. It MUST bind this submission's enterprise signature, add exactly one
   * countersignature not recorded before, validate now (officer certificate of this CA, not
   * revoked), come from the logged-in officer, whose role is the next step's, whose jurisdiction
   * covers the applicant where the step says so, who has not signed an earlier step when the
   * policy wants distinct officers, and who is not the applicant. Then the submission moves to
   * the next step, `approved` or `refused` (a refusal ends it), with its entry and receipt.
   * Concurrent countersignatures are serialized on the submission's row: one per step.
   */
  async countersign(id: string, upload: EnvelopeUpload, caller: Principal, context: RequestContext): Promise<TransitionResult> {
    const submission = await this.#load(id);
    try {
      return await this.#countersign(submission, upload, caller);
    } catch (error) {
      // Every refusal is logged as `auth.denied`. An upload that is no envelope at all
      // (ERR_SUBMISSION_MALFORMED) is turned away before any rule applies, and is not.
      if (error instanceof SubmissionError && error.code !== 'ERR_SUBMISSION_MALFORMED')
        await this.deps.recordDenial(error.code, error.message, caller.actor, context);
      throw error;
    }
  }

  /** The checks of a countersignature in order (countersign-checks.ts: one call per rule), then its transition. */
  async #countersign(submission: SubmissionRecord, upload: EnvelopeUpload, caller: Principal): Promise<TransitionResult> {
    // 1. The caller may act on this submission at all.
    await checkMayAct(submission, caller, () => this.#countersigners(submission.id));

    // 2. The upload is this pending submission's envelope, adding exactly one new countersignature.
    const uploaded = readEnvelopeParts(upload.envelope);
    checkPending(submission);
    checkSameFormat(submission, uploaded);
    const held = readEnvelopeParts(submission.envelope);
    checkSameApplication(submission, uploaded, held);
    const counter = takeNewCountersignature(submission, uploaded, held);

    // 3. The enterprise signature with this countersignature alone validates now: the report's
    //    second signature is then exactly the new one, judged now.
    const step = pendingStepOf(submission);
    const policy = submission.policy === null ? undefined : this.deps.policies.get(submission.policy.id);
    const content = submission.content ?? undefined;
    const report = await verifyEnvelope({
      envelope: withCountersignatures(submission.originalEnvelope, [counter], { certificates: uploaded.certificates, content }),
      content,
      anchors: this.deps.trust.anchors,
      intermediates: this.deps.trust.intermediates,
      revocation: this.deps.revocation,
      policy,
      time: this.deps.now(),
      signaturesOnThreadPool: true,
    });
    const signature = countersignatureOf(submission, report);

    // 4. The countersigner: not the applicant, an officer whose certificate validated, registered
    //    with this CA, the one logged in, of the step's role and (where it matters) jurisdiction.
    checkNotApplicant(submission, signature);
    checkOfficerCertificate(submission, signature);
    const officer = validatedOfficer(submission, signature, report);
    const serial = canonicalSerial(officer.serialNumber)!;
    const officerId = registeredOfficer(submission, serial, await this.deps.officerOfCertificate(serial));
    checkCallerIsCountersigner(submission, caller, officerId);
    checkRole(submission, step, officer, officerId);
    checkJurisdiction(submission, step, officer, officerId);

    // 5. Its decision is one the step takes, with the reason that decision needs (or none).
    const decision = decisionOf(submission, step, signature);
    const reason = reasonOf(submission, decision, signature);

    // 6. Augmented (a time-stamp over the countersignature; the validation data when this decision
    //    ends the workflow), then recorded, after the re-checks under the row lock, with its entry
    //    and receipt.
    const final = decision === 'refuse' || step.index + 1 === step.count;
    const stamped = await this.#timestampCountersignature(counter, submission.format);
    let merged = withCountersignatures(submission.envelope, [stamped], { certificates: uploaded.certificates, content });
    if (final) merged = (await this.#augment(merged, submission.format, content, true, false)).envelope ?? merged;
    return this.#recordCountersignature(submission, step, policy, caller, {
      counter,
      officerId,
      serial,
      decision,
      reason,
      signingTime: signature.signingTime,
      merged,
    });
  }

  /**
   * In one `audit.record()`: locks the submission's row and re-checks what may have changed since
   * it was read (still pending, same version, distinct officers, certificate not revoked, the
   * applicant's standing), then moves the submission on with its entry and receipt.
   */
  #recordCountersignature(
    submission: SubmissionRecord,
    step: PendingStep,
    policy: LoadedPolicy | undefined,
    caller: Principal,
    c: AcceptedCountersignature,
  ): Promise<TransitionResult> {
    const { officerId, serial, decision, reason } = c;
    const reasonField: { reason?: string } = reason === undefined ? {} : { reason };
    const status: SubmissionStatus = decision === 'refuse' ? 'refused' : step.index + 1 === step.count ? 'approved' : 'pending';
    const kind: TransitionKind =
      status === 'refused' ? 'submission.refused' : status === 'approved' ? 'submission.approved' : 'submission.countersigned';
    return this.deps.audit.record(async (tx, append) => {
      const locked = await lockSubmissionState(tx, submission.id);
      checkPendingUnderLock(submission, locked);
      checkStepNotTakenUnderLock(submission, locked, step);
      await checkDistinctOfficerUnderLock(step, officerId, () => selectCountersignatures(tx, submission.id));
      checkNotRevokedUnderLock(serial, await this.deps.certificateRevokedAt(serial, tx));
      checkApplicantStandingUnderLock(submission, await this.deps.findEnterprise(submission.applicant, tx), policy);
      const entry = await append({
        kind,
        actor: caller.actor,
        subject: subjectOf(submission.id),
        data: {
          submission: submission.id,
          applicant: submission.applicant,
          documentSha256: submission.documentSha256,
          step: step.index,
          role: step.rule.role,
          officer: officerId,
          certificateSerial: serial,
          decision,
          ...reasonField,
          countersignatureSha256: c.counter.id,
          status,
          envelopeSha256: sha256Hex(c.merged),
          originalEnvelopeSha256: submission.envelopeSha256,
          approvalSha256: approvalDigest(submission.approval),
          policy: submission.policy === null ? null : { ...submission.policy },
        },
      });
      const receipt = await this.#receipt(submission.id, submission.applicant, submission.documentSha256, status, entry);
      await recordCountersignature(
        tx,
        {
          id: submission.id,
          step: step.index,
          officerId,
          certificateSerial: serial,
          decision,
          reason,
          signingTime: c.signingTime,
          countersignatureSha256: c.counter.id,
          envelope: c.merged,
          status,
          approval: submission.approval,
          seq: locked.version,
        },
        {
          status,
          kind,
          actor: caller.actor,
          at: entry.time,
          logIndex: entry.index,
          leafHash: entry.leafHash,
          receipt,
          detail: { step: step.index, role: step.rule.role, officer: officerId, decision, ...reasonField },
        },
      );
      const summary: SubmissionSummary = {
        id: submission.id,
        status,
        applicant: submission.applicant,
        applicationId: submission.applicationId,
        type: submission.documentType,
        submittedAt: submission.submittedAt,
        updatedAt: entry.time,
        nextStep: status === 'pending' ? { index: step.index + 1, role: submission.approval[step.index + 1]!.role } : null,
        ...(status === 'refused' && reason !== undefined ? { refusalReason: reason } : {}),
      };
      return { outcome: 'recorded' as const, submission: summary, receipt, logIndex: entry.index };
    });
  }

  /**
   * The envelope augmented: a signature time-stamp over the enterprise's signature (when `stamp`),
   * the validation data (when `final`). A time-stamping authority that fails does not stop the
   * workflow: the signature is recorded without its time-stamp (`timestamped: false` in the log
   * entry; the log's own proof of existence still covers it).
   */
  async #augment(
    envelope: Uint8Array,
    format: EnvelopeFormat,
    content: Uint8Array | undefined,
    final: boolean,
    stamp = true,
  ): Promise<{ envelope: Buffer | undefined; timestamped: boolean | undefined }> {
    const { timeStamper, validationData } = this.deps.augmentation ?? {};
    let out: Buffer | undefined;
    let timestamped: boolean | undefined;
    if (stamp && timeStamper !== undefined) {
      try {
        out = await timestampEnterpriseSignature(envelope, format, timeStamper, content);
        timestamped = true;
      } catch {
        timestamped = false;
      }
    }
    if (final && validationData !== undefined) {
      const base = out ?? envelope;
      out = addValidationData(base, format, await validationData(envelopeCertificates(base, format, content)), content);
    }
    return { envelope: out, timestamped };
  }

  async #timestampCountersignature(counter: CarriedCountersignature, format: EnvelopeFormat): Promise<CarriedCountersignature> {
    const stamper = this.deps.augmentation?.timeStamper;
    if (stamper === undefined) return counter;
    try {
      return await timestampCountersignature(counter, format, stamper);
    } catch {
      return counter; // as #augment: the countersignature is recorded without its time-stamp
    }
  }

  /** The submission, if it exists and the caller may read it (404 / audited 403 otherwise). */
  async #readable(id: string, caller: Principal, context: RequestContext): Promise<SubmissionRecord> {
    const submission = await this.#load(id);
    if (!(await mayRead(caller, submission, () => this.#countersigners(submission.id)))) {
      const why =
        caller.role === 'officer'
          ? `the applicant is outside jurisdiction ${caller.officer?.jurisdiction ?? '?'}`
          : caller.role === 'enterprise'
            ? "it is another enterprise's"
            : 'this role reads no applications';
      const reason = `${caller.actor} may not see submission ${submission.id} (${why})`;
      await this.deps.recordDenial('ERR_AUTH_FORBIDDEN', reason, caller.actor, context);
      throw new AuthError('ERR_AUTH_FORBIDDEN', reason);
    }
    return submission;
  }

  async #load(id: string): Promise<SubmissionRecord> {
    const submission = isSubmissionId(id) ? await this.#loadBound(id) : undefined;
    if (submission === undefined) throw new SubmissionError('ERR_SUBMISSION_NOT_FOUND', `no submission with id ${id.slice(0, 64)}`);
    return submission;
  }

  /**
   * The record, checked against its latest log entry (ERR_STATE_DIVERGES_FROM_LOG when they
   * disagree), both read in one statement; read once more before a divergence is reported (a
   * transition may have committed in between).
   */
  async #loadBound(id: string): Promise<SubmissionRecord | undefined> {
    const binding = this.deps.binding;
    if (!binding.enabled) return selectSubmission(this.deps.db, id);
    for (let attempt = 0; ; attempt++) {
      const found = await selectSubmissionWithLatest(this.deps.db, id, binding.knownLeaf(subjectOf(id)));
      if (found === undefined) return undefined;
      const divergence = binding.compareLatest(boundRowOf(found.record), found.latest, attempt > 0);
      if (divergence === undefined) return found.record;
      if (attempt > 0) throw divergenceError(divergence);
    }
  }

  /** The officers who countersigned the submission so far (they may read it wherever it is). */
  async #countersigners(id: string): Promise<string[]> {
    return (await selectCountersignatures(this.deps.db, id)).map((c) => c.officerId);
  }

  /** A token on a submission must be the applicant's own (the signature is what authenticates). */
  async #checkSubmitter(caller: Principal | undefined, applicant: string, context: RequestContext): Promise<void> {
    if (caller === undefined || caller.uscc === applicant) return;
    const reason = `enterprise ${caller.uscc ?? '?'} may submit its own applications only; this one is ${applicant}'s (the signature authenticates a submission: no token is needed)`;
    await this.deps.recordDenial('ERR_SUBMISSION_NOT_APPLICANT', reason, caller.actor, context);
    throw new SubmissionError('ERR_SUBMISSION_NOT_APPLICANT', reason);
  }

  async #existing(id: string, caller: Principal | undefined, context: RequestContext): Promise<TransitionResult> {
    const submission = (await this.#loadBound(id))!;
    await this.#checkSubmitter(caller, submission.applicant, context);
    const latest = (await selectReceipt(this.deps.db, id))!;
    const summary = summaryOf(submission);
    if (submission.rejection !== null) {
      throw rejected(
        { code: submission.rejection.code as SubmissionErrorCode, reason: submission.rejection.reason },
        summary,
        latest.receipt,
        latest.logIndex,
        submission.report,
      );
    }
    return { outcome: 'existing', submission: summary, receipt: latest.receipt, logIndex: latest.logIndex };
  }

  /**
   * Closes every open (pending) application of an enterprise whose standing just ended, inside
   * the transaction that ended it (the registry's revocation or deregistration): each becomes
   * `rejected` with ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE and the reason, through its own
   * `submission.rejected` entry and sealed receipt, so it leaves the officers' queues instead of
   * waiting there forever. Returns the ids closed.
   */
  async closeOpenApplications(tx: Tx, append: Append, applicant: string, reason: string, actor: string): Promise<string[]> {
    const open = await lockOpenApplications(tx, applicant);
    const code: SubmissionErrorCode = 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE';
    const why = `the applicant ${applicant} is no longer active (${reason}): its open application is closed`.slice(0, 500);
    for (const application of open) {
      const entry = await append({
        kind: 'submission.rejected',
        actor,
        subject: subjectOf(application.id),
        data: { submission: application.id, applicant, documentSha256: application.documentSha256, status: 'rejected', code, reason: why },
      });
      const receipt = await this.#receipt(application.id, applicant, application.documentSha256, 'rejected', entry);
      await recordClosing(
        tx,
        { id: application.id, seq: application.version, code, reason: why },
        {
          status: 'rejected',
          kind: 'submission.rejected',
          actor,
          at: entry.time,
          logIndex: entry.index,
          leafHash: entry.leafHash,
          receipt,
          detail: { code, reason: why },
        },
      );
      await bindRows(tx, [{ subject: subjectOf(application.id), entry }]);
    }
    return open.map((a) => a.id);
  }

  #receipt(id: string, applicant: string, documentDigest: string, status: SubmissionStatus, entry: AppendedEntry): Promise<string> {
    return this.deps.receipts.sign({
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

/** What a submission record is checked against its log entry with. */
function boundRowOf(s: SubmissionRecord): BoundRow {
  const original = sha256Hex(s.originalEnvelope);
  return {
    kind: 'submission',
    state: {
      id: s.id,
      status: s.status,
      nextStep: s.nextStep,
      applicant: s.applicant,
      documentSha256: s.documentSha256,
      // The bytes countersignatures are added to, not only the digest column beside them.
      envelopeSha256: original === s.envelopeSha256 ? original : `${s.envelopeSha256} (stored bytes: ${original})`,
      currentEnvelopeSha256: sha256Hex(s.envelope),
      approvalSha256: approvalDigest(s.approval),
      policy: s.policy,
    },
  };
}

/** The audit subject of a submission: its entries form their own chain (`subjectPrev`). */
export function subjectOf(id: string): string {
  return `submission:${id}`;
}

/** The applicant and applicationId a record can be kept under, or ERR_SUBMISSION_UNIDENTIFIED. */
function identify(report: ValidationReport): { applicant: string; applicationId: string; division: string; format: 'cms' | 'jws' } {
  const format = report.checks.find((c) => c.id === 'envelope.format');
  if (format !== undefined && format.result !== 'PASSED') throw new SubmissionError('ERR_SUBMISSION_MALFORMED', format.message);
  const { applicant, applicationId } = report.document;
  const unidentified = (why: string): SubmissionError =>
    new SubmissionError('ERR_SUBMISSION_UNIDENTIFIED', `no record is kept: ${why}`, { detail: { report } });
  if (report.document.sha256 === null)
    throw unidentified('the signed document is not available (a detached envelope needs its document as a second multipart part)');
  if (report.document.json === null) throw unidentified('the signed document is not a JSON object');
  if (applicant === null) throw unidentified('the document has no applicant');
  let division: string;
  try {
    division = parseUscc(applicant, { overrideCheck: true }).division;
  } catch {
    throw unidentified(`the applicant ${JSON.stringify(applicant).slice(0, 40)} is not a unified social credit code`);
  }
  if (applicationId === null || !APPLICATION_ID.test(applicationId))
    throw unidentified('the document has no applicationId of 1–64 letters, digits, ".", "_" and "-"');
  return { applicant, applicationId, division, format: report.format! };
}

function rejected(
  rejection: Rejection,
  submission: SubmissionSummary,
  receipt: string,
  logIndex: number,
  report: ValidationReport,
): SubmissionError {
  return new SubmissionError(rejection.code, `the application was rejected: ${rejection.reason}`, {
    detail: { submission, receipt, logIndex, report },
  });
}

function summaryOf(s: SubmissionRecord): SubmissionSummary {
  return {
    id: s.id,
    status: s.status,
    applicant: s.applicant,
    applicationId: s.applicationId,
    type: s.documentType,
    submittedAt: s.submittedAt,
    updatedAt: s.updatedAt,
    nextStep: s.nextStep === null ? null : { index: s.nextStep, role: s.nextRole ?? '' },
  };
}

function canonicalSerial(hex: string | undefined): string | null {
  if (hex === undefined) return null;
  try {
    return parseSerial(hex);
  } catch {
    return null;
  }
}

/** A random (version 4) UUID. */
export function newSubmissionId(): string {
  return randomUuid();
}

export function isSubmissionId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
}

function parseStatus(value: unknown): SubmissionStatus {
  if (typeof value !== 'string' || !SUBMISSION_STATUSES.includes(value as SubmissionStatus)) {
    throw new SubmissionError('ERR_SUBMISSION_QUERY_INVALID', `status must be one of ${SUBMISSION_STATUSES.join(', ')}`, {
      detail: { field: 'status' },
    });
  }
  return value as SubmissionStatus;
}

function parseCursor(value: unknown): number {
  if (typeof value !== 'string' || !/^[0-9]{1,15}$/.test(value))
    throw new SubmissionError('ERR_SUBMISSION_QUERY_INVALID', 'after must be the "next" cursor of a previous page', {
      detail: { field: 'after' },
    });
  return Number(value);
}

function parseLimit(value: unknown): number {
  const n = typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE)
    throw new SubmissionError('ERR_SUBMISSION_QUERY_INVALID', `limit must be an integer from 1 to ${MAX_PAGE}`, {
      detail: { field: 'limit' },
    });
  return n;
}
