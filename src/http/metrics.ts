import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (a registry per app, so tests can run several). */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route' | 'status'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: 'chancery_' });
    this.#requests = new Counter({
      name: 'chancery_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: 'chancery_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  /** Middleware: observes every request when its response finishes. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    this.track(req, res, () => routeLabel(req));
    next();
  };

  /** Observes one request when its response finishes, under the route pattern `route()` gives then. */
  track(req: IncomingMessage, res: ServerResponse, route: () => string): void {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const labels = { method: req.method ?? '', route: route(), status: String(res.statusCode) };
      this.#requests.inc(labels);
      this.#duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
  }
}

/** The matched route pattern, never the raw URL (bounded label cardinality). */
export function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}
