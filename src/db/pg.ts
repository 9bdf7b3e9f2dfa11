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
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
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
    const result = await this.pool.query(sql, params as unknown[]);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return withRetry(async () => {
      const client = await this.pool.connect();
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
