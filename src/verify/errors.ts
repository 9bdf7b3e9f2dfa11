import { DerError } from '../der/errors.js';
import { ChanceryError } from '../errors.js';

/**
 * Faults of the verification part. Envelope problems normally become checks in a validation
 * report (FORMAT_FAILURE and friends); these codes are for the places where a parse fault has to
 * travel as an exception (inside the parsers, and to callers that asked for a parse alone).
 */
export type VerifyErrorCode =
  // envelope half
  | 'ERR_VERIFY_MALFORMED'
  | 'ERR_VERIFY_TOO_LARGE'
  // a source the verifier reads is down
  | 'ERR_VERIFY_SOURCE_UNAVAILABLE';
export class VerifyError extends ChanceryError<VerifyErrorCode> {}

/**
 * A source the verifier reads (a revocation source) cannot answer because a service behind it is
 * down: its database, not its data. No verdict can be given then, so this error propagates out
 * of path validation and verifyEnvelope, and the caller answers "try again" instead of a verdict
 * that would stand (a submission rejected for good because a connection dropped). Sources MUST
 * NOT use it for bad or missing data: that is an `unknown` status.
 */
export function sourceUnavailable(message: string, cause: unknown): VerifyError {
  return new VerifyError('ERR_VERIFY_SOURCE_UNAVAILABLE', message, { cause, detail: { retryAfterSeconds: 2 } });
}

export function isSourceUnavailable(error: unknown): error is VerifyError {
  return error instanceof VerifyError && error.code === 'ERR_VERIFY_SOURCE_UNAVAILABLE';
}

/** A structure the verifier reads is malformed (beyond what the DER reader itself checks). */
export function malformed(message: string): VerifyError {
  return new VerifyError('ERR_VERIFY_MALFORMED', message);
}

/**
 * A parse fault while reading hostile input: the verifier's own, or the DER reader's (src/der).
 * Both mean the same to the verifier (FORMAT_FAILURE, or an unusable CRL, OCSP response or
 * extension); anything else is a bug and MUST propagate.
 */
export function isParseFault(error: unknown): error is VerifyError | DerError {
  return error instanceof VerifyError || error instanceof DerError;
}

/**
 * The error a verifier parse function throws to its callers: a DER fault becomes
 * ERR_VERIFY_MALFORMED with the same message (the contract of parseCertificate, parseCrl,
 * parseCmsSignedData, …); anything else is returned unchanged.
 */
export function asVerifyError(error: unknown): unknown {
  return error instanceof DerError ? new VerifyError('ERR_VERIFY_MALFORMED', error.message, { cause: error }) : error;
}
