import { ChanceryError } from '../errors.js';

/** Faults in an HTTP request itself, before any domain code runs. */
export type HttpErrorCode =
  | 'ERR_HTTP_MALFORMED_JSON'
  | 'ERR_HTTP_JSON_TOO_DEEP'
  | 'ERR_HTTP_BODY_TOO_LARGE'
  | 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_HTTP_NOT_FOUND'
  | 'ERR_HTTP_METHOD_NOT_ALLOWED'
  | 'ERR_HTTP_BAD_REQUEST'
  | 'ERR_HTTP_NOT_READY'
  | 'ERR_HTTP_OVERLOADED'
  | 'ERR_HTTP_RATE_LIMITED'
  | 'ERR_HTTP_BODY_TIMEOUT'
  | 'ERR_HTTP_INTERNAL';
export class HttpError extends ChanceryError<HttpErrorCode> {}
