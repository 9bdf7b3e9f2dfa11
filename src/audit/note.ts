import type { KeyObject } from 'node:crypto';
import { importEd25519PublicKey, rawEd25519PublicKey, verifyEd25519 } from '../crypto/ed25519.js';
import { sha256 } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import { AuditError } from './errors.js';

/**
 * C2SP signed notes (c2sp.org/signed-note), the format of checkpoints. Rules follow the spec and
 * its reference implementation (golang.org/x/mod/sumdb/note): strict UTF-8 text without control
 * characters but newline; the text ends at the last blank line; signature lines
 * `— <name> base64(4-byte key ID ‖ signature)`; signatures from unknown keys are ignored; a
 * known key whose signature fails rejects the whole note; at least one must verify.
 */

/** Signature type byte of Ed25519 note keys (c2sp.org/signed-note § Signature types). */
export const ED25519_SIGNATURE_TYPE = 0x01;
/** Signature lines a note may carry; Go's limit (the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';
// Go's unicode.IsSpace plus BOM; a key name has none of these, and no '+'.
const SPACE = /[\s\u0085\ufeff]/u;

export interface NoteVerifier {
  name: string;
  /** 4-byte key ID as a number. */
  keyId: number;
  publicKey: KeyObject;
}

export interface NoteSignature {
  name: string;
  keyId: number;
}

export interface OpenedNote {
  text: string;
  verified: NoteSignature[];
  /** Signature lines from keys not in the verifier list (de-duplicated), as Go reports them. */
  unverified: NoteSignature[];
}

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !SPACE.test(name) && !name.includes('+');
}

/** Key ID = first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ public key), big-endian. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  return sha256(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, type]), publicKey])).readUInt32BE(0);
}

/** Strict standard base64 (padding required, alphabet only); canonical re-encoding when asked. */
export function decodeBase64Strict(text: string, canonical = false): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || /=[^=]/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (canonical && bytes.toString('base64') !== text) return undefined;
  return bytes;
}

/** The verifier key string `<name>+<hex key ID>+<base64(0x01 ‖ key)>` of an Ed25519 public key. */
export function formatVerifierKey(name: string, publicKey: KeyObject): string {
  if (!isValidKeyName(name)) throw new AuditError('ERR_AUDIT_VKEY_INVALID', `"${name}" is not a valid note key name`);
  const raw = rawEd25519PublicKey(publicKey);
  const id = noteKeyId(name, ED25519_SIGNATURE_TYPE, raw);
  return `${name}+${id.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.from([ED25519_SIGNATURE_TYPE]), raw]).toString('base64')}`;
}

/** Parses a verifier key string; only Ed25519 (type 0x01) keys are supported. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const bad = (why: string): never => {
    throw new AuditError('ERR_AUDIT_VKEY_INVALID', `not a valid verifier key: ${why}`);
  };
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) bad('expected <name>+<key ID>+<key>');
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const keyText = vkey.slice(second + 1);
  if (!isValidKeyName(name)) bad('bad key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) bad('key ID is not 8 lowercase hex digits');
  const key = decodeBase64Strict(keyText, true);
  if (key === undefined || key.length === 0) bad('key is not canonical base64');
  if (key![0] !== ED25519_SIGNATURE_TYPE) bad(`unknown signature type 0x${key![0]!.toString(16)}`);
  if (key!.length !== 33) bad(`an Ed25519 key is 32 bytes, not ${key!.length - 1}`);
  const raw = key!.subarray(1);
  const keyId = noteKeyId(name, ED25519_SIGNATURE_TYPE, raw);
  if (keyId !== Number.parseInt(idHex, 16)) bad('key ID does not match the key');
  return { name, keyId, publicKey: importEd25519PublicKey(raw) };
}

/** The verifier of a Signer's Ed25519 key under `name`. */
export function verifierOf(name: string, publicKey: KeyObject): NoteVerifier {
  return parseVerifierKey(formatVerifierKey(name, publicKey));
}

/**
 * Signs `text` (which MUST end with a newline and contain no blank-line-then-signature
 * confusion) as a one-signature note. Signing goes through the Signer: Ed25519 over the text.
 */
