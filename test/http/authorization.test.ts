import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import { annualDocument, createWorld, entriesSince, foodDocument, signCmsWith, treeSize, type World } from '../submissions/fixtures.js';

/**
 * The authorization matrix: every route the app serves × every kind of caller — the
 * operator (admin), enterprise A, enterprise B, an officer whose jurisdiction covers A, one whose
 * does not, an auditor, and an anonymous caller. A denial is 401 (no token) or 403; each one of a
 * caller with a token is written to the audit log as `auth.denied` for that path, and each
 * anonymous one is counted for the next `auth.denied.summary` instead; an allowed call may still fail on
 * its input, but never with 401/403. The matrix must name every route of the RouteTable.
 */

const ROLES = ['admin', 'entA', 'entB', 'officerIn', 'officerOut', 'auditor', 'anonymous'] as const;
type Caller = (typeof ROLES)[number];
const ALL: readonly Caller[] = ROLES;

interface Row {
  /** `METHOD express-path`, as the RouteTable lists it. */
  route: string;
  /** The concrete request; `variant` tells rows of one route apart. */
  variant?: string;
  request: (w: World, ids: Ids) => { path: string; body?: Uint8Array | string; type?: string };
  allowed: readonly Caller[];
}

interface Ids {
  submission: string;
  envelope: Buffer;
  ocspRequest: Buffer;
  serial: string;
}

const json = (value: unknown): { body: string; type: string } => ({ body: JSON.stringify(value), type: 'application/json' });
const READERS_OF_A: readonly Caller[] = ['entA', 'officerIn', 'auditor'];
const UNREGISTERED = completeUscc('9144030599999000');

