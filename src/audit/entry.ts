import { isUtf8 } from 'node:buffer';
import { assertCanonicalizable, canonicalJson } from './canonical.js';
import { AuditError } from './errors.js';
import type { AuditKind, JsonValue } from './types.js';

/**
 * Log entries.
 *
 * An entry's bytes are the RFC 8785 canonical JSON of exactly these members:
 *
 *   { v, seq, time, kind, actor, subject, data, prev, subjectPrev }
 *
 * - `v`: format version, 1.
 * - `seq`: the entry's 0-based index in the log, equal to its Merkle leaf index.
 * - `time`: RFC 3339 UTC time the entry was appended (e.g. `2025-01-31T12:00:00.000Z`).
 * - `kind`, `actor`, `subject`, `data`: what was decided, by whom, about what (types.ts).
 * - `prev`: the LEAF HASH of entry `seq - 1`, i.e. lowercase hex of SHA-256(0x00 ‖ bytes of entry
 *   seq-1) (RFC 6962 §2.1 leaf hash); `null` for entry 0.
 * - `subjectPrev`: the LEAF HASH (same definition) of the latest earlier entry with the same
 *   `subject`; `null` for a subject's first entry.
 *
 * Both chains use the leaf hash rather than a separate "entry hash" so that one hash per entry
 * serves the global chain, the per-subject chain, the Merkle tree and receipts (`leafHash`).
 */
export const ENTRY_VERSION = 1;

/** Largest canonical entry accepted (bytes). */
export const MAX_ENTRY_BYTES = 64 * 1024;

export const AUDIT_KINDS: readonly AuditKind[] = [
  'ca.initialized',
  'policy.loaded',
  'enterprise.registered',
  'enterprise.revoked',
  'enterprise.deregistered',
  'officer.registered',
  'certificate.issued',
  'certificate.revoked',
  'submission.rejected',
  'submission.accepted',
  'submission.pending',
  'submission.countersigned',
  'submission.approved',
  'submission.refused',
  'auth.denied',
  'tsa.token',
  'checkpoint.timestamped',
  'auth.denied.summary',
];
const KNOWN_KINDS = new Set<string>(AUDIT_KINDS);

export interface Entry {
  v: number;
  seq: number;
  time: string;
  kind: string;
  actor: string;
  subject: string;
  data: { [key: string]: JsonValue };
  prev: string | null;
  subjectPrev: string | null;
}

const ENTRY_KEYS = ['actor', 'data', 'kind', 'prev', 'seq', 'subject', 'subjectPrev', 'time', 'v'];
const HASH_HEX = /^[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** A kind the auditor accepts even when it is newer than its own list: dotted lowercase words. */
const KIND_SHAPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
const MAX_LABEL = 512;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Canonical bytes of an entry being appended. MUST refuse (ERR_AUDIT_ENTRY_INVALID,
 * ERR_AUDIT_ENTRY_TOO_LARGE) anything an auditor's `decodeEntry` would not accept.
 */
export function encodeEntry(entry: Entry): Buffer {
  if (!KNOWN_KINDS.has(entry.kind)) throw new AuditError('ERR_AUDIT_ENTRY_INVALID', `unknown entry kind "${entry.kind}"`);
  checkLabel('actor', entry.actor);
  checkLabel('subject', entry.subject);
  if (!TIME.test(entry.time)) throw new AuditError('ERR_AUDIT_ENTRY_INVALID', `time "${entry.time}" is not RFC 3339 UTC`);
  if (typeof entry.data !== 'object' || entry.data === null || Array.isArray(entry.data)) {
    throw new AuditError('ERR_AUDIT_ENTRY_INVALID', 'data must be a JSON object');
  }
  assertCanonicalizable(entry.data, '$.data');
  const bytes = Buffer.from(
    canonicalJson({
      v: entry.v,
      seq: entry.seq,
      time: entry.time,
      kind: entry.kind,
      actor: entry.actor,
      subject: entry.subject,
      data: entry.data,
      prev: entry.prev,
      subjectPrev: entry.subjectPrev,
    }),
    'utf8',
  );
  if (bytes.length > MAX_ENTRY_BYTES) {
    throw new AuditError('ERR_AUDIT_ENTRY_TOO_LARGE', `entry is ${bytes.length} bytes; the log accepts at most ${MAX_ENTRY_BYTES}`, {
      detail: { limit: MAX_ENTRY_BYTES },
    });
  }
  return bytes;
}

function checkLabel(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LABEL || CONTROL.test(value)) {
    throw new AuditError(
      'ERR_AUDIT_ENTRY_INVALID',
      `${name} must be a non-empty string of at most ${MAX_LABEL} characters without control characters`,
    );
  }
  assertCanonicalizable(value, `$.${name}`);
}

export type DecodeResult = { ok: true; entry: Entry } | { ok: false; fault: 'malformed-entry' | 'non-canonical'; reason: string };

/**
 * The auditor's reading of stored entry bytes: well-formed JSON of the entry shape, and exactly
 * the canonical bytes of what it parses to. Never throws.
 */
export function decodeEntry(bytes: Buffer): DecodeResult {
  if (bytes.length > MAX_ENTRY_BYTES)
    return { ok: false, fault: 'malformed-entry', reason: `entry is ${bytes.length} bytes, over the ${MAX_ENTRY_BYTES} limit` };
  // Valid UTF-8 makes decoding exact, so comparing the text with the canonical text compares
  // the bytes (without encoding the canonical text again).
  if (!isUtf8(bytes)) return { ok: false, fault: 'non-canonical', reason: 'the bytes are not valid UTF-8' };
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, fault: 'malformed-entry', reason: 'not JSON' };
  }
  const shape = checkShape(value);
  if (shape !== undefined) return { ok: false, fault: 'malformed-entry', reason: shape };
  let canonical: string;
  try {
    assertCanonicalizable(value);
    canonical = canonicalJson(value);
  } catch (error) {
    return { ok: false, fault: 'malformed-entry', reason: (error as Error).message };
  }
  if (canonical !== text) {
    return { ok: false, fault: 'non-canonical', reason: 'the bytes are not the RFC 8785 canonical form of the entry' };
  }
  return { ok: true, entry: value as unknown as Entry };
}

function checkShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  const keys = Object.keys(e).sort();
  if (keys.length !== ENTRY_KEYS.length || keys.some((k, i) => k !== ENTRY_KEYS[i])) {
    return `members are {${keys.join(', ')}}, expected {${ENTRY_KEYS.join(', ')}}`;
  }
  if (e['v'] !== ENTRY_VERSION) return `unsupported version ${String(e['v'])}`;
  if (!Number.isSafeInteger(e['seq']) || (e['seq'] as number) < 0) return 'seq is not a non-negative integer';
  if (typeof e['time'] !== 'string' || !TIME.test(e['time'])) return 'time is not RFC 3339 UTC';
  if (typeof e['kind'] !== 'string' || !KIND_SHAPE.test(e['kind'])) return 'kind is malformed';
  for (const name of ['actor', 'subject']) {
    const label = e[name];
    if (typeof label !== 'string' || label.length === 0 || label.length > MAX_LABEL || CONTROL.test(label)) return `${name} is malformed`;
  }
  if (typeof e['data'] !== 'object' || e['data'] === null || Array.isArray(e['data'])) return 'data is not an object';
  for (const name of ['prev', 'subjectPrev']) {
    const h = e[name];
    if (h !== null && (typeof h !== 'string' || !HASH_HEX.test(h))) return `${name} is neither null nor a lowercase hex SHA-256`;
  }
  return undefined;
}
