import type { Tx } from '../db/types.js';

/**
 * The audit log as the rest of Chancery sees it. Domain parts append the
 * entry for a decision inside the same transaction as the decision itself.
 */

/** Every kind of decision that is logged. */
export type AuditKind =
  | 'ca.initialized'
  | 'policy.loaded'
  | 'enterprise.registered'
  | 'enterprise.revoked'
  | 'enterprise.deregistered'
  | 'officer.registered'
  | 'certificate.issued'
  | 'certificate.revoked'
  | 'submission.rejected'
  | 'submission.accepted'
  | 'submission.pending'
  | 'submission.countersigned'
  | 'submission.approved'
  | 'submission.refused'
  | 'auth.denied'
  | 'tsa.token'
  | 'checkpoint.timestamped'
  | 'auth.denied.summary';

/** JSON that canonicalizes (RFC 8785) without loss: integers only, no floats, no undefined. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface NewEntry {
  kind: AuditKind;
  /** Who decided: `system`, `admin:<cert serial hex>`, `enterprise:<USCC>`, `officer:<id>`, `anonymous`. */
  actor: string;
  /** What it is about; entries with the same subject form their own chain (`subjectPrev`). */
  subject: string;
  data: { [key: string]: JsonValue };
}

export interface AppendedEntry {
  /** 0-based index in the log (the Merkle leaf index). */
  index: number;
  /** RFC 6962 leaf hash, SHA-256(0x00 ‖ entry bytes), lowercase hex; the next entry's `prev`. */
  leafHash: string;
  /** The entry's `time` (RFC 3339, UTC). */
  time: string;
}

export type Append = (entry: NewEntry) => Promise<AppendedEntry>;

export interface AuditLog {
  /**
   * Runs `work` in one database transaction together with the entries it appends, and resolves
   * with its value only after that transaction has committed: an entry is acknowledged only once
   * durable, and the caller's state change and its entries commit together or not at all.
   * `work` MAY run more than once (conflict retries) and MUST NOT have effects outside `tx`.
   * Concurrent calls MAY share one commit (group commit).
   *
   * What group commit means for `work` (src/audit/sequencer.ts): it runs inside a SAVEPOINT of a
   * transaction shared with other callers, one caller after another, with the log's tree head
   * locked; if it throws, only its own statements and entries are rolled back and only its
   * promise rejects. So `work` SHOULD be short, MUST NOT call `record()` again (ERR_AUDIT_MISUSE)
   * nor `db.transaction()` (on PGlite's single connection that waits forever), and MUST NOT use
   * `tx` or `append` after it settles (ERR_AUDIT_MISUSE). A 40001/40P01 in `work` re-runs it
   * (and 23505 with `retryOnUniqueViolation`). ERR_AUDIT_OVERLOADED (503) is pushback when too
   * many calls wait; ERR_AUDIT_ENTRY_INVALID / ERR_AUDIT_ENTRY_TOO_LARGE reject one entry.
   */
  record<T>(work: (tx: Tx, append: Append) => Promise<T>, options?: { retryOnUniqueViolation?: boolean }): Promise<T>;
}
