import type { Request, Response } from 'express';
import type { OfficerRegistration } from '../../registry/registry.js';
import type { Officer } from '../../registry/types.js';
import { principalOf, requireRole, type Authenticator } from '../auth-middleware.js';
import { jsonBody } from '../body.js';
import type { RouteTable } from '../routes.js';
import { objectBody } from './enterprises.js';

/** The officer registry as these routes use it (input is validated by the registry). */
export interface OfficerRegistry {
  registerOfficer(input: OfficerRegistration, actor: string): Promise<Officer>;
  listOfficers(options: { after?: unknown; limit?: unknown }): Promise<Officer[]>;
  getOfficer(id: string): Promise<Officer>;
}

export interface OfficerRouteDeps {
  registry: OfficerRegistry;
  auth: Authenticator;
}

/** Officer registry routes: the admin registers; admin, auditors and the officer itself read. */
export function officerRoutes(deps: OfficerRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('post', '/api/v1/officers', requireRole(deps.auth, 'admin'), jsonBody(), async (req: Request, res: Response) => {
      const b = objectBody(req.body);
      const officer = await deps.registry.registerOfficer(
        { id: b['id'], name: b['name'], authority: b['authority'], role: b['role'], jurisdiction: b['jurisdiction'] },
        principalOf(res).actor,
      );
      res.status(201).location(`/api/v1/officers/${officer.id}`).json(officer);
    });

    table.add('get', '/api/v1/officers', requireRole(deps.auth, 'admin', 'auditor'), async (req: Request, res: Response) => {
      const items = await deps.registry.listOfficers({ after: req.query['after'], limit: req.query['limit'] });
      res.json({ items, next: items.length > 0 ? items[items.length - 1]!.id : null });
    });

    table.add('get', '/api/v1/officers/:id', requireRole(deps.auth, 'admin', 'auditor', 'officer'), async (req: Request, res: Response) => {
      const id = String(req.params['id']);
      const who = principalOf(res);
      if (who.role === 'officer' && who.officer?.id !== id) {
        await deps.auth.authorize(who, ['admin', 'auditor'], { method: req.method, path: req.path });
      }
      res.json(await deps.registry.getOfficer(id));
    });
  };
}
