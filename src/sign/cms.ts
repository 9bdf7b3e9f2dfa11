import { digest, sha256 } from '../crypto/digest.js';
import type { HashName } from '../crypto/signature.js';
import type { Signer, SigningAlgorithm } from '../crypto/signer.js';
import { OID } from '../oids.js';
import { OID_OF_DIGEST, type Decision } from '../verify/cms-attributes.js';
import { childrenOf, expectTag, readDer, readOid, readSequence } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { x509Time } from '../der/time.js';
import {
  explicit,
  nullValue,
  octetString,
  oid,
  sequence,
  sequenceOf,
  setOf,
  smallInteger,
  sortedSetOf,
  tlv,
  tlvOf,
} from '../der/writer.js';
import { readCertificateIdentity } from '../verify/cms-parse.js';
import { SignError } from './errors.js';
import { commitmentTypeIndication } from './commitment.js';

/**
 * Builders for Chancery's CMS envelopes: an enterprise signature
 * with the four required signed attributes, and an officer's countersignature carrying a decision.
 * Every signature goes through the `Signer` interface; no key material is handled here.
 */

export interface CmsSignOptions {
  signer: Signer;
  /** The signer's certificate first, then any intermediates to carry (DER, original bytes). */
  chain: Uint8Array[];
  /** The document bytes (the JSON application). */
  content: Uint8Array;
  /** Leave the content out of the envelope (the verifier is given it separately). */
  detached: boolean;
  /** The signing-time attribute. */
  time: Date;
}

export interface CmsCountersignOptions {
  signer: Signer;
  /** The officer's certificate first, then intermediates not already in the envelope. */
  chain: Uint8Array[];
  decision: Decision;
  /** The officer's reason, signed as the commitment's qualifier; in the form decision-reason.ts defines (normalizeReason makes it). */
  reason?: string | undefined;
  time: Date;
}

/** Signature algorithm identifiers per key algorithm (RFC 5754, RFC 8419, RFC 4056), and the digest each uses. */
const CMS_ALGORITHM: Record<SigningAlgorithm, { digest: HashName; signatureAlgorithm: () => Buffer }> = {
  ES256: { digest: 'sha256', signatureAlgorithm: () => algorithmIdentifier('1.2.840.10045.4.3.2') },
  ES384: { digest: 'sha384', signatureAlgorithm: () => algorithmIdentifier('1.2.840.10045.4.3.3') },
  // RFC 8419 §3.1: with Ed25519 the message digest uses SHA-512.
  EdDSA: { digest: 'sha512', signatureAlgorithm: () => algorithmIdentifier('1.3.101.112') },
  RS256: { digest: 'sha256', signatureAlgorithm: () => algorithmIdentifier('1.2.840.113549.1.1.11', nullValue()) },
  PS256: { digest: 'sha256', signatureAlgorithm: () => algorithmIdentifier('1.2.840.113549.1.1.10', pssSha256Parameters()) },
};

/** Signs `content` as a CMS SignedData (DER), encapsulated or detached. */
export async function signCms(options: CmsSignOptions): Promise<Buffer> {
  const leaf = firstOf(options.chain);
  const alg = CMS_ALGORITHM[options.signer.algorithm];
  const signedAttributes = [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, x509Time(options.time)),
    attribute(OID.messageDigest, octetString(digest(alg.digest, options.content))),
    attribute(OID.signingCertificateV2, signingCertificateV2(leaf)),
  ];
  const signerInfo = await buildSignerInfo(options.signer, leaf, alg, signedAttributes);
  const encapsulated = options.detached ? sequence(oid(OID.data)) : sequence(oid(OID.data), explicit(0, octetString(options.content)));
  const signedData = sequence(
    smallInteger(1),
    setOf(algorithmIdentifier(OID_OF_DIGEST[alg.digest])),
    encapsulated,
    tlvOf(contextTag(0, true), sortDer(dedupe(options.chain))),
    setOf(signerInfo),
  );
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

/**
 * A signer with what every SignerInfo it makes repeats, worked out once: its certificate's
 * issuer-and-serial and its signing-certificate-v2 attribute. For a signer that signs many
 * envelopes (the time-stamping authority).
 */
