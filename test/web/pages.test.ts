import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPkcs12 } from '../../src/ca/pkcs12.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { drivers } from '../helpers/db.js';
import { countersignWith, createWorld, foodDocument, signCmsWith, signJwsWith, type World } from '../submissions/fixtures.js';
import { checkPage, chromiumMissing, launch } from './browser.js';

/**
 * The web pages in a real browser (Debian's chromium through playwright-core) against the real
 * service on loopback: an application is submitted and approved through the API by the
 * enterprise and both officers, then its envelope is verified on /verify (TOTAL_PASSED) and a
 * tampered copy fails (TOTAL_FAILED); the log explorer checks an inclusion proof and the
 * checkpoint's Ed25519 signature in the browser; the language switch, CSRF refusal, CSP header
 * and a 375 px wide screen are exercised. Every page visited passes axe-core (no serious or
 * critical violation) and leaves a screenshot. The pages touch the database only through the
 * parts, whose queries run on both drivers in their own tests; one driver is enough here.
 */

const missing = chromiumMissing();
const driver = drivers()[0]!;

describe.skipIf(missing !== undefined)(`web pages in chromium on ${driver.name}`, () => {
  let w: World;
  let browser: Browser;
  let context: BrowserContext;
  let dir: string;
  let approvedFile: string;
  let tamperedFile: string;
  let applicationId: string;
  let firstCheckpoint: string;
  let pendingId: string;
  const p12: Record<'a' | 'mismatch' | 'revoked' | 'reviewer' | 'approver' | 'openssl', string> = {
    a: '',
    mismatch: '',
    revoked: '',
    reviewer: '',
    approver: '',
    openssl: '',
  };
  const P12_PASSWORD = 'test-only p12 password';
  const cspViolations: string[] = [];

  async function page(): Promise<Page> {
    const p = await context.newPage();
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    return p;
  }

  async function waitForCheckpoint(minSize: number): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${w.url}/log/checkpoint`);
      if (res.status === 200) {
        const note = await res.text();
        if (Number(note.split('\n')[1]) >= minSize) return note;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no checkpoint of ${minSize} entries was published`);
  }

  beforeAll(async () => {
    w = await createWorld(driver);
    firstCheckpoint = await waitForCheckpoint(1);
    dir = mkdtempSync(join(tmpdir(), 'chancery-web-'));
    const document = foodDocument(w.a.uscc);
    applicationId = (JSON.parse(document.toString('utf8')) as { applicationId: string }).applicationId;
    const submitted = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, document));
    if (submitted.kind === 'rejected') throw new Error(submitted.body.detail);
    const id = submitted.body.id;
    const reviewer = await w.as(w.reviewer);
    await reviewer.countersign(id, await countersignWith(w.reviewer, await reviewer.envelope(id), 'approve'));
    const approver = await w.as(w.approver);
    await approver.countersign(id, await countersignWith(w.approver, await approver.envelope(id), 'approve'));
    const approved = await approver.envelope(id);
    approvedFile = join(dir, 'approved.p7m');
    writeFileSync(approvedFile, approved);
    // The same envelope with one byte of the signed document changed.
    const at = approved.indexOf(Buffer.from(applicationId, 'utf8'));
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(approved);
    tampered[at] = tampered[at]! ^ 0x01;
    tamperedFile = join(dir, 'tampered.p7m');
    writeFileSync(tamperedFile, tampered);
    // An enterprise on the revoked list.
    await w.admin.json('POST', `/api/v1/enterprises/${w.b.uscc}/revoke`, { reason: 'business licence revoked, decision 2026-14' });
    // A second application, waiting for the reviewer.
    const second = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (second.kind === 'rejected') throw new Error(second.body.detail);
    pendingId = second.body.id;
    // PKCS#12 files as the CA hands them out: A's, B's (revoked), the reviewer's, and one whose
    // key (B's) is not its certificate's (A's).
    const der = (pem: string, label: string): Buffer => pemDecodeAll(pem, [label])![0]!;
    const bundle = (name: string, keyPem: string, certPem: string): string => {
      const file = join(dir, `${name}.p12`);
      writeFileSync(file, buildPkcs12(der(keyPem, 'PRIVATE KEY'), [der(certPem, 'CERTIFICATE'), w.issuing], P12_PASSWORD, name));
      return file;
    };
    p12.a = bundle('a', w.a.keyPem, w.a.certPem);
    p12.mismatch = bundle('mismatch', w.b.keyPem, w.a.certPem);
    p12.revoked = bundle('revoked', w.b.keyPem, w.b.certPem);
    p12.reviewer = bundle('reviewer', w.reviewer.keyPem, w.reviewer.certPem);
    p12.approver = bundle('approver', w.approver.keyPem, w.approver.certPem);
    // And one made by OpenSSL 3 with its defaults (PBES2 AES-256-CBC, HMAC-SHA256 MAC).
    writeFileSync(join(dir, 'a.key.pem'), w.a.keyPem);
    writeFileSync(join(dir, 'a.cert.pem'), w.a.certPem);
    p12.openssl = join(dir, 'openssl.p12');
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      join(dir, 'a.key.pem'),
      '-in',
      join(dir, 'a.cert.pem'),
      '-out',
      p12.openssl,
      '-passout',
      `pass:${P12_PASSWORD}`,
    ]);
    browser = await launch();
    context = await browser.newContext({ locale: 'zh-CN' });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await w?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('GET / is the landing page in Simplified Chinese, with a strict CSP, linking the four areas', async () => {
    const p = await page();
    const res = await p.goto(`${w.url}/`);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
    const hrefs = await p.$$eval('main a', (as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(expect.arrayContaining(['/verify', '/apply', '/review', '/log']));
    await checkPage(p, 'home-zh');
    await p.close();
  });

  it('switches language by link, remembers it, and follows Accept-Language', async () => {
    const p = await page();
    await p.goto(`${w.url}/verify`);
    expect(await p.textContent('h1')).toBe('验证已签名的文件');
    await p.click('a.lang-switch');
    expect(new URL(p.url()).searchParams.get('lang')).toBe('en');
    expect(await p.getAttribute('html', 'lang')).toBe('en');
    expect(await p.textContent('h1')).toBe('Verify a signed document');
    await checkPage(p, 'verify-en');
    // Remembered: the next page without ?lang is English too, until switched back.
    await p.goto(`${w.url}/log`);
    expect(await p.getAttribute('html', 'lang')).toBe('en');
    await p.click('a.lang-switch');
    expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
    await p.close();
    const english = await browser.newContext({ locale: 'en-GB', extraHTTPHeaders: { 'Accept-Language': 'en-GB,en;q=0.9,zh;q=0.5' } });
    const q = await english.newPage();
    await q.goto(`${w.url}/`);
    expect(await q.getAttribute('html', 'lang')).toBe('en');
    await checkPage(q, 'home-en');
    await english.close();
  });

  it('verifies the approved envelope: TOTAL_PASSED, 3 of 3 signatures, who signed and each check', async () => {
    const p = await page();
    await p.goto(`${w.url}/verify?lang=en`);
    await checkPage(p, 'verify-form');
    await p.setInputFiles('#envelope', approvedFile);
    await Promise.all([p.waitForURL(`${w.url}/verify`), p.click('button[type=submit]')]);
    expect(await p.getAttribute('#verdict', 'data-indication')).toBe('TOTAL_PASSED');
    expect(await p.textContent('#verdict')).toContain('3 of 3 signatures are valid');
    const signatures = await p.$$eval('[data-signature]', (els) => els.map((e) => e.getAttribute('data-indication')));
    expect(signatures).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED', 'TOTAL_PASSED']);
    const text = await p.textContent('main');
    expect(text).toContain('Shenzhen Nanshan Fresh Foods Co Ltd');
    expect(text).toContain('food-business-licence v');
    expect(text).toContain(applicationId);
    expect(text).toContain('approver, 440000');
    expect(await p.$$eval('[data-check][data-result=FAILED]', (els) => els.length)).toBe(0);
    await checkPage(p, 'verify-report-passed');
    await p.close();
  });

  it('verifies a tampered copy: TOTAL_FAILED, naming the failed check', async () => {
    const p = await page();
    await p.goto(`${w.url}/verify`);
    await p.setInputFiles('#envelope', tamperedFile);
    await Promise.all([p.waitForURL(`${w.url}/verify`), p.click('button[type=submit]')]);
    expect(await p.getAttribute('#verdict', 'data-indication')).toBe('TOTAL_FAILED');
    expect(await p.$$eval('[data-check][data-result=FAILED]', (els) => els.length)).toBeGreaterThan(0);
    await checkPage(p, 'verify-report-failed');
    await p.close();
  });

  it('without a file: the error summary links to the envelope field', async () => {
    const p = await page();
    await p.goto(`${w.url}/verify?lang=zh`);
    const [res] = await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'), p.click('button[type=submit]')]);
    expect(res.status()).toBe(400);
    expect(await p.getAttribute('.error-summary a', 'href')).toBe('#envelope');
    expect(await p.title()).toMatch(/^错误：/);
    // The summary took the focus (app.js), so a screen reader announces it.
    expect(await p.evaluate("document.activeElement?.classList.contains('error-summary')")).toBe(true);
    await checkPage(p, 'verify-error');
    await p.close();
  });

  it('refuses a form whose CSRF token does not match the cookie (403, nothing verified)', async () => {
    const p = await page();
    await p.goto(`${w.url}/verify`);
    const cookie = (await context.cookies(w.url)).find((c) => c.name === 'chancery_csrf');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    await p.setInputFiles('#envelope', approvedFile);
    await p.evaluate(`document.querySelector('input[name=csrf]').value = '${'A'.repeat(43)}'`);
    const [res] = await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'), p.click('button[type=submit]')]);
    expect(res.status()).toBe(403);
    expect(await p.$('#verdict')).toBeNull();
    expect(await p.getAttribute('[data-refusal]', 'data-refusal')).toBe('403');
    await checkPage(p, 'verify-csrf-refused');
    await p.close();
    // And a cross-site form post (no cookie at all) is refused the same way.
    const form = new FormData();
    form.append('envelope', new Blob([new Uint8Array([0x30, 0x00])]), 'x.p7m');
    const direct = await fetch(`${w.url}/verify`, { method: 'POST', body: form, headers: { Origin: 'https://evil.example' } });
    expect(direct.status).toBe(403);
  });

  it('shows the log, checks an entry’s inclusion proof and the checkpoint signature in the browser, with the pinned key', async () => {
    const head = await waitForCheckpoint(1);
    const size = Number(head.split('\n')[1]);
    const p = await page();
    await p.goto(`${w.url}/log`);
    expect(await p.getAttribute('[data-checkpoint-signature]', 'data-checkpoint-signature')).toBe('verified');
    await checkPage(p, 'log');
    await p.click('#pin-key');
    expect(await p.getAttribute('#pin-state', 'data-pin')).toBe('matches');
    for (const index of [0, Math.floor(size / 2), size - 1]) {
      await p.goto(`${w.url}/log/entry/${index}?lang=zh`);
      await p.waitForSelector('#browser-check:not([data-result=pending])');
      expect(await p.getAttribute('#browser-check', 'data-result'), (await p.textContent('#browser-check')) ?? '').toBe('verified');
      expect(await p.textContent('#browser-check')).toContain('固定');
    }
    await checkPage(p, 'log-entry');
    // A page whose entry was altered in transit fails in the browser: the same page, entry edited.
    await p.route(`${w.url}/log/entry/0`, async (route) => {
      const res = await route.fetch();
      const body = (await res.text()).replace(
        /data-entry="([^"]*)"/,
        (_m, entry: string) => `data-entry="${entry.replace('ca.initialized', 'ca.initializeD')}"`,
      );
      await route.fulfill({ response: res, body });
    });
    await p.goto(`${w.url}/log/entry/0`);
    await p.waitForSelector('#browser-check:not([data-result=pending])');
    expect(await p.getAttribute('#browser-check', 'data-result')).toBe('failed');
    await p.close();
  });

  it('filters the log by subject (the application’s chain) and checks consistency with an earlier checkpoint', async () => {
    const p = await page();
    await p.goto(`${w.url}/log?lang=en`);
    await p.fill('#subject', `submission:${w.a.uscc}/${applicationId}`);
    await Promise.all([p.waitForURL(/subject=/), p.click('form.filters button')]);
    const links = await p.$$eval('[data-chain]', (els) => els.map((e) => e.getAttribute('data-chain')));
    if (links.length === 0) {
      // The subject is spelled differently: find it from a kind filter instead.
      await p.goto(`${w.url}/log?kind=submission.approved`);
      const subject = await p.textContent('tbody tr td:nth-child(5) a');
      await p.goto(`${w.url}/log?subject=${encodeURIComponent(subject!)}`);
    }
    const chain = await p.$$eval('[data-chain]', (els) => els.map((e) => e.getAttribute('data-chain')));
    expect(chain.length).toBeGreaterThanOrEqual(3);
    expect(chain.every((c) => c === 'linked')).toBe(true);
    await checkPage(p, 'log-subject');
    await p.goto(`${w.url}/log?kind=certificate.revoked`);
    expect(Number(await p.getAttribute('table', 'data-results'))).toBeGreaterThanOrEqual(1);
    await p.goto(`${w.url}/log`);
    await p.fill('#checkpoint-text', firstCheckpoint);
    await Promise.all([p.waitForURL(/consistency/), p.click('#consistency ~ form button, form[action="/log/consistency"] button')]);
    expect(await p.getAttribute('#consistency-result', 'data-consistent')).toBe('yes');
    await checkPage(p, 'log-consistency');
    // A checkpoint that was not signed by the log key is refused with the error summary.
    const forged = firstCheckpoint.replace(
      /\n— (\S+) (\S+)\n$/,
      (_m, name: string, sig: string) => `\n— ${name} ${sig.slice(0, 8)}${'A'.repeat(sig.length - 8)}\n`,
    );
    await p.goto(`${w.url}/log/consistency?checkpoint=${encodeURIComponent(forged)}`);
    expect(await p.getAttribute('.error-summary a', 'href')).toBe('#checkpoint-text');
    await p.close();
  });

  it('lists revoked enterprises with search, and looks up certificate status by serial', async () => {
    const p = await page();
    await p.goto(`${w.url}/revoked`);
    expect(await p.textContent('table')).toContain('Shanghai Huangpu Trading Co Ltd');
    await p.fill('#q', 'huangpu');
    await Promise.all([p.waitForURL(/q=huangpu/), p.click('form.search button')]);
    expect(await p.getAttribute('table', 'data-results')).toBe('1');
    await checkPage(p, 'revoked');
    await p.goto(`${w.url}/revoked?q=${w.a.uscc.slice(0, 10)}`);
    expect(await p.getAttribute('[data-results]', 'data-results')).toBe('0');
    await p.goto(`${w.url}/certificate`);
    await p.fill('#serial', w.a.serial.replace(/(..)(?=.)/g, '$1:'));
    await Promise.all([p.waitForURL(/serial=/), p.click('main form button')]);
    expect(await p.getAttribute('#certificate-status', 'data-status')).toBe('good');
    await checkPage(p, 'certificate-good');
    await p.goto(`${w.url}/certificate?serial=${w.b.serial}`);
    expect(await p.getAttribute('#certificate-status', 'data-status')).toBe('revoked');
    await p.goto(`${w.url}/certificate?serial=not-hex`);
    expect(await p.getAttribute('.error-summary a', 'href')).toBe('#serial');
    await checkPage(p, 'certificate-error');
    await p.close();
  });

  it('is usable 375 px wide: no sideways scrolling on the form, the report and the log', async () => {
    const narrow = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: 'zh-CN' });
    const p = await narrow.newPage();
    await p.goto(`${w.url}/verify`);
    await p.setInputFiles('#envelope', approvedFile);
    await Promise.all([p.waitForURL(`${w.url}/verify`), p.click('button[type=submit]')]);
    expect(await p.getAttribute('#verdict', 'data-indication')).toBe('TOTAL_PASSED');
    // Elements of the page that reach past the screen's right edge (by their outer markup).
    const wide = await p.evaluate(
      "[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > 376).map((e) => e.outerHTML.slice(0, 120))",
    );
    expect(wide).toEqual([]);
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await checkPage(p, 'narrow-report');
    for (const path of ['/', '/log', '/log/entry/1', '/revoked', '/certificate']) {
      await p.goto(`${w.url}${path}`);
      expect(await p.evaluate('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(375);
    }
    await checkPage(p, 'narrow-log-entry');
    await narrow.close();
  });

  async function signIn(p: Page, file: string, password: string, as = ''): Promise<void> {
    await p.goto(`${w.url}/signin${as}`);
    await p.setInputFiles('#p12', file);
    await p.fill('#password', password);
    await p.click('#signin-form button');
  }

  /** Whether the page's origin holds a signing key in IndexedDB (where sign-in keeps it). */
  async function storedSigningKey(p: Page): Promise<boolean> {
    const held = await p.evaluate(`new Promise((resolve, reject) => {
      const open = indexedDB.open('chancery', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('keys');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const get = open.result.transaction('keys', 'readonly').objectStore('keys').get('signing');
        get.onsuccess = () => { open.result.close(); resolve(get.result !== undefined); };
        get.onerror = () => reject(get.error);
      };
    })`);
    return held === true;
  }

  it('signs an enterprise in with its PKCS#12 opened in the browser: My applications, the timeline, the receipt', async () => {
    const signedIn = await browser.newContext({ locale: 'en-GB' });
    const p = await signedIn.newPage();
    await p.goto(`${w.url}/applications`);
    expect(new URL(p.url()).pathname).toBe('/signin');
    await checkPage(p, 'signin');
    const posted: string[] = [];
    p.on('request', (r) => {
      if (r.method() === 'POST') posted.push(`${new URL(r.url()).pathname} ${r.postData() ?? ''}`);
    });
    await signIn(p, p12.a, P12_PASSWORD);
    await p.waitForURL(`${w.url}/applications`);
    // Only the signed challenge and the token went out: never the file, the password or the key.
    expect(posted.map((x) => x.split(' ')[0])).toEqual(['/api/v1/auth/token', '/signin']);
    expect(posted.join('\n')).not.toContain(P12_PASSWORD);
    const session = (await signedIn.cookies(w.url)).find((c) => c.name === 'chancery_session');
    expect([session?.httpOnly, session?.sameSite]).toEqual([true, 'Strict']);
    expect(Number(await p.getAttribute('table', 'data-results'))).toBe(2);
    expect(await p.textContent('main')).toContain(applicationId);
    await checkPage(p, 'applications');
    await p.click(`a:text("${applicationId}")`);
    expect(await p.getAttribute('#application-status', 'data-status')).toBe('approved');
    const timeline = await p.$$eval('[data-transition]', (els) => els.map((e) => e.getAttribute('data-transition')));
    expect(timeline).toEqual(['pending', 'pending', 'approved']);
    expect(await p.$$eval('[data-step]', (els) => els.length)).toBe(2);
    expect(await p.getAttribute('#verdict', 'data-indication')).toBe('TOTAL_PASSED');
    await checkPage(p, 'application');
    const receipt = await p.request.get(`${w.url}${await p.getAttribute('a[href$="/receipt"]', 'href')}`);
    expect(receipt.status()).toBe(200);
    expect((await receipt.text()).split('.')).toHaveLength(3);
    // The workflow has ended: its long-term evidence container is there to keep.
    const evidence = await p.request.get(`${w.url}${await p.getAttribute('a[href$="/evidence"]', 'href')}`);
    expect(evidence.status()).toBe(200);
    expect(evidence.headers()['content-type']).toBe('application/vnd.etsi.asic-e+zip');
    const zip = await evidence.body();
    expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect(zip.subarray(30, 38).toString('latin1')).toBe('mimetype');
    // Signing out ends the session and removes the signing key the page kept since sign-in.
    expect(await storedSigningKey(p)).toBe(true);
    await p.click('.signed-in button');
    await p.waitForURL(`${w.url}/`);
    expect(await storedSigningKey(p)).toBe(false);
    await p.goto(`${w.url}/applications`);
    expect(new URL(p.url()).pathname).toBe('/signin');
    // A session that ended without sign-out (an expired or otherwise refused token) clears the key too.
    const stale = await fetch(`${w.url}/applications`, { headers: { cookie: `chancery_session=${'x'.repeat(40)}` }, redirect: 'manual' });
    expect(stale.headers.get('clear-site-data')).toBe('"storage"');
    await signedIn.close();
  });

  it('opens a PKCS#12 that OpenSSL made with its defaults', async () => {
    const c = await browser.newContext({ locale: 'en-GB' });
    c.setDefaultTimeout(10_000);
    const p = await c.newPage();
    await signIn(p, p12.openssl, P12_PASSWORD);
    await p.waitForURL(`${w.url}/applications`);
    await c.close();
  });

  it('catches a wrong password, a key that is not the certificate’s and a revoked certificate in the page', async () => {
    const c = await browser.newContext({ locale: 'en-GB' });
    const p = await c.newPage();
    const tokenRequests: string[] = [];
    p.on('request', (r) => {
      if (r.url().endsWith('/api/v1/auth/token')) tokenRequests.push(r.url());
    });
    await signIn(p, p12.a, 'not the password');
    await p.waitForSelector('.error-summary');
    expect(await p.getAttribute('.error-summary a', 'href')).toBe('#password');
    await checkPage(p, 'signin-wrong-password');
    await signIn(p, p12.mismatch, P12_PASSWORD);
    await p.waitForSelector('.error-summary');
    expect(await p.getAttribute('.error-summary a', 'href')).toBe('#p12');
    expect(await p.textContent('.error-summary')).toContain('does not match its certificate');
    // Neither attempt signed anything or asked for a token.
    expect(tokenRequests).toEqual([]);
    await signIn(p, p12.revoked, P12_PASSWORD);
    await p.waitForSelector('.error-summary');
    expect(await p.textContent('.error-summary')).toContain('revoked');
    expect(new URL(p.url()).pathname).toBe('/signin');
    await c.close();
  });

  it('signs an officer in: the queue holds what waits for the reviewer', async () => {
    const c = await browser.newContext({ locale: 'zh-CN' });
    const p = await c.newPage();
    await signIn(p, p12.reviewer, P12_PASSWORD, '?as=officer');
    await p.waitForURL(`${w.url}/review`);
    const queue = await p.$$eval('[data-submission]', (els) => els.map((e) => e.getAttribute('data-submission')));
    expect(queue).toEqual([pendingId]);
    await checkPage(p, 'review');
    await p.click(`[data-submission="${pendingId}"] a`);
    expect(await p.getAttribute('#application-status', 'data-status')).toBe('pending');
    await checkPage(p, 'review-application');
    await c.close();
  });

  it('the whole story in the browser: the enterprise applies and signs, two officers countersign, anyone verifies', async () => {
    const ent = await browser.newContext({ locale: 'en-GB' });
    ent.setDefaultTimeout(10_000);
    const p = await ent.newPage();
    await signIn(p, p12.a, P12_PASSWORD);
    await p.waitForURL(`${w.url}/applications`);
    await p.goto(`${w.url}/apply`);
    await checkPage(p, 'apply-type');
    await p.check('input[value="food-business-licence"]');
    await Promise.all([p.waitForURL(/\/apply\/form/), p.click('main form button')]);
    // Nothing filled in: the error summary links to each required field.
    await Promise.all([p.waitForResponse((r) => r.request().method() === 'POST'), p.click('main form button')]);
    const links = await p.$$eval('.error-summary a', (as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(expect.arrayContaining(['#f-premises-address', '#f-businessCategories', '#f-storageConditions-frozen']));
    await checkPage(p, 'apply-form-errors');
    await p.fill('#f-premises-address', '深圳市南山区科技园路 1 号');
    await p.fill('#f-premises-divisionCode', '440305');
    await p.fill('#f-premises-areaSquareMetres', '120.5');
    await p.check('input[name="businessCategories"][value="prepackagedFoodSale"]');
    await p.check('input[name="businessCategories"][value="hotFoodPreparation"]');
    await p.fill('#f-foodSafetyManager-name', 'Li Hua');
    await p.fill('#f-foodSafetyManager-phone', '+86 755 1234 5678');
    await p.fill('#f-foodSafetyManager-trainingCertificate', 'FS-2026-0042');
    for (const [k, v] of [
      ['ambient', 'true'],
      ['refrigerated', 'true'],
      ['frozen', 'false'],
    ])
      await p.check(`#f-storageConditions-${k}-${v}`);
    await p.fill('#f-staffWithHealthCertificates', '12');
    await p.click('main form button');
    await p.waitForSelector('#signed-document');
    const signed = JSON.parse((await p.textContent('#signed-document'))!) as Record<string, any>;
    expect(signed['applicant']).toBe(w.a.uscc);
    expect(signed['businessCategories']).toEqual(['prepackagedFoodSale', 'hotFoodPreparation']);
    expect(signed['premises']).toEqual({ address: '深圳市南山区科技园路 1 号', divisionCode: '440305', areaSquareMetres: 120.5 });
    await checkPage(p, 'apply-check-answers');
    await Promise.all([p.waitForURL(/submitted=1/), p.click('#sign-submit')]);
    const id = (await p.textContent('.panel-reference'))!.trim();
    expect(await p.getAttribute('#application-status', 'data-status')).toBe('pending');
    await checkPage(p, 'apply-confirmation');
    await ent.close();

    for (const [officer, file, expected] of [
      ['reviewer', p12.reviewer, 'pending'],
      ['approver', p12.approver, 'approved'],
    ] as const) {
      const c = await browser.newContext({ locale: 'zh-CN' });
      c.setDefaultTimeout(10_000);
      const o = await c.newPage();
      await signIn(o, file, P12_PASSWORD, '?as=officer');
      await o.waitForURL(`${w.url}/review`);
      await o.click(`[data-submission="${id}"] a`);
      await o.check('#decision-approve');
      if (officer === 'reviewer') await checkPage(o, 'review-decide');
      await Promise.all([o.waitForURL(/countersigned=1/), o.click('#countersign button')]);
      expect(await o.getAttribute('#application-status', 'data-status'), officer).toBe(expected);
      await c.close();
    }
    const envelope = await (await w.as(w.a)).envelope(id);
    const file = join(dir, 'browser-approved.jws');
    writeFileSync(file, envelope);
    const v = await page();
    await v.goto(`${w.url}/verify?lang=en`);
    await v.setInputFiles('#envelope', file);
    await Promise.all([v.waitForURL(`${w.url}/verify`), v.click('button[type=submit]')]);
    expect(await v.getAttribute('#verdict', 'data-indication')).toBe('TOTAL_PASSED');
    expect(await v.textContent('#verdict')).toContain('3 of 3 signatures are valid');
    await v.close();
  }, 120_000);

  it('a refusal carries its reason: required in the form (error summary linked to the field), signed, and shown to the applicant and the officer', async () => {
    const submitted = await new ChanceryClient(w.url).submit(await signJwsWith(w.a, foodDocument(w.a.uscc)));
    if (submitted.kind === 'rejected') throw new Error(submitted.body.detail);
    const id = submitted.body.id;
    const c = await browser.newContext({ locale: 'zh-CN' });
    c.setDefaultTimeout(10_000);
    const o = await c.newPage();
    await signIn(o, p12.reviewer, P12_PASSWORD, '?as=officer');
    await o.waitForURL(`${w.url}/review`);
    await o.goto(`${w.url}/applications/${id}?lang=en`);
    expect(await o.getAttribute('#countersign', 'data-msg-no-reason')).toBe('Enter the reason for the refusal');
    await o.goto(`${w.url}/applications/${id}?lang=zh`);
    const posts: string[] = [];
    o.on('request', (r) => {
      if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
    });
    // A refusal without a reason: the error summary links to the reason field, which is marked; nothing is signed or sent.
    await o.check('#decision-refuse');
    await o.fill('#reason', ' \n  ');
    await o.click('#countersign button');
    await o.waitForSelector('.error-summary');
    expect(await o.getAttribute('.error-summary a', 'href')).toBe('#reason');
    expect(await o.textContent('.error-summary')).toContain('请填写驳回理由');
    expect(await o.getAttribute('#reason', 'aria-invalid')).toBe('true');
    expect(await o.textContent('#reason-error')).toBe('请填写驳回理由');
    await checkPage(o, 'review-refuse-without-reason');
    // An approval takes none.
    await o.check('#decision-approve');
    await o.fill('#reason', '可以');
    await o.click('#countersign button');
    await o.waitForSelector('.error-summary:has-text("批准时不填写理由")');
    expect(await o.getAttribute('.error-summary a', 'href')).toBe('#reason');
    expect(posts).toEqual([]);
    // The refusal with its reason, typed over two lines: signed as one normalized paragraph.
    await o.check('#decision-refuse');
    await o.fill('#reason', '  经营场所面积与申报不符，\n  请补充经营场所平面图。  ');
    await Promise.all([o.waitForURL(/countersigned=1/), o.click('#countersign button')]);
    const reason = '经营场所面积与申报不符， 请补充经营场所平面图。';
    expect(await o.getAttribute('#application-status', 'data-status')).toBe('refused');
    expect(await o.textContent('#refusal-reason')).toContain(`驳回理由: ${reason}`);
    expect(await o.textContent('[data-step="0"] [data-reason]')).toContain(reason);
    await checkPage(o, 'review-refused-with-reason');
    await c.close();

    // What was signed is that reason, and the service recorded it.
    const view = await (await w.as(w.a)).status(id);
    expect(view.approval.steps[0]!.countersignature).toMatchObject({ decision: 'refuse', reason });
    const countersignature = JSON.parse((await (await w.as(w.a)).envelope(id)).toString('utf8')).signatures[1];
    expect(JSON.parse(Buffer.from(countersignature.protected, 'base64url').toString('utf8'))).toMatchObject({
      decision: 'refuse',
      reason,
      crit: ['decision', 'sig#S256', 'reason'],
    });

    // The applicant, in English: "My applications" and the application's own page show it.
    const e = await browser.newContext({ locale: 'en-GB' });
    e.setDefaultTimeout(10_000);
    const p = await e.newPage();
    await signIn(p, p12.a, P12_PASSWORD);
    await p.waitForURL(`${w.url}/applications`);
    expect(await p.textContent(`[data-submission="${id}"] [data-refusal-reason]`)).toContain(`Reason for refusal: ${reason}`);
    await checkPage(p, 'applications-refused-with-reason');
    await p.click(`[data-submission="${id}"] a`);
    expect(await p.textContent('#refusal-reason')).toContain(`Reason for refusal: ${reason}`);
    expect(await p.textContent('[data-step="0"] [data-reason]')).toContain(reason);
    await checkPage(p, 'application-refused-with-reason');
    await e.close();
  }, 120_000);

  it("a CMS application's refusal signs its reason in the page too, as the commitment's qualifier", async () => {
    const c = await browser.newContext({ locale: 'en-GB' });
    c.setDefaultTimeout(10_000);
    const o = await c.newPage();
    await signIn(o, p12.reviewer, P12_PASSWORD, '?as=officer');
    await o.waitForURL(`${w.url}/review`);
    await o.goto(`${w.url}/applications/${pendingId}`);
    await o.check('#decision-refuse');
    await o.click('#countersign button');
    await o.waitForSelector('.error-summary');
    expect(await o.getAttribute('.error-summary a', 'href')).toBe('#reason');
    expect(await o.textContent('.error-summary')).toContain('Enter the reason for the refusal');
    const reason = 'The premises division code does not match the address given';
    await o.fill('#reason', reason);
    await Promise.all([o.waitForURL(/countersigned=1/), o.click('#countersign button')]);
    expect(await o.getAttribute('#application-status', 'data-status')).toBe('refused');
    expect(await o.textContent('#refusal-reason')).toContain(`Reason for refusal: ${reason}`);
    await c.close();
    const envelope = await (await w.as(w.a)).envelope(pendingId);
    expect(envelope[0]).toBe(0x30);
    const report = await verifyEnvelope({
      envelope,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      intermediates: [parseCertificate(w.issuing)],
      revocation: noRevocation(),
      time: new Date(),
    });
    expect(report.signatures[1]).toMatchObject({ decision: 'refuse', reason });
  }, 60_000);

  it('loaded no page with a CSP violation', () => {
    expect(cspViolations).toEqual([]);
  });
});

if (missing !== undefined) {
  describe('web pages in chromium', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
