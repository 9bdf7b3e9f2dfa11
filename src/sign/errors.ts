import { ChanceryError } from '../errors.js';

/** Faults while building a signed envelope (bad input to a builder, an unreadable envelope to countersign). */
export type SignErrorCode = 'ERR_SIGN_INVALID_INPUT' | 'ERR_SIGN_ENVELOPE_UNREADABLE';
export class SignError extends ChanceryError<SignErrorCode> {}
