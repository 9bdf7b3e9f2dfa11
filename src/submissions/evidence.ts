import { ARCHIVE_FILE, archiveEvidenceFiles, openArchiveEvidence, type ArchiveEvidenceLink } from '../audit/archive-evidence.js';
import { openCheckpoint } from '../audit/checkpoint.js';
import { decodeEntry, type Entry } from '../audit/entry.js';
import { hashLeaf, verifyInclusion } from '../audit/merkle.js';
import { parseVerifierKey } from '../audit/note.js';
import { sha256, sha256Hex } from '../crypto/digest.js';
import { ASIC_MANIFEST_NAME, ASIC_TIMESTAMP_NAME, readAsicManifest, TIMESTAMP_TOKEN_MIMETYPE, writeAsicManifest } from './asic-manifest.js';
import type { ProofOfExistence } from '../verify/envelope.js';
import type { ArchiveChain } from '../verify/timestamp.js';
import { SubmissionError } from './errors.js';
import { readZip, writeZip, type ZipEntry, type ZipEntryInput } from './zip.js';

/**
 * Evidence containers: everything a third party needs to validate a decision offline, years on,
 * in one ASiC-E container (ETSI EN 319 162-1: a ZIP whose first entry is the stored `mimetype`).
 *
 *   mimetype                       application/vnd.etsi.asic-e+zip (stored, no extra field)
 *   document.json                  the signed document
 *   META-INF/signature.p7s         the envelope (CMS), or META-INF/signature.json (JWS), B-LT
 *   META-INF/receipts/<i>.jws      the service's receipt of the transition logged at index i
 *   META-INF/proofs/<i>.json       { index, treeSize, leafHash, proof: [hex], entry: base64 }:
 *                                  the log entry and its RFC 9162 inclusion proof
 *   META-INF/checkpoint.note       the signed checkpoint (C2SP) every proof leads to
 *   META-INF/log.vkey              the log's verifier key
 *   META-INF/crls/<n>.crl          the CRLs that showed the certificates good
 *   META-INF/archive/<n>.*         when one exists: the archive time-stamped checkpoint covering
 *                                  the last transition, and its renewals (src/audit/archive-evidence.ts)
 *   META-INF/ASiCManifest.xml      the ASiC manifest: every file above but mimetype, with its MIME
 *                                  type and SHA-256 (asic-manifest.ts)
 *   META-INF/timestamp.tst         when a TSA was available: an RFC 3161 time-stamp over the
 *                                  manifest, the ASiC time assertion dating every file it lists
 *
 * Each log entry names the SHA-256 of the signature value it records (`signatureSha256` for the
 * enterprise's, `countersignatureSha256` for an officer's) and the time it was recorded: proven
 * into a checkpoint signed by the log key, that is a proof of existence of the signature at
 * that time which depends on no certificate and so does not expire.
 */

export const ASIC_E_MIMETYPE = 'application/vnd.etsi.asic-e+zip';

export interface EvidenceTransition {
  logIndex: number;
  receipt: string;
  /** The log entry's canonical bytes. */
  entry: Uint8Array;
  inclusion: { treeSize: number; leafHash: string; proof: string[] };
}

export interface EvidenceInput {
  document: Uint8Array;
  envelope: Uint8Array;
  format: 'cms' | 'jws';
  transitions: readonly EvidenceTransition[];
  checkpoint: string;
  logVerifierKey: string;
  crls: readonly Uint8Array[];
  /** An RFC 3161 TimeStampToken over `evidenceManifest(input)` (the ASiC time assertion), when a TSA gave one. */
  manifestTimestamp?: Uint8Array | undefined;
  /** Archive time-stamps covering the transitions, linked to `checkpoint` (collectArchiveEvidence). */
  archive?: readonly ArchiveEvidenceLink[] | undefined;
}

