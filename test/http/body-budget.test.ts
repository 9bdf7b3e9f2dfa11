import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { bodyBudget, DEFAULT_BODY_LIMITS, rawBody } from '../../src/http/body.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

/**
 * Slow and huge bodies over raw sockets on loopback: stalled uploads count against a budget of
 * buffered bytes (per client address and in all), the next one past it is refused at once
 * (429 / 503 with Retry-After), a body that does not arrive in time is a 408, and whatever a
 * refused, timed-out or abandoned upload held is released. Client addresses are 127.0.0.x: all
 * of 127/8 is loopback on Linux.
 */

const MiB = 1024 * 1024;
let server: RunningServer;
let port: number;
const open: Socket[] = [];

beforeAll(async () => {
  const { listener, table } = createApp({
    logger: createLogger('silent'),
    version: 'test',
    readiness: async () => ({ ready: true }),
    routes: [
      (t) =>
        t.add('post', '/upload', rawBody(['application/octet-stream'], 8 * MiB), (req, res) => {
          res.json({ bytes: (req.body as Buffer).length });
        }),
    ],
  });
  expect(table).toBeDefined();
  server = await listen(listener, '127.0.0.1', 0);
  port = server.port;
});
afterAll(async () => {
  bodyBudget.limits = { ...DEFAULT_BODY_LIMITS };
  await server?.close(0);
});
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await until(() => bodyBudget.held() === 0);
});

function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (test()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Opens a connection from `from`, sends headers for `declared` bytes and `sent` bytes of them, then stalls. */
function stalledUpload(from: string, declared: number, sent: number): { socket: Socket; response: Promise<RawResponse> } {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  open.push(socket);
  socket.on('error', () => undefined);
  socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`);
  if (sent > 0) socket.write(Buffer.alloc(sent, 0x61));
  const response = new Promise<RawResponse>((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (text.length - end - 4 >= length)
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    });
    socket.on('close', () => reject(new Error(`closed without a full answer: ${text.slice(0, 200)}`)));
  });
  response.catch(() => undefined);
  return { socket, response };
}

describe('the body budget', () => {
  it('answers 429 with Retry-After once one client holds its share, while other clients still upload', async () => {
    bodyBudget.limits = { ...DEFAULT_BODY_LIMITS, perClientBytes: 3 * MiB, totalBytes: 64 * MiB };
    for (let i = 0; i < 3; i++) stalledUpload('127.0.0.2', 4 * MiB, MiB);
    await until(() => bodyBudget.held('127.0.0.2') === 3 * MiB);
    const next = stalledUpload('127.0.0.2', 4 * MiB, MiB);
    const answer = await next.response;
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(answer.body).code).toBe('ERR_HTTP_RATE_LIMITED');
    expect(bodyBudget.held('127.0.0.2')).toBe(3 * MiB);

    const other = stalledUpload('127.0.0.3', 1000, 1000);
    const ok = await other.response;
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ bytes: 1000 });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('answers 503 ERR_HTTP_OVERLOADED once all clients together hold the total', async () => {
    bodyBudget.limits = { ...DEFAULT_BODY_LIMITS, perClientBytes: 2 * MiB, totalBytes: 4 * MiB };
    for (let i = 0; i < 4; i++) stalledUpload(`127.0.1.${i + 1}`, 4 * MiB, MiB);
    await until(() => bodyBudget.held() === 4 * MiB);
    const answer = await stalledUpload('127.0.1.9', 4 * MiB, MiB).response;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(answer.body).code).toBe('ERR_HTTP_OVERLOADED');
    expect(bodyBudget.held()).toBe(4 * MiB);
  });

  it('releases what abandoned uploads held as their connections close', async () => {
    bodyBudget.limits = { ...DEFAULT_BODY_LIMITS, perClientBytes: 16 * MiB, totalBytes: 16 * MiB };
    const uploads = Array.from({ length: 8 }, (_, i) => stalledUpload(`127.0.2.${i + 1}`, 4 * MiB, 2 * MiB));
    await until(() => bodyBudget.held() === 16 * MiB);
    for (const u of uploads) u.socket.destroy();
    await until(() => bodyBudget.held() === 0);
    const ok = await stalledUpload('127.0.2.1', 3 * MiB, 3 * MiB).response;
    expect(ok.status).toBe(200);
    await until(() => bodyBudget.held() === 0);
  });

  it('answers 408 to a body that stalls past the timeout, and releases it', async () => {
    bodyBudget.limits = { ...DEFAULT_BODY_LIMITS, timeoutMs: 300 };
    const slow = stalledUpload('127.0.3.1', 4 * MiB, MiB);
    await until(() => bodyBudget.held('127.0.3.1') === MiB);
    const answer = await slow.response;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).code).toBe('ERR_HTTP_BODY_TIMEOUT');
    expect(answer.headers['connection']).toBe('close');
    await until(() => bodyBudget.held() === 0);
  });
});
