import type { IdentifierHash } from './crypto/digest.js';

/**
 * Object identifiers Chancery uses, standard and its own. Chancery's private arc is a UUID OID
 * (ITU-T X.667: 2.25.<UUID as an integer>, UUID b933dec4-96e8-4c9e-82f1-8091a7c258a9), so it
 * needs no registration and cannot collide.
 */
export const CHANCERY_ARC = '2.25.246176504630350160250129726162839165097';

export const OID = {
  // Chancery's own
  /** Officer certificate extension: role and jurisdiction. */
  officerAuthorization: `${CHANCERY_ARC}.1`,
  /** commitment-type-indication values for an officer's decision besides proofOfApproval. */
  commitmentRefusal: `${CHANCERY_ARC}.2.1`,
  commitmentReview: `${CHANCERY_ARC}.2.2`,
  /** commitmentTypeQualifier whose qualifier is the officer's reason for the decision (a UTF8String). */
  commitmentReason: `${CHANCERY_ARC}.2.3`,
  /** Certificate policies of the profiles. */
  policyEnterpriseSigning: `${CHANCERY_ARC}.3.1`,
  policyOfficer: `${CHANCERY_ARC}.3.2`,
  policyAuditor: `${CHANCERY_ARC}.3.3`,
  policyService: `${CHANCERY_ARC}.3.4`,
  policyAdmin: `${CHANCERY_ARC}.3.5`,

  // Standard
  organizationIdentifier: '2.5.4.97',
  /** RFC 9336 id-kp-documentSigning. */
  kpDocumentSigning: '1.3.6.1.5.5.7.3.36',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  /** RFC 3161 §2.3 id-kp-timeStamping. */
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
  /** RFC 3161 §2.4.2 id-ct-TSTInfo (the eContentType of a TimeStampToken). */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** Chancery's TSA policy (RFC 3161 §2.4.2 TSAPolicyId). */
  policyTimeStamping: `${CHANCERY_ARC}.4.1`,
  kpClientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
  /** RFC 6960 id-pkix-ocsp-nocheck. */
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  /** RFC 5652 countersignature unsigned attribute. */
  countersignature: '1.2.840.113549.1.9.6',
  /** RFC 5126 / ETSI commitment-type-indication signed attribute and proofOfApproval. */
  commitmentTypeIndication: '1.2.840.113549.1.9.16.2.16',
  proofOfApproval: '1.2.840.113549.1.9.16.6.5',
  /** RFC 5035 signing-certificate-v2. */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  /** RFC 6960 §4.2.1 id-pkix-ocsp-basic, §4.4.1 id-pkix-ocsp-nonce. */
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  /** RFC 5940 §4.1 id-ri-ocsp-response: an OCSPResponse as CMS OtherRevocationInfoFormat. */
  riOcspResponse: '1.3.6.1.5.5.7.16.2',
  /** Hash algorithms (FIPS 180-4; RFC 3279 §2.2.1 for SHA-1, RFC 5754 §2 for SHA-2). */
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/**
 * Hashes an OCSP CertID may name (RFC 6960 §4.1.1), for the responder and the verifier alike.
 * SHA-1 is here because it is what clients send (RFC 5019 §2.1.1): it identifies, it secures nothing.
 */
export const CERT_ID_HASH_BY_OID: Readonly<Record<string, IdentifierHash>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};
export const OID_OF_CERT_ID_HASH: Readonly<Record<IdentifierHash, string>> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

/** Certificate and CRL extension OIDs (RFC 5280 §4.2, §5.2, §5.3; RFC 6960 §4.2.2.2.1). */
export const EXT = {
  subjectDirectoryAttributes: '2.5.29.9',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  ocspNoCheck: OID.ocspNoCheck,
} as const;
