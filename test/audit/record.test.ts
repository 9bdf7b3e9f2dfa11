import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ENTRY_BYTES } from '../../src/audit/entry.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import type { Database } from '../../src/db/types.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { expectIntactLog, testEntry } from './helpers.js';

describe.each(drivers())('audit record() on $name', (driver) => {
  let t: TestDatabase;
  let db: Database;
  let log: GroupCommitLog;

  beforeEach(async () => {
    t = await createMigrated(driver);
    db = t.db;
    await db.query('CREATE TABLE audit_test_state (id text PRIMARY KEY, n integer NOT NULL)');
    log = new GroupCommitLog({ db, clock: () => new Date('2025-03-01T08:00:00.000Z') });
  });
  afterEach(async () => {
    await log.close();
    await t.drop();
  });

  it('appends gapless entries chained globally and per subject, and returns index, leaf hash and time', async () => {
    const first = await log.record(async (_tx, append) => [await append(testEntry('a')), await append(testEntry('b'))]);
    const second = await log.record(async (_tx, append) => append(testEntry('a', { step: 2 })));
    expect(first.map((e) => e.index)).toEqual([0, 1]);
    expect(second.index).toBe(2);
    expect(second.time).toBe('2025-03-01T08:00:00.000Z');
    expect(second.leafHash).toMatch(/^[0-9a-f]{64}$/);
    const entries = await expectIntactLog(db);
    expect(entries[2]!.subjectPrev).toBe(first[0]!.leafHash);
    expect(entries[2]!.prev).toBe(first[1]!.leafHash);
    expect(entries[0]!.prev).toBeNull();
  });

  it('commits the caller state change and its entries together, and resolves only after the commit', async () => {
    const result = await log.record(async (tx, append) => {
      await tx.query("INSERT INTO audit_test_state VALUES ('x', 1)");
      return append(testEntry('x'));
    });
    // Read outside the batch transaction: both are durable once record() resolved.
    const state = await db.query('SELECT n FROM audit_test_state WHERE id = $1', ['x']);
    const entry = await db.query('SELECT seq FROM audit_entries WHERE seq = $1', [result.index]);
    expect(state.rowCount).toBe(1);
    expect(entry.rowCount).toBe(1);
  });

  it('shares one transaction among concurrent callers and keeps one gapless chain', async () => {
    let transactions = 0;
    const counting: Database = Object.create(db, {
      transaction: {
        value: (fn: Parameters<Database['transaction']>[0], o?: Parameters<Database['transaction']>[1]) => (
          transactions++,
          db.transaction(fn, o)
        ),
      },
    }) as Database;
    const grouped = new GroupCommitLog({ db: counting });
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        grouped.record(async (tx, append) => {
          await tx.query('INSERT INTO audit_test_state VALUES ($1, $2)', [`c${i}`, i]);
          return append(testEntry(`subject-${i % 7}`, { i }));
        }),
      ),
    );
    await grouped.close();
    expect(new Set(results.map((r) => r.index)).size).toBe(120);
    expect(transactions).toBeLessThan(120);
    const entries = await expectIntactLog(db);
    expect(entries).toHaveLength(120);
  });

  it("rolls back only the failing caller's statements and entries; the others commit with no gap", async () => {
    const calls = [0, 1, 2, 3, 4].map((i) =>
      log.record(async (tx, append) => {
        await tx.query('INSERT INTO audit_test_state VALUES ($1, $2)', [`f${i}`, i]);
        const appended = await append(testEntry(`f${i}`));
        if (i === 2) throw new Error('caller 2 changed its mind');
        return appended;
      }),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(((settled[2] as PromiseRejectedResult).reason as Error).message).toBe('caller 2 changed its mind');
    const ids = (await db.query<{ id: string }>('SELECT id FROM audit_test_state ORDER BY id')).rows.map((r) => r.id);
    expect(ids).toEqual(['f0', 'f1', 'f3', 'f4']);
    const entries = await expectIntactLog(db);
    expect(entries.map((e) => e.subject)).toEqual(['f0', 'f1', 'f3', 'f4']);
  });

  it('recovers a caller whose statement failed inside the database (aborted subtransaction)', async () => {
    await db.query("INSERT INTO audit_test_state VALUES ('dup', 0)");
    const bad = log.record(async (tx, append) => {
      await append(testEntry('dup'));
      await tx.query("INSERT INTO audit_test_state VALUES ('dup', 1)");
    });
    const good = log.record(async (tx, append) => {
      await tx.query("INSERT INTO audit_test_state VALUES ('ok', 1)");
      return append(testEntry('ok'));
    });
    await expect(bad).rejects.toMatchObject({ code: '23505' });
    expect((await good).index).toBe(0);
    await expectIntactLog(db);
  });

  it('re-runs the work on a unique violation when asked (insert unless it exists)', async () => {
    let runs = 0;
    await db.query("INSERT INTO audit_test_state VALUES ('race', 0)");
    const result = await log.record(
      async (tx, append) => {
        runs++;
        if (runs === 1) await tx.query("INSERT INTO audit_test_state VALUES ('race', 1)");
        return append(testEntry('race'));
      },
      { retryOnUniqueViolation: true },
    );
    expect(runs).toBe(2);
    expect(result.index).toBe(0);
    await expectIntactLog(db);
  });

  it('refuses a nested record() and a tx used after its work settled', async () => {
    await expectCode(() => log.record(async () => log.record(async () => 1)), 'ERR_AUDIT_MISUSE');
    let leaked: Parameters<Parameters<GroupCommitLog['record']>[0]>[0] | undefined;
    await log.record(async (tx) => {
      leaked = tx;
    });
    await expectCode(() => leaked!.query('SELECT 1'), 'ERR_AUDIT_MISUSE');
  });

  it('refuses non-integer numbers, unknown kinds and entries over 64 KiB, failing only that caller', async () => {
    const float = log.record(async (_tx, append) => append(testEntry('n', { amount: 1.5 })));
    const kind = log.record(async (_tx, append) => append({ ...testEntry('k'), kind: 'made.up' as never }));
    const big = log.record(async (_tx, append) => append(testEntry('b', { blob: 'x'.repeat(MAX_ENTRY_BYTES) })));
    const fine = log.record(async (_tx, append) => append(testEntry('fine')));
    await expectCode(() => float, 'ERR_AUDIT_ENTRY_INVALID');
    await expectCode(() => kind, 'ERR_AUDIT_ENTRY_INVALID');
    await expectCode(() => big, 'ERR_AUDIT_ENTRY_TOO_LARGE');
    expect((await fine).index).toBe(0);
    await expectIntactLog(db);
  });

  it('keeps subject chains right when two writers (two processes) interleave on one database', async () => {
    const other = new GroupCommitLog({ db });
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        log.record(async (_tx, append) => append(testEntry('shared', { round, by: 'a' }))),
        other.record(async (_tx, append) => append(testEntry('shared', { round, by: 'b' }))),
      ]);
    }
    await other.close();
    const entries = await expectIntactLog(db);
    expect(entries).toHaveLength(10);
  });

  it('forgets its subject knowledge and re-runs the batch when the database refuses a chain link', async () => {
    let refused = 0;
    const refusing: Database = Object.create(db, {
      transaction: {
        value: (fn: Parameters<Database['transaction']>[0], o?: Parameters<Database['transaction']>[1]) =>
          db.transaction(
            (tx) =>
              fn(
                Object.create(tx, {
                  query: {
                    value: (sql: string, params?: unknown[]) => {
                      if (sql.includes('audit_append(') && refused++ === 0) {
                        return Promise.reject(Object.assign(new Error('audit_append: entry 0 has subjectPrev x'), { code: 'P0001' }));
                      }
                      return tx.query(sql, params);
                    },
                  },
                }) as typeof tx,
              ),
            o,
          ),
      },
    }) as Database;
    const retrying = new GroupCommitLog({ db: refusing });
    const results = await Promise.all([1, 2, 3].map((i) => retrying.record(async (_tx, append) => append(testEntry(`r${i}`)))));
    await retrying.close();
    expect(refused).toBeGreaterThanOrEqual(2); // the refused call, its re-run, and any later batch
    expect(results.map((r) => r.index).sort()).toEqual([0, 1, 2]);
    await expectIntactLog(db);
  });

  it('refuses new work after close()', async () => {
    await log.close();
    await expectCode(() => log.record(async () => 1), 'ERR_AUDIT_CLOSED');
  });
});
