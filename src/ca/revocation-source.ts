import { isUnreachable } from '../db/errors.js';
import type { Certificate } from '../verify/certificate.js';
import { sourceUnavailable } from '../verify/errors.js';
import type { RevocationSource, RevocationStatus } from '../verify/revocation.js';
import type { CertificateAuthority } from './authority.js';

export const DATABASE_SOURCE = 'Chancery CA database';

/**
 * A RevocationSource answered from this CA's own database: for the
 * issuing CA itself (issued by the root), good as long as it is the hierarchy's; for a
 * certificate issued by our issuing CA (matched by the issuer's exact public key), good or revoked
 * as recorded, where a revocation after the validation time is not yet a revocation; a serial this
 * CA never issued, or another issuer, is unknown. A database that cannot be reached is not an
 * answer: that throws `sourceUnavailable`, so no verdict rests on a dropped connection; any other
 * database failure is unknown.
 */
export function databaseRevocationSource(ca: CertificateAuthority): RevocationSource {
  const issuingSpki = ca.hierarchy.issuing.spki;
  const rootSpki = ca.hierarchy.root.spki;
  const issuingDer = ca.hierarchy.issuing.der;
  return {
    async status(cert: Certificate, issuer: Certificate, at: Date): Promise<RevocationStatus> {
      // The root certifies exactly one CA, the issuing CA recorded in the hierarchy; it has
      // revoked nothing (retiring the issuing CA means a new hierarchy).
      if (issuer.spki.equals(rootSpki)) {
        return cert.der.equals(issuingDer)
          ? { status: 'good', source: `${DATABASE_SOURCE} (CA hierarchy)` }
          : { status: 'unknown', reason: `the root issued no certificate with serial ${cert.serialNumberHex}` };
      }
      if (!issuer.spki.equals(issuingSpki))
        return { status: 'unknown', reason: `${DATABASE_SOURCE} only knows certificates of its issuing CA` };
      try {
        const state = await ca.certificateStatus(cert.serialNumberHex);
        switch (state.status) {
          case 'unknown':
            return { status: 'unknown', reason: `${DATABASE_SOURCE} has no certificate with serial ${cert.serialNumberHex}` };
          case 'good':
            return { status: 'good', source: DATABASE_SOURCE };
          case 'revoked':
            return state.revokedAt.getTime() <= at.getTime()
              ? { status: 'revoked', revokedAt: state.revokedAt, reason: state.reason, source: DATABASE_SOURCE }
              : { status: 'good', source: DATABASE_SOURCE };
        }
      } catch (error) {
        if (isUnreachable(error)) throw sourceUnavailable(`${DATABASE_SOURCE} is not reachable; try again shortly`, error);
        return { status: 'unknown', reason: `${DATABASE_SOURCE} could not be read: ${(error as Error).message}` };
      }
    },
  };
}

/**
 * Is this serial of the issuing CA revoked now? For bearer tokens, whose claims were checked at
 * login: a token stops working as soon as its certificate is revoked, not when it expires.
 * `good` answers are remembered until the revocation epoch changes (a revocation on this node at
 * once, on another node within EPOCH_POLL_MS), so an authenticated request asks the database
 * nothing in the steady state. A serial the CA does not know, or a failed read, is not revoked:
 * the token itself was signed by this service.
 */
export function revokedSerialCheck(ca: CertificateAuthority, maxEntries = 100_000): (serialHex: string) => Promise<boolean> {
  const good = new Map<string, number>();
  return async (serialHex) => {
    const epoch = await ca.revocationEpoch();
    if (good.get(serialHex) === epoch) return false;
    let revoked: boolean;
    try {
      revoked = (await ca.certificateStatus(serialHex)).status === 'revoked';
    } catch {
      return false;
    }
    if (!revoked) {
      if (good.size >= maxEntries) good.delete(good.keys().next().value!);
      good.set(serialHex, epoch);
    }
    return revoked;
  };
}
