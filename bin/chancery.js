#!/usr/bin/env node
// The `chancery` command: runs the compiled CLI. `npm ci` (prepare) and `npm start` (prestart)
// compile src/ into dist/; run `npm run build` after editing sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/app/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('chancery: not built yet; run `npm run build` in the project directory\n');
  process.exit(1);
}
await import(main.href);
