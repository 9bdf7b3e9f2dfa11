import { problemType, STATUS_BY_CODE, type ProblemCode } from './problem.js';
import type { RouteInfo, RouteTable } from './routes.js';
import { VERSION } from '../version.js';

/**
 * The OpenAPI 3.1 document of every route the app serves (`GET /openapi.json`). Built from the
 * RouteTable's list of routes and the descriptions below: a route the app serves without a
 * description here is left out of the document and reported by `undocumentedRoutes`, which the
 * test suite asserts is empty — adding a route means describing it. Problem types are the
 * `urn:chancery:problem:*` URIs of src/http/problem.ts, listed per response status.
 */

type Schema = Record<string, unknown>;

interface Operation {
  summary: string;
  tag: string;
  /** Who may call it: `public`, or the roles whose bearer token it takes (`optional`: token optional). */
  access: 'public' | 'optional' | Array<'admin' | 'enterprise' | 'officer' | 'auditor'>;
  description?: string;
  query?: Array<{ name: string; schema: Schema; description: string; required?: boolean }>;
  body?: { required: boolean; content: Record<string, Schema>; description?: string };
  /** Success responses: status → description and content. */
  ok: Record<string, { description: string; content?: Record<string, Schema>; headers?: Record<string, string> }>;
  /** Error codes this operation answers with (besides the common ones). */
  problems?: ProblemCode[];
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema): Record<string, Schema> => ({ 'application/json': schema });
const text = (mediaType: string): Record<string, Schema> => ({ [mediaType]: { type: 'string' } });
const binary = (mediaType: string): Record<string, Schema> => ({ [mediaType]: { type: 'string', contentMediaType: mediaType } });
const page = (item: string): Schema => ({
  type: 'object',
  required: ['items', 'next'],
  properties: {
    items: { type: 'array', items: ref(item) },
    next: { type: ['string', 'null'], description: 'cursor for the next page (`after=`), null at the end' },
  },
});
const AUTH_PROBLEMS: ProblemCode[] = ['ERR_AUTH_TOKEN_MISSING', 'ERR_AUTH_TOKEN_INVALID', 'ERR_AUTH_FORBIDDEN'];
const ENVELOPE_TYPES = {
  'application/cms': { type: 'string', contentMediaType: 'application/cms', description: 'DER CMS SignedData' },
  'application/jose+json': { type: 'object', description: 'JWS, General or Flattened JSON Serialization' },
  'application/jose': { type: 'string', description: 'JWS, compact serialization' },
};
const REJECTIONS: ProblemCode[] = [
  'ERR_SUBMISSION_UNKNOWN_TYPE',
  'ERR_SUBMISSION_DOCUMENT_INVALID',
  'ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE',
  'ERR_SUBMISSION_APPLICANT_MISMATCH',
  'ERR_SUBMISSION_ENTERPRISE_UNKNOWN',
  'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE',
  'ERR_SUBMISSION_CERTIFICATE_REVOKED',
  'ERR_SUBMISSION_SIGNATURE_INVALID',
  'ERR_SUBMISSION_PRECOUNTERSIGNED',
];

/** Every route Chancery serves, keyed `METHOD express-path`. */
/** Body, answer and problems of the two ways an enterprise ends (revoke, deregister). */
const endEnterprise = (status: 'revoked' | 'deregistered'): Pick<Operation, 'body' | 'ok' | 'problems'> => ({
  body: { required: false, content: json({ type: 'object', properties: { reason: { type: 'string' } } }) },
  ok: {
    '200': {
      description: status,
      content: json({
        type: 'object',
        properties: { enterprise: ref('Enterprise'), revokedCertificates: { type: 'array', items: { type: 'string' } } },
      }),
    },
  },
  problems: ['ERR_REGISTRY_ENTERPRISE_NOT_FOUND', 'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE', 'ERR_REGISTRY_INVALID'],
});

