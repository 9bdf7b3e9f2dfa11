import type { Certificate } from '../verify/certificate.js';
import type { RevocationSource, RevocationStatus } from '../verify/revocation.js';
import type { CertificateAuthority } from './authority.js';

export const DATABASE_SOURCE = 'Chancery CA database';

/**
 * A RevocationSource answered from this CA's own database (DESIGN.md § Validation): for the
 * issuing CA itself (issued by the root), good as long as it is the hierarchy's; for a
 * certificate issued by our issuing CA (matched by the issuer's exact public key), good or revoked
 * as recorded, where a revocation after the validation time is not yet a revocation; a serial this
 * CA never issued, or another issuer, is unknown. Never throws: a database failure is unknown too.
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
        return cert.der.equals(issuingDer) ? { status: 'good', source: `${DATABASE_SOURCE} (CA hierarchy)` } : { status: 'unknown', reason: `the root issued no certificate with serial ${cert.serialNumberHex}` };
      }
      if (!issuer.spki.equals(issuingSpki)) return { status: 'unknown', reason: `${DATABASE_SOURCE} only knows certificates of its issuing CA` };
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
        return { status: 'unknown', reason: `${DATABASE_SOURCE} could not be read: ${(error as Error).message}` };
      }
    },
  };
}
