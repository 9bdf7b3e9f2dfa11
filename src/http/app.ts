import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { HttpError } from '../errors.js';
import type { Logger } from '../log.js';
import { HttpMetrics, routeLabel } from './metrics.js';
import { toProblem } from './problem.js';
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
}

export interface ChanceryApp {
  app: Express;
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

  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals['requestId'] = id;
    res.setHeader('X-Request-Id', id);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  app.use(metrics.middleware);
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      deps.logger.info(
        {
          reqId: res.locals['requestId'],
          method: req.method,
          route: routeLabel(req),
          status: res.statusCode,
          ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
        },
        'request',
      );
    });
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

  app.use((req, _res, next) => {
    next(new HttpError('ERR_HTTP_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.locals['requestId'] as string | undefined;
    const problem = toProblem(error, requestId);
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
    // Pushback (STYLE: overload is an explicit 503 + Retry-After, not a timeout).
    if (typeof problem['retryAfterSeconds'] === 'number') res.setHeader('Retry-After', String(problem['retryAfterSeconds']));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  });

  return { app, table, metrics };
}
