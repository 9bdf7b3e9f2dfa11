/**
 * Object identifiers Chancery uses, standard and its own. Chancery's private arc is a UUID OID
 * (ITU-T X.667: 2.25.<UUID as an integer>, UUID b933dec4-96e8-4c9e-82f1-8091a7c258a9), so it
 * needs no registration and cannot collide.
 */
export const CHANCERY_ARC = '2.25.246176504630350160250129726162839165097';

export const OID = {
  // Chancery's own (documented in DESIGN.md)
  /** Officer certificate extension: role and jurisdiction (see DESIGN.md § Certificates). */
  officerAuthorization: `${CHANCERY_ARC}.1`,
  /** commitment-type-indication values for an officer's decision besides proofOfApproval. */
  commitmentRefusal: `${CHANCERY_ARC}.2.1`,
  commitmentReview: `${CHANCERY_ARC}.2.2`,
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
} as const;
