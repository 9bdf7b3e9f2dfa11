import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi, openApiPath, undocumentedRoutes } from '../../src/http/openapi.js';
import { STATUS_BY_CODE, problemType } from '../../src/http/problem.js';
import { RouteTable } from '../../src/http/routes.js';
import { pgliteDriver } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';

/** `GET /openapi.json`: an OpenAPI 3.1 document of every route the app serves. */
describe('the OpenAPI document', () => {
  let ts: TestService;
  let doc: Record<string, any>;
  beforeAll(async () => {
    ts = await startTestService(pgliteDriver);
    const res = await fetch(`${ts.url}/openapi.json`);
    expect(res.headers.get('content-type')).toContain('application/json');
    doc = (await res.json()) as Record<string, any>;
  });
  afterAll(async () => ts?.stop());

  it('is OpenAPI 3.1 and describes every route the app serves, with nothing left undescribed', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const routes = ts.service.http.table.routes;
    expect(undocumentedRoutes(routes).map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual([]);
    for (const r of routes) expect(doc['paths'][openApiPath(r.path)]?.[r.method], `${r.method} ${r.path}`).toBeDefined();
    const described = Object.entries(doc['paths'] as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p}`),
    );
    expect(described.sort()).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
  });

  it('fails to describe a route nobody described, so the test above fails when one is added', () => {
    const table = new RouteTable();
    table.add('get', '/healthz', () => undefined);
    table.add('post', '/api/v1/undescribed/:thing', () => undefined);
    expect(undocumentedRoutes(table.routes)).toEqual([{ method: 'post', path: '/api/v1/undescribed/:thing' }]);
    expect(Object.keys(buildOpenApi(table.routes)['paths'] as object)).toEqual(['/healthz']);
  });

  it('declares every path parameter, resolves every $ref, and gives responses with problem types', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g) ?? [];
    for (const ref of refs) expect(doc['components']['schemas'][ref.split('/').pop()!.replace('"', '')], ref).toBeDefined();
    for (const [path, ops] of Object.entries(doc['paths'] as Record<string, Record<string, any>>)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        expect(declared, `${method} ${path}`).toEqual(names);
        expect(
          Object.keys(op.responses).some((s) => s.startsWith('2')),
          `${method} ${path} has a success response`,
        ).toBe(true);
        expect(op.responses['500']['x-problem-types']).toEqual([problemType('ERR_HTTP_INTERNAL')]);
      }
    }
  });

  it('lists the problem types of the submission routes with their statuses', () => {
    const countersign = doc['paths']['/api/v1/submissions/{id}/countersignatures']['post'];
    expect(countersign.responses['409']['x-problem-types']).toContain(problemType('ERR_SUBMISSION_STEP_TAKEN'));
    expect(countersign['x-roles']).toEqual(['officer']);
    const submit = doc['paths']['/api/v1/submissions']['post'];
    expect(Object.keys(submit.requestBody.content)).toEqual(
      expect.arrayContaining(['application/cms', 'application/jose+json', 'multipart/form-data']),
    );
    expect(submit.responses['422']['x-problem-types']).toContain(problemType('ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE'));
    expect(Object.keys(doc['x-problem-types'])).toHaveLength(Object.keys(STATUS_BY_CODE).length);
  });
});
