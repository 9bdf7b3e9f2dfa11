import { Counter } from 'prom-client';
import { sha256Hex } from '../crypto/digest.js';
import type { Queryable } from '../db/types.js';
import type { Logger } from '../log.js';
import { canonicalJson } from './canonical.js';
import { decodeEntry, type Entry } from './entry.js';
import { AuditError } from './errors.js';
import { hashLeaf } from './merkle.js';
import type { JsonValue } from './types.js';

/**
 * The log is the source of truth for decision-bearing rows. Each such row (a submission, a
 * certificate, an enterprise, an officer) carries the index and leaf hash of the latest log entry
 * about it (`log_index`, `log_leaf`, migrations/0013), and that entry records what the row must
 * say. Before a part acts on or serves such a row it asks `StateBinding.check`: the subject's
 * latest entry is read with one indexed query (its bytes only when not cached by leaf hash), and
 * the row must be bound to exactly that entry and agree with it field by field.
 *
 * A row that does not is never "fixed": it is reported (error log line with the row and the
 * index, `chancery_state_divergences_total`) and the caller refuses it with
 * ERR_STATE_DIVERGES_FROM_LOG — except where the log's own answer is the safe one (a certificate
 * whose latest entry is `certificate.revoked` is revoked, whatever its row says).
 *
 * What an entry binds, per kind (fields an entry does not carry are not compared: entries written
 * before a field existed):
 * - submission (`submission.*`): status, the next step (0 when it became pending, step + 1 after
 *   a countersignature), applicant, documentSha256, the envelope as submitted
 *   (`envelopeSha256` of the first entry, `originalEnvelopeSha256` later), the current envelope
 *   (`currentEnvelopeSha256`), the approval steps (`approvalSha256`: SHA-256 of their RFC 8785
 *   JSON) and the policy.
 * - certificate: `certificate.issued` ⇒ not revoked; `certificate.revoked` ⇒ revoked at
 *   `revokedAt` for `reason`.
 * - enterprise: `enterprise.registered` ⇒ active under its registered name; `.revoked` /
 *   `.deregistered` ⇒ that status, with its reason.
 * - officer: `officer.registered` ⇒ name, authority, role and jurisdiction.
 */

export type BoundKind = 'submission' | 'certificate' | 'enterprise' | 'officer';

export interface SubmissionState {
  id: string;
  status: string;
  nextStep: number | null;
  applicant: string;
  documentSha256: string;
  envelopeSha256: string;
  /** SHA-256 of the envelope served now; undefined where the bytes were not read (a list). */
  currentEnvelopeSha256: string | undefined;
  approvalSha256: string;
  policy: { id: string; version: number; sha256: string } | null;
}

export interface CertificateState {
  serial: string;
  revokedAt: Date | null;
  /** RFC 5280 reason name (src/ca/reasons.ts), null when not revoked. */
  reason: string | null;
}

export interface EnterpriseState {
  uscc: string;
  status: string;
  reason: string | null;
  /** The registered name (compared with `enterprise.registered`), where the row was read with it. */
  name?: string;
}

export interface OfficerState {
  id: string;
  name: string;
  authority: string;
  role: string;
  jurisdiction: string;
}

export type BoundRow = (
  | { kind: 'submission'; state: SubmissionState }
  | { kind: 'certificate'; state: CertificateState }
  | { kind: 'enterprise'; state: EnterpriseState }
  | { kind: 'officer'; state: OfficerState }
) & {
  /**
   * The row may exist without any entry about its subject (the CA hierarchy's own certificates,
   * described by `ca.initialized`): agreement then means unbound, and it still binds once an
   * entry about it exists.
   */
  unlogged?: boolean;
};

/** A row that disagrees with the log, with what the log says. */
export interface Divergence {
  kind: BoundKind;
  subject: string;
  /** What disagrees: `binding` (the row names another entry than its subject's latest), or a field. */
  field: string;
  row: unknown;
  log: unknown;
  /** The subject's latest entry (undefined: the log has no entry about it at all). */
  entry: Entry | undefined;
  /** Its index, or null. */
  logIndex: number | null;
}

/** SHA-256 (hex) of the RFC 8785 JSON of a submission's approval steps: what its entries bind. */
export function approvalDigest(approval: unknown): string {
  return sha256Hex(canonicalJson(approval));
}

export function subjectOfRow(row: BoundRow): string {
  switch (row.kind) {
    case 'submission':
      return `submission:${row.state.id}`;
    case 'certificate':
      return `certificate:${row.state.serial}`;
    case 'enterprise':
      return `enterprise:${row.state.uscc}`;
    case 'officer':
      return `officer:${row.state.id}`;
  }
}

