import type { Request, Response } from 'express';
import type { EnterpriseRegistration } from '../../registry/registry.js';
import type { Enterprise } from '../../registry/types.js';
import { maybePrincipalOf, optionalAuthentication, principalOf, requireRole, type Authenticator } from '../auth-middleware.js';
import { parseUscc } from '../../registry/uscc.js';
import { jsonBody } from '../body.js';
import type { RouteTable } from '../routes.js';
import { optionalJsonBody } from './optional-body.js';

/** The enterprise registry as these routes use it (input is validated by the registry). */
export interface EnterpriseRegistry {
  registerEnterprise(input: EnterpriseRegistration, actor: string): Promise<Enterprise>;
  getEnterprise(uscc: string): Promise<Enterprise>;
  listEnterprises(options: { status?: unknown; after?: unknown; limit?: unknown }): Promise<Enterprise[]>;
  revokeEnterprise(uscc: unknown, reason: unknown, actor: string): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
  deregisterEnterprise(uscc: unknown, reason: unknown, actor: string): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
}

export interface EnterpriseRouteDeps {
  registry: EnterpriseRegistry;
  auth: Authenticator;
}

/**
 * Enterprise registry routes. Registering, revoking (the authority's
 * decision) and deregistering (the enterprise closes at its own request) are for the admin; an
 * enterprise may read its own record; the revoked-enterprise list
 * (`GET /api/v1/enterprises?status=revoked`) is public, other listings are for admin and auditors.
 */
export function enterpriseRoutes(deps: EnterpriseRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('post', '/api/v1/enterprises', requireRole(deps.auth, 'admin'), jsonBody(), async (req: Request, res: Response) => {
      const body = objectBody(req.body);
      const enterprise = await deps.registry.registerEnterprise(
        { uscc: body['uscc'], name: body['name'], overrideCheck: body['overrideCheck'] },
        principalOf(res).actor,
      );
      res.status(201).location(`/api/v1/enterprises/${enterprise.uscc}`).json(enterprise);
    });

    table.add('get', '/api/v1/enterprises', optionalAuthentication(deps.auth), async (req: Request, res: Response) => {
      const status = req.query['status'];
      if (status !== 'revoked') {
        // Only the revoked-enterprise list is public.
        const who = maybePrincipalOf(res);
        const context = { method: req.method, path: req.path };
        if (who === undefined) await deps.auth.authenticate(undefined, context);
        else await deps.auth.authorize(who, ['admin', 'auditor'], context);
      }
      const items = await deps.registry.listEnterprises({ status, after: req.query['after'], limit: req.query['limit'] });
      res.json({ items, next: items.length > 0 ? items[items.length - 1]!.uscc : null });
    });

    table.add(
      'get',
      '/api/v1/enterprises/:uscc',
      requireRole(deps.auth, 'admin', 'auditor', 'enterprise'),
      async (req: Request, res: Response) => {
        const uscc = parseUscc(req.params['uscc'], { overrideCheck: true }).code;
        const who = principalOf(res);
        if (who.role === 'enterprise' && who.uscc !== uscc) {
          await deps.auth.authorize({ ...who, role: 'enterprise' }, ['admin', 'auditor'], { method: req.method, path: req.path });
        }
        res.json(await deps.registry.getEnterprise(uscc));
      },
    );

    table.add(
      'post',
      '/api/v1/enterprises/:uscc/revoke',
      requireRole(deps.auth, 'admin'),
      optionalJsonBody(),
      async (req: Request, res: Response) => {
        const body = objectBody(req.body);
        const result = await deps.registry.revokeEnterprise(req.params['uscc'], body['reason'], principalOf(res).actor);
        res.json(result);
      },
    );

    table.add(
      'post',
      '/api/v1/enterprises/:uscc/deregister',
      requireRole(deps.auth, 'admin'),
      optionalJsonBody(),
      async (req: Request, res: Response) => {
        const body = objectBody(req.body);
        const result = await deps.registry.deregisterEnterprise(req.params['uscc'], body['reason'], principalOf(res).actor);
        res.json(result);
      },
    );
  };
}

/** A JSON body that must be an object; its fields are checked by the domain. */
export function objectBody(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
