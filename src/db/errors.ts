import { ChanceryError } from '../errors.js';

/** Database layer faults. */
export type DbErrorCode =
  | 'ERR_DB_UNREACHABLE'
  | 'ERR_DB_LOCKED'
  | 'ERR_DB_MIGRATION_CHANGED'
  | 'ERR_DB_MIGRATION_FAILED'
  | 'ERR_DB_MIGRATION_UNKNOWN'
  | 'ERR_DB_RETRIES_EXHAUSTED';
export class DbError extends ChanceryError<DbErrorCode> {}

/** Whether `error` is the database layer saying it cannot be reached (rather than a query fault). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof DbError && error.code === 'ERR_DB_UNREACHABLE';
}
