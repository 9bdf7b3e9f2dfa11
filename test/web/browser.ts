import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * A real browser for the page tests: Debian's chromium driven by playwright-core, headless.
 * `.ci/run` installs chromium when it is missing; elsewhere the browser tests skip, saying why.
 * Each visited page is checked with axe-core (no serious or critical violation) and saved as a
 * screenshot under .chancery-test/screenshots (git-ignored test artifacts).
 */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), '.chancery-test', 'screenshots');

export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `no chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env['CI'] === 'true') throw new Error(`browser tests cannot run under CI: ${why}`);
  return why;
}

export async function launch(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, so the page's strict CSP
 * stays on) and fails on any serious or critical violation; saves a screenshot named `name`.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`)) as AxeViolation[];
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `axe on ${name}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
}
