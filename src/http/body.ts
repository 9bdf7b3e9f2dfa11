import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './errors.js';

/** Default limits; routes that take envelopes pass their own. */
export const DEFAULT_JSON_LIMIT = 256 * 1024;

/**
 * Reads the whole body as bytes, refusing a content type outside `accepted` (415) and anything
 * longer than `limit` bytes (413) without buffering past the limit. Sets `req.body` to a Buffer.
 */
export function rawBody(accepted: readonly string[], limit: number): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const type = mediaType(req);
    if (type === undefined || !accepted.includes(type)) {
      next(
        new HttpError(
          'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
          `Content-Type must be ${accepted.join(' or ')}${type === undefined ? ' (none given)' : `, not ${type}`}`,
          { detail: { accepted } },
        ),
      );
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      next(tooLarge(limit));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      length += chunk.length;
      if (length > limit) {
        failed = true;
        next(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      req.body = Buffer.concat(chunks, length);
      next();
    });
    req.on('error', (error) => {
      if (!failed) {
        failed = true;
        next(new HttpError('ERR_HTTP_BAD_REQUEST', 'the request body could not be read', { cause: error }));
      }
    });
  };
}

/** JSON body (application/json or +json types), parsed; malformed JSON is a 400. */
export function jsonBody(limit: number = DEFAULT_JSON_LIMIT, accepted: readonly string[] = ['application/json']): RequestHandler {
  const read = rawBody(accepted, limit);
  return (req, res, next) => {
    read(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        req.body = JSON.parse((req.body as Buffer).toString('utf8')) as unknown;
        next();
      } catch (parseError) {
        next(
          new HttpError('ERR_HTTP_MALFORMED_JSON', `the body is not valid JSON: ${(parseError as Error).message}`, {
            cause: parseError,
          }),
        );
      }
    });
  };
}

/** The request's media type without parameters, lowercased. */
export function mediaType(req: Request): string | undefined {
  const header = req.headers['content-type'];
  if (header === undefined || header === '') return undefined;
  return header.split(';')[0]!.trim().toLowerCase();
}

function tooLarge(limit: number): HttpError {
  return new HttpError('ERR_HTTP_BODY_TOO_LARGE', `the body is larger than the limit of ${limit} bytes for this route`, {
    detail: { limit },
  });
}
