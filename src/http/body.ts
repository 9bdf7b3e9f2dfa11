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

/** Bounds on request bodies held in memory at once, across all requests and per client address. */
export interface BodyLimits {
  /** Bytes of bodies buffered across all requests; beyond it a 503 ERR_HTTP_OVERLOADED. */
  totalBytes: number;
  /** Bytes of bodies buffered for one client address; beyond it a 429 ERR_HTTP_RATE_LIMITED. */
  perClientBytes: number;
  /** Milliseconds a body may take to arrive in full; beyond it a 408 ERR_HTTP_BODY_TIMEOUT. */
  timeoutMs: number;
  /** The Retry-After of those answers, in seconds. */
  retryAfterSeconds: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = {
  totalBytes: 128 * 1024 * 1024,
  perClientBytes: 32 * 1024 * 1024,
  timeoutMs: 30_000,
  retryAfterSeconds: 2,
};

/**
 * The bytes of request bodies this process holds. A body's bytes are counted from its first
 * chunk until its response is done or its connection closes (then the Buffer is garbage), so
 * stalled or abandoned uploads cannot pile up: the next one past a bound is refused at once.
 */
export class BodyBudget {
  limits: BodyLimits;
  #total = 0;
  readonly #byClient = new Map<string, number>();

  constructor(limits: BodyLimits = DEFAULT_BODY_LIMITS) {
    this.limits = { ...limits };
  }

  /** Bytes held now, in all and for one client. */
  held(client?: string): number {
    return client === undefined ? this.#total : (this.#byClient.get(client) ?? 0);
  }

  /** Counts `n` more bytes for `client`, or says which bound they would cross (and counts nothing). */
  take(client: string, n: number): 'ok' | 'client' | 'total' {
    const mine = this.#byClient.get(client) ?? 0;
    if (mine + n > this.limits.perClientBytes) return 'client';
    if (this.#total + n > this.limits.totalBytes) return 'total';
    this.#byClient.set(client, mine + n);
    this.#total += n;
    return 'ok';
  }

  give(client: string, n: number): void {
    if (n === 0) return;
    this.#total -= n;
    const left = (this.#byClient.get(client) ?? 0) - n;
    if (left <= 0) this.#byClient.delete(client);
    else this.#byClient.set(client, left);
  }
}

/** The one budget of this process's HTTP server (tests may set its limits). */
export const bodyBudget = new BodyBudget();

/**
 * Reads the whole body as bytes, refusing a content type outside `accepted` (415) and anything
 * longer than `limit` bytes (413) without buffering past the limit. Sets `req.body` to a Buffer.
 * What it holds counts against `bodyBudget` (503 past the total, 429 past the client's share),
 * and a body that takes longer than the budget's timeout is a 408.
 */
export function rawBody(accepted: readonly string[], limit: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
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
    const budget = bodyBudget;
    const client = req.socket.remoteAddress ?? 'unknown';
    let chunks: Buffer[] = [];
    let length = 0;
    let held = 0;
    let failed = false;
    const release = (): void => {
      budget.give(client, held);
      held = 0;
    };
    // Refused before the whole body arrived: answer, stop holding anything, and close the
    // connection after the answer (what is still coming is read and dropped, never kept).
    const fail = (error: HttpError): void => {
      failed = true;
      clearTimeout(timer);
      chunks = [];
      release();
      if (!res.headersSent) res.setHeader('Connection', 'close');
      next(error);
    };
    const timer = setTimeout(() => {
      if (failed) return;
      fail(
        new HttpError('ERR_HTTP_BODY_TIMEOUT', `the body did not arrive within ${budget.limits.timeoutMs} ms`, {
          detail: { timeoutMs: budget.limits.timeoutMs },
        }),
      );
    }, budget.limits.timeoutMs);
    timer.unref();
    // The answer is done or the client went away: the body is garbage from here on.
    res.once('close', () => {
      clearTimeout(timer);
      chunks = [];
      release();
    });
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      length += chunk.length;
      if (length > limit) {
        fail(tooLarge(limit));
        return;
      }
      const taken = budget.take(client, chunk.length);
      if (taken !== 'ok') {
        fail(overBudget(taken, budget.limits));
        return;
      }
      held += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      clearTimeout(timer);
      req.body = Buffer.concat(chunks, length);
      chunks = [];
      next();
    });
    req.on('error', (error) => {
      if (!failed) fail(new HttpError('ERR_HTTP_BAD_REQUEST', 'the request body could not be read', { cause: error }));
    });
  };
}

function overBudget(which: 'client' | 'total', limits: BodyLimits): HttpError {
  const detail = { retryAfterSeconds: limits.retryAfterSeconds };
  return which === 'client'
    ? new HttpError('ERR_HTTP_RATE_LIMITED', 'this client has too many request bodies in transit; try again shortly', { detail })
    : new HttpError('ERR_HTTP_OVERLOADED', 'the server holds as many request bodies as it will; try again shortly', { detail });
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
