import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { DbError } from './errors.js';
import { withRetry } from './retry.js';
import type { Database, QueryResult, TransactionOptions, Tx } from './types.js';

/**
 * The embedded driver: PostgreSQL compiled to WebAssembly, data under `<dataDir>/pgdata`.
 * It is one process's database, so a lock file keeps a second process out (CLI commands reach a
 * running service over HTTP instead).
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const pgdata = join(dataDir, 'pgdata');
  const releaseLock = acquireLock(join(dataDir, 'pgdata.lock'));
  let pg: PGlite;
  try {
    pg = await PGlite.create(pgdata);
  } catch (error) {
    releaseLock();
    throw new DbError('ERR_DB_UNREACHABLE', `cannot open the embedded database in ${pgdata}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new PgliteDatabase(pg, releaseLock);
}

class PgliteDatabase implements Database {
  readonly driver = 'pglite' as const;
  #closed = false;

  constructor(
    private readonly pg: PGlite,
    private readonly releaseLock: () => void,
  ) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return toResult<R>(await this.pg.query(sql, params as unknown[]));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    // One connection: transactions are serialized by PGlite itself, so conflicts cannot arise;
    // the retry wrapper is kept so both drivers behave the same for callers.
    return withRetry(
      () =>
        this.pg.transaction(async (t) => {
          if (options.isolation !== undefined && options.isolation !== 'read committed') {
            await t.query(`SET TRANSACTION ISOLATION LEVEL ${options.isolation.toUpperCase()}`);
          }
          return fn(new PgliteTx(t));
        }),
      options,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.pg.close();
    } finally {
      this.releaseLock();
    }
  }
}

class PgliteTx implements Tx {
  constructor(private readonly t: Transaction) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return toResult<R>(await this.t.query(sql, params as unknown[]));
  }

  async execScript(sql: string): Promise<void> {
    await this.t.exec(sql);
  }
}

function toResult<R>(result: Results<unknown>): QueryResult<R> {
  const rows = result.rows.map(normalizeRow) as R[];
  const affected = result.affectedRows ?? 0;
  return { rows, rowCount: rows.length > 0 ? rows.length : affected };
}

/** PGlite returns bytea as Uint8Array; `pg` returns Buffer. Callers get Buffer from both. */
function normalizeRow(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  const out = row as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    const value = out[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      out[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return out;
}

/** Takes `<dataDir>/pgdata.lock`; a lock left by a dead process is taken over. */
function acquireLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DbError('ERR_DB_UNREACHABLE', `cannot create lock file ${path}: ${(error as Error).message}`);
      }
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new DbError(
          'ERR_DB_LOCKED',
          `the embedded database in ${path.replace(/\.lock$/, '')} is in use by process ${holder} ` +
            '(a running `chancery serve`?): talk to it with --url, or stop it first',
        );
      }
      if (existsSync(path)) rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new DbError('ERR_DB_LOCKED', `could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
