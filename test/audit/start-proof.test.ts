import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/audit/entry.js';
import { CHECKPOINT_FILE } from '../../src/audit/checkpointer.js';
import { LogBuilder } from '../../src/audit/log-builder.js';
import { rangeNodes } from '../../src/audit/merkle.js';
import { openLogKey } from '../../src/audit/log-key.js';
import { openAudit, type AuditPart } from '../../src/audit/open.js';
import { proveLogAtStart, VERIFIED_FILE } from '../../src/audit/prove-start.js';
import { listCheckpoints, readTreeHead } from '../../src/audit/store.js';
import type { AuditKind } from '../../src/audit/types.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import type { Database } from '../../src/db/types.js';
import { createLogger } from '../../src/log.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { expectIntactLog, testEntry } from './helpers.js';

/**
 * Start-up proves the database's log, not only the checkpoint file: the database's own signed
 * checkpoints, the stored subtrees against the entry bytes, and debris beyond the head. Tampering
 * is done as a superuser with the guard triggers off (test connections are superusers on both
 * drivers), as in tampering.test.ts.
 */
const PASSPHRASE = 'test-only passphrase, not a secret';
const quiet = createLogger('silent');
const SIZE = 60;

async function asSuperuser(db: Database, statements: Array<[string, unknown[]?]>): Promise<void> {
  await db.transaction(async (tx) => {
    for (const table of ['audit_entries', 'audit_nodes', 'audit_tree', 'audit_checkpoints']) {
      await tx.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    }
    for (const [sql, params] of statements) await tx.query(sql, params ?? []);
  });
}

/** Rewrites the whole log so every hash, chain link, subtree and the head are consistent again, with entry 17 changed. */
async function rewriteHistory(db: Database): Promise<void> {
  const { rows } = await db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq');
  const builder = new LogBuilder();
  const entries: string[] = [];
  const nodes: Array<[number, number, Buffer]> = [];
  let last: Buffer | null = null;
  for (const row of rows) {
    const decoded = decodeEntry(row.entry);
    if (!decoded.ok) throw new Error(decoded.reason);
    const e = decoded.entry;
    const data = e.seq === 17 ? { ...e.data, decision: 'refused' } : e.data;
    const built = builder.append({ kind: e.kind as AuditKind, actor: e.actor, subject: e.subject, data }, (l, i, h) =>
      nodes.push([l, i, h]),
    );
    entries.push(built.bytes.toString('utf8'));
    last = built.leafHash;
  }
  const frontier = rangeNodes({ begin: 0, end: rows.length });
  const byKey = new Map(nodes.map(([l, i, h]) => [`${l}/${i}`, h]));
  await asSuperuser(db, [
    ['DELETE FROM audit_entries'],
    ['DELETE FROM audit_nodes'],
    [
      `INSERT INTO audit_entries (seq, leaf_hash, kind, subject, entry)
       SELECT o - 1, sha256('\\x00'::bytea || convert_to(t, 'UTF8')), t::jsonb ->> 'kind', t::jsonb ->> 'subject', convert_to(t, 'UTF8')
         FROM unnest($1::text[]) WITH ORDINALITY AS u(t, o)`,
      [entries],
    ],
    [
      'INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])',
      [nodes.map((n) => n[0]), nodes.map((n) => n[1]), nodes.map((n) => n[2])],
    ],
    [
      'UPDATE audit_tree SET root = $1, frontier = $2, last_leaf = $3 WHERE id',
      [builder.root(), Buffer.concat(frontier.map((id) => (id.level === 0 ? last! : byKey.get(`${id.level}/${id.index}`)!))), last],
    ],
  ]);
}

