import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPkcs12 } from '../../src/ca/pkcs12.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { parseCmsSignedData, parseSignerInfo } from '../../src/verify/cms-parse.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { holderFiles, scratchDir } from '../cli/cli-world.js';
import { drivers } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { createWorld, foodDocument, type Holder, type World } from '../submissions/fixtures.js';
import { checkPage, chromiumMissing, launch } from './browser.js';

/**
 * A CMS application countersigned in the browser: the enterprise signs and submits it with the
 * CLI (`chancery sign --format cms`, `chancery submit`), the reviewer and then the approver sign in
 * with their PKCS#12 files and approve it on its page, where the countersignature is built and
 * signed in the page (src/web/assets/countersign-cms.js) and uploaded as application/cms. The
 * served envelope then verifies TOTAL_PASSED with both decisions, and openssl verifies it from the
 * outside; each page passes axe-core. One driver is enough: the pages reach the database only
 * through the parts, whose queries run on both drivers in their own tests.
 */

const missing = chromiumMissing();
const driver = drivers()[0]!;
const P12_PASSWORD = 'test-only p12 password';

describe.skipIf(missing !== undefined)(`countersigning a CMS application in chromium on ${driver.name}`, () => {
  let w: World;
  let browser: Browser;
  let dir: string;
  let id: string;
  let document: Buffer;
  const p12: Record<'reviewer' | 'approver', string> = { reviewer: '', approver: '' };

  beforeAll(async () => {
    w = await createWorld(driver);
    dir = scratchDir();
    document = foodDocument(w.a.uscc);
    writeFileSync(join(dir, 'app.json'), document);
    const enterprise = holderFiles(w, w.a, dir);
    const signed = await runCli([
      'sign',
      ...enterprise.args,
      '--in',
      join(dir, 'app.json'),
      '--format',
      'cms',
      '--out',
      join(dir, 'app.p7m'),
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const submitted = await runCli(['submit', '--url', w.url, '--in', join(dir, 'app.p7m'), '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const answer = JSON.parse(submitted.stdout) as { id?: string; submission?: { id: string }; status?: string };
    id = answer.id ?? answer.submission!.id;
    const der = (pem: string, label: string): Buffer => pemDecodeAll(pem, [label])![0]!;
    const bundle = (name: string, h: Holder): string => {
      const file = join(dir, `${name}.p12`);
      writeFileSync(file, buildPkcs12(der(h.keyPem, 'PRIVATE KEY'), [der(h.certPem, 'CERTIFICATE'), w.issuing], P12_PASSWORD, name));
      return file;
    };
    p12.reviewer = bundle('reviewer', w.reviewer);
    p12.approver = bundle('approver', w.approver);
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await w?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the reviewer and the approver approve it in the page; the envelope verifies TOTAL_PASSED, here and with openssl', async () => {
    expect((await (await w.as(w.a)).envelope(id))[0]).toBe(0x30); // a CMS envelope, not a JWS
    for (const [officer, expected] of [
      ['reviewer', 'pending'],
      ['approver', 'approved'],
    ] as const) {
      const c = await browser.newContext({ locale: officer === 'reviewer' ? 'zh-CN' : 'en-GB' });
      c.setDefaultTimeout(10_000);
      const o = await c.newPage();
      const cspViolations: string[] = [];
      o.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      const posted: Array<{ path: string; type: string | undefined; body: Buffer | null }> = [];
      o.on('request', (r) => {
        if (r.method() === 'POST')
          posted.push({ path: new URL(r.url()).pathname, type: r.headers()['content-type'], body: r.postDataBuffer() });
      });
      await o.goto(`${w.url}/signin?as=officer`);
      await o.setInputFiles('#p12', p12[officer]);
      await o.fill('#password', P12_PASSWORD);
      await o.click('#signin-form button');
      await o.waitForURL(`${w.url}/review`);
      await o.click(`[data-submission="${id}"] a`);
      expect(await o.getAttribute('#application-status', 'data-status')).toBe('pending');
      const scripts = await o.$$eval('script[src]', (els) => els.map((e) => e.getAttribute('src')));
      expect(scripts.some((s) => s?.endsWith('/countersign-cms.js'))).toBe(true);
      // No decision chosen: the error summary links to the first choice, and nothing is sent.
      await o.click('#countersign button');
      await o.waitForSelector('.error-summary');
      expect(await o.getAttribute('.error-summary a', 'href')).toBe('#decision-approve');
      await o.check('#decision-approve');
      await checkPage(o, `review-cms-${officer}`);
      await Promise.all([o.waitForURL(/countersigned=1/), o.click('#countersign button')]);
      expect(await o.getAttribute('#application-status', 'data-status'), officer).toBe(expected);
      await checkPage(o, `review-cms-${officer}-recorded`);
      // What went out: the signed challenge, the session form, and the envelope as application/cms — never the key.
      const upload = posted.find((p) => p.path === `/applications/${id}/countersign`);
      expect(upload?.type).toBe('application/cms');
      expect(upload?.body?.[0]).toBe(0x30);
      const all = Buffer.concat(posted.map((p) => p.body ?? Buffer.alloc(0))).toString('latin1');
      expect(all).not.toContain(P12_PASSWORD);
      expect(all).not.toContain('PRIVATE KEY');
      expect(cspViolations).toEqual([]);
      await c.close();
    }

    const envelope = await (await w.as(w.auditor)).envelope(id);
    const report = await verifyEnvelope({
      envelope,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      intermediates: [parseCertificate(w.issuing)],
      revocation: noRevocation(),
      policy: loadPolicies().get('food-business-licence'),
      time: new Date(),
    });
    expect(report.indication, JSON.stringify(report.signatures.map((s) => [s.indication, s.subIndication]))).toBe('TOTAL_PASSED');
    expect(report.signatures.map((s) => [s.role, s.indication, s.decision ?? null, s.signer?.officer?.role ?? null])).toEqual([
      ['signer', 'TOTAL_PASSED', null, null],
      ['countersigner', 'TOTAL_PASSED', 'approve', 'reviewer'],
      ['countersigner', 'TOTAL_PASSED', 'approve', 'approver'],
    ]);
    // Each countersignature is the one the officer's certificate made, without content-type (RFC 5652 §11.4).
    const sd = parseCmsSignedData(envelope);
    const counters = sd.signerInfos[0]!.unsignedAttrs.filter((a) => a.type === OID.countersignature);
    expect(counters).toHaveLength(2);
    for (const a of counters) {
      const types = parseSignerInfo(a.values[0]!, 'countersignature').signedAttrs!.attributes.map((x) => x.type);
      expect(types).not.toContain(OID.contentType);
      expect(types).toContain(OID.commitmentTypeIndication);
    }
    const carried = sd.certificates.map((c) => Buffer.from(c));
    expect(carried).toEqual(expect.arrayContaining([w.reviewer.chain[0], w.approver.chain[0]]));
    // From the outside: openssl verifies the enterprise's signature over the encapsulated document.
    writeFileSync(join(dir, 'approved.p7m'), envelope);
    writeFileSync(join(dir, 'root.pem'), readFileSync(join(w.ts.dataDir, 'ca', 'root.pem')));
    const out = execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'approved.p7m'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(Buffer.from(out)).toEqual(document);
  }, 120_000);
});

if (missing !== undefined) {
  describe('countersigning a CMS application in chromium', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
