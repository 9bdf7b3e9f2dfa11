import { randomBytes } from '../crypto/digest.js';
import type { Queryable } from '../db/types.js';

/** Login nonces: 256 random bits, valid for two minutes, usable once (DELETE … RETURNING). */
export const CHALLENGE_LIFETIME_MS = 120_000;

export async function createChallenge(q: Queryable, now: Date): Promise<{ nonce: string; expiresAt: string }> {
  const nonce = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + CHALLENGE_LIFETIME_MS);
  await q.query('INSERT INTO auth_challenges (nonce, expires_at) VALUES ($1, $2)', [nonce, expiresAt.toISOString()]);
  return { nonce, expiresAt: expiresAt.toISOString() };
}

/** Uses a nonce up: true when it existed and had not expired. It is gone afterwards either way. */
export async function consumeChallenge(q: Queryable, nonce: string, now: Date): Promise<boolean> {
  const { rows } = await q.query<{ expires_at: Date | string }>('DELETE FROM auth_challenges WHERE nonce = $1 RETURNING expires_at', [
    nonce,
  ]);
  const row = rows[0];
  return row !== undefined && new Date(row.expires_at).getTime() > now.getTime();
}

/** Most open challenges kept: past it, the oldest are dropped (their holders ask again). */
export const MAX_OPEN_CHALLENGES = 10_000;

/** Deletes expired challenges, and the oldest beyond `max` open ones: the table stays bounded. */
export async function sweepExpiredChallenges(q: Queryable, now: Date, max: number = MAX_OPEN_CHALLENGES): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM auth_challenges
      WHERE expires_at < $1
         OR nonce IN (SELECT nonce FROM auth_challenges ORDER BY expires_at DESC, nonce OFFSET $2)`,
    [now.toISOString(), max],
  );
  return rowCount;
}