/** A proper rollback to `size` entries: entries, subtrees and head cut consistently (checkpoints kept unless asked). */
function rollbackTo(size: number, dropCheckpoints: boolean): Array<[string, unknown[]?]> {
  return [
    ['DELETE FROM audit_entries WHERE seq >= $1', [size]],
    ['DELETE FROM audit_nodes WHERE (idx + 1) * (1::bigint << level) > $1', [size]],
    [
      `UPDATE audit_tree SET size = $1, root = audit_root_at($1), last_leaf = (SELECT leaf_hash FROM audit_entries WHERE seq = $1 - 1),
         frontier = (SELECT string_agg(h, ''::bytea ORDER BY ord) FROM (
           SELECT CASE WHEN w.level = 0 THEN (SELECT leaf_hash FROM audit_entries WHERE seq = w.idx)
                       ELSE (SELECT hash FROM audit_nodes n WHERE n.level = w.level AND n.idx = w.idx) END AS h, w.ord
             FROM (SELECT l AS level, ($1::bigint >> l) - 1 AS idx, -l AS ord FROM generate_series(0, 62) AS l
                    WHERE (($1::bigint >> l) & 1) = 1) AS w) AS f)
       WHERE id`,
      [size],
    ],
    ...(dropCheckpoints ? ([['DELETE FROM audit_checkpoints WHERE size > $1', [size]]] as Array<[string, unknown[]]>) : []),
  ];
}