const MATRIX: Row[] = [
  { route: 'GET /healthz', request: () => ({ path: '/healthz' }), allowed: ALL },
  { route: 'GET /readyz', request: () => ({ path: '/readyz' }), allowed: ALL },
  { route: 'GET /metrics', request: () => ({ path: '/metrics' }), allowed: ALL },
  { route: 'GET /openapi.json', request: () => ({ path: '/openapi.json' }), allowed: ALL },
  { route: 'GET /api/v1/auth/challenge', request: () => ({ path: '/api/v1/auth/challenge' }), allowed: ALL },
  { route: 'POST /api/v1/auth/token', request: () => ({ path: '/api/v1/auth/token', ...json({}) }), allowed: ALL },
  {
    route: 'GET /api/v1/auth/whoami',
    request: () => ({ path: '/api/v1/auth/whoami' }),
    allowed: ['admin', 'entA', 'entB', 'officerIn', 'officerOut', 'auditor'],
  },
  { route: 'POST /api/v1/enterprises', request: () => ({ path: '/api/v1/enterprises', ...json({ uscc: 'bad' }) }), allowed: ['admin'] },
  { route: 'GET /api/v1/enterprises', variant: 'all', request: () => ({ path: '/api/v1/enterprises' }), allowed: ['admin', 'auditor'] },
  {
    route: 'GET /api/v1/enterprises',
    variant: 'revoked list',
    request: () => ({ path: '/api/v1/enterprises?status=revoked' }),
    allowed: ALL,
  },
  {
    route: 'GET /api/v1/enterprises/:uscc',
    request: (w) => ({ path: `/api/v1/enterprises/${w.a.uscc}` }),
    allowed: ['admin', 'auditor', 'entA'],
  },
  {
    route: 'POST /api/v1/enterprises/:uscc/revoke',
    request: () => ({ path: `/api/v1/enterprises/${UNREGISTERED}/revoke`, ...json({}) }),
    allowed: ['admin'],
  },
  {
    route: 'POST /api/v1/enterprises/:uscc/deregister',
    request: () => ({ path: `/api/v1/enterprises/${UNREGISTERED}/deregister`, ...json({}) }),
    allowed: ['admin'],
  },
  {
    route: 'POST /api/v1/enterprises/import',
    request: () => ({ path: '/api/v1/enterprises/import?check=true', body: Buffer.from('uscc,name\nbad,Nobody\n'), type: 'text/csv' }),
    allowed: ['admin'],
  },
  { route: 'POST /api/v1/officers', request: () => ({ path: '/api/v1/officers', ...json({}) }), allowed: ['admin'] },
  { route: 'GET /api/v1/officers', request: () => ({ path: '/api/v1/officers' }), allowed: ['admin', 'auditor'] },
  {
    route: 'GET /api/v1/officers/:id',
    request: (w) => ({ path: `/api/v1/officers/${w.reviewer.id}` }),
    allowed: ['admin', 'auditor', 'officerIn'],
  },
  { route: 'POST /api/v1/certificates', request: () => ({ path: '/api/v1/certificates', ...json({}) }), allowed: ['admin'] },
  { route: 'POST /api/v1/certificates/pkcs12', request: () => ({ path: '/api/v1/certificates/pkcs12', ...json({}) }), allowed: ['admin'] },
  {
    route: 'GET /api/v1/certificates/:serial',
    request: (_w, ids) => ({ path: `/api/v1/certificates/${ids.serial}` }),
    allowed: ['admin', 'auditor'],
  },
  {
    route: 'POST /api/v1/certificates/:serial/revoke',
    request: () => ({ path: '/api/v1/certificates/0badc0de/revoke', ...json({}) }),
    allowed: ['admin'],
  },
  { route: 'GET /ca/chain.pem', request: () => ({ path: '/ca/chain.pem' }), allowed: ALL },
  {
    route: 'POST /tsa',
    request: () => ({ path: '/tsa', body: Buffer.from([0x30, 0x00]), type: 'application/timestamp-query' }),
    allowed: ALL,
  },
  { route: 'GET /api/v1/policies', request: () => ({ path: '/api/v1/policies' }), allowed: ALL },
  { route: 'GET /api/v1/policies/:id', request: () => ({ path: '/api/v1/policies/complaint' }), allowed: ALL },
  { route: 'GET /api/v1/policies/:id/sample', request: () => ({ path: '/api/v1/policies/complaint/sample' }), allowed: ALL },
  { route: 'GET /ca/:file', request: () => ({ path: '/ca/root.pem' }), allowed: ALL },
  { route: 'GET /ca/crl/:partition', request: () => ({ path: '/ca/crl/0' }), allowed: ALL },
  { route: 'POST /ocsp', request: (_w, ids) => ({ path: '/ocsp', body: ids.ocspRequest, type: 'application/ocsp-request' }), allowed: ALL },
  {
    route: 'GET /ocsp/*request',
    request: (_w, ids) => ({ path: `/ocsp/${encodeURIComponent(ids.ocspRequest.toString('base64'))}` }),
    allowed: ALL,
  },
  {
    route: 'POST /api/v1/verify',
    request: (_w, ids) => ({ path: '/api/v1/verify', body: ids.envelope, type: 'application/cms' }),
    allowed: ALL,
  },
  { route: 'GET /log/key', request: () => ({ path: '/log/key' }), allowed: ALL },
  { route: 'GET /log/checkpoint', request: () => ({ path: '/log/checkpoint' }), allowed: ALL },
  { route: 'GET /log/entries', request: () => ({ path: '/log/entries?start=0&end=1' }), allowed: ALL },
  { route: 'GET /log/proof/inclusion', request: () => ({ path: '/log/proof/inclusion?index=0&size=1' }), allowed: ALL },
  { route: 'GET /log/proof/consistency', request: () => ({ path: '/log/proof/consistency?from=1&to=1' }), allowed: ALL },
  { route: 'GET /api/v1/log/timestamps', request: () => ({ path: '/api/v1/log/timestamps' }), allowed: ALL },
  // A's own application: anonymous (the signature authenticates) or A's token; nobody else's token.
  {
    route: 'POST /api/v1/submissions',
    request: (_w, ids) => ({ path: '/api/v1/submissions', body: ids.envelope, type: 'application/cms' }),
    allowed: ['entA', 'anonymous'],
  },
  {
    route: 'GET /api/v1/submissions',
    request: () => ({ path: '/api/v1/submissions' }),
    allowed: ['entA', 'entB', 'officerIn', 'officerOut', 'auditor'],
  },
  {
    route: 'GET /api/v1/submissions',
    variant: 'pending queue',
    request: () => ({ path: '/api/v1/submissions?status=pending' }),
    allowed: ['entA', 'entB', 'officerIn', 'officerOut', 'auditor'],
  },
  {
    route: 'GET /api/v1/submissions/:id',
    request: (_w, ids) => ({ path: `/api/v1/submissions/${ids.submission}` }),
    allowed: READERS_OF_A,
  },
  {
    route: 'GET /api/v1/submissions/:id/envelope',
    request: (_w, ids) => ({ path: `/api/v1/submissions/${ids.submission}/envelope` }),
    allowed: READERS_OF_A,
  },
  {
    route: 'GET /api/v1/submissions/:id/evidence',
    request: (_w, ids) => ({ path: `/api/v1/submissions/${ids.submission}/evidence` }),
    allowed: READERS_OF_A,
  },
  {
    route: 'GET /api/v1/submissions/:id/document',
    request: (_w, ids) => ({ path: `/api/v1/submissions/${ids.submission}/document` }),
    allowed: READERS_OF_A,
  },
  {
    route: 'GET /api/v1/submissions/:id/receipt',
    request: (_w, ids) => ({ path: `/api/v1/submissions/${ids.submission}/receipt` }),
    allowed: READERS_OF_A,
  },
  // Officers only, and of the applicant's jurisdiction (the body is junk: an allowed officer gets 400).
  {
    route: 'POST /api/v1/submissions/:id/countersignatures',
    request: (_w, ids) => ({
      path: `/api/v1/submissions/${ids.submission}/countersignatures`,
      body: Buffer.from([0x30, 0x00]),
      type: 'application/cms',
    }),
    allowed: ['officerIn'],
  },
];

