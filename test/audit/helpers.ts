import { expect } from 'vitest';
import type { CopiedEntry } from '../../src/audit/auditor/copy.js';
import { verifyLog, type VerifyResult } from '../../src/audit/auditor/verify.js';
import type { NoteVerifier } from '../../src/audit/note.js';
import { MAX_ENTRIES_PAGE, type LogReader } from '../../src/audit/reader.js';
import { decodeEntry, type Entry } from '../../src/audit/entry.js';
import { CompactRange, hashLeaf } from '../../src/audit/merkle.js';
import { readTreeHead } from '../../src/audit/store.js';
import type { NewEntry } from '../../src/audit/types.js';
import type { Queryable } from '../../src/db/types.js';

/** A valid entry for tests. */
export function testEntry(subject: string, data: NewEntry['data'] = {}): NewEntry {
  return { kind: 'submission.accepted', actor: 'system', subject, data };
}

/**
 * Reads the whole log from the database and checks what an auditor would: gapless indexes,
 * canonical bytes, leaf hashes, both chains, and the stored root. Returns the decoded entries.
 */
export async function expectIntactLog(db: Queryable): Promise<Entry[]> {
  const { rows } = await db.query<{ seq: number; leaf_hash: Buffer; entry: Buffer }>(
    'SELECT seq, leaf_hash, entry FROM audit_entries ORDER BY seq',
  );
  const head = await readTreeHead(db);
  expect(rows.length).toBe(head.size);
  const tree = new CompactRange();
  const subjects = new Map<string, string>();
  const entries: Entry[] = [];
  let prev: string | null = null;
  rows.forEach((row, i) => {
    expect(Number(row.seq)).toBe(i);
    const decoded = decodeEntry(row.entry);
    if (!decoded.ok) throw new Error(`entry ${i}: ${decoded.reason}`);
    const e = decoded.entry;
    const leaf = hashLeaf(row.entry);
    expect(leaf.equals(row.leaf_hash)).toBe(true);
    expect(e.seq).toBe(i);
    expect(e.prev).toBe(prev);
    expect(e.subjectPrev).toBe(subjects.get(e.subject) ?? null);
    prev = leaf.toString('hex');
    subjects.set(e.subject, prev);
    tree.append(leaf);
    entries.push(e);
  });
  expect(tree.root().toString('hex')).toBe(head.root.toString('hex'));
  return entries;
}

/**
 * Runs the offline auditor over a log part's own database (the same pages GET /log/entries
 * serves) against its latest checkpoint.
 */
export async function auditPartVerify(reader: LogReader, verifier: NoteVerifier): Promise<VerifyResult> {
  const checkpoint = await reader.latestCheckpoint();
  async function* pages(): AsyncGenerator<CopiedEntry[]> {
    for (let start = 0; start < checkpoint.size; start += MAX_ENTRIES_PAGE) {
      const page = await reader.entries(start, Math.min(checkpoint.size, start + MAX_ENTRIES_PAGE));
      yield page.entries.map((e) => ({ index: e.index, leafHash: Buffer.from(e.leafHash, 'hex'), bytes: Buffer.from(e.entry, 'utf8') }));
    }
  }
  return verifyLog({ verifier, checkpoint: checkpoint.note, source: pages() });
}
