import type { Request, Response } from 'express';
import type { DenialContext } from '../../auth/auth-service.js';
import type { Principal } from '../../auth/principal.js';
import { principalOf, requireAuthentication, type Authenticator } from '../auth-middleware.js';
import { jsonBody } from '../body.js';
import type { RouteTable } from '../routes.js';

/** Login as the routes see it: a single-use challenge, and a token for its signed answer. */
export interface Login extends Authenticator {
  challenge(): Promise<{ nonce: string; expiresAt: string }>;
  login(body: unknown, context: DenialContext): Promise<{ token: string; expiresAt: string; principal: Principal }>;
}

export interface AuthRouteDeps {
  auth: Login;
  /** Told the problem code of every refused login (for metrics). */
  onLoginRefused?: (code: string) => void;
}

/**
 * Login: `GET /api/v1/auth/challenge` → `{nonce, expiresAt}`;
 * `POST /api/v1/auth/token` with `{"jws": "<compact JWS over {\"nonce\": …}, x5c header>"}` →
 * `{token, tokenType: "Bearer", expiresAt, principal}`; `GET /api/v1/auth/whoami` echoes the
 * principal of a bearer token.
 */
export function authRoutes(deps: AuthRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('get', '/api/v1/auth/challenge', async (_req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await deps.auth.challenge());
    });

    table.add('post', '/api/v1/auth/token', jsonBody(64 * 1024), async (req: Request, res: Response) => {
      let answer: Awaited<ReturnType<Login['login']>>;
      try {
        answer = await deps.auth.login(req.body, { method: req.method, path: req.path });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        deps.onLoginRefused?.(typeof code === 'string' ? code : 'ERR_HTTP_INTERNAL');
        throw error;
      }
      const { token, expiresAt, principal } = answer;
      res.setHeader('Cache-Control', 'no-store');
      res.json({ token, tokenType: 'Bearer', expiresAt, principal });
    });

    table.add('get', '/api/v1/auth/whoami', requireAuthentication(deps.auth), (_req: Request, res: Response) => {
      res.json(principalOf(res));
    });
  };
}
