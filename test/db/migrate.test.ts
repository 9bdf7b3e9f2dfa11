import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMigrated, migrate, readMigrations } from '../../src/db/migrate.js';
import { openPg } from '../../src/db/pg.js';
import { openPglite } from '../../src/db/pglite.js';
import { drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { DIST_SRC, startScript } from '../helpers/spawn.js';

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

const BASIC = {
  '0001_first.sql': 'CREATE TABLE a (id int PRIMARY KEY);',
  '0002_second.sql': 'CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (1);',
  'README.md': 'not a migration',
};

describe.each(drivers())('migrations on $name', (driver) => {
  const open: TestDatabase[] = [];
  const fresh = async (): Promise<TestDatabase> => {
    const t = await driver.create();
    open.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of open.splice(0)) await t.drop().catch(() => undefined);
  });

  it('applies NNNN_name.sql files in order, once, each recorded with its checksum', async () => {
    const { db } = await fresh();
    const dir = migrationsDir(BASIC);
    expect(await migrate(db, readMigrations(dir))).toEqual(['0001_first.sql', '0002_second.sql']);
    expect(await migrate(db, readMigrations(dir))).toEqual([]);
    const { rows } = await db.query<{ id: number; name: string; checksum: string }>(
      'SELECT id, name, checksum FROM schema_migrations ORDER BY id',
    );
    expect(rows.map((r) => [r.id, r.name])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await db.query('SELECT * FROM b')).rowCount).toBe(1);
    expect(await isMigrated(db, readMigrations(dir))).toBe(true);
  });

  it('refuses to run when an applied migration file was edited', async () => {
    const { db } = await fresh();
    const dir = migrationsDir(BASIC);
    await migrate(db, readMigrations(dir));
    writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE a (id int PRIMARY KEY, extra text);');
    const error = await expectCode(() => migrate(db, readMigrations(dir)), 'ERR_DB_MIGRATION_CHANGED');
    expect(error.message).toContain('0001_first.sql was changed after it was applied');
    expect(await isMigrated(db, readMigrations(dir))).toBe(false);
  });

  it('refuses a database that has migrations this code does not know', async () => {
    const { db } = await fresh();
    await migrate(db, readMigrations(migrationsDir(BASIC)));
    const older = migrationsDir({ '0001_first.sql': BASIC['0001_first.sql'] });
    await expectCode(() => migrate(db, readMigrations(older)), 'ERR_DB_MIGRATION_UNKNOWN');
  });

  it('leaves the database before a migration that fails, with the file named', async () => {
    const { db } = await fresh();
    const dir = migrationsDir({
      '0001_first.sql': BASIC['0001_first.sql'],
      '0002_broken.sql': 'CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);',
    });
    const error = await expectCode(() => migrate(db, readMigrations(dir)), 'ERR_DB_MIGRATION_FAILED');
    expect(error.message).toContain('0002_broken.sql');
    expect((await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half'")).rowCount).toBe(0);
    expect((await db.query('SELECT id FROM schema_migrations')).rows).toEqual([{ id: 1 }]);
  });

  it('applies each migration once when several runs race on one database', async () => {
    const t = await fresh();
    const dir = migrationsDir({
      '0001_counted.sql': 'CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);',
      '0002_more.sql': 'INSERT INTO runs VALUES (2);',
    });
    const handles = driver.name === 'pg' ? [t.db, await openPg(t.location), await openPg(t.location)] : [t.db, t.db, t.db];
    const results = await Promise.all(handles.map((h) => migrate(h, readMigrations(dir))));
    expect(results.flat().sort()).toEqual(['0001_counted.sql', '0002_more.sql']);
    expect((await t.db.query('SELECT n FROM runs ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }]);
    for (const h of handles.slice(1)) if (h !== t.db) await h.close();
  });

  it('ships project migrations that apply cleanly', async () => {
    const { db } = await fresh();
    await migrate(db);
    expect(await isMigrated(db)).toBe(true);
  });

  it('applies each migration once when two processes start at the same time', async () => {
    const t = await fresh();
    if (driver.name === 'pglite') {
      // One process's database: the second process is refused by the lock, never let in. The
      // first holds the database until the second has been refused, however long that takes.
      await t.db.close();
      const first = startScript(childMigrate(t.location, migrationsDir(BASIC), 'pglite', true));
      await first.waitFor('opened');
      const second = await startScript(childMigrate(t.location, migrationsDir(BASIC), 'pglite')).finished;
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('is in use by process');
      first.process.kill('SIGUSR2');
      expect((await first.finished).code).toBe(0);
      t.db = await openPglite(t.location);
      expect((await t.db.query('SELECT count(*)::int AS n FROM schema_migrations')).rows).toEqual([{ n: 2 }]);
      return;
    }
    const dir = migrationsDir({
      '0001_slow.sql': 'CREATE TABLE runs (n int); SELECT pg_sleep(0.5); INSERT INTO runs VALUES (1);',
      '0002_more.sql': 'INSERT INTO runs VALUES (2);',
    });
    const children = [startScript(childMigrate(t.location, dir, 'pg')), startScript(childMigrate(t.location, dir, 'pg'))];
    const done = await Promise.all(children.map((c) => c.finished));
    expect(done.map((d) => d.code)).toEqual([0, 0]);
    const applied = done.flatMap((d) => JSON.parse(d.stdout.trim().split('\n').pop()!) as string[]);
    expect(applied.sort()).toEqual(['0001_slow.sql', '0002_more.sql']);
    expect((await t.db.query('SELECT n FROM runs ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('is before or after a migration, never in between, when the process is killed during it', async () => {
    const t = await fresh();
    // The sleep runs only in the child, which sets chancery.test_sleep on its one connection.
    const dir = migrationsDir({
      '0001_first.sql': BASIC['0001_first.sql'],
      '0002_long.sql':
        "CREATE TABLE partial (id int); INSERT INTO partial VALUES (1); SELECT pg_sleep(current_setting('chancery.test_sleep', true)::float8);",
    });
    if (driver.name === 'pglite') await t.db.close();
    const child = startScript(childMigrate(t.location, dir, driver.name, false, 30));
    await child.waitFor('opened');
    // Wait until the long migration is running, then kill the process without warning.
    const sleeping = "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%test_sleep%' AND pid <> pg_backend_pid()";
    if (driver.name === 'pg') {
      for (let i = 0; i < 200 && (await t.db.query(sleeping)).rowCount === 0; i++) await new Promise((r) => setTimeout(r, 50));
    } else {
      // The child says so as it hands the script to PGlite, which then runs it (30 s) without
      // yielding; a moment more puts the kill well inside it.
      await child.waitFor('running 0002_long.sql');
      await new Promise((r) => setTimeout(r, 250));
    }
    child.process.kill('SIGKILL');
    await child.finished;

    if (driver.name === 'pglite') t.db = await openPglite(t.location);
    // A server backend notices its client is gone only when it next talks to it; end the
    // orphan now instead of waiting out its sleep (its open transaction is rolled back).
    else
      await t.db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%test_sleep%' AND pid <> pg_backend_pid()`,
      );
    const ids = (await t.db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id')).rows.map((r) => r.id);
    expect(ids).not.toContain(2);
    expect((await t.db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'partial'")).rowCount).toBe(0);
    // The next start completes the work, exactly once.
    await migrate(t.db, readMigrations(dir));
    expect((await t.db.query('SELECT id FROM schema_migrations ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect((await t.db.query('SELECT * FROM partial')).rows).toEqual([{ id: 1 }]);
  });
});

/**
 * Source of a child process that opens the database, prints "opened", migrates (printing "running
 * FILE" as each migration script starts), and prints the applied files as JSON. With `hold`, it
 * keeps the database open until it gets SIGUSR2.
 */
function childMigrate(location: string, dir: string, driver: 'pg' | 'pglite', hold = false, sleepSeconds = 0): string {
  return `
    const released = new Promise((r) => process.once('SIGUSR2', r));
    const { readMigrations, migrate } = await import(${JSON.stringify(join(DIST_SRC, 'db', 'migrate.js'))});
    const { ${driver === 'pg' ? 'openPg' : 'openPglite'}: open } = await import(${JSON.stringify(join(DIST_SRC, 'db', driver === 'pg' ? 'pg.js' : 'pglite.js'))});
    let db;
    try { db = await open(${JSON.stringify(location)}${driver === 'pg' ? ', { max: 1 }' : ''}); } catch (e) { process.stderr.write(e.message + '\\n'); process.exit(3); }
    if (${sleepSeconds} > 0) await db.query("SET chancery.test_sleep = '${sleepSeconds}'");
    const migrations = readMigrations(${JSON.stringify(dir)});
    const transaction = db.transaction.bind(db);
    db.transaction = (fn, options) => transaction((tx) => fn({
      query: (...args) => tx.query(...args),
      execScript: (sql) => {
        const m = migrations.find((m) => m.sql === sql);
        if (m !== undefined) console.log('running ' + m.file);
        return tx.execScript(sql);
      },
    }), options);
    console.log('opened');
    const applied = await migrate(db, migrations);
    if (${hold}) await released;
    await db.close();
    console.log(JSON.stringify(applied));
  `;
}
