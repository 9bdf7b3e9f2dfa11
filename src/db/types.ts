/**
 * The one database interface the rest of Chancery sees. Two drivers implement it (PGlite in
 * process, PostgreSQL through a `pg` pool) with the same SQL and the same behaviour.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One statement with `$1…` parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A transaction handle. MUST NOT be used after the callback that received it has settled. */
export interface Tx extends Queryable {
  /** Several statements without parameters (migration scripts). */
  execScript(sql: string): Promise<void>;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Default 'read committed'; domain code takes row locks (`FOR UPDATE`) where order matters. */
  isolation?: IsolationLevel;
  /**
   * Retry the whole callback on 23505 unique violations too (not only on 40001/40P01). Only for
   * callers whose callback re-reads what it depends on, e.g. "insert unless it exists".
   */
  retryOnUniqueViolation?: boolean;
  /** Attempts in all, default 8. */
  maxAttempts?: number;
}

export interface Database extends Queryable {
  readonly driver: 'pglite' | 'pg';
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. Retries on
   * serialization failure and deadlock (and on 23505 when asked). MUST NOT be called from inside
   * another transaction's callback (PGlite has one connection: that would wait forever).
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATE of a PostgreSQL error, or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const SQLSTATE = {
  /** character_not_in_repertoire: a text parameter with a NUL, which PostgreSQL cannot store. */
  characterNotInRepertoire: '22021',
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;
