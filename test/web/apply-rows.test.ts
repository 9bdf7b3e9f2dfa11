import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPkcs12 } from '../../src/ca/pkcs12.js';
import { sha256Hex } from '../../src/crypto/digest.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { drivers, pgOnly } from '../helpers/db.js';
import { createWorld, type World } from '../submissions/fixtures.js';
import { checkPage, chromiumMissing, launch } from './browser.js';

/**
 * Arrays of objects on /apply (GOV.UK "add another"): business-registration-change's `changes`
 * and `attachments` are rows of fields, added and removed by submit buttons that re-render the
 * page on the server, so they work with JavaScript off. In chromium against the real service: an
 * enterprise fills two changes, an incomplete row shows its linked error, the check-answers page
 * shows the rows, the document is signed in the browser and submitted and the submission waits
 * for its reviewer; without JavaScript rows are added to the schema's maxItems, removed keeping
 * the other rows' answers, Enter in a text box continues rather than removes, and a button
 * posted without the CSRF token changes nothing; 375 px wide the rows fit. Every page checked
 * with JavaScript passes axe-core. One driver is enough (PostgreSQL when the run has it): the
 * pages reach the database only through the parts, tested on both.
 */

const missing = chromiumMissing();
const driver = pgOnly() ?? drivers()[0]!;
const POLICY = 'business-registration-change';

