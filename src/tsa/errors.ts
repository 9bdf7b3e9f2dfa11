import { ChanceryError } from '../errors.js';

/**
 * Faults of time-stamping: a digest the TSA cannot stamp (wrong length, refused algorithm), an
 * outside TSA that cannot be reached, or one whose reply does not check out.
 */
export type TsaErrorCode = 'ERR_TSA_REQUEST_INVALID' | 'ERR_TSA_UNAVAILABLE' | 'ERR_TSA_REPLY_INVALID';
export class TsaError extends ChanceryError<TsaErrorCode> {}
