import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchQueue, failed, succeeded, type Outcome } from '../src/batch.js';

/** A promise with its resolver outside, to hold a batch open while a test arranges arrivals. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every pending microtask and I/O callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Overloaded extends Error {}
class Closed extends Error {}

describe('BatchQueue', () => {
  it('runs the first call at once, alone, and the calls arriving meanwhile together as the next batch, in arrival order', async () => {
    const batches: number[][] = [];
    const first = gate();
    const q = new BatchQueue<number, number>({
      run: async (inputs) => {
        batches.push([...inputs]);
        if (batches.length === 1) await first.promise;
        return inputs.map((i) => succeeded(i * 2));
      },
    });
    const a = q.submit(1);
    expect(batches).toEqual([[1]]); // started synchronously: no timer, no turn of delay
    const rest = [2, 3, 4].map((i) => q.submit(i));
    expect(q.waiting).toBe(3);
    first.open();
    expect(await Promise.all([a, ...rest])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('settles a caller only once its batch has finished running (acknowledged after the batch, never before)', async () => {
    const commit = gate();
    let committed = false;
    const q = new BatchQueue<string, string>({
      run: async (inputs) => {
        await commit.promise;
        committed = true;
        return inputs.map((i) => succeeded(i));
      },
    });
    let settledEarly = false;
    const call = q.submit('x').finally(() => (settledEarly = !committed));
    await settle();
    expect(committed).toBe(false);
    commit.open();
    expect(await call).toBe('x');
    expect(settledEarly).toBe(false);
  });

  it('never puts more than maxBatch callers in one batch and never runs two batches at once', async () => {
    const sizes: number[] = [];
    let running = 0;
    let most = 0;
    const q = new BatchQueue<number, number>({
      maxBatch: 4,
      run: async (inputs) => {
        most = Math.max(most, ++running);
        sizes.push(inputs.length);
        await settle();
        running--;
        return inputs.map((i) => succeeded(i));
      },
    });
    const results = await Promise.all(Array.from({ length: 11 }, (_, i) => q.submit(i)));
    expect(results).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(sizes).toEqual([1, 4, 4, 2]);
    expect(most).toBe(1);
  });

  it('rejects only the caller whose outcome is an error; the others of its batch get their values', async () => {
    const q = new BatchQueue<number, number>({
      run: async (inputs) => inputs.map((i) => (i === 2 ? failed(new Error('two is refused')) : succeeded(i))),
    });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => q.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).toBe('two is refused');
  });

  it('rejects every caller of a batch that throws with its error, and runs the next batch as usual', async () => {
    const first = gate();
    let calls = 0;
    const q = new BatchQueue<number, number>({
      run: async (inputs) => {
        if (++calls === 1) {
          await first.promise;
          return inputs.map((i) => succeeded(i));
        }
        if (calls === 2) throw new Error('the transaction failed');
        return inputs.map((i) => succeeded(i));
      },
    });
    const alone = q.submit(0);
    const doomed = [1, 2].map((i) => q.submit(i));
    first.open();
    expect(await alone).toBe(0);
    for (const d of doomed) await expect(d).rejects.toThrow('the transaction failed');
    expect(await q.submit(3)).toBe(3);
  });

  it('rejects a batch function that throws synchronously like one that rejects', async () => {
    const q = new BatchQueue<number, number>({
      run: () => {
        throw new Error('not even started');
      },
    });
    await expect(q.submit(1)).rejects.toThrow('not even started');
  });

  it('rejects the callers a batch returned no outcome for', async () => {
    const q = new BatchQueue<number, number>({ run: async (inputs) => inputs.slice(0, 1).map((i) => succeeded(i)) });
    const first = q.submit(0); // a batch of its own
    const [a, b] = [q.submit(1), q.submit(2)];
    expect(await first).toBe(0);
    expect(await a).toBe(1);
    await expect(b).rejects.toThrow('a batch of 2 inputs returned 1 outcomes');
  });

  it('on close() lets every queued caller run and settle, then refuses new callers with the closed error', async () => {
    const first = gate();
    const q = new BatchQueue<number, number>({
      closed: () => new Closed('shutting down'),
      run: async (inputs) => {
        await first.promise;
        return inputs.map((i) => succeeded(i));
      },
    });
    const running = q.submit(1);
    const queued = [q.submit(2), q.submit(3)];
    let closedAt: number | undefined;
    const closing = q.close().then(() => (closedAt = q.waiting));
    await expect(q.submit(4)).rejects.toBeInstanceOf(Closed);
    await settle();
    expect(closedAt).toBeUndefined(); // still draining
    first.open();
    await closing;
    expect(closedAt).toBe(0);
    expect(await Promise.all([running, ...queued])).toEqual([1, 2, 3]);
    await q.close(); // idempotent
    await expect(q.submit(5)).rejects.toThrow('shutting down');
  });

  it('cannot be closed when made without a closed error', async () => {
    const q = new BatchQueue<number, number>({ run: async (inputs) => inputs.map((i) => succeeded(i)) });
    await expect(q.close()).rejects.toBeInstanceOf(TypeError);
    expect(await q.submit(1)).toBe(1);
  });

  it('refuses a caller at once with the overload error when maxWaiting callers wait; the running batch does not count', async () => {
    const first = gate();
    const q = new BatchQueue<number, number>({
      maxWaiting: 2,
      overloaded: (waiting) => new Overloaded(`${waiting} are waiting`),
      run: async (inputs) => {
        await first.promise;
        return inputs.map((i) => succeeded(i));
      },
    });
    const running = q.submit(0);
    const waiting = [q.submit(1), q.submit(2)];
    const refused = q.submit(3);
    await expect(refused).rejects.toBeInstanceOf(Overloaded);
    await expect(refused).rejects.toThrow('2 are waiting');
    first.open();
    expect(await Promise.all([running, ...waiting])).toEqual([0, 1, 2]);
    expect(await q.submit(4)).toBe(4); // room again once the queue drained
  });

  it('refuses a maxBatch that is not a positive integer', () => {
    expect(() => new BatchQueue<number, number>({ maxBatch: 0, run: async () => [] })).toThrow(RangeError);
  });

  it('under any interleaving: each caller gets its own outcome, batches keep arrival order, take every waiting caller up to maxBatch, and never overlap (fast-check)', async () => {
    // Callers arrive in bursts (submitted in one synchronous run) at moments the scheduler picks.
    // Per caller: 0 fails alone, 1 succeeds, 2 makes its whole batch throw.
    const bursts = fc.array(fc.array(fc.constantFrom(0, 1, 1, 1, 2), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 8 }), bursts, async (s, maxBatch, arrivals) => {
        const kind = arrivals.flat();
        const batches: number[][] = [];
        let running = 0;
        let overlapped = false;
        let underfilled = false;
        const q = new BatchQueue<number, number>({
          maxBatch,
          run: async (inputs): Promise<Array<Outcome<number>>> => {
            if (++running > 1) overlapped = true;
            // A batch smaller than maxBatch must have taken every caller that was waiting.
            if (inputs.length < maxBatch && q.waiting > 0) underfilled = true;
            batches.push([...inputs]);
            await s.schedule(Promise.resolve(), 'batch running');
            running--;
            if (inputs.some((i) => kind[i] === 2)) throw new Error('batch failed');
            return inputs.map((i) => (kind[i] === 0 ? failed(new Error(`caller ${i} failed`)) : succeeded(i * 10)));
          },
        });
        const calls: Array<Promise<number>> = [];
        s.scheduleSequence(
          arrivals.map((burst, b) => ({
            label: `burst ${b} of ${burst.length} arrives`,
            builder: async () => {
              for (let k = 0; k < burst.length; k++) calls.push(q.submit(calls.length));
            },
          })),
        );
        await s.waitIdle();
        const settled = await Promise.allSettled(calls);

        expect(overlapped).toBe(false);
        expect(underfilled).toBe(false);
        expect(batches.flat()).toEqual(kind.map((_, i) => i));
        expect(batches[0]).toEqual([0]);
        expect(batches.every((b) => b.length >= 1 && b.length <= maxBatch)).toBe(true);
        const batchOf = new Map(batches.flatMap((b) => b.map((i) => [i, b] as const)));
        settled.forEach((outcome, i) => {
          const whole = batchOf.get(i)!.some((j) => kind[j] === 2);
          if (whole) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'batch failed' } });
          else if (kind[i] === 0) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: `caller ${i} failed` } });
          else expect(outcome).toEqual({ status: 'fulfilled', value: i * 10 });
        });
      }),
      { numRuns: 200, seed: 20250301 },
    );
  });
});
