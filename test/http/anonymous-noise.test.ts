import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChallenge, sweepExpiredChallenges } from '../../src/auth/challenges.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { entriesSince, treeSize } from '../submissions/fixtures.js';

/**
 * Anonymous callers cannot grow the permanent log: their refusals (no token, a bad token) are
 * counted and written as one `auth.denied.summary` entry per period; a client that keeps being
 * refused is answered 429 with Retry-After; unused login challenges do not pile up.
 */

function call(url: string, path: string, from: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'GET', localAddress: from, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(drivers())('anonymous noise on $name', (driver) => {
  let ts: TestService;
  beforeAll(async () => {
    ts = await startTestService(driver, { CHANCERY_RATE_LIMIT_BURST: '20', CHANCERY_RATE_LIMIT_PER_SECOND: '0.5' });
  });
  afterAll(async () => ts?.stop());

  it('16 anonymous clients refused 160 times leave no entry each, and one summary entry with the counts', async () => {
    await ts.service.parts.auth.denials.flush();
    const before = await treeSize(ts);
    const answers = await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        const statuses: number[] = [];
        for (let i = 0; i < 10; i++) {
          const headers: Record<string, string> = i % 2 === 0 ? {} : { authorization: 'Bearer not.a.token' };
          statuses.push((await call(ts.url, '/api/v1/submissions', `127.0.4.${c + 1}`, headers)).status);
        }
        return statuses;
      }),
    );
    expect(answers.flat().every((s) => s === 401)).toBe(true);
    expect(await treeSize(ts)).toBe(before);
    await ts.service.parts.auth.denials.flush();
    const written = await entriesSince(ts, before);
    expect(written.map((e) => e.kind)).toEqual(['auth.denied.summary']);
    expect(written[0]!.data).toMatchObject({
      total: 160,
      byCode: { ERR_AUTH_TOKEN_MISSING: 80, ERR_AUTH_TOKEN_INVALID: 80 },
      byPath: { '/api/v1/submissions': 160 },
    });
    // Nothing more to say: no empty summaries.
    await ts.service.parts.auth.denials.flush();
    expect(await treeSize(ts)).toBe(before + 1);
  });

  it('answers 429 with Retry-After to a client refused more than its burst, still serving the others and the health checks', async () => {
    const from = '127.0.5.1';
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 25; i++) {
      const r = await call(ts.url, '/api/v1/enterprises', from);
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    expect(limited!.body.code).toBe('ERR_HTTP_RATE_LIMITED');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Challenges are limited too (each one is a row).
    expect((await call(ts.url, '/api/v1/auth/challenge', from)).status).toBe(429);
    expect((await call(ts.url, '/healthz', from)).status).toBe(200);
    expect((await call(ts.url, '/api/v1/enterprises', '127.0.5.2')).status).toBe(401);
  });

  it('keeps the challenge table bounded: expired challenges go, and the oldest beyond the bound', async () => {
    const db = ts.service.db;
    await db.query('DELETE FROM auth_challenges');
    const now = new Date();
    for (let i = 0; i < 30; i++) await createChallenge(db, new Date(now.getTime() - 10 * 60_000)); // long expired
    for (let i = 0; i < 30; i++) await createChallenge(db, new Date(now.getTime() + i));
    await sweepExpiredChallenges(db, now, 12);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM auth_challenges');
    expect(rows[0]!.n).toBe(12);
    const { rows: left } = await db.query<{ oldest: Date | string }>('SELECT min(expires_at) AS oldest FROM auth_challenges');
    expect(new Date(left[0]!.oldest).getTime()).toBeGreaterThanOrEqual(now.getTime() + 18 + 120_000);
  });
});
