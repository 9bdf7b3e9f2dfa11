import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from '../crypto/digest.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { Signer } from '../crypto/signer.js';
import { AuditError } from './errors.js';
import { formatVerifierKey, isValidKeyName, parseVerifierKey, type NoteVerifier } from './note.js';

/** Name of the log's signing key in the key store. */
export const LOG_KEY_NAME = 'log';
/** `<dataDir>/keys/log.origin`: the log's origin line, next to the key; fixed once created. */
export const LOG_ORIGIN_FILE = join('keys', 'log.origin');
/** `<dataDir>/log.vkey`: the C2SP verifier key auditors pin (also GET /log/key). */
export const LOG_VKEY_FILE = 'log.vkey';

export interface LogKey {
  signer: Signer;
  /** Checkpoint origin line, also the note key name. */
  origin: string;
  /** `<origin>+<key ID>+<base64 key>` */
  vkey: string;
  verifier: NoteVerifier;
}

/**
 * The log key: signer('log') when the key store has it, otherwise a new Ed25519 key
 * generate('log'). Also fixes the origin (stored in `<dataDir>/keys/log.origin`; `origin` is used
 * only when creating it) and writes `<dataDir>/log.vkey` when absent. `chancery init` and the
 * service both call this, so they agree. Refuses (ERR_AUDIT_KEY_MISMATCH) when an existing
 * log.vkey is not this key's.
 */
export async function openLogKey(keyStore: KeyStore, dataDir: string, options: { origin?: string } = {}): Promise<LogKey> {
  const signer = (await keyStore.has(LOG_KEY_NAME))
    ? await keyStore.signer(LOG_KEY_NAME)
    : await keyStore.generate(LOG_KEY_NAME, 'Ed25519');
  if (signer.algorithm !== 'EdDSA') {
    throw new AuditError(
      'ERR_AUDIT_KEY_MISMATCH',
      `the log key must be Ed25519 (C2SP signed notes); key "${LOG_KEY_NAME}" is ${signer.algorithm}`,
    );
  }
  const origin = readOrCreateOrigin(dataDir, options.origin);
  const vkey = formatVerifierKey(origin, signer.publicKey);
  const vkeyFile = join(dataDir, LOG_VKEY_FILE);
  if (existsSync(vkeyFile)) {
    const onDisk = readFileSync(vkeyFile, 'utf8').trim();
    if (onDisk !== vkey) {
      throw new AuditError(
        'ERR_AUDIT_KEY_MISMATCH',
        `${vkeyFile} (${onDisk}) is not the verifier key of the log key in the key store (${vkey})`,
      );
    }
  } else {
    writeAtomically(vkeyFile, `${vkey}\n`, 0o644);
  }
  return { signer, origin, vkey, verifier: parseVerifierKey(vkey) };
}

function readOrCreateOrigin(dataDir: string, wanted: string | undefined): string {
  const file = join(dataDir, LOG_ORIGIN_FILE);
  if (existsSync(file)) {
    const origin = readFileSync(file, 'utf8').trim();
    if (!isValidKeyName(origin)) throw new AuditError('ERR_AUDIT_KEY_MISMATCH', `${file} does not hold a valid origin`);
    return origin;
  }
  // c2sp.org/tlog-checkpoint: the origin SHOULD be a schema-less URL; it is also the key name.
  const origin = wanted ?? `chancery.invalid/log/${randomBytes(8).toString('hex')}`;
  if (!isValidKeyName(origin)) throw new AuditError('ERR_AUDIT_VKEY_INVALID', `"${origin}" cannot be a log origin (no spaces or '+')`);
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  writeAtomically(file, `${origin}\n`, 0o644);
  return origin;
}

function writeAtomically(path: string, content: string, mode: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode });
  renameSync(temp, path);
}
