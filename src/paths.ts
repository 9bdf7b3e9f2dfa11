import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project directory (the one holding package.json), found from this file whether it runs as
 * src/paths.ts (vitest) or dist/src/paths.js (the built CLI). Shipped material lives under it.
 */
export const PROJECT_ROOT = findProjectRoot();
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');
export const POLICIES_DIR = join(PROJECT_ROOT, 'policies');
export const PROFILES_DIR = join(PROJECT_ROOT, 'certs', 'profiles');

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('chancery: cannot find the project directory (package.json)');
    dir = parent;
  }
  return dir;
}
