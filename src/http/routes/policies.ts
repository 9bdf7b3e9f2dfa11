import type { Request } from 'express';
import type { LoadedPolicy } from '../../policy/policy.js';
import { HttpError } from '../errors.js';
import type { RouteTable } from '../routes.js';

/** The policies as these routes read them. */
export interface PolicyReads {
  list(): LoadedPolicy[];
  get(id: string): LoadedPolicy | undefined;
}

export interface PolicyRouteDeps {
  policies: PolicyReads;
  /** A valid example document for a policy, signed by `applicant` (undefined: none for this policy). */
  sample(policyId: string, applicant: string): Record<string, unknown> | undefined;
  /** The applicant a sample names when the caller gives none. */
  sampleApplicant: string;
}

/**
 * The transaction policies, public: what each transaction needs (document schema, signature
 * rules, approval steps), and a valid example document to start from.
 */
export function policyRoutes(deps: PolicyRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('get', '/api/v1/policies', (_req, res) => {
      res.json({ items: deps.policies.list().map((p) => ({ id: p.id, version: p.version, title: p.title, sha256: p.sha256 })) });
    });

    table.add('get', '/api/v1/policies/:id', (req, res) => {
      const p = policy(deps, req);
      res.json({
        id: p.id,
        version: p.version,
        title: p.title,
        sha256: p.sha256,
        document: p.document,
        signature: {
          formats: p.signature.formats,
          algorithms: p.signature.algorithms,
          minRsaBits: p.signature.minRsaBits,
          maxClockSkew: p.signature.maxClockSkew,
        },
        signer: p.signer,
        approval: p.approval,
      });
    });

    table.add('get', '/api/v1/policies/:id/sample', (req, res) => {
      const p = policy(deps, req);
      const given = req.query['applicant'];
      if (given !== undefined && (typeof given !== 'string' || !/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(given)))
        throw new HttpError('ERR_HTTP_BAD_REQUEST', 'applicant must be an 18-character unified social credit code, given once');
      const document = deps.sample(p.id, given ?? deps.sampleApplicant);
      if (document === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', `policy ${p.id} has no sample document`);
      res.setHeader('Cache-Control', 'no-store');
      res.json(document);
    });
  };
}

function policy(deps: PolicyRouteDeps, req: Request): LoadedPolicy {
  const id = String(req.params['id']);
  const found = deps.policies.get(id);
  if (found === undefined) {
    const known = deps.policies
      .list()
      .map((p) => p.id)
      .join(', ');
    throw new HttpError('ERR_HTTP_NOT_FOUND', `no policy "${id.slice(0, 64)}"; known: ${known}`);
  }
  return found;
}