const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': {
    summary: 'Liveness',
    tag: 'ops',
    access: 'public',
    ok: {
      '200': {
        description: 'the process is up',
        content: json({ type: 'object', properties: { status: { const: 'ok' }, version: { type: 'string' } } }),
      },
    },
  },
  'GET /readyz': {
    summary: 'Readiness: database reachable and migrated',
    tag: 'ops',
    access: 'public',
    ok: { '200': { description: 'ready', content: json({ type: 'object', properties: { status: { const: 'ready' } } }) } },
    problems: ['ERR_HTTP_NOT_READY'],
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    tag: 'ops',
    access: 'public',
    ok: { '200': { description: 'text exposition format', content: text('text/plain') } },
  },
  'GET /openapi.json': {
    summary: 'This document',
    tag: 'ops',
    access: 'public',
    ok: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
  },

  'GET /api/v1/auth/challenge': {
    summary: 'A single-use login nonce',
    tag: 'auth',
    access: 'public',
    ok: {
      '200': {
        description: 'the nonce, valid two minutes',
        content: json({
          type: 'object',
          required: ['nonce', 'expiresAt'],
          properties: { nonce: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
        }),
      },
    },
  },
  'POST /api/v1/auth/token': {
    summary: 'Log in with a certificate: a compact JWS over {"nonce"} with x5c',
    tag: 'auth',
    access: 'public',
    body: { required: true, content: json({ type: 'object', required: ['jws'], properties: { jws: { type: 'string' } } }) },
    ok: {
      '200': {
        description: 'a bearer token (ES256 JWT, 15 minutes)',
        content: json({
          type: 'object',
          properties: {
            token: { type: 'string' },
            tokenType: { const: 'Bearer' },
            expiresAt: { type: 'string', format: 'date-time' },
            principal: ref('Principal'),
          },
        }),
      },
    },
    problems: [
      'ERR_HTTP_MALFORMED_JSON',
      'ERR_AUTH_LOGIN_MALFORMED',
      'ERR_AUTH_CHALLENGE_INVALID',
      'ERR_AUTH_SIGNATURE_INVALID',
      'ERR_AUTH_CERTIFICATE_REJECTED',
    ],
  },
  'GET /api/v1/auth/whoami': {
    summary: 'The principal of a bearer token',
    tag: 'auth',
    access: ['admin', 'enterprise', 'officer', 'auditor'],
    ok: { '200': { description: 'the principal', content: json(ref('Principal')) } },
  },

  'POST /api/v1/enterprises': {
    summary: 'Register an enterprise',
    tag: 'registry',
    access: ['admin'],
    body: {
      required: true,
      content: json({
        type: 'object',
        required: ['uscc', 'name'],
        properties: { uscc: { type: 'string' }, name: { type: 'string' }, overrideCheck: { type: 'boolean' } },
      }),
    },
    ok: { '201': { description: 'registered', content: json(ref('Enterprise')) } },
    problems: [
      'ERR_REGISTRY_USCC_MALFORMED',
      'ERR_REGISTRY_USCC_CHECK',
      'ERR_REGISTRY_ORGANIZATION_CODE_CHECK',
      'ERR_REGISTRY_INVALID',
      'ERR_REGISTRY_ENTERPRISE_EXISTS',
    ],
  },
  'POST /api/v1/enterprises/import': {
    summary: 'Bulk import of enterprises (CSV with a header, or JSON Lines), streamed',
    tag: 'registry',
    access: ['admin'],
    description:
      'Columns uscc, name, division (optional), status (active|revoked|deregistered), revokedAt (RFC 3339), reason. Read in batches of `batch` lines, each committed with its audit entries or not at all; the import stops at the first batch with a bad line: the 422 problem lists the bad lines (line numbers of the original file, given `line`), committedThroughLine and resumeFromLine. `check=true` validates the whole body and writes nothing.',
    query: [
      {
        name: 'line',
        schema: { type: 'integer', minimum: 1 },
        description: "the original file's number of the body's first record line (default 2 for CSV, 1 for JSON Lines)",
      },
      { name: 'fromLine', schema: { type: 'integer', minimum: 1 }, description: 'skip records on earlier lines (resume)' },
      { name: 'batch', schema: { type: 'integer', minimum: 1, maximum: 50000 }, description: 'lines per transaction (default 5000)' },
      { name: 'check', schema: { enum: ['true', 'false'] }, description: 'validate only' },
    ],
    body: {
      required: true,
      content: { 'text/csv': { type: 'string' }, 'application/x-ndjson': { type: 'string' } },
    },
    ok: { '200': { description: 'the import report (every line imported, or checked)', content: json({ type: 'object' }) } },
    problems: ['ERR_REGISTRY_IMPORT_REJECTED', 'ERR_REGISTRY_IMPORT_TOO_LARGE', 'ERR_REGISTRY_INVALID'],
  },
  'GET /api/v1/enterprises': {
    summary: 'List enterprises; `status=revoked` is the public revoked-enterprise list',
    tag: 'registry',
    access: 'optional',
    description: 'Anonymous callers may ask for status=revoked only; other listings are for admin and auditors.',
    query: [
      { name: 'status', schema: { enum: ['active', 'revoked', 'deregistered'] }, description: 'filter by status' },
      { name: 'after', schema: { type: 'string' }, description: 'cursor (the last USCC of the previous page)' },
      { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 500 }, description: 'page size' },
    ],
    ok: { '200': { description: 'a page', content: json(page('Enterprise')) } },
    problems: ['ERR_REGISTRY_INVALID'],
  },
  'GET /api/v1/enterprises/:uscc': {
    summary: 'An enterprise (admin, auditors, the enterprise itself)',
    tag: 'registry',
    access: ['admin', 'auditor', 'enterprise'],
    ok: { '200': { description: 'the enterprise', content: json(ref('Enterprise')) } },
    problems: ['ERR_REGISTRY_USCC_MALFORMED', 'ERR_REGISTRY_ENTERPRISE_NOT_FOUND'],
  },
  'POST /api/v1/enterprises/:uscc/revoke': {
    summary: "Revoke an enterprise's licence (and all its certificates)",
    tag: 'registry',
    access: ['admin'],
    ...endEnterprise('revoked'),
  },
  'POST /api/v1/enterprises/:uscc/deregister': {
    summary: 'Deregister an enterprise that closes at its own request (and revoke all its certificates)',
    tag: 'registry',
    access: ['admin'],
    description:
      'Its status becomes deregistered: it is not on the revoked-enterprise list (status=revoked) but on status=deregistered. The default reason is "deregistered at its own request".',
    ...endEnterprise('deregistered'),
  },
  'POST /api/v1/officers': {
    summary: 'Register an approval officer',
    tag: 'registry',
    access: ['admin'],
    body: {
      required: true,
      content: json({
        type: 'object',
        required: ['id', 'name', 'authority', 'role', 'jurisdiction'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          authority: { type: 'string' },
          role: { enum: ['reviewer', 'approver', 'handler'] },
          jurisdiction: { type: 'string', pattern: '^[0-9]{6}$' },
        },
      }),
    },
    ok: { '201': { description: 'registered', content: json(ref('Officer')) } },
    problems: ['ERR_REGISTRY_INVALID', 'ERR_REGISTRY_OFFICER_EXISTS'],
  },
  'GET /api/v1/officers': {
    summary: 'List officers',
    tag: 'registry',
    access: ['admin', 'auditor'],
    query: [
      { name: 'after', schema: { type: 'string' }, description: 'cursor' },
      { name: 'limit', schema: { type: 'integer' }, description: 'page size' },
    ],
    ok: { '200': { description: 'a page', content: json(page('Officer')) } },
  },
  'GET /api/v1/officers/:id': {
    summary: 'An officer (admin, auditors, the officer itself)',
    tag: 'registry',
    access: ['admin', 'auditor', 'officer'],
    ok: { '200': { description: 'the officer', content: json(ref('Officer')) } },
    problems: ['ERR_REGISTRY_OFFICER_NOT_FOUND'],
  },

  'POST /api/v1/certificates': {
    summary: 'Issue a certificate from a PKCS#10 request',
    tag: 'ca',
    access: ['admin'],
    body: {
      required: true,
      content: json({
        type: 'object',
        required: ['profile', 'csr'],
        properties: {
          profile: { enum: ['enterprise-signing', 'officer', 'auditor'] },
          csr: { type: 'string', description: 'PEM' },
          uscc: { type: 'string' },
          officerId: { type: 'string' },
          name: { type: 'string' },
        },
      }),
    },
    ok: { '201': { description: 'issued', content: json(ref('CertificateInfo')) } },
    problems: [
      'ERR_CA_CSR_MALFORMED',
      'ERR_CA_CSR_SIGNATURE',
      'ERR_CA_CSR_WEAK_SIGNATURE',
      'ERR_CA_CSR_UNSUPPORTED_ALGORITHM',
      'ERR_CA_CSR_SUBJECT_MISMATCH',
      'ERR_CA_KEY_POLICY',
      'ERR_CA_PROFILE_UNKNOWN',
      'ERR_CA_PROFILE_NOT_ISSUABLE',
      'ERR_CA_REQUEST_INVALID',
      'ERR_CA_REGISTRY_CHANGED',
      'ERR_REGISTRY_ENTERPRISE_NOT_FOUND',
      'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE',
      'ERR_REGISTRY_OFFICER_NOT_FOUND',
    ],
  },
  'POST /api/v1/certificates/pkcs12': {
    summary: 'Issue a certificate with a server-generated key, as a PKCS#12 bundle',
    tag: 'ca',
    access: ['admin'],
    body: {
      required: true,
      content: json({
        type: 'object',
        required: ['profile'],
        properties: {
          profile: { type: 'string' },
          uscc: { type: 'string' },
          officerId: { type: 'string' },
          name: { type: 'string' },
          keyAlgorithm: { enum: ['P-256', 'P-384', 'Ed25519', 'RSA-2048', 'RSA-3072'] },
        },
      }),
    },
    ok: {
      '201': {
        description: 'issued; the password is shown once',
        content: json({
          type: 'object',
          properties: {
            certificate: ref('CertificateInfo'),
            pkcs12: { type: 'string', contentEncoding: 'base64' },
            password: { type: 'string' },
          },
        }),
      },
    },
    problems: ['ERR_CA_PROFILE_UNKNOWN', 'ERR_CA_PROFILE_NOT_ISSUABLE', 'ERR_CA_REQUEST_INVALID'],
  },
  'GET /api/v1/certificates/:serial': {
    summary: 'A certificate',
    tag: 'ca',
    access: ['admin', 'auditor'],
    ok: { '200': { description: 'the certificate', content: json(ref('CertificateInfo')) } },
    problems: ['ERR_CA_SERIAL_MALFORMED', 'ERR_CA_CERTIFICATE_NOT_FOUND'],
  },
  'POST /api/v1/certificates/:serial/revoke': {
    summary: 'Revoke a certificate (RFC 5280 reason)',
    tag: 'ca',
    access: ['admin'],
    body: { required: false, content: json({ type: 'object', properties: { reason: { type: 'string' } } }) },
    ok: { '200': { description: 'revoked', content: json(ref('CertificateInfo')) } },
    problems: ['ERR_CA_SERIAL_MALFORMED', 'ERR_CA_CERTIFICATE_NOT_FOUND', 'ERR_CA_ALREADY_REVOKED', 'ERR_CA_REASON_INVALID'],
  },
  'GET /ca/chain.pem': {
    summary: 'The issuing CA and the root, PEM',
    tag: 'ca',
    access: 'public',
    ok: { '200': { description: 'PEM certificates', content: text('application/pem-certificate-chain') } },
  },
  'GET /ca/crl/:partition': {
    summary:
      "One partition's CRL (DER, RFC 5280 §5.2.5 issuingDistributionPoint): the CRL distribution point its certificates name; lists every revocation acknowledged before the request",
    tag: 'ca',
    access: 'public',
    ok: { '200': { description: 'the partition CRL', content: binary('application/pkix-crl') } },
    problems: ['ERR_CA_UNKNOWN_CA'],
  },
  'GET /ca/:file': {
    summary:
      "CA files: issuing.crl and root.crl (DER full CRLs; the issuing CA's status is on root.crl), root.cer / issuing.cer (DER), root.pem / issuing.pem",
    tag: 'ca',
    access: 'public',
    ok: {
      '200': {
        description: 'the file',
        content: { ...binary('application/pkix-crl'), ...binary('application/pkix-cert'), ...text('application/pem-certificate-chain') },
      },
    },
    problems: ['ERR_CA_UNKNOWN_CA'],
  },
  'POST /ocsp': {
    summary: 'OCSP (RFC 6960), POST',
    tag: 'ca',
    access: 'public',
    body: { required: true, content: binary('application/ocsp-request') },
    ok: {
      '200': {
        description: 'an OCSPResponse (malformed requests get the malformedRequest status)',
        content: binary('application/ocsp-response'),
      },
    },
  },
  'GET /ocsp/*request': {
    summary: 'OCSP (RFC 6960 Appendix A), GET with the URL-encoded base64 request',
    tag: 'ca',
    access: 'public',
    ok: { '200': { description: 'an OCSPResponse', content: binary('application/ocsp-response') } },
  },
  'POST /tsa': {
    summary:
      'RFC 3161 time-stamping (RFC 3161 §3.4 over HTTP): a TimeStampReq in, a TimeStampResp out. Refusals are HTTP 200 with status rejection and failInfo (badDataFormat for non-DER or bodies above 4 KiB, badAlg for SHA-1 and unknown hashes, badRequest, unacceptedPolicy, unacceptedExtension)',
    tag: 'ca',
    access: 'public',
    body: { required: true, content: binary('application/timestamp-query') },
    ok: {
      '200': {
        description: 'a TimeStampResp: a TimeStampToken when granted, else the RFC failure status',
        content: binary('application/timestamp-reply'),
      },
    },
  },

  'POST /api/v1/verify': {
    summary: 'Validate an envelope (stateless, not logged); the validation report whatever the verdict',
    tag: 'verify',
    access: 'public',
    query: [
      { name: 'policy', schema: { type: 'string' }, description: 'a policy id, or `auto` for the policy named by the document type' },
    ],
    body: {
      required: true,
      content: {
        ...ENVELOPE_TYPES,
        'application/pkcs7-mime': { type: 'string' },
        'application/json': {
          type: 'object',
          description: 'detached: {"cms": base64} or {"jws": …}, and "content": base64 of the document',
          properties: { cms: { type: 'string' }, jws: {}, content: { type: 'string' } },
        },
        'application/vnd.etsi.asic-e+zip': {
          type: 'string',
          format: 'binary',
          description: "an evidence container; its log proofs, checked with this service's log key, are proofs of existence",
        },
      },
    },
    ok: { '200': { description: 'the validation report', content: json(ref('ValidationReport')) } },
    problems: [
      'ERR_SUBMISSION_EVIDENCE_INVALID',
      'ERR_HTTP_MALFORMED_JSON',
      'ERR_HTTP_BAD_REQUEST',
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      'ERR_HTTP_BODY_TOO_LARGE',
      'ERR_POLICY_UNKNOWN',
    ],
  },

  'GET /api/v1/policies': {
    summary: 'The transaction policies (id, version, title, SHA-256 of the file)',
    tag: 'policies',
    access: 'public',
    ok: { '200': { description: 'the policies', content: { 'application/json': { type: 'object' } } } },
  },
  'GET /api/v1/policies/:id': {
    summary: "One policy: its document's JSON Schema, signature rules, signer rules and approval steps",
    tag: 'policies',
    access: 'public',
    ok: { '200': { description: 'the policy', content: { 'application/json': { type: 'object' } } } },
    problems: ['ERR_HTTP_NOT_FOUND'],
  },
  'GET /api/v1/policies/:id/sample': {
    summary: 'A valid example document for the policy, to start from',
    tag: 'policies',
    access: 'public',
    query: [{ name: 'applicant', schema: { type: 'string' }, description: 'the USCC the sample names as applicant', required: false }],
    ok: {
      '200': { description: 'the example document (sign it byte for byte as served)', content: { 'application/json': { type: 'object' } } },
    },
    problems: ['ERR_HTTP_NOT_FOUND', 'ERR_HTTP_BAD_REQUEST'],
  },

  'GET /log/key': {
    summary: "The log's C2SP verifier key",
    tag: 'log',
    access: 'public',
    ok: { '200': { description: '<origin>+<key id>+<key>', content: text('text/plain') } },
  },
  'GET /log/checkpoint': {
    summary: 'The latest signed checkpoint (C2SP signed note)',
    tag: 'log',
    access: 'public',
    ok: { '200': { description: 'the checkpoint', content: text('text/plain') } },
    problems: ['ERR_AUDIT_NO_CHECKPOINT'],
  },
  'GET /log/entries': {
    summary: 'Entries [start, end) (at most 1000)',
    tag: 'log',
    access: 'public',
    query: [
      { name: 'start', schema: { type: 'integer', minimum: 0 }, description: 'first index', required: true },
      { name: 'end', schema: { type: 'integer', minimum: 1 }, description: 'one past the last index', required: true },
    ],
    ok: {
      '200': {
        description: 'a page of canonical entries',
        content: json({
          type: 'object',
          properties: {
            treeSize: { type: 'integer' },
            start: { type: 'integer' },
            end: { type: 'integer' },
            entries: {
              type: 'array',
              items: {
                type: 'object',
                properties: { index: { type: 'integer' }, leafHash: { type: 'string' }, entry: { type: 'string' } },
              },
            },
          },
        }),
      },
    },
    problems: ['ERR_AUDIT_RANGE'],
  },
  'GET /log/proof/inclusion': {
    summary: 'RFC 9162 inclusion proof, by index or leaf hash',
    tag: 'log',
    access: 'public',
    query: [
      { name: 'index', schema: { type: 'integer', minimum: 0 }, description: 'leaf index (or leafHash)' },
      { name: 'leafHash', schema: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'leaf hash (or index)' },
      { name: 'size', schema: { type: 'integer', minimum: 1 }, description: 'tree size; default the latest checkpoint' },
    ],
    ok: {
      '200': {
        description: 'the proof',
        content: json({
          type: 'object',
          properties: {
            index: { type: 'integer' },
            treeSize: { type: 'integer' },
            leafHash: { type: 'string' },
            proof: { type: 'array', items: { type: 'string' } },
          },
        }),
      },
    },
    problems: ['ERR_AUDIT_RANGE', 'ERR_AUDIT_NOT_FOUND', 'ERR_AUDIT_NO_CHECKPOINT'],
  },
  'GET /log/proof/consistency': {
    summary: 'RFC 9162 consistency proof',
    tag: 'log',
    access: 'public',
    query: [
      { name: 'from', schema: { type: 'integer', minimum: 1 }, description: 'older tree size', required: true },
      { name: 'to', schema: { type: 'integer', minimum: 1 }, description: 'newer tree size', required: true },
    ],
    ok: {
      '200': {
        description: 'the proof',
        content: json({
          type: 'object',
          properties: { from: { type: 'integer' }, to: { type: 'integer' }, proof: { type: 'array', items: { type: 'string' } } },
        }),
      },
    },
    problems: ['ERR_AUDIT_RANGE'],
  },
  'GET /api/v1/log/timestamps': {
    summary: 'An archive time-stamped checkpoint: the smallest tree size at or above `size`, or the latest',
    tag: 'log',
    access: 'public',
    query: [{ name: 'size', schema: { type: 'integer', minimum: 0 }, description: 'a tree size the checkpoint must cover' }],
    ok: {
      '200': {
        description:
          'the signed checkpoint note and the RFC 3161 token over the SHA-256 of its exact UTF-8 bytes (the `checkpoint.timestamped` entry at `logIndex` records it)',
        content: json({
          type: 'object',
          properties: {
            treeSize: { type: 'integer' },
            note: { type: 'string' },
            token: { type: 'string', description: 'TimeStampToken, DER, base64' },
            genTime: { type: 'string', format: 'date-time' },
            tsaCertificateSha256: { type: 'string' },
            logIndex: { type: 'integer' },
          },
        }),
      },
    },
    problems: ['ERR_AUDIT_RANGE', 'ERR_AUDIT_NOT_FOUND'],
  },

  'POST /api/v1/submissions': {
    summary: 'Submit a signed application',
    tag: 'submissions',
    access: 'optional',
    description:
      "No token needed: the signature authenticates the applicant (a token, when given, must be the applicant enterprise's). A detached envelope is sent as multipart/form-data with a part named `envelope` (the DER CMS with Content-Type application/cms, or the JWS) and a part named `content` (the signed document's exact bytes). The same envelope, or an authentic envelope for the same (applicant, applicationId), is answered with the existing submission (200, `existing: true`). A rejected application is recorded (with its audit entry and receipt) and answered 422 with the rejection code, the report and the receipt.",
    body: {
      required: true,
      content: {
        ...ENVELOPE_TYPES,
        'application/pkcs7-mime': { type: 'string' },
        'multipart/form-data': {
          type: 'object',
          required: ['envelope'],
          properties: {
            envelope: { type: 'string', contentMediaType: 'application/cms' },
            content: { type: 'string', contentMediaType: 'application/json' },
          },
        },
      },
    },
    ok: {
      '201': {
        description: 'a new submission (accepted or pending)',
        content: json(ref('Transition')),
        headers: { Location: 'the submission' },
      },
      '200': { description: 'the existing submission of this envelope or application', content: json(ref('Transition')) },
    },
    problems: [
      'ERR_SUBMISSION_MALFORMED',
      'ERR_SUBMISSION_UNIDENTIFIED',
      'ERR_SUBMISSION_NOT_APPLICANT',
      'ERR_AUTH_TOKEN_INVALID',
      'ERR_AUTH_FORBIDDEN',
      'ERR_HTTP_BAD_REQUEST',
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      'ERR_HTTP_BODY_TOO_LARGE',
      'ERR_AUDIT_OVERLOADED',
      ...REJECTIONS,
    ],
  },
  'GET /api/v1/submissions': {
    summary:
      "List submissions: an enterprise's own, an officer's jurisdiction (status=pending: the steps its role signs), everything for auditors",
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    query: [
      { name: 'status', schema: { enum: ['rejected', 'accepted', 'pending', 'approved', 'refused'] }, description: 'filter by status' },
      { name: 'after', schema: { type: 'string' }, description: 'the `next` cursor of the previous page' },
      { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 500 }, description: 'page size, default 50' },
      {
        name: 'signedBy',
        schema: { enum: ['applicant', 'others'] },
        description:
          'enterprise: `applicant` (default) lists what it signed; `others`, rejected submissions naming it that someone else signed (flagged `signedByApplicant: false`)',
      },
    ],
    ok: { '200': { description: 'a page', content: json(page('SubmissionSummary')) } },
    problems: ['ERR_SUBMISSION_QUERY_INVALID'],
  },
  'GET /api/v1/submissions/:id': {
    summary: 'Status, history with log indexes, required and given countersignatures, the validation report',
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    ok: { '200': { description: 'the submission', content: json(ref('Submission')) } },
    problems: ['ERR_SUBMISSION_NOT_FOUND'],
  },
  'GET /api/v1/submissions/:id/envelope': {
    summary: 'The current envelope with every countersignature (verify it with `chancery verify`)',
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    ok: { '200': { description: 'the envelope', content: { ...binary('application/cms'), 'application/jose+json': { type: 'object' } } } },
    problems: ['ERR_SUBMISSION_NOT_FOUND'],
  },
  'GET /api/v1/submissions/:id/evidence': {
    summary:
      'The evidence as an ASiC-E container: document, B-LT envelope, receipts, each transition’s log entry and inclusion proof, the checkpoint, the log key, the CRLs (`chancery verify --in evidence.asice` validates it offline)',
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    ok: { '200': { description: 'the ASiC-E container', content: binary('application/vnd.etsi.asic-e+zip') } },
    problems: ['ERR_SUBMISSION_NOT_FOUND'],
  },
  'GET /api/v1/submissions/:id/document': {
    summary: 'The signed document (the content a detached envelope needs)',
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    ok: { '200': { description: 'the document bytes', content: json({ type: 'object' }) } },
    problems: ['ERR_SUBMISSION_NOT_FOUND'],
  },
  'GET /api/v1/submissions/:id/receipt': {
    summary: 'The latest receipt (compact JWS by the service seal), or the one of the transition at log index `index`',
    tag: 'submissions',
    access: ['enterprise', 'officer', 'auditor'],
    query: [{ name: 'index', schema: { type: 'integer', minimum: 0 }, description: 'log index of a transition' }],
    ok: {
      '200': {
        description: 'the receipt: ES256 compact JWS, payload {submission, applicant, documentDigest, status, at, logIndex, leafHash}',
        content: text('application/jose'),
        headers: { 'Chancery-Log-Index': "the log index of the receipt's transition" },
      },
    },
    problems: ['ERR_SUBMISSION_NOT_FOUND', 'ERR_HTTP_BAD_REQUEST'],
  },
  'POST /api/v1/submissions/:id/countersignatures': {
    summary: 'Countersign: upload the envelope with your countersignature added',
    tag: 'submissions',
    access: ['officer'],
    description:
      "Exactly one new countersignature, binding this submission's enterprise signature, by the logged-in officer, whose role is the next step's and whose jurisdiction covers the applicant. Concurrent countersignatures on one submission are serialized: one per step; the others get 409.",
    body: {
      required: true,
      content: { 'application/cms': ENVELOPE_TYPES['application/cms'], 'application/jose+json': ENVELOPE_TYPES['application/jose+json'] },
    },
    ok: { '200': { description: 'recorded: the next step, approved or refused', content: json(ref('Transition')) } },
    problems: [
      'ERR_SUBMISSION_NOT_FOUND',
      'ERR_SUBMISSION_MALFORMED',
      'ERR_SUBMISSION_CLOSED',
      'ERR_SUBMISSION_STEP_TAKEN',
      'ERR_SUBMISSION_FORMAT_MISMATCH',
      'ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN',
      'ERR_SUBMISSION_COUNTERSIGNATURE_MISSING',
      'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED',
      'ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS',
      'ERR_SUBMISSION_COUNTERSIGNATURE_INVALID',
      'ERR_SUBMISSION_COUNTERSIGNER_REVOKED',
      'ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT',
      'ERR_SUBMISSION_COUNTERSIGNER_NOT_OFFICER',
      'ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER',
      'ERR_SUBMISSION_WRONG_ROLE',
      'ERR_SUBMISSION_OUT_OF_JURISDICTION',
      'ERR_SUBMISSION_OFFICER_ALREADY_SIGNED',
      'ERR_SUBMISSION_DECISION_INVALID',
      'ERR_SUBMISSION_REASON_REQUIRED',
      'ERR_SUBMISSION_REASON_NOT_ALLOWED',
      'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE',
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      'ERR_HTTP_BODY_TOO_LARGE',
    ],
  },
};