describe.each(drivers())('start-up proves the database, not only the file, on $name', (driver) => {
  const cleanup: Array<() => Promise<void>> = [];
  let t: TestDatabase;
  let dir: string;

  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'chancery-start-'));
    cleanup.push(async () => rmSync(d, { recursive: true, force: true }));
    return d;
  }
  /** A new node: the same key, nothing else (no log-checkpoint, no verified-size marker). */
  function newNode(): string {
    const d = tempDir();
    cpSync(join(dir, 'keys'), join(d, 'keys'), { recursive: true });
    return d;
  }
  async function open(dataDir: string, logger = quiet): Promise<AuditPart> {
    const part = await openAudit({ db: t.db, keyStore: new FileKeyStore(join(dataDir, 'keys'), PASSPHRASE), dataDir, logger });
    cleanup.push(() => part.close());
    return part;
  }
  async function refused(dataDir: string): Promise<string> {
    const before = await listCheckpoints(t.db);
    const error = await expectCode(() => open(dataDir), 'ERR_AUDIT_STATE_INCONSISTENT');
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toMatch(/duplicate key/);
    expect(await listCheckpoints(t.db)).toEqual(before); // nothing re-signed
    expect(existsSync(join(dataDir, CHECKPOINT_FILE)) && dataDir !== dir).toBe(false);
    return error.message;
  }

  beforeEach(async () => {
    t = await createMigrated(driver);
    cleanup.push(() => t.drop());
    dir = tempDir();
    const part = await openAudit({ db: t.db, keyStore: new FileKeyStore(join(dir, 'keys'), PASSPHRASE), dataDir: dir, logger: quiet });
    // Three commits, a checkpoint after each: the database holds signed checkpoints at 20, 40, 60.
    for (let batch = 0; batch < 3; batch++) {
      await part.log.record(async (_tx, append) => {
        for (let i = 0; i < SIZE / 3; i++)
          await append(testEntry(`submission:${(batch * 20 + i) % 9}`, { n: batch * 20 + i, decision: 'approved' }));
      });
      await part.checkpointer.publish();
    }
    await part.close();
    expect((await listCheckpoints(t.db)).map((c) => c.size)).toEqual([0, 20, 40, 60]);
  });

  it('(a) refuses a history rewritten with consistent hashes when the checkpoint file is absent, and signs nothing', async () => {
    await rewriteHistory(t.db);
    await expectIntactLog(t.db); // every hash and chain is consistent: only signed checkpoints can tell
    const message = await refused(newNode());
    expect(message).toMatch(/checkpoint/);
    // With the file, and with only the verified-size marker, it is refused too.
    expect(await refused(dir)).toMatch(/disagrees with the checkpoint in/);
    const markerOnly = newNode();
    cpSync(join(dir, VERIFIED_FILE), join(markerOnly, VERIFIED_FILE));
    expect(await refused(markerOnly)).toMatch(/disagrees with what this data dir proved/);
  });

  it('(a) refuses entry bytes changed under their stored hashes (the subtrees and checkpoints no longer match the bytes)', async () => {
    await asSuperuser(t.db, [
      [
        `UPDATE audit_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), '"approved"', '"refused"'), 'UTF8') WHERE seq = 33`,
      ],
    ]);
    expect(await refused(newNode())).toMatch(/entry 33 does not hash to its stored leaf hash/);
  });

  it('(a) refuses entry bytes that are not UTF-8 with the one-line refusal, not a driver error', async () => {
    await asSuperuser(t.db, [["UPDATE audit_entries SET entry = '\\xff00'::bytea WHERE seq = 5"]]);
    expect(await refused(newNode())).toMatch(/audit entries 0\.\.59 cannot be read as log entries/);
  });

  it('(b) refuses a rollback when the checkpoint file is gone: the database still holds its signed checkpoints', async () => {
    await asSuperuser(t.db, rollbackTo(45, false));
    await expectIntactLog(t.db);
    expect(await refused(newNode())).toMatch(/holds a signed checkpoint at size 60 but its audit log has 45 entries/);
  });

  it('(b) refuses a rollback that also removed the checkpoints, when the data dir proved the larger log (file deleted, marker kept)', async () => {
    await asSuperuser(t.db, rollbackTo(45, true));
    const node = newNode();
    cpSync(join(dir, VERIFIED_FILE), join(node, VERIFIED_FILE));
    expect(await refused(node)).toMatch(/has 45 entries but this data dir proved it at 60/);
  });

  it('(c) refuses a crude tail cut with the one-line refusal, not a duplicate key on the next append', async () => {
    // Entries and the head cut, the subtrees left behind.
    await asSuperuser(t.db, [
      ['DELETE FROM audit_entries WHERE seq >= 45'],
      [
        `UPDATE audit_tree SET size = 45, root = audit_root_at(45), last_leaf = (SELECT leaf_hash FROM audit_entries WHERE seq = 44) WHERE id`,
      ],
      ['DELETE FROM audit_checkpoints WHERE size > 45'],
    ]);
    expect(await refused(newNode())).toMatch(/subtree \d+\/\d+ beyond its tree head \(45 entries\)/);
  });

  it('(c) refuses entries deleted under an untouched head', async () => {
    await asSuperuser(t.db, [['DELETE FROM audit_entries WHERE seq >= 45']]);
    expect(await refused(newNode())).toMatch(/has no entry 45 below its tree head \(60 entries\)/);
  });

  it('(d) a clean restart works with the file, and the marker (moved at start and at a clean stop) keeps it from re-hashing what it proved', async () => {
    const key = await openLogKey(new FileKeyStore(join(dir, 'keys'), PASSPHRASE), dir);
    const again = await proveLogAtStart(t.db, key, dir, quiet);
    expect(again).toMatchObject({ size: SIZE, rehashed: 0, trusted: { size: SIZE, source: 'file' } });
    const part = await open(dir);
    await part.log.record(async (_tx, append) => append(testEntry('submission:later')));
    await part.close();
    // A clean stop proved what the run appended; a crash would leave it to the next start.
    expect(await proveLogAtStart(t.db, key, dir, quiet)).toMatchObject({ size: SIZE + 1, rehashed: 0 });
    rmSync(join(dir, VERIFIED_FILE));
    expect(await proveLogAtStart(t.db, key, dir, quiet)).toMatchObject({ size: SIZE + 1, rehashed: SIZE + 1 });
  });

  it('(d) a clean start without the file proves every entry, takes the newest checkpoint the database holds, and says so', async () => {
    const node = newNode();
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const part = await open(node, logger);
    await part.close();
    const said = lines.map((l) => JSON.parse(l) as { msg: string; size?: number; rehashed?: number });
    expect(
      said.find((l) => l.msg.startsWith(`no ${CHECKPOINT_FILE} in the data dir: trusting the database's newest checkpoint`)),
    ).toMatchObject({
      size: SIZE,
    });
    expect(said.find((l) => l.msg === 'audit log proved at start')).toMatchObject({ size: SIZE, rehashed: SIZE });
    expect(existsSync(join(node, CHECKPOINT_FILE))).toBe(true);
    expect((await readTreeHead(t.db)).size).toBe(SIZE);
    expect((await listCheckpoints(t.db)).map((c) => c.size)).toEqual([0, 20, 40, 60]);
  });
});
