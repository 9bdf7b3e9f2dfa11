import { ChanceryError } from '../errors.js';

/**
 * Faults of the verification part. Envelope problems normally become checks in a validation
 * report (FORMAT_FAILURE and friends); these codes are for the places where a parse fault has to
 * travel as an exception (inside the parsers, and to callers that asked for a parse alone).
 */
export type VerifyErrorCode =
  // envelope half
  | 'ERR_VERIFY_MALFORMED'
  | 'ERR_VERIFY_TOO_LARGE';
export class VerifyError extends ChanceryError<VerifyErrorCode> {}
