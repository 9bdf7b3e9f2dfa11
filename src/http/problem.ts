import type { AuditErrorCode } from '../audit/errors.js';
import type { AuthErrorCode } from '../auth/errors.js';
import type { CaErrorCode } from '../ca/errors.js';
import type { CryptoErrorCode } from '../crypto/errors.js';
import type { DbErrorCode } from '../db/errors.js';
import type { DerErrorCode } from '../der/errors.js';
import { SQLSTATE, sqlState } from '../db/types.js';
import { ChanceryError } from '../errors.js';
import type { PolicyErrorCode } from '../policy/errors.js';
import type { RegistryErrorCode } from '../registry/errors.js';
import type { SignErrorCode } from '../sign/errors.js';
import type { SubmissionErrorCode } from '../submissions/errors.js';
import type { TsaErrorCode } from '../tsa/errors.js';
import type { VerifyErrorCode } from '../verify/errors.js';
import { HttpError, type HttpErrorCode } from './errors.js';

/** Codes only the offline auditor raises, on the auditor's own machine: they never reach HTTP. */
type AuditorOnlyCode = 'ERR_AUDIT_FETCH_FAILED' | 'ERR_AUDIT_VERIFY_FAILED';

/** Every code a request can be answered with. A part that adds a code to its union adds it here. */
export type ProblemCode =
  | DbErrorCode
  | DerErrorCode
  | HttpErrorCode
  | CryptoErrorCode
  | RegistryErrorCode
  | CaErrorCode
  | AuthErrorCode
  | VerifyErrorCode
  | PolicyErrorCode
  | SignErrorCode
  | Exclude<AuditErrorCode, AuditorOnlyCode>
  | SubmissionErrorCode
  | TsaErrorCode;

/**
 * The one table from error code to HTTP status. Adding a code to a part's union makes the
 * compiler demand its status here. 5xx is only for faults of the server itself.
 */
