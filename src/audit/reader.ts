import type { Queryable } from '../db/types.js';
import { AuditError } from './errors.js';
import { consistencyProofRanges, hashRanges, inclusionProofRanges, nodesOfRanges } from './merkle.js';
import {
  archiveTimestampAtOrAfter,
  archiveTimestampChain,
  latestArchiveTimestamp,
  type StoredArchiveTimestamp,
} from './archive-timestamps.js';
import { findLeaf, latestCheckpoint, readEntries, readNodes, readTreeHead, searchEntries, type StoredCheckpoint } from './store.js';

/** Most entries one `entries()` page returns. */
export const MAX_ENTRIES_PAGE = 1000;

export interface EntriesPage {
  /** The log's size when the page was read. */
  treeSize: number;
  start: number;
  /** Exclusive; at most start + MAX_ENTRIES_PAGE. */
  end: number;
  entries: Array<{ index: number; leafHash: string; entry: string }>;
}

export interface InclusionProof {
  index: number;
  treeSize: number;
  leafHash: string;
  /** RFC 9162 §2.1.3 inclusion path, leaf side first, lowercase hex. */
  proof: string[];
}

export interface ConsistencyProof {
  from: number;
  to: number;
  /** RFC 9162 §2.1.4 consistency path, lowercase hex. */
  proof: string[];
}

/**
 * The read side of the log for its HTTP API: checkpoints, entry pages and proofs. Proofs read
 * only the O(log n) stored subtrees they need, in one query.
 */
export class LogReader {
  constructor(private readonly db: Queryable) {}

  async latestCheckpoint(): Promise<StoredCheckpoint> {
    const checkpoint = await latestCheckpoint(this.db);
    if (checkpoint === undefined) throw new AuditError('ERR_AUDIT_NO_CHECKPOINT', 'no checkpoint has been published yet');
    return checkpoint;
  }

  /**
   * The archive time-stamped checkpoint of the smallest tree size at or above `size` (the latest
   * one when `size` is undefined); ERR_AUDIT_NOT_FOUND when there is none.
   */
  async archiveTimestamp(size?: number): Promise<StoredArchiveTimestamp> {
    const found = size === undefined ? await latestArchiveTimestamp(this.db) : await archiveTimestampAtOrAfter(this.db, size);
    if (found === undefined)
      throw new AuditError(
        'ERR_AUDIT_NOT_FOUND',
        size === undefined ? 'no checkpoint has been time-stamped yet' : `no time-stamped checkpoint covers a tree of ${size} entries yet`,
      );
    return found;
  }

  /** The renewal chain of archive time-stamps from the one at or after `size`, up to tree size `below` (archive-timestamps.ts). */
  archiveTimestampChain(size: number, below: number): Promise<StoredArchiveTimestamp[]> {
    return archiveTimestampChain(this.db, size, below);
  }

  async treeSize(): Promise<number> {
    return (await readTreeHead(this.db)).size;
  }

  /** Entries [start, end), end capped at start + MAX_ENTRIES_PAGE. Requires start < end <= size. */
  async entries(start: number, end: number): Promise<EntriesPage> {
    const treeSize = await this.treeSize();
    if (!(start >= 0 && start < end)) throw range(`need 0 <= start < end (got start=${start}, end=${end})`);
    if (end > treeSize) throw range(`end ${end} is beyond the log's ${treeSize} entries`);
    const last = Math.min(end, start + MAX_ENTRIES_PAGE);
    const rows = await readEntries(this.db, start, last);
    return {
      treeSize,
      start,
      end: last,
      entries: rows.map((r) => ({ index: r.index, leafHash: r.leafHash.toString('hex'), entry: r.entry.toString('utf8') })),
    };
  }

  /**
   * Entries newest first, of one kind and/or one subject when given, below index `before`, at
   * most `limit` (1..MAX_ENTRIES_PAGE): the log explorer's filtered pages.
   */
  async findEntries(options: { kind?: string; subject?: string; before?: number; limit: number }): Promise<EntriesPage['entries']> {
    if (!(Number.isSafeInteger(options.limit) && options.limit >= 1 && options.limit <= MAX_ENTRIES_PAGE))
      throw range(`limit must be from 1 to ${MAX_ENTRIES_PAGE}`);
    if (options.before !== undefined && !(Number.isSafeInteger(options.before) && options.before >= 0))
      throw range('before must be a non-negative integer');
    const rows = await searchEntries(this.db, options);
    return rows.map((r) => ({ index: r.index, leafHash: r.leafHash.toString('hex'), entry: r.entry.toString('utf8') }));
  }

  /** Inclusion proof of leaf `index` in the tree of `size` leaves (1 <= size <= the log's size). */
  async inclusionProof(index: number, size: number): Promise<InclusionProof> {
    await this.#checkSize(size);
    if (!(index >= 0 && index < size)) throw range(`index ${index} is not below size ${size}`);
    const ranges = inclusionProofRanges(index, size);
    const nodes = await readNodes(this.db, [{ level: 0, index }, ...nodesOfRanges(ranges)]);
    const leaf = nodes.get(`0/${index}`);
    if (leaf === undefined) throw new AuditError('ERR_AUDIT_NOT_FOUND', `entry ${index} is missing from the database`);
    return { index, treeSize: size, leafHash: leaf.toString('hex'), proof: hashRanges(ranges, nodes).map((h) => h.toString('hex')) };
  }

  /** Inclusion proof of the entry whose leaf hash is `leafHashHex` (ERR_AUDIT_NOT_FOUND if none within `size`). */
  async inclusionProofByLeafHash(leafHashHex: string, size: number): Promise<InclusionProof> {
    if (!/^[0-9a-f]{64}$/.test(leafHashHex)) throw range('leafHash must be 64 lowercase hex digits');
    await this.#checkSize(size);
    const index = await findLeaf(this.db, Buffer.from(leafHashHex, 'hex'));
    if (index === undefined || index >= size)
      throw new AuditError('ERR_AUDIT_NOT_FOUND', `no entry with leaf hash ${leafHashHex} in the first ${size} entries`);
    return this.inclusionProof(index, size);
  }

  /** Consistency proof between the trees of `from` and `to` leaves (1 <= from <= to <= size). */
  async consistencyProof(from: number, to: number): Promise<ConsistencyProof> {
    await this.#checkSize(to);
    if (!(from >= 1 && from <= to)) throw range(`need 1 <= from <= to (got from=${from}, to=${to})`);
    const ranges = consistencyProofRanges(from, to);
    const nodes = await readNodes(this.db, nodesOfRanges(ranges));
    return { from, to, proof: hashRanges(ranges, nodes).map((h) => h.toString('hex')) };
  }

  async #checkSize(size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 1) throw range(`size ${size} must be a positive integer`);
    const treeSize = await this.treeSize();
    if (size > treeSize) throw range(`size ${size} is beyond the log's ${treeSize} entries`);
  }
}

function range(message: string): AuditError {
  return new AuditError('ERR_AUDIT_RANGE', message);
}
