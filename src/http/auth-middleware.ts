import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DenialContext } from '../auth/auth-service.js';
import type { Principal, Role } from '../auth/principal.js';

/** What the routes need of login to let a request through: who is calling, and may they. */
export interface Authenticator {
  /** The principal of a bearer token (an `Authorization` header value); refusals are audited. */
  authenticate(authorization: string | undefined, context: DenialContext): Promise<Principal>;
  /** Refuses (audited) a principal whose role is not one of `roles`. */
  authorize(principal: Principal, roles: readonly Role[], context: DenialContext): Promise<void>;
}

/**
 * Express glue for authorization, for every part's routes:
 *
 *   table.add('post', '/api/v1/enterprises', requireRole(auth, 'admin'), jsonBody(), handler);
 *   … in the handler: const who = principalOf(res);
 *
 * A missing or invalid token is 401, a role not allowed 403; both are audited as `auth.denied`
 * before the response is sent.
 */

const PRINCIPAL = 'principal';

function context(req: Request): { method: string; path: string } {
  return { method: req.method, path: req.originalUrl.split('?')[0] ?? req.path };
}

/** Requires a valid bearer token whose role is one of `roles` (any role when none are given). */
export function requireRole(auth: Authenticator, ...roles: Role[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const ctx = context(req);
    auth
      .authenticate(req.headers.authorization, ctx)
      .then(async (principal) => {
        if (roles.length > 0) await auth.authorize(principal, roles, ctx);
        res.locals[PRINCIPAL] = principal;
        next();
      })
      .catch(next);
  };
}

/** Any authenticated caller. */
export function requireAuthentication(auth: Authenticator): RequestHandler {
  return requireRole(auth);
}

/**
 * Attaches the principal when a bearer token is present (and refuses an invalid one), lets
 * anonymous callers through otherwise; for routes that are public but say more to some roles.
 */
export function optionalAuthentication(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    if (req.headers.authorization === undefined) {
      next();
      return;
    }
    requireRole(auth)(req, res, next);
  };
}

/** The principal a `requireRole` ran for; throws when the route forgot to require one. */
export function principalOf(res: Response): Principal {
  const principal = res.locals[PRINCIPAL] as Principal | undefined;
  if (principal === undefined) throw new Error('principalOf: this route has no requireRole/requireAuthentication handler');
  return principal;
}

/** The principal, or undefined for an anonymous caller (after `optionalAuthentication`). */
export function maybePrincipalOf(res: Response): Principal | undefined {
  return res.locals[PRINCIPAL] as Principal | undefined;
}