describe.skipIf(missing !== undefined)(`apply form rows in chromium on ${driver.name}`, () => {
  let w: World;
  let browser: Browser;
  let dir: string;
  let signedIn: BrowserContext;
  const P12_PASSWORD = 'test-only p12 password';

  /** Clicks a button that submits the form and waits for the page it loads. */
  async function press(p: Page, selector: string): Promise<void> {
    await Promise.all([p.waitForEvent('load'), p.click(selector)]);
  }

  const rowsOf = (p: Page, array: string): Promise<number> => p.locator(`[data-rows="${array}"] [data-row]`).count();
  const CONTINUE = 'main form button.button[value="continue"]';

  /** A browser context with the enterprise's session, JavaScript on or off. */
  async function enterprise(options: { javaScriptEnabled?: boolean; width?: number } = {}): Promise<BrowserContext> {
    const c = await browser.newContext({
      locale: 'en-GB',
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      ...(options.width === undefined ? {} : { viewport: { width: options.width, height: 812 } }),
    });
    c.setDefaultTimeout(15_000);
    await c.addCookies((await signedIn.cookies(w.url)).filter((x) => x.name === 'chancery_session'));
    return c;
  }

  beforeAll(async () => {
    w = await createWorld(driver);
    dir = mkdtempSync(join(tmpdir(), 'chancery-rows-'));
    const der = (pem: string, label: string): Buffer => pemDecodeAll(pem, [label])![0]!;
    const p12 = join(dir, 'a.p12');
    writeFileSync(p12, buildPkcs12(der(w.a.keyPem, 'PRIVATE KEY'), [der(w.a.certPem, 'CERTIFICATE'), w.issuing], P12_PASSWORD, 'a'));
    browser = await launch();
    signedIn = await browser.newContext({ locale: 'en-GB' });
    signedIn.setDefaultTimeout(15_000);
    const p = await signedIn.newPage();
    await p.goto(`${w.url}/signin`);
    await p.setInputFiles('#p12', p12);
    await p.fill('#password', P12_PASSWORD);
    await p.click('#signin-form button');
    await p.waitForURL(`${w.url}/applications`);
    await p.close();
  }, 180_000);

  afterAll(async () => {
    await signedIn?.close();
    await browser?.close();
    await w?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('fills two changes, shows the incomplete row’s linked error, checks the rows, signs and submits', async () => {
    const p = await signedIn.newPage();
    await p.goto(`${w.url}/apply`);
    await p.check(`input[value="${POLICY}"]`);
    await Promise.all([p.waitForURL(/\/apply\/form/), p.click('main form button')]);
    // One row of each array at first: changes needs one, attachments none.
    expect([await rowsOf(p, 'changes'), await rowsOf(p, 'attachments')]).toEqual([1, 1]);
    expect(await p.textContent('#f-changes-0 legend')).toBe('Changes: item 1');
    expect(await p.textContent('label[for="f-changes-0-item"]')).toContain('Registered item');
    expect(await p.locator('button[value^="remove:changes"]').count()).toBe(0);
    await checkPage(p, 'apply-rows-form');
    await p.selectOption('#f-changes-0-item', 'name');
    await p.fill('#f-changes-0-oldValue', 'Shenzhen Nanshan Fresh Foods Co Ltd');
    await p.fill('#f-changes-0-newValue', '深圳南山鲜食品有限公司');
    await press(p, 'button[value="add:changes"]');
    expect(new URL(p.url()).hash).toBe('#f-changes-1');
    expect(await rowsOf(p, 'changes')).toBe(2);
    // What was typed is kept, and each row can now be removed.
    expect(await p.inputValue('#f-changes-0-item')).toBe('name');
    expect(await p.inputValue('#f-changes-0-newValue')).toBe('深圳南山鲜食品有限公司');
    expect(await p.locator('button[value^="remove:changes."]').count()).toBe(2);
    await checkPage(p, 'apply-rows-two');
    // The second change is left without its new value.
    await p.selectOption('#f-changes-1-item', 'address');
    await p.fill('#f-changes-1-oldValue', '深圳市南山区科技园路 1 号');
    await p.fill('#f-reason', 'The company moved and was renamed by the shareholders.');
    await p.fill('#f-shareholderResolutionDate', '2026-11-20');
    const digest = sha256Hex(Buffer.from('minutes of the shareholders’ meeting'));
    await p.fill('#f-attachments-0-fileName', 'resolution-2026-11-20.pdf');
    await p.fill('#f-attachments-0-sha256', digest);
    await press(p, CONTINUE);
    const links = await p.$$eval('.error-summary a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
    expect(links).toEqual([['#f-changes-1-newValue', 'Enter “New value (Changes: item 2)”']]);
    expect(await p.getAttribute('#f-changes-1-newValue', 'aria-describedby')).toContain('f-changes-1-newValue-error');
    expect(await p.textContent('#f-changes-1-newValue-error')).toContain('New value (Changes: item 2)');
    expect(await p.inputValue('#f-changes-1-oldValue')).toBe('深圳市南山区科技园路 1 号');
    expect(await p.inputValue('#f-attachments-0-sha256')).toBe(digest);
    await checkPage(p, 'apply-rows-error');
    await p.fill('#f-changes-1-newValue', '深圳市南山区高新南一道 8 号');
    await press(p, CONTINUE);
    await p.waitForSelector('#signed-document');
    const signed = JSON.parse((await p.textContent('#signed-document'))!) as Record<string, unknown>;
    const answers = {
      changes: [
        { item: 'name', oldValue: 'Shenzhen Nanshan Fresh Foods Co Ltd', newValue: '深圳南山鲜食品有限公司' },
        { item: 'address', oldValue: '深圳市南山区科技园路 1 号', newValue: '深圳市南山区高新南一道 8 号' },
      ],
      reason: 'The company moved and was renamed by the shareholders.',
      shareholderResolutionDate: '2026-11-20',
      // The empty optional media type is left out.
      attachments: [{ fileName: 'resolution-2026-11-20.pdf', sha256: digest }],
    };
    expect(signed).toEqual({
      type: POLICY,
      applicant: w.a.uscc,
      applicationId: signed['applicationId'],
      createdAt: signed['createdAt'],
      ...answers,
    });
    const summary = await p.$$eval('.summary-list .summary-row', (rows) =>
      rows.map((r) => [r.querySelector('dt')!.textContent!.trim(), r.querySelector('dd')!.textContent!.trim()]),
    );
    expect(summary).toEqual(
      expect.arrayContaining([
        ['Registered item (Changes: item 1)', 'Name'],
        ['New value (Changes: item 1)', '深圳南山鲜食品有限公司'],
        ['Registered item (Changes: item 2)', 'Address'],
        ['New value (Changes: item 2)', '深圳市南山区高新南一道 8 号'],
        ['SHA-256 digest (Attachments: item 1)', digest],
      ]),
    );
    await checkPage(p, 'apply-rows-check');
    await Promise.all([p.waitForURL(/submitted=1/), p.click('#sign-submit')]);
    const id = (await p.textContent('.panel-reference'))!.trim();
    // A change waits for a reviewer of the enterprise's jurisdiction.
    expect(await p.getAttribute('#application-status', 'data-status')).toBe('pending');
    await checkPage(p, 'apply-rows-submitted');
    // What the service holds is what was shown and signed.
    const envelope = JSON.parse(Buffer.from(await (await w.as(w.a)).envelope(id)).toString('utf8')) as { payload: string };
    expect(JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8'))).toEqual(signed);
    await p.close();
  }, 120_000);

  it('adds rows up to maxItems and removes one, keeping the others’ answers, with JavaScript off', async () => {
    const c = await enterprise({ javaScriptEnabled: false });
    const p = await c.newPage();
    await p.goto(`${w.url}/apply/form?policy=${POLICY}`);
    // The checkbox group is gone: the rows are there without JavaScript.
    expect(await rowsOf(p, 'changes')).toBe(1);
    for (let n = 2; n <= 5; n++) {
      await p.fill(`#f-changes-${n - 2}-oldValue`, `old ${n - 1}`);
      await press(p, 'button[value="add:changes"]');
      expect(await rowsOf(p, 'changes')).toBe(n);
    }
    // maxItems 5: no more "add another", a hint says so.
    expect(await p.locator('button[value="add:changes"]').count()).toBe(0);
    expect(await p.textContent('[data-rows="changes"]')).toContain('You can add at most 5.');
    await p.fill('#f-changes-4-oldValue', 'old 5');
    const items = ['name', 'address', 'legalRepresentative', 'registeredCapital', 'businessScope'];
    for (const [i, item] of items.entries()) await p.selectOption(`#f-changes-${i}-item`, item);
    await press(p, 'button[value="remove:changes.1"]');
    expect(await rowsOf(p, 'changes')).toBe(4);
    const kept = [];
    for (let i = 0; i < 4; i++) kept.push([await p.inputValue(`#f-changes-${i}-item`), await p.inputValue(`#f-changes-${i}-oldValue`)]);
    expect(kept).toEqual([
      ['name', 'old 1'],
      ['legalRepresentative', 'old 3'],
      ['registeredCapital', 'old 4'],
      ['businessScope', 'old 5'],
    ]);
    expect(await p.locator('button[value="add:changes"]').count()).toBe(1);
    // Enter in a text box continues (the answers are checked), it does not remove a row.
    await p.fill('#f-shareholderResolutionDate', '2026-11-20');
    await Promise.all([p.waitForEvent('load'), p.press('#f-shareholderResolutionDate', 'Enter')]);
    expect(await rowsOf(p, 'changes')).toBe(4);
    const errors = await p.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
    expect(errors).toEqual([
      '#f-changes-0-newValue',
      '#f-changes-1-newValue',
      '#f-changes-2-newValue',
      '#f-changes-3-newValue',
      '#f-reason',
    ]);
    // Emptied rows are dropped: two changes remain.
    for (const i of [2, 3]) {
      await p.selectOption(`#f-changes-${i}-item`, '');
      await p.fill(`#f-changes-${i}-oldValue`, '');
    }
    await p.fill('#f-changes-0-newValue', 'new 1');
    await p.fill('#f-changes-1-newValue', 'new 3');
    await p.fill('#f-reason', 'Shareholders’ resolution.');
    await press(p, CONTINUE);
    const signed = JSON.parse((await p.textContent('#signed-document'))!) as Record<string, unknown>;
    expect(signed['changes']).toEqual([
      { item: 'name', oldValue: 'old 1', newValue: 'new 1' },
      { item: 'legalRepresentative', oldValue: 'old 3', newValue: 'new 3' },
    ]);
    // The empty optional attachments row leaves no array at all.
    expect(Object.hasOwn(signed, 'attachments')).toBe(false);
    // Signing needs the key, so JavaScript: the page says so and shows no sign button.
    expect(await p.isVisible('#sign-submit')).toBe(false);
    // "Change your answers" goes back to the form with every answer as it was typed.
    await press(p, 'button[value="edit"]');
    expect(await rowsOf(p, 'changes')).toBe(4);
    expect(await p.inputValue('#f-changes-1-newValue')).toBe('new 3');
    expect(await p.inputValue('#f-changes-1-oldValue')).toBe('old 3');
    expect(await p.inputValue('#f-reason')).toBe('Shareholders’ resolution.');
    expect(await p.inputValue('#f-shareholderResolutionDate')).toBe('2026-11-20');
    await press(p, CONTINUE);
    expect(JSON.parse((await p.textContent('#signed-document'))!)).toMatchObject({ changes: signed['changes'] });
    await c.close();
  }, 120_000);

  it('removes nothing and adds nothing for a button posted without the form’s CSRF token', async () => {
    const c = await enterprise({ javaScriptEnabled: false });
    const p = await c.newPage();
    await p.goto(`${w.url}/apply/form?policy=${POLICY}`);
    const csrf = await p.getAttribute('input[name="csrf"]', 'value');
    const post = (form: Record<string, string>) => c.request.post(`${w.url}/apply/form?policy=${POLICY}`, { form, maxRedirects: 0 });
    const refused = await post({ csrf: 'not-the-token', 'form:button': 'add:changes', 'rows:changes': '1' });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).not.toContain('data-row="1"');
    const added = await post({ csrf: csrf!, 'form:button': 'add:changes', 'rows:changes': '1', 'changes.0.oldValue': 'kept' });
    expect(added.status()).toBe(200);
    const body = await added.text();
    expect(body).toContain('data-row="1"');
    expect(body).toContain('kept</textarea>');
    // A row count beyond maxItems, or a button naming no array of objects, stays within the schema.
    const capped = await (await post({ csrf: csrf!, 'form:button': 'add:changes', 'rows:changes': '999' })).text();
    expect(capped.match(/id="f-changes-\d+"/g)).toHaveLength(5);
    const odd = await post({ csrf: csrf!, 'form:button': 'remove:__proto__.0', 'rows:changes': '2' });
    expect(odd.status()).toBe(200);
    expect((await odd.text()).match(/id="f-changes-\d+"/g)).toHaveLength(2);
    await c.close();
  });

  it('renders the complaint’s evidence as rows too, and fits 375 px wide', async () => {
    const c = await enterprise({ width: 375 });
    const p = await c.newPage();
    await p.goto(`${w.url}/apply/form?policy=complaint`);
    expect(await rowsOf(p, 'evidence')).toBe(1);
    expect(await p.textContent('label[for="f-evidence-0-sha256"]')).toContain('SHA-256 digest');
    await p.goto(`${w.url}/apply/form?policy=${POLICY}&lang=zh`);
    await press(p, 'button[value="add:changes"]');
    expect(await p.textContent('#f-changes-1 legend')).toBe('变更事项 第 2 项');
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await checkPage(p, 'apply-rows-narrow');
    await c.close();
  });
});

if (missing !== undefined) {
  describe('apply form rows in chromium', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
