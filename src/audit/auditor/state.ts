import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../../crypto/digest.js';
import { openCheckpoint } from '../checkpoint.js';
import { AuditError } from '../errors.js';
import type { NoteVerifier } from '../note.js';
import { writeAtomically } from './copy.js';

/**
 * The auditor's memory: the last checkpoint it verified for a log (identified by its verifier
 * key), so the next run can insist that the log only ever grew from it. Written only after a
 * verification that succeeded, and only forward (a larger tree).
 */
export interface TrustedState {
  vkey: string;
  /** The checkpoint note, exactly as verified. */
  checkpoint: string;
  size: number;
  verifiedAt: string;
}

/** `$XDG_STATE_HOME/chancery/audit/<sha256(vkey)[:16]>.json` (default ~/.local/state). */
export function defaultStatePath(vkey: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env['XDG_STATE_HOME'] !== undefined && env['XDG_STATE_HOME'] !== '' ? env['XDG_STATE_HOME'] : join(homedir(), '.local', 'state');
  return join(base, 'chancery', 'audit', `${sha256Hex(vkey).slice(0, 16)}.json`);
}

/** The trusted state at `path`, re-verified with the key; undefined when there is none yet. */
export function readTrustedState(path: string, vkey: string, verifier: NoteVerifier): TrustedState | undefined {
  if (!existsSync(path)) return undefined;
  let state: TrustedState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TrustedState;
    if (state.vkey !== vkey) throw new Error(`it belongs to another log key (${state.vkey})`);
    const checkpoint = openCheckpoint(state.checkpoint, verifier, verifier.name);
    if (checkpoint.size !== state.size) throw new Error('its size does not match its checkpoint');
  } catch (error) {
    throw new AuditError('ERR_AUDIT_VERIFY_FAILED', `the auditor state ${path} is unusable: ${(error as Error).message}`, { cause: error });
  }
  return state;
}

/** Records a verified checkpoint, unless the state already holds a larger one. */
export function recordTrusted(path: string, vkey: string, note: string, size: number, now: Date): boolean {
  if (existsSync(path)) {
    try {
      const current = JSON.parse(readFileSync(path, 'utf8')) as TrustedState;
      if (current.vkey === vkey && current.size >= size) return false;
    } catch {
      /* replaced below */
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const state: TrustedState = { vkey, checkpoint: note, size, verifiedAt: now.toISOString() };
  writeAtomically(path, `${JSON.stringify(state, null, 2)}\n`);
  return true;
}
