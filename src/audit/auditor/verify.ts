import { open } from 'node:fs/promises';
import { digest } from '../../crypto/digest.js';
import { openCheckpoint, type Checkpoint } from '../checkpoint.js';
import { decodeEntry } from '../entry.js';
import type { AuditError } from '../errors.js';
import { CompactRange, EMPTY_ROOT, hashLeaf } from '../merkle.js';
import type { NoteVerifier } from '../note.js';
import { chunkEntries, chunkPath, listChunks, readManifest, type CopiedEntry } from './copy.js';
import type { LogClient } from './client.js';

/**
 * The offline auditor: trusts nothing but the log's verifier key and the
 * checkpoints the auditor trusted before. Streams the entries once, in order, holding only the
 * Merkle compact range, the two previous leaf hashes and the latest leaf hash of each subject.
 */

/** What can be wrong, named as the first bad index's fault. */
export type Fault =
  /** The checkpoint note or body is malformed, or its origin is not the key's name. */
  | 'bad-checkpoint'
  /** The checkpoint is not signed by the log key. */
  | 'bad-signature'
  /** An entry is unreadable or not of the entry shape. */
  | 'malformed-entry'
  /** An entry's bytes are not the RFC 8785 form of what they say. */
  | 'non-canonical'
  /** An entry does not hash to the leaf hash served with it. */
  | 'hash-mismatch'
  /** Entries are missing: the index jumps, or fewer entries than the checkpoint covers. */
  | 'missing-entry'
  /** An entry sits at an index other than its own `seq` (moved, swapped, renumbered). */
  | 'seq-mismatch'
  /** An entry the chain does not go through was inserted (the next entry links past it). */
  | 'forged-entry'
  /** `prev` is not the leaf hash of the entry before. */
  | 'broken-prev'
  /** `subjectPrev` is not the leaf hash of the subject's previous entry. */
  | 'broken-subject-prev'
  /** The entries do not hash to the root the checkpoint signs (or to a root signed earlier). */
  | 'root-mismatch'
  /** The log is not an extension of a checkpoint the auditor trusted (cut, rolled back or forked). */
  | 'inconsistent-with-trusted';

export interface VerifyFailure {
  /** First bad index; null when the fault is the checkpoint itself. */
  index: number | null;
  fault: Fault;
  message: string;
}

export type VerifyResult =
  | {
      ok: true;
      checkpoint: { origin: string; size: number; root: string };
      entries: number;
      subjects: number;
      /** Sizes of the trusted checkpoints the log was found consistent with. */
      consistentWith: number[];
    }
  | { ok: false; failure: VerifyFailure; entriesChecked: number };

/** A checkpoint the auditor trusted before (its state file, `--trusted`). */
export interface TrustedCheckpoint {
  note: Uint8Array | string;
  /** Where it came from, for messages. */
  label: string;
}

export interface VerifyLogOptions {
  verifier: NoteVerifier;
  /** The log's current checkpoint (signed note). */
  checkpoint: Uint8Array | string;
  /** The entries, in order from index 0, in batches. `undefined` marks an unreadable one. */
  source: AsyncIterable<Iterable<CopiedEntry | undefined>>;
  trusted?: readonly TrustedCheckpoint[];
  /** Other checkpoints of this log seen earlier (a copy's history): the entries must match them too. */
  seen?: readonly TrustedCheckpoint[];
  onProgress?: (entriesChecked: number) => void;
}

interface Expectation {
  root: Buffer;
  fault: 'root-mismatch' | 'inconsistent-with-trusted';
  label: string;
}

/**
 * Verifies a log: the checkpoint's signature and origin; every entry's canonical bytes, leaf
 * hash, index, global chain (`prev`) and subject chain (`subjectPrev`); the Merkle root at the
 * checkpoint's size and at the size of every trusted checkpoint. Returns the first fault.
 */
