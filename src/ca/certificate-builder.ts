import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  GeneralName,
  id_ad_caIssuers,
  id_ad_ocsp,
  KeyIdentifier,
  KeyUsage,
  PolicyInformation,
} from '@peculiar/asn1-x509';
import { identifierDigest } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import { childrenOf, readDer } from '../der/reader.js';
import { PRINTABLE, printableString, utf8String } from '../der/strings.js';
import { TAG } from '../der/tags.js';
import { x509Time } from '../der/time.js';
import {
  booleanValue,
  bitString,
  explicit,
  nullValue,
  octetString,
  oid,
  sequence,
  sequenceOf,
  setOf,
  smallInteger,
  unsignedInteger,
} from '../der/writer.js';
import { EXT, OID } from '../oids.js';
import { CaError } from './errors.js';
import { encodeOfficerAuthorization, type OfficerAuthorization } from './officer-extension.js';
import { ATTRIBUTE_TYPES, KEY_USAGE_BITS, EKU_OIDS, type AttributeType, type CertificateProfile } from './profiles.js';

/**
 * Certificate assembly. A profile is compiled once per issuer and base URL into a template whose
 * constant extensions are pre-encoded (with @peculiar/asn1-x509's schemas); each certificate then
 * only encodes its serial, validity, subject, key, key identifier and officer extension, and the
 * TBSCertificate bytes are signed by the issuer's Signer. The DER produced is the DER stored and
 * served: nothing re-encodes a certificate after signing.
 */

/**
 * The signature AlgorithmIdentifier (RFC 5758 / RFC 8410 / RFC 4055) of a Signer: for
 * certificates, CRLs and OCSP responses a CA key signs, and for the CSRs holders sign.
 */
export function signatureAlgorithmIdentifier(signer: Signer): Buffer {
  switch (signer.algorithm) {
    case 'ES256':
      return sequence(oid('1.2.840.10045.4.3.2'));
    case 'ES384':
      return sequence(oid('1.2.840.10045.4.3.3'));
    case 'EdDSA':
      return sequence(oid('1.3.101.112'));
    case 'RS256':
      return sequence(oid('1.2.840.113549.1.1.11'), nullValue());
    case 'PS256': {
      // RSASSA-PSS-params: SHA-256, MGF1 with SHA-256, salt 32 (RFC 4055 §3.1).
      const sha256 = sequence(oid('2.16.840.1.101.3.4.2.1'));
      return sequence(
        oid('1.2.840.113549.1.1.10'),
        sequence(explicit(0, sha256), explicit(1, sequence(oid('1.2.840.113549.1.1.8'), sha256)), explicit(2, smallInteger(32))),
      );
    }
  }
}

/** One Extension: SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? sequence(oid(id), booleanValue(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** The subjectPublicKey bits of a DER SubjectPublicKeyInfo (without the unused-bits octet). */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  const [algorithm, key, extra] = childrenOf(readDer(spki, 'a SubjectPublicKeyInfo'), 'a SubjectPublicKeyInfo');
  if (algorithm === undefined || key?.tag !== TAG.BIT_STRING || extra !== undefined) throw new RangeError('not a SubjectPublicKeyInfo');
  return Buffer.from(key.value.subarray(1));
}

/** Key identifier per RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the key bits. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return identifierDigest('sha256', subjectPublicKeyBits(spki)).subarray(0, 20);
}

/** A subject or issuer Name: one attribute per RDN, in the given order. */
export function encodeName(attributes: ReadonlyArray<{ type: AttributeType; value: string }>): Buffer {
  return sequenceOf(
    attributes.map(({ type, value }) => {
      const spec = ATTRIBUTE_TYPES[type];
      if (spec.printable && !PRINTABLE.test(value)) {
        throw new CaError('ERR_CA_REQUEST_INVALID', `${type} "${value}" is not a PrintableString`);
      }
      if (type === 'C' && !/^[A-Z]{2}$/.test(value)) throw new CaError('ERR_CA_REQUEST_INVALID', `C must be a two-letter country code`);
      return setOf(sequence(oid(spec.oid), spec.printable ? printableString(value) : utf8String(value)));
    }),
  );
}

/** Where a certificate's issuer is, for AKI and signing. */
export interface IssuerContext {
  /** The issuer's subject Name, as the exact DER bytes of its certificate. */
  name: Buffer;
  keyIdentifier: Buffer;
  signer: Signer;
  /** Certificates are clamped to end no later than their issuer. */
  notAfter: Date;
}

/** URLs of this service that certificates point at (CRL DP, OCSP, caIssuers): their issuer's files. */
export interface RevocationUrls {
  crl: string;
  /** Absent for an issuer without an OCSP responder (the root): no id-ad-ocsp pointer then. */
  ocsp?: string;
  caIssuers: string;
}

