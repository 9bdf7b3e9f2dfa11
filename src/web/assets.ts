import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RequestHandler } from 'express';
import { PROJECT_ROOT } from '../paths.js';

/**
 * The pages' script and style files, built by esbuild at build time (src/web/build-assets.ts,
 * run by `npm run build`, `npm start` and the test setup) into dist/web-assets, and served from
 * memory by the service itself: no CDN, nothing fetched from another origin.
 */
export const ASSETS_SOURCE_DIR = join(PROJECT_ROOT, 'src', 'web', 'assets');
export const ASSETS_DIR = join(PROJECT_ROOT, 'dist', 'web-assets');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface AssetFiles {
  files: Map<string, { type: string; body: Buffer }>;
  handler: RequestHandler;
}

/** Reads the built assets once; a name that is not one of them is a 404 problem (via next()). */
export function servedAssets(dir: string = ASSETS_DIR): AssetFiles {
  const files = new Map<string, { type: string; body: Buffer }>();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) files.set(name, { type, body: readFileSync(join(dir, name)) });
    }
  }
  const handler: RequestHandler = (req, res, next) => {
    const file = files.get(String(req.params['name']));
    if (file === undefined) {
      next();
      return;
    }
    res.setHeader('Content-Type', file.type);
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.send(file.body);
  };
  return { files, handler };
}
