import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Principal } from '../../auth/principal.js';
import type { EnvelopeUpload, RequestContext, TransitionResult } from '../../submissions/service.js';
import type { SubmissionStatus, SubmissionSummary, SubmissionView } from '../../submissions/types.js';
import { maybePrincipalOf, optionalAuthentication, principalOf, requireRole, type Authenticator } from '../auth-middleware.js';
import { HttpError } from '../errors.js';
import { MAX_CONTENT_BYTES, MAX_ENVELOPE_BYTES } from '../../verify/cms-parse.js';
import { MAX_JWS_BYTES } from '../../verify/jws-parse.js';
import { mediaType, rawBody } from '../body.js';
import { checkEnvelopeMediaType } from '../envelope-type.js';
import type { RouteTable } from '../routes.js';

/**
 * Submission routes. Thin: read the body, authorize the
 * caller's role, call the SubmissionService, render. The service decides what a caller may see.
 *
 * `POST /api/v1/submissions` takes one of:
 * - `application/cms` (or `application/pkcs7-mime`): DER CMS SignedData with the document
 *   encapsulated;
 * - `application/jose+json` (General or Flattened JSON) or `application/jose` (compact): a JWS
 *   with its payload;
 * - `multipart/form-data` for a detached envelope: a part named `envelope` (the DER CMS, or the
 *   JWS text, with its own Content-Type `application/cms` or `application/jose+json`) and a part
 *   named `content` (the signed document's exact bytes, `application/json`). Nothing else.
 * No token is needed (the signature authenticates the applicant); when one is given it must be
 * the applicant enterprise's. 201 for a new submission (accepted or pending), 200 with
 * `"existing": true` for the same envelope (or the same application) again, 422 problem with the
 * report and receipt when rejected.
 *
 * `POST /api/v1/submissions/{id}/countersignatures` (officer): the body is the current envelope
 * with the officer's countersignature added, `application/cms` or `application/jose+json`.
 */

/** The submission workflow as these routes use it; it authorizes each caller itself. */
export interface SubmissionWorkflow {
  submit(upload: EnvelopeUpload, caller: Principal | undefined, context: RequestContext): Promise<TransitionResult>;
  list(
    query: { status?: unknown; after?: unknown; limit?: unknown; signedBy?: unknown },
    caller: Principal,
    context: RequestContext,
  ): Promise<{ items: SubmissionSummary[]; next: string | null }>;
  get(id: string, caller: Principal, context: RequestContext): Promise<SubmissionView>;
  envelope(id: string, caller: Principal, context: RequestContext): Promise<{ format: 'cms' | 'jws'; bytes: Buffer }>;
  document(id: string, caller: Principal, context: RequestContext): Promise<Buffer>;
  evidence(id: string, caller: Principal, context: RequestContext): Promise<Buffer>;
  receipt(
    id: string,
    caller: Principal,
    context: RequestContext,
    logIndex?: number,
  ): Promise<{ receipt: string; logIndex: number; status: SubmissionStatus }>;
  countersign(id: string, upload: EnvelopeUpload, caller: Principal, context: RequestContext): Promise<TransitionResult>;
}

export interface SubmissionRouteDeps {
  submissions: SubmissionWorkflow;
  auth: Authenticator;
}

const CMS_TYPES = ['application/cms', 'application/pkcs7-mime'];
const JWS_TYPES = ['application/jose+json', 'application/jose'];
const ENVELOPE_LIMIT = Math.max(MAX_ENVELOPE_BYTES, MAX_JWS_BYTES);
const MULTIPART_LIMIT = ENVELOPE_LIMIT + MAX_CONTENT_BYTES + 4096;
const READERS = ['enterprise', 'officer', 'auditor'] as const;

export function submissionRoutes(deps: SubmissionRouteDeps): (table: RouteTable) => void {
  const { submissions, auth } = deps;
  return (table) => {
    // Lean (RouteTable.addLean): the load of submissions skips express; these handlers use only
    // node's request and response, res.locals, req.originalUrl and req.body.
    table.addLean(
      'post',
      '/api/v1/submissions',
      optionalAuthentication(auth),
      onlyEnterpriseTokens(auth),
      readSubmission(),
      async (req: Request, res: Response) => {
        const result = await submissions.submit(res.locals['upload'] as Upload, maybePrincipalOf(res), context(req));
        sendTransition(res, result, result.outcome === 'created' ? 201 : 200);
      },
    );

    table.add('get', '/api/v1/submissions', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      res.json(
        await submissions.list(
          { status: req.query['status'], after: req.query['after'], limit: req.query['limit'], signedBy: req.query['signedBy'] },
          principalOf(res),
          context(req),
        ),
      );
    });

    table.add('get', '/api/v1/submissions/:id', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await submissions.get(param(req), principalOf(res), context(req)));
    });

    table.add('get', '/api/v1/submissions/:id/envelope', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      const { format, bytes } = await submissions.envelope(param(req), principalOf(res), context(req));
      res.setHeader('Cache-Control', 'no-store');
      res.type(format === 'cms' ? 'application/cms' : 'application/jose+json').send(bytes);
    });

    table.add('get', '/api/v1/submissions/:id/evidence', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      const bytes = await submissions.evidence(param(req), principalOf(res), context(req));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Disposition', 'attachment; filename="evidence.asice"');
      res.type('application/vnd.etsi.asic-e+zip').send(bytes);
    });

    table.add('get', '/api/v1/submissions/:id/document', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      const bytes = await submissions.document(param(req), principalOf(res), context(req));
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/json').send(bytes);
    });

    table.add('get', '/api/v1/submissions/:id/receipt', requireRole(auth, ...READERS), async (req: Request, res: Response) => {
      const index = req.query['index'];
      if (index !== undefined && (typeof index !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(index))) {
        throw new HttpError('ERR_HTTP_BAD_REQUEST', 'index must be a log index (a non-negative decimal integer), given once');
      }
      const found = await submissions.receipt(param(req), principalOf(res), context(req), index === undefined ? undefined : Number(index));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Chancery-Log-Index', String(found.logIndex));
      res.type('application/jose').send(found.receipt);
    });

    table.add(
      'post',
      '/api/v1/submissions/:id/countersignatures',
      requireRole(auth, 'officer'),
      rawBody([...CMS_TYPES, ...JWS_TYPES], ENVELOPE_LIMIT),
      async (req: Request, res: Response) => {
        checkEnvelopeMediaType(mediaType(req), req.body as Buffer);
        const result = await submissions.countersign(param(req), { envelope: req.body as Buffer }, principalOf(res), context(req));
        sendTransition(res, result, 200);
      },
    );
  };
}

