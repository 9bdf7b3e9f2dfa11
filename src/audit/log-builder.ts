import { encodeEntry, ENTRY_VERSION } from './entry.js';
import { CompactRange, hashLeaf } from './merkle.js';
import type { NewEntry } from './types.js';

export interface BuiltEntry {
  index: number;
  bytes: Buffer;
  leafHash: Buffer;
}

/**
 * Builds a log in memory with the same entry rules as the database sequencer (seq, prev,
 * subjectPrev, canonical bytes, RFC 6962 root). For tests, benchmarks and tools that need a
 * valid log without a database; it holds one leaf hash per subject, not the entries.
 */
export class LogBuilder {
  readonly #tree = new CompactRange();
  readonly #subjects = new Map<string, string>();
  #last: string | null = null;

  constructor(private readonly clock: () => Date = () => new Date()) {}

  get size(): number {
    return this.#tree.size;
  }

  root(): Buffer {
    return this.#tree.root();
  }

  /** Appends an entry; `onNode` receives each interior Merkle node it completes (level ≥ 1). */
  append(entry: NewEntry, onNode?: (level: number, index: number, hash: Buffer) => void): BuiltEntry {
    const index = this.#tree.size;
    const bytes = encodeEntry({
      v: ENTRY_VERSION,
      seq: index,
      time: this.clock().toISOString(),
      kind: entry.kind,
      actor: entry.actor,
      subject: entry.subject,
      data: entry.data,
      prev: this.#last,
      subjectPrev: this.#subjects.get(entry.subject) ?? null,
    });
    const leafHash = hashLeaf(bytes);
    const hex = leafHash.toString('hex');
    this.#subjects.set(entry.subject, hex);
    this.#last = hex;
    this.#tree.append(leafHash, onNode);
    return { index, bytes, leafHash };
  }
}
