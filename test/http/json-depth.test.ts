import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileById } from '../../src/ca/profiles.js';
import { MAX_JSON_DEPTH, parseJsonBounded } from '../../src/http/body.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { adminApi, type Api } from './ca-client.js';

/** `{"a":{"a":…}}` `depth` levels deep, as text (JSON.stringify of such a value overflows the stack). */
function nestedObject(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}
function nestedArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('parseJsonBounded', () => {
  it('accepts nesting up to the limit and refuses one level more, objects and arrays alike', () => {
    expect(parseJsonBounded(nestedObject(MAX_JSON_DEPTH - 1))).toBeTypeOf('object');
    expect(() => parseJsonBounded(nestedObject(MAX_JSON_DEPTH + 1))).toThrow(expect.objectContaining({ code: 'ERR_HTTP_JSON_TOO_DEEP' }));
    expect(() => parseJsonBounded(nestedArray(MAX_JSON_DEPTH + 1))).toThrow(expect.objectContaining({ code: 'ERR_HTTP_JSON_TOO_DEEP' }));
  });
  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '['.repeat(5000) + '\\"{'.repeat(100), t: ['x\\', '{{{'] });
    expect(parseJsonBounded(text)).toEqual(JSON.parse(text));
  });
  it('still reports malformed JSON as malformed', () => {
    expect(() => parseJsonBounded('{"a":')).toThrow(expect.objectContaining({ code: 'ERR_HTTP_MALFORMED_JSON' }));
  });
});

describe('a certificate profile named by a deeply nested value', () => {
  it('is ERR_CA_PROFILE_UNKNOWN, not a stack overflow', () => {
    const deep = JSON.parse(nestedObject(8000)) as unknown;
    expect(() => profileById(new Map(), deep)).toThrow(expect.objectContaining({ code: 'ERR_CA_PROFILE_UNKNOWN' }));
  });
});

describe.each(drivers().filter((d) => d.name === 'pglite'))('deeply nested JSON bodies on $name', (driver) => {
  let ts: TestService;
  let admin: Api;
  beforeAll(async () => {
    ts = await startTestService(driver);
    admin = await adminApi(ts);
  });
  afterAll(async () => ts?.stop());

  const post = async (path: string, body: string, token?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(`${ts.url}${path}`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as { code: string; status: number } };
  };

  it('POST /api/v1/verify with a jws member 4,500 levels deep is a 400 with a code', async () => {
    const r = await post('/api/v1/verify', `{"jws":${nestedObject(4500)}}`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ERR_HTTP_JSON_TOO_DEEP');
  });

  it('POST /api/v1/certificates with a profile 8,000 levels deep is a 400 with a code', async () => {
    const r = await post('/api/v1/certificates', `{"profile":${nestedObject(8000)},"csr":"x","uscc":"x"}`, admin.token);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('ERR_HTTP_JSON_TOO_DEEP');
  });

  it('every JSON route refuses deep nesting the same way (enterprises, officers, login)', async () => {
    for (const path of ['/api/v1/enterprises', '/api/v1/officers', '/api/v1/auth/token']) {
      const r = await post(path, nestedArray(10_000), admin.token);
      expect(r.status, path).toBe(400);
      expect(r.body.code, path).toBe('ERR_HTTP_JSON_TOO_DEEP');
    }
  });

  it('shallow bodies still reach the route (a verify of a bad jws is the route’s own 400)', async () => {
    const r = await post('/api/v1/verify', JSON.stringify({ jws: 'not.a.jws' }));
    expect(r.status).toBeLessThan(500);
    expect(r.body.code).not.toBe('ERR_HTTP_JSON_TOO_DEEP');
  });
});
