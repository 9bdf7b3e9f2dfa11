import type { Signer } from '../crypto/signer.js';
import { AuditError } from './errors.js';
import { HASH_BYTES } from './merkle.js';
import { decodeBase64Strict, openNote, signNote, type NoteVerifier } from './note.js';

/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) bodies:
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]*
 *
 * Parsing is strict: the root is exactly 32 bytes (SHA-256, RFC 6962), extension lines are
 * non-empty, the size has no sign or leading zero and is at most 2^53 - 1 (a JS safe integer).
 * transparency-dev/formats accepts other root lengths and empty trailing lines; Chancery does not
 * (vectors/c2sp-note bodyParsing: the 5 `strictC2spNotes` bodies are rejected on purpose).
 */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions: string[];
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (checkpoint.root.length !== HASH_BYTES) throw new AuditError('ERR_AUDIT_CHECKPOINT_MALFORMED', 'a checkpoint root is 32 bytes');
  if (checkpoint.origin === '' || checkpoint.origin.includes('\n')) throw new AuditError('ERR_AUDIT_CHECKPOINT_MALFORMED', 'bad origin');
  const ext = checkpoint.extensions.map((line) => `${line}\n`).join('');
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n${ext}`;
}

export function parseCheckpoint(body: string): Checkpoint {
  const bad = (why: string): never => {
    throw new AuditError('ERR_AUDIT_CHECKPOINT_MALFORMED', `malformed checkpoint: ${why}`);
  };
  if (!body.endsWith('\n')) bad('no final newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) bad('fewer than three lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') bad('empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) bad('tree size is not a decimal number');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) bad('tree size beyond 2^53 - 1');
  const root = decodeBase64Strict(rootText, true);
  if (root === undefined) bad('root hash is not canonical base64');
  if (root!.length !== HASH_BYTES) bad(`root hash is ${root!.length} bytes, not ${HASH_BYTES}`);
  if (extensions.some((line) => line === '')) bad('empty extension line');
  return { origin, size, root: root!, extensions };
}

/** A signed note over the checkpoint of (origin, size, root), signed by the log key. */
export async function signCheckpoint(signer: Signer, keyName: string, checkpoint: Omit<Checkpoint, 'extensions'>): Promise<string> {
  return signNote(formatCheckpoint({ ...checkpoint, extensions: [] }), keyName, signer);
}

/**
 * Verifies a signed checkpoint note with the log's verifier and parses it. When
 * `expectedOrigin` is given the origin line MUST equal it (ERR_AUDIT_CHECKPOINT_ORIGIN).
 */
export function openCheckpoint(note: string | Uint8Array, verifier: NoteVerifier, expectedOrigin?: string): Checkpoint {
  const opened = openNote(note, [verifier]);
  const checkpoint = parseCheckpoint(opened.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new AuditError('ERR_AUDIT_CHECKPOINT_ORIGIN', `checkpoint origin is "${checkpoint.origin}", expected "${expectedOrigin}"`);
  }
  return checkpoint;
}
