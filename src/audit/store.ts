import type { Queryable } from '../db/types.js';
import { AuditError } from './errors.js';
import { nodeKey, type NodeId } from './merkle.js';

/**
 * The SQL of the audit log (tables and functions of migrations/0010). Every write goes through
 * the SECURITY DEFINER functions, so the same code runs under the restricted service role.
 */

export interface LockedHead {
  size: number;
  /** Leaf hash of entry size - 1, or null for an empty log. */
  lastLeaf: Buffer | null;
}

/** Locks the tree head FOR UPDATE until the end of `tx` and returns it. MUST be the first append step. */
export async function lockTree(tx: Queryable): Promise<LockedHead> {
  const { rows } = await tx.query<{ size: number; last_leaf: Buffer | null }>('SELECT size, last_leaf FROM audit_lock_tree()');
  const row = rows[0];
  if (row === undefined) throw new AuditError('ERR_AUDIT_STATE_INCONSISTENT', 'the audit_tree row is missing');
  return { size: Number(row.size), lastLeaf: row.last_leaf };
}

/** Appends canonical entries at `first` (the locked size); the database checks and hashes them. */
export async function appendEntries(tx: Queryable, first: number, entries: readonly string[]): Promise<number> {
  // Canonical JSON has no raw line break (RFC 8785 escapes control characters), so the entries
  // travel as one LF-joined text, split by the database: sending a text[] made the driver quote
  // and backslash-escape every entry, a large part of a bulk batch's client time. An entry with a
  // line break (which audit_append refuses anyway) goes as an array, so it is refused as itself.
  if (entries.length > 1 && !entries.some((e) => e.includes('\n'))) {
    const { rows } = await tx.query<{ size: number }>('SELECT audit_append($1, string_to_array($2::text, chr(10))) AS size', [
      first,
      entries.join('\n'),
    ]);
    return Number(rows[0]!.size);
  }
  const { rows } = await tx.query<{ size: number }>('SELECT audit_append($1, $2::text[]) AS size', [first, entries]);
  return Number(rows[0]!.size);
}

/** Leaf hash of the latest entry about `subject`, or null when it has none. */
export async function latestLeafOfSubject(q: Queryable, subject: string): Promise<Buffer | null> {
  const { rows } = await q.query<{ leaf_hash: Buffer }>(
    'SELECT leaf_hash FROM audit_entries WHERE subject = $1 ORDER BY seq DESC LIMIT 1',
    [subject],
  );
  return rows[0]?.leaf_hash ?? null;
}

export interface TreeHead {
  size: number;
  root: Buffer;
}

/** The current tree head (no lock). */
export async function readTreeHead(q: Queryable): Promise<TreeHead> {
  const { rows } = await q.query<{ size: number; root: Buffer }>('SELECT size, root FROM audit_tree WHERE id');
  const row = rows[0];
  if (row === undefined) throw new AuditError('ERR_AUDIT_STATE_INCONSISTENT', 'the audit_tree row is missing');
  return { size: Number(row.size), root: row.root };
}

/** RFC 6962 root of the first `size` leaves, computed by the database from stored subtrees. */
export async function rootAt(q: Queryable, size: number): Promise<Buffer> {
  const { rows } = await q.query<{ root: Buffer }>('SELECT audit_root_at($1) AS root', [size]);
  return rows[0]!.root;
}

/** Hashes of the given perfect subtrees in one query (level 0 from the entries). */
export async function readNodes(q: Queryable, ids: readonly NodeId[]): Promise<Map<string, Buffer>> {
  const leaves = ids.filter((id) => id.level === 0).map((id) => id.index);
  const inner = ids.filter((id) => id.level > 0);
  const out = new Map<string, Buffer>();
  if (ids.length === 0) return out;
  const { rows } = await q.query<{ level: number; idx: number; hash: Buffer }>(
    `SELECT 0 AS level, seq AS idx, leaf_hash AS hash FROM audit_entries WHERE seq = ANY($1::bigint[])
     UNION ALL
     SELECT n.level, n.idx, n.hash FROM audit_nodes n
       JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`,
    [leaves, inner.map((id) => id.level), inner.map((id) => id.index)],
  );
  for (const row of rows) out.set(nodeKey({ level: Number(row.level), index: Number(row.idx) }), row.hash);
  return out;
}

