import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactRange, hashLeaf, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { LogReader, MAX_ENTRIES_PAGE } from '../../src/audit/reader.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import { rootAt } from '../../src/audit/store.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { testEntry } from './helpers.js';

const SIZE = 1100;

describe.each(drivers())('audit proofs from the database on $name', (driver) => {
  let t: TestDatabase;
  let reader: LogReader;
  /** roots[n] = RFC 6962 root of the first n leaves, computed in memory from the entries. */
  const roots: Buffer[] = [];
  const leaves: Buffer[] = [];

  beforeAll(async () => {
    t = await createMigrated(driver);
    const log = new GroupCommitLog({ db: t.db });
    await log.record(async (_tx, append) => {
      for (let i = 0; i < SIZE; i++) await append(testEntry(`s${i % 37}`, { i }));
    });
    await log.close();
    reader = new LogReader(t.db);
    const { rows } = await t.db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq');
    const tree = new CompactRange();
    roots.push(tree.root());
    for (const row of rows) {
      const leaf = hashLeaf(row.entry);
      leaves.push(leaf);
      tree.append(leaf);
      roots.push(tree.root());
    }
  });
  afterAll(async () => {
    await t.drop();
  });

  it('computes the root at every tested size from stored subtrees, as the entries give it', async () => {
    for (const n of [0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 1023, 1024, SIZE]) {
      expect((await rootAt(t.db, n)).equals(roots[n]!)).toBe(true);
    }
  });

  it('generates inclusion proofs that verify, for any index and size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: SIZE }).chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.constant(size))),
        async ([index, size]) => {
          const p = await reader.inclusionProof(index, size);
          expect(p.leafHash).toBe(leaves[index]!.toString('hex'));
          verifyInclusion(
            index,
            size,
            leaves[index]!,
            p.proof.map((h) => Buffer.from(h, 'hex')),
            roots[size]!,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('finds an entry by its leaf hash', async () => {
    const p = await reader.inclusionProofByLeafHash(leaves[777]!.toString('hex'), SIZE);
    expect(p.index).toBe(777);
    await expectCode(() => reader.inclusionProofByLeafHash('00'.repeat(32), SIZE), 'ERR_AUDIT_NOT_FOUND');
    await expectCode(() => reader.inclusionProofByLeafHash(leaves[900]!.toString('hex'), 900), 'ERR_AUDIT_NOT_FOUND');
  });

  it('generates consistency proofs that verify, for any pair of sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: SIZE }).chain((to) => fc.tuple(fc.integer({ min: 1, max: to }), fc.constant(to))),
        async ([from, to]) => {
          const p = await reader.consistencyProof(from, to);
          verifyConsistency(
            from,
            to,
            p.proof.map((h) => Buffer.from(h, 'hex')),
            roots[from]!,
            roots[to]!,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('serves bounded entry pages', async () => {
    const page = await reader.entries(0, SIZE);
    expect(page.end).toBe(MAX_ENTRIES_PAGE);
    expect(page.entries).toHaveLength(MAX_ENTRIES_PAGE);
    expect(page.entries[5]!.leafHash).toBe(leaves[5]!.toString('hex'));
    expect(hashLeaf(Buffer.from(page.entries[5]!.entry, 'utf8')).equals(leaves[5]!)).toBe(true);
    const tail = await reader.entries(1090, SIZE);
    expect(tail.entries.map((e) => e.index)).toEqual(Array.from({ length: 10 }, (_, i) => 1090 + i));
  });

  it('refuses out-of-range parameters with ERR_AUDIT_RANGE', async () => {
    await expectCode(() => reader.entries(5, 5), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.entries(0, SIZE + 1), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.inclusionProof(SIZE, SIZE), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.inclusionProof(0, 0), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.inclusionProof(0, SIZE + 1), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.consistencyProof(0, 10), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.consistencyProof(11, 10), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.consistencyProof(1, SIZE + 1), 'ERR_AUDIT_RANGE');
  });
});
