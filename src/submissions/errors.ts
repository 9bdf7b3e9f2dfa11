import { ChanceryError } from '../errors.js';

/**
 * Faults of the submission workflow. Rejection codes (422)
 * name why an application was rejected; a rejected application still has its record, its audit
 * entry and its receipt. Countersignature refusals name the rule that refused it.
 */
export type SubmissionErrorCode =
  // The request itself.
  /** The body is not an envelope (or not the documented multipart form). */
  | 'ERR_SUBMISSION_MALFORMED'
  /** The envelope's document names no applicant and applicationId that a record could be kept under. */
  | 'ERR_SUBMISSION_UNIDENTIFIED'
  /** A list query with a bad status, cursor or limit. */
  | 'ERR_SUBMISSION_QUERY_INVALID'
  /** No submission with this id (or no receipt with this log index). */
  | 'ERR_SUBMISSION_NOT_FOUND'
  /** An enterprise's token submitted another enterprise's application. */
  | 'ERR_SUBMISSION_NOT_APPLICANT'
  // Rejections (a record, a `submission.rejected` entry and a receipt exist).
  /** The document's `type` names no policy. */
  | 'ERR_SUBMISSION_UNKNOWN_TYPE'
  /** The document is not I-JSON or does not match its policy's schema. */
  | 'ERR_SUBMISSION_DOCUMENT_INVALID'
  /** The envelope is not signed with an enterprise signing certificate (an officer's, say). */
  | 'ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE'
  /** The signer's organizationIdentifier is not NTRCN- + the document's applicant. */
  | 'ERR_SUBMISSION_APPLICANT_MISMATCH'
  /** The applicant is not in the registry. */
  | 'ERR_SUBMISSION_ENTERPRISE_UNKNOWN'
  /** The applicant's status is not one the policy accepts (licence revoked, deregistered). */
  | 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE'
  /** The signer's certificate is revoked. */
  | 'ERR_SUBMISSION_CERTIFICATE_REVOKED'
  /** Any other validation failure; the report says which check. */
  | 'ERR_SUBMISSION_SIGNATURE_INVALID'
  /** A new application already carries countersignatures. */
  | 'ERR_SUBMISSION_PRECOUNTERSIGNED'
  // Countersignatures.
  /** The submission is no longer pending (accepted, approved, refused or rejected). */
  | 'ERR_SUBMISSION_CLOSED'
  /** Another countersignature completed this step first. */
  | 'ERR_SUBMISSION_STEP_TAKEN'
  /** The uploaded envelope is not of the submission's format. */
  | 'ERR_SUBMISSION_FORMAT_MISMATCH'
  /** The uploaded envelope carries another enterprise signature: it is not this submission. */
  | 'ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN'
  /** The uploaded envelope adds no countersignature. */
  | 'ERR_SUBMISSION_COUNTERSIGNATURE_MISSING'
  /** Every countersignature in the upload is already recorded: a replay. */
  | 'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED'
  /** The upload adds more than one countersignature (one step at a time). */
  | 'ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS'
  /** The new countersignature does not validate (bad signature, binding, path). */
  | 'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID'
  /** The countersigner's certificate is revoked. */
  | 'ERR_SUBMISSION_COUNTERSIGNER_REVOKED'
  /** The applicant countersigned its own application. */
  | 'ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT'
  /** The countersigner's certificate is not an officer certificate of this CA. */
  | 'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER'
  /** The logged-in officer is not the one who countersigned. */
  | 'ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER'
  /** The officer's role is not the one the next step needs. */
  | 'ERR_SUBMISSION_WRONG_ROLE'
  /** The officer's jurisdiction does not cover the applicant. */
  | 'ERR_SUBMISSION_OUT_OF_JURISDICTION'
  /** The policy wants distinct officers and this one already signed an earlier step. */
  | 'ERR_SUBMISSION_OFFICER_ALREADY_SIGNED'
  /** The countersignature's decision is missing or not allowed for this step. */
  | 'ERR_SUBMISSION_DECISION_INVALID'
  /** A refusal whose countersignature carries no signed reason. */
  | 'ERR_SUBMISSION_REASON_REQUIRED'
  /** An approval whose countersignature carries a reason (an approval's terms are the policy's). */
  | 'ERR_SUBMISSION_REASON_NOT_ALLOWED'
  // Receipts, checked offline.
  /** A receipt that does not verify (signature, seal certificate, payload, or its log entry). */
  | 'ERR_SUBMISSION_RECEIPT_INVALID'
  /** An evidence container (ASiC-E) that is malformed, unsafe or inconsistent, checked offline. */
  | 'ERR_SUBMISSION_EVIDENCE_INVALID';

export class SubmissionError extends ChanceryError<SubmissionErrorCode> {}
