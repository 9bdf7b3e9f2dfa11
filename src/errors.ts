import type { AuditErrorCode } from './audit/errors.js';
import type { AuthErrorCode } from './auth/errors.js';
import type { CaErrorCode } from './ca/errors.js';
import type { CliErrorCode } from './cli/errors.js';
import type { CryptoErrorCode } from './crypto/errors.js';
import type { DerErrorCode } from './der/errors.js';
import type { PolicyErrorCode } from './policy/errors.js';
import type { RegistryErrorCode } from './registry/errors.js';
import type { SignErrorCode } from './sign/errors.js';
import type { SubmissionErrorCode } from './submissions/errors.js';
import type { VerifyErrorCode } from './verify/errors.js';

/**
 * Coded errors. Every failure Chancery reports carries a stable `code` (a string-literal union
 * per domain) usable in a `switch`; the HTTP edge maps codes to statuses in one table
 * (src/http/problem.ts). Messages are for people and MUST NOT contain secrets.
 */
export interface ChanceryErrorOptions {
  cause?: unknown;
  /** Extra machine-readable fields for the problem document (safe to show a client). */
  detail?: Record<string, unknown>;
}

export class ChanceryError<C extends string = string> extends Error {
  override readonly name: string;
  readonly code: C;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: C, message: string, options: ChanceryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options.detail;
  }
}

/** Start-up configuration faults: the message names the variable or flag and what is wrong. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_DATA_DIR' | 'ERR_CONFIG_PORT_IN_USE';
export class ConfigError extends ChanceryError<ConfigErrorCode> {}

/** Database layer faults. */
export type DbErrorCode =
  | 'ERR_DB_UNREACHABLE'
  | 'ERR_DB_LOCKED'
  | 'ERR_DB_MIGRATION_CHANGED'
  | 'ERR_DB_MIGRATION_FAILED'
  | 'ERR_DB_MIGRATION_UNKNOWN'
  | 'ERR_DB_RETRIES_EXHAUSTED';
export class DbError extends ChanceryError<DbErrorCode> {}

/** Faults in an HTTP request itself, before any domain code runs. */
export type HttpErrorCode =
  | 'ERR_HTTP_MALFORMED_JSON'
  | 'ERR_HTTP_BODY_TOO_LARGE'
  | 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_HTTP_NOT_FOUND'
  | 'ERR_HTTP_METHOD_NOT_ALLOWED'
  | 'ERR_HTTP_BAD_REQUEST'
  | 'ERR_HTTP_NOT_READY'
  | 'ERR_HTTP_OVERLOADED'
  | 'ERR_HTTP_INTERNAL';
export class HttpError extends ChanceryError<HttpErrorCode> {}

/** Every code any part of Chancery can raise. Each domain adds its union here. */
export type ErrorCode =
  | ConfigErrorCode
  | DbErrorCode
  | HttpErrorCode
  | CryptoErrorCode
  | DerErrorCode
  | RegistryErrorCode
  | CaErrorCode
  | AuthErrorCode
  | VerifyErrorCode
  | PolicyErrorCode
  | SignErrorCode
  | AuditErrorCode
  | SubmissionErrorCode
  | CliErrorCode;

export function isChanceryError(value: unknown): value is ChanceryError {
  return value instanceof ChanceryError;
}
