import { latestJoin, type Latest } from '../audit/binding.js';
import { sha256Hex } from '../crypto/digest.js';
import type { Queryable } from '../db/types.js';
import type { ApprovalStep } from '../policy/policy.js';
import type { Decision } from '../verify/cms-attributes.js';
import type { ValidationReport } from '../verify/validation-report.js';
import type { CountersignatureRecord, SubmissionStatus, SubmissionSummary, Transition, TransitionKind } from './types.js';

/**
 * The submissions' SQL (migrations/0040_submissions.sql). Every function runs on the caller's
 * connection or transaction; writes are called from inside `audit.record()` only. Statements are
 * few and fat on purpose: inside the log's serialized section every round trip counts.
 */

/** A stored submission: what was submitted, what was decided, and where its approval stands. */
export interface SubmissionRecord {
  id: string;
  applicant: string;
  applicationId: string;
  /** The applicant's division (USCC positions 3–8): what officers' jurisdictions are compared with. */
  division: string;
  documentType: string | null;
  policy: { id: string; version: number; sha256: string } | null;
  format: 'cms' | 'jws';
  status: SubmissionStatus;
  envelopeSha256: string;
  requestSha256: string;
  documentSha256: string;
  signerSerial: string | null;
  approval: ApprovalStep[];
  /** The step waiting for a countersignature, its role, and whether it is open to any jurisdiction: set exactly while pending. */
  nextStep: number | null;
  nextRole: string | null;
  nextAnyJurisdiction: boolean | null;
  /** The envelope as submitted. */
  originalEnvelope: Buffer;
  /** The current envelope (the original until a countersignature is recorded). */
  envelope: Buffer;
  /** The document, when the envelope is detached. */
  content: Buffer | null;
  /** The validation report at submission. */
  report: ValidationReport;
  /** Why it was rejected: set exactly when rejected. */
  rejection: { code: string; reason: string } | null;
  submittedAt: string;
  updatedAt: string;
  /** Bumped by every transition: a countersignature is recorded only on the version it was checked against. */
  version: number;
}

interface SubmissionRow {
  id: string;
  n: number;
  applicant: string;
  application_id: string;
  division: string;
  document_type: string | null;
  policy_id: string | null;
  policy_version: number | null;
  policy_sha256: string | null;
  format: 'cms' | 'jws';
  status: SubmissionStatus;
  envelope_sha256: string;
  request_sha256: string;
  document_sha256: string;
  signer_serial: string | null;
  approval: string;
  next_step: number | null;
  next_role: string | null;
  next_any_jurisdiction: boolean | null;
  original_envelope: Buffer;
  /** The current envelope (the original until a countersignature is recorded). */
  envelope: Buffer;
  content: Buffer | null;
  report: string;
  rejection_code: string | null;
  rejection_reason: string | null;
  submitted_at: Date | string;
  updated_at: Date | string;
  version: number;
}

/** A new submission and its first transition, as inserted together. */
export interface NewSubmission {
  id: string;
  applicant: string;
  applicationId: string;
  division: string;
  documentType: string | null;
  policy: { id: string; version: number; sha256: string } | null;
  format: 'cms' | 'jws';
  status: SubmissionStatus;
  envelopeSha256: string;
  requestSha256: string;
  documentSha256: string;
  signerSerial: string | null;
  approval: ApprovalStep[];
  envelope: Uint8Array;
  /** The current envelope when it differs from the one submitted (a detached JWS gets its payload). */
  currentEnvelope?: Uint8Array;
  content: Uint8Array | null;
  report: string;
  rejection: { code: string; reason: string } | null;
  at: string;
}

/** A transition to record: its audit entry's facts, the receipt, and what it decided. */
export type NewTransition = Omit<Transition, 'seq'> & { receipt: string };

/** The submission's state after a transition: next step (null when it left `pending`). */
function nextStepOf(status: SubmissionStatus, approval: ApprovalStep[], step: number): { step: number; role: string; any: boolean } | null {
  if (status !== 'pending') return null;
  const s = approval[step]!;
  return { step, role: s.role, any: s.jurisdiction === 'any' };
}

