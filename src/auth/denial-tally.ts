import type { AuditLog } from '../audit/types.js';

/** Default period of `auth.denied.summary` entries. */
export const DENIAL_SUMMARY_INTERVAL_MS = 60_000;
/** Distinct paths kept per summary (the rest are counted under "other"). */
const MAX_PATHS = 32;

/**
 * Refusals of callers nobody can name — no token, a token that does not verify, a login that
 * proves no certificate of this CA — are noise, not decisions: anyone can make any number of
 * them. They are counted here and written as one `auth.denied.summary` entry per period (only
 * when there were any), with counts by code and by path, so the log keeps a bounded trace of
 * them instead of one entry each.
 */
export class DenialTally {
  #since: Date;
  #total = 0;
  #byCode = new Map<string, number>();
  #byPath = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly audit: AuditLog,
    private readonly now: () => Date,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.#since = now();
  }

  /** Counts one anonymous refusal. */
  count(code: string, path: string): void {
    this.#total++;
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
    const key = this.#byPath.has(path) || this.#byPath.size < MAX_PATHS ? path.slice(0, 256) : 'other';
    this.#byPath.set(key, (this.#byPath.get(key) ?? 0) + 1);
  }

  /** Refusals counted and not yet written. */
  get pending(): number {
    return this.#total;
  }

  /** Writes the counts since the last summary as one entry (nothing when there were none). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    if (this.#total === 0) return;
    const from = this.#since;
    const to = this.now();
    const total = this.#total;
    const byCode = Object.fromEntries([...this.#byCode].sort());
    const byPath = Object.fromEntries([...this.#byPath].sort());
    this.#since = to;
    this.#total = 0;
    this.#byCode = new Map();
    this.#byPath = new Map();
    try {
      await this.audit.record(async (_tx, append) => {
        await append({
          kind: 'auth.denied.summary',
          actor: 'anonymous',
          subject: 'auth',
          data: { from: from.toISOString(), to: to.toISOString(), total, byCode, byPath },
        });
      });
    } catch (error) {
      // Not written (database away, log closing): keep the counts for the next period.
      this.#since = from;
      this.#total += total;
      for (const [code, n] of Object.entries(byCode)) this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + n);
      for (const [path, n] of Object.entries(byPath)) this.#byPath.set(path, (this.#byPath.get(path) ?? 0) + n);
      this.onError(error);
    }
  }

  /** Writes a summary every `intervalMs` until `stop`. */
  start(intervalMs: number = DENIAL_SUMMARY_INTERVAL_MS): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
