import type { Certificate } from './certificate.js';
import type { Purpose } from './purpose.js';

/**
 * Revocation lookup, as an interface the path validator calls for every certificate below the
 * trust anchor. Sources: supplied CRLs (`crlSource`, crl.ts), supplied
 * OCSP responses (`ocspResponseSource`, ocsp.ts), the CA's own database (implemented by the CA
 * part), and `firstAnswer` to combine them. Semantics: a certificate revoked at or before the
 * validation time is revoked; a status that cannot be established is `unknown`, which the
 * validator reports as INDETERMINATE, never as passed.
 */

export type RevocationStatus =
  /** `unchecked`: no lookup was made (noRevocation); reported as such, never as evidence. */
  | { status: 'good'; source: string; unchecked?: boolean }
  | { status: 'revoked'; revokedAt: Date; reason?: string; source: string }
  | { status: 'unknown'; reason: string };

/**
 * What the validator offers a source that needs more than the certificate and its issuer: other
 * certificates (a CRL or OCSP signer that is not the issuer itself) and validation of such a
 * signer's own path to the same trust anchor (RFC 5280 §6.3.3 (f), RFC 6960 §4.2.2.2).
 */
export interface RevocationContext {
  /** The trust anchors and intermediates of the validation, to find signers among. */
  readonly candidates: readonly Certificate[];
  /**
   * Validates `signer`'s path to the trust anchor of the path being checked, for `purpose`, at
   * the validation time, with revocation. Resolves to undefined when valid, else the reason.
   */
  validateSigner(signer: Certificate, purpose: Purpose): Promise<string | undefined>;
}

export interface RevocationSource {
  /**
   * The status of `cert` (issued by `issuer`) at `at`. MUST NOT throw for bad or missing data:
   * that is `unknown` with a reason. Throws `sourceUnavailable` (errors.ts) only when a service it
   * reads is down, which ends the validation without a verdict; any other throw is `unknown`. `context` is given by the path validator.
   */
  status(cert: Certificate, issuer: Certificate, at: Date, context?: RevocationContext): Promise<RevocationStatus>;
}

/**
 * Asks each source in turn and returns the first definite answer (good or revoked); when every
 * source answers unknown, unknown with all their reasons.
 */
export function firstAnswer(...sources: RevocationSource[]): RevocationSource {
  return {
    async status(cert, issuer, at, context) {
      const reasons: string[] = [];
      for (const source of sources) {
        const s = await source.status(cert, issuer, at, context);
        if (s.status !== 'unknown') return s;
        reasons.push(s.reason);
      }
      return { status: 'unknown', reason: reasons.length === 0 ? 'no revocation source was given' : reasons.join('; ') };
    },
  };
}

/**
 * A source that does not check: every certificate is reported good with the source "revocation
 * checking disabled", so the report says so. For tests, conformance runs without revocation
 * data, and certificates whose status is settled elsewhere. MUST NOT be used to validate
 * submissions.
 */
export function noRevocation(): RevocationSource {
  return {
    status: () => Promise.resolve({ status: 'good', source: 'revocation checking disabled', unchecked: true }),
  };
}

/** A source that never knows: every status is unknown with the given reason. */
export function unknownRevocation(reason = 'no revocation information is available'): RevocationSource {
  return { status: () => Promise.resolve({ status: 'unknown', reason }) };
}

export interface RevokedEntry {
  serialNumberHex: string;
  revokedAt: Date;
  reason?: string;
}

/**
 * An in-memory list of revoked serial numbers per issuer, matched by the issuer certificate's
 * exact public key (SPKI), for tests, benchmarks and callers that hold their revocation state in
 * memory. Certificates of an issuer it knows are good unless listed (revoked at or before `at`);
 * any other issuer is unknown.
 */
export function inMemoryRevocation(
  issuers: Array<{ issuer: Certificate; revoked: RevokedEntry[] }>,
  source = 'in-memory revocation list',
): RevocationSource {
  const byIssuer = new Map<string, Map<string, RevokedEntry>>();
  for (const { issuer, revoked } of issuers) {
    const key = issuer.spki.toString('latin1') + '\u0000' + issuer.subject.key;
    const entries = byIssuer.get(key) ?? new Map<string, RevokedEntry>();
    for (const r of revoked) entries.set(normalizeSerial(r.serialNumberHex), r);
    byIssuer.set(key, entries);
  }
  return {
    status(cert, issuer, at) {
      const entries = byIssuer.get(issuer.spki.toString('latin1') + '\u0000' + issuer.subject.key);
      if (entries === undefined)
        return Promise.resolve({ status: 'unknown', reason: `${source} has no entry for issuer ${issuer.describe()}` });
      const hit = entries.get(normalizeSerial(cert.serialNumberHex));
      if (hit !== undefined && hit.revokedAt.getTime() <= at.getTime()) {
        return Promise.resolve({
          status: 'revoked',
          revokedAt: hit.revokedAt,
          ...(hit.reason === undefined ? {} : { reason: hit.reason }),
          source,
        });
      }
      return Promise.resolve({ status: 'good', source });
    },
  };
}

/**
 * Serial numbers compare as integers: lowercase hex in minimal two's-complement form (a leading
 * 00 octet is kept only where it marks a positive number, so 00ff (255) never equals ff (-1)).
 */
export function normalizeSerial(hex: string): string {
  let h = hex.toLowerCase();
  if (h.length % 2 === 1) h = `0${h}`;
  while (h.length > 2 && h.startsWith('00') && parseInt(h.slice(2, 4), 16) < 0x80) h = h.slice(2);
  return h;
}
