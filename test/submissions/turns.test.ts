import { describe, expect, it } from 'vitest';
import { Turns } from '../../src/submissions/turns.js';

/** Turns: CPU-heavy jobs start one per event-loop turn, in arrival order, with I/O between them. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* a validation's synchronous work */
  }
}

describe('Turns', () => {
  it('starts callers in the order they asked', async () => {
    const turns = new Turns();
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        await turns.take();
        order.push(i);
      }),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('lets the event loop run its other callbacks between two turns, where promise chains would not', async () => {
    const turns = new Turns();
    const events: string[] = [];
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        events.push('timer');
        resolve();
      }, 1),
    );
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        await turns.take();
        events.push(`turn ${i}`);
        busy(5);
      }),
    );
    await timer;
    // The timer is due while turn 0 runs; it fires before turn 1 starts, not after all three.
    expect(events.indexOf('timer')).toBeLessThan(events.indexOf('turn 1'));
    expect(events.filter((e) => e.startsWith('turn'))).toEqual(['turn 0', 'turn 1', 'turn 2']);
  });

  it('gives the next caller its turn even when an earlier caller waits on I/O', async () => {
    const turns = new Turns();
    const events: string[] = [];
    let release: () => void = () => undefined;
    const io = new Promise<void>((resolve) => (release = resolve));
    await Promise.all([
      (async () => {
        await turns.take();
        events.push('first starts');
        await io;
        events.push('first ends');
      })(),
      (async () => {
        await turns.take();
        events.push('second starts');
        release();
      })(),
    ]);
    expect(events).toEqual(['first starts', 'second starts', 'first ends']);
  });
});
