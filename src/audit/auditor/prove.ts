import { openCheckpoint, type Checkpoint } from '../checkpoint.js';
import { decodeEntry, type Entry } from '../entry.js';
import { AuditError } from '../errors.js';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../merkle.js';
import type { NoteVerifier } from '../note.js';
import type { LogClient } from './client.js';

/**
 * What to prove is in the log. `audit prove` takes `--index` or `--leaf-hash`; a receipt
 * resolves, after its JWS is verified, to both its
 * `logIndex` and `leafHash`, and the proof then checks that they agree.
 */
export type ProofTarget = { index: number; leafHash?: string } | { leafHash: string; index?: number };

export interface ProveOptions {
  client: LogClient;
  verifier: NoteVerifier;
  target: ProofTarget;
  /** The last checkpoint the auditor trusted: the log's checkpoint must be consistent with it. */
  trusted?: { note: string | Uint8Array; label: string };
}

export interface ProveResult {
  index: number;
  leafHash: string;
  checkpoint: { origin: string; size: number; root: string; note: string };
  /** The entry, when it was fetched (by index) and decoded. */
  entry?: Entry;
  /** Size of the trusted checkpoint the log was proven consistent with. */
  consistentWith?: number;
}

function failed(message: string, cause?: unknown): AuditError {
  return new AuditError('ERR_AUDIT_VERIFY_FAILED', message, cause === undefined ? {} : { cause });
}

/**
 * Proves that an entry is in the log: verifies the log's checkpoint with the log key, proves it
 * consistent with the trusted checkpoint (if any), and verifies the inclusion proof of the
 * entry's leaf hash against the checkpoint's root. Throws ERR_AUDIT_VERIFY_FAILED naming the step.
 */
export async function proveInclusion(options: ProveOptions): Promise<ProveResult> {
  const { client, verifier, target } = options;
  const note = await client.checkpoint();
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, verifier, verifier.name);
  } catch (error) {
    throw failed(`the log's checkpoint does not verify with the log key: ${(error as Error).message}`, error);
  }

  let consistentWith: number | undefined;
  if (options.trusted !== undefined) {
    const trusted = openCheckpoint(options.trusted.note, verifier, verifier.name);
    if (trusted.size > checkpoint.size)
      throw failed(
        `the log's checkpoint covers ${checkpoint.size} entries, fewer than ${options.trusted.label} (${trusted.size}): rolled back`,
      );
    if (trusted.size > 0) {
      const proof = await client.consistency(trusted.size, checkpoint.size);
      try {
        verifyConsistency(trusted.size, checkpoint.size, proof.proof.map(fromHex), trusted.root, checkpoint.root);
      } catch (error) {
        throw failed(`the log is not consistent with ${options.trusted.label}: ${(error as Error).message}`, error);
      }
    }
    consistentWith = trusted.size;
  }

  let entry: Entry | undefined;
  let leafHash = target.leafHash;
  if (leafHash !== undefined && !/^[0-9a-f]{64}$/.test(leafHash)) throw failed('the leaf hash must be 64 lowercase hex digits');
  if (target.index !== undefined) {
    if (!Number.isSafeInteger(target.index) || target.index < 0) throw failed(`index ${target.index} is not a non-negative integer`);
    if (target.index >= checkpoint.size)
      throw failed(`index ${target.index} is not covered by the log's checkpoint (size ${checkpoint.size})`);
    const page = await client.entries(target.index, target.index + 1);
    const served = page.entries[0];
    if (served === undefined || served.index !== target.index) throw failed(`the log did not serve entry ${target.index}`);
    const bytes = Buffer.from(served.entry, 'utf8');
    const decoded = decodeEntry(bytes);
    if (!decoded.ok) throw failed(`entry ${target.index}: ${decoded.reason}`);
    const computed = hashLeaf(bytes).toString('hex');
    if (leafHash !== undefined && computed !== leafHash) throw failed(`entry ${target.index} hashes to ${computed}, not ${leafHash}`);
    leafHash = computed;
    entry = decoded.entry;
  }
  const proof =
    target.index !== undefined
      ? await client.inclusionByIndex(target.index, checkpoint.size)
      : await client.inclusionByLeafHash(leafHash!, checkpoint.size);
  if (target.index !== undefined && proof.index !== target.index)
    throw failed(`the log answered for index ${proof.index}, not ${target.index}`);
  try {
    verifyInclusion(proof.index, checkpoint.size, fromHex(leafHash!), proof.proof.map(fromHex), checkpoint.root);
  } catch (error) {
    throw failed(
      `the inclusion proof of ${leafHash} at index ${proof.index} does not lead to the checkpoint's root: ${(error as Error).message}`,
      error,
    );
  }
  return {
    index: proof.index,
    leafHash: leafHash!,
    checkpoint: { origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root.toString('hex'), note: note.toString('utf8') },
    ...(entry === undefined ? {} : { entry }),
    ...(consistentWith === undefined ? {} : { consistentWith }),
  };
}

function fromHex(h: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(h)) throw failed(`the log served a malformed hash "${h}"`);
  return Buffer.from(h, 'hex');
}