export interface StateBindingOptions {
  logger?: Logger | undefined;
  /**
   * False: every check passes without reading anything (bindings are still written). Only for
   * measuring what the checks cost (`npm run bench -- binding`); never for serving.
   */
  enabled?: boolean;
  /** Decoded entries remembered by leaf hash (LRU), default 10,000. */
  cacheSize?: number;
}

export class StateBinding {
  /** Rows found disagreeing with the log, by kind and field; registered by the composition root. */
  readonly divergences = new Counter({
    name: 'chancery_state_divergences_total',
    help: 'Decision-bearing rows found disagreeing with the audit log entry that made them, by kind and field',
    labelNames: ['kind', 'field'],
    registers: [],
  });
  readonly #logger: Logger | undefined;
  readonly #cacheSize: number;
  readonly #entries = new Map<string, Entry>();
  /** The latest leaf hash last seen per subject: its entry's bytes are not read again while it stays the latest. */
  readonly #leafOf = new Map<string, string>();

  readonly #enabled: boolean;

  constructor(options: StateBindingOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.#logger = options.logger;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /**
   * Compares rows with their subjects' latest entries (one query for all of them): one result per
   * row, undefined where it agrees. Each divergence is logged and counted here; the caller decides
   * what to refuse.
   */
  async check(q: Queryable, rows: readonly BoundRow[]): Promise<Array<Divergence | undefined>> {
    return this.#check(q, rows, true);
  }

  /**
   * Reads rows with `read` and checks them; when one disagrees, reads and checks once more before
   * reporting: a transition that committed between the read of the rows and the read of their
   * entries (a countersignature, a revocation) is not a divergence. The value and the divergences
   * of the last read.
   */
  async recheck<T>(
    q: Queryable,
    read: () => Promise<T>,
    rowsOf: (value: T) => BoundRow[],
  ): Promise<{ value: T; divergences: Array<Divergence | undefined> }> {
    const value = await read();
    const divergences = await this.#check(q, rowsOf(value), false);
    if (divergences.every((d) => d === undefined)) return { value, divergences };
    const again = await read();
    return { value: again, divergences: await this.#check(q, rowsOf(again), true) };
  }

  /** `recheck`, throwing ERR_STATE_DIVERGES_FROM_LOG for the first row that still disagrees. */
  async verified<T>(q: Queryable, read: () => Promise<T>, rowsOf: (value: T) => BoundRow[]): Promise<T> {
    const { value, divergences } = await this.recheck(q, read, rowsOf);
    const first = divergences.find((d) => d !== undefined);
    if (first !== undefined) throw divergenceError(first);
    return value;
  }

  async #check(q: Queryable, rows: readonly BoundRow[], report: boolean): Promise<Array<Divergence | undefined>> {
    if (rows.length === 0) return [];
    if (!this.#enabled) return rows.map(() => undefined);
    const subjects = rows.map(subjectOfRow);
    // The entry bytes come back only for leaf hashes not cached (the cache is keyed by leaf hash).
    const known = subjects.map((subject) => {
      const leaf = this.#leafOf.get(subject);
      return leaf !== undefined && this.#entries.has(leaf) ? Buffer.from(leaf, 'hex') : null;
    });
    const { rows: latest } = await q.query<Latest & { i: number | string }>(
      `SELECT u.i, b.log_index, b.log_leaf, e.seq, e.leaf_hash, CASE WHEN e.leaf_hash = u.known THEN NULL ELSE e.entry END AS entry
         FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS u (subject, known, i)
         LEFT JOIN log_bindings b ON b.subject = u.subject
         LEFT JOIN LATERAL (SELECT seq, leaf_hash, entry FROM audit_entries WHERE subject = u.subject ORDER BY seq DESC LIMIT 1) e ON true
        ORDER BY u.i`,
      [subjects, known],
    );
    return rows.map((row, i) => {
      const found = latest[i]!;
      const divergence = this.#compare(row, subjects[i]!, found);
      if (divergence !== undefined && report) this.#report(divergence, row);
      return divergence;
    });
  }

  /** `check`, throwing ERR_STATE_DIVERGES_FROM_LOG for the first row that disagrees. */
  async assert(q: Queryable, rows: readonly BoundRow[]): Promise<void> {
    const first = (await this.check(q, rows)).find((d) => d !== undefined);
    if (first !== undefined) throw divergenceError(first);
  }

  /**
   * The rows a new submission is decided on — its applicant's enterprise row, its signer's
   * certificate row — read together with their bindings and latest entries in one statement
   * (the submission hot path), checked as `recheck` does: read again before a divergence is
   * reported. `reasonName` maps a stored RFC 5280 reason code to its name.
   */
  async checkStanding(
    q: Queryable,
    usccs: readonly string[],
    serials: readonly string[],
    reasonName: (code: number) => string,
  ): Promise<Divergence[]> {
    if (usccs.length === 0 && serials.length === 0) return [];
    const first = await this.#standing(q, usccs, serials, reasonName, false);
    if (first.length === 0) return first;
    return this.#standing(q, usccs, serials, reasonName, true);
  }

  async #standing(
    q: Queryable,
    usccs: readonly string[],
    serials: readonly string[],
    reasonName: (code: number) => string,
    report: boolean,
  ): Promise<Divergence[]> {
    if (!this.#enabled) return [];
    const subjects = [...usccs.map((u) => `enterprise:${u}`), ...serials.map((s) => `certificate:${s}`)];
    const known = subjects.map((subject) => {
      const leaf = this.#leafOf.get(subject);
      return leaf !== undefined && this.#entries.has(leaf) ? Buffer.from(leaf, 'hex') : null;
    });
    const { rows } = await q.query<
      Latest & {
        subject: string;
        kind: 'enterprise' | 'certificate';
        key: string;
        status: string | null;
        reason: string | null;
        name: string | null;
        revoked_at: Date | string | null;
        revocation_reason: number | null;
      }
    >(
      `WITH r AS (
         SELECT 'enterprise:' || uscc AS subject, 'enterprise' AS kind, uscc AS key, status, status_reason AS reason, name,
                NULL::timestamptz AS revoked_at, NULL::smallint AS revocation_reason
           FROM enterprises WHERE uscc = ANY($1::text[])
         UNION ALL
         SELECT 'certificate:' || serial, 'certificate', serial, NULL, NULL, NULL, revoked_at, revocation_reason
           FROM certificates WHERE serial = ANY($2::text[]))
       SELECT r.*, b.log_index, b.log_leaf, e.seq, e.leaf_hash, CASE WHEN e.leaf_hash = k.known THEN NULL ELSE e.entry END AS entry
         FROM r
         JOIN unnest($3::text[], $4::bytea[]) AS k (subject, known) ON k.subject = r.subject
         LEFT JOIN log_bindings b ON b.subject = r.subject
         LEFT JOIN LATERAL (SELECT seq, leaf_hash, entry FROM audit_entries WHERE subject = r.subject ORDER BY seq DESC LIMIT 1) e ON true`,
      [usccs, serials, subjects, known],
    );
    const out: Divergence[] = [];
    for (const r of rows) {
      const row: BoundRow =
        r.kind === 'enterprise'
          ? { kind: 'enterprise', state: { uscc: r.key, status: r.status!, reason: r.reason, name: r.name! } }
          : {
              kind: 'certificate',
              state: {
                serial: r.key,
                revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
                reason: r.revocation_reason === null ? null : reasonName(r.revocation_reason),
              },
            };
      const divergence = this.#compare(row, r.subject, r);
      if (divergence === undefined) continue;
      if (report) this.#report(divergence, row);
      out.push(divergence);
    }
    return out;
  }

  /** False only when measuring what the checks cost (StateBindingOptions.enabled). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The leaf hash whose entry is cached as `subject`'s latest: a caller's own query may leave its bytes out. */
  knownLeaf(subject: string): Buffer | null {
    const leaf = this.#leafOf.get(subject);
    return leaf !== undefined && this.#entries.has(leaf) ? Buffer.from(leaf, 'hex') : null;
  }

  /**
   * Compares a row with the binding and latest entry a caller read in the same statement as the
   * row (`latestJoin`): the hot paths' check, without a round trip of its own.
   */
  compareLatest(row: BoundRow, latest: Latest, report: boolean): Divergence | undefined {
    if (!this.#enabled) return undefined;
    const subject = subjectOfRow(row);
    const divergence = this.#compare(row, subject, latest);
    if (divergence !== undefined && report) this.#report(divergence, row);
    return divergence;
  }

  /** Reports a divergence found by a caller's own comparison with the log (e.g. the CRL's). */
  report(divergence: Divergence, row: unknown): void {
    this.#report(divergence, row);
  }

  /** A decoded entry (cached by leaf hash), after checking its bytes hash to the leaf hash stored with it. */
  decode(leafHash: Buffer, bytes: Buffer): Entry | undefined {
    const key = leafHash.toString('hex');
    const known = this.#entries.get(key);
    if (known !== undefined) return known;
    if (!hashLeaf(bytes).equals(leafHash)) return undefined;
    const decoded = decodeEntry(bytes);
    if (!decoded.ok) return undefined;
    this.#entries.set(key, decoded.entry);
    if (this.#entries.size > this.#cacheSize) this.#entries.delete(this.#entries.keys().next().value!);
    return decoded.entry;
  }

  #compare(row: BoundRow, subject: string, found: Latest): Divergence | undefined {
    const base = { kind: row.kind, subject };
    const bound = found.log_index === null ? null : `${Number(found.log_index)}:${found.log_leaf!.toString('hex')}`;
    if (found.seq === null || found.leaf_hash === null) {
      if (row.unlogged === true && bound === null && (row.kind !== 'certificate' || row.state.revokedAt === null)) return undefined;
      return { ...base, field: 'binding', row: bound, log: null, entry: undefined, logIndex: null };
    }
    const logIndex = Number(found.seq);
    const key = found.leaf_hash.toString('hex');
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      // Touch: recently used entries stay.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else if (found.entry !== null) {
      entry = this.decode(found.leaf_hash, found.entry);
    }
    if (entry !== undefined) {
      this.#leafOf.delete(subject);
      this.#leafOf.set(subject, key);
      if (this.#leafOf.size > this.#cacheSize) this.#leafOf.delete(this.#leafOf.keys().next().value!);
    }
    if (entry === undefined || entry.seq !== logIndex || entry.subject !== subject) {
      return { ...base, field: 'entry', row: bound, log: `${logIndex}:${key}`, entry: undefined, logIndex };
    }
    if (bound !== `${logIndex}:${key}`) return { ...base, field: 'binding', row: bound, log: `${logIndex}:${key}`, entry, logIndex };
    const mismatch = expectedOf(row, entry);
    if (mismatch === undefined) return undefined;
    return { ...base, field: mismatch.field, row: mismatch.row, log: mismatch.log, entry, logIndex };
  }

  #report(d: Divergence, row: unknown): void {
    this.divergences.inc({ kind: d.kind, field: d.field });
    this.#logger?.error(
      { subject: d.subject, logIndex: d.logIndex, field: d.field, rowValue: d.row, logValue: d.log, entryKind: d.entry?.kind, row },
      `state diverges from the log: ${d.subject} ${d.field} is ${JSON.stringify(d.row)} in the database, log entry ${d.logIndex ?? '(none)'} says ${JSON.stringify(d.log)}`,
    );
  }
}

/** The coded refusal of a row that disagrees with the log (409). */
export function divergenceError(d: Divergence): AuditError {
  return new AuditError(
    'ERR_STATE_DIVERGES_FROM_LOG',
    `the stored state of ${d.subject} disagrees with the audit log (${d.field}, log index ${d.logIndex ?? 'none'}): refused until an operator resolves it`,
    { detail: { subject: d.subject, field: d.field, logIndex: d.logIndex } },
  );
}

/** What the check reads per subject: its binding and its latest entry (`latestJoin`'s columns). */
export interface Latest {
  log_index: number | string | null;
  log_leaf: Buffer | null;
  seq: number | string | null;
  leaf_hash: Buffer | null;
  entry: Buffer | null;
}

type Mismatch = { field: string; row: unknown; log: unknown } | undefined;

function expectedOf(row: BoundRow, entry: Entry): Mismatch {
  switch (row.kind) {
    case 'submission':
      return submissionMismatch(row.state, entry);
    case 'certificate':
      return certificateMismatch(row.state, entry);
    case 'enterprise':
      return enterpriseMismatch(row.state, entry);
    case 'officer':
      return officerMismatch(row.state, entry);
  }
}

function differ(field: string, row: unknown, log: unknown): Mismatch {
  return row === log ? undefined : { field, row, log };
}

function str(data: { [key: string]: JsonValue }, name: string): string | undefined {
  const v = data[name];
  return typeof v === 'string' ? v : undefined;
}

function submissionMismatch(s: SubmissionState, entry: Entry): Mismatch {
  const d = entry.data;
  if (!entry.kind.startsWith('submission.')) return { field: 'kind', row: 'submission', log: entry.kind };
  const step = typeof d['step'] === 'number' ? d['step'] : undefined;
  const status = str(d, 'status');
  const nextStep = status !== 'pending' ? null : typeof d['nextStep'] === 'number' ? d['nextStep'] : step !== undefined ? step + 1 : 0;
  const original = str(d, 'originalEnvelopeSha256') ?? (step === undefined ? str(d, 'envelopeSha256') : undefined);
  const current = str(d, 'currentEnvelopeSha256') ?? (step !== undefined ? str(d, 'envelopeSha256') : undefined);
  return (
    differ('id', s.id, str(d, 'submission') ?? s.id) ??
    differ('status', s.status, status) ??
    differ('nextStep', s.nextStep, nextStep) ??
    (str(d, 'applicant') === undefined ? undefined : differ('applicant', s.applicant, str(d, 'applicant'))) ??
    (str(d, 'documentSha256') === undefined ? undefined : differ('documentSha256', s.documentSha256, str(d, 'documentSha256'))) ??
    (original === undefined ? undefined : differ('envelopeSha256', s.envelopeSha256, original)) ??
    (current === undefined || s.currentEnvelopeSha256 === undefined
      ? undefined
      : differ('currentEnvelopeSha256', s.currentEnvelopeSha256, current)) ??
    (str(d, 'approvalSha256') === undefined ? undefined : differ('approval', s.approvalSha256, str(d, 'approvalSha256'))) ??
    (!('policy' in d) ? undefined : differ('policy', policyText(s.policy), policyText(d['policy'])))
  );
}

function policyText(p: unknown): string | null {
  if (p === null || typeof p !== 'object') return null;
  const o = p as Record<string, unknown>;
  return `${String(o['id'])}@${String(o['version'])}:${String(o['sha256'])}`;
}

function certificateMismatch(c: CertificateState, entry: Entry): Mismatch {
  const d = entry.data;
  const serial = differ('serial', c.serial, str(d, 'serial') ?? c.serial);
  if (serial !== undefined) return serial;
  const revokedAt = c.revokedAt === null ? null : c.revokedAt.toISOString();
  switch (entry.kind) {
    case 'certificate.issued':
      return differ('revokedAt', revokedAt, null);
    case 'certificate.revoked':
      return differ('revokedAt', revokedAt, str(d, 'revokedAt') ?? null) ?? differ('reason', c.reason, str(d, 'reason') ?? null);
    default:
      return { field: 'kind', row: 'certificate', log: entry.kind };
  }
}

const ENTERPRISE_STATUS_OF: Record<string, string> = {
  'enterprise.registered': 'active',
  'enterprise.revoked': 'revoked',
  'enterprise.deregistered': 'deregistered',
};

function enterpriseMismatch(e: EnterpriseState, entry: Entry): Mismatch {
  const status = ENTERPRISE_STATUS_OF[entry.kind];
  if (status === undefined) return { field: 'kind', row: 'enterprise', log: entry.kind };
  return (
    differ('uscc', e.uscc, str(entry.data, 'uscc') ?? e.uscc) ??
    differ('status', e.status, status) ??
    (e.name === undefined || str(entry.data, 'name') === undefined ? undefined : differ('name', e.name, str(entry.data, 'name'))) ??
    (status === 'active' ? undefined : differ('reason', e.reason, str(entry.data, 'reason') ?? e.reason))
  );
}

function officerMismatch(o: OfficerState, entry: Entry): Mismatch {
  if (entry.kind !== 'officer.registered') return { field: 'kind', row: 'officer', log: entry.kind };
  const d = entry.data;
  return (
    differ('id', o.id, str(d, 'id')) ??
    differ('name', o.name, str(d, 'name')) ??
    differ('authority', o.authority, str(d, 'authority')) ??
    differ('role', o.role, str(d, 'role')) ??
    differ('jurisdiction', o.jurisdiction, str(d, 'jurisdiction'))
  );
}

/**
 * Binds rows to the entries just appended about them, in the same transaction (after `append`).
 * `subject` is the entry's subject (`submission:<id>`, `certificate:<serial>`, …).
 */
export async function bindRows(
  q: Queryable,
  items: ReadonlyArray<{ subject: string; entry: { index: number; leafHash: string } }>,
): Promise<void> {
  if (items.length === 0) return;
  await q.query(
    `INSERT INTO log_bindings (subject, log_index, log_leaf)
     SELECT v.s, v.i, decode(v.h, 'hex') FROM unnest($1::text[], $2::bigint[], $3::text[]) AS v (s, i, h)
     ON CONFLICT (subject) DO UPDATE SET log_index = EXCLUDED.log_index, log_leaf = EXCLUDED.log_leaf`,
    [items.map((i) => i.subject), items.map((i) => i.entry.index), items.map((i) => i.entry.leafHash)],
  );
}

/** A certificate a `certificate.revoked` entry names, with its row as stored now. */
export interface LoggedRevocation {
  serial: string;
  row: { revokedAt: Date | null; reason: number | null };
  entry: Entry;
  logIndex: number;
}

/**
 * Every certificate of `issuer` still valid at `at` that the log says is revoked (a revocation is
 * final), whatever its row says: what a CRL lists. One read over the revocation entries (partial
 * index, migrations/0013) and their certificates' rows.
 */
export async function revocationsInLog(
  q: Queryable,
  binding: StateBinding,
  issuer: string,
  at: Date,
  partition?: number,
): Promise<LoggedRevocation[]> {
  const { rows } = await q.query<{
    serial: string;
    revoked_at: Date | string | null;
    revocation_reason: number | null;
    seq: number | string;
    leaf_hash: Buffer;
    entry: Buffer;
  }>(
    `SELECT c.serial, c.revoked_at, c.revocation_reason, e.seq, e.leaf_hash, e.entry
       FROM audit_entries e JOIN certificates c ON c.serial = substring(e.subject FROM 13)
      WHERE e.kind = 'certificate.revoked' AND e.subject LIKE 'certificate:%' AND c.issuer = $1 AND c.not_after > $2
        ${partition === undefined ? '' : 'AND c.crl_partition = $3'}`,
    partition === undefined ? [issuer, at.toISOString()] : [issuer, at.toISOString(), partition],
  );
  const out: LoggedRevocation[] = [];
  for (const r of rows) {
    const entry = binding.decode(r.leaf_hash, r.entry);
    if (entry === undefined || entry.subject !== `certificate:${r.serial}`) continue; // a log that does not verify: `audit verify` names it
    out.push({
      serial: r.serial,
      row: {
        revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
        reason: r.revocation_reason,
      },
      entry,
      logIndex: Number(r.seq),
    });
  }
  return out;
}

/**
 * The first enterprise an `enterprise.revoked` entry names, with a USCC after `range.after` and up
 * to `range.through` (unbounded when absent), whose row is not revoked (or is missing): a page of
 * the revoked-enterprise list covering that range would leave it out. Undefined when the page is
 * complete. The range keeps the cost to the page's own share of the revocations (the partial
 * index on (kind, subject)), not all 3.75 million of them.
 */
export async function enterpriseRevocationMissing(
  q: Queryable,
  range: { after?: string; through?: string } = {},
): Promise<{ uscc: string; status: string | null; logIndex: number } | undefined> {
  const params: string[] = [`enterprise:${range.after ?? ''}`];
  if (range.through !== undefined) params.push(`enterprise:${range.through}`);
  const { rows } = await q.query<{ uscc: string; status: string | null; seq: number | string }>(
    `SELECT substring(e.subject FROM 12) AS uscc, r.status, e.seq
       FROM audit_entries e LEFT JOIN enterprises r ON r.uscc = substring(e.subject FROM 12)
      WHERE e.kind = 'enterprise.revoked' AND e.subject LIKE 'enterprise:%' AND e.subject > $1
        ${range.through === undefined ? '' : 'AND e.subject <= $2'}
        AND (r.uscc IS NULL OR r.status <> 'revoked')
      ORDER BY e.seq LIMIT 1`,
    params,
  );
  const r = rows[0];
  return r === undefined ? undefined : { uscc: r.uscc, status: r.status, logIndex: Number(r.seq) };
}

/**
 * The joins and columns that read a subject's binding and latest entry in the caller's own query:
 * `subject` is an SQL expression of the subject, `known` the parameter holding `knownLeaf()` (the
 * entry's bytes are left out when it is the latest). Columns: log_index, log_leaf, seq,
 * leaf_hash, entry.
 */
export function latestJoin(subject: string, known: string): { columns: string; joins: string } {
  return {
    columns: `lb.log_index, lb.log_leaf, le.seq, le.leaf_hash, CASE WHEN le.leaf_hash = ${known}::bytea THEN NULL ELSE le.entry END AS entry`,
    joins: `LEFT JOIN log_bindings lb ON lb.subject = ${subject}
     LEFT JOIN LATERAL (SELECT seq, leaf_hash, entry FROM audit_entries WHERE subject = ${subject} ORDER BY seq DESC LIMIT 1) le ON true`,
  };
}
