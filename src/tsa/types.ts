/**
 * A source of RFC 3161 time-stamp tokens. Chancery's own time-stamping authority implements it, and
 * so does the client of an outside TSA (a deployment may have to use a qualified one); what needs a
 * token (signature time-stamps on accepted signatures, archive time-stamps on log checkpoints) only
 * sees this interface.
 */
export interface TimeStamper {
  /**
   * A TimeStampToken (RFC 3161 §2.4.2: a CMS ContentInfo holding SignedData over a TSTInfo, DER)
   * whose messageImprint is `digest` under `hashAlgorithm`.
   */
  timestamp(request: TimeStampRequest): Promise<Uint8Array>;
}

export interface TimeStampRequest {
  /** The digest algorithm's dotted OID (SHA-256: 2.16.840.1.101.3.4.2.1). */
  hashAlgorithm: string;
  /** The digest of the data to be time-stamped. */
  digest: Uint8Array;
}
