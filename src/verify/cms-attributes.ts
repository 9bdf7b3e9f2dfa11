import type { HashName } from '../crypto/signature.js';
import { OID } from '../oids.js';
import { childrenOf, expectTag, readIntegerHex, readOctets, readOid, readSequence, readTime, type DerElement } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { readAlgorithm, type CmsAttribute } from './cms-parse.js';
import { malformed } from './errors.js';

/**
 * Decoders for the CMS attributes Chancery reads: RFC 5652 §11 (content-type, message-digest,
 * signing-time), RFC 5035 §5.4 (signing-certificate-v2) and ETSI EN 319 122-1 §5.2.3
 * (commitment-type-indication). Each throws a parse fault (VerifyError or DerError, see isParseFault) on a bad encoding.
 */

/** Digest algorithms accepted for message-digest and ESS certHash (NIST FIPS 180-4, RFC 5754). */
export const DIGEST_BY_OID: Readonly<Record<string, HashName>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
export const OID_OF_DIGEST: Readonly<Record<HashName, string>> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

/** The officer's decision a countersignature commits to. */
export type Decision = 'approve' | 'refuse' | 'review';

/** commitment-type-indication values and the decision each one means. */
export const DECISION_BY_COMMITMENT: Readonly<Record<string, Decision>> = {
  [OID.proofOfApproval]: 'approve',
  [OID.commitmentRefusal]: 'refuse',
  [OID.commitmentReview]: 'review',
};
export const COMMITMENT_OF_DECISION: Readonly<Record<Decision, string>> = {
  approve: OID.proofOfApproval,
  refuse: OID.commitmentRefusal,
  review: OID.commitmentReview,
};

/** The attributes of a set by type; a type present more than once is refused (RFC 5652 §11). */
export function indexAttributes(attributes: CmsAttribute[], what: string): Map<string, CmsAttribute> {
  const byType = new Map<string, CmsAttribute>();
  for (const a of attributes) {
    if (byType.has(a.type)) throw malformed(`${what} contains attribute ${a.type} more than once`);
    byType.set(a.type, a);
  }
  return byType;
}

/** The one value of a single-valued attribute. */
export function singleValue(attribute: CmsAttribute, name: string): DerElement {
  if (attribute.values.length !== 1)
    throw malformed(`the ${name} attribute must have exactly one value, it has ${attribute.values.length}`);
  return attribute.values[0]!;
}

export function readContentType(attribute: CmsAttribute): string {
  return readOid(singleValue(attribute, 'content-type'), 'the content-type value');
}

export function readMessageDigest(attribute: CmsAttribute): Uint8Array {
  return readOctets(singleValue(attribute, 'message-digest'), 'the message-digest value');
}

export function readSigningTime(attribute: CmsAttribute): Date {
  return readTime(singleValue(attribute, 'signing-time'), 'the signing-time value');
}

/** The first ESSCertIDv2 of a SigningCertificateV2: the one that names the signer's certificate. */
export interface EssCertIdV2 {
  hash: HashName | { unsupported: string };
  certHash: Uint8Array;
  issuerSerial: { issuer: Uint8Array[]; serialHex: string } | undefined;
}

export function readSigningCertificateV2(attribute: CmsAttribute): EssCertIdV2 {
  // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
  const body = readSequence(singleValue(attribute, 'signing-certificate-v2'), 'SigningCertificateV2');
  const certs = readSequence(body[0], 'SigningCertificateV2.certs');
  if (certs.length === 0) throw malformed('SigningCertificateV2.certs is empty');
  // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT id-sha256, certHash OCTET STRING, issuerSerial OPTIONAL }
  const fields = readSequence(certs[0], 'ESSCertIDv2');
  let i = 0;
  let hash: EssCertIdV2['hash'] = 'sha256';
  if (fields[i]?.tag === TAG.SEQUENCE) {
    const alg = readAlgorithm(fields[i++], 'ESSCertIDv2.hashAlgorithm');
    hash = DIGEST_BY_OID[alg.oid] ?? { unsupported: alg.oid };
  }
  const certHash = readOctets(fields[i++], 'ESSCertIDv2.certHash');
  let issuerSerial: EssCertIdV2['issuerSerial'];
  if (fields[i] !== undefined) {
    // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
    const is = readSequence(fields[i++], 'ESSCertIDv2.issuerSerial');
    const names = readSequence(is[0], 'IssuerSerial.issuer');
    const issuer = names
      .filter((n) => n.tag === contextTag(4, true))
      .map((n) => expectTag(childrenOf(n, 'a directoryName')[0], TAG.SEQUENCE, 'a directoryName').bytes);
    issuerSerial = { issuer, serialHex: readIntegerHex(is[1], 'IssuerSerial.serialNumber') };
  }
  if (i !== fields.length) throw malformed('ESSCertIDv2 has unexpected fields');
  return { hash, certHash, issuerSerial };
}

/** A commitment-type-indication: its commitment type and, when a qualifier gives one, the officer's reason. */
export interface Commitment {
  type: string;
  /** The text of the reason qualifier, as signed (its form is checked by the caller, decision-reason.ts). */
  reason: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The commitment type and reason of a commitment-type-indication (ETSI EN 319 122-1 §5.2.3):
 *
 *   CommitmentTypeIndication ::= SEQUENCE { commitmentTypeId OID,
 *     commitmentTypeQualifier SEQUENCE SIZE (1..MAX) OF CommitmentTypeQualifier OPTIONAL }
 *   CommitmentTypeQualifier ::= SEQUENCE { commitmentTypeIdentifier OID, qualifier ANY DEFINED BY commitmentTypeIdentifier }
 *
 * The reason is a qualifier (commitmentReason, a UTF8String) rather than a signed attribute of its
 * own: it says why this commitment was made, which is what a qualifier is for, so it cannot be
 * read apart from the decision it explains, and a CAdES verifier that knows nothing of Chancery
 * still finds it next to the commitment it qualifies. Qualifiers are allow-listed: any other one
 * could change what the commitment means, so it is refused, as is a second reason.
 */
export function readCommitment(attribute: CmsAttribute): Commitment {
  const body = readSequence(singleValue(attribute, 'commitment-type-indication'), 'CommitmentTypeIndication');
  const type = readOid(body[0], 'CommitmentTypeIndication.commitmentTypeId');
  if (body.length > 2) throw malformed('CommitmentTypeIndication has unexpected fields');
  if (body[1] === undefined) return { type, reason: undefined };
  const qualifiers = readSequence(body[1], 'CommitmentTypeIndication.commitmentTypeQualifier');
  if (qualifiers.length === 0) throw malformed('commitmentTypeQualifier is present and empty (it is SIZE (1..MAX))');
  let reason: string | undefined;
  for (const q of qualifiers) {
    const fields = readSequence(q, 'CommitmentTypeQualifier');
    const id = readOid(fields[0], 'CommitmentTypeQualifier.commitmentTypeIdentifier');
    if (id !== OID.commitmentReason) throw malformed(`the commitment type qualifier ${id} is not one Chancery understands`);
    if (reason !== undefined) throw malformed('the commitment-type-indication carries more than one reason');
    if (fields.length !== 2) throw malformed('the reason qualifier must hold exactly one value');
    const value = expectTag(fields[1], TAG.UTF8_STRING, 'the reason qualifier (a UTF8String)');
    try {
      reason = utf8.decode(value.value);
    } catch {
      throw malformed('the reason qualifier is not valid UTF-8');
    }
  }
  return { type, reason };
}
