import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ChanceryError } from '../../src/errors.js';
import { createApp } from '../../src/http/app.js';
import { jsonBody, rawBody } from '../../src/http/body.js';
import { RouteTable } from '../../src/http/routes.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

/** Collects log lines so tests can check what reached the log and what did not. */
class LogSink extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
}

describe('HTTP app', () => {
  const sink = new LogSink();
  let ready = true;
  let server: RunningServer;
  let base: string;
  let releaseSlow: () => void = () => undefined;

  beforeAll(async () => {
    const { app } = createApp({
      logger: createLogger('debug', sink),
      version: '9.9.9',
      readiness: async () => (ready ? { ready: true } : { ready: false, reason: 'database is not reachable' }),
      routes: [
        (t) => {
          t.add('post', '/echo', jsonBody(1024), (req, res) => {
            res.json({ got: req.body as unknown });
          });
          t.add('post', '/bytes', rawBody(['application/cms'], 16), (req, res) => {
            res.json({ length: (req.body as Buffer).length });
          });
          t.add('get', '/crash', () => {
            throw new Error('secret internal detail at /srv/db password=hunter2');
          });
          t.add('get', '/busy', () => {
            throw new ChanceryError('ERR_HTTP_OVERLOADED', 'too many requests are waiting', { detail: { retryAfterSeconds: 2 } });
          });
          t.add('get', '/things/:id', (req, res) => {
            res.json({ id: req.params['id'] });
          });
          t.add('get', '/nul', () => {
            // What pg and PGlite throw for a text parameter with a NUL (SQLSTATE 22021).
            throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
          });
          t.add(
            'get',
            '/as-officer',
            (_req, res, next) => {
              // What requireRole leaves for the handlers once a token is accepted.
              res.locals['principal'] = { role: 'officer', actor: 'officer:SZ-R-001', certificateSerial: '01', name: 'Wang Fang' };
              next();
            },
            () => {
              throw new ChanceryError('ERR_HTTP_BAD_REQUEST', 'not this one');
            },
          );
          t.add('get', '/coded', () => {
            throw new ChanceryError('ERR_HTTP_BAD_REQUEST', 'index must be an integer');
          });
          t.add('get', '/slow', async (_req, res) => {
            await new Promise<void>((r) => (releaseSlow = r));
            res.json({ slow: 'done' });
          });
        },
      ],
    });
    server = await listen(app, '127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close(0);
  });

  const expectProblem = async (res: Response, status: number, code: string): Promise<Record<string, unknown>> => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:chancery:problem:[a-z0-9-]+$/) });
    expect(typeof body['detail']).toBe('string');
    expect(typeof body['title']).toBe('string');
    return body;
  };

  it('answers /healthz with 200 and the version', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: '9.9.9' });
  });

  it('answers /readyz with 200 when ready and a 503 problem naming the reason when not', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    ready = false;
    const body = await expectProblem(await fetch(`${base}/readyz`), 503, 'ERR_HTTP_NOT_READY');
    ready = true;
    expect(body['detail']).toBe('database is not reachable');
  });

  it('gives every response a request id, keeping a well-formed one the client sent', async () => {
    const mine = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('abc-123');
    const junk = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(junk.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    const body = await expectProblem(res, 400, 'ERR_HTTP_MALFORMED_JSON');
    expect(body['detail']).toMatch(/not valid JSON/);
  });

  it('accepts well-formed JSON with a charset parameter', async () => {
    const res = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"a":1}',
    });
    expect(await res.json()).toEqual({ got: { a: 1 } });
  });

  it('answers an oversized body with 413, declared or streamed', async () => {
    const declared = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(2000) }),
    });
    await expectProblem(declared, 413, 'ERR_HTTP_BODY_TOO_LARGE');
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(10));
        c.enqueue(new Uint8Array(10));
        c.close();
      },
    });
    const chunked = await fetch(`${base}/bytes`, {
      method: 'POST',
      headers: { 'content-type': 'application/cms' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectProblem(chunked, 413, 'ERR_HTTP_BODY_TOO_LARGE');
  });

  it('answers an unsupported or missing media type with 415 listing what is accepted', async () => {
    const body = await expectProblem(
      await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }),
      415,
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    expect(body['accepted']).toEqual(['application/json']);
    await expectProblem(await fetch(`${base}/bytes`, { method: 'POST', body: new Uint8Array(3) }), 415, 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with 404', async () => {
    await expectProblem(await fetch(`${base}/no/such/thing`), 404, 'ERR_HTTP_NOT_FOUND');
  });

  it('answers a wrong method on a known route with 405 and an Allow header', async () => {
    const res = await fetch(`${base}/echo`, { method: 'DELETE' });
    expect(res.headers.get('allow')).toBe('POST');
    await expectProblem(res, 405, 'ERR_HTTP_METHOD_NOT_ALLOWED');
    expect((await fetch(`${base}/healthz`, { method: 'PUT' })).headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers overload with 503 and a Retry-After header (pushback, not a timeout)', async () => {
    const res = await fetch(`${base}/busy`);
    expect(res.headers.get('retry-after')).toBe('2');
    const body = await expectProblem(res, 503, 'ERR_HTTP_OVERLOADED');
    expect(body['detail']).toBe('too many requests are waiting');
  });

  it('maps a coded domain error to its status and message', async () => {
    const body = await expectProblem(await fetch(`${base}/coded`), 400, 'ERR_HTTP_BAD_REQUEST');
    expect(body['detail']).toBe('index must be an integer');
  });

  it('answers a path the router cannot percent-decode, and a NUL the database refuses, with 400', async () => {
    expect(await (await fetch(`${base}/things/a%20b`)).json()).toEqual({ id: 'a b' });
    const undecodable = await expectProblem(await fetch(`${base}/things/%ZZ`), 400, 'ERR_HTTP_BAD_REQUEST');
    expect(undecodable['detail']).toContain('percent-encoding');
    const nul = await expectProblem(await fetch(`${base}/nul`), 400, 'ERR_HTTP_BAD_REQUEST');
    expect(nul['detail']).toContain('NUL');
  });

  it('answers an unexpected failure with a generic 500: no stack, no internal detail, cause logged', async () => {
    const res = await fetch(`${base}/crash`, { headers: { 'X-Request-Id': 'crash-1' } });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('/srv/db');
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(JSON.parse(text)).toMatchObject({ code: 'ERR_HTTP_INTERNAL', instance: 'urn:chancery:request:crash-1' });
    const logged = sink.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['reqId'] === 'crash-1' && l['msg'] === 'request failed');
    expect(logged).toBeDefined();
  });

  it('logs one structured line per request without the authorization header', async () => {
    await fetch(`${base}/healthz`, { headers: { Authorization: 'Bearer very-secret-token', 'X-Request-Id': 'log-1' } });
    const line = sink.lines.find((l) => l.includes('"reqId":"log-1"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ method: 'GET', route: '/healthz', status: 200, msg: 'request' });
    expect(sink.lines.join('\n')).not.toContain('very-secret-token');
  });

  it("puts the caller's actor and a refusal's problem code in the request line", async () => {
    await fetch(`${base}/as-officer`, { headers: { 'X-Request-Id': 'log-2' } });
    await fetch(`${base}/no/such/page`, { headers: { 'X-Request-Id': 'log-3' } });
    const line = (id: string): Record<string, unknown> =>
      sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['reqId'] === id && l['msg'] === 'request')!;
    expect(line('log-2')).toMatchObject({ status: 400, actor: 'officer:SZ-R-001', code: 'ERR_HTTP_BAD_REQUEST' });
    expect(line('log-3')).toMatchObject({ status: 404, code: 'ERR_HTTP_NOT_FOUND' });
    expect(line('log-3')['actor']).toBeUndefined();
  });

  it('exposes Prometheus counts and latency histograms by route pattern and status', async () => {
    await fetch(`${base}/no/such/thing`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/chancery_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toMatch(/chancery_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(text).toMatch(/chancery_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).not.toContain('/no/such/thing');
  });

  it('holds the port while starting, answering 503 with Retry-After until the app is attached', async () => {
    const early = await listen(undefined, '127.0.0.1', 0);
    try {
      const url = `http://127.0.0.1:${early.port}/healthz`;
      const before = await fetch(url);
      expect(before.status).toBe(503);
      expect(before.headers.get('retry-after')).toBe('1');
      expect(await before.json()).toMatchObject({ code: 'ERR_HTTP_NOT_READY', detail: 'the service is starting' });
      early.attach(createApp({ logger: createLogger('silent'), version: 'v', readiness: async () => ({ ready: true }) }).app);
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await early.close(0);
    }
  });

  it('finishes an in-flight request on shutdown and then refuses new connections', async () => {
    const { app } = createApp({
      logger: createLogger('silent'),
      version: 't',
      readiness: async () => ({ ready: true }),
      routes: [
        (t) =>
          t.add('get', '/slow', async (_req, res) => {
            await new Promise<void>((r) => (releaseSlow = r));
            res.json({ slow: 'done' });
          }),
      ],
    });
    const own = await listen(app, '127.0.0.1', 0);
    const url = `http://127.0.0.1:${own.port}`;
    const inFlight = fetch(`${url}/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = own.close(5000);
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    releaseSlow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slow: 'done' });
    await closing;
  });
});

describe('HTTP app: lean routes (dispatched without express)', () => {
  const sink = new LogSink();
  let server: RunningServer;
  let base: string;
  let expressSaw = 0;

  beforeAll(async () => {
    const { listener } = createApp({
      logger: createLogger('info', sink),
      version: '9.9.9',
      readiness: async () => ({ ready: true }),
      routes: [
        (t) => {
          t.addLean(
            'post',
            '/lean',
            (req, _res, next) => {
              if ('app' in req) expressSaw++; // express's request has .app; a lean dispatch does not
              next();
            },
            rawBody(['application/cms'], 16),
            async (req, res) => {
              const length = (req.body as Buffer).length;
              if (length === 13) throw new Error('secret internal detail password=hunter2');
              await Promise.resolve();
              res.statusCode = 201;
              res.setHeader('Content-Type', 'application/json');
              res.end(JSON.stringify({ length, requestId: res.locals['requestId'], url: req.originalUrl }));
            },
          );
        },
      ],
    });
    server = await listen(listener, '127.0.0.1', 0);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close(0);
  });

  const post = (
    path: string,
    body: Uint8Array,
    headers: Record<string, string> = { 'content-type': 'application/cms' },
  ): Promise<Response> => fetch(`${base}${path}`, { method: 'POST', headers, body });

  it('serves a lean route with the request id, nosniff header, log line and metrics an express route gets', async () => {
    const res = await post('/lean?x=1', new Uint8Array(5), { 'content-type': 'application/cms', 'X-Request-Id': 'lean-1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('lean-1');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.json()).toEqual({ length: 5, requestId: 'lean-1', url: '/lean?x=1' });
    expect(expressSaw).toBe(0);
    const line = sink.lines.find((l) => l.includes('"reqId":"lean-1"'));
    expect(JSON.parse(line!)).toMatchObject({ method: 'POST', route: '/lean', status: 201, msg: 'request' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/chancery_http_requests_total\{method="POST",route="\/lean",status="201"\} 1/);
  });

  it("answers a lean route's faults with the same problem documents as express", async () => {
    const unsupported = await post('/lean', new Uint8Array(3), { 'content-type': 'text/plain' });
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await unsupported.json()).toMatchObject({ code: 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', accepted: ['application/cms'] });
    const tooLarge = await post('/lean', new Uint8Array(20));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('connection')).toBe('close');
    const crash = await post('/lean', new Uint8Array(13), { 'content-type': 'application/cms', 'X-Request-Id': 'lean-crash' });
    const text = await crash.text();
    expect(crash.status).toBe(500);
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toMatchObject({ code: 'ERR_HTTP_INTERNAL', instance: 'urn:chancery:request:lean-crash' });
    expect(sink.lines.some((l) => l.includes('"reqId":"lean-crash"') && l.includes('request failed'))).toBe(true);
  });

  it('leaves every other method and spelling of a lean path to express', async () => {
    const other = await fetch(`${base}/lean`, { method: 'PUT' });
    expect(other.status).toBe(405);
    expect(other.headers.get('allow')).toBe('POST');
    const slash = await post('/lean/', new Uint8Array(4));
    expect(slash.status).toBe(201);
    expect(expressSaw).toBe(1);
  });

  it('refuses to register a lean route with parameters', () => {
    const table = new RouteTable();
    expect(() => table.addLean('get', '/things/:id', (_req, res) => res.end())).toThrow(/plain path/);
  });
});
