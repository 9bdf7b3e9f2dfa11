import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/types.js';
import { drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';

// The same file runs against every driver: same SQL, same behaviour.
describe.each(drivers())('database driver $name', (driver) => {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await driver.create();
    db = t.db;
    await db.query('CREATE TABLE item (id int8 PRIMARY KEY, body bytea, doc jsonb, at timestamptz)');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('reports which driver it is', () => {
    expect(db.driver).toBe(driver.name);
  });

  it('returns int8 as number, bytea as Buffer, jsonb as objects and timestamptz as Date', async () => {
    await db.query('INSERT INTO item VALUES ($1, $2, $3, $4)', [
      9007199254740991,
      Buffer.from([0, 1, 255]),
      { a: [1, 'x'] },
      new Date('2026-01-02T03:04:05Z'),
    ]);
    const { rows, rowCount } = await db.query<{ id: number; body: Buffer; doc: unknown; at: Date }>(
      'SELECT * FROM item WHERE id = $1',
      [9007199254740991],
    );
    expect(rowCount).toBe(1);
    expect(rows[0]!.id).toBe(9007199254740991);
    expect(Buffer.isBuffer(rows[0]!.body)).toBe(true);
    expect([...rows[0]!.body]).toEqual([0, 1, 255]);
    expect(rows[0]!.doc).toEqual({ a: [1, 'x'] });
    expect(rows[0]!.at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('counts affected rows of DML', async () => {
    const result = await db.query('INSERT INTO item (id) VALUES (101), (102), (103)');
    expect(result.rowCount).toBe(3);
    const deleted = await db.query('DELETE FROM item WHERE id BETWEEN 101 AND 199');
    expect(deleted.rowCount).toBe(3);
  });

  it('commits a transaction whose callback resolves', async () => {
    const value = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO item (id) VALUES (1)');
      return 'done';
    });
    expect(value).toBe('done');
    expect((await db.query('SELECT id FROM item WHERE id = 1')).rowCount).toBe(1);
  });

  it('rolls back every statement of a transaction whose callback throws', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO item (id) VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await db.query('SELECT id FROM item WHERE id = 2')).rowCount).toBe(0);
  });

  it('retries the whole callback on a serialization failure and then commits once', async () => {
    let attempts = 0;
    await db.transaction(async (tx) => {
      attempts++;
      await tx.query('INSERT INTO item (id) VALUES (3)');
      // A real SQLSTATE 40001 raised by the server, as a conflicting transaction would get.
      if (attempts < 3) await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`);
    });
    expect(attempts).toBe(3);
    expect((await db.query('SELECT id FROM item WHERE id = 3')).rowCount).toBe(1);
  });

  it('does not retry a unique violation unless the caller marks it retryable', async () => {
    await db.query('INSERT INTO item (id) VALUES (4)');
    let attempts = 0;
    await expect(
      db.transaction(async (tx) => {
        attempts++;
        await tx.query('INSERT INTO item (id) VALUES (4)');
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(attempts).toBe(1);
  });

  it('retries a unique violation when marked, so "insert unless it exists" converges', async () => {
    let attempts = 0;
    const outcome = await db.transaction(
      async (tx) => {
        attempts++;
        const existing = await tx.query('SELECT 1 FROM item WHERE id = 5');
        if (existing.rowCount > 0) return 'existing';
        if (attempts === 1) await tx.query('INSERT INTO item (id) VALUES (5), (5)'); // collides with itself
        await tx.query('INSERT INTO item (id) VALUES (5)');
        return 'inserted';
      },
      { retryOnUniqueViolation: true },
    );
    expect(attempts).toBe(2);
    expect(outcome).toBe('inserted');
  });

  it('gives up with a coded error after the allowed attempts', async () => {
    await expectCode(
      () =>
        db.transaction(
          async (tx) => {
            await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40P01'; END $$`);
          },
          { maxAttempts: 2 },
        ),
      'ERR_DB_RETRIES_EXHAUSTED',
    );
  });

  it('runs serializable transactions when asked', async () => {
    const level = await db.transaction(
      async (tx) => (await tx.query<{ l: string }>('SELECT current_setting($1) AS l', ['transaction_isolation'])).rows[0]!.l,
      {
        isolation: 'serializable',
      },
    );
    expect(level).toBe('serializable');
  });

  it('keeps concurrent transactions isolated and all of them committed', async () => {
    await db.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
    await db.query('INSERT INTO counter VALUES (1, 0)');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter WHERE id = 1 FOR UPDATE');
          await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [rows[0]!.n + 1]);
        }),
      ),
    );
    expect((await db.query<{ n: number }>('SELECT n FROM counter')).rows[0]!.n).toBe(20);
  });
});
