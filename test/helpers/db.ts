import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { sha256Hex } from '../../src/crypto/digest.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { openPg } from '../../src/db/pg.js';
import { openPglite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/types.js';
import { PROJECT_ROOT } from '../../src/paths.js';

/**
 * Test databases for both drivers. PGlite databases are copied from templates kept in the temp dir
 * (a new PGlite cluster takes seconds to create, a copy opens in under one; applying every
 * migration takes ~0.4 s more, so migrated databases are copied from a migrated template).
 * PostgreSQL databases are created fresh on the server named by DATABASE_URL and dropped afterwards.
 */
export interface TestDatabase {
  db: Database;
  /** pglite: the data dir holding pgdata/; pg: the database URL. */
  location: string;
  /** Closes and removes the database. */
  drop(): Promise<void>;
}

export interface Driver {
  name: 'pglite' | 'pg';
  /** A new, empty (unmigrated) database. */
  create(): Promise<TestDatabase>;
}

const TEMPLATE = join(tmpdir(), 'chancery-test-pglite-template-v1');

let migratedTemplatePath: string | undefined;
/**
 * The migrated template, named by the PGlite version and the migration files: worktrees on this
 * machine with other migrations (or another PGlite) each get their own.
 */
function migratedTemplate(): string {
  if (migratedTemplatePath === undefined) {
    const pglite = (
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }
    ).version;
    const key = sha256Hex([`pglite ${pglite}`, ...readMigrations().map((m) => `${m.file}:${m.checksum}`)].join('\n')).slice(0, 16);
    migratedTemplatePath = join(tmpdir(), `chancery-test-pglite-migrated-${key}`);
  }
  return migratedTemplatePath;
}

/** Creates the PGlite template clusters (empty, and migrated) if this machine does not have them yet. */
export async function prepareTemplates(): Promise<void> {
  if (!existsSync(join(TEMPLATE, 'pgdata', 'PG_VERSION'))) {
    const building = mkdtempSync(join(tmpdir(), 'chancery-template-'));
    const pgl = await PGlite.create(join(building, 'pgdata'));
    await pgl.close();
    rmSync(TEMPLATE, { recursive: true, force: true });
    renameSync(building, TEMPLATE);
  }
  const migrated = migratedTemplate();
  if (!existsSync(join(migrated, 'pgdata', 'PG_VERSION'))) {
    const building = copyPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-template-')));
    const db = await openPglite(building);
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    try {
      renameSync(building, migrated);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another run made it at the same time
    }
  }
}

/** A fresh copy of the empty PGlite template in a temp dir (or in `dataDir` when given). */
export function copyPgliteTemplate(dataDir: string = mkdtempSync(join(tmpdir(), 'chancery-db-'))): string {
  cpSync(join(TEMPLATE, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

/** A fresh copy of the PGlite template with every project migration applied, in `dataDir`. */
export function copyMigratedPgliteTemplate(dataDir: string): string {
  cpSync(join(migratedTemplate(), 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

async function openPgliteCopy(copy: (dir: string) => string): Promise<TestDatabase> {
  const dir = copy(mkdtempSync(join(tmpdir(), 'chancery-db-')));
  const db = await openPglite(dir);
  return {
    db,
    location: dir,
    drop: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const pgliteDriver: Driver = {
  name: 'pglite',
  create: () => openPgliteCopy(copyPgliteTemplate),
};

export const pgDriver: Driver = {
  name: 'pg',
  async create() {
    const url = await createPgDatabase();
    const db = await openPg(url, { max: 20 });
    return {
      db,
      location: url,
      drop: async () => {
        await db.close();
        await dropPgDatabase(url);
      },
    };
  },
};

/**
 * The drivers this run tests: PGlite always; PostgreSQL when DATABASE_URL is set. Under CI=true a
 * missing DATABASE_URL is a failure, not a skip (CI must test both).
 */
export function drivers(): Driver[] {
  if (process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '') return [pgliteDriver, pgDriver];
  if (process.env['CI'] === 'true') {
    throw new Error('CI=true but DATABASE_URL is not set: database tests must run against real PostgreSQL in CI (.ci/run sets it)');
  }
  if (!warned) {
    warned = true;
    process.stderr.write('note: DATABASE_URL is not set; database tests run on PGlite only (.ci/with-postgres npm test runs both)\n');
  }
  return [pgliteDriver];
}
let warned = false;

/** The PostgreSQL driver alone, or undefined (with the same CI rule as `drivers`). */
export function pgOnly(): Driver | undefined {
  return drivers().find((d) => d.name === 'pg');
}

/**
 * A fresh database of the driver with every project migration applied. PGlite's is a copy of the
 * migrated template, on which migrate() only checks that the recorded migrations are these files.
 */
export async function createMigrated(driver: Driver): Promise<TestDatabase> {
  const t = driver.name === 'pglite' ? await openPgliteCopy(copyMigratedPgliteTemplate) : await driver.create();
  await migrate(t.db);
  return t;
}

let counter = 0;
/** A new, empty database on the server of `admin` (default DATABASE_URL); its URL. */
export async function createPgDatabase(admin = process.env['DATABASE_URL']!): Promise<string> {
  const name = `chancery_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPgDatabase(url: string, admin = process.env['DATABASE_URL']!): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
