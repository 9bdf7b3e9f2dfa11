/**
 * The vocabulary of validation reports (ETSI EN 319 102-1 §5.1.3), shared by path validation,
 * envelope validation, the CLI and the HTTP API. The JSON shape of a report is a public contract:
 * change it only compatibly (add members, never rename), and document it in the README.
 */

export type Indication = 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';

/** ETSI sub-indications, plus Chancery's POLICY_FAILURE (the transaction policy refused it). */
export type SubIndication =
  // TOTAL_FAILED
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'POLICY_FAILURE'
  // INDETERMINATE
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'CERTIFICATE_CHAIN_GENERAL_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'REVOCATION_OUT_OF_BOUNDS'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'OUT_OF_BOUNDS_NOT_REVOKED'
  | 'REVOKED_NO_POE'
  | 'REVOKED_CA_NO_POE'
  | 'TRY_LATER'
  | 'SIGNED_DATA_NOT_FOUND'
  | 'GENERIC';

/** Which indication each sub-indication belongs to (ETSI EN 319 102-1 Table 5 / Table 6). */
export const INDICATION_OF: Record<SubIndication, Exclude<Indication, 'TOTAL_PASSED'>> = {
  FORMAT_FAILURE: 'TOTAL_FAILED',
  HASH_FAILURE: 'TOTAL_FAILED',
  SIG_CRYPTO_FAILURE: 'TOTAL_FAILED',
  REVOKED: 'TOTAL_FAILED',
  EXPIRED: 'TOTAL_FAILED',
  NOT_YET_VALID: 'TOTAL_FAILED',
  POLICY_FAILURE: 'TOTAL_FAILED',
  SIG_CONSTRAINTS_FAILURE: 'INDETERMINATE',
  CHAIN_CONSTRAINTS_FAILURE: 'INDETERMINATE',
  CERTIFICATE_CHAIN_GENERAL_FAILURE: 'INDETERMINATE',
  CRYPTO_CONSTRAINTS_FAILURE: 'INDETERMINATE',
  NO_SIGNING_CERTIFICATE_FOUND: 'INDETERMINATE',
  NO_CERTIFICATE_CHAIN_FOUND: 'INDETERMINATE',
  REVOCATION_OUT_OF_BOUNDS: 'INDETERMINATE',
  OUT_OF_BOUNDS_NO_POE: 'INDETERMINATE',
  OUT_OF_BOUNDS_NOT_REVOKED: 'INDETERMINATE',
  REVOKED_NO_POE: 'INDETERMINATE',
  REVOKED_CA_NO_POE: 'INDETERMINATE',
  TRY_LATER: 'INDETERMINATE',
  SIGNED_DATA_NOT_FOUND: 'INDETERMINATE',
  GENERIC: 'INDETERMINATE',
};

/** The outcome of one check. A check that could not run is INDETERMINATE, never PASSED. */
export type CheckResult = 'PASSED' | 'FAILED' | 'INDETERMINATE';

export interface Check {
  /** Stable identifier, e.g. `cms.signed-attributes.message-digest`, `path.basic-constraints`. */
  id: string;
  result: CheckResult;
  /** One sentence a person can read: what was checked and what was found. */
  message: string;
  /** Set when the check did not pass: the sub-indication it leads to. */
  subIndication?: SubIndication;
  /** Which certificate of the path the check is about (0 = the leaf), where that applies. */
  certificateIndex?: number;
}
