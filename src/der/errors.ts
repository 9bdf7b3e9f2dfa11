import { ChanceryError } from '../errors.js';

/**
 * Faults of the DER reader (X.690 §10): the bytes are not the strict DER of what was expected.
 * Each domain decides what such a fault means for it (the verifier reports it as
 * ERR_VERIFY_MALFORMED, the CA as a malformed request); the message names what was being read.
 */
export type DerErrorCode = 'ERR_DER_MALFORMED';
/** The error every reader function of src/der throws. */
export class DerError extends ChanceryError<DerErrorCode> {}

/** The reader's one error: `message` says what was being read and what is wrong with it. */
export function malformedDer(message: string): DerError {
  return new DerError('ERR_DER_MALFORMED', message);
}
