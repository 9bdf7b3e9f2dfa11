import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { loadPolicyText, PolicySet } from '../../src/policy/policy.js';
import { applyFormPage } from '../../src/web/pages/apply.js';

/**
 * How the apply form turns posted rows into the document, over real HTTP on loopback with a
 * policy whose rows hold every kind of field (integer, enum, boolean, date string, optional
 * text): types converted, wholly empty rows and empty optional fields left out, a schema error on
 * a row after a dropped one linked to the row the page showed, rows capped at 50 without maxItems.
 * The page is mounted alone; its session answers with a signed-in enterprise (what sign-in,
 * tested in the browser tests, gives it).
 */

const POLICY = `id: row-types
version: 1
title: Row types
document:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  additionalProperties: false
  required: [type, applicant, applicationId, createdAt, lines]
  properties:
    type: { const: row-types }
    applicant: { type: string }
    applicationId: { type: string }
    createdAt: { type: string }
    lines:
      type: array
      minItems: 1
      items:
        type: object
        additionalProperties: false
        required: [count, kind, on]
        properties:
          count: { type: integer, minimum: 1 }
          kind: { enum: [alpha, beta] }
          on: { type: boolean }
          date: { type: string, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }
          note: { type: string, maxLength: 50 }
signature:
  formats: [jws]
  algorithms: [ES256]
  minRsaBits: 2048
  maxClockSkew: PT5M
signer:
  profile: enterprise-signing
  enterpriseStatus: [active]
approval:
  - role: reviewer
    jurisdiction: applicant
`;

const ENTERPRISE: Principal = {
  role: 'enterprise',
  actor: 'enterprise:91440305000100000X',
  certificateSerial: '01',
  name: 'Row Types Co',
  uscc: '91440305000100000X',
} as Principal;

const unescape = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('apply form rows: typed documents', () => {
  let server: Server;
  let url: string;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    const policies = new PolicySet([loadPolicyText(Buffer.from(POLICY), 'row-types.yaml')]);
    const page = applyFormPage({ policies, session: async () => ENTERPRISE });
    const app = express();
    const wrap = (h: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) => void h(req, res);
    app.get('/apply/form', wrap(page.get));
    app.post('/apply/form', wrap(page.post));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apply/form?policy=row-types&lang=en`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    csrf = /name="csrf" value="([^"]+)"/.exec(await first.text())![1]!;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const post = async (fields: Array<[string, string]>): Promise<{ status: number; body: string }> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams([['csrf', csrf], ...fields]).toString(),
    });
    return { status: res.status, body: await res.text() };
  };
  const signed = (body: string): Record<string, unknown> =>
    JSON.parse(unescape(/<pre class="json" id="signed-document">([^<]*)<\/pre>/.exec(body)![1]!)) as Record<string, unknown>;
  const rowIds = (body: string): string[] => [...body.matchAll(/id="(f-lines-\d+)"/g)].map((m) => m[1]!);

  it('types each row’s answers by the schema and leaves out empty rows and empty optional fields', async () => {
    const { status, body } = await post([
      ['rows:lines', '3'],
      ['lines.0.count', ' 2 '],
      ['lines.0.kind', 'alpha'],
      ['lines.0.on', 'true'],
      ['lines.0.date', '2026-01-02'],
      ['lines.0.note', ''],
      ['lines.1.count', ''],
      ['lines.1.kind', ''],
      ['lines.1.note', '  '],
      ['lines.2.count', '7'],
      ['lines.2.kind', 'beta'],
      ['lines.2.on', 'false'],
      ['form:button', 'continue'],
    ]);
    expect(status).toBe(200);
    expect(signed(body)['lines']).toEqual([
      { count: 2, kind: 'alpha', on: true, date: '2026-01-02' },
      { count: 7, kind: 'beta', on: false },
    ]);
  });

  it('links a schema error on a row after a dropped one to the row the page showed, keeping what was typed', async () => {
    const { status, body } = await post([
      ['rows:lines', '2'],
      ['lines.0.count', ''],
      ['lines.1.count', '0'],
      ['lines.1.kind', 'beta'],
      ['lines.1.on', 'true'],
    ]);
    expect(status).toBe(400);
    expect([...body.matchAll(/<li><a href="(#[^"]+)">/g)].map((m) => m[1])).toEqual(['#f-lines-1-count']);
    expect(body).toContain('“Count (Lines: item 2)” is not valid');
    expect(rowIds(body)).toEqual(['f-lines-0', 'f-lines-1']);
    expect(body).toMatch(/id="f-lines-1-count"[^>]*value="0"|value="0"[^>]*id="f-lines-1-count"/s);
    expect(body).toMatch(/id="f-lines-1-on-true" name="lines.1.on" value="true"\s+checked/);
  });

  it('keeps a number that is not one, and names it, and refuses a row count beyond the cap of 50', async () => {
    const bad = await post([
      ['rows:lines', '1'],
      ['lines.0.count', 'seven'],
      ['lines.0.kind', 'alpha'],
      ['lines.0.on', 'false'],
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('href="#f-lines-0-count">“Count (Lines: item 1)” must be a number');
    expect(bad.body).toMatch(/value="seven"/);
    const many = await post([
      ['rows:lines', '5000'],
      ['form:button', 'add:lines'],
    ]);
    expect(many.status).toBe(200);
    expect(rowIds(many.body)).toHaveLength(50);
    expect(many.body).toContain('You can add at most 50.');
    const removed = await post([
      ['rows:lines', '3'],
      ['lines.2.note', 'third'],
      ['form:button', 'remove:lines.0'],
    ]);
    expect(rowIds(removed.body)).toEqual(['f-lines-0', 'f-lines-1']);
    expect(removed.body).toMatch(/name="lines.1.note"\s+type="text"\s+value="third"/);
  });
});
