import { sha256Hex } from '../crypto/digest.js';
import type { ArchiveChain, ArchiveLink } from '../verify/timestamp.js';
import type { StoredArchiveTimestamp } from './archive-timestamps.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { decodeEntry } from './entry.js';
import { AuditError } from './errors.js';
import { hashLeaf, verifyConsistency, verifyInclusion } from './merkle.js';
import type { NoteVerifier } from './note.js';
import type { ConsistencyProof, InclusionProof } from './reader.js';

/**
 * Archive time-stamps in an evidence container: the time-stamped checkpoints that cover a
 * submission's entries, each linked to the container's checkpoint (the one its inclusion proofs
 * lead to), so an offline verifier can use the tokens as proofs of existence.
 *
 *   META-INF/archive/<n>.note   the time-stamped checkpoint note, exact bytes (n = 1, 2, … by tree size)
 *   META-INF/archive/<n>.tst    the RFC 3161 TimeStampToken over the note's SHA-256 (DER)
 *   META-INF/archive/<n>.json   { treeSize, consistency: [hex], record?: { index, leafHash, proof: [hex], entry: base64 } }
 *
 * `consistency` is the RFC 9162 proof from the note's tree to the container's checkpoint (empty
 * when they are the same size): every entry proven into the container's checkpoint at an index
 * below `treeSize` is then in the time-stamped tree. `record` is the `checkpoint.timestamped`
 * entry of this token with its inclusion proof into the container's checkpoint; below the next
 * link's tree size, it makes the next token a proof that this token existed (renewal).
 */

export const ARCHIVE_FILE = /^META-INF\/archive\/([1-9][0-9]?)\.(note|tst|json)$/;
/** Most links a container carries (the covering time-stamp and one per later TSA certificate). */
export const MAX_ARCHIVE_LINKS = 32;

export interface ArchiveEvidenceLink {
  treeSize: number;
  note: string;
  token: Uint8Array;
  consistency: string[];
  record?: { index: number; leafHash: string; proof: string[]; entry: Uint8Array } | undefined;
}

/** What collecting needs from the log's read side. */
export interface ArchiveEvidenceReads {
  archiveTimestampChain(size: number, below: number): Promise<StoredArchiveTimestamp[]>;
  consistencyProof(from: number, to: number): Promise<ConsistencyProof>;
  inclusionProof(index: number, size: number): Promise<InclusionProof>;
  entries(start: number, end: number): Promise<{ entries: Array<{ entry: string }> }>;
}

/**
 * The archive links for entries below `coveredSize`, linked to the checkpoint of `checkpointSize`:
 * the time-stamped checkpoint at or after `coveredSize` and its renewals up to `checkpointSize`.
 * Empty when no time-stamped checkpoint covers them yet.
 */
export async function collectArchiveEvidence(
  reader: ArchiveEvidenceReads,
  coveredSize: number,
  checkpointSize: number,
): Promise<ArchiveEvidenceLink[]> {
  const chain = await reader.archiveTimestampChain(coveredSize, checkpointSize);
  return Promise.all(
    chain.slice(0, MAX_ARCHIVE_LINKS).map(async (t) => {
      const consistency = t.treeSize === checkpointSize ? [] : (await reader.consistencyProof(t.treeSize, checkpointSize)).proof;
      let record: ArchiveEvidenceLink['record'];
      if (t.logIndex < checkpointSize) {
        const inclusion = await reader.inclusionProof(t.logIndex, checkpointSize);
        const entry = Buffer.from((await reader.entries(t.logIndex, t.logIndex + 1)).entries[0]!.entry, 'utf8');
        record = { index: t.logIndex, leafHash: inclusion.leafHash, proof: inclusion.proof, entry };
      }
      return { treeSize: t.treeSize, note: t.note, token: t.token, consistency, record };
    }),
  );
}

/** The container files of the links, in order. */
export function archiveEvidenceFiles(links: readonly ArchiveEvidenceLink[]): Array<{ name: string; data: Buffer }> {
  return links.flatMap((l, i) => {
    const json = {
      treeSize: l.treeSize,
      consistency: l.consistency,
      ...(l.record === undefined ? {} : { record: { ...l.record, entry: Buffer.from(l.record.entry).toString('base64') } }),
    };
    return [
      { name: `META-INF/archive/${i + 1}.note`, data: Buffer.from(l.note, 'utf8') },
      { name: `META-INF/archive/${i + 1}.tst`, data: Buffer.from(l.token) },
      { name: `META-INF/archive/${i + 1}.json`, data: Buffer.from(JSON.stringify(json), 'utf8') },
    ];
  });
}

/**
 * Proves a container's archive links under the log key: each note is a checkpoint of this log
 * signed by `verifier`, consistent with the container's `checkpoint`, covering every entry index
 * in `covered`; each record is a `checkpoint.timestamped` entry naming the token, proven into the
 * checkpoint. Returns the chain for the verifier (whose tokens it has NOT validated), or
 * undefined when the container has no archive files. MUST throw AuditError
 * ERR_AUDIT_PROOF_INVALID for anything missing, malformed or inconsistent.
 */
