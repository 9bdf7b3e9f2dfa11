import type { RequestHandler } from 'express';
import { jsonBody } from '../body.js';

/** A JSON body that may be left out entirely (no Content-Type, no bytes): then `{}`. */
export function optionalJsonBody(limit = 16 * 1024): RequestHandler {
  const read = jsonBody(limit);
  return (req, res, next) => {
    const length = req.headers['content-length'];
    if (
      req.headers['content-type'] === undefined &&
      (length === undefined || length === '0') &&
      req.headers['transfer-encoding'] === undefined
    ) {
      req.body = {};
      next();
      return;
    }
    read(req, res, next);
  };
}
