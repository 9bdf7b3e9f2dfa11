import { ChanceryError } from '../errors.js';

export type CryptoErrorCode =
  | 'ERR_CRYPTO_KEY_INVALID'
  | 'ERR_CRYPTO_KEY_UNSUPPORTED'
  | 'ERR_CRYPTO_KEY_EXISTS'
  | 'ERR_CRYPTO_KEY_MISSING'
  | 'ERR_CRYPTO_KEY_PASSPHRASE';
export class CryptoError extends ChanceryError<CryptoErrorCode> {}
