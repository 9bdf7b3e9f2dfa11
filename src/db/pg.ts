import pg from 'pg';
import { redactDatabaseUrl } from '../config.js';
import { DbError } from './errors.js';
import { withRetry } from './retry.js';
import type { Database, QueryResult, TransactionOptions, Tx } from './types.js';

const INT8_OID = 20;

/** Options for the PostgreSQL driver. */
export interface PgOptions {
  /** Pool size, default 10. */
  max?: number;
  /** Milliseconds to wait for a connection before giving up, default 5000. */
  connectTimeoutMs?: number;
}

/**
 * The PostgreSQL driver: a `pg` pool. Verifies that the server answers before returning, so a
 * wrong DATABASE_URL fails at start with one clear line.
 */
export async function openPg(url: string, options: PgOptions = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // Same value types as the PGlite driver: int8 as a JS number (log indexes stay far below 2^53).
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection (server restart, pg_terminate_backend) emits 'error'; without a
  // listener that kills the process. The pool listens while a client is idle; this listens while
  // it is checked out too. The query in flight, if any, rejects on its own (and becomes a 503).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = (error as Error).message || (error as NodeJS.ErrnoException).code || 'no answer';
    throw new DbError('ERR_DB_UNREACHABLE', `DATABASE_URL: cannot connect to ${redactDatabaseUrl(url)}: ${reason}`, {
      cause: error,
    });
  }
  return new PgDatabase(pool);
}

class PgDatabase implements Database {
  readonly driver = 'pg' as const;
  #closed = false;

  constructor(private readonly pool: pg.Pool) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    try {
      const result = await this.pool.query(sql, params as unknown[]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw asUnreachable(error);
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return withRetry(async () => {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw asUnreachable(error);
      }
      let broken: Error | undefined;
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${(options.isolation ?? 'read committed').toUpperCase()}`);
        try {
          const value = await fn(new PgTx(client));
          await client.query('COMMIT');
          return value;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError; // connection unusable: drop it from the pool
          });
          throw error;
        }
      } catch (error) {
        // A lost connection is a 503 (the transaction did not commit, or its COMMIT was never
        // acknowledged to us, so nothing was acknowledged to the caller either).
        if (isConnectionLoss(error)) broken ??= error as Error;
        throw asUnreachable(error);
      } finally {
        client.release(broken);
      }
    }, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}

/** SQLSTATEs of a connection that is gone or refused: class 08, admin/crash shutdown, starting up, too many clients. */
const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Whether `error` says the database connection is lost or cannot be made (rather than a query fault). */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof DbError) return error.code === 'ERR_DB_UNREACHABLE';
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_STATES.has(code) || code.startsWith('08') || CONNECTION_ERRNOS.has(code))) return true;
  if (error instanceof AggregateError) return error.errors.some((e) => isConnectionLoss(e));
  const message = (error as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i.test(
      message,
    )
  );
}

/** A lost or refused connection as ERR_DB_UNREACHABLE (a 503 with Retry-After); anything else unchanged. */
function asUnreachable(error: unknown): unknown {
  if (error instanceof DbError || !isConnectionLoss(error)) return error;
  return new DbError('ERR_DB_UNREACHABLE', 'the database is not reachable; try again shortly', {
    cause: error,
    detail: { retryAfterSeconds: 2 },
  });
}

class PgTx implements Tx {
  constructor(private readonly client: pg.PoolClient) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const result = await this.client.query(sql, params as unknown[]);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }

  async execScript(sql: string): Promise<void> {
    await this.client.query(sql);
  }
}