export interface CmsSignerIdentity {
  signer: Signer;
  certificate: Uint8Array;
  readonly sid: Buffer;
  readonly signingCertificateV2: Buffer;
}

/** Prepares a signer and its certificate (DER, original bytes) for `signEncapsulatedCms`. */
export function cmsSignerIdentity(signer: Signer, certificate: Uint8Array): CmsSignerIdentity {
  const id = readCertificateIdentity(certificate);
  return {
    signer,
    certificate,
    sid: sequence(id.issuer, tlv(TAG.INTEGER, id.serialContents)),
    signingCertificateV2: attribute(OID.signingCertificateV2, signingCertificateV2(certificate)),
  };
}

export interface CmsEncapsulatedOptions {
  identity: CmsSignerIdentity;
  /** The `certificates` field as `certificatesField` made it, or undefined to leave it out. */
  certificates: Buffer | undefined;
  /** The eContentType (e.g. id-ct-TSTInfo for an RFC 3161 TimeStampToken). */
  eContentType: string;
  /** The encapsulated content's bytes. */
  content: Uint8Array;
}

/** SignedData's `certificates` field ([0] IMPLICIT SET OF, DER order, each certificate once). */
export function certificatesField(certificates: readonly Uint8Array[]): Buffer {
  return tlvOf(contextTag(0, true), sortDer(dedupe([...certificates])));
}

/**
 * Signs `content` of any type as an encapsulated CMS SignedData (DER) with the signed attributes
 * content-type, message-digest and signing-certificate-v2 (RFC 5652 §11.1–11.2, RFC 5035; what an
 * RFC 3161 / RFC 5816 TimeStampToken needs). Version 3, as RFC 5652 §5.1 requires for an
 * eContentType other than id-data.
 */
