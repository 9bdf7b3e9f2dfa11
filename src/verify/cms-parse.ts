import { OID } from '../oids.js';
import {
  childrenOf,
  expectTag,
  readDer,
  readIntegerHex,
  readOctets,
  readOid,
  readSequence,
  readSmallInteger,
  type DerElement,
} from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { asVerifyError, malformed } from './errors.js';

/**
 * Parsing of CMS SignedData (RFC 5652 §5) into plain values, keeping every byte that a signature
 * or a hash covers. Parsing decides nothing about validity: it only refuses what is not a
 * well-formed, bounded SignedData. Limits are hard: input above them is refused before any
 * expensive work, so no envelope can make verification slow.
 */

/** Largest envelope accepted (the DER bytes). A Chancery document is a JSON form, not a file. */
export const MAX_ENVELOPE_BYTES = 3 * 1024 * 1024;
/** Largest document (encapsulated or detached content). */
export const MAX_CONTENT_BYTES = 1024 * 1024;
/** Most certificates an envelope may carry. */
export const MAX_ENVELOPE_CERTIFICATES = 16;
/** Most countersignatures on one SignerInfo (review and approval steps, with margin). */
export const MAX_COUNTERSIGNATURES = 8;
/** Most revocation values (CRLs and OCSP responses) an envelope may carry. */
export const MAX_REVOCATION_VALUES = 32;
/** Most attributes in one SignedAttributes / UnsignedAttributes set. */
export const MAX_ATTRIBUTES = 32;

export interface AlgorithmId {
  oid: string;
  /** DER of the parameters element, when present (NULL included). */
  parameters: Uint8Array | undefined;
  /** DER of the whole AlgorithmIdentifier. */
  der: Uint8Array;
}

export interface CmsAttribute {
  type: string;
  values: DerElement[];
}

export type SignerIdentifier =
  { kind: 'issuer-and-serial'; issuer: Uint8Array; serialHex: string } | { kind: 'subject-key-identifier'; keyIdentifier: Uint8Array };

export interface CmsSignerInfo {
  version: number;
  sid: SignerIdentifier;
  digestAlgorithm: AlgorithmId;
  /**
   * The signed attributes. `signedBytes` is what the signature covers: the DER SET OF, i.e. the
   * received `[0]` encoding with its tag replaced by 0x31 (RFC 5652 §5.4).
   */
  signedAttrs: { attributes: CmsAttribute[]; signedBytes: Uint8Array } | undefined;
  signatureAlgorithm: AlgorithmId;
  signature: Uint8Array;
  unsignedAttrs: CmsAttribute[];
}

export interface CmsSignedData {
  version: number;
  digestAlgorithms: AlgorithmId[];
  eContentType: string;
  /** Encapsulated content, or undefined for a detached signature. */
  eContent: Uint8Array | undefined;
  /** Certificates exactly as carried (only the X.509 `Certificate` choice). */
  certificates: Uint8Array[];
  /**
   * Revocation values carried in SignedData.crls, exactly as carried: CertificateList choices
   * (`crls`) and RFC 5940 id-ri-ocsp-response choices (`ocspResponses`); other formats are skipped.
   */
  revocationValues: { crls: Uint8Array[]; ocspResponses: Uint8Array[] };
  signerInfos: CmsSignerInfo[];
}

/** Parses a DER ContentInfo that must hold SignedData. Throws VerifyError ERR_VERIFY_MALFORMED. */
export function parseCmsSignedData(der: Uint8Array): CmsSignedData {
  try {
    return decodeCmsSignedData(der);
  } catch (error) {
    throw asVerifyError(error);
  }
}

function decodeCmsSignedData(der: Uint8Array): CmsSignedData {
  if (der.length > MAX_ENVELOPE_BYTES) throw malformed(`the envelope is ${der.length} bytes, above the limit of ${MAX_ENVELOPE_BYTES}`);
  // ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }
  const contentInfo = readSequence(readDer(der, 'the envelope'), 'ContentInfo');
  if (contentInfo.length !== 2) throw malformed('ContentInfo must have exactly contentType and content');
  const contentType = readOid(contentInfo[0], 'ContentInfo.contentType');
  if (contentType !== OID.signedData) throw malformed(`the outer content type is ${contentType}, not SignedData (${OID.signedData})`);
  const explicitContent = childrenOf(expectTag(contentInfo[1], contextTag(0, true), 'ContentInfo.content'), 'ContentInfo.content');
  if (explicitContent.length !== 1) throw malformed('ContentInfo.content must hold exactly one SignedData');
  return parseSignedData(explicitContent[0]!);
}