interface Upload {
  envelope: Buffer;
  content?: Buffer;
}

function sendTransition(res: Response, result: TransitionResult, status: number): void {
  const id = result.submission.id;
  // The hot path: one JSON.stringify and one write, without express's send() machinery.
  res.statusCode = status;
  if (status === 201) res.setHeader('Location', `/api/v1/submissions/${id}`);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(
    JSON.stringify({
      ...result.submission,
      ...(result.outcome === 'existing' ? { existing: true } : {}),
      receipt: result.receipt,
      logIndex: result.logIndex,
      links: {
        self: `/api/v1/submissions/${id}`,
        envelope: `/api/v1/submissions/${id}/envelope`,
        receipt: `/api/v1/submissions/${id}/receipt`,
      },
    }),
  );
}

function context(req: Request): { method: string; path: string } {
  return { method: req.method, path: req.originalUrl.split('?')[0] ?? req.path };
}

function param(req: Request): string {
  return String(req.params['id']);
}

/** A token on a submission must be an enterprise's (the service checks it is the applicant's). */
function onlyEnterpriseTokens(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    const who = maybePrincipalOf(res);
    if (who === undefined || who.role === 'enterprise') {
      next();
      return;
    }
    auth.authorize(who, ['enterprise'], context(req)).then(() => next(), next);
  };
}

/** Reads the envelope (and a detached document) by content type into `res.locals.upload`. */
function readSubmission(): RequestHandler {
  const single = rawBody([...CMS_TYPES, ...JWS_TYPES, 'multipart/form-data'], MULTIPART_LIMIT);
  return (req: Request, res: Response, next: NextFunction) => {
    single(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        const body = req.body as Buffer;
        if (mediaType(req) === 'multipart/form-data') {
          res.locals['upload'] = readMultipart(body, req.headers['content-type'] ?? '');
        } else {
          if (body.length > ENVELOPE_LIMIT)
            throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `an envelope is at most ${ENVELOPE_LIMIT} bytes`, {
              detail: { limit: ENVELOPE_LIMIT },
            });
          checkEnvelopeMediaType(mediaType(req), body);
          res.locals['upload'] = { envelope: body };
        }
        next();
      } catch (parseError) {
        next(parseError);
      }
    });
  };
}

/**
 * The documented multipart/form-data form (RFC 7578): exactly a part named `envelope` and at most
 * one named `content`, each with a `Content-Disposition: form-data; name="…"` header. Strict: a
 * missing boundary, an unknown or repeated part, or a missing final delimiter is a 400.
 */
export function readMultipart(body: Buffer, contentType: string): Upload {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) throw bad('multipart/form-data needs a boundary parameter');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = body.indexOf(delimiter);
  if (at < 0) throw bad('the multipart body has no part');
  const parts = new Map<string, Buffer>();
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break; // "--": the close delimiter
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw bad('a multipart delimiter must end its line');
    const headersEnd = body.indexOf('\r\n\r\n', at + 2, 'latin1');
    if (headersEnd < 0) throw bad('a multipart part has no end of headers');
    const headers = body.subarray(at + 2, headersEnd).toString('latin1');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), headersEnd + 4);
    if (next < 0) throw bad('the multipart body has no closing delimiter');
    const name = /^content-disposition:\s*form-data;(?:.*;)?\s*name="([^"]*)"/im.exec(headers)?.[1];
    if (name !== 'envelope' && name !== 'content')
      throw bad(`unknown multipart part ${JSON.stringify(name ?? null)}; the parts are "envelope" and "content"`);
    if (parts.has(name)) throw bad(`the multipart part "${name}" is given twice`);
    parts.set(name, body.subarray(headersEnd + 4, next));
    at = next + 2;
  }
  const envelope = parts.get('envelope');
  if (envelope === undefined) throw bad('the multipart form has no "envelope" part');
  const content = parts.get('content');
  if (envelope.length > ENVELOPE_LIMIT)
    throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `an envelope is at most ${ENVELOPE_LIMIT} bytes`, { detail: { limit: ENVELOPE_LIMIT } });
  if (content !== undefined && content.length > MAX_CONTENT_BYTES)
    throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `a document is at most ${MAX_CONTENT_BYTES} bytes`, {
      detail: { limit: MAX_CONTENT_BYTES },
    });
  return content === undefined ? { envelope } : { envelope, content };
}

function bad(message: string): HttpError {
  return new HttpError('ERR_HTTP_BAD_REQUEST', message);
}
