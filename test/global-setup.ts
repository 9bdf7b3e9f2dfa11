import { buildAssets } from '../src/web/build-assets.js';
import { prepareTemplates } from './helpers/db.js';

/**
 * Runs once before the suite: builds the PGlite template every test database is copied from, and
 * the web pages' assets (as `npm run build` does) so the pages a test service serves have them.
 */
export default async function setup(): Promise<void> {
  await buildAssets();
  await prepareTemplates();
}