export async function signEncapsulatedCms(options: CmsEncapsulatedOptions): Promise<Buffer> {
  const { signer, sid } = options.identity;
  const alg = CMS_ALGORITHM[signer.algorithm];
  const digestAlgorithm = algorithmIdentifier(OID_OF_DIGEST[alg.digest]);
  const signedSet = sortedSetOf([
    attribute(OID.contentType, oid(options.eContentType)),
    attribute(OID.messageDigest, octetString(digest(alg.digest, options.content))),
    options.identity.signingCertificateV2,
  ]);
  const signature = await signer.sign(signedSet);
  // The signature covers the DER SET OF (tag 0x31); the SignerInfo carries it as [0] IMPLICIT.
  signedSet[0] = contextTag(0, true);
  const signerInfo = sequence(smallInteger(1), sid, digestAlgorithm, signedSet, alg.signatureAlgorithm(), octetString(signature));
  const signedData = sequenceOf([
    smallInteger(options.eContentType === OID.data ? 1 : 3),
    setOf(digestAlgorithm),
    sequence(oid(options.eContentType), explicit(0, octetString(options.content))),
    ...(options.certificates === undefined ? [] : [options.certificates]),
    setOf(signerInfo),
  ]);
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

/**
 * Adds an officer's countersignature (RFC 5652 §11.4) to the envelope's SignerInfo: a SignerInfo
 * whose message-digest is the hash of the parent's signature value, with signing-time,
 * signing-certificate-v2 and the decision (with the officer's reason, when given, as its qualifier)
 * as commitment-type-indication. Every other byte of the
 * envelope is kept as it was, so the enterprise's signature stays valid.
 */
export async function countersignCms(envelope: Uint8Array, options: CmsCountersignOptions): Promise<Buffer> {
  const leaf = firstOf(options.chain);
  const alg = CMS_ALGORITHM[options.signer.algorithm];
  let parts: EnvelopeParts;
  try {
    parts = splitEnvelope(envelope);
  } catch (error) {
    throw new SignError('ERR_SIGN_ENVELOPE_UNREADABLE', `the envelope to countersign cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const signedAttributes = [
    attribute(OID.signingTime, x509Time(options.time)),
    attribute(OID.messageDigest, octetString(digest(alg.digest, parts.parentSignature))),
    attribute(OID.signingCertificateV2, signingCertificateV2(leaf)),
    attribute(OID.commitmentTypeIndication, commitmentTypeIndication(options.decision, options.reason)),
  ];
  const counter = await buildSignerInfo(options.signer, leaf, alg, signedAttributes);
  const unsigned = [...parts.unsignedAttributes, attribute(OID.countersignature, counter)];
  const signerInfo = sequenceOf([...parts.signerInfoHead, tlvOf(contextTag(1, true), sortDer(unsigned))]);
  const certificates = dedupe([...parts.certificates, ...options.chain]);
  const signedData = sequenceOf([
    ...parts.signedDataHead,
    tlvOf(contextTag(0, true), sortDer(certificates)),
    ...parts.crls,
    setOf(signerInfo),
  ]);
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

/**
 * Adds countersignatures that already exist (each a countersignature SignerInfo, DER, as an
 * officer made it) to the envelope's SignerInfo, one countersignature attribute each, and the
 * certificates not yet carried. Every other byte is kept, so the enterprise's signature and the
 * countersignatures already present stay valid. For a service that merges an officer's
 * countersignature into the envelope it holds.
 */
export function addCountersignatures(
  envelope: Uint8Array,
  countersignatures: readonly Uint8Array[],
  certificates: readonly Uint8Array[] = [],
): Buffer {
  let parts: EnvelopeParts;
  try {
    parts = splitEnvelope(envelope);
  } catch (error) {
    throw new SignError(
      'ERR_SIGN_ENVELOPE_UNREADABLE',
      `the envelope to add countersignatures to cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const unsigned = [...parts.unsignedAttributes, ...countersignatures.map((c) => attribute(OID.countersignature, c))];
  const signerInfo = sequenceOf([
    ...parts.signerInfoHead,
    ...(unsigned.length === 0 ? [] : [tlvOf(contextTag(1, true), sortDer(unsigned))]),
  ]);
  const carried = dedupe([...parts.certificates, ...certificates]);
  const signedData = sequenceOf([
    ...parts.signedDataHead,
    ...(carried.length === 0 ? [] : [tlvOf(contextTag(0, true), sortDer(carried))]),
    ...parts.crls,
    setOf(signerInfo),
  ]);
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

async function buildSignerInfo(
  signer: Signer,
  leaf: Uint8Array,
  alg: (typeof CMS_ALGORITHM)[SigningAlgorithm],
  signedAttributes: Buffer[],
): Promise<Buffer> {
  const id = readCertificateIdentity(leaf);
  // The signature covers the DER SET OF (tag 0x31); the SignerInfo carries it as [0] IMPLICIT.
  const signedSet = sortedSetOf(signedAttributes);
  const signature = await signer.sign(signedSet);
  const asImplicit = Buffer.from(signedSet);
  asImplicit[0] = contextTag(0, true);
  return sequence(
    smallInteger(1),
    sequence(id.issuer, tlv(TAG.INTEGER, id.serialContents)),
    algorithmIdentifier(OID_OF_DIGEST[alg.digest]),
    asImplicit,
    alg.signatureAlgorithm(),
    octetString(signature),
  );
}

function attribute(type: string, value: Uint8Array): Buffer {
  return sequence(oid(type), setOf(value));
}

/** SigningCertificateV2 { certs { ESSCertIDv2 { certHash (SHA-256, the DEFAULT), issuerSerial } } } (RFC 5035). */
function signingCertificateV2(leaf: Uint8Array): Buffer {
  const id = readCertificateIdentity(leaf);
  const issuerSerial = sequence(sequence(tlv(contextTag(4, true), id.issuer)), tlv(TAG.INTEGER, id.serialContents));
  return sequence(sequence(sequence(octetString(sha256(leaf)), issuerSerial)));
}

/** RSASSA-PSS-params for SHA-256, MGF1-SHA-256, salt 32 (RFC 4055 §3.1). */
function pssSha256Parameters(): Buffer {
  const sha256Id = algorithmIdentifier(OID_OF_DIGEST.sha256);
  return sequence(explicit(0, sha256Id), explicit(1, algorithmIdentifier('1.2.840.113549.1.1.8', sha256Id)), explicit(2, smallInteger(32)));
}

interface EnvelopeParts {
  /** SignedData fields before `certificates`, as sent (version, digestAlgorithms, encapContentInfo). */
  signedDataHead: Uint8Array[];
  certificates: Uint8Array[];
  crls: Uint8Array[];
  /** SignerInfo fields before `unsignedAttrs`, as sent. */
  signerInfoHead: Uint8Array[];
  unsignedAttributes: Uint8Array[];
  parentSignature: Uint8Array;
}

function splitEnvelope(envelope: Uint8Array): EnvelopeParts {
  const contentInfo = readSequence(readDer(envelope, 'the envelope'), 'ContentInfo');
  if (readOid(contentInfo[0], 'ContentInfo.contentType') !== OID.signedData) throw new Error('it is not a CMS SignedData');
  const fields = readSequence(childrenOf(expectTag(contentInfo[1], contextTag(0, true), 'content'), 'content')[0], 'SignedData');
  const signedDataHead = fields.slice(0, 3).map((f) => f.bytes);
  let certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let i = 3;
  if (fields[i]?.tag === contextTag(0, true)) certificates = childrenOf(fields[i++]!, 'certificates').map((c) => c.bytes);
  if (fields[i]?.tag === contextTag(1, true)) crls.push(fields[i++]!.bytes);
  const signerInfos = readSequence(fields[i], 'signerInfos', TAG.SET);
  if (signerInfos.length !== 1) throw new Error(`it has ${signerInfos.length} SignerInfos; a Chancery envelope has exactly one`);
  const si = readSequence(signerInfos[0], 'SignerInfo');
  const hasUnsigned = si[si.length - 1]?.tag === contextTag(1, true);
  const head = hasUnsigned ? si.slice(0, -1) : si;
  const signatureEl = expectTag(head[head.length - 1], TAG.OCTET_STRING, 'SignerInfo.signature');
  return {
    signedDataHead,
    certificates,
    crls,
    signerInfoHead: head.map((f) => f.bytes),
    unsignedAttributes: hasUnsigned ? childrenOf(si[si.length - 1]!, 'unsignedAttrs').map((a) => a.bytes) : [],
    parentSignature: signatureEl.value,
  };
}

/** AlgorithmIdentifier; parameters absent unless given (RFC 5754, RFC 5758). */
function algorithmIdentifier(dotted: string, parameters?: Uint8Array): Buffer {
  return parameters === undefined ? sequence(oid(dotted)) : sequence(oid(dotted), parameters);
}

/** DER order of SET OF elements (X.690 §11.6). */
function sortDer(items: Uint8Array[]): Uint8Array[] {
  return [...items].sort(Buffer.compare);
}

function firstOf(chain: Uint8Array[]): Uint8Array {
  if (chain.length === 0)
    throw new SignError('ERR_SIGN_INVALID_INPUT', 'the certificate chain is empty: the signer certificate must come first');
  return chain[0]!;
}

function dedupe(certs: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return certs.filter((c) => {
    const key = Buffer.from(c).toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A SignerInfo (DER) with one more unsigned attribute; every other byte is kept, so its signature
 * and the attributes already there stay valid.
 */
export function withUnsignedAttribute(signerInfo: Uint8Array, type: string, value: Uint8Array): Buffer {
  const si = readSequence(readDer(signerInfo, 'the SignerInfo'), 'SignerInfo');
  const hasUnsigned = si[si.length - 1]?.tag === contextTag(1, true);
  const head = (hasUnsigned ? si.slice(0, -1) : si).map((f) => f.bytes);
  const unsigned = hasUnsigned ? childrenOf(si[si.length - 1]!, 'unsignedAttrs').map((a) => a.bytes) : [];
  return sequenceOf([...head, tlvOf(contextTag(1, true), sortDer([...unsigned, attribute(type, value)]))]);
}

/** The signature value of a SignerInfo (DER): what a signature time-stamp covers (ETSI EN 319 122-1 §5.3). */
export function signerInfoSignatureValue(signerInfo: Uint8Array): Buffer {
  const si = readSequence(readDer(signerInfo, 'the SignerInfo'), 'SignerInfo');
  const hasUnsigned = si[si.length - 1]?.tag === contextTag(1, true);
  const head = hasUnsigned ? si.slice(0, -1) : si;
  return Buffer.from(expectTag(head[head.length - 1], TAG.OCTET_STRING, 'SignerInfo.signature').value);
}

/** The enterprise signature value of an envelope (its one SignerInfo's). */
export function envelopeSignatureValue(envelope: Uint8Array): Buffer {
  return Buffer.from(splitForAugmentation(envelope).parentSignature);
}

/**
 * The envelope with a signature time-stamp token (RFC 3161 TimeStampToken DER, over the
 * SignerInfo's signature value) added to its SignerInfo as id-aa-signatureTimeStampToken: CAdES
 * B-T (ETSI EN 319 122-1 §5.3). Nothing signed changes.
 */
export function addSignatureTimestampCms(envelope: Uint8Array, token: Uint8Array): Buffer {
  const parts = splitForAugmentation(envelope);
  const unsigned = [...parts.unsignedAttributes, attribute(SIGNATURE_TIME_STAMP_TOKEN, token)];
  return rebuild(parts, parts.certificates, parts.crls, unsigned);
}

/**
 * The envelope with the validation data used added (CAdES B-LT in the SignedData manner, ETSI EN
 * 319 122-1 §5.5.1 / RFC 5652 §5.1): certificates to SignedData.certificates, CRLs to
 * SignedData.crls as plain CertificateList choices, and OCSP responses to SignedData.crls as
 * RFC 5940 OtherRevocationInfoFormat choices (id-ri-ocsp-response), which makes the SignedData
 * version 5 (RFC 5652 §5.1). Data already carried is not repeated. Nothing signed changes: the
 * version is outside the signature.
 */
export function addValidationDataCms(
  envelope: Uint8Array,
  data: { certificates?: readonly Uint8Array[]; crls?: readonly Uint8Array[]; ocspResponses?: readonly Uint8Array[] },
): Buffer {
  const parts = splitForAugmentation(envelope);
  const carried = parts.crls.length === 0 ? [] : childrenOf(readDer(parts.crls[0]!, 'crls'), 'crls').map((c) => c.bytes);
  // OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OID, otherRevInfo ANY }, as [1] IMPLICIT.
  const ocsp = (data.ocspResponses ?? []).map((r) => tlv(contextTag(1, true), oid(OID.riOcspResponse), r));
  const choices = dedupe([...carried, ...(data.crls ?? []), ...ocsp]);
  const other = choices.some((c) => c[0] === contextTag(1, true));
  const head = other ? [smallInteger(5), ...parts.signedDataHead.slice(1)] : parts.signedDataHead;
  return rebuild(
    { ...parts, signedDataHead: head },
    dedupe([...parts.certificates, ...(data.certificates ?? [])]),
    choices.length === 0 ? [] : [tlvOf(contextTag(1, true), sortDer(choices))],
    parts.unsignedAttributes,
  );
}

/** RFC 3161 Appendix A id-aa-signatureTimeStampToken. */
const SIGNATURE_TIME_STAMP_TOKEN = '1.2.840.113549.1.9.16.2.14';

function splitForAugmentation(envelope: Uint8Array): EnvelopeParts {
  try {
    return splitEnvelope(envelope);
  } catch (error) {
    throw new SignError('ERR_SIGN_ENVELOPE_UNREADABLE', `the envelope to augment cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function rebuild(parts: EnvelopeParts, certificates: Uint8Array[], crls: Uint8Array[], unsigned: Uint8Array[]): Buffer {
  const signerInfo = sequenceOf([
    ...parts.signerInfoHead,
    ...(unsigned.length === 0 ? [] : [tlvOf(contextTag(1, true), sortDer(unsigned))]),
  ]);
  const signedData = sequenceOf([
    ...parts.signedDataHead,
    ...(certificates.length === 0 ? [] : [tlvOf(contextTag(0, true), sortDer(certificates))]),
    ...crls,
    setOf(signerInfo),
  ]);
  return sequence(oid(OID.signedData), explicit(0, signedData));
}
