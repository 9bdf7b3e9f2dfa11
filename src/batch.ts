/**
 * One batching primitive for the parts that turn many concurrent calls into few expensive ones
 * (the audit log's group commit, the submission writer, the CA's issuance). Callers submit one
 * input each and wait; one batch at a time runs, and every caller of a batch settles only when
 * its batch's `run` has finished: a queue whose `run` commits acknowledges a caller only once its
 * work is durable. There are no timers: the first call runs at once with itself alone; calls
 * arriving while a batch is in flight wait and run together as the next batch (up to
 * `maxBatch`, in arrival order). Idle, a call costs what it cost unbatched; under load, batches
 * grow to the number of waiting callers.
 *
 * A leaf module: it knows nothing of databases or of the parts that use it; they bring their own
 * errors for pushback and shutdown.
 */

/** What one caller of a batch gets: its value, or its own error. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** The outcome of a caller whose input succeeded. */
export function succeeded<O>(value: O): Outcome<O> {
  return { ok: true, value };
}

/** The outcome of a caller whose input failed alone; the other callers of its batch are unaffected. */
export function failed(error: unknown): Outcome<never> {
  return { ok: false, error };
}

/** Pushback: either no bound on waiting callers, or a bound with the error that refuses the next one. */
type WaitingBound =
  | { maxWaiting?: undefined; overloaded?: undefined }
  | {
      /** Callers allowed to wait for a batch (the running batch's are not waiting); the next one is refused at once. */
      maxWaiting: number;
      /** The error refusing a caller when `waiting` callers already wait (a coded "try again shortly"). */
      overloaded: (waiting: number) => Error;
    };

export type BatchQueueOptions<I, O> = WaitingBound & {
  /**
   * Runs one batch: at most `maxBatch` inputs, in arrival order. It MUST resolve with one outcome
   * per input, in the same order, and only once the batch is done (committed, for a queue that
   * writes): every caller settles on it. A rejection fails every caller of the batch with that
   * error. Batches never overlap.
   */
  run: (inputs: readonly I[]) => Promise<ReadonlyArray<Outcome<O>>>;
  /** Most inputs in one batch, default 256. */
  maxBatch?: number;
  /** The error refusing a caller after `close()`; a queue without it cannot be closed. */
  closed?: () => Error;
};

interface Caller<I, O> {
  input: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/** Collects concurrent callers, runs them in batches one batch at a time, and settles each with its own outcome. */
export class BatchQueue<I, O> {
  readonly #run: (inputs: readonly I[]) => Promise<ReadonlyArray<Outcome<O>>>;
  readonly #maxBatch: number;
  readonly #maxWaiting: number;
  readonly #overloaded: ((waiting: number) => Error) | undefined;
  readonly #closed: (() => Error) | undefined;
  readonly #waiting: Array<Caller<I, O>> = [];
  #draining: Promise<void> | undefined;
  #isClosed = false;

  constructor(options: BatchQueueOptions<I, O>) {
    const maxBatch = options.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, not ${maxBatch}`);
    this.#run = options.run;
    this.#maxBatch = maxBatch;
    this.#maxWaiting = options.maxWaiting ?? Infinity;
    this.#overloaded = options.overloaded;
    this.#closed = options.closed;
  }

  /** Callers waiting for a batch (not counting those of the batch running now). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Queues `input` for the next batch; resolves or rejects with its own outcome once its batch has
   * run. Rejects at once with `closed()` after `close()`, and with `overloaded(waiting)` when
   * `maxWaiting` callers already wait.
   */
  submit(input: I): Promise<O> {
    if (this.#isClosed) return Promise.reject(this.#closed!());
    if (this.#waiting.length >= this.#maxWaiting) return Promise.reject(this.#overloaded!(this.#waiting.length));
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      // Started synchronously: an idle queue runs the first caller's batch without a turn of delay.
      this.#draining ??= this.#drain();
    });
  }

  /** Refuses new callers and resolves once every caller already queued has settled. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed === undefined) throw new TypeError('this batch queue was made without a `closed` error: it cannot be closed');
    this.#isClosed = true;
    await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) await this.#runBatch(this.#waiting.splice(0, this.#maxBatch));
    } finally {
      this.#draining = undefined;
    }
  }

  /** Runs one batch and settles every one of its callers; never throws. */
  async #runBatch(batch: Array<Caller<I, O>>): Promise<void> {
    let outcomes: ReadonlyArray<Outcome<O>>;
    try {
      outcomes = await this.#run(batch.map((c) => c.input));
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    batch.forEach((c, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) c.reject(new Error(`a batch of ${batch.length} inputs returned ${outcomes.length} outcomes`));
      else if (outcome.ok) c.resolve(outcome.value);
      else c.reject(outcome.error);
    });
  }
}