export function openArchiveEvidence(
  files: ReadonlyMap<string, Buffer>,
  verifier: NoteVerifier,
  checkpoint: Pick<Checkpoint, 'size' | 'root'>,
  covered: readonly number[],
): ArchiveChain | undefined {
  const numbers = new Set<number>();
  for (const name of files.keys()) {
    const m = ARCHIVE_FILE.exec(name);
    if (m !== null) numbers.add(Number(m[1]));
  }
  if (numbers.size === 0) return undefined;
  if (numbers.size > MAX_ARCHIVE_LINKS) throw invalid(`the container has ${numbers.size} archive time-stamps, above ${MAX_ARCHIVE_LINKS}`);
  const links: Array<ArchiveLink & { recordIndex: number | undefined }> = [];
  for (let n = 1; n <= numbers.size; n++) {
    const file = (ext: string): Buffer => {
      const data = files.get(`META-INF/archive/${n}.${ext}`);
      if (data === undefined)
        throw invalid(`the archive time-stamps are not numbered 1..${numbers.size}: META-INF/archive/${n}.${ext} is missing`);
      return data;
    };
    const note = file('note');
    const token = file('tst');
    const meta = parseMeta(file('json'), `META-INF/archive/${n}.json`);
    let opened: Checkpoint;
    try {
      opened = openCheckpoint(note, verifier);
    } catch (error) {
      throw invalid(`META-INF/archive/${n}.note is not a checkpoint of this log signed by its key: ${(error as Error).message}`);
    }
    if (opened.size !== meta.treeSize) throw invalid(`META-INF/archive/${n}.note is of tree size ${opened.size}, not ${meta.treeSize}`);
    const previous = links[links.length - 1];
    if (previous !== undefined && opened.size <= previous.treeSize) throw invalid('the archive time-stamps are not in ascending tree size');
    if (opened.size > checkpoint.size)
      throw invalid(`META-INF/archive/${n}.note (size ${opened.size}) is beyond the container's checkpoint (size ${checkpoint.size})`);
    try {
      if (opened.size === checkpoint.size) {
        if (meta.consistency.length > 0 || !opened.root.equals(checkpoint.root))
          throw invalid('same size as the checkpoint, other root or a proof');
      } else verifyConsistency(opened.size, checkpoint.size, meta.consistency, opened.root, checkpoint.root);
    } catch (error) {
      throw invalid(
        `META-INF/archive/${n}.json: the time-stamped checkpoint is not consistent with the container's: ${(error as Error).message}`,
      );
    }
    const outside = covered.find((i) => i >= opened.size);
    if (outside !== undefined) throw invalid(`META-INF/archive/${n}.note (size ${opened.size}) does not cover log entry ${outside}`);
    let recordIndex: number | undefined;
    if (meta.record !== undefined) {
      const r = meta.record;
      const leaf = hashLeaf(r.entry);
      if (leaf.toString('hex') !== r.leafHash || r.index >= checkpoint.size)
        throw invalid(`META-INF/archive/${n}.json: the record is not the entry proven`);
      try {
        verifyInclusion(r.index, checkpoint.size, leaf, r.proof, checkpoint.root);
      } catch (error) {
        throw invalid(`META-INF/archive/${n}.json: the record's inclusion proof fails: ${(error as Error).message}`);
      }
      const decoded = decodeEntry(r.entry);
      if (!decoded.ok) throw invalid(`META-INF/archive/${n}.json: the record is malformed: ${decoded.reason}`);
      const e = decoded.entry;
      if (
        e.seq !== r.index ||
        e.kind !== 'checkpoint.timestamped' ||
        e.data['tokenSha256'] !== sha256Hex(token) ||
        e.data['treeSize'] !== opened.size
      )
        throw invalid(`META-INF/archive/${n}.json: the record is not the checkpoint.timestamped entry of this token`);
      recordIndex = r.index;
    }
    links.push({ token, note, treeSize: opened.size, recordedUnderNext: false, recordIndex });
  }
  return {
    links: links.map(({ recordIndex, ...l }, i) => {
      const next = links[i + 1];
      return { ...l, recordedUnderNext: next !== undefined && recordIndex !== undefined && recordIndex < next.treeSize };
    }),
  };
}

interface Meta {
  treeSize: number;
  consistency: Buffer[];
  record: { index: number; leafHash: string; proof: Buffer[]; entry: Buffer } | undefined;
}

const HEX = /^[0-9a-f]{64}$/;
const hexList = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 128 && v.every((h) => typeof h === 'string' && HEX.test(h));

function parseMeta(data: Buffer, name: string): Meta {
  let o: unknown;
  try {
    o = JSON.parse(data.toString('utf8'));
  } catch {
    throw invalid(`${name} is not JSON`);
  }
  const m = o as Record<string, unknown> | null;
  const shape = `${name} is not { treeSize, consistency: [hex], record?: { index, leafHash, proof: [hex], entry: base64 } }`;
  if (
    typeof m !== 'object' ||
    m === null ||
    !Number.isSafeInteger(m['treeSize']) ||
    (m['treeSize'] as number) < 1 ||
    !hexList(m['consistency'])
  )
    throw invalid(shape);
  let record: Meta['record'];
  const r = m['record'] as Record<string, unknown> | null | undefined;
  if (r !== undefined) {
    if (
      typeof r !== 'object' ||
      r === null ||
      !Number.isSafeInteger(r['index']) ||
      (r['index'] as number) < 0 ||
      typeof r['leafHash'] !== 'string' ||
      !HEX.test(r['leafHash']) ||
      !hexList(r['proof']) ||
      typeof r['entry'] !== 'string'
    )
      throw invalid(shape);
    record = {
      index: r['index'] as number,
      leafHash: r['leafHash'],
      proof: (r['proof'] as string[]).map((h) => Buffer.from(h, 'hex')),
      entry: Buffer.from(r['entry'], 'base64'),
    };
  }
  return { treeSize: m['treeSize'] as number, consistency: (m['consistency'] as string[]).map((h) => Buffer.from(h, 'hex')), record };
}

function invalid(message: string): AuditError {
  return new AuditError('ERR_AUDIT_PROOF_INVALID', message);
}
