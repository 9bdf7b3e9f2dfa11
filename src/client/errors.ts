import { ChanceryError } from '../errors.js';

/**
 * Faults of a client talking to a running service: the service did not answer, or answered
 * with something that is not a problem document. A problem document the service sent becomes a
 * ChanceryError carrying the service's own code instead.
 */
export type ClientErrorCode = 'ERR_CLIENT_UNREACHABLE' | 'ERR_CLIENT_HTTP' | 'ERR_CLIENT_LOGIN' | 'ERR_CLIENT_CREDENTIAL';
export class ClientError extends ChanceryError<ClientErrorCode> {}

/**
 * fetch() to `url` that turns a transport failure ("fetch failed") into ERR_CLIENT_UNREACHABLE
 * saying the service is not reachable there, and why (connection refused, unknown host, …).
 */
export async function fetchService(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw unreachable(new URL(url).origin, error);
  }
}

export function unreachable(base: string, error: unknown): ClientError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why =
    cause?.code === 'ECONNREFUSED'
      ? 'connection refused: is the service running there?'
      : cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN'
        ? 'unknown host'
        : typeof cause?.code === 'string'
          ? cause.code
          : typeof cause?.message === 'string'
            ? cause.message
            : (error as Error).message;
  return new ClientError('ERR_CLIENT_UNREACHABLE', `the service is not reachable at ${base} (${why})`, { cause: error });
}
