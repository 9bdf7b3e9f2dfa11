import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, parseCheckpoint } from '../../src/audit/checkpoint.js';
import { CompactRange, hashLeaf } from '../../src/audit/merkle.js';
import { decodeBase64Strict, openNote, parseNote, parseVerifierKey, signNote, type NoteVerifier } from '../../src/audit/note.js';
import { ed25519SignerFromSeed } from '../../src/crypto/ed25519.js';
import { vectorSuite } from '../helpers/vectors.js';

/**
 * C2SP signed-note and tlog-checkpoint conformance: vectors/c2sp-note (C2SP spec examples,
 * golang.org/x/mod sumdb/note tests, transparency-dev/formats and tessera test data; sources and
 * licenses in its README). Chancery follows Go's behaviour where the README marks a vector as
 * Go-API-specific or policy-dependent (duplicate trust entries are "ambiguous"; at most 100
 * signature lines), and parses checkpoint bodies strictly (32-byte roots, no empty extension
 * lines), so the 5 bodies marked `strictC2spNotes` are rejected on purpose.
 */
const dir = vectorSuite('c2sp-note');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir!, name), 'utf8')) as T;

const ERROR_CODES: Record<string, string> = {
  malformed: 'ERR_AUDIT_NOTE_MALFORMED',
  'no-verifiable-signatures': 'ERR_AUDIT_NOTE_UNVERIFIED',
  'invalid-signature': 'ERR_AUDIT_NOTE_BAD_SIGNATURE',
  'ambiguous-key': 'ERR_AUDIT_NOTE_AMBIGUOUS_KEY',
};

interface Sig {
  name: string;
  keyIdHex: string;
}
const sigs = (list: Array<{ name: string; keyId: number }>): Sig[] =>
  list.map((s) => ({ name: s.name, keyIdHex: s.keyId.toString(16).padStart(8, '0') }));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'uncoded';
  }
}

