import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { CHECKPOINT_FILE } from '../../src/audit/checkpointer.js';
import { LOG_ORIGIN_FILE, LOG_VKEY_FILE, openLogKey } from '../../src/audit/log-key.js';
import { parseVerifierKey } from '../../src/audit/note.js';
import { openAudit, type AuditPart } from '../../src/audit/open.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import { listCheckpoints } from '../../src/audit/store.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { createLogger } from '../../src/log.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { testEntry } from './helpers.js';

const PASSPHRASE = 'test-only passphrase, not a secret';
const logger = createLogger('silent');

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(drivers())('audit checkpoints and the start-up guard on $name', (driver) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function database(): Promise<TestDatabase> {
    const t = await createMigrated(driver);
    cleanup.push(() => t.drop());
    return t;
  }
  function dataDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'chancery-audit-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  async function open(t: TestDatabase, dir: string, pollMs = 200): Promise<AuditPart> {
    const part = await openAudit({
      db: t.db,
      keyStore: new FileKeyStore(join(dir, 'keys'), PASSPHRASE),
      dataDir: dir,
      logger,
      checkpointDelayMs: 50,
      checkpointPollMs: pollMs,
    });
    cleanup.push(() => part.close());
    return part;
  }
  async function appendSome(part: AuditPart, n: number, tag: string): Promise<void> {
    await part.log.record(async (_tx, append) => {
      for (let i = 0; i < n; i++) await append(testEntry(`${tag}-${i % 3}`, { i }));
    });
  }

  it('creates the log key once: origin next to the key, log.vkey in the data dir, the same on reopen', async () => {
    const dir = dataDir();
    const store = new FileKeyStore(join(dir, 'keys'), PASSPHRASE);
    const first = await openLogKey(store, dir);
    const again = await openLogKey(new FileKeyStore(join(dir, 'keys'), PASSPHRASE), dir);
    expect(again.vkey).toBe(first.vkey);
    expect(readFileSync(join(dir, LOG_VKEY_FILE), 'utf8')).toBe(`${first.vkey}\n`);
    expect(readFileSync(join(dir, LOG_ORIGIN_FILE), 'utf8').trim()).toBe(first.origin);
    expect(parseVerifierKey(first.vkey).name).toBe(first.origin);
    expect(first.signer.algorithm).toBe('EdDSA');
  });

  it('publishes a checkpoint at start, then one covering new entries once they commit; stores every one and keeps the latest in the data dir', async () => {
    const t = await database();
    const dir = dataDir();
    // The poll is a minute away: only the commit's own notification can publish (after 50 ms).
    const part = await open(t, dir, 60_000);
    const first = await part.reader.latestCheckpoint();
    expect(first.size).toBe(0);
    await appendSome(part, 5, 'a');
    const covering = await waitFor(async () => {
      const c = await part.reader.latestCheckpoint();
      return c.size === 5 ? c : undefined;
    });
    const parsed = openCheckpoint(covering.note, part.logKey.verifier, part.logKey.origin);
    expect(parsed.root.equals(covering.root)).toBe(true);
    await waitFor(async () =>
      existsSync(join(dir, CHECKPOINT_FILE)) && openCheckpoint(readFileSync(join(dir, CHECKPOINT_FILE)), part.logKey.verifier).size === 5
        ? true
        : undefined,
    );
    await appendSome(part, 3, 'b');
    await waitFor(async () => ((await part.reader.latestCheckpoint()).size === 8 ? true : undefined));
    expect((await listCheckpoints(t.db)).map((c) => c.size)).toEqual([0, 5, 8]);
  });

  it('publishes checkpoints for entries another process appended (the poll)', async () => {
    const t = await database();
    const part = await open(t, dataDir());
    const other = new GroupCommitLog({ db: t.db }); // no checkpointer of its own
    await other.record(async (_tx, append) => append(testEntry('elsewhere')));
    await other.close();
    await waitFor(async () => ((await part.reader.latestCheckpoint()).size === 1 ? true : undefined));
  });

  it('refuses to store a checkpoint whose root is not the tree root at its size', async () => {
    const t = await database();
    const part = await open(t, dataDir());
    await appendSome(part, 4, 'c');
    await expect(t.db.query('SELECT audit_store_checkpoint(2, $1, $2)', [Buffer.alloc(32, 1), 'forged'])).rejects.toThrow(
      /is not the root of the first 2 entries/,
    );
    await expect(t.db.query('SELECT audit_store_checkpoint(99, $1, $2)', [Buffer.alloc(32, 1), 'forged'])).rejects.toThrow(
      /beyond the log/,
    );
  });

  it('refuses to start when the database is behind the checkpoint kept in the data dir', async () => {
    const dir = dataDir();
    const t1 = await database();
    const part = await open(t1, dir);
    await appendSome(part, 6, 'd');
    await part.close();
    expect(openCheckpoint(readFileSync(join(dir, CHECKPOINT_FILE)), part.logKey.verifier).size).toBe(6);
    const t2 = await database(); // an "old backup": the empty log
    const error = await expectCode(() => open(t2, dir), 'ERR_AUDIT_STATE_INCONSISTENT');
    expect(error.message).toMatch(/has 0 entries but the checkpoint in .* covers 6: the database is behind/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses to start when the database disagrees with that checkpoint (a rewritten history of the same size)', async () => {
    const dir = dataDir();
    const t1 = await database();
    const part = await open(t1, dir);
    await appendSome(part, 6, 'e');
    await part.close();
    // Another history of 6 entries, in a database that has never seen this data dir's key.
    const t2 = await database();
    const otherDir = dataDir();
    const other = await open(t2, otherDir);
    await appendSome(other, 6, 'forged');
    await other.close();
    const error = await expectCode(() => open(t2, dir), 'ERR_AUDIT_STATE_INCONSISTENT');
    expect(error.message).toMatch(/disagrees with the checkpoint/);
  });

  it('refuses to start on a database whose checkpoints another log key signed', async () => {
    const t = await database();
    const first = await open(t, dataDir());
    await appendSome(first, 2, 'f');
    await first.close();
    const error = await expectCode(() => open(t, dataDir()), 'ERR_AUDIT_STATE_INCONSISTENT');
    expect(error.message).toMatch(/was not signed by this data dir's log key/);
  });

  it('starts again on its own database and data dir, and a copied data dir (same key) serves the same log', async () => {
    const dir = dataDir();
    const t = await database();
    const part = await open(t, dir);
    await appendSome(part, 3, 'g');
    await part.close();
    const reopened = await open(t, dir);
    await appendSome(reopened, 2, 'g');
    await reopened.close();
    const copy = dataDir();
    cpSync(join(dir, 'keys'), join(copy, 'keys'), { recursive: true });
    const second = await open(t, copy);
    expect(second.logKey.vkey).toBe(reopened.logKey.vkey);
    expect((await second.reader.latestCheckpoint()).size).toBe(5);
  });
});
