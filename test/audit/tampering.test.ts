import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/audit/entry.js';
import { hashLeaf } from '../../src/audit/merkle.js';
import { openAudit, type AuditPart } from '../../src/audit/open.js';
import { LogReader } from '../../src/audit/reader.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { migrate } from '../../src/db/migrate.js';
import { openPg } from '../../src/db/pg.js';
import type { Database } from '../../src/db/types.js';
import { createApp } from '../../src/http/app.js';
import { logRoutes } from '../../src/http/routes/log.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPgDatabase, dropPgDatabase, pgOnly } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { runCli } from '../helpers/spawn.js';
import { expectIntactLog, testEntry } from './helpers.js';

/**
 * What a database administrator can do, and what catches it (README § Audit log): the guard
 * triggers and the service role stop accidents and a compromised service; a superuser who
 * drops the guards is caught by `chancery audit verify`, which names the first bad index.
 */
const driver = pgOnly();
if (driver === undefined) process.stderr.write('skip: DATABASE_URL is not set; the audit tampering tests need real PostgreSQL\n');

const PASSPHRASE = 'test-only passphrase, not a secret';
const logger = createLogger('silent');
const SIZE = 60;

/** Runs `sql` as a superuser who first switches the guard triggers off (and leaves them off). */
async function superuser(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_nodes DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_tree DISABLE TRIGGER USER');
    await client.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await client.query(sql, params);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

async function cloneDatabase(template: string): Promise<string> {
  const url = new URL(template);
  const name = `${url.pathname.slice(1)}_c${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${url.pathname.slice(1)}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

describe.skipIf(driver === undefined)('tampering with the audit log in PostgreSQL', () => {
  let base: string;
  let dataDir: string;
  let vkeyFile: string;
  let trustedFile: string;
  const cleanup: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    base = await createPgDatabase();
    cleanup.push(() => dropPgDatabase(base));
    dataDir = mkdtempSync(join(tmpdir(), 'chancery-tamper-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const db = await openPg(base);
    await migrate(db);
    const part = await openAudit({
      db,
      keyStore: new FileKeyStore(join(dataDir, 'keys'), PASSPHRASE),
      dataDir,
      logger,
      checkpointDelayMs: 20,
    });
    for (let batch = 0; batch < 3; batch++) {
      await part.log.record(async (_tx, append) => {
        for (let i = 0; i < SIZE / 3; i++)
          await append(testEntry(`submission:${(batch * 20 + i) % 9}`, { n: batch * 20 + i, decision: 'approved' }));
      });
    }
    await part.close();
    const latest = await part.reader.latestCheckpoint();
    expect(latest.size).toBe(SIZE);
    vkeyFile = join(dataDir, 'log.vkey');
    trustedFile = join(dataDir, 'trusted.note');
    writeFileSync(trustedFile, latest.note);
    await db.close();
  });
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  /** Serves GET /log/* of a database (what a tampered server shows auditors). */
  async function serve(url: string): Promise<{ url: string; db: Database; server: RunningServer }> {
    const db = await openPg(url);
    const { app } = createApp({
      logger,
      version: 'test',
      readiness: async () => ({ ready: true }),
      routes: [logRoutes({ reader: new LogReader(db), vkey: '' })],
    });
    const server = await listen(app, '127.0.0.1', 0);
    cleanup.push(async () => {
      await server.close(0);
      await db.close();
    });
    return { url: `http://127.0.0.1:${server.port}`, db, server };
  }

  async function auditVerify(
    url: string,
    ...extra: string[]
  ): Promise<{ ok: boolean; failure?: { index: number | null; fault: string; message: string } }> {
    const result = await runCli(['audit', 'verify', '--url', url, '--log-key', vkeyFile, '--no-state', '--json', ...extra]);
    const parsed = JSON.parse(result.stdout) as { ok: boolean };
    expect(result.code).toBe(parsed.ok ? 0 : 1);
    return parsed;
  }

  async function tampered(sql: string, params: unknown[] = []): Promise<string> {
    const url = await cloneDatabase(base);
    cleanup.push(() => dropPgDatabase(url));
    if (sql !== '') await superuser(url, sql, params);
    return (await serve(url)).url;
  }

  it('verifies the untouched log', async () => {
    expect(await auditVerify(await tampered(''))).toMatchObject({ ok: true });
  });

  it('catches an altered entry at its index (hash-mismatch)', async () => {
    const url = await tampered(
      `UPDATE audit_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), '"approved"', '"refused"'), 'UTF8') WHERE seq = 17`,
    );
    expect((await auditVerify(url)).failure).toMatchObject({ index: 17, fault: 'hash-mismatch' });
  });

  it('catches a deleted entry at its index (missing-entry)', async () => {
    expect((await auditVerify(await tampered('DELETE FROM audit_entries WHERE seq = 23'))).failure).toMatchObject({
      index: 23,
      fault: 'missing-entry',
    });
  });

  it('catches two swapped entries at the first (seq-mismatch)', async () => {
    const url = await tampered(
      `UPDATE audit_entries a SET entry = b.entry, leaf_hash = b.leaf_hash, subject = b.subject, kind = b.kind
         FROM audit_entries b WHERE (a.seq = 30 AND b.seq = 41) OR (a.seq = 41 AND b.seq = 30)`,
    );
    expect((await auditVerify(url)).failure).toMatchObject({ index: 30, fault: 'seq-mismatch' });
  });

  it('catches a forged entry inserted into the chain at its index (forged-entry)', async () => {
    const db = await openPg(base);
    const { rows } = await db.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_entries WHERE seq = 11');
    await db.close();
    const forged = encodeEntry({
      v: 1,
      seq: 12,
      time: '2025-01-01T00:00:00.000Z',
      kind: 'submission.approved',
      actor: 'officer:mallory',
      subject: 'submission:forged',
      data: { decision: 'approved' },
      prev: rows[0]!.leaf_hash.toString('hex'),
      subjectPrev: null,
    });
    // The forger shifts the later entries up by one and slips a well-formed entry in at 12.
    const clone = await cloneDatabase(base);
    cleanup.push(() => dropPgDatabase(clone));
    await superuser(clone, 'UPDATE audit_entries SET seq = seq + 1000000 WHERE seq >= 12');
    await superuser(clone, 'UPDATE audit_entries SET seq = seq - 999999 WHERE seq >= 1000000');
    await superuser(
      clone,
      `INSERT INTO audit_entries (seq, leaf_hash, kind, subject, entry) VALUES (12, $1, 'submission.approved', 'submission:forged', $2)`,
      [hashLeaf(forged), forged],
    );
    expect((await auditVerify((await serve(clone)).url)).failure).toMatchObject({ index: 12, fault: 'forged-entry' });
  });

  it('catches a cut tail covered up by re-signing: the service refuses to start over it, and the auditor names the first missing index', async () => {
    const clone = await cloneDatabase(base);
    cleanup.push(() => dropPgDatabase(clone));
    await superuser(
      clone,
      `WITH cut AS (DELETE FROM audit_entries WHERE seq >= 45 RETURNING seq)
       UPDATE audit_tree SET size = 45, root = audit_root_at(45), last_leaf = (SELECT leaf_hash FROM audit_entries WHERE seq = 44),
         frontier = (SELECT string_agg(n.hash, ''::bytea ORDER BY n.level DESC) FROM audit_nodes n WHERE (n.level, n.idx) IN ((5, 0), (3, 4), (2, 10)))
                    || (SELECT leaf_hash FROM audit_entries WHERE seq = 44)`,
    );
    await superuser(clone, 'DELETE FROM audit_nodes WHERE idx * (1::bigint << level) + (1::bigint << level) > 45');
    await superuser(clone, 'DELETE FROM audit_checkpoints WHERE size > 45');
    const db = await openPg(clone);
    cleanup.push(() => db.close());
    // This data dir signed the checkpoint at 60: the service refuses to run on the cut database.
    const refused = await expectCode(
      () => openAudit({ db, keyStore: new FileKeyStore(join(dataDir, 'keys'), PASSPHRASE), dataDir, logger }),
      'ERR_AUDIT_STATE_INCONSISTENT',
    );
    expect(refused.message).toMatch(/has 45 entries but the checkpoint .* covers 60/);
    // The operator removes the checkpoint file and restarts: the service signs the cut log.
    const coverUp = mkdtempSync(join(tmpdir(), 'chancery-tamper-'));
    cleanup.push(async () => rmSync(coverUp, { recursive: true, force: true }));
    cpSync(join(dataDir, 'keys'), join(coverUp, 'keys'), { recursive: true });
    const part: AuditPart = await openAudit({
      db,
      keyStore: new FileKeyStore(join(coverUp, 'keys'), PASSPHRASE),
      dataDir: coverUp,
      logger,
    });
    await part.close();
    expect((await part.reader.latestCheckpoint()).size).toBe(45);
    const served = await serve(clone);
    expect(await auditVerify(served.url)).toMatchObject({ ok: true }); // a consistent, shorter log
    expect((await auditVerify(served.url, '--trusted', trustedFile)).failure).toMatchObject({
      index: 45,
      fault: 'inconsistent-with-trusted',
    });
  });

  it('catches a checkpoint from a forked history (same key, different entries after a common prefix)', async () => {
    const clone = await cloneDatabase(base);
    cleanup.push(() => dropPgDatabase(clone));
    // The fork: history rewritten from entry 20 on, then grown past the trusted size.
    await superuser(clone, 'DELETE FROM audit_entries WHERE seq >= 20');
    await superuser(clone, 'DELETE FROM audit_nodes WHERE idx * (1::bigint << level) + (1::bigint << level) > 20');
    await superuser(
      clone,
      `UPDATE audit_tree SET size = 20, root = audit_root_at(20), last_leaf = (SELECT leaf_hash FROM audit_entries WHERE seq = 19),
         frontier = (SELECT string_agg(n.hash, ''::bytea ORDER BY n.level DESC) FROM audit_nodes n WHERE (n.level, n.idx) IN ((4, 0), (2, 4)))`,
    );
    await superuser(clone, 'DELETE FROM audit_checkpoints WHERE size > 20');
    const db = await openPg(clone);
    cleanup.push(() => db.close());
    const log = new GroupCommitLog({ db });
    await log.record(async (_tx, append) => {
      for (let i = 0; i < 50; i++) await append(testEntry(`submission:fork-${i % 4}`, { n: i, decision: 'refused' }));
    });
    await log.close();
    await expectIntactLog(db);
    const forkDir = mkdtempSync(join(tmpdir(), 'chancery-tamper-'));
    cleanup.push(async () => rmSync(forkDir, { recursive: true, force: true }));
    cpSync(join(dataDir, 'keys'), join(forkDir, 'keys'), { recursive: true });
    const part = await openAudit({ db, keyStore: new FileKeyStore(join(forkDir, 'keys'), PASSPHRASE), dataDir: forkDir, logger });
    await part.close();
    expect((await part.reader.latestCheckpoint()).size).toBe(70);
    const served = await serve(clone);
    expect((await auditVerify(served.url, '--trusted', trustedFile)).failure).toMatchObject({
      index: SIZE - 1,
      fault: 'inconsistent-with-trusted',
    });
  });
});