const SUBMISSION_COLUMNS = [
  'id',
  'applicant',
  'application_id',
  'division',
  'document_type',
  'policy_id',
  'policy_version',
  'policy_sha256',
  'format',
  'status',
  'envelope_sha256',
  'request_sha256',
  'document_sha256',
  'signer_serial',
  'approval',
  'next_step',
  'next_role',
  'next_any_jurisdiction',
  'original_envelope',
  'envelope',
  'content',
  'report',
  'rejection_code',
  'rejection_reason',
  'submitted_at',
  'updated_at',
  'version',
];
const TRANSITION_COLUMNS = [
  'submission_id',
  'seq',
  'status',
  'kind',
  'actor',
  'at',
  'log_index',
  'leaf_hash',
  'receipt_header',
  'receipt',
  'detail',
];

/**
 * A receipt as stored (migration 0043): its protected header, the same for every receipt of one
 * seal (~2.1 KB of x5c), once in submission_receipt_headers by SHA-256; the rest (payload and
 * signature) in the transition's row.
 */
interface SplitReceipt {
  header: string;
  headerSha256: string;
  rest: string;
}

/** The last header split off and its SHA-256: one seal signs every receipt. */
let lastHeader: { header: string; sha256: string } | undefined;

function splitReceipt(receipt: string): SplitReceipt {
  const dot = receipt.indexOf('.');
  if (dot <= 0) throw new Error('a receipt must be a compact JWS');
  const header = receipt.slice(0, dot);
  // (=== on the slice is a flat comparison; startsWith walks a concatenated string char by char.)
  if (lastHeader === undefined || header !== lastHeader.header) lastHeader = { header, sha256: sha256Hex(header) };
  return { header: lastHeader.header, headerSha256: lastHeader.sha256, rest: receipt.slice(dot + 1) };
}

/** The CTE that stores receipt headers not stored yet, with its parameters appended to `params`. */
function headersCte(receipts: readonly SplitReceipt[], params: unknown[]): string {
  const distinct = new Map(receipts.map((r) => [r.headerSha256, r.header]));
  const values = [...distinct].map(([sha, header]) => `($${params.push(sha)}, $${params.push(header)})`);
  return `h AS (INSERT INTO submission_receipt_headers (sha256, header) VALUES ${values.join(', ')} ON CONFLICT (sha256) DO NOTHING)`;
}

/**
 * Inserts submissions with their first transitions, all in one statement (the writer's batch).
 * Throws 23505 when one of them duplicates a live submission or a rejected request.
 */
export async function insertSubmissions(q: Queryable, rows: ReadonlyArray<{ s: NewSubmission; t: NewTransition }>): Promise<void> {
  const params: unknown[] = [];
  const tuple = (values: unknown[]): string => `(${values.map((v) => `$${params.push(v)}`).join(', ')})`;
  const receipts = rows.map(({ t }) => splitReceipt(t.receipt));
  const headers = headersCte(receipts, params);
  const submissions: string[] = [];
  const transitions: string[] = [];
  const bindings: string[] = [];
  for (const [i, { s, t }] of rows.entries()) {
    const next = nextStepOf(s.status, s.approval, 0);
    submissions.push(
      tuple([
        s.id,
        s.applicant,
        s.applicationId,
        s.division,
        s.documentType,
        s.policy?.id ?? null,
        s.policy?.version ?? null,
        s.policy?.sha256 ?? null,
        s.format,
        s.status,
        s.envelopeSha256,
        s.requestSha256,
        s.documentSha256,
        s.signerSerial,
        JSON.stringify(s.approval),
        next?.step ?? null,
        next?.role ?? null,
        next?.any ?? null,
        s.envelope,
        s.currentEnvelope ?? null,
        s.content,
        s.report,
        s.rejection?.code ?? null,
        s.rejection?.reason ?? null,
        s.at,
        s.at,
        1,
      ]),
    );
    const receipt = receipts[i]!;
    // Bound to its first entry (migrations/0013, src/audit/binding.ts).
    bindings.push(tuple([`submission:${s.id}`, t.logIndex, Buffer.from(t.leafHash, 'hex')]));
    transitions.push(
      tuple([
        s.id,
        0,
        t.status,
        t.kind,
        t.actor,
        t.at,
        t.logIndex,
        t.leafHash,
        receipt.headerSha256,
        receipt.rest,
        JSON.stringify(t.detail),
      ]),
    );
  }
  await q.query(
    `WITH ${headers},
     s AS (INSERT INTO submissions (${SUBMISSION_COLUMNS.join(', ')}) VALUES ${submissions.join(', ')} RETURNING id),
     b AS (INSERT INTO log_bindings (subject, log_index, log_leaf) VALUES ${bindings.join(', ')}
           ON CONFLICT (subject) DO UPDATE SET log_index = EXCLUDED.log_index, log_leaf = EXCLUDED.log_leaf)
     INSERT INTO submission_transitions (${TRANSITION_COLUMNS.join(', ')}) VALUES ${transitions.join(', ')}`,
    params,
  );
}

