import type { Request, RequestHandler } from 'express';
import { HttpError } from '../errors.js';
import type { PolicySet } from '../../policy/policy.js';
import type { Certificate } from '../../verify/certificate.js';
import { MAX_CONTENT_BYTES } from '../../verify/cms-parse.js';
import { verifyEnvelope } from '../../verify/envelope.js';
import { MAX_JWS_BYTES } from '../../verify/jws-parse.js';
import type { RevocationSource } from '../../verify/revocation.js';
import { ASIC_E_MIMETYPE, openEvidence } from '../../submissions/evidence.js';
import { verifyEvidenceReceipts } from '../../submissions/evidence-receipts.js';
import { verifyManifestTimestamp } from '../../submissions/evidence-timestamp.js';
import { mediaType, parseJsonBounded, rawBody } from '../body.js';
import { checkEnvelopeMediaType } from '../envelope-type.js';
import type { RouteTable } from '../routes.js';

/**
 * `POST /api/v1/verify`: stateless, public, not audit-logged. Validates
 * one envelope against the service's trust anchors and revocation data, at the service's clock,
 * and answers the validation report (src/verify/validation-report.ts) with 200 — whatever the
 * verdict. A request that is not a well-formed verification request is a 4xx problem.
 *
 * Request bodies:
 * - `application/cms` (or `application/pkcs7-mime`): the DER CMS SignedData, content encapsulated.
 * - `application/jose` (compact) or `application/jose+json` (flattened or general JSON): the JWS.
 * - `application/json` for a detached envelope: `{"cms": "<base64 DER>"}` or
 *   `{"jws": "<compact>" | {…JSON serialization…}}`, plus `"content": "<base64 of the document>"`.
 *
 * - `application/vnd.etsi.asic-e+zip`: an evidence container (GET /api/v1/submissions/{id}/evidence);
 *   its log proofs are checked against this service's own log key and serve as proofs of
 *   existence, and `policy=auto` is implied. A broken container is 400 ERR_SUBMISSION_EVIDENCE_INVALID.
 *
 * Query: `policy=<id>` applies a transaction policy (unknown: 422 ERR_POLICY_UNKNOWN);
 * `policy=auto` applies the policy named by the document's `type`; without it the signatures are
 * validated for the document-signing purpose alone.
 */

export interface VerifyRouteDeps {
  /** The trust material, asked per request (the CA chain exists only once the CA is initialized). */
  trust(): { anchors: readonly Certificate[]; intermediates: readonly Certificate[] };
  revocation: RevocationSource;
  policies: PolicySet;
  /** This service's log verifier key, pinned for evidence containers' log proofs. */
  logVerifierKey?: string;
  now?: () => Date;
}

/** Body limits: an envelope at its largest, and the JSON form with base64 overhead and content. */
export const VERIFY_RAW_LIMIT = MAX_JWS_BYTES;
export const VERIFY_JSON_LIMIT = Math.ceil(((MAX_JWS_BYTES + MAX_CONTENT_BYTES) * 4) / 3) + 4096;

const RAW_TYPES = ['application/cms', 'application/pkcs7-mime', 'application/jose', 'application/jose+json', ASIC_E_MIMETYPE];

export function verifyRoutes(deps: VerifyRouteDeps): (table: RouteTable) => void {
  const now = deps.now ?? (() => new Date());
  return (table) => {
    table.add('post', '/api/v1/verify', readVerifyBody(), async (req, res) => {
      const policyId = req.query['policy'];
      if (policyId !== undefined && typeof policyId !== 'string') throw new HttpError('ERR_HTTP_BAD_REQUEST', 'give policy at most once');
      const byType = policyId === 'auto';
      const policy = policyId === undefined || byType ? undefined : deps.policies.require(policyId);
      const request = res.locals['verifyRequest'] as VerifyRequest;
      const evidence = mediaType(req) === ASIC_E_MIMETYPE ? openEvidence(request.envelope, { logKey: deps.logVerifierKey }) : undefined;
      const { anchors, intermediates } = deps.trust();
      // A container's receipts must be the service seal's receipts of its proven transitions (400 otherwise).
      if (evidence !== undefined) {
        await verifyEvidenceReceipts(evidence, { anchors, intermediates, revocation: deps.revocation });
        await verifyManifestTimestamp(evidence, { anchors, intermediates, revocation: deps.revocation, time: now() });
      }
      const report = await verifyEnvelope({
        envelope: evidence?.envelope ?? request.envelope,
        content: evidence?.document ?? request.content,
        anchors,
        intermediates,
        revocation: deps.revocation,
        policy,
        policies: byType || (evidence !== undefined && policy === undefined) ? deps.policies : undefined,
        proofsOfExistence: evidence?.proofsOfExistence,
        time: now(),
        signaturesOnThreadPool: true,
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json(report);
    });
  };
}

interface VerifyRequest {
  envelope: Uint8Array;
  content: Uint8Array | undefined;
}

/** Reads the body by content type into `res.locals.verifyRequest`; malformed requests are 4xx. */
function readVerifyBody(): RequestHandler {
  const raw = rawBody(RAW_TYPES, VERIFY_RAW_LIMIT);
  const json = rawBody(['application/json'], VERIFY_JSON_LIMIT);
  return (req, res, next) => {
    const isJson = mediaType(req) === 'application/json';
    (isJson ? json : raw)(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        if (!isJson) checkEnvelopeMediaType(mediaType(req), req.body as Buffer);
        res.locals['verifyRequest'] = isJson ? parseJsonRequest(req) : { envelope: req.body as Buffer, content: undefined };
        next();
      } catch (parseError) {
        next(parseError);
      }
    });
  };
}

function parseJsonRequest(req: Request): VerifyRequest {
  // Bounded depth: the jws member is serialized again below, and JSON.stringify recurses.
  const body = parseJsonBounded((req.body as Buffer).toString('utf8'));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object with "cms" or "jws"');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!['cms', 'jws', 'content'].includes(key)) throw bad(`unknown member "${key.slice(0, 64)}" (expected cms or jws, and content)`);
  if ('cms' in b === 'jws' in b) throw bad('give exactly one of "cms" (base64 DER) and "jws" (compact string or JSON serialization)');
  let envelope: Uint8Array;
  if ('cms' in b) {
    envelope = strictBase64(b['cms'], 'cms');
  } else {
    const jws = b['jws'];
    if (typeof jws === 'string') envelope = Buffer.from(jws, 'utf8');
    else if (jws !== null && typeof jws === 'object' && !Array.isArray(jws)) envelope = Buffer.from(JSON.stringify(jws), 'utf8');
    else throw bad('"jws" must be a compact JWS string or a JWS JSON object');
  }
  const content = b['content'] === undefined ? undefined : strictBase64(b['content'], 'content');
  return { envelope, content };
}

/** Standard base64 (padding optional, no other characters); anything else is a 400. */
function strictBase64(value: unknown, name: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw bad(`"${name}" must be a non-empty base64 string`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 === 1) throw bad(`"${name}" is not base64`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) throw bad(`"${name}" is not canonical base64`);
  return bytes;
}

function bad(message: string): HttpError {
  return new HttpError('ERR_HTTP_BAD_REQUEST', message);
}
