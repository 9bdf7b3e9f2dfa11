/**
 * The applicant binding: an application is signed by the
 * enterprise it is about. The signer certificate's organizationIdentifier (2.5.4.97) must equal
 * `NTRCN-` + the document's `applicant` (the USCC; ETSI EN 319 412-1 §5.1.4 semantics identifier
 * "NTR" national trade register, country CN).
 */

export const ORGANIZATION_IDENTIFIER_PREFIX = 'NTRCN-';

export type BindingResult = { bound: true; organizationIdentifier: string } | { bound: false; reason: string };

/** The organizationIdentifier a certificate of this applicant carries. */
export function organizationIdentifierOf(uscc: string): string {
  return `${ORGANIZATION_IDENTIFIER_PREFIX}${uscc}`;
}

/**
 * Checks the binding between the document's `applicant` and the signer's organizationIdentifier
 * values. Exactly one organizationIdentifier is accepted; comparison is exact (no case folding:
 * a USCC is upper-case by definition).
 */
export function checkApplicantBinding(document: Record<string, unknown>, organizationIdentifiers: readonly string[]): BindingResult {
  const applicant = document['applicant'];
  if (typeof applicant !== 'string' || applicant === '') return { bound: false, reason: 'the document has no applicant' };
  if (organizationIdentifiers.length === 0) return { bound: false, reason: 'the signer certificate has no organizationIdentifier' };
  if (organizationIdentifiers.length > 1) {
    return {
      bound: false,
      reason: `the signer certificate has ${organizationIdentifiers.length} organizationIdentifier values; exactly one is accepted`,
    };
  }
  const expected = organizationIdentifierOf(applicant);
  const actual = organizationIdentifiers[0]!;
  if (actual !== expected) {
    return {
      bound: false,
      reason: `the signer's organizationIdentifier is ${JSON.stringify(actual)}, not ${JSON.stringify(expected)} (NTRCN- + the document's applicant)`,
    };
  }
  return { bound: true, organizationIdentifier: actual };
}