describe.skipIf(driver === undefined)('the audit guards in PostgreSQL', () => {
  let url: string;
  let db: Database;
  const ROLE = 'chancery_audit_test_login';

  beforeAll(async () => {
    url = await createPgDatabase();
    db = await openPg(url);
    await migrate(db);
    const log = new GroupCommitLog({ db });
    await log.record(async (_tx, append) => {
      for (let i = 0; i < 5; i++) await append(testEntry('guarded', { i }));
    });
    await log.close();
    // A login role for the service (cluster-wide, so created idempotently and kept).
    await db.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
        BEGIN CREATE ROLE ${ROLE} LOGIN IN ROLE chancery_service; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
      END IF; END $$`);
  });
  afterAll(async () => {
    await db.close();
    await dropPgDatabase(url);
  });

  const asService = (): string => {
    const u = new URL(url);
    u.username = ROLE;
    u.password = '';
    return u.toString();
  };

  it('refuses UPDATE, DELETE and TRUNCATE even to a superuser, also with session_replication_role = replica', async () => {
    for (const sql of [
      "UPDATE audit_entries SET kind = 'x' WHERE seq = 1",
      'DELETE FROM audit_entries WHERE seq = 1',
      'TRUNCATE audit_entries',
      'DELETE FROM audit_nodes',
      // CASCADE: the archive time-stamps reference checkpoints, and a plain TRUNCATE would be
      // refused by that foreign key before the guard is reached.
      'TRUNCATE audit_checkpoints CASCADE',
      'DELETE FROM audit_tree',
      'UPDATE audit_tree SET size = 1',
    ]) {
      await expect(db.query(sql), sql).rejects.toMatchObject({ code: '23001' });
    }
    await expect(
      db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query('DELETE FROM audit_entries WHERE seq = 1');
      }),
    ).rejects.toMatchObject({ code: '23001' });
    await expectIntactLog(db);
  });

  it('lets the service role read and append only through audit_append, never write the tables', async () => {
    const service = await openPg(asService());
    try {
      expect((await service.query('SELECT count(*)::int AS n FROM audit_entries')).rows[0]).toEqual({ n: 5 });
      for (const sql of [
        "UPDATE audit_entries SET kind = 'x'",
        'DELETE FROM audit_entries',
        'TRUNCATE audit_entries',
        "INSERT INTO audit_entries VALUES (99, '\\x00', 'k', 's', '\\x00')",
        "INSERT INTO audit_nodes VALUES (1, 99, '\\x00')",
        'UPDATE audit_tree SET size = 0',
        "INSERT INTO audit_checkpoints VALUES (1, '\\x00', 'n')",
      ]) {
        await expect(service.query(sql), sql).rejects.toMatchObject({ code: '42501' });
      }
      const log = new GroupCommitLog({ db: service });
      const appended = await log.record(async (_tx, append) => append(testEntry('guarded', { by: 'service role' })));
      await log.close();
      expect(appended.index).toBe(5);
      // The append function checks what it is given: a broken chain is refused.
      await expect(
        service.transaction(async (tx) => {
          await tx.query('SELECT * FROM audit_lock_tree()');
          await tx.query('SELECT audit_append(6, ARRAY[\'{"kind":"k","prev":null,"seq":6,"subject":"s","subjectPrev":null}\'])');
        }),
      ).rejects.toThrow(/audit_append: entry 6 has prev/);
    } finally {
      await service.close();
    }
    await expectIntactLog(db);
  });
});
