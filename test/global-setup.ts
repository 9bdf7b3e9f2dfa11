import { prepareTemplates } from './helpers/db.js';

/** Runs once before the suite: builds the PGlite template every test database is copied from. */
export default async function setup(): Promise<void> {
  await prepareTemplates();
}
