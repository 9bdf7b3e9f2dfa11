import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../crypto/digest.js';
import { DbError } from './errors.js';
import { MIGRATIONS_DIR } from '../paths.js';
import type { Database, Tx } from './types.js';

/**
 * Key of the advisory lock that serializes migration runs of every process sharing a database.
 * Arbitrary but fixed: the ASCII of "chancery" read as a signed 64-bit integer.
 */
const MIGRATION_LOCK_KEY = '7163082334074663545';

export interface Migration {
  id: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files in id order. Other files (a README) are ignored. */
export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (match === null) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    migrations.push({ id: Number(match[1]), name: match[2]!, file, sql, checksum: sha256Hex(sql) });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.id === migrations[i - 1]!.id) {
      throw new DbError(
        'ERR_DB_MIGRATION_FAILED',
        `two migrations share id ${migrations[i]!.id}: ${migrations[i - 1]!.file}, ${migrations[i]!.file}`,
      );
    }
  }
  return migrations;
}

/**
 * Brings the database up to date. Each migration runs in its own transaction under an advisory
 * lock, so a crash leaves the database before or after a migration, never in between, and two
 * processes starting at once apply each migration exactly once. MUST refuse to run when an
 * applied migration's file changed, or when the database has migrations this code does not know.
 */
export async function migrate(db: Database, migrations: Migration[] = readMigrations()): Promise<string[]> {
  await db.transaction(async (tx) => {
    await lock(tx);
    // Only when missing: even IF NOT EXISTS needs CREATE on the schema, which the restricted
    // service role (migrations/0011) does not have once the database is set up.
    const { rows } = await tx.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (rows[0]?.t !== null && rows[0]?.t !== undefined) return;
    await tx.execScript(`CREATE TABLE schema_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  const recorded = await checkApplied(db, migrations);
  // The usual start of a process: everything is applied already, so there is nothing to lock for.
  if (migrations.every((m) => recorded.has(m.id))) return [];

  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      const { rows } = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE id = $1', [migration.id]);
      if (rows[0] !== undefined) {
        assertSameChecksum(migration, rows[0].checksum);
        return false; // another process got here first
      }
      try {
        await tx.execScript(migration.sql);
      } catch (error) {
        throw new DbError('ERR_DB_MIGRATION_FAILED', `migration ${migration.file} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await tx.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) applied.push(migration.file);
  }
  return applied;
}

/** True when every known migration is applied with its recorded checksum (for /readyz). */
export async function isMigrated(db: Database, migrations: Migration[] = readMigrations()): Promise<boolean> {
  try {
    await checkApplied(db, migrations);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    return rows[0]?.n === migrations.length;
  } catch {
    return false;
  }
}

/** Checks the recorded migrations against the files; the ids recorded. */
async function checkApplied(db: Database, migrations: Migration[]): Promise<Set<number>> {
  const { rows } = await db.query<{ id: number; name: string; checksum: string }>(
    'SELECT id, name, checksum FROM schema_migrations ORDER BY id',
  );
  const known = new Map(migrations.map((m) => [m.id, m]));
  for (const row of rows) {
    const migration = known.get(row.id);
    if (migration === undefined) {
      throw new DbError(
        'ERR_DB_MIGRATION_UNKNOWN',
        `the database has migration ${String(row.id).padStart(4, '0')}_${row.name}, which this version of Chancery does not have: run a newer version`,
      );
    }
    assertSameChecksum(migration, row.checksum);
  }
  return new Set(rows.map((r) => r.id));
}

function assertSameChecksum(migration: Migration, recorded: string): void {
  if (recorded !== migration.checksum) {
    throw new DbError(
      'ERR_DB_MIGRATION_CHANGED',
      `migration ${migration.file} was changed after it was applied (recorded sha256 ${recorded.slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…): restore the file; add a new migration instead of editing an applied one`,
    );
  }
}

async function lock(tx: Tx): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
}