/** The ASiC-E container of a submission's evidence. */
export function buildEvidence(input: EvidenceInput): Buffer {
  const objects = dataObjects(input);
  const entries: ZipEntryInput[] = [
    { name: 'mimetype', data: Buffer.from(ASIC_E_MIMETYPE, 'ascii'), store: true },
    ...objects.map((o) => ({ name: o.name, data: o.data })),
    { name: ASIC_MANIFEST_NAME, data: manifestOf(objects, input.manifestTimestamp !== undefined) },
  ];
  if (input.manifestTimestamp !== undefined) entries.push({ name: ASIC_TIMESTAMP_NAME, data: input.manifestTimestamp });
  return writeZip(entries);
}

/**
 * The bytes of the ASiC manifest of the container of `input` with a time assertion (its
 * SigReference names META-INF/timestamp.tst): what `manifestTimestamp` must be a time-stamp over.
 */
export function evidenceManifest(input: EvidenceInput): Buffer {
  return manifestOf(dataObjects(input), true);
}

function manifestOf(objects: DataObject[], timestamped: boolean): Buffer {
  const signature = objects[1]!;
  const sigReference = !timestamped
    ? { uri: signature.name, mimeType: signature.mimeType }
    : { uri: ASIC_TIMESTAMP_NAME, mimeType: TIMESTAMP_TOKEN_MIMETYPE };
  return writeAsicManifest(sigReference, objects);
}

interface DataObject {
  name: string;
  mimeType: string;
  data: Uint8Array;
}

/** Every file of the container but mimetype and the manifest with its time-stamp, in order: the document first, the signature second. */
function dataObjects(input: EvidenceInput): DataObject[] {
  const objects: Array<{ name: string; data: Uint8Array }> = [
    { name: 'document.json', data: input.document },
    { name: input.format === 'cms' ? 'META-INF/signature.p7s' : 'META-INF/signature.json', data: input.envelope },
  ];
  for (const t of input.transitions) {
    objects.push({ name: `META-INF/receipts/${t.logIndex}.jws`, data: Buffer.from(t.receipt, 'utf8') });
    const proof = { index: t.logIndex, ...t.inclusion, entry: Buffer.from(t.entry).toString('base64') };
    objects.push({ name: `META-INF/proofs/${t.logIndex}.json`, data: Buffer.from(JSON.stringify(proof), 'utf8') });
  }
  objects.push({ name: 'META-INF/checkpoint.note', data: Buffer.from(input.checkpoint, 'utf8') });
  objects.push({ name: 'META-INF/log.vkey', data: Buffer.from(input.logVerifierKey.trim() + '\n', 'utf8') });
  input.crls.forEach((crl, i) => objects.push({ name: `META-INF/crls/${i + 1}.crl`, data: crl }));
  objects.push(...archiveEvidenceFiles(input.archive ?? []));
  return objects.map((o) => ({ ...o, mimeType: evidenceMimeType(o.name)! }));
}

/** The MIME type of each kind of file a container holds (undefined: not a data object). */
export function evidenceMimeType(name: string): string | undefined {
  if (name === 'document.json' || name.startsWith('META-INF/proofs/')) return 'application/json';
  if (name === 'META-INF/signature.p7s') return 'application/pkcs7-signature';
  if (name === 'META-INF/signature.json') return 'application/jose+json';
  if (name.startsWith('META-INF/receipts/')) return 'application/jose';
  if (name === 'META-INF/checkpoint.note' || name === 'META-INF/log.vkey') return 'text/plain';
  if (name.startsWith('META-INF/crls/')) return 'application/pkix-crl';
  const archive = ARCHIVE_FILE.exec(name);
  if (archive !== null) return archive[2] === 'tst' ? TIMESTAMP_TOKEN_MIMETYPE : archive[2] === 'json' ? 'application/json' : 'text/plain';
  return undefined;
}

