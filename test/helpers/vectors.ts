import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

/** The shared conformance vectors, by the relative path the project is given: ../shared/vectors. */
export const VECTORS_DIR = resolve(PROJECT_ROOT, '..', 'shared', 'vectors');

/**
 * Path of one vector suite, or undefined when ../shared is absent (the test then skips with a
 * message). Under CI=true the absence is a failure, never a skip.
 */
export function vectorSuite(name: string): string | undefined {
  const dir = join(VECTORS_DIR, name);
  if (existsSync(dir)) return dir;
  if (process.env['CI'] === 'true') {
    throw new Error(`CI=true but the conformance vectors ${dir} are missing: CI must run them`);
  }
  process.stderr.write(`skip: conformance vectors ${dir} not found (../shared is absent); their tests are skipped\n`);
  return undefined;
}
