import type { AuditLog } from '../audit/types.js';
import type { CertificateServices } from '../ca/services.js';
import type { Database } from '../db/types.js';
import { submissionRoutes } from '../http/routes/submissions.js';
import type { RouteTable } from '../http/routes.js';
import type { PolicySet } from '../policy/policy.js';
import { parseCertificate } from '../verify/certificate.js';
import { ReceiptSigner } from './receipts.js';
import { epochCachedRevocation } from './revocation-cache.js';
import { SubmissionService } from './service.js';

export interface SubmissionsPart {
  service: SubmissionService;
  routes: Array<(table: RouteTable) => void>;
}

/**
 * Composition of the submission workflow over the CA, registry and login of `certificates`: trust
 * anchors parsed once, revocation from the CA database cached per revocation epoch, receipts
 * signed with the service seal's Signer.
 */
export function openSubmissions(options: { db: Database; audit: AuditLog; policies: PolicySet; certificates: CertificateServices; now?: () => Date }): SubmissionsPart {
  const { ca, registry, auth } = options.certificates;
  const hierarchy = ca.hierarchy;
  const service = new SubmissionService({
    db: options.db,
    audit: options.audit,
    policies: options.policies,
    trust: { anchors: [parseCertificate(hierarchy.root.der)], intermediates: [parseCertificate(hierarchy.issuing.der)] },
    revocation: epochCachedRevocation(options.certificates.revocation, () => ca.revocationEpoch()),
    receipts: new ReceiptSigner(hierarchy.seal.signer, [hierarchy.seal.der, hierarchy.issuing.der]),
    findEnterprise: (uscc, tx) => registry.findEnterprise(uscc, tx),
    certificateRevokedAt: async (serial, tx) => {
      const status = await ca.certificateStatus(serial, tx);
      return status.status === 'revoked' ? status.revokedAt : undefined;
    },
    officerOfCertificate: async (serial) => {
      try {
        return (await ca.getCertificate(serial)).officerId ?? undefined;
      } catch {
        return undefined;
      }
    },
    recordDenial: (code, reason, actor, context) => auth.recordDenial(code, reason, actor, context),
    now: options.now ?? (() => new Date()),
  });
  return { service, routes: [submissionRoutes({ submissions: service, auth })] };
}