/** What the decision on a new submission depends on, read under the log's lock. */
export interface SubmissionContext {
  /** A live (not rejected) submission with this envelope or this (applicant, applicationId). */
  liveId: string | null;
  /** A rejected submission of exactly this request. */
  rejectedId: string | null;
  enterpriseStatus: string | null;
  enterpriseReason: string | null;
  enterpriseChangedAt: Date | string | null;
  /** When the signer's certificate was revoked (null: not revoked or not found). */
  signerRevokedAt: Date | string | null;
}

export interface ContextKey {
  envelopeSha256: string;
  applicant: string;
  /** '' when the envelope is not authentic: it then matches no application. */
  applicationId: string;
  signerSerial: string | null;
  requestSha256: string;
}

/**
 * The contexts of a batch of new submissions, in order, in one statement. It reads the
 * registry's and the CA's tables directly (read-only) so that the decision costs one round trip
 * under the log's lock; an enterprise revocation and a certificate revocation also go through
 * the log, so this read sees every one committed before the batch began.
 */
export async function selectSubmissionContexts(q: Queryable, keys: readonly ContextKey[]): Promise<SubmissionContext[]> {
  const { rows } = await q.query<{
    i: number;
    live_id: string | null;
    rejected_id: string | null;
    status: string | null;
    status_reason: string | null;
    status_changed_at: Date | string | null;
    revoked_at: Date | string | null;
  }>(
    `SELECT k.i,
            (SELECT id FROM submissions WHERE status <> 'rejected' AND envelope_sha256 = k.env
             UNION ALL
             SELECT id FROM submissions WHERE status <> 'rejected' AND applicant = k.applicant AND application_id = k.app
             LIMIT 1) AS live_id,
            (SELECT id FROM submissions WHERE status = 'rejected' AND request_sha256 = k.req) AS rejected_id,
            e.status, e.status_reason, e.status_changed_at,
            (SELECT revoked_at FROM certificates WHERE serial = k.serial) AS revoked_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS k (env, applicant, app, serial, req, i)
       LEFT JOIN enterprises e ON e.uscc = k.applicant
      ORDER BY k.i`,
    [
      keys.map((k) => k.envelopeSha256),
      keys.map((k) => k.applicant),
      keys.map((k) => k.applicationId),
      keys.map((k) => k.signerSerial),
      keys.map((k) => k.requestSha256),
    ],
  );
  return rows.map((r) => ({
    liveId: r.live_id,
    rejectedId: r.rejected_id,
    enterpriseStatus: r.status,
    enterpriseReason: r.status_reason,
    enterpriseChangedAt: r.status_changed_at,
    signerRevokedAt: r.revoked_at,
  }));
}

