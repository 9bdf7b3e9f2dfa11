import type { IncomingMessage, ServerResponse } from 'node:http';

/** A token bucket per client address: `burst` tokens, refilled at `perSecond`. */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most addresses tracked; the longest-idle are forgotten first (they are full again anyway). */
  maxClients?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 2, burst: 60 };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-client limits on what costs the service but proves nothing: each refused authentication
 * (a 401 or 403 answer) and each login challenge takes a token from the client's bucket. A client
 * whose bucket is empty is answered 429 with Retry-After on everything but the ops routes until
 * it refills. Callers that authenticate spend nothing, so a busy honest client is never slowed.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxClients: number;

  constructor(
    options: RateLimitOptions = DEFAULT_RATE_LIMIT,
    private readonly clock: () => number = Date.now,
  ) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#maxClients = options.maxClients ?? 100_000;
  }

  #bucket(client: string): Bucket {
    const now = this.clock();
    let b = this.#buckets.get(client);
    if (b === undefined) {
      b = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxClients) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
      b.at = now;
      this.#buckets.delete(client); // re-insert: the map is in order of last use
    }
    this.#buckets.set(client, b);
    return b;
  }

  /** Seconds until `client` may be served again, or 0 when it may be now. */
  blockedFor(client: string): number {
    const b = this.#bucket(client);
    if (b.tokens >= 1) return 0;
    return this.#perMs <= 0 ? 3600 : Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000));
  }

  /** Takes one token from `client` (the bucket may go empty, never below zero). */
  spend(client: string): void {
    const b = this.#bucket(client);
    b.tokens = Math.max(0, b.tokens - 1);
  }

  /**
   * Wires the limiter to one request: undefined when it may go on (and is charged when its
   * answer is a refused authentication or it asks for a challenge), else the Retry-After seconds.
   */
  admit(req: IncomingMessage, res: ServerResponse): number | undefined {
    const client = req.socket.remoteAddress ?? 'unknown';
    const wait = this.blockedFor(client);
    if (wait > 0) return wait;
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/api/v1/auth/challenge') this.spend(client);
    res.once('finish', () => {
      if (res.statusCode === 401 || res.statusCode === 403) this.spend(client);
    });
    return undefined;
  }
}
