import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteDriver } from '../helpers/db.js';
import { annualDocument, createWorld, foodDocument, signCmsWith, signJwsWith, type World } from '../submissions/fixtures.js';

/** `/metrics` carries the domain an operator watches, not only HTTP traffic. */
describe('domain metrics on /metrics', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
  });
  afterAll(async () => w?.stop());

  const scrape = async (): Promise<string> => (await fetch(`${w.url}/metrics`)).text();
  const value = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('counts decisions by kind, refused logins by code, and shows the log, CRLs and hierarchy expiry', async () => {
    const before = await scrape();
    const accepted = (s: string): number => value(s, 'chancery_audit_entries_total{kind="submission.accepted"}') ?? 0;
    const pending = (s: string): number => value(s, 'chancery_audit_entries_total{kind="submission.pending"}') ?? 0;

    const post = (body: Buffer, type: string): Promise<Response> =>
      fetch(`${w.url}/api/v1/submissions`, { method: 'POST', headers: { 'content-type': type }, body: new Blob([body]) });
    expect((await post(await signJwsWith(w.a, annualDocument(w.a.uscc)), 'application/jose+json')).status).toBe(201);
    expect((await post(await signCmsWith(w.a, foodDocument(w.a.uscc)), 'application/cms')).status).toBe(201);
    const refused = await fetch(`${w.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jws: 'not.a.jws' }),
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const code = ((await refused.json()) as { code: string }).code;

    const after = await scrape();
    expect(accepted(after) - accepted(before)).toBe(1);
    expect(pending(after) - pending(before)).toBe(1);
    expect(value(after, `chancery_login_failures_total{code="${code}"}`)).toBeGreaterThanOrEqual(1);

    const size = value(after, 'chancery_log_entries')!;
    expect(size).toBeGreaterThan(5);
    expect(value(after, 'chancery_log_unsigned_entries')).toBeGreaterThanOrEqual(0);
    expect(value(after, 'chancery_log_unsigned_entries')).toBeLessThanOrEqual(size);
    expect(value(after, 'chancery_log_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);

    const nextUpdate = value(after, 'chancery_crl_next_update_seconds{crl="issuing"}')!;
    expect(nextUpdate).toBeGreaterThan(0);
    expect(nextUpdate).toBeLessThanOrEqual(24 * 3600);
    expect(value(after, 'chancery_crl_age_seconds{crl="root"}')).toBeGreaterThanOrEqual(0);
    expect(value(after, 'chancery_crl_number{crl="issuing"}')).toBeGreaterThanOrEqual(1);

    const issuingDays = value(after, 'chancery_hierarchy_certificate_expiry_days{certificate="issuing"}')!;
    const expected = (w.ts.service.parts.ca.hierarchy.issuing.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(Math.abs(issuingDays - expected)).toBeLessThan(0.01);
    expect(value(after, 'chancery_hierarchy_certificate_expiry_days{certificate="root"}')).toBeGreaterThan(issuingDays);
  });
});
