import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { randomUuid } from '../crypto/digest.js';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { maybePrincipalOf } from './auth-middleware.js';
import { HttpError } from './errors.js';
import type { Logger } from '../log.js';
import { HttpMetrics, routeLabel } from './metrics.js';
import { toProblem } from './problem.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { RouteTable } from './routes.js';

/** What `/readyz` asks: is the database reachable and fully migrated? */
export type ReadinessCheck = () => Promise<{ ready: boolean; reason?: string }>;

export interface AppDeps {
  logger: Logger;
  version: string;
  readiness: ReadinessCheck;
  metrics?: HttpMetrics;
  /** Route registrations of the domain parts, composed by the caller. */
  routes?: ReadonlyArray<(table: RouteTable) => void>;
  /** Per-client limit on refused authentications and login challenges (RateLimiter); false: none. */
  rateLimit?: RateLimitOptions | false;
  /** Another transport's handler (the web pages), tried after the API's routes and before 404. */
  pages?: RequestHandler;
}

/** Routes a rate-limited client is still answered on: health checks and metrics. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

export interface ChanceryApp {
  app: Express;
  /** The request listener to serve: lean routes (RouteTable.addLean) directly, the rest through `app`. */
  listener: RequestListener;
  table: RouteTable;
  metrics: HttpMetrics;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the HTTP app from its dependencies: ops routes, the domain's routes, 404/405 and one
 * error handler that answers RFC 9457 problem documents (never a stack trace).
 */
export function createApp(deps: AppDeps): ChanceryApp {
  const app = express();
  const metrics = deps.metrics ?? new HttpMetrics();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // What every request gets, through express or directly: a request id, metrics, a log line.
  const identify = (req: IncomingMessage, res: Response): void => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUuid();
    res.locals['requestId'] = id;
    res.setHeader('X-Request-Id', id);
    res.setHeader('X-Content-Type-Options', 'nosniff');
  };
  const logWhenFinished = (req: IncomingMessage, res: Response, route: () => string): void => {
    if (!deps.logger.isLevelEnabled('info')) return;
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      deps.logger.info(
        {
          reqId: res.locals['requestId'],
          method: req.method,
          route: route(),
          status: res.statusCode,
          // Who asked, and the problem code of a refusal: what an operator greps for.
          actor: maybePrincipalOf(res)?.actor,
          code: res.locals['problemCode'] as string | undefined,
          ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
        },
        'request',
      );
    });
  };
  app.use((req, res, next) => {
    identify(req, res);
    metrics.track(req, res, () => routeLabel(req));
    logWhenFinished(req, res, () => routeLabel(req));
    next();
  });

  const table = new RouteTable();
  table.add('get', '/healthz', (_req, res) => {
    res.json({ status: 'ok', version: deps.version });
  });
  table.add('get', '/readyz', async (_req, res, next) => {
    const state = await deps.readiness();
    if (state.ready) {
      res.json({ status: 'ready' });
    } else {
      next(new HttpError('ERR_HTTP_NOT_READY', state.reason ?? 'not ready'));
    }
  });
  table.add('get', '/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  for (const register of deps.routes ?? []) register(table);
  table.mount(app);
  if (deps.pages !== undefined) app.use(deps.pages);

  app.use((req, _res, next) => {
    next(new HttpError('ERR_HTTP_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  // One error answer for both ways in (node's response API only, so lean routes share it).
  const answerError = (error: unknown, req: Request, res: Response): void => {
    const requestId = res.locals['requestId'] as string | undefined;
    const problem = toProblem(error, requestId);
    res.locals['problemCode'] = problem.code;
    if (problem.status >= 500) {
      deps.logger.error({ reqId: requestId, err: error, method: req.method, url: req.originalUrl }, 'request failed');
    } else {
      deps.logger.debug({ reqId: requestId, code: problem.code }, problem.detail);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (problem.status === 413) res.setHeader('Connection', 'close');
    // Pushback: overload is an explicit 503 + Retry-After, not a timeout.
    if (typeof problem['retryAfterSeconds'] === 'number') res.setHeader('Retry-After', String(problem['retryAfterSeconds']));
    const body = Buffer.from(JSON.stringify(problem), 'utf8');
    res.statusCode = problem.status;
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.setHeader('Content-Length', String(body.length));
    res.end(body);
  };
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => answerError(error, req, res));

  const limiter = deps.rateLimit === false ? undefined : new RateLimiter(deps.rateLimit ?? DEFAULT_RATE_LIMIT);
  const lean = table.lean;
  const listener: RequestListener = (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    if (limiter !== undefined && !UNLIMITED.has(query < 0 ? url : url.slice(0, query))) {
      const wait = limiter.admit(req, res);
      if (wait !== undefined) {
        const r = res as Response;
        r.locals = Object.create(null) as Response['locals'];
        (req as Request).originalUrl = url;
        identify(req, r);
        metrics.track(req, r, () => 'rate-limited');
        const error = new HttpError('ERR_HTTP_RATE_LIMITED', `too many refused requests from this client; try again in ${wait} s`, {
          detail: { retryAfterSeconds: wait },
        });
        answerError(error, req as Request, r);
        return;
      }
    }
    const route = lean.size === 0 ? undefined : lean.get(`${req.method} ${query < 0 ? url : url.slice(0, query)}`);
    if (route === undefined) {
      app(req, res);
      return;
    }
    serveLean(route.path, route.handlers, req, res);
  };

  /**
   * A lean route without express: what express would do for it (res.locals, req.originalUrl, the
   * handlers in turn, a rejected promise or next(error) answered as a problem), at a fraction of
   * the cost (RouteTable.addLean).
   */
  const serveLean = (path: string, handlers: readonly RequestHandler[], nodeReq: IncomingMessage, nodeRes: ServerResponse): void => {
    // The handlers of a lean route use only node's API plus these members (RouteTable.addLean).
    const req = nodeReq as Request;
    const res = nodeRes as Response;
    res.locals = Object.create(null) as Response['locals'];
    req.originalUrl = nodeReq.url ?? path;
    identify(req, res);
    metrics.track(req, res, () => path);
    logWhenFinished(req, res, () => path);
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined) {
        answerError(error, req, res);
        return;
      }
      const handler = handlers[index++];
      if (handler === undefined) {
        answerError(new Error(`the handlers of ${req.method} ${path} ended without an answer`), req, res);
        return;
      }
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise)
          result.catch((rejection: unknown) => next(rejection ?? new Error('a handler rejected without a reason')));
      } catch (thrown) {
        next(thrown ?? new Error('a handler threw without a reason'));
      }
    };
    next();
  };

  return { app, listener, table, metrics };
}