export async function signNote(text: string, name: string, signer: Signer): Promise<string> {
  if (signer.algorithm !== 'EdDSA')
    throw new AuditError('ERR_AUDIT_VKEY_INVALID', `note keys are Ed25519; ${signer.name} is ${signer.algorithm}`);
  if (!text.endsWith('\n') || !isNoteText(text))
    throw new AuditError('ERR_AUDIT_NOTE_MALFORMED', 'note text must be UTF-8 lines without control characters, ending in a newline');
  const raw = rawEd25519PublicKey(signer.publicKey);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(noteKeyId(name, ED25519_SIGNATURE_TYPE, raw));
  const signature = await signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

function isNoteText(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0009\u000b-\u001f]/.test(text) && !/\p{Cs}/u.test(text);
}

export interface NoteSignatureLine {
  name: string;
  keyId: number;
  /** The decoded signature after the 4-byte key ID. */
  signature: Buffer;
  /** The line after `— `, for de-duplication. */
  line: string;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignatureLine[];
}

/**
 * The syntax of a signed note, without verifying anything (c2sp.org/signed-note § Format):
 * valid UTF-8 without control characters but newline, text up to the last blank line, then at
 * most MAX_NOTE_SIGNATURES lines `— <name> <base64>`. Throws ERR_AUDIT_NOTE_MALFORMED.
 */
export function parseNote(note: Uint8Array | string): ParsedNote {
  const malformed = (why: string): never => {
    throw new AuditError('ERR_AUDIT_NOTE_MALFORMED', `malformed note: ${why}`);
  };
  let message: string;
  if (typeof note === 'string') {
    message = note;
  } else {
    try {
      message = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return malformed('not UTF-8');
    }
  }
  if (!isNoteText(message)) malformed('control character or invalid UTF-8');
  const split = message.lastIndexOf('\n\n');
  if (split < 0) malformed('no blank line before the signatures');
  const text = message.slice(0, split + 1);
  let rest = message.slice(split + 2);
  if (rest.length === 0 || !rest.endsWith('\n')) malformed('no signature lines, or no final newline');
  const signatures: NoteSignatureLine[] = [];
  while (rest.length > 0) {
    const nl = rest.indexOf('\n');
    let line = rest.slice(0, nl);
    rest = rest.slice(nl + 1);
    if (!line.startsWith(SIGNATURE_PREFIX)) malformed('a line after the blank line is not a signature line');
    line = line.slice(SIGNATURE_PREFIX.length);
    const space = line.indexOf(' ');
    const name = space < 0 ? line : line.slice(0, space);
    const b64 = space < 0 ? '' : line.slice(space + 1);
    const sig = decodeBase64Strict(b64);
    if (sig === undefined || !isValidKeyName(name) || b64 === '' || sig.length < 5) malformed('bad signature line');
    if (signatures.length >= MAX_NOTE_SIGNATURES) malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
    signatures.push({ name, keyId: sig!.readUInt32BE(0), signature: sig!.subarray(4), line });
  }
  return { text, signatures };
}

/**
 * Opens a signed note against trusted verifiers (c2sp.org/signed-note § Verification).
 * Throws ERR_AUDIT_NOTE_MALFORMED, ERR_AUDIT_NOTE_BAD_SIGNATURE (a trusted key's signature
 * fails), ERR_AUDIT_NOTE_AMBIGUOUS_KEY (the trust list has the key twice) or
 * ERR_AUDIT_NOTE_UNVERIFIED (no trusted signature).
 */
export function openNote(note: Uint8Array | string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  const textBytes = Buffer.from(text, 'utf8');
  for (const { name, keyId, signature, line } of signatures) {
    const matches = verifiers.filter((v) => v.name === name && v.keyId === keyId);
    if (matches.length === 0) {
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        unverified.push({ name, keyId });
      }
      continue;
    }
    if (matches.length > 1) {
      throw new AuditError(
        'ERR_AUDIT_NOTE_AMBIGUOUS_KEY',
        `the trusted keys list ${name}+${keyId.toString(16).padStart(8, '0')} more than once`,
      );
    }
    const seenKey = `${name}+${keyId}`;
    if (seen.has(seenKey)) continue;
    seen.add(seenKey);
    if (!verifyEd25519(matches[0]!.publicKey, textBytes, signature)) {
      throw new AuditError('ERR_AUDIT_NOTE_BAD_SIGNATURE', `the signature of ${name} does not verify`);
    }
    verified.push({ name, keyId });
  }
  if (verified.length === 0) throw new AuditError('ERR_AUDIT_NOTE_UNVERIFIED', 'no signature from a trusted key');
  return { text, verified, unverified };
}
