import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { verifyRoutes } from '../../src/http/routes/verify.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { signCms } from '../../src/sign/cms.js';
import { signJws, toCompact } from '../../src/sign/jws.js';
import { inMemoryRevocation } from '../../src/verify/revocation.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from '../verify/envelope-pki.js';

const NOW = new Date('2026-03-01T08:00:00Z');

describe('POST /api/v1/verify', () => {
  let pki: TestPki;
  let ent: TestIdentity;
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    pki = await createTestPki(NOW);
    ent = await pki.enterprise();
    const revocation = inMemoryRevocation([
      { issuer: pki.issuing.certificate, revoked: [] },
      { issuer: pki.root.certificate, revoked: [] },
    ]);
    const { app } = createApp({
      logger: createLogger('silent'),
      version: 'test',
      readiness: async () => ({ ready: true }),
      routes: [
        verifyRoutes({
          trust: () => ({ anchors: pki.anchors, intermediates: [] }),
          revocation,
          policies: loadPolicies(),
          now: () => new Date(NOW.getTime() + 60_000),
        }),
      ],
    });
    server = await listen(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}/api/v1/verify`;
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (body: string | Uint8Array, type: string, query = ''): Promise<Response> =>
    fetch(`${base}${query}`, { method: 'POST', headers: { 'content-type': type }, body });

  it('answers the report of an encapsulated CMS envelope (application/cms) under a policy', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: false, time: NOW });
    const res = await post(env, 'application/cms', '?policy=annual-report');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const report = (await res.json()) as ValidationReport;
    expect(report).toMatchObject({ indication: 'TOTAL_PASSED', format: 'cms', policy: { id: 'annual-report' } });
  });

  it('takes a detached CMS envelope and its document as JSON', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const res = await post(
      JSON.stringify({ cms: env.toString('base64'), content: doc.toString('base64') }),
      'application/json',
      '?policy=annual-report',
    );
    expect(((await res.json()) as ValidationReport).indication).toBe('TOTAL_PASSED');
    const tampered = await post(
      JSON.stringify({ cms: env.toString('base64'), content: annualReport({ reportYear: 2020 }).toString('base64') }),
      'application/json',
    );
    expect(tampered.status).toBe(200);
    expect(((await tampered.json()) as ValidationReport).subIndication).toBe('HASH_FAILURE');
  });

  it('takes JWS as application/jose+json, application/jose and JSON', async () => {
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: annualReport(), time: NOW });
    for (const [body, type] of [
      [JSON.stringify(jws), 'application/jose+json'],
      [toCompact(jws), 'application/jose'],
      [JSON.stringify({ jws }), 'application/json'],
    ] as const) {
      const res = await post(body, type, '?policy=annual-report');
      expect(res.status, type).toBe(200);
      expect(((await res.json()) as ValidationReport).indication, type).toBe('TOTAL_PASSED');
    }
  });

  it('chooses the policy by the document type with policy=auto', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: false, time: NOW });
    const report = (await (await post(env, 'application/cms', '?policy=auto')).json()) as ValidationReport;
    expect(report).toMatchObject({ indication: 'TOTAL_PASSED', policy: { id: 'annual-report' } });
    const unknown = await signCms({
      signer: ent.signer,
      chain: ent.chain,
      content: Buffer.from('{"type":"parking-permit"}'),
      detached: false,
      time: NOW,
    });
    expect((await (await post(unknown, 'application/cms', '?policy=auto')).json()) as ValidationReport).toMatchObject({
      indication: 'TOTAL_FAILED',
      subIndication: 'POLICY_FAILURE',
      policy: null,
    });
  });

  it('answers FORMAT_FAILURE (200) for an envelope that is not one', async () => {
    const res = await post(Buffer.from([0x30, 0x82, 0xff]), 'application/cms');
    expect(res.status).toBe(200);
    expect((await res.json()) as ValidationReport).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
  });

  it('answers 4xx problems for requests that are not verification requests', async () => {
    const problem = async (res: Response): Promise<{ status: number; code: string }> => ({
      status: res.status,
      code: ((await res.json()) as { code: string }).code,
    });
    expect(await problem(await post('x', 'text/plain'))).toEqual({ status: 415, code: 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' });
    expect(await problem(await post('{"cms":"@@@"}', 'application/json'))).toEqual({ status: 400, code: 'ERR_HTTP_BAD_REQUEST' });
    expect(await problem(await post('{"cms":"AAAA","jws":"a.b.c"}', 'application/json'))).toEqual({
      status: 400,
      code: 'ERR_HTTP_BAD_REQUEST',
    });
    expect(await problem(await post('{"cms":', 'application/json'))).toEqual({ status: 400, code: 'ERR_HTTP_MALFORMED_JSON' });
    expect(await problem(await post(Buffer.from([0x30, 0]), 'application/cms', '?policy=parking-permit'))).toEqual({
      status: 422,
      code: 'ERR_POLICY_UNKNOWN',
    });
    expect(await problem(await post(Buffer.alloc(20 * 1024 * 1024, 0x30), 'application/cms'))).toEqual({
      status: 413,
      code: 'ERR_HTTP_BODY_TOO_LARGE',
    });
  });
});
