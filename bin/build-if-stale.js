#!/usr/bin/env node
// `npm start` runs this first: it builds (`npm run build`) only when a source, the TypeScript
// config or the package manifest is newer than the last build, so a start after `npm ci` (which
// builds once) does not compile again.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Written after each build made here (tsc leaves its own build info untouched when nothing changed).
const stamp = join(root, 'dist', '.build-stamp');

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

let built;
try {
  built = statSync(stamp).mtimeMs;
} catch {
  built = 0;
}
const sources = Math.max(...['src', 'bench', 'test', 'tsconfig.json', 'package.json'].map((p) => newest(join(root, p))));
if (built >= sources) process.exit(0);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const started = new Date();
const run = spawnSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (run.status === 0) {
  // Dated when the build started: a source saved during the build is newer, and builds next time.
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
process.exit(run.status ?? 1);