describe.each(drivers())('authorization matrix on $name', (driver) => {
  let w: World;
  let ids: Ids;
  const tokens = new Map<Caller, string | undefined>();
  beforeAll(async () => {
    w = await createWorld(driver);
    const food = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (food.kind === 'rejected') throw new Error(food.body.detail);
    const holders = { admin: undefined, entA: w.a, entB: w.b, officerIn: w.reviewer, officerOut: w.outsider, auditor: w.auditor } as const;
    for (const [caller, holder] of Object.entries(holders))
      tokens.set(caller as Caller, holder === undefined ? w.admin.token : (await w.as(holder)).token);
    tokens.set('anonymous', undefined);
    ids = {
      submission: food.body.id,
      envelope: await signCmsWith(w.a, annualDocument(w.a.uscc)),
      ocspRequest: buildOcspRequest(w.issuing, w.a.serial),
      serial: w.a.serial,
    };
  });
  afterAll(async () => w?.stop());

  it('covers every route the app serves', () => {
    const served = w.ts.service.http.table.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(served.filter((r) => !MATRIX.some((row) => row.route === r))).toEqual([]);
    expect(MATRIX.filter((row) => !served.includes(row.route)).map((row) => row.route)).toEqual([]);
  });

  for (const row of MATRIX) {
    it(`${row.route}${row.variant === undefined ? '' : ` (${row.variant})`}: allows ${row.allowed.length === ALL.length ? 'everyone' : row.allowed.join(', ')}; denies and audits the rest`, async () => {
      for (const caller of ROLES) {
        const { path, body, type } = row.request(w, ids);
        const before = await treeSize(w.ts);
        const pendingBefore = w.ts.service.parts.auth.denials.pending;
        const token = tokens.get(caller);
        const res = await fetch(`${w.url}${path}`, {
          method: row.route.split(' ')[0],
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(type === undefined ? {} : { 'content-type': type }),
          },
          ...(body === undefined ? {} : { body: typeof body === 'string' ? body : new Blob([body]) }),
        });
        await res.arrayBuffer();
        const label = `${caller} → ${row.route} ${path}: HTTP ${res.status}`;
        expect(res.status, label).toBeLessThan(500);
        if (row.allowed.includes(caller)) {
          expect([401, 403], label).not.toContain(res.status);
        } else {
          expect(res.status, label).toBe(caller === 'anonymous' ? 401 : 403);
          const denials = (await entriesSince(w.ts, before)).filter(
            (e) => e.kind === 'auth.denied' && e.data['path'] === path.split('?')[0],
          );
          expect(denials.length, `${label}: ${caller === 'anonymous' ? 'an' : 'no'} auth.denied entry`).toBe(
            caller === 'anonymous' ? 0 : 1,
          );
          if (caller === 'anonymous') expect(w.ts.service.parts.auth.denials.pending, `${label}: not counted`).toBe(pendingBefore + 1);
        }
      }
    });
  }
});