export interface OpenedEvidence {
  document: Buffer;
  envelope: Buffer;
  format: 'cms' | 'jws';
  crls: Buffer[];
  /** Each receipt with the proven log entry and leaf hash of its index (verifyEvidenceReceipts checks they agree). */
  receipts: Array<{ logIndex: number; receipt: string; leafHash: string; entry: Entry }>;
  /** Proofs of existence established from the log, for verifyEnvelope. */
  proofsOfExistence: ProofOfExistence[];
  /** Where the log key came from: given by the caller (pinned) or only carried in the container. */
  logKey: 'given' | 'container';
  checkpointSize: number;
  /** Each log entry proven: index, kind and time. */
  entries: Array<{ index: number; kind: string; time: string }>;
  /** The ASiC manifest, whose digests of every data object were checked, and its time assertion if any (not yet validated: verifyManifestTimestamp). */
  manifest: { bytes: Buffer; objects: number; timestamp: Buffer | undefined };
  /** The archive time-stamps proven to cover those entries (their tokens are the verifier's to validate). */
  archive: ArchiveChain | undefined;
}

const ALLOWED = [
  /^mimetype$/,
  /^document\.json$/,
  /^META-INF\/signature\.(p7s|json)$/,
  /^META-INF\/receipts\/(0|[1-9][0-9]{0,15})\.jws$/,
  /^META-INF\/proofs\/(0|[1-9][0-9]{0,15})\.json$/,
  /^META-INF\/checkpoint\.note$/,
  /^META-INF\/log\.vkey$/,
  /^META-INF\/crls\/[1-9][0-9]?\.crl$/,
  /^META-INF\/ASiCManifest\.xml$/,
  /^META-INF\/timestamp\.tst$/,
  ARCHIVE_FILE,
];

/**
 * Opens an evidence container and proves its log entries into its checkpoint, verified with
 * `logKey` (the caller's pinned verifier key) or, when none is given, the key the container
 * carries. MUST throw ERR_SUBMISSION_EVIDENCE_INVALID for anything malformed, unsafe, unexpected
 * or inconsistent; the signatures themselves are left to verifyEnvelope.
 */
