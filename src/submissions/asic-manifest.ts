import { sha256 } from '../crypto/digest.js';
import { SubmissionError } from './errors.js';

/**
 * The ASiC manifest of an ASiC-E container (ETSI EN 319 162-1 §4.4.3.3, Annex A.4):
 * `META-INF/ASiCManifest.xml`, an `ASiCManifest` whose `SigReference` names the file that covers
 * it (the time assertion `META-INF/timestamp.tst` when the container has one, else the signature
 * file), and one `DataObjectReference` per data object with its MIME type and SHA-256 digest
 * (XML Signature `DigestMethod`/`DigestValue`). The writer is deterministic, and the reader accepts
 * exactly the form the writer produces (these prefixes, this element order, no comments, no
 * entities): a manifest is read with a pattern, never with a general XML parser, so nothing in
 * it can expand, include or hide anything.
 */

export const ASIC_MANIFEST_NAME = 'META-INF/ASiCManifest.xml';
export const ASIC_TIMESTAMP_NAME = 'META-INF/timestamp.tst';
export const TIMESTAMP_TOKEN_MIMETYPE = 'application/vnd.etsi.timestamp-token';

const ASIC_NS = 'http://uri.etsi.org/02918/v1.2.1#';
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
/** XML Encryption's SHA-256 identifier, as XML Signature uses it (RFC 6931 §2.1.3 / xmlenc-core). */
const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';
const MAX_MANIFEST_BYTES = 256 * 1024;

export interface ManifestReference {
  uri: string;
  mimeType: string;
  /** SHA-256 of the data object's bytes. */
  digest: Buffer;
}

export interface AsicManifest {
  sigReference: { uri: string; mimeType: string };
  references: ManifestReference[];
}

/** The manifest's bytes (UTF-8 XML). */
export function writeAsicManifest(
  sigReference: { uri: string; mimeType: string },
  objects: ReadonlyArray<{ name: string; mimeType: string; data: Uint8Array }>,
): Buffer {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    `<asic:ASiCManifest xmlns:asic="${ASIC_NS}" xmlns:ds="${DS_NS}">`,
    `  <asic:SigReference URI="${attr(sigReference.uri)}" MimeType="${attr(sigReference.mimeType)}"/>`,
  ];
  for (const o of objects) {
    lines.push(
      `  <asic:DataObjectReference URI="${attr(o.name)}" MimeType="${attr(o.mimeType)}">`,
      `    <ds:DigestMethod Algorithm="${SHA256_URI}"/>`,
      `    <ds:DigestValue>${sha256(o.data).toString('base64')}</ds:DigestValue>`,
      '  </asic:DataObjectReference>',
    );
  }
  lines.push('</asic:ASiCManifest>', '');
  return Buffer.from(lines.join('\n'), 'utf8');
}

/** Names are the container's own safe names; MIME types are tokens: neither needs escaping, but refuse what would. */
function attr(value: string): string {
  if (!/^[A-Za-z0-9._/+-]+$/.test(value)) throw new Error(`not a manifest attribute value: ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

const VALUE = '([A-Za-z0-9._/+-]{1,255})';
const HEAD = new RegExp(
  `^<\\?xml version="1\\.0" encoding="UTF-8" standalone="yes"\\?>\\s*<asic:ASiCManifest xmlns:asic="${escape(ASIC_NS)}" xmlns:ds="${escape(DS_NS)}">\\s*<asic:SigReference URI="${VALUE}" MimeType="${VALUE}"/>\\s*`,
);
const REFERENCE = new RegExp(
  `^<asic:DataObjectReference URI="${VALUE}" MimeType="${VALUE}">\\s*<ds:DigestMethod Algorithm="([^"<>]{1,128})"/>\\s*<ds:DigestValue>([A-Za-z0-9+/]{43}=)</ds:DigestValue>\\s*</asic:DataObjectReference>\\s*`,
);
const TAIL = /^<\/asic:ASiCManifest>\s*$/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/#]/g, '\\$&');
}

/** Reads a manifest in the form `writeAsicManifest` writes. Throws ERR_SUBMISSION_EVIDENCE_INVALID with the fault. */
export function readAsicManifest(bytes: Uint8Array): AsicManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw bad(`${ASIC_MANIFEST_NAME} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad(`${ASIC_MANIFEST_NAME} is not UTF-8`);
  }
  const head = HEAD.exec(text);
  if (head === null) throw bad(`${ASIC_MANIFEST_NAME} does not begin with an ASiCManifest and its SigReference`);
  let rest = text.slice(head[0].length);
  const references: ManifestReference[] = [];
  for (let m = REFERENCE.exec(rest); m !== null; m = REFERENCE.exec(rest)) {
    if (m[3] !== SHA256_URI) throw bad(`${ASIC_MANIFEST_NAME}: the digest of ${m[1]} is not SHA-256 (${m[3]!.slice(0, 80)})`);
    references.push({ uri: m[1]!, mimeType: m[2]!, digest: Buffer.from(m[4]!, 'base64') });
    rest = rest.slice(m[0].length);
    if (references.length > 1024) throw bad(`${ASIC_MANIFEST_NAME} lists too many data objects`);
  }
  if (!TAIL.test(rest))
    throw bad(
      `${ASIC_MANIFEST_NAME} is not an ASiCManifest of DataObjectReferences (unexpected content after ${references.length} of them)`,
    );
  if (references.length === 0) throw bad(`${ASIC_MANIFEST_NAME} lists no data object`);
  return { sigReference: { uri: head[1]!, mimeType: head[2]! }, references };
}

function bad(message: string): SubmissionError {
  return new SubmissionError('ERR_SUBMISSION_EVIDENCE_INVALID', message);
}
