/**
 * Coalesces concurrent calls into batches without timers: the first call runs at once with
 * itself alone; calls arriving while a batch is in flight wait and run together as the next
 * batch. Under load, batches grow to the number of waiting callers (up to `maxBatch`); idle, a
 * call costs what it cost before. Each caller gets its own result or error.
 */
export class Coalescer<I, O> {
  readonly #queue: Array<{ input: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  #running = false;

  constructor(
    /** Runs one batch; returns one outcome per input, in order (an Error outcome rejects that caller). */
    private readonly run: (inputs: I[]) => Promise<Array<O | Error>>,
    private readonly maxBatch = 256,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        let outcomes: Array<O | Error>;
        try {
          outcomes = await this.run(batch.map((b) => b.input));
        } catch (error) {
          for (const b of batch) b.reject(error);
          continue;
        }
        batch.forEach((b, i) => {
          const outcome = outcomes[i];
          if (outcome instanceof Error) b.reject(outcome);
          else b.resolve(outcome as O);
        });
      }
    } finally {
      this.#running = false;
    }
  }
}
