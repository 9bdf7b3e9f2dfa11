import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { openPg } from '../../src/db/pg.js';
import { openPglite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/types.js';

/**
 * Test databases for both drivers. PGlite databases are copied from a template made once per run
 * (a new PGlite cluster takes seconds to create, a copy opens in under one). PostgreSQL databases
 * are created fresh on the server named by DATABASE_URL and dropped afterwards.
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

/** Creates the PGlite template cluster if this machine does not have it yet. */
export async function prepareTemplates(): Promise<void> {
  if (existsSync(join(TEMPLATE, 'pgdata', 'PG_VERSION'))) return;
  const building = mkdtempSync(join(tmpdir(), 'chancery-template-'));
  const pgl = await PGlite.create(join(building, 'pgdata'));
  await pgl.close();
  rmSync(TEMPLATE, { recursive: true, force: true });
  renameSync(building, TEMPLATE);
}

/** A fresh copy of the PGlite template in a temp dir (or in `dataDir` when given). */
export function copyPgliteTemplate(dataDir: string = mkdtempSync(join(tmpdir(), 'chancery-db-'))): string {
  cpSync(join(TEMPLATE, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  return dataDir;
}

export const pgliteDriver: Driver = {
  name: 'pglite',
  async create() {
    const dir = copyPgliteTemplate();
    const db = await openPglite(dir);
    return {
      db,
      location: dir,
      drop: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
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

/** A fresh database of the driver with every project migration applied. */
export async function createMigrated(driver: Driver): Promise<TestDatabase> {
  const t = await driver.create();
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