function parseSignedData(el: DerElement): CmsSignedData {
  const fields = readSequence(el, 'SignedData');
  let i = 0;
  const version = readSmallInteger(fields[i++], 'SignedData.version');
  if (![1, 3, 4, 5].includes(version)) throw malformed(`SignedData.version ${version} is not a CMS version`);
  const digestAlgorithms = readSequence(fields[i++], 'SignedData.digestAlgorithms', TAG.SET).map((d) =>
    readAlgorithm(d, 'a digest algorithm'),
  );

  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
  const eci = readSequence(fields[i++], 'EncapsulatedContentInfo');
  const eContentType = readOid(eci[0], 'eContentType');
  let eContent: Uint8Array | undefined;
  if (eci.length > 2) throw malformed('EncapsulatedContentInfo has unexpected fields');
  if (eci.length === 2) {
    const wrapped = childrenOf(expectTag(eci[1], contextTag(0, true), 'eContent'), 'eContent');
    if (wrapped.length !== 1) throw malformed('eContent must hold exactly one OCTET STRING');
    eContent = readOctets(wrapped[0], 'eContent (a constructed OCTET STRING is BER, not DER)');
    if (eContent.length > MAX_CONTENT_BYTES)
      throw malformed(`the content is ${eContent.length} bytes, above the limit of ${MAX_CONTENT_BYTES}`);
  }

  const certificates: Uint8Array[] = [];
  if (fields[i]?.tag === contextTag(0, true)) {
    const set = childrenOf(fields[i++]!, 'SignedData.certificates');
    if (set.length > MAX_ENVELOPE_CERTIFICATES) {
      throw malformed(`the envelope carries ${set.length} certificates, above the limit of ${MAX_ENVELOPE_CERTIFICATES}`);
    }
    for (const choice of set) {
      // Only the plain Certificate choice; attribute and other certificate formats are not accepted.
      if (choice.tag !== TAG.SEQUENCE)
        throw malformed(`SignedData.certificates holds a non-X.509 certificate choice (tag 0x${choice.tag.toString(16)})`);
      certificates.push(choice.bytes);
    }
  }
  // RevocationInfoChoices: CRLs and OCSP responses (RFC 5940) are read as values to offer a
  // revocation source; whether an "other" format ([1]) is there also decides the version.
  let otherRevocationInfo = false;
  const revocationValues: CmsSignedData['revocationValues'] = { crls: [], ocspResponses: [] };
  if (fields[i]?.tag === contextTag(1, true)) {
    const choices = childrenOf(fields[i++]!, 'SignedData.crls');
    if (choices.length > MAX_REVOCATION_VALUES)
      throw malformed(`the envelope carries ${choices.length} revocation values, above the limit of ${MAX_REVOCATION_VALUES}`);
    for (const choice of choices) {
      if (choice.tag === TAG.SEQUENCE) revocationValues.crls.push(choice.bytes);
      else if (choice.tag === contextTag(1, true)) {
        otherRevocationInfo = true;
        // OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
        const [format, value, extra] = childrenOf(choice, 'an OtherRevocationInfoFormat');
        if (value === undefined || extra !== undefined) throw malformed('an OtherRevocationInfoFormat must hold a format and a value');
        if (readOid(format, 'otherRevInfoFormat') === OID.riOcspResponse) revocationValues.ocspResponses.push(value.bytes);
      }
    }
  }
  const signerInfos = readSequence(fields[i++], 'SignedData.signerInfos', TAG.SET).map((s) => decodeSignerInfo(s, 'SignerInfo'));
  if (i !== fields.length) throw malformed('SignedData has unexpected fields after signerInfos');
  // The version is not free: RFC 5652 §5.1 derives it from the content (with only X.509
  // certificates, as here: 5 with other revocation formats, 3 with a v3 SignerInfo or content
  // other than id-data, else 1). A version that disagrees means the bytes were altered or mis-made.
  const expected = otherRevocationInfo ? 5 : signerInfos.some((s) => s.version === 3) || eContentType !== OID.data ? 3 : 1;
  if (version !== expected) throw malformed(`SignedData.version is ${version}; RFC 5652 §5.1 requires ${expected} for this content`);
  return { version, digestAlgorithms, eContentType, eContent, certificates, revocationValues, signerInfos };
}

/** Parses one SignerInfo (also used for the values of a countersignature attribute). Throws ERR_VERIFY_MALFORMED. */
export function parseSignerInfo(el: DerElement, what: string): CmsSignerInfo {
  try {
    return decodeSignerInfo(el, what);
  } catch (error) {
    throw asVerifyError(error);
  }
}

