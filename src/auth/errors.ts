import { ChanceryError } from '../errors.js';

/** Login and authorization faults. */
export type AuthErrorCode =
  /** No bearer token on a route that needs one. */
  | 'ERR_AUTH_TOKEN_MISSING'
  /** The bearer token is malformed, expired, or not signed by this service. */
  | 'ERR_AUTH_TOKEN_INVALID'
  /** The caller is authenticated but its role may not do this. */
  | 'ERR_AUTH_FORBIDDEN'
  /** The login body is not a compact JWS with an x5c header and a nonce payload. */
  | 'ERR_AUTH_LOGIN_MALFORMED'
  /** The nonce is unknown, expired or already used. */
  | 'ERR_AUTH_CHALLENGE_INVALID'
  /** The login JWS's signature does not verify under its certificate's key. */
  | 'ERR_AUTH_SIGNATURE_INVALID'
  /** The certificate does not validate to this CA now (revoked, expired, foreign, wrong usage). */
  | 'ERR_AUTH_CERTIFICATE_REJECTED';
export class AuthError extends ChanceryError<AuthErrorCode> {}