describe.skipIf(dir === undefined)('C2SP signed notes and checkpoints (vectors/c2sp-note)', () => {
  const notes =
    dir === undefined
      ? []
      : load<{
          vectors: Array<{
            id: string;
            noteBase64: string;
            verifierKeys: string[];
            expected: { valid: boolean; error: string | null; text?: string; verifiedSignatures?: Sig[]; unverifiedSignatures?: Sig[] };
          }>;
        }>('signed-notes.json').vectors;

  it('has the 38 note vectors', () => {
    expect(notes).toHaveLength(38);
  });

  it.each(notes.map((v) => [v.id, v]))('note %s', (_id, v) => {
    const verifiers = v.verifierKeys.map(parseVerifierKey);
    const bytes = Buffer.from(v.noteBase64, 'base64');
    if (v.expected.valid) {
      const opened = openNote(bytes, verifiers);
      expect(opened.text).toBe(v.expected.text);
      expect(sigs(opened.verified)).toEqual(v.expected.verifiedSignatures);
      if (v.expected.unverifiedSignatures !== undefined) expect(sigs(opened.unverified)).toEqual(v.expected.unverifiedSignatures);
    } else {
      expect(codeOf(() => openNote(bytes, verifiers))).toBe(ERROR_CODES[v.expected.error!]);
    }
  });

  const vkeys =
    dir === undefined
      ? { valid: [], invalid: [] }
      : load<{
          valid: Array<{ vkey: string; expected: { name: string; keyIdHex: string; signatureType: number; publicKeyHex: string } }>;
          invalid: Array<{ vkey: string; reason: string }>;
        }>('verifier-keys.json');

  it('parses the 12 valid verifier keys field by field', () => {
    expect(vkeys.valid).toHaveLength(12);
    for (const v of vkeys.valid) {
      const parsed: NoteVerifier = parseVerifierKey(v.vkey);
      expect(parsed.name).toBe(v.expected.name);
      expect(parsed.keyId.toString(16).padStart(8, '0')).toBe(v.expected.keyIdHex);
      expect(v.expected.signatureType).toBe(1);
      expect(parsed.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex')).toBe(v.expected.publicKeyHex);
    }
  });

  it('rejects all 198 invalid verifier keys', () => {
    expect(vkeys.invalid).toHaveLength(198);
    const accepted = vkeys.invalid.filter((v) => codeOf(() => parseVerifierKey(v.vkey)) !== 'ERR_AUDIT_VKEY_INVALID');
    expect(accepted.map((v) => `${v.vkey}: ${v.reason}`)).toEqual([]);
  });

  it('signs the 17 signing vectors byte for byte through the Signer interface', async () => {
    const { vectors } = load<{ vectors: Array<{ signerKey: string; verifierKey: string; text: string; expectedNote: string }> }>(
      'signing.json',
    );
    expect(vectors).toHaveLength(17);
    for (const v of vectors) {
      // PRIVATE+KEY+<name>+<key ID>+base64(0x01 ‖ seed)
      const parts = v.signerKey.split('+');
      const name = parts[2]!;
      const seed = decodeBase64Strict(parts.slice(4).join('+'))!.subarray(1);
      const signer = ed25519SignerFromSeed(name, seed);
      expect(await signNote(v.text, name, signer)).toBe(v.expectedNote);
      expect(openNote(v.expectedNote, [parseVerifierKey(v.verifierKey)]).text).toBe(v.text);
    }
  });

  const checkpoints =
    dir === undefined
      ? undefined
      : load<{
          tesseraLog: {
            origin: string;
            verifierKey: string;
            entries: Array<{ hex: string; leafHashHex: string }>;
            tiles: Record<string, { hex: string }>;
          };
          signedCheckpoints: Array<{
            id: string;
            note: string;
            verifierKeys: string[];
            expected: {
              valid: boolean;
              error?: string;
              origin: string;
              treeSize: number;
              rootHashHex: string;
              extensionLines: string[];
              signatureLines?: Array<{ name: string; keyIdHex: string; signatureBytes: number }>;
            };
          }>;
          bodyParsing: {
            vectors: Array<{
              id: string;
              body: string;
              expected: { valid: boolean; origin?: string; treeSize?: number };
              strictC2spNotes?: string[];
            }>;
          };
        }>('checkpoints.json');

  it('opens the 18 signed checkpoints and reads origin, size and root (parse-only ones from their text)', () => {
    expect(checkpoints!.signedCheckpoints).toHaveLength(18);
    for (const c of checkpoints!.signedCheckpoints) {
      const verifiers = c.verifierKeys.map(parseVerifierKey);
      let body;
      if (c.expected.valid) {
        expect(verifiers.length).toBeGreaterThan(0);
        body = openCheckpoint(c.note, verifiers[0]!, c.expected.origin);
      } else {
        expect(codeOf(() => openNote(c.note, verifiers))).toBe(ERROR_CODES[c.expected.error!]);
        const parsed = parseNote(c.note);
        body = parseCheckpoint(parsed.text);
        for (const [i, line] of (c.expected.signatureLines ?? []).entries()) {
          expect(parsed.signatures[i]!.name).toBe(line.name);
          expect(parsed.signatures[i]!.keyId.toString(16).padStart(8, '0')).toBe(line.keyIdHex);
          expect(parsed.signatures[i]!.signature.length + 4).toBe(line.signatureBytes);
        }
      }
      expect(body.origin).toBe(c.expected.origin);
      expect(body.size).toBe(c.expected.treeSize);
      expect(body.root.toString('hex')).toBe(c.expected.rootHashHex);
      expect(body.extensions).toEqual(c.expected.extensionLines);
    }
  });

  it('refuses a checkpoint whose origin is not the expected one', () => {
    const c = checkpoints!.signedCheckpoints.find((x) => x.id === 'tessera/checkpoint.3')!;
    expect(codeOf(() => openCheckpoint(c.note, parseVerifierKey(c.verifierKeys[0]!), 'example.com/another-log'))).toBe(
      'ERR_AUDIT_CHECKPOINT_ORIGIN',
    );
  });

  it('ties the Tessera test log to its 16 checkpoints: RFC 6962 root of the first N entries, N = 0..15', () => {
    const log = checkpoints!.tesseraLog;
    const verifier = parseVerifierKey(log.verifierKey);
    const byId = new Map(checkpoints!.signedCheckpoints.map((c) => [c.id, c]));
    const tree = new CompactRange();
    const tile: Buffer[] = [];
    for (let n = 0; n <= 15; n++) {
      const cp = openCheckpoint(byId.get(`tessera/checkpoint.${n}`)!.note, verifier, log.origin);
      expect(cp.size).toBe(n);
      expect(cp.root.equals(tree.root())).toBe(true);
      if (n < 15) {
        const leaf = hashLeaf(Buffer.from(log.entries[n]!.hex, 'hex'));
        expect(leaf.toString('hex')).toBe(log.entries[n]!.leafHashHex);
        tile.push(leaf);
        tree.append(leaf);
      }
    }
    expect(Buffer.concat(tile).toString('hex')).toBe(log.tiles['tile/0/000.p/15']!.hex);
  });

  it('parses the 12 checkpoint bodies: the 7 invalid ones and the 5 lenient-only ones are refused, strictly', () => {
    const bodies = checkpoints!.bodyParsing.vectors;
    expect(bodies).toHaveLength(12);
    for (const b of bodies) {
      const code = codeOf(() => parseCheckpoint(b.body));
      if (!b.expected.valid || b.strictC2spNotes !== undefined) expect(code, b.id).toBe('ERR_AUDIT_CHECKPOINT_MALFORMED');
      else expect(code, b.id).toBeUndefined();
    }
    expect(bodies.filter((b) => b.expected.valid && b.strictC2spNotes === undefined)).toHaveLength(0);
    expect(bodies.filter((b) => b.strictC2spNotes !== undefined)).toHaveLength(5);
  });
});
