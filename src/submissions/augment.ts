import { sha256 } from '../crypto/digest.js';
import { OID } from '../oids.js';
import {
  addSignatureTimestampCms,
  addValidationDataCms,
  envelopeSignatureValue,
  signerInfoSignatureValue,
  withUnsignedAttribute,
} from '../sign/cms.js';
import { jwsTimestampInput, withSignatureTimestampJws, withValidationDataJws, type GeneralJws, type GeneralJwsEntry } from '../sign/jws.js';
import type { TimeStamper } from '../tsa/types.js';
import { parseCmsSignedData } from '../verify/cms-parse.js';
import { OID_SIGNATURE_TIME_STAMP } from '../verify/timestamp.js';
import { withCountersignatures, type CarriedCountersignature, type EnvelopeFormat } from './envelope-parts.js';

/**
 * Augmentation of accepted signatures (ETSI baseline levels): a signature time-stamp over each
 * signature as it is accepted (B-T: CAdES id-aa-signatureTimeStampToken, JAdES `sigTst`), and
 * the validation data used when the workflow ends (B-LT: certificates, CRLs and OCSP responses;
 * CAdES in SignedData.certificates/crls, the OCSP responses as RFC 5940 otherRevInfo; JAdES
 * `xVals`/`rVals` (`crlVals`, `ocspVals`) on the enterprise's entry). Nothing signed
 * changes, so every signature in the envelope stays valid and `openssl cms -verify` still
 * accepts it.
 */

export interface ValidationData {
  /** CA certificates (DER) the paths run through: the issuing CA, the root, the TSA's chain. */
  certificates: Uint8Array[];
  /** The CRLs (DER) that showed the certificates good. */
  crls: Uint8Array[];
  /** OCSP responses (DER OCSPResponse) about the envelope's certificates, from the CA's responder. */
  ocspResponses: Uint8Array[];
}

/** What augments accepted signatures; each part is optional (without it, that level is not added). */
export interface Augmentation {
  /** The source of signature time-stamps (Chancery's TSA or an outside one's client). */
  timeStamper?: TimeStamper | undefined;
  /**
   * The validation data to embed when a workflow ends; `certificates` (DER) are those whose
   * status it should show: the signers' of the envelope (`envelopeCertificates`).
   */
  validationData?: ((certificates?: readonly Uint8Array[]) => Promise<ValidationData>) | undefined;
}

const stampOf = (stamper: TimeStamper, covered: Uint8Array): Promise<Uint8Array> =>
  stamper.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(covered) });

/** The envelope with a signature time-stamp over the enterprise's signature. A JWS comes back in General JSON. */
export async function timestampEnterpriseSignature(
  envelope: Uint8Array,
  format: EnvelopeFormat,
  stamper: TimeStamper,
  content?: Uint8Array,
): Promise<Buffer> {
  if (format === 'cms') return addSignatureTimestampCms(envelope, await stampOf(stamper, envelopeSignatureValue(envelope)));
  const jws = generalJws(envelope, content);
  const first = jws.signatures[0]!;
  const token = await stampOf(stamper, jwsTimestampInput(first));
  return serialize({ ...jws, signatures: [withSignatureTimestampJws(first, token), ...jws.signatures.slice(1)] });
}

/** The countersignature with a signature time-stamp over its own signature value. */
export async function timestampCountersignature(
  counter: CarriedCountersignature,
  format: EnvelopeFormat,
  stamper: TimeStamper,
): Promise<CarriedCountersignature> {
  if (format === 'cms') {
    const token = await stampOf(stamper, signerInfoSignatureValue(counter.bytes));
    return { id: counter.id, bytes: withUnsignedAttribute(counter.bytes, OID_SIGNATURE_TIME_STAMP, token) };
  }
  const entry = JSON.parse(counter.bytes.toString('utf8')) as GeneralJwsEntry;
  const token = await stampOf(stamper, jwsTimestampInput(entry));
  return { id: counter.id, bytes: Buffer.from(JSON.stringify(withSignatureTimestampJws(entry, token)), 'utf8') };
}

/** The envelope with the validation data added (B-LT). */
export function addValidationData(envelope: Uint8Array, format: EnvelopeFormat, data: ValidationData, content?: Uint8Array): Buffer {
  if (format === 'cms') return addValidationDataCms(envelope, data);
  const jws = generalJws(envelope, content);
  return serialize({ ...jws, signatures: [withValidationDataJws(jws.signatures[0]!, data), ...jws.signatures.slice(1)] });
}

/** The certificates an envelope carries (CMS SignedData.certificates; every JWS entry's `x5c`), DER. */
export function envelopeCertificates(envelope: Uint8Array, format: EnvelopeFormat, content?: Uint8Array): Uint8Array[] {
  if (format === 'cms') return parseCmsSignedData(envelope).certificates;
  const out: Uint8Array[] = [];
  for (const entry of generalJws(envelope, content).signatures) {
    const x5c = (JSON.parse(Buffer.from(entry.protected, 'base64url').toString('utf8')) as { x5c?: unknown }).x5c;
    if (Array.isArray(x5c)) for (const c of x5c) if (typeof c === 'string') out.push(Buffer.from(c, 'base64'));
  }
  return out;
}

function generalJws(envelope: Uint8Array, content: Uint8Array | undefined): GeneralJws {
  // withCountersignatures with nothing to add re-serializes any JWS as General JSON with its payload.
  return JSON.parse(withCountersignatures(envelope, [], { content }).toString('utf8')) as GeneralJws;
}

function serialize(jws: GeneralJws): Buffer {
  return Buffer.from(JSON.stringify({ payload: jws.payload, signatures: jws.signatures }), 'utf8');
}
