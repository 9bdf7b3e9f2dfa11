import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashChildren, hashLeaf } from '../../src/audit/merkle.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import type { Database } from '../../src/db/types.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectIntactLog, testEntry } from './helpers.js';

/**
 * audit_append computes the RFC 6962 nodes of a batch level by level, taking the left child of a
 * level's first node from the stored frontier when the batch did not make it. Batches of many
 * sizes, starting at many sizes (odd, even, powers of two and one less), are checked against the
 * tree computed here from the stored leaves: every perfect subtree stored exactly once, none
 * missing, and the root after every batch.
 */
const BATCHES = [1, 1, 2, 1, 3, 8, 5, 16, 1, 31, 33, 64, 7, 127, 2, 256, 255, 1, 100, 513, 3];

describe.each(drivers())('audit_append over batches of many sizes on $name', (driver) => {
  let t: TestDatabase;
  let db: Database;
  let log: GroupCommitLog;

  beforeAll(async () => {
    t = await createMigrated(driver);
    db = t.db;
    log = new GroupCommitLog({ db, clock: () => new Date('2025-03-01T08:00:00.000Z') });
  });
  afterAll(async () => {
    await log.close();
    await t.drop();
  });

  it('stores every complete subtree once and the right root after each batch, whatever the batch and start size', async () => {
    let size = 0;
    for (const [b, count] of BATCHES.entries()) {
      await log.record(async (_tx, append) => {
        for (let i = 0; i < count; i++) await append(testEntry(`s:${(size + i) % 37}`, { b, i }));
      });
      size += count;
      const leaves = (await db.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_entries ORDER BY seq')).rows.map(
        (r) => r.leaf_hash,
      );
      expect(leaves).toHaveLength(size);
      // The perfect subtrees of [0, size), level by level, from the leaves alone.
      const expected = new Map<string, string>();
      let level = leaves;
      for (let l = 1; level.length >= 2; l++) {
        const up: Buffer[] = [];
        for (let i = 0; i + 1 < level.length; i += 2) up.push(hashChildren(level[i]!, level[i + 1]!));
        up.forEach((h, idx) => expected.set(`${l}/${idx}`, h.toString('hex')));
        level = up;
      }
      const stored = await db.query<{ level: number; idx: string | number; hash: Buffer }>('SELECT level, idx, hash FROM audit_nodes');
      const actual = new Map(stored.rows.map((r) => [`${r.level}/${Number(r.idx)}`, r.hash.toString('hex')]));
      expect(actual.size).toBe(stored.rows.length);
      expect(actual).toEqual(expected);
      const head = await db.query<{ size: string | number; root: Buffer; frontier: Buffer }>('SELECT size, root, frontier FROM audit_tree');
      expect(Number(head.rows[0]!.size)).toBe(size);
      expect(head.rows[0]!.root.toString('hex')).toBe(rootOf(leaves).toString('hex'));
      // The frontier holds one subtree per set bit of the size, largest first.
      expect(head.rows[0]!.frontier.length).toBe(32 * size.toString(2).replace(/0/g, '').length);
    }
    expect(size).toBe(BATCHES.reduce((a, b) => a + b, 0));
    await expectIntactLog(db);
  });

  it('refuses a batch whose chain link is wrong and leaves the log as it was', async () => {
    const before = await db.query<{ size: string | number; root: Buffer }>('SELECT size, root FROM audit_tree');
    const size = Number(before.rows[0]!.size);
    const last = (await db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries WHERE seq = $1', [size - 1])).rows[0]!.entry;
    const doc = JSON.parse(last.toString('utf8')) as Record<string, unknown>;
    const forged = JSON.stringify({ ...doc, seq: size, prev: '00'.repeat(32), subjectPrev: hashLeaf(last).toString('hex') });
    await expect(db.query('SELECT audit_append($1, $2::text[])', [size, [forged]])).rejects.toThrow(/audit_append: entry \d+ has prev/);
    const after = await db.query<{ size: string | number; root: Buffer }>('SELECT size, root FROM audit_tree');
    expect(Number(after.rows[0]!.size)).toBe(size);
    expect(after.rows[0]!.root.equals(before.rows[0]!.root)).toBe(true);
  });
});

/** RFC 6962 §2.1 MTH, straight from the definition. */
function rootOf(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}
