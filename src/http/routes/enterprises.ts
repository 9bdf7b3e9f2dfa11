import type { Request, Response } from 'express';
import { RegistryError } from '../../registry/errors.js';
import type { ImportFormat, ImportOptions, ImportReport } from '../../registry/import.js';
import type { EnterpriseRegistration } from '../../registry/registry.js';
import type { Enterprise } from '../../registry/types.js';
import { maybePrincipalOf, optionalAuthentication, principalOf, requireRole, type Authenticator } from '../auth-middleware.js';
import { parseUscc } from '../../registry/uscc.js';
import { jsonBody, mediaType } from '../body.js';
import { HttpError } from '../errors.js';
import type { RouteTable } from '../routes.js';
import { optionalJsonBody } from './optional-body.js';

/** The enterprise registry as these routes use it (input is validated by the registry). */
export interface EnterpriseRegistry {
  registerEnterprise(input: EnterpriseRegistration, actor: string): Promise<Enterprise>;
  getEnterprise(uscc: string): Promise<Enterprise>;
  listEnterprises(options: { status?: unknown; after?: unknown; limit?: unknown }): Promise<Enterprise[]>;
  revokeEnterprise(uscc: unknown, reason: unknown, actor: string): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
  deregisterEnterprise(uscc: unknown, reason: unknown, actor: string): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
  importEnterprises(source: AsyncIterable<Uint8Array>, options: ImportOptions, actor: string): Promise<ImportReport>;
}

/**
 * Most bytes one import request may carry (about 600,000 records, well inside the server's request
 * timeout); a larger file is sent in parts, each naming its first line (the CLI does).
 */
export const MAX_IMPORT_REQUEST_BYTES = 64 * 2 ** 20;

const IMPORT_TYPES: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/json-lines': 'jsonl',
};

export interface EnterpriseRouteDeps {
  registry: EnterpriseRegistry;
  auth: Authenticator;
  /** Most bytes of one import request (default MAX_IMPORT_REQUEST_BYTES). */
  maxImportBytes?: number;
}

/**
 * Enterprise registry routes. Registering, revoking (the authority's
 * decision) and deregistering (the enterprise closes at its own request) are for the admin; an
 * enterprise may read its own record; the revoked-enterprise list
 * (`GET /api/v1/enterprises?status=revoked`) is public, other listings are for admin and auditors.
 */
export function enterpriseRoutes(deps: EnterpriseRouteDeps): (table: RouteTable) => void {
  return (table) => {
    // The body is streamed into the import, batch by batch: never held whole.
    table.add('post', '/api/v1/enterprises/import', requireRole(deps.auth, 'admin'), async (req: Request, res: Response) => {
      const type = mediaType(req);
      const format = type === undefined ? undefined : IMPORT_TYPES[type];
      if (format === undefined) {
        throw new HttpError(
          'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
          `Content-Type must be text/csv or application/x-ndjson${type === undefined ? ' (none given)' : `, not ${type}`}`,
          {
            detail: { accepted: Object.keys(IMPORT_TYPES) },
          },
        );
      }
      const limit = deps.maxImportBytes ?? MAX_IMPORT_REQUEST_BYTES;
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > limit) {
        res.setHeader('connection', 'close');
        throw new RegistryError(
          'ERR_REGISTRY_IMPORT_TOO_LARGE',
          `the body is larger than the limit of ${limit} bytes for one import request: send the file in parts (with line=)`,
          {
            detail: { limit },
          },
        );
      }
      const line = queryInteger(req.query['line'], 'line', 1, Number.MAX_SAFE_INTEGER);
      const fromLine = queryInteger(req.query['fromLine'], 'fromLine', 1, Number.MAX_SAFE_INTEGER);
      const batchSize = queryInteger(req.query['batch'], 'batch', 1, 50_000);
      const check = req.query['check'];
      if (check !== undefined && check !== 'true' && check !== 'false') {
        throw new RegistryError('ERR_REGISTRY_INVALID', 'check must be true or false', { detail: { field: 'check' } });
      }
      const firstRecordLine = line ?? (format === 'csv' ? 2 : 1);
      // Not destroyed when the import stops early: the rest of the body is drained below, so
      // that the client, still sending, reads the answer instead of a reset connection.
      const report = await deps.registry.importEnterprises(
        req.iterator({ destroyOnReturn: false }),
        {
          format,
          firstLine: format === 'csv' ? firstRecordLine - 1 : firstRecordLine,
          maxBytes: limit,
          checkOnly: check === 'true',
          ...(fromLine === undefined ? {} : { fromLine }),
          ...(batchSize === undefined ? {} : { batchSize }),
        },
        principalOf(res).actor,
      );
      if (report.complete) {
        res.json(report);
        return;
      }
      if (report.tooLargeAtLine === null) await drain(req, limit);
      else res.setHeader('connection', 'close'); // past the limit: not worth reading on
      const first = report.errors[0];
      throw new RegistryError(
        report.tooLargeAtLine !== null ? 'ERR_REGISTRY_IMPORT_TOO_LARGE' : 'ERR_REGISTRY_IMPORT_REJECTED',
        report.checkOnly
          ? `${report.errors.length}${report.errorsTruncated ? '+' : ''} bad line(s), the first on line ${first?.line}: ${first?.message}`
          : `line ${first?.line}: ${first?.message}; ${report.imported} enterprises committed through line ${report.committedThroughLine ?? '-'}; resume from line ${report.resumeFromLine}`,
        { detail: { ...report } as unknown as Record<string, unknown> },
      );
    });

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

/** Reads and discards what is left of a request body, at most `limit` bytes (then the connection is dropped). */
async function drain(req: Request, limit: number): Promise<void> {
  if (req.readableEnded) return;
  let seen = 0;
  await new Promise<void>((resolve) => {
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) {
        req.destroy();
        resolve();
      }
    });
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', resolve);
    req.resume();
  });
}

function queryInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RegistryError('ERR_REGISTRY_INVALID', `${field} must be an integer from ${min} to ${max}, given once`, { detail: { field } });
  }
  return n;
}

/** A JSON body that must be an object; its fields are checked by the domain. */
export function objectBody(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