export interface StoredEntry {
  index: number;
  leafHash: Buffer;
  entry: Buffer;
}

/** Entries with start <= seq < end, in order (a gap shows as a missing row, never filled in). */
export async function readEntries(q: Queryable, start: number, end: number): Promise<StoredEntry[]> {
  const { rows } = await q.query<{ seq: number; leaf_hash: Buffer; entry: Buffer }>(
    'SELECT seq, leaf_hash, entry FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq',
    [start, end],
  );
  return rows.map((r) => ({ index: Number(r.seq), leafHash: r.leaf_hash, entry: r.entry }));
}

/**
 * Entries newest first, optionally of one kind and/or one subject, below index `before` (keyset
 * paging), at most `limit`.
 */
export async function searchEntries(
  q: Queryable,
  options: { kind?: string; subject?: string; before?: number; limit: number },
): Promise<StoredEntry[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (options.kind !== undefined) {
    params.push(options.kind);
    where.push(`kind = $${params.length}`);
  }
  if (options.subject !== undefined) {
    params.push(options.subject);
    where.push(`subject = $${params.length}`);
  }
  if (options.before !== undefined) {
    params.push(options.before);
    where.push(`seq < $${params.length}`);
  }
  params.push(options.limit);
  const { rows } = await q.query<{ seq: number; leaf_hash: Buffer; entry: Buffer }>(
    `SELECT seq, leaf_hash, entry FROM audit_entries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ index: Number(r.seq), leafHash: r.leaf_hash, entry: r.entry }));
}

/** Index of the entry with this leaf hash (the lowest, should a hash repeat), or undefined. */
export async function findLeaf(q: Queryable, leafHash: Buffer): Promise<number | undefined> {
  const { rows } = await q.query<{ seq: number }>('SELECT seq FROM audit_entries WHERE leaf_hash = $1 ORDER BY seq LIMIT 1', [leafHash]);
  return rows[0] === undefined ? undefined : Number(rows[0].seq);
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
}

/** Stores a signed checkpoint; the database refuses one whose root is not its tree's. */
export async function storeCheckpoint(q: Queryable, checkpoint: StoredCheckpoint): Promise<boolean> {
  const { rows } = await q.query<{ stored: boolean }>('SELECT audit_store_checkpoint($1, $2, $3) AS stored', [
    checkpoint.size,
    checkpoint.root,
    checkpoint.note,
  ]);
  return rows[0]!.stored;
}

export async function latestCheckpoint(q: Queryable): Promise<StoredCheckpoint | undefined> {
  const { rows } = await q.query<{ size: number; root: Buffer; note: string }>(
    'SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
  );
  const row = rows[0];
  return row === undefined ? undefined : { size: Number(row.size), root: row.root, note: row.note };
}

/** Every stored checkpoint, oldest first (tests and tools; the table grows with the log). */
export async function listCheckpoints(q: Queryable): Promise<StoredCheckpoint[]> {
  const { rows } = await q.query<{ size: number; root: Buffer; note: string }>(
    'SELECT size, root, note FROM audit_checkpoints ORDER BY size',
  );
  return rows.map((r) => ({ size: Number(r.size), root: r.root, note: r.note }));
}

/** Subjects and leaf hashes of entries start <= seq < end, in order (the sequencer's catch-up). */
export async function readSubjects(q: Queryable, start: number, end: number): Promise<Array<{ subject: string; leafHash: Buffer }>> {
  const { rows } = await q.query<{ subject: string; leaf_hash: Buffer }>(
    'SELECT subject, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq',
    [start, end],
  );
  return rows.map((r) => ({ subject: r.subject, leafHash: r.leaf_hash }));
}
