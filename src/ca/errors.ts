import { ChanceryError } from '../errors.js';

/** Certificate authority faults. */
export type CaErrorCode =
  /** The CSR is not a well-formed PKCS#10 request (PEM, base64 or DER). */
  | 'ERR_CA_CSR_MALFORMED'
  /** The CSR's self-signature does not verify: no proof of possession of the key. */
  | 'ERR_CA_CSR_SIGNATURE'
  /** The CSR is signed with a forbidden digest (SHA-1, MD5, MD2). */
  | 'ERR_CA_CSR_WEAK_SIGNATURE'
  /** The CSR's signature algorithm is not one Chancery knows. */
  | 'ERR_CA_CSR_UNSUPPORTED_ALGORITHM'
  /** The CSR's subject names something the registry disagrees with. */
  | 'ERR_CA_CSR_SUBJECT_MISMATCH'
  /** The key is outside the key policy (RSA < 2048 or > 4096, unknown curve, …). */
  | 'ERR_CA_KEY_POLICY'
  | 'ERR_CA_PROFILE_UNKNOWN'
  /** The profile exists but cannot be issued this way (CA and service profiles come from init). */
  | 'ERR_CA_PROFILE_NOT_ISSUABLE'
  /** A profile file under certs/profiles is invalid (start-up fault). */
  | 'ERR_CA_PROFILE_INVALID'
  /** The request lacks what the profile's holder needs (uscc, officer id, name) or is malformed. */
  | 'ERR_CA_REQUEST_INVALID'
  /** The holder's registry entry changed during issuance (a rare race); asking again works. */
  | 'ERR_CA_REGISTRY_CHANGED'
  | 'ERR_CA_SERIAL_MALFORMED'
  | 'ERR_CA_CERTIFICATE_NOT_FOUND'
  | 'ERR_CA_ALREADY_REVOKED'
  | 'ERR_CA_REASON_INVALID'
  | 'ERR_CA_UNKNOWN_CA'
  /** `init` found an existing hierarchy and refuses to replace it. */
  | 'ERR_CA_ALREADY_INITIALIZED'
  /** The hierarchy is not there (a command needing the CA ran before `init`). */
  | 'ERR_CA_NOT_INITIALIZED'
  /** Database and data dir disagree (keys missing for a hierarchy, or a hierarchy on disk only). */
  | 'ERR_CA_STATE_MISMATCH';
export class CaError extends ChanceryError<CaErrorCode> {}
