import type { Request, Response } from 'express';
import { OCSP_STATUS, statusOnly } from '../../ca/ocsp-responder.js';
import { rawBody } from '../body.js';
import type { RouteTable } from '../routes.js';

/** Answers a DER OCSPRequest with a DER OCSPResponse, and how long it may be cached. */
export interface OcspAnswerer {
  respond(request: Buffer): Promise<{ der: Buffer; cacheableSeconds: number }>;
}

export interface OcspRouteDeps {
  ocsp: OcspAnswerer;
}

/** An OCSP request is a few hundred bytes (RFC 6960); anything near this is not one. */
const OCSP_BODY_LIMIT = 16 * 1024;

/**
 * RFC 6960 Appendix A: `POST /ocsp` (application/ocsp-request) and `GET /ocsp/{url-encoded
 * base64 of the DER request}`. Every answer that reaches the responder is HTTP 200 with an
 * OCSPResponse; a malformed request is the OCSP `malformedRequest` status, never a 5xx.
 */
export function ocspRoutes(deps: OcspRouteDeps): (table: RouteTable) => void {
  const send = async (res: Response, der: Buffer | undefined, get: boolean): Promise<void> => {
    const answer =
      der === undefined ? { der: statusOnly(OCSP_STATUS.malformedRequest), cacheableSeconds: 0 } : await deps.ocsp.respond(der);
    res.setHeader('Content-Type', 'application/ocsp-response');
    // RFC 5019 §6: GET responses may be cached; a revocation invalidates ours within seconds.
    res.setHeader(
      'Cache-Control',
      get && answer.cacheableSeconds > 0 ? `public, no-transform, must-revalidate, max-age=${answer.cacheableSeconds}` : 'no-cache',
    );
    res.end(answer.der);
  };
  return (table) => {
    table.add('post', '/ocsp', rawBody(['application/ocsp-request'], OCSP_BODY_LIMIT), async (req: Request, res: Response) => {
      await send(res, req.body as Buffer, false);
    });

    table.add('get', '/ocsp/*request', async (req: Request, res: Response) => {
      const segments = req.params['request'] as unknown as string[] | string;
      const text = Array.isArray(segments) ? segments.join('/') : segments;
      const der = text.length <= OCSP_BODY_LIMIT && /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
      await send(res, der, true);
    });
  };
}