const SCHEMAS: Record<string, Schema> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem document; `code` is the stable error code, `type` its URN',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string' },
      instance: { type: 'string' },
    },
    additionalProperties: true,
  },
  Principal: {
    type: 'object',
    required: ['role', 'actor', 'certificateSerial', 'name'],
    properties: {
      role: { enum: ['admin', 'officer', 'enterprise', 'auditor'] },
      actor: { type: 'string' },
      certificateSerial: { type: 'string' },
      name: { type: 'string' },
      uscc: { type: 'string' },
      officer: { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string' }, jurisdiction: { type: 'string' } } },
      expiresAt: { type: 'string', format: 'date-time' },
    },
  },
  Enterprise: {
    type: 'object',
    properties: {
      uscc: { type: 'string' },
      name: { type: 'string' },
      division: { type: 'string' },
      status: { enum: ['active', 'revoked', 'deregistered'] },
      checkOverridden: { type: 'boolean' },
      registeredAt: { type: 'string' },
      statusChangedAt: { type: ['string', 'null'] },
      statusReason: { type: ['string', 'null'] },
    },
  },
  Officer: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      authority: { type: 'string' },
      role: { enum: ['reviewer', 'approver', 'handler'] },
      jurisdiction: { type: 'string' },
      registeredAt: { type: 'string' },
    },
  },
  CertificateInfo: {
    type: 'object',
    properties: {
      serial: { type: 'string' },
      profile: { type: 'string' },
      subject: { type: 'string' },
      uscc: { type: ['string', 'null'] },
      officerId: { type: ['string', 'null'] },
      notBefore: { type: 'string' },
      notAfter: { type: 'string' },
      issuedAt: { type: 'string' },
      status: { enum: ['good', 'revoked', 'expired'] },
      revokedAt: { type: ['string', 'null'] },
      revocationReason: { type: ['string', 'null'] },
      sha256: { type: 'string' },
      pem: { type: 'string' },
    },
  },
  Check: {
    type: 'object',
    required: ['id', 'result', 'message'],
    properties: {
      id: { type: 'string' },
      result: { enum: ['PASSED', 'FAILED', 'INDETERMINATE'] },
      message: { type: 'string' },
      subIndication: { type: 'string' },
      certificateIndex: { type: 'integer' },
    },
  },
  ValidationReport: {
    type: 'object',
    description: 'src/verify/validation-report.ts (reportVersion 1)',
    required: ['reportVersion', 'indication', 'validationTime', 'format', 'policy', 'document', 'checks', 'signatures'],
    properties: {
      reportVersion: { const: 1 },
      indication: { enum: ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE'] },
      subIndication: { type: 'string' },
      validationTime: { type: 'string', format: 'date-time' },
      format: { enum: ['cms', 'jws', null] },
      policy: { type: ['object', 'null'] },
      document: { type: 'object' },
      checks: { type: 'array', items: ref('Check') },
      signatures: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            role: { enum: ['signer', 'countersigner'] },
            indication: { type: 'string' },
            decision: { enum: ['approve', 'refuse', 'review', null] },
            reason: { type: 'string', maxLength: 500, description: "the officer's reason, signed with the decision" },
            checks: { type: 'array', items: ref('Check') },
          },
        },
      },
    },
  },
  SubmissionSummary: {
    type: 'object',
    required: ['id', 'status', 'applicant', 'applicationId', 'type', 'submittedAt', 'updatedAt', 'nextStep'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      status: { enum: ['rejected', 'accepted', 'pending', 'approved', 'refused'] },
      applicant: { type: 'string' },
      applicationId: { type: 'string' },
      type: { type: ['string', 'null'] },
      submittedAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      nextStep: { type: ['object', 'null'], properties: { index: { type: 'integer' }, role: { type: 'string' } } },
      refusalReason: { type: 'string', description: 'a refused submission: the reason the refusing officer signed' },
    },
  },
  Transition: {
    description: 'A submission after a transition, with the receipt of that transition',
    allOf: [
      ref('SubmissionSummary'),
      {
        type: 'object',
        required: ['receipt', 'logIndex'],
        properties: {
          existing: { const: true },
          receipt: { type: 'string', description: 'compact JWS' },
          logIndex: { type: 'integer' },
          links: { type: 'object' },
        },
      },
    ],
  },
  Submission: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      status: { enum: ['rejected', 'accepted', 'pending', 'approved', 'refused'] },
      applicant: { type: 'string' },
      applicationId: { type: 'string' },
      type: { type: ['string', 'null'] },
      policy: { type: ['object', 'null'] },
      format: { enum: ['cms', 'jws'] },
      documentSha256: { type: 'string' },
      envelopeSha256: { type: 'string' },
      currentEnvelopeSha256: { type: 'string' },
      submittedAt: { type: 'string' },
      updatedAt: { type: 'string' },
      rejection: { type: ['object', 'null'], properties: { code: { type: 'string' }, reason: { type: 'string' } } },
      approval: {
        type: 'object',
        properties: {
          nextStep: { type: ['integer', 'null'] },
          steps: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                role: { type: 'string' },
                jurisdiction: { enum: ['applicant', 'any'] },
                distinctOfficers: { type: 'boolean' },
                countersignature: {
                  type: ['object', 'null'],
                  properties: {
                    decision: { enum: ['approve', 'refuse', 'review'] },
                    reason: { type: 'string', description: "the officer's reason, signed with the decision (refusals always have one)" },
                  },
                },
              },
            },
          },
        },
      },
      history: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            seq: { type: 'integer' },
            status: { type: 'string' },
            kind: { type: 'string' },
            actor: { type: 'string' },
            at: { type: 'string' },
            logIndex: { type: 'integer' },
            leafHash: { type: 'string' },
            detail: { type: 'object' },
          },
        },
      },
      report: ref('ValidationReport'),
    },
  },
};

