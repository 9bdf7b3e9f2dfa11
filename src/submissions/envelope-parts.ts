import { sha256Hex } from '../crypto/digest.js';
import { OID } from '../oids.js';
import { addCountersignatures } from '../sign/cms.js';
import { parseCmsSignedData, parseSignerInfo } from '../verify/cms-parse.js';
import { detectFormat } from '../verify/envelope.js';
import { VerifyError } from '../verify/errors.js';
import { parseJws, type JwsEntry } from '../verify/jws-parse.js';
import { SubmissionError } from './errors.js';

/**
 * What the workflow needs to know of an envelope besides its validation report: the enterprise's
 * signature (which binds every countersignature to one application) and the countersignatures it
 * carries, each with a stable identity, so that an officer's upload can be compared with the
 * envelope the service holds and exactly the new countersignature be taken from it.
 *
 * A countersignature's identity is the SHA-256 of its signature value: it does not change when
 * the envelope around it is re-serialized, and no two countersignatures share it.
 */

export type EnvelopeFormat = 'cms' | 'jws';

export interface CarriedCountersignature {
  /** Hex SHA-256 of the countersignature's signature value. */
  id: string;
  /** CMS: the countersignature SignerInfo (DER). JWS: the `signatures` entry as JSON. */
  bytes: Buffer;
}

export interface EnvelopeParts {
  format: EnvelopeFormat;
  /** The enterprise's signature value. */
  enterpriseSignature: Buffer;
  countersignatures: CarriedCountersignature[];
  /** CMS: the certificates the envelope carries (DER, as sent); JWS: none (x5c rides in each header). */
  certificates: Buffer[];
  /** JWS: the payload as sent (base64url), undefined when detached. */
  payloadB64?: string | undefined;
}

/** Reads the parts of an envelope; ERR_SUBMISSION_MALFORMED when it is neither a CMS nor a JWS envelope. */
export function readEnvelopeParts(envelope: Uint8Array): EnvelopeParts {
  const format = detectFormat(envelope);
  if (format === undefined) throw malformed('the body is neither a DER CMS SignedData nor a JWS');
  try {
    return format === 'cms' ? readCms(envelope) : readJws(envelope);
  } catch (error) {
    if (error instanceof VerifyError) throw malformed(`the ${format === 'cms' ? 'CMS' : 'JWS'} envelope cannot be read: ${error.message}`);
    throw error;
  }
}

function readCms(envelope: Uint8Array): EnvelopeParts {
  const sd = parseCmsSignedData(envelope);
  if (sd.signerInfos.length !== 1)
    throw malformed(`the SignedData has ${sd.signerInfos.length} SignerInfos; a Chancery envelope has exactly one`);
  const si = sd.signerInfos[0]!;
  const countersignatures = si.unsignedAttrs
    .filter((a) => a.type === OID.countersignature)
    .flatMap((a) => a.values)
    .map((value, i) => {
      const counter = parseSignerInfo(value, `countersignature ${i + 1}`);
      return { id: sha256Hex(counter.signature), bytes: Buffer.from(value.bytes) };
    });
  return {
    format: 'cms',
    enterpriseSignature: Buffer.from(si.signature),
    countersignatures,
    certificates: sd.certificates.map((c) => Buffer.from(c)),
  };
}

function readJws(envelope: Uint8Array): EnvelopeParts {
  const jws = parseJws(envelope);
  const [first, ...rest] = jws.signatures;
  return {
    format: 'jws',
    enterpriseSignature: first!.signature,
    countersignatures: rest.map((entry) => ({
      id: sha256Hex(entry.signature),
      bytes: Buffer.from(JSON.stringify(entryJson(entry)), 'utf8'),
    })),
    certificates: [],
    payloadB64: jws.payloadB64,
  };
}

/** True when two envelopes carry the same enterprise signature (the same application). */
export function sameEnterpriseSignature(a: EnvelopeParts, b: EnvelopeParts): boolean {
  return a.enterpriseSignature.equals(b.enterpriseSignature);
}

/**
 * `base` with `added` countersignatures (and, for CMS, the certificates they need) appended; no
 * byte of `base`'s signatures changes. A JWS comes back in the General JSON Serialization with
 * its payload embedded (`content` supplies it when `base` is detached: RFC 7515 Appendix F, the
 * signing input is the same).
 */
export function withCountersignatures(
  base: Uint8Array,
  added: readonly CarriedCountersignature[],
  options: { certificates?: readonly Uint8Array[]; content?: Uint8Array | undefined } = {},
): Buffer {
  const format = detectFormat(base);
  if (format === 'cms')
    return addCountersignatures(
      base,
      added.map((c) => c.bytes),
      options.certificates ?? [],
    );
  if (format !== 'jws') throw malformed('the stored envelope is neither CMS nor JWS');
  const jws = parseJws(base);
  const payload = jws.payloadB64 ?? (options.content === undefined ? undefined : Buffer.from(options.content).toString('base64url'));
  if (payload === undefined) throw malformed('the JWS is detached and its payload is not known');
  const signatures = [
    ...jws.signatures.map(entryJson),
    ...added.map((c) => JSON.parse(c.bytes.toString('utf8')) as Record<string, unknown>),
  ];
  return Buffer.from(JSON.stringify({ payload, signatures }), 'utf8');
}

function entryJson(entry: JwsEntry): Record<string, unknown> {
  return {
    protected: entry.protectedB64,
    ...(entry.unprotectedHeader === undefined ? {} : { header: entry.unprotectedHeader }),
    signature: entry.signatureB64,
  };
}

function malformed(message: string): SubmissionError {
  return new SubmissionError('ERR_SUBMISSION_MALFORMED', message);
}
