import type { KeyUsageName } from './certificate-types.js';

/** What the leaf of a path must be good for: its extended key usage and key usage (RFC 5280 §4.2.1.3, §4.2.1.12). */
export interface Purpose {
  /** Readable name for messages, e.g. "document signing". */
  name?: string;
  /** EKU OIDs the leaf's extendedKeyUsage MUST contain (anyExtendedKeyUsage does not stand in). */
  extendedKeyUsage?: string[];
  /** Key usages the leaf must assert. */
  keyUsage?: KeyUsageName[];
  /** 'all' (default): every listed key usage; 'any': at least one of them. */
  keyUsageMatch?: 'all' | 'any';
  /**
   * true (default): a leaf without a keyUsage extension fails a key-usage requirement; false: an
   * absent extension means "any usage" (RFC 5280 §4.2.1.3), as for CRL signers (§6.3.3 (f)).
   */
  keyUsageRequired?: boolean;
}
