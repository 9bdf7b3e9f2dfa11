import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ASSETS_DIR, ASSETS_SOURCE_DIR } from './assets.js';

/**
 * Builds the pages' assets into dist/web-assets: each browser module of src/web/assets bundled
 * and minified by esbuild (ES2022 modules, what current browsers run), the style sheets copied.
 * Run by `npm run build` (after tsc) and by the test suite's global setup.
 */
export async function buildAssets(outDir: string = ASSETS_DIR): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const sources = readdirSync(ASSETS_SOURCE_DIR);
  const entryPoints = sources.filter((f) => f.endsWith('.js')).map((f) => join(ASSETS_SOURCE_DIR, f));
  await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const css of sources.filter((f) => f.endsWith('.css'))) copyFileSync(join(ASSETS_SOURCE_DIR, css), join(outDir, css));
  return readdirSync(outDir);
}

// `node dist/src/web/build-assets.js` builds them (the npm scripts do).
if (process.argv[1] !== undefined && /build-assets\.(js|ts)$/.test(process.argv[1])) {
  const built = await buildAssets();
  console.log(`web assets: ${built.join(', ')} in ${ASSETS_DIR}`);
}