export interface CertificateTemplate {
  profile: CertificateProfile;
  issuer: IssuerContext | 'self';
  /** Extensions placed before the per-certificate SKI: BC, KU, EKU. */
  readonly head: Buffer[];
  /** Extensions after the SKI: AKI, policies, CRL DP, AIA, ocsp-nocheck. */
  readonly tail: Buffer[];
}

/** Pre-encodes a profile's constant extensions for one issuer and one set of service URLs. */
export function compileTemplate(
  profile: CertificateProfile,
  issuer: IssuerContext | 'self',
  urls: RevocationUrls | undefined,
): CertificateTemplate {
  const head: Buffer[] = [];
  const tail: Buffer[] = [];
  if (profile.basicConstraints !== undefined) {
    const bc = new BasicConstraints({
      cA: profile.basicConstraints.ca,
      ...(profile.basicConstraints.pathLen === undefined ? {} : { pathLenConstraint: profile.basicConstraints.pathLen }),
    });
    head.push(extension(EXT.basicConstraints, true, Buffer.from(AsnConvert.serialize(bc))));
  }
  const flags = profile.keyUsage.reduce((f, name) => f | (1 << KEY_USAGE_BITS[name]), 0);
  head.push(extension(EXT.keyUsage, true, Buffer.from(AsnConvert.serialize(new KeyUsage(flags)))));
  if (profile.extendedKeyUsage.length > 0) {
    const eku = new ExtendedKeyUsage(profile.extendedKeyUsage.map((name) => EKU_OIDS[name]));
    head.push(extension(EXT.extKeyUsage, profile.extendedKeyUsageCritical, Buffer.from(AsnConvert.serialize(eku))));
  }
  if (issuer !== 'self') {
    const aki = new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuer.keyIdentifier) });
    tail.push(extension(EXT.authorityKeyIdentifier, false, Buffer.from(AsnConvert.serialize(aki))));
  }
  if (profile.certificatePolicies.length > 0) {
    const policies = new CertificatePolicies(
      profile.certificatePolicies.map((policyIdentifier) => new PolicyInformation({ policyIdentifier })),
    );
    tail.push(extension(EXT.certificatePolicies, false, Buffer.from(AsnConvert.serialize(policies))));
  }
  if (profile.revocationInfo && urls !== undefined) {
    const crlDp = new CRLDistributionPoints([
      new DistributionPoint({
        distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier: urls.crl })] }),
      }),
    ]);
    tail.push(extension(EXT.crlDistributionPoints, false, Buffer.from(AsnConvert.serialize(crlDp))));
    const aia = new AuthorityInfoAccessSyntax([
      ...(urls.ocsp === undefined
        ? []
        : [new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: new GeneralName({ uniformResourceIdentifier: urls.ocsp }) })]),
      new AccessDescription({
        accessMethod: id_ad_caIssuers,
        accessLocation: new GeneralName({ uniformResourceIdentifier: urls.caIssuers }),
      }),
    ]);
    tail.push(extension(EXT.authorityInfoAccess, false, Buffer.from(AsnConvert.serialize(aia))));
  }
  if (profile.ocspNoCheck) tail.push(extension(OID.ocspNoCheck, false, nullValue()));
  return { profile, issuer, head, tail };
}

export interface CertificateFields {
  /** Big-endian magnitude of the (positive) serial number. */
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** DER Name. */
  subject: Buffer;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  officer?: OfficerAuthorization;
  /** For a self-signed certificate: its own signer. */
  selfSigner?: Signer;
}

/** Builds the TBSCertificate, signs it and returns the certificate's DER. */
export async function buildCertificate(template: CertificateTemplate, fields: CertificateFields): Promise<Buffer> {
  const selfSigned = template.issuer === 'self';
  const signer = selfSigned ? fields.selfSigner : (template.issuer as IssuerContext).signer;
  if (signer === undefined) throw new Error('a self-signed certificate needs its own signer');
  const algorithm = signatureAlgorithmIdentifier(signer);
  const issuerName = selfSigned ? fields.subject : (template.issuer as IssuerContext).name;
  const notAfter =
    selfSigned || fields.notAfter <= (template.issuer as IssuerContext).notAfter
      ? fields.notAfter
      : (template.issuer as IssuerContext).notAfter;

  const extensions = [
    ...template.head,
    extension(EXT.subjectKeyIdentifier, false, octetString(keyIdentifier(fields.spki))),
    ...template.tail,
  ];
  if (template.profile.officerAuthorization) {
    if (fields.officer === undefined) throw new Error(`profile ${template.profile.id} needs the officer's authorization`);
    extensions.push(extension(OID.officerAuthorization, false, encodeOfficerAuthorization(fields.officer)));
  }
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(fields.serial),
    algorithm,
    issuerName,
    sequence(x509Time(fields.notBefore), x509Time(notAfter)),
    fields.subject,
    fields.spki,
    explicit(3, sequenceOf(extensions)),
  );
  const signature = await signer.sign(tbs);
  return sequence(tbs, algorithm, bitString(signature));
}
