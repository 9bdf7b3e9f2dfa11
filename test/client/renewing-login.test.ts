import { describe, expect, it } from 'vitest';
import { RenewingLogin, type LoginResult } from '../../src/client/login.js';

/** A login that hands out token-1, token-2, … each expiring `lifetimeMs` after it was made. */
function countingLogin(lifetimeMs: number): { login: () => Promise<LoginResult>; calls: () => number } {
  let n = 0;
  return {
    login: async () => {
      n++;
      await new Promise((r) => setTimeout(r, 5));
      return { token: `token-${n}`, expiresAt: new Date(Date.now() + lifetimeMs).toISOString(), principal: {} };
    },
    calls: () => n,
  };
}

describe('RenewingLogin', () => {
  it('logs in at start and keeps the token while more than the margin is left', async () => {
    const l = countingLogin(15 * 60_000);
    const session = await RenewingLogin.start(l.login, 120_000);
    expect(l.calls()).toBe(1);
    expect(await session.authorization()).toBe('Bearer token-1');
    expect(await session.authorization()).toBe('Bearer token-1');
    expect(l.calls()).toBe(1);
  });

  it('logs in again once less than the margin is left, one renewal for concurrent callers', async () => {
    const l = countingLogin(60_000); // already inside a 2-minute margin
    const session = await RenewingLogin.start(l.login, 120_000);
    const headers = await Promise.all(Array.from({ length: 5 }, () => session.authorization()));
    expect(headers).toEqual(Array.from({ length: 5 }, () => 'Bearer token-2'));
    expect(l.calls()).toBe(2);
  });

  it('passes a refused login on to the caller', async () => {
    let first = true;
    const session = await RenewingLogin.start(async () => {
      if (!first) throw new Error('the certificate is revoked');
      first = false;
      return { token: 't', expiresAt: new Date(Date.now() - 1).toISOString(), principal: {} };
    });
    await expect(session.authorization()).rejects.toThrow('the certificate is revoked');
  });
});