export async function verifyLog(options: VerifyLogOptions): Promise<VerifyResult> {
  let checked = 0;
  const fail = (index: number | null, fault: Fault, message: string): VerifyResult => ({
    ok: false,
    failure: { index, fault, message },
    entriesChecked: checked,
  });

  // 1. The checkpoint: signed by the log key, origin = the key's name, well-formed.
  const opened = openNote(options.checkpoint, options.verifier, 'the checkpoint');
  if ('fault' in opened) return fail(null, opened.fault, opened.message);
  const checkpoint = opened;

  // 2. The roots the entries must reach, by size.
  const expectations = new Map<number, Expectation[]>();
  const expect = (size: number, e: Expectation): void => {
    expectations.set(size, [...(expectations.get(size) ?? []), e]);
  };
  expect(checkpoint.size, { root: checkpoint.root, fault: 'root-mismatch', label: `the checkpoint (size ${checkpoint.size})` });
  const consistentWith: number[] = [];
  for (const t of options.trusted ?? []) {
    const trusted = openNote(t.note, options.verifier, `the trusted checkpoint ${t.label}`);
    if ('fault' in trusted) return fail(null, trusted.fault, trusted.message);
    if (trusted.size > checkpoint.size) {
      return fail(
        checkpoint.size,
        'inconsistent-with-trusted',
        `the log's checkpoint covers ${checkpoint.size} entries but ${t.label} covered ${trusted.size}: the log was cut or rolled back`,
      );
    }
    expect(trusted.size, { root: trusted.root, fault: 'inconsistent-with-trusted', label: `${t.label} (size ${trusted.size})` });
    consistentWith.push(trusted.size);
  }
  for (const s of options.seen ?? []) {
    const seen = openNote(s.note, options.verifier, s.label);
    if ('fault' in seen) return fail(null, seen.fault, seen.message);
    expect(seen.size, { root: seen.root, fault: 'root-mismatch', label: `${s.label} (size ${seen.size})` });
  }
  const mismatch = checkRoot(expectations.get(0), EMPTY_ROOT, 0);
  if (mismatch !== undefined) return fail(null, mismatch.fault, mismatch.message);

  // 3. Every entry, in order.
  const tree = new CompactRange();
  const subjects = new SubjectHeads();
  let prev: Buffer | null = null;
  let beforePrev: Buffer | null = null;
  for await (const batch of options.source) {
    for (const item of batch) {
      const p = checked;
      if (item === undefined) return fail(p, 'malformed-entry', `entry ${p} is unreadable`);
      if (item.index !== p) {
        return item.index > p
          ? fail(p, 'missing-entry', `entry ${p} is missing: the log goes from ${p - 1} to ${item.index}`)
          : fail(p, 'seq-mismatch', `the entry at position ${p} is served as index ${item.index}`);
      }
      const decoded = decodeEntry(item.bytes);
      if (!decoded.ok) return fail(p, decoded.fault, `entry ${p}: ${decoded.reason}`);
      const leaf = hashLeaf(item.bytes);
      if (!leaf.equals(item.leafHash)) {
        return fail(
          p,
          'hash-mismatch',
          `entry ${p} hashes to ${leaf.toString('hex')}, the log says ${item.leafHash.toString('hex')}: its bytes were altered`,
        );
      }
      const e = decoded.entry;
      if (e.seq !== p) {
        if (p >= 1 && e.seq === p - 1 && e.prev === hex(beforePrev)) {
          return fail(
            p - 1,
            'forged-entry',
            `entry ${p - 1} is not in the chain: the next entry carries seq ${p - 1} and links to entry ${p - 2}; entry ${p - 1} was inserted`,
          );
        }
        return fail(p, 'seq-mismatch', `the entry at index ${p} carries seq ${e.seq}: entries were moved, swapped or renumbered`);
      }
      if (e.prev !== hex(prev)) {
        return fail(
          p,
          'broken-prev',
          `entry ${p} has prev ${String(e.prev)}, but entry ${p - 1} hashes to ${String(hex(prev))}: entry ${p - 1} or ${p} was altered`,
        );
      }
      // Recorded before it is checked: a mismatch ends the verification here anyway.
      const subjectPrev = subjects.exchange(e.subject, leaf);
      if (e.subjectPrev !== subjectPrev) {
        return fail(
          p,
          'broken-subject-prev',
          `entry ${p} (subject ${e.subject}) has subjectPrev ${String(e.subjectPrev)}, but the subject's previous entry hashes to ${String(subjectPrev)}`,
        );
      }
      beforePrev = prev;
      prev = leaf;
      tree.append(leaf);
      checked = p + 1;
      const expected = expectations.get(checked);
      if (expected !== undefined) {
        const bad = checkRoot(expected, tree.root(), checked);
        if (bad !== undefined) return fail(checked - 1, bad.fault, bad.message);
      }
    }
    options.onProgress?.(checked);
  }

  // 4. Nothing missing at the end.
  if (checked < checkpoint.size) {
    return fail(
      checked,
      'missing-entry',
      `the checkpoint covers ${checkpoint.size} entries; only ${checked} are there (entries ${checked}..${checkpoint.size - 1} are missing)`,
    );
  }
  return {
    ok: true,
    checkpoint: { origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root.toString('hex') },
    entries: checked,
    subjects: subjects.size,
    consistentWith,
  };
}

