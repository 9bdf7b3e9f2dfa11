import type { Express, RequestHandler } from 'express';
import { HttpError } from './errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteInfo {
  method: Method;
  /** Express path pattern, e.g. `/api/v1/submissions/:id`. */
  path: string;
}

/**
 * Where route modules register their endpoints. Knowing every (method, path) lets the app answer
 * 405 with an `Allow` header for a known path, and lets a test compare the routes against the
 * OpenAPI document.
 */
export class RouteTable {
  readonly #routes: RouteInfo[] = [];
  readonly #handlers = new Map<string, Map<Method, RequestHandler[]>>();
  readonly #lean = new Map<string, { path: string; handlers: RequestHandler[] }>();

  add(method: Method, path: string, ...handlers: RequestHandler[]): void {
    let byMethod = this.#handlers.get(path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#handlers.set(path, byMethod);
    }
    if (byMethod.has(method)) throw new Error(`route ${method.toUpperCase()} ${path} registered twice`);
    byMethod.set(method, handlers);
    this.#routes.push({ method, path });
  }

  /**
   * `add` for a hot route: a request for exactly this method and path (no parameters) skips
   * express's per-request machinery (prototype swaps on the request and response, the router's
   * walk: ~0.1 ms of CPU each time) and is dispatched directly by createApp's listener, with the
   * same request id, metrics, request log and problem documents. Anything else about the path (a
   * trailing slash, another method) still goes through express. The handlers MUST use only
   * node's request and response plus `res.locals`, `req.originalUrl` and `req.body`: no express
   * helpers (`res.json`, `res.status`, `req.params`, `req.query`, …).
   */
  addLean(method: Method, path: string, ...handlers: RequestHandler[]): void {
    if (path.includes(':') || path.includes('*')) throw new Error(`lean route ${path} must be a plain path`);
    this.add(method, path, ...handlers);
    this.#lean.set(`${method.toUpperCase()} ${path}`, { path, handlers });
  }

  get routes(): readonly RouteInfo[] {
    return this.#routes;
  }

  /** Lean routes by `METHOD /path`. */
  get lean(): ReadonlyMap<string, { path: string; handlers: readonly RequestHandler[] }> {
    return this.#lean;
  }

  /** Mounts every route on the app, each path answering other methods with 405. */
  mount(app: Express): void {
    for (const [path, byMethod] of this.#handlers) {
      const route = app.route(path);
      const allowed = [...byMethod.keys()].map((m) => m.toUpperCase());
      if (allowed.includes('GET')) allowed.push('HEAD');
      for (const [method, handlers] of byMethod) route[method](...handlers);
      route.all((_req, res, next) => {
        res.setHeader('Allow', allowed.join(', '));
        next(new HttpError('ERR_HTTP_METHOD_NOT_ALLOWED', `this resource allows ${allowed.join(', ')}`, { detail: { allow: allowed } }));
      });
    }
  }
}

/** A module that contributes routes; it receives what it needs when the app is composed. */
export type RouteModule<D> = (table: RouteTable, deps: D) => void;