export function openEvidence(bytes: Uint8Array, options: { logKey?: string | undefined } = {}): OpenedEvidence {
  const entries = readZip(bytes);
  const first = entries[0];
  if (first === undefined || first.name !== 'mimetype')
    throw bad('the first entry of an ASiC container must be "mimetype" (ETSI EN 319 162-1 §A.1)');
  if (first.method !== 0 || first.localExtraLength !== 0) throw bad('"mimetype" must be stored, without compression or extra field');
  if (first.data.toString('latin1') !== ASIC_E_MIMETYPE) throw bad(`"mimetype" is not ${ASIC_E_MIMETYPE}`);
  for (const e of entries) {
    if (!ALLOWED.some((r) => r.test(e.name))) throw bad(`the container holds an unexpected file "${e.name.slice(0, 80)}"`);
  }
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const need = (name: string): Buffer => {
    const data = byName.get(name);
    if (data === undefined) throw bad(`the container has no ${name}`);
    return data;
  };
  const document = need('document.json');
  const cms = byName.get('META-INF/signature.p7s');
  const jws = byName.get('META-INF/signature.json');
  if ((cms === undefined) === (jws === undefined))
    throw bad('the container must hold exactly one of META-INF/signature.p7s and META-INF/signature.json');
  const carriedKey = need('META-INF/log.vkey').toString('utf8').trim();
  const keyText = options.logKey?.trim() ?? carriedKey;
  let verifier: ReturnType<typeof parseVerifierKey>;
  try {
    verifier = parseVerifierKey(keyText);
  } catch (error) {
    throw bad(`the log verifier key cannot be read: ${(error as Error).message}`);
  }
  let checkpoint: ReturnType<typeof openCheckpoint>;
  try {
    checkpoint = openCheckpoint(need('META-INF/checkpoint.note'), verifier);
  } catch (error) {
    throw bad(
      `the checkpoint does not verify with the ${options.logKey === undefined ? "container's" : 'given'} log key: ${(error as Error).message}`,
    );
  }

  const proofsOfExistence: ProofOfExistence[] = [];
  const proven: OpenedEvidence['entries'] = [];
  const receipts: OpenedEvidence['receipts'] = [];
  let submission: string | undefined;
  for (const e of entries.filter((x) => x.name.startsWith('META-INF/proofs/'))) {
    const index = Number(/([0-9]+)\.json$/.exec(e.name)![1]);
    const p = parseProof(e.data, e.name);
    if (p.index !== index) throw bad(`${e.name} is the proof of entry ${p.index}`);
    if (p.treeSize !== checkpoint.size) throw bad(`${e.name} proves into a tree of ${p.treeSize}, not the checkpoint's ${checkpoint.size}`);
    const leafHash = hashLeaf(p.entry);
    if (leafHash.toString('hex') !== p.leafHash) throw bad(`${e.name}: the entry's leaf hash is not the one proven`);
    try {
      verifyInclusion(p.index, p.treeSize, leafHash, p.proof, checkpoint.root);
    } catch (error) {
      throw bad(`${e.name}: the inclusion proof does not lead to the checkpoint's root: ${(error as Error).message}`);
    }
    const decoded = decodeEntry(p.entry);
    if (!decoded.ok) throw bad(`${e.name}: the log entry is malformed: ${decoded.reason}`);
    const entry = decoded.entry;
    if (entry.seq !== p.index) throw bad(`${e.name}: the entry says it is entry ${entry.seq}`);
    const data = entry.data;
    if (!entry.kind.startsWith('submission.'))
      throw bad(`${e.name}: the entry is a ${entry.kind.slice(0, 64)}, not a submission transition`);
    const about = entry.subject;
    if (submission !== undefined && about !== submission) throw bad(`${e.name}: the entries are about different submissions`);
    submission = about;
    if (data['documentSha256'] !== sha256Hex(document)) throw bad(`${e.name}: the entry records another document`);
    const receipt = byName.get(`META-INF/receipts/${index}.jws`);
    if (receipt === undefined) throw bad(`the container has no receipt for log entry ${index}`);
    receipts.push({ logIndex: index, receipt: receipt.toString('utf8'), leafHash: p.leafHash, entry });
    proven.push({ index, kind: entry.kind, time: entry.time });
    const detail = `log entry ${index} (${entry.kind}, ${entry.time}) proven into the checkpoint of size ${checkpoint.size} signed by ${options.logKey === undefined ? 'the log key the container carries (not pinned by the caller)' : 'the given log key'}`;
    for (const member of ['signatureSha256', 'countersignatureSha256']) {
      const value = data[member];
      if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value))
        proofsOfExistence.push({ signatureValueSha256: value, time: new Date(entry.time), source: 'log-inclusion-proof', detail });
    }
  }
  if (proven.length === 0) throw bad('the container proves no log entry');
  for (const e of entries.filter((x) => x.name.startsWith('META-INF/receipts/'))) {
    const index = Number(/([0-9]+)\.jws$/.exec(e.name)![1]);
    if (!proven.some((p) => p.index === index)) throw bad(`the container holds ${e.name} but no proof of log entry ${index}`);
  }
  const manifest = checkManifest(
    entries,
    need(ASIC_MANIFEST_NAME),
    cms !== undefined ? 'META-INF/signature.p7s' : 'META-INF/signature.json',
  );
  // The same signatures, dated by archive time-stamps of checkpoints covering their entries.
  let archive: ArchiveChain | undefined;
  try {
    archive = openArchiveEvidence(
      byName,
      verifier,
      checkpoint,
      proven.map((p) => p.index),
    );
  } catch (error) {
    throw bad(`the archive time-stamps do not prove: ${(error as Error).message}`);
  }
  if (archive !== undefined)
    for (const p of [...proofsOfExistence])
      proofsOfExistence.push({
        signatureValueSha256: p.signatureValueSha256,
        source: 'archive-timestamp',
        chain: archive,
        detail: p.detail,
      });
  const crls = entries.filter((e) => e.name.startsWith('META-INF/crls/')).map((e) => e.data);
  return {
    document,
    envelope: (cms ?? jws)!,
    format: cms !== undefined ? 'cms' : 'jws',
    crls,
    receipts,
    proofsOfExistence,
    logKey: options.logKey === undefined ? 'container' : 'given',
    checkpointSize: checkpoint.size,
    entries: proven,
    manifest,
    archive,
  };
}

