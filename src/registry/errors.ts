import { ChanceryError } from '../errors.js';

/** Registry faults: enterprises and officers. */
export type RegistryErrorCode =
  /** The USCC is not 18 characters of the GB 32100-2015 character set. */
  | 'ERR_REGISTRY_USCC_MALFORMED'
  /** The USCC's check character (position 18) is wrong. */
  | 'ERR_REGISTRY_USCC_CHECK'
  /** The organization code inside the USCC (positions 9–17) fails its GB 11714 check. */
  | 'ERR_REGISTRY_ORGANIZATION_CODE_CHECK'
  /** A field of a registration is missing or malformed (name, id, role, jurisdiction). */
  | 'ERR_REGISTRY_INVALID'
  | 'ERR_REGISTRY_ENTERPRISE_EXISTS'
  | 'ERR_REGISTRY_OFFICER_EXISTS'
  | 'ERR_REGISTRY_ENTERPRISE_NOT_FOUND'
  | 'ERR_REGISTRY_OFFICER_NOT_FOUND'
  /** The enterprise is revoked or deregistered: the operation needs an active one. */
  | 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE'
  /** An import line is not a record: a CSV line with the wrong number of fields or an open quote, JSON that does not parse (a truncated line), a bad header. */
  | 'ERR_REGISTRY_IMPORT_LINE_MALFORMED'
  /** An import line is not UTF-8. */
  | 'ERR_REGISTRY_IMPORT_ENCODING'
  /** An import line is longer than the limit. */
  | 'ERR_REGISTRY_IMPORT_LINE_TOO_LONG'
  /** The same USCC twice in an import batch. */
  | 'ERR_REGISTRY_IMPORT_DUPLICATE'
  /** The import input is larger than the limit. */
  | 'ERR_REGISTRY_IMPORT_TOO_LARGE'
  /** An import stopped at a batch with bad records (the problem lists them and where to resume). */
  | 'ERR_REGISTRY_IMPORT_REJECTED';
export class RegistryError extends ChanceryError<RegistryErrorCode> {}
