import { expect } from 'vitest';
import { ChanceryError } from '../../src/errors.js';

/** Asserts that `fn` throws (or rejects with) a ChanceryError with exactly this code. */
export async function expectCode(fn: () => unknown, code: string): Promise<ChanceryError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error with code ${code}`).toBeInstanceOf(ChanceryError);
  expect((caught as ChanceryError).code).toBe(code);
  return caught as ChanceryError;
}