/** OpenAPI path template of an express path: `/a/:id` and `/a/*rest` become `/a/{id}`, `/a/{rest}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
}

/** Routes the app serves that this document does not describe (must be none). */
export function undocumentedRoutes(routes: readonly RouteInfo[]): RouteInfo[] {
  return routes.filter((r) => OPERATIONS[`${r.method.toUpperCase()} ${r.path}`] === undefined);
}

/** The OpenAPI 3.1 document of `routes` (each served route with a description). */
export function buildOpenApi(routes: readonly RouteInfo[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const op = OPERATIONS[`${route.method.toUpperCase()} ${route.path}`];
    if (op === undefined) continue;
    const path = openApiPath(route.path);
    const pathParams = [...route.path.matchAll(/[:*]([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1]!,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = (op.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: q.required === true,
      description: q.description,
      schema: q.schema,
    }));
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.ok)) {
      responses[status] = {
        description: r.description,
        ...(r.content === undefined
          ? {}
          : { content: Object.fromEntries(Object.entries(r.content).map(([t, schema]) => [t, { schema }])) }),
        ...(r.headers === undefined
          ? {}
          : {
              headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])),
            }),
      };
    }
    const problems: ProblemCode[] = [
      ...(op.access === 'public' ? [] : op.access === 'optional' ? ['ERR_AUTH_TOKEN_INVALID' as const] : AUTH_PROBLEMS),
      ...(op.problems ?? []),
      // Every JSON body is parsed with a depth bound (body.ts parseJsonBounded).
      ...(op.problems?.includes('ERR_HTTP_MALFORMED_JSON') === true ? ['ERR_HTTP_JSON_TOO_DEEP' as const] : []),
      // Every route but the ops ones: a client refused too often is rate-limited (rate-limit.ts).
      ...(['/healthz', '/readyz', '/metrics'].includes(route.path) ? [] : ['ERR_HTTP_RATE_LIMITED' as const]),
      'ERR_HTTP_INTERNAL',
    ];
    const byStatus = new Map<number, Set<ProblemCode>>();
    for (const code of problems) {
      const status = STATUS_BY_CODE[code];
      let set = byStatus.get(status);
      if (set === undefined) byStatus.set(status, (set = new Set()));
      set.add(code);
    }
    for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      responses[String(status)] = {
        description: `problem: ${[...codes].join(', ')}`,
        content: { 'application/problem+json': { schema: ref('Problem') } },
        'x-problem-types': [...codes].map((c) => problemType(c)),
      };
    }
    (paths[path] ??= {})[route.method] = {
      summary: op.summary,
      ...(op.description === undefined ? {} : { description: op.description }),
      tags: [op.tag],
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(op.access === 'public'
        ? { security: [] }
        : op.access === 'optional'
          ? { security: [{}, { bearer: [] }] }
          : { security: [{ bearer: [] }], 'x-roles': op.access }),
      ...(pathParams.length + query.length === 0 ? {} : { parameters: [...pathParams, ...query] }),
      ...(op.body === undefined
        ? {}
        : {
            requestBody: {
              required: op.body.required,
              content: Object.fromEntries(Object.entries(op.body.content).map(([t, schema]) => [t, { schema }])),
            },
          }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chancery',
      version: VERSION,
      description:
        'Signing and verification service for e-government transactions: CA, signature validation, submissions with countersigning, and a verifiable audit log. Errors are RFC 9457 problem documents whose `code` is stable; their `type` is `urn:chancery:problem:<code>`.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'ES256 token from POST /api/v1/auth/token (certificate login)',
        },
      },
    },
    'x-problem-types': Object.fromEntries(Object.entries(STATUS_BY_CODE).map(([code, status]) => [problemType(code), { code, status }])),
  };
}

/** `GET /openapi.json`: the document of the routes registered in the same table, built once. */
export function openapiRoutes(): (table: RouteTable) => void {
  return (table) => {
    let cached: string | undefined;
    table.add('get', '/openapi.json', (_req, res) => {
      cached ??= JSON.stringify(buildOpenApi(table.routes));
      res.type('application/json').send(cached);
    });
  };
}
