import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ASSETS_DIR, ASSETS_SOURCE_DIR } from './assets.js';

/**
 * The browser modules that bundle the project's own parts (src/der, src/verify), which use Node's
 * Buffer: built with the `buffer` package injected for that global. The others are built without
 * it, so that libraries which look for a Buffer (node-forge in signin.js) behave as in a browser.
 */
const WITH_BUFFER = new Set(['countersign-cms.js']);

/**
 * Builds the pages' assets into dist/web-assets: each browser module of src/web/assets bundled
 * and minified by esbuild (ES2022 modules, what current browsers run), the style sheets copied.
 * Run by `npm run build` (after tsc) and by the test suite's global setup.
 */
export async function buildAssets(outDir: string = ASSETS_DIR): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const sources = readdirSync(ASSETS_SOURCE_DIR);
  const scripts = sources.filter((f) => f.endsWith('.js'));
  const options = {
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'warning',
  } as const;
  const plain = scripts.filter((f) => !WITH_BUFFER.has(f)).map((f) => join(ASSETS_SOURCE_DIR, f));
  const withBuffer = scripts.filter((f) => WITH_BUFFER.has(f)).map((f) => join(ASSETS_SOURCE_DIR, f));
  await build({ ...options, entryPoints: plain });
  if (withBuffer.length > 0) {
    await build({ ...options, entryPoints: withBuffer, inject: [join(ASSETS_SOURCE_DIR, 'lib', 'buffer-shim.js')] });
  }
  for (const css of sources.filter((f) => f.endsWith('.css'))) copyFileSync(join(ASSETS_SOURCE_DIR, css), join(outDir, css));
  return readdirSync(outDir);
}

// `node dist/src/web/build-assets.js` builds them (the npm scripts do).
if (process.argv[1] !== undefined && /build-assets\.(js|ts)$/.test(process.argv[1])) {
  const built = await buildAssets();
  console.log(`web assets: ${built.join(', ')} in ${ASSETS_DIR}`);
}
