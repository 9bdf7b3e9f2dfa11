import type { Request, Response } from 'express';
import { HttpError } from '../errors.js';
import { mediaType } from '../body.js';
import type { RouteTable } from '../routes.js';

/** Answers a TimeStampReq (any bytes) with a DER TimeStampResp; never throws for bad input. */
export interface TimeStampResponder {
  respond(request: Uint8Array): Promise<Buffer>;
  /** A TimeStampResp refusing a request too large to read (badDataFormat). */
  tooLarge(limit: number): Buffer;
}

export interface TsaRouteDeps {
  tsa: TimeStampResponder;
}

/** A TimeStampReq is under 200 bytes (a SHA-512 imprint, a nonce, certReq); anything near this is not one. */
export const TSA_BODY_LIMIT = 4 * 1024;

const QUERY_TYPE = 'application/timestamp-query';
const REPLY_TYPE = 'application/timestamp-reply';

/**
 * RFC 3161 §3.4, time-stamp protocol via HTTP: `POST /tsa` with `application/timestamp-query`,
 * answered `application/timestamp-reply`. Public (a time-stamp proves existence, not identity).
 * Every request that is a time-stamp query at the HTTP level gets HTTP 200 with a TimeStampResp,
 * as RFC 3161 clients expect: a granted token, or status rejection with the RFC's failInfo —
 * badDataFormat for bytes that are not a DER TimeStampReq (garbage included) and for a body above
 * 4 KiB (read no further), badAlg, badRequest, unacceptedPolicy, unacceptedExtension. Only a
 * request that is not a time-stamp query at all (another Content-Type) gets a 415 problem.
 */
export function tsaRoutes(deps: TsaRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('post', '/tsa', (req: Request, res: Response, next) => {
      const type = mediaType(req);
      if (type !== QUERY_TYPE) {
        next(
          new HttpError(
            'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
            `Content-Type must be ${QUERY_TYPE}${type === undefined ? ' (none given)' : `, not ${type}`}`,
            {
              detail: { accepted: [QUERY_TYPE] },
            },
          ),
        );
        return;
      }
      const reply = (der: Buffer): void => {
        res.statusCode = 200;
        res.setHeader('Content-Type', REPLY_TYPE);
        res.setHeader('Cache-Control', 'no-store');
        res.end(der);
      };
      const refuseTooLarge = (): void => {
        // Stop reading: the rest of the body is never buffered, and the connection is not reused.
        res.setHeader('Connection', 'close');
        reply(deps.tsa.tooLarge(TSA_BODY_LIMIT));
        req.resume();
      };
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > TSA_BODY_LIMIT) {
        refuseTooLarge();
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      let done = false;
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        length += chunk.length;
        if (length > TSA_BODY_LIMIT) {
          done = true;
          refuseTooLarge();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        deps.tsa.respond(Buffer.concat(chunks, length)).then(reply, next);
      });
      req.on('error', (error) => {
        if (done) return;
        done = true;
        next(new HttpError('ERR_HTTP_BAD_REQUEST', 'the request body could not be read', { cause: error }));
      });
    });
  };
}
