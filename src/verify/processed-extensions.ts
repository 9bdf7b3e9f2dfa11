import { EXT, OID } from '../oids.js';

/**
 * The certificate extensions this verifier processes, so they may be critical: every other
 * critical extension makes a certificate unusable (RFC 5280 §4.2: "A certificate-using system
 * MUST reject the certificate if it encounters a critical extension it does not recognize or a
 * critical extension that contains information that it cannot process"; §6.1.4 (o), §6.1.5 (f)).
 * This one constant is the whole decision: nothing registers extensions at run time, so the
 * answer does not depend on which modules happen to be loaded.
 */
export const PROCESSED_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  EXT.basicConstraints,
  EXT.keyUsage,
  EXT.extKeyUsage,
  EXT.nameConstraints,
  EXT.certificatePolicies,
  EXT.policyMappings,
  EXT.policyConstraints,
  EXT.inhibitAnyPolicy,
  EXT.subjectAltName,
  EXT.issuerAltName,
  EXT.crlDistributionPoints,
  EXT.ocspNoCheck,
  // Chancery's officer extension: role and jurisdiction are read into the validation report
  // (src/verify/officer-extension.ts) and the submission workflow checks them against the policy.
  OID.officerAuthorization,
]);
