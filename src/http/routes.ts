import type { Express, RequestHandler } from 'express';
import { HttpError } from '../errors.js';

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

  get routes(): readonly RouteInfo[] {
    return this.#routes;
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