/**
 * The latest leaf hash of every subject seen so far. A national log has more subjects than one
 * JavaScript Map may hold (2^24, about 16.7 million), and a Map of name → hex string costs about
 * 200 bytes a subject. Here a subject is keyed by the first 16 bytes of the SHA-256 of its name
 * (two names colliding there is a 2^-128 event, and finding two on purpose costs 2^64 hashes),
 * in open-addressing tables of flat typed arrays: 16 + 32 bytes a slot, at most 3/4 full, with
 * nothing for the garbage collector to trace. 256 tables, chosen by a byte of the key, grow one
 * at a time, so growing never holds two copies of everything.
 */
export class SubjectHeads {
  readonly #tables = Array.from({ length: 256 }, () => new HeadTable());
  #size = 0;

  /** How many subjects are held. */
  get size(): number {
    return this.#size;
  }

  get(subject: string): Buffer | undefined {
    const key = keyOf(subject);
    return this.#tables[key[4]!]!.get(key);
  }

  /** Sets the subject's hash and returns the one it replaces (lowercase hex; null for a new subject), in one lookup. */
  exchange(subject: string, hash: Buffer): string | null {
    const key = keyOf(subject);
    const table = this.#tables[key[4]!]!;
    const previous = table.exchange(key, hash);
    if (previous === null) this.#size++;
    return previous;
  }
}

/** One open-addressing table (linear probing) of 16-byte keys to 32-byte values. */
class HeadTable {
  #capacity = 1 << 10;
  #keys = new Uint8Array(this.#capacity * 16);
  #values = new Uint8Array(this.#capacity * 32);
  #occupied = new Uint8Array(this.#capacity);
  #size = 0;