/**
 * The manifest lists every data object exactly once, with its MIME type and a SHA-256 digest
 * that matches; nothing it lists is missing; its SigReference names the time assertion when
 * the container has one, else the signature file.
 */
function checkManifest(entries: readonly ZipEntry[], bytes: Buffer, signatureName: string): OpenedEvidence['manifest'] {
  const manifest = readAsicManifest(bytes);
  const timestamp = entries.find((e) => e.name === ASIC_TIMESTAMP_NAME)?.data;
  const expected = timestamp === undefined ? signatureName : ASIC_TIMESTAMP_NAME;
  if (manifest.sigReference.uri !== expected)
    throw bad(`${ASIC_MANIFEST_NAME} names ${manifest.sigReference.uri} as what covers it, not ${expected}`);
  const listed = new Map<string, (typeof manifest.references)[number]>();
  for (const r of manifest.references) {
    if (listed.has(r.uri)) throw bad(`${ASIC_MANIFEST_NAME} lists ${r.uri} twice`);
    listed.set(r.uri, r);
  }
  let objects = 0;
  for (const e of entries) {
    const mimeType = evidenceMimeType(e.name);
    if (mimeType === undefined) continue; // mimetype, the manifest and its time-stamp
    const r = listed.get(e.name);
    if (r === undefined) throw bad(`${e.name} is not listed in ${ASIC_MANIFEST_NAME}`);
    if (r.mimeType !== mimeType) throw bad(`${ASIC_MANIFEST_NAME} gives ${e.name} the MIME type ${r.mimeType}, not ${mimeType}`);
    if (!sha256(e.data).equals(r.digest))
      throw bad(`${e.name} does not match its SHA-256 digest in ${ASIC_MANIFEST_NAME} (altered or replaced)`);
    listed.delete(e.name);
    objects++;
  }
  const missing = [...listed.keys()];
  if (missing.length > 0) throw bad(`${ASIC_MANIFEST_NAME} lists ${missing[0]!.slice(0, 80)}, which the container does not hold`);
  return { bytes, objects, timestamp };
}

/** True when the bytes start like a ZIP archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function parseProof(data: Buffer, name: string): { index: number; treeSize: number; leafHash: string; proof: Buffer[]; entry: Buffer } {
  let p: unknown;
  try {
    p = JSON.parse(data.toString('utf8'));
  } catch {
    throw bad(`${name} is not JSON`);
  }
  const o = p as Record<string, unknown>;
  const hex = /^[0-9a-f]{64}$/;
  if (
    typeof o !== 'object' ||
    o === null ||
    !Number.isSafeInteger(o['index']) ||
    !Number.isSafeInteger(o['treeSize']) ||
    typeof o['leafHash'] !== 'string' ||
    !hex.test(o['leafHash']) ||
    !Array.isArray(o['proof']) ||
    o['proof'].length > 64 ||
    !o['proof'].every((h) => typeof h === 'string' && hex.test(h)) ||
    typeof o['entry'] !== 'string'
  )
    throw bad(`${name} is not { index, treeSize, leafHash, proof: [hex], entry: base64 }`);
  return {
    index: o['index'] as number,
    treeSize: o['treeSize'] as number,
    leafHash: o['leafHash'],
    proof: (o['proof'] as string[]).map((h) => Buffer.from(h, 'hex')),
    entry: Buffer.from(o['entry'], 'base64'),
  };
}

function bad(message: string): SubmissionError {
  return new SubmissionError('ERR_SUBMISSION_EVIDENCE_INVALID', message);
}
