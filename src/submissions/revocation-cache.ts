import { isUnreachable } from '../db/errors.js';
import type { Certificate } from '../verify/certificate.js';
import { sourceUnavailable } from '../verify/errors.js';
import type { RevocationSource, RevocationStatus } from '../verify/revocation.js';

/**
 * A revocation source that remembers definite answers of another one until the revocation epoch
 * changes (the issuing CA's CRL number, which every revocation increments: src/ca). The hot path
 * of a submission then asks the database nothing about its signer's certificate; a revocation
 * on this node is seen at once, one on another node within the epoch's polling interval — and
 * the submission's transaction reads the signer's revocation again under the log's lock, so no
 * decision rests on a stale answer.
 *
 * Cached: `good` (until the epoch changes) and `revoked` at or before the asked time (for good).
 * Never cached: `unknown`, and `good` that was not checked (`unchecked`).
 */
export function epochCachedRevocation(source: RevocationSource, epoch: () => Promise<number>, maxEntries = 100_000): RevocationSource {
  const cache = new Map<string, { epoch: number; status: RevocationStatus }>();
  return {
    async status(cert: Certificate, issuer: Certificate, at: Date, context) {
      let current: number;
      try {
        current = await epoch();
      } catch (error) {
        if (isUnreachable(error))
          throw sourceUnavailable('the revocation epoch cannot be read: the database is not reachable; try again shortly', error);
        throw error;
      }
      const key = `${issuer.sha256Fingerprint}/${cert.sha256Fingerprint}`;
      const hit = cache.get(key);
      if (hit !== undefined) {
        if (hit.status.status === 'revoked' && hit.status.revokedAt.getTime() <= at.getTime()) return hit.status;
        if (hit.status.status === 'good' && hit.epoch === current) return hit.status;
        cache.delete(key);
      }
      const status = await source.status(cert, issuer, at, context);
      const keep =
        (status.status === 'good' && status.unchecked !== true) ||
        (status.status === 'revoked' && status.revokedAt.getTime() <= at.getTime());
      if (keep) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
        cache.set(key, { epoch: current, status });
      }
      return status;
    },
  };
}