export const STATUS_BY_CODE: Record<ProblemCode, number> = {
  ERR_DB_UNREACHABLE: 503,
  ERR_DB_LOCKED: 503,
  ERR_DB_MIGRATION_CHANGED: 500,
  ERR_DB_MIGRATION_FAILED: 500,
  ERR_DB_MIGRATION_UNKNOWN: 500,
  ERR_DB_RETRIES_EXHAUSTED: 503,
  ERR_HTTP_MALFORMED_JSON: 400,
  ERR_HTTP_JSON_TOO_DEEP: 400,
  ERR_HTTP_BODY_TOO_LARGE: 413,
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_HTTP_NOT_FOUND: 404,
  ERR_HTTP_METHOD_NOT_ALLOWED: 405,
  ERR_HTTP_BAD_REQUEST: 400,
  ERR_HTTP_NOT_READY: 503,
  ERR_HTTP_OVERLOADED: 503,
  ERR_HTTP_RATE_LIMITED: 429,
  ERR_HTTP_BODY_TIMEOUT: 408,
  ERR_HTTP_INTERNAL: 500,
  ERR_CRYPTO_KEY_INVALID: 400,
  ERR_CRYPTO_KEY_UNSUPPORTED: 400,
  ERR_CRYPTO_KEY_EXISTS: 409,
  ERR_CRYPTO_KEY_MISSING: 500,
  ERR_CRYPTO_KEY_PASSPHRASE: 500,
  ERR_DER_MALFORMED: 400,
  ERR_REGISTRY_USCC_MALFORMED: 400,
  ERR_REGISTRY_USCC_CHECK: 400,
  ERR_REGISTRY_ORGANIZATION_CODE_CHECK: 400,
  ERR_REGISTRY_INVALID: 400,
  ERR_REGISTRY_ENTERPRISE_EXISTS: 409,
  ERR_REGISTRY_OFFICER_EXISTS: 409,
  ERR_REGISTRY_ENTERPRISE_NOT_FOUND: 404,
  ERR_REGISTRY_OFFICER_NOT_FOUND: 404,
  ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE: 409,
  ERR_REGISTRY_IMPORT_LINE_MALFORMED: 400,
  ERR_REGISTRY_IMPORT_ENCODING: 400,
  ERR_REGISTRY_IMPORT_LINE_TOO_LONG: 400,
  ERR_REGISTRY_IMPORT_DUPLICATE: 409,
  ERR_REGISTRY_IMPORT_TOO_LARGE: 413,
  ERR_REGISTRY_IMPORT_REJECTED: 422,
  ERR_CA_CSR_MALFORMED: 400,
  ERR_CA_CSR_SIGNATURE: 422,
  ERR_CA_CSR_WEAK_SIGNATURE: 422,
  ERR_CA_CSR_UNSUPPORTED_ALGORITHM: 422,
  ERR_CA_CSR_SUBJECT_MISMATCH: 422,
  ERR_CA_KEY_POLICY: 422,
  ERR_CA_PROFILE_UNKNOWN: 400,
  ERR_CA_PROFILE_NOT_ISSUABLE: 400,
  ERR_CA_PROFILE_INVALID: 500,
  ERR_CA_REQUEST_INVALID: 400,
  ERR_CA_REGISTRY_CHANGED: 409,
  ERR_CA_SERIAL_MALFORMED: 400,
  ERR_CA_CERTIFICATE_NOT_FOUND: 404,
  ERR_CA_ALREADY_REVOKED: 409,
  ERR_CA_REASON_INVALID: 400,
  ERR_CA_UNKNOWN_CA: 404,
  ERR_CA_ALREADY_INITIALIZED: 409,
  ERR_CA_NOT_INITIALIZED: 500,
  ERR_CA_STATE_MISMATCH: 500,
  ERR_AUTH_TOKEN_MISSING: 401,
  ERR_AUTH_TOKEN_INVALID: 401,
  ERR_AUTH_FORBIDDEN: 403,
  ERR_AUTH_LOGIN_MALFORMED: 400,
  ERR_AUTH_CHALLENGE_INVALID: 401,
  ERR_AUTH_SIGNATURE_INVALID: 401,
  ERR_AUTH_CERTIFICATE_REJECTED: 401,
  ERR_VERIFY_MALFORMED: 400,
  ERR_VERIFY_SOURCE_UNAVAILABLE: 503,
  ERR_VERIFY_TOO_LARGE: 413,
  ERR_POLICY_INVALID: 500,
  ERR_POLICY_UNKNOWN: 422,
  ERR_SIGN_INVALID_INPUT: 400,
  ERR_SIGN_ENVELOPE_UNREADABLE: 400,
  ERR_AUDIT_ENTRY_INVALID: 422,
  ERR_AUDIT_ENTRY_TOO_LARGE: 413,
  ERR_AUDIT_OVERLOADED: 503,
  ERR_AUDIT_CLOSED: 503,
  ERR_AUDIT_MISUSE: 500,
  ERR_AUDIT_RANGE: 400,
  ERR_AUDIT_NOT_FOUND: 404,
  ERR_AUDIT_NO_CHECKPOINT: 503,
  ERR_AUDIT_STATE_INCONSISTENT: 500,
  ERR_STATE_DIVERGES_FROM_LOG: 409,
  ERR_AUDIT_KEY_MISMATCH: 500,
  ERR_AUDIT_VKEY_INVALID: 400,
  ERR_AUDIT_NOTE_MALFORMED: 400,
  ERR_AUDIT_NOTE_UNVERIFIED: 400,
  ERR_AUDIT_NOTE_BAD_SIGNATURE: 400,
  ERR_AUDIT_NOTE_AMBIGUOUS_KEY: 400,
  ERR_AUDIT_CHECKPOINT_MALFORMED: 400,
  ERR_AUDIT_CHECKPOINT_ORIGIN: 400,
  ERR_AUDIT_PROOF_INVALID: 400,
  ERR_SUBMISSION_MALFORMED: 400,
  ERR_SUBMISSION_UNIDENTIFIED: 422,
  ERR_SUBMISSION_QUERY_INVALID: 400,
  ERR_SUBMISSION_NOT_FOUND: 404,
  ERR_SUBMISSION_NOT_APPLICANT: 403,
  ERR_SUBMISSION_UNKNOWN_TYPE: 422,
  ERR_SUBMISSION_DOCUMENT_INVALID: 422,
  ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE: 422,
  ERR_SUBMISSION_APPLICANT_MISMATCH: 422,
  ERR_SUBMISSION_ENTERPRISE_UNKNOWN: 422,
  ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE: 422,
  ERR_SUBMISSION_CERTIFICATE_REVOKED: 422,
  ERR_SUBMISSION_SIGNATURE_INVALID: 422,
  ERR_SUBMISSION_PRECOUNTERSIGNED: 422,
  ERR_SUBMISSION_CLOSED: 409,
  ERR_SUBMISSION_STEP_TAKEN: 409,
  ERR_SUBMISSION_FORMAT_MISMATCH: 422,
  ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN: 422,
  ERR_SUBMISSION_COUNTERSIGNATURE_MISSING: 422,
  ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED: 409,
  ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS: 422,
  ERR_SUBMISSION_COUNTERSIGNATURE_INVALID: 422,
  ERR_SUBMISSION_COUNTERSIGNER_REVOKED: 422,
  ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT: 403,
  ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER: 403,
  ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER: 403,
  ERR_SUBMISSION_WRONG_ROLE: 403,
  ERR_SUBMISSION_OUT_OF_JURISDICTION: 403,
  ERR_SUBMISSION_OFFICER_ALREADY_SIGNED: 409,
  ERR_SUBMISSION_DECISION_INVALID: 422,
  ERR_SUBMISSION_REASON_REQUIRED: 422,
  ERR_SUBMISSION_REASON_NOT_ALLOWED: 422,
  ERR_SUBMISSION_RECEIPT_INVALID: 400,
  ERR_SUBMISSION_EVIDENCE_INVALID: 400,
  ERR_TSA_REQUEST_INVALID: 400,
  // An outside TSA that fails is a fault of a dependency, not of the client's input.
  ERR_TSA_UNAVAILABLE: 503,
  ERR_TSA_REPLY_INVALID: 502,
};

