import { DbError } from './errors.js';
import { SQLSTATE, sqlState, type TransactionOptions } from './types.js';

/** Runs `attempt` until it succeeds or fails with an error that a retry cannot cure. */
export async function withRetry<T>(attempt: () => Promise<T>, options: TransactionOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error, options)) throw error;
      if (n >= maxAttempts) {
        throw new DbError('ERR_DB_RETRIES_EXHAUSTED', `transaction failed ${n} times on conflicts`, { cause: error });
      }
      // Full jitter, capped: contenders spread out instead of colliding again in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 2 ** n)));
    }
  }
}

function isRetryable(error: unknown, options: TransactionOptions): boolean {
  const state = sqlState(error);
  if (state === SQLSTATE.serializationFailure || state === SQLSTATE.deadlockDetected) return true;
  return state === SQLSTATE.uniqueViolation && options.retryOnUniqueViolation === true;
}
