/**
 * One CPU-heavy job per event-loop turn, first come first served. Validating an envelope is
 * about a millisecond of synchronous work and promise continuations; without this, every request
 * read in one poll phase is validated in that same turn (microtasks drain before I/O), so a burst
 * of 30 arrivals holds the loop for tens of milliseconds while the writer's database replies sit
 * unread, and each of a batch's round trips waits behind such a burst. Taking turns lets the
 * loop read sockets between two validations: the batch in flight advances while the next ones
 * are validated. Nothing is skipped or reordered within a job; only when it starts changes.
 */
export class Turns {
  readonly #waiting: Array<() => void> = [];
  #scheduled = false;

  /** Resolves when it is this caller's turn: in a later turn of the loop, after earlier callers. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#next);
      }
    });
  }

  // One caller per check phase: its synchronous work and microtasks run before the callback
  // returns, and the next caller's turn comes after the loop has polled for I/O again.
  readonly #next = (): void => {
    const resolve = this.#waiting.shift();
    if (this.#waiting.length > 0) setImmediate(this.#next);
    else this.#scheduled = false;
    resolve?.();
  };
}