  get(key: Uint8Array): Buffer | undefined {
    const slot = this.#find(key);
    if (this.#occupied[slot] === 0) return undefined;
    return Buffer.from(this.#values.buffer, this.#values.byteOffset + slot * 32, 32);
  }

  /** Sets the value; returns the one it replaced as hex, or null when the key is new. */
  exchange(key: Uint8Array, hash: Buffer): string | null {
    if ((this.#size + 1) * 4 > this.#capacity * 3) this.#grow();
    const slot = this.#find(key);
    let previous: string | null = null;
    if (this.#occupied[slot] === 0) {
      this.#occupied[slot] = 1;
      this.#keys.set(key, slot * 16);
      this.#size++;
    } else {
      previous = Buffer.from(this.#values.buffer, this.#values.byteOffset + slot * 32, 32).toString('hex');
    }
    this.#values.set(hash.subarray(0, 32), slot * 32);
    return previous;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  #find(key: Uint8Array): number {
    const mask = this.#capacity - 1;
    let slot = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) & mask;
    while (this.#occupied[slot] === 1 && !sameKey(this.#keys, slot * 16, key)) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const [keys, values, occupied, capacity] = [this.#keys, this.#values, this.#occupied, this.#capacity];
    this.#capacity = capacity * 2;
    this.#keys = new Uint8Array(this.#capacity * 16);
    this.#values = new Uint8Array(this.#capacity * 32);
    this.#occupied = new Uint8Array(this.#capacity);
    for (let old = 0; old < capacity; old++) {
      if (occupied[old] === 0) continue;
      const key = keys.subarray(old * 16, old * 16 + 16);
      const slot = this.#find(key);
      this.#occupied[slot] = 1;
      this.#keys.set(key, slot * 16);
      this.#values.set(values.subarray(old * 32, old * 32 + 32), slot * 32);
    }
  }
}

function keyOf(subject: string): Uint8Array {
  return digest('sha256', subject).subarray(0, 16);
}

function sameKey(keys: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (keys[at + i] !== key[i]) return false;
  return true;
}

function hex(b: Buffer | null): string | null {
  return b === null ? null : b.toString('hex');
}

function checkRoot(expected: Expectation[] | undefined, root: Buffer, size: number): { fault: Fault; message: string } | undefined {
  for (const e of expected ?? []) {
    if (!root.equals(e.root)) {
      return {
        fault: e.fault,
        message: `the first ${size} entries hash to ${root.toString('hex')}, but ${e.label} signs ${e.root.toString('hex')}${
          e.fault === 'inconsistent-with-trusted'
            ? ': this log is not an extension of what you trusted (a fork or a rewritten history)'
            : ''
        }`,
      };
    }
  }
  return undefined;
}

function openNote(note: Uint8Array | string, verifier: NoteVerifier, what: string): Checkpoint | { fault: Fault; message: string } {
  try {
    return openCheckpoint(note, verifier, verifier.name);
  } catch (error) {
    const code = (error as AuditError).code;
    const fault: Fault =
      code === 'ERR_AUDIT_NOTE_BAD_SIGNATURE' || code === 'ERR_AUDIT_NOTE_UNVERIFIED' ? 'bad-signature' : 'bad-checkpoint';
    return { fault, message: `${what}: ${(error as Error).message}` };
  }
}

/**
 * The entries of a local copy, chunk by chunk; the next chunk is read while one is checked.
 * Chunks are read into two buffers that are reused (not one new 2 MB buffer per chunk), which
 * keeps the process's memory flat over a million entries.
 */
export async function* copySource(dir: string): AsyncGenerator<Iterable<CopiedEntry | undefined>> {
  readManifest(dir);
  const chunks = listChunks(dir);
  const buffers: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
  const load = async (i: number): Promise<Buffer> => {
    const file = await open(chunkPath(dir, i), 'r');
    try {
      const { size } = await file.stat();
      if (buffers[i % 2]!.length < size) buffers[i % 2] = Buffer.allocUnsafe(Math.ceil(size * 1.25));
      const buffer = buffers[i % 2]!;
      let read = 0;
      while (read < size) {
        const { bytesRead } = await file.read(buffer, read, size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.subarray(0, read);
    } finally {
      await file.close();
    }
  };
  let next = chunks.length > 0 ? load(0) : undefined;
  try {
    for (let i = 0; i < chunks.length; i++) {
      const data = await next!;
      // Chunk i is fully checked before the generator resumes, so i + 2 may reuse its buffer.
      next = i + 1 < chunks.length ? load(i + 1) : undefined;
      yield chunkEntries(data);
    }
  } finally {
    next?.catch(() => undefined); // the verifier stopped early: a read ahead is not awaited
  }
}

/** The entries [0, size) of a log served over HTTP, page by page (the next page fetched ahead). */
export async function* remoteSource(client: LogClient, size: number, pageSize = 1000): AsyncGenerator<Array<CopiedEntry | undefined>> {
  const fetchPage = (start: number) => client.entries(start, Math.min(size, start + pageSize));
  let start = 0;
  let next = size > 0 ? fetchPage(0) : undefined;
  while (next !== undefined) {
    const page = await next;
    const last = page.entries.length > 0 ? page.entries[page.entries.length - 1]!.index + 1 : page.end;
    start = Math.max(last, start + 1);
    next = start < size ? fetchPage(start) : undefined;
    yield page.entries.map((e) =>
      /^[0-9a-f]{64}$/.test(e.leafHash) && Number.isSafeInteger(e.index)
        ? { index: e.index, leafHash: Buffer.from(e.leafHash, 'hex'), bytes: Buffer.from(e.entry, 'utf8') }
        : undefined,
    );
  }
}
