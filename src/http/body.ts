import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './errors.js';

/** Default limits; routes that take envelopes pass their own. */
export const DEFAULT_JSON_LIMIT = 256 * 1024;
/**
 * Deepest nesting of objects and arrays a JSON body may have. No request of the API nests more
 * than a few levels; a much deeper value parses, but then overflows the stack of the first
 * recursive walk over it (JSON.stringify, a validator), which would be a 500.
 */
export const MAX_JSON_DEPTH = 64;

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
        req.body = parseJsonBounded((req.body as Buffer).toString('utf8'));
        next();
      } catch (parseError) {
        next(parseError);
      }
    });
  };
}

/**
 * JSON.parse behind a depth check: nesting deeper than `maxDepth` is ERR_HTTP_JSON_TOO_DEEP and
 * malformed text ERR_HTTP_MALFORMED_JSON, both 400s. The check is one linear scan that skips
 * string contents, so it costs little next to the parse itself.
 */
export function parseJsonBounded(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip to the closing quote; a backslash escapes the character after it.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) {
        throw new HttpError('ERR_HTTP_JSON_TOO_DEEP', `the body nests objects and arrays deeper than ${maxDepth} levels`, {
          detail: { maxDepth },
        });
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (parseError) {
    throw new HttpError('ERR_HTTP_MALFORMED_JSON', `the body is not valid JSON: ${(parseError as Error).message}`, { cause: parseError });
  }
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