/** An RFC 9457 problem document, with Chancery's `code` extension member. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Stable problem type URI for a code: `urn:chancery:problem:verify-hash-failure`. */
export function problemType(code: string): string {
  return `urn:chancery:problem:${code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Turns any thrown value into a problem document. Only a ChanceryError's message reaches the
 * client; anything else becomes a generic 500 whose cause goes to the log, never to the client.
 */
export function toProblem(error: unknown, requestId: string | undefined): ProblemDocument {
  if (error instanceof ChanceryError) {
    const status = (STATUS_BY_CODE as Record<string, number>)[error.code] ?? 500;
    return {
      ...(error.detail ?? {}),
      type: problemType(error.code),
      title: TITLES[status] ?? 'Error',
      status,
      detail:
        status >= 500 && status !== 503 ? 'the server failed to handle this request; see the log with this request id' : error.message,
      code: error.code,
      ...(requestId === undefined ? {} : { instance: `urn:chancery:request:${requestId}` }),
    };
  }
  // Client input that slipped past a domain check must still be a 4xx: a path the router could
  // not percent-decode, or a text value with a NUL that PostgreSQL refuses (its transaction
  // rolled back, so nothing changed).
  if (error instanceof URIError)
    return toProblem(new HttpError('ERR_HTTP_BAD_REQUEST', 'the URL has a malformed percent-encoding'), requestId);
  if (sqlState(error) === SQLSTATE.characterNotInRepertoire) {
    return toProblem(
      new HttpError('ERR_HTTP_BAD_REQUEST', 'a value in the request contains a NUL character, which no field accepts'),
      requestId,
    );
  }
  return toProblem(new ChanceryError('ERR_HTTP_INTERNAL', 'internal error'), requestId);
}