const COLUMNS = `id, n, applicant, application_id, division, document_type, policy_id, policy_version, policy_sha256, format, status, envelope_sha256,
  request_sha256, document_sha256, signer_serial, approval, next_step, next_role, next_any_jurisdiction,
  original_envelope, COALESCE(envelope, original_envelope) AS envelope, content, report, rejection_code, rejection_reason, submitted_at, updated_at, version`;

/** The whole record; `forUpdate` locks its row (countersignatures on one submission are serialized by it). */
export async function selectSubmission(
  q: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<SubmissionRecord | undefined> {
  const { rows } = await q.query<SubmissionRow>(
    `SELECT ${COLUMNS} FROM submissions WHERE id = $1${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] === undefined ? undefined : recordOf(rows[0]);
}

/**
 * The whole record with its log binding and latest entry, read in the same statement
 * (src/audit/binding.ts `latestJoin`; `known`: the leaf hash whose entry the caller has cached).
 */
export async function selectSubmissionWithLatest(
  q: Queryable,
  id: string,
  known: Buffer | null,
): Promise<{ record: SubmissionRecord; latest: Latest } | undefined> {
  const join = latestJoin(`'submission:' || s.id::text`, '$2');
  const { rows } = await q.query<SubmissionRow & Latest>(
    // (No column name of the joined tables is one of the submission's: COLUMNS needs no qualifying.)
    `SELECT ${COLUMNS}, ${join.columns}
       FROM submissions s ${join.joins} WHERE s.id = $1`,
    [id, known],
  );
  const r = rows[0];
  return r === undefined ? undefined : { record: recordOf(r), latest: r };
}

function recordOf(r: SubmissionRow): SubmissionRecord {
  return {
    id: r.id,
    applicant: r.applicant,
    applicationId: r.application_id,
    division: r.division,
    documentType: r.document_type,
    policy: r.policy_id === null ? null : { id: r.policy_id, version: r.policy_version!, sha256: r.policy_sha256! },
    format: r.format,
    status: r.status,
    envelopeSha256: r.envelope_sha256,
    requestSha256: r.request_sha256,
    documentSha256: r.document_sha256,
    signerSerial: r.signer_serial,
    approval: JSON.parse(r.approval) as ApprovalStep[],
    nextStep: r.next_step,
    nextRole: r.next_role,
    nextAnyJurisdiction: r.next_any_jurisdiction,
    originalEnvelope: r.original_envelope,
    envelope: r.envelope,
    content: r.content,
    report: JSON.parse(r.report) as ValidationReport,
    rejection: r.rejection_code === null ? null : { code: r.rejection_code, reason: r.rejection_reason ?? '' },
    submittedAt: iso(r.submitted_at),
    updatedAt: iso(r.updated_at),
    version: r.version,
  };
}

/** What a countersignature's transaction re-checks under the row lock. */
export interface LockedSubmissionState {
  status: SubmissionStatus;
  version: number;
  nextStep: number | null;
}

/** Status, version and next step only, locked. */
export async function lockSubmissionState(q: Queryable, id: string): Promise<LockedSubmissionState | undefined> {
  const { rows } = await q.query<{ status: SubmissionStatus; version: number; next_step: number | null }>(
    'SELECT status, version, next_step FROM submissions WHERE id = $1 FOR UPDATE',
    [id],
  );
  const r = rows[0];
  return r === undefined ? undefined : { status: r.status, version: r.version, nextStep: r.next_step };
}

interface TransitionRow {
  seq: number;
  status: SubmissionStatus;
  kind: TransitionKind;
  actor: string;
  at: Date | string;
  log_index: number;
  leaf_hash: string;
  detail: string;
}

export async function selectTransitions(q: Queryable, id: string): Promise<Transition[]> {
  const { rows } = await q.query<TransitionRow>(
    'SELECT seq, status, kind, actor, at, log_index, leaf_hash, detail FROM submission_transitions WHERE submission_id = $1 ORDER BY seq',
    [id],
  );
  return rows.map((r) => ({
    seq: r.seq,
    status: r.status,
    kind: r.kind,
    actor: r.actor,
    at: iso(r.at),
    logIndex: Number(r.log_index),
    leafHash: r.leaf_hash,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}

/** The receipt of the latest transition, or of the transition whose log index is `logIndex`. */
export async function selectReceipt(
  q: Queryable,
  id: string,
  logIndex?: number,
): Promise<{ receipt: string; logIndex: number; status: SubmissionStatus } | undefined> {
  const select = `SELECT CASE WHEN t.receipt_header IS NULL THEN t.receipt ELSE h.header || '.' || t.receipt END AS receipt, t.log_index, t.status
                    FROM submission_transitions t LEFT JOIN submission_receipt_headers h ON h.sha256 = t.receipt_header`;
  const { rows } =
    logIndex === undefined
      ? await q.query<{ receipt: string | null; log_index: number; status: SubmissionStatus }>(
          `${select} WHERE t.submission_id = $1 ORDER BY t.seq DESC LIMIT 1`,
          [id],
        )
      : await q.query<{ receipt: string | null; log_index: number; status: SubmissionStatus }>(
          `${select} WHERE t.submission_id = $1 AND t.log_index = $2`,
          [id, logIndex],
        );
  const r = rows[0];
  if (r === undefined) return undefined;
  if (r.receipt === null) throw new Error(`the receipt of submission ${id} names a header that is not stored`);
  return { receipt: r.receipt, logIndex: Number(r.log_index), status: r.status };
}

interface CountersignatureRow {
  step: number;
  officer_id: string;
  certificate_serial: string;
  decision: Decision;
  reason: string | null;
  signing_time: Date | string | null;
  countersignature_sha256: string;
  recorded_at: Date | string;
  log_index: number;
}

export async function selectCountersignatures(q: Queryable, id: string): Promise<CountersignatureRecord[]> {
  const { rows } = await q.query<CountersignatureRow>(
    `SELECT step, officer_id, certificate_serial, decision, reason, signing_time, countersignature_sha256, recorded_at, log_index
       FROM submission_countersignatures WHERE submission_id = $1 ORDER BY step`,
    [id],
  );
  return rows.map((r) => ({
    step: r.step,
    officerId: r.officer_id,
    certificateSerial: r.certificate_serial,
    decision: r.decision,
    ...(r.reason === null ? {} : { reason: r.reason }),
    signingTime: r.signing_time === null ? null : iso(r.signing_time),
    countersignatureSha256: r.countersignature_sha256,
    recordedAt: iso(r.recorded_at),
    logIndex: Number(r.log_index),
  }));
}

export interface CountersignatureWrite {
  id: string;
  step: number;
  officerId: string;
  certificateSerial: string;
  decision: Decision;
  /** The reason signed with the decision (absent: none). */
  reason?: string | undefined;
  signingTime: string | null;
  countersignatureSha256: string;
  /** The envelope with this countersignature added. */
  envelope: Uint8Array;
  status: SubmissionStatus;
  approval: ApprovalStep[];
  seq: number;
}

/** Records a countersignature: the submission's new state, the countersignature and the transition (one statement). */
export async function recordCountersignature(q: Queryable, c: CountersignatureWrite, t: NewTransition): Promise<void> {
  const next = nextStepOf(c.status, c.approval, c.step + 1);
  const receipt = splitReceipt(t.receipt);
  const params: unknown[] = [
    c.id,
    c.status,
    c.envelope,
    next?.step ?? null,
    next?.role ?? null,
    next?.any ?? null,
    t.at,
    c.step,
    c.officerId,
    c.certificateSerial,
    c.decision,
    c.signingTime,
    c.countersignatureSha256,
    t.logIndex,
    c.seq,
    t.kind,
    t.actor,
    t.leafHash,
    receipt.headerSha256,
    receipt.rest,
    JSON.stringify(t.detail),
    c.reason ?? null,
  ];
  await q.query(
    `WITH ${headersCte([receipt], params)},
     u AS (
       UPDATE submissions SET status = $2, envelope = $3, next_step = $4, next_role = $5, next_any_jurisdiction = $6, updated_at = $7, version = version + 1
        WHERE id = $1 RETURNING id),
     b AS (
       INSERT INTO log_bindings (subject, log_index, log_leaf) SELECT 'submission:' || id::text, $14, decode($18, 'hex') FROM u
       ON CONFLICT (subject) DO UPDATE SET log_index = EXCLUDED.log_index, log_leaf = EXCLUDED.log_leaf),
     c AS (
       INSERT INTO submission_countersignatures (submission_id, step, officer_id, certificate_serial, decision, reason, signing_time, countersignature_sha256, recorded_at, log_index)
       SELECT id, $8, $9, $10, $11, $22, $12, $13, $7, $14 FROM u RETURNING submission_id)
     INSERT INTO submission_transitions (submission_id, seq, status, kind, actor, at, log_index, leaf_hash, receipt_header, receipt, detail)
     SELECT submission_id, $15, $2, $16, $17, $7, $14, $18, $19, $20, $21 FROM c`,
    params,
  );
}

export interface PageFilter {
  status?: SubmissionStatus;
  /** Only this applicant's (an enterprise's own list). */
  applicant?: string;
  /** Officers: division prefix their jurisdiction covers ('' for all). */
  divisionPrefix?: string;
  /** Officers asking for `pending`: only steps of this role (steps open to any jurisdiction included). */
  actionableBy?: { role: string; officerId: string };
  /** Keyset cursor: rows after this `n`. */
  after?: number;
  limit: number;
  /**
   * With `applicant`: true, only what the applicant itself signed (every live submission, and
   * its own rejected ones); false, only rejected submissions naming it that it did not sign.
   */
  signedByApplicant?: boolean;
}

interface SummaryRow {
  id: string;
  n: number;
  status: SubmissionStatus;
  applicant: string;
  application_id: string;
  document_type: string | null;
  submitted_at: Date | string;
  updated_at: Date | string;
  next_step: number | null;
  next_role: string | null;
  document_sha256: string;
  envelope_sha256: string;
  approval: string;
  policy_id: string | null;
  policy_version: number | null;
  policy_sha256: string | null;
  refusal_reason: string | null;
}

/** What a list row's state is checked against the log with (no envelope bytes are read for a list). */
export interface PageRowBinding {
  documentSha256: string;
  envelopeSha256: string;
  approval: ApprovalStep[];
  policy: { id: string; version: number; sha256: string } | null;
}

/**
 * A page of submissions in submission order. Officers see their jurisdiction's; with
 * `actionableBy`, only pending steps their role signs (and, where a step is open to any
 * jurisdiction, those too), leaving out what they already countersigned.
 */
export async function selectPage(
  q: Queryable,
  f: PageFilter,
): Promise<Array<SubmissionSummary & { cursor: number; bound: PageRowBinding }>> {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.status !== undefined) add('s.status = ?', f.status);
  if (f.applicant !== undefined) add('s.applicant = ?', f.applicant);
  if (f.after !== undefined) add('s.n > ?', f.after);
  if (f.signedByApplicant !== undefined) {
    // A live submission is always the applicant's own (its signer is bound to the applicant).
    const own = 'EXISTS (SELECT 1 FROM certificates c WHERE c.serial = s.signer_serial AND c.uscc = s.applicant)';
    where.push(f.signedByApplicant ? `(s.status <> 'rejected' OR ${own})` : `(s.status = 'rejected' AND NOT ${own})`);
  }
  if (f.actionableBy !== undefined) {
    add('s.next_role = ?', f.actionableBy.role);
    params.push(`${f.divisionPrefix ?? ''}%`);
    where.push(`(s.division LIKE $${params.length} OR s.next_any_jurisdiction)`);
    add(
      'NOT EXISTS (SELECT 1 FROM submission_countersignatures c WHERE c.submission_id = s.id AND c.officer_id = ?)',
      f.actionableBy.officerId,
    );
  } else if (f.divisionPrefix !== undefined) {
    add('s.division LIKE ?', `${f.divisionPrefix}%`);
  }
  params.push(f.limit);
  const { rows } = await q.query<SummaryRow>(
    `SELECT s.id, s.n, s.status, s.applicant, s.application_id, s.document_type, s.submitted_at, s.updated_at, s.next_step, s.next_role,
            s.document_sha256, s.envelope_sha256, s.approval, s.policy_id, s.policy_version, s.policy_sha256,
            CASE WHEN s.status = 'refused' THEN
              (SELECT c.reason FROM submission_countersignatures c WHERE c.submission_id = s.id AND c.decision = 'refuse' LIMIT 1)
            END AS refusal_reason
       FROM submissions s ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY s.n LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    applicant: r.applicant,
    applicationId: r.application_id,
    type: r.document_type,
    submittedAt: iso(r.submitted_at),
    updatedAt: iso(r.updated_at),
    nextStep: r.next_step === null ? null : { index: r.next_step, role: r.next_role ?? '' },
    ...(r.refusal_reason === null ? {} : { refusalReason: r.refusal_reason }),
    cursor: Number(r.n),
    bound: {
      documentSha256: r.document_sha256,
      envelopeSha256: r.envelope_sha256,
      approval: JSON.parse(r.approval) as ApprovalStep[],
      policy: r.policy_id === null ? null : { id: r.policy_id, version: r.policy_version!, sha256: r.policy_sha256! },
    },
  }));
}

