import { ChanceryError } from '../errors.js';

/** Faults of the audit log, its checkpoints, proofs and the offline auditor. */
export type AuditErrorCode =
  /** An entry's fields are not what the log accepts (non-integer number, unknown kind, …). */
  | 'ERR_AUDIT_ENTRY_INVALID'
  /** An entry's canonical bytes exceed MAX_ENTRY_BYTES. */
  | 'ERR_AUDIT_ENTRY_TOO_LARGE'
  /** Too many appends are waiting: pushback instead of an unbounded queue. */
  | 'ERR_AUDIT_OVERLOADED'
  /** The log is shutting down and takes no new appends. */
  | 'ERR_AUDIT_CLOSED'
  /** A caller broke the `record()` contract (nested record, tx used after its work settled). */
  | 'ERR_AUDIT_MISUSE'
  /** A malformed or out-of-range index, size or range parameter. */
  | 'ERR_AUDIT_RANGE'
  /** No entry with the given leaf hash. */
  | 'ERR_AUDIT_NOT_FOUND'
  /** No checkpoint has been published yet. */
  | 'ERR_AUDIT_NO_CHECKPOINT'
  /** The database's log is behind or disagrees with a checkpoint signed earlier: refuse to run. */
  | 'ERR_AUDIT_STATE_INCONSISTENT'
  /** The log key's files disagree (log.vkey does not belong to the key in the key store). */
  | 'ERR_AUDIT_KEY_MISMATCH'
  | 'ERR_AUDIT_VKEY_INVALID'
  | 'ERR_AUDIT_NOTE_MALFORMED'
  | 'ERR_AUDIT_NOTE_UNVERIFIED'
  | 'ERR_AUDIT_NOTE_BAD_SIGNATURE'
  | 'ERR_AUDIT_NOTE_AMBIGUOUS_KEY'
  | 'ERR_AUDIT_CHECKPOINT_MALFORMED'
  | 'ERR_AUDIT_CHECKPOINT_ORIGIN'
  | 'ERR_AUDIT_PROOF_INVALID'
  /** The offline auditor found the log (or its copy) does not verify; `detail` has index and fault. */
  | 'ERR_AUDIT_VERIFY_FAILED'
  /** A decision-bearing row disagrees with the log entry that made it (src/audit/binding.ts): refused, never fixed silently. */
  | 'ERR_STATE_DIVERGES_FROM_LOG'
  /** The auditor could not download from the log's HTTP API, or read a downloaded copy. */
  | 'ERR_AUDIT_FETCH_FAILED';

export class AuditError extends ChanceryError<AuditErrorCode> {}
