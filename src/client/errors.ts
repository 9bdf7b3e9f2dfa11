import { ChanceryError } from '../errors.js';

/**
 * Faults of a client talking to a running service: the service did not answer, or answered
 * with something that is not a problem document. A problem document the service sent becomes a
 * ChanceryError carrying the service's own code instead.
 */
export type ClientErrorCode = 'ERR_CLIENT_UNREACHABLE' | 'ERR_CLIENT_HTTP' | 'ERR_CLIENT_LOGIN' | 'ERR_CLIENT_CREDENTIAL';
export class ClientError extends ChanceryError<ClientErrorCode> {}