function decodeSignerInfo(el: DerElement, what: string): CmsSignerInfo {
  const fields = readSequence(el, what);
  let i = 0;
  const version = readSmallInteger(fields[i++], `${what}.version`);
  const sidEl = fields[i++];
  let sid: SignerIdentifier;
  if (sidEl?.tag === TAG.SEQUENCE) {
    // IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }
    const ias = childrenOf(sidEl, `${what}.sid`);
    if (ias.length !== 2) throw malformed(`${what}.sid IssuerAndSerialNumber must have issuer and serialNumber`);
    sid = {
      kind: 'issuer-and-serial',
      issuer: expectTag(ias[0], TAG.SEQUENCE, `${what}.sid.issuer`).bytes,
      serialHex: readIntegerHex(ias[1], `${what}.sid.serialNumber`),
    };
    if (version !== 1) throw malformed(`${what}.version must be 1 with issuerAndSerialNumber, not ${version}`);
  } else if (sidEl?.tag === contextTag(0, false)) {
    sid = { kind: 'subject-key-identifier', keyIdentifier: sidEl.value };
    if (version !== 3) throw malformed(`${what}.version must be 3 with subjectKeyIdentifier, not ${version}`);
  } else {
    throw malformed(`${what}.sid is neither issuerAndSerialNumber nor subjectKeyIdentifier`);
  }
  const digestAlgorithm = readAlgorithm(fields[i++], `${what}.digestAlgorithm`);
  let signedAttrs: CmsSignerInfo['signedAttrs'];
  if (fields[i]?.tag === contextTag(0, true)) {
    const el0 = fields[i++]!;
    const signedBytes = Uint8Array.from(el0.bytes);
    signedBytes[0] = TAG.SET;
    signedAttrs = { attributes: readAttributes(el0, `${what}.signedAttrs`), signedBytes };
  }
  const signatureAlgorithm = readAlgorithm(fields[i++], `${what}.signatureAlgorithm`);
  const signature = readOctets(fields[i++], `${what}.signature`);
  let unsignedAttrs: CmsAttribute[] = [];
  if (fields[i]?.tag === contextTag(1, true)) unsignedAttrs = readAttributes(fields[i++]!, `${what}.unsignedAttrs`);
  if (i !== fields.length) throw malformed(`${what} has unexpected fields`);
  return { version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature, unsignedAttrs };
}

export function readAlgorithm(el: DerElement | undefined, what: string): AlgorithmId {
  const parts = readSequence(el, what);
  if (parts.length < 1 || parts.length > 2) throw malformed(`${what} is not an AlgorithmIdentifier`);
  return { oid: readOid(parts[0], `${what}.algorithm`), parameters: parts[1]?.bytes, der: el!.bytes };
}

function readAttributes(el: DerElement, what: string): CmsAttribute[] {
  const list = childrenOf(el, what);
  if (list.length === 0) throw malformed(`${what} is present but empty`);
  if (list.length > MAX_ATTRIBUTES) throw malformed(`${what} has ${list.length} attributes, above the limit of ${MAX_ATTRIBUTES}`);
  return list.map((a) => {
    const parts = readSequence(a, `an attribute of ${what}`);
    if (parts.length !== 2) throw malformed(`an attribute of ${what} is not SEQUENCE { type, values }`);
    const type = readOid(parts[0], `an attribute type of ${what}`);
    const values = readSequence(parts[1], `the values of attribute ${type}`, TAG.SET);
    return { type, values };
  });
}

/**
 * The fields of an X.509 certificate that CMS signer identification needs, read straight from
 * its DER (RFC 5280 §4.1): issuer Name bytes, serial number (contents and hex), and the
 * subjectKeyIdentifier extension when present. Validity is decided elsewhere (path validation).
 */
export interface CertificateIdentity {
  issuer: Uint8Array;
  serialContents: Uint8Array;
  serialHex: string;
  subjectKeyIdentifier: Uint8Array | undefined;
}

/** Throws ERR_VERIFY_MALFORMED when the bytes are not a certificate with those fields. */
export function readCertificateIdentity(der: Uint8Array): CertificateIdentity {
  try {
    return decodeCertificateIdentity(der);
  } catch (error) {
    throw asVerifyError(error);
  }
}

function decodeCertificateIdentity(der: Uint8Array): CertificateIdentity {
  const cert = readSequence(readDer(der, 'a certificate'), 'Certificate');
  const tbs = readSequence(cert[0], 'TBSCertificate');
  let i = 0;
  if (tbs[i]?.tag === contextTag(0, true)) i++; // version
  const serialEl = expectTag(tbs[i++], TAG.INTEGER, 'TBSCertificate.serialNumber');
  // tbs[i + 1] is the signature algorithm.
  const issuer = expectTag(tbs[i + 1], TAG.SEQUENCE, 'TBSCertificate.issuer').bytes;
  let subjectKeyIdentifier: Uint8Array | undefined;
  const extensions = tbs.find((el) => el.tag === contextTag(3, true));
  if (extensions !== undefined) {
    for (const ext of readSequence(childrenOf(extensions, 'extensions')[0], 'Extensions')) {
      const parts = readSequence(ext, 'Extension');
      if (readOid(parts[0], 'Extension.extnID') === '2.5.29.14') {
        subjectKeyIdentifier = readOctets(
          readDer(readOctets(parts[parts.length - 1], 'extnValue'), 'SubjectKeyIdentifier'),
          'SubjectKeyIdentifier',
        );
      }
    }
  }
  return { issuer, serialContents: serialEl.value, serialHex: readIntegerHex(serialEl, 'serialNumber'), subjectKeyIdentifier };
}