/** Whether `sha256` (hex) is the certificate this CA issued with that serial. */
export async function isOwnCertificate(q: Queryable, serial: string, sha256: string): Promise<boolean> {
  const { rows } = await q.query<{ der: Buffer | Uint8Array }>('SELECT der FROM certificates WHERE serial = $1', [serial]);
  return rows[0] !== undefined && sha256Hex(rows[0].der) === sha256;
}

export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** An open (pending) application of `applicant`, locked for closing. */
export interface OpenApplication {
  id: string;
  version: number;
  documentSha256: string;
}

/** The applicant's pending applications, in submission order, locked FOR UPDATE. */
export async function lockOpenApplications(q: Queryable, applicant: string): Promise<OpenApplication[]> {
  const { rows } = await q.query<{ id: string; version: number; document_sha256: string }>(
    `SELECT id, version, document_sha256 FROM submissions WHERE applicant = $1 AND status = 'pending' ORDER BY n FOR UPDATE`,
    [applicant],
  );
  return rows.map((r) => ({ id: r.id, version: r.version, documentSha256: r.document_sha256 }));
}

/** Closes a pending application as rejected, with its transition (seq = the version read under lock). */
export async function recordClosing(
  q: Queryable,
  c: { id: string; seq: number; code: string; reason: string },
  t: NewTransition,
): Promise<void> {
  const receipt = splitReceipt(t.receipt);
  const params: unknown[] = [
    c.id,
    c.code,
    c.reason,
    t.at,
    c.seq,
    t.kind,
    t.actor,
    t.logIndex,
    t.leafHash,
    receipt.headerSha256,
    receipt.rest,
    JSON.stringify(t.detail),
  ];
  await q.query(
    `WITH ${headersCte([receipt], params)},
     u AS (
       UPDATE submissions SET status = 'rejected', rejection_code = $2, rejection_reason = $3, next_step = NULL, next_role = NULL,
              next_any_jurisdiction = NULL, updated_at = $4, version = version + 1
        WHERE id = $1 AND status = 'pending' AND version = $5 RETURNING id)
     INSERT INTO submission_transitions (submission_id, seq, status, kind, actor, at, log_index, leaf_hash, receipt_header, receipt, detail)
     SELECT id, $5, 'rejected', $6, $7, $4, $8, $9, $10, $11, $12 FROM u`,
    params,
  );
}
