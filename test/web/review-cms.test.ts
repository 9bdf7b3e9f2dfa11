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
import { ChanceryClient } from '../../src/client/submissions.js';
import { createWorld, foodDocument, signCmsWith, type Holder, type World } from '../submissions/fixtures.js';
import { checkPage, chromiumMissing, launch } from './browser.js';

/**
 * A CMS application countersigned in the browser: the enterprise signs and submits it with the
 * CLI (`chancery sign --format cms`, `chancery submit`), the reviewer and then the approver sign in
 * with their PKCS#12 files and approve it on its page, where the countersignature is built and
 * signed in the page (src/web/assets/countersign-cms.js) and uploaded as application/cms. The
 * served envelope then verifies TOTAL_PASSED with both decisions, and openssl verifies it from the
 * outside; each page passes axe-core. A second application is countersigned the same way by
 * officers holding Ed25519 and RSA-2048 keys in PKCS#12 files the CA generated. One driver is
 * enough (the pages reach the database only through the parts, whose queries run on both drivers
 * in their own tests): real PostgreSQL when the run has one.
 */

const missing = chromiumMissing();
// PostgreSQL when the run has one (DATABASE_URL), else PGlite.
const driver = drivers().at(-1)!;
const P12_PASSWORD = 'test-only p12 password';

describe.skipIf(missing !== undefined)(`countersigning a CMS application in chromium on ${driver.name}`, () => {
  let w: World;
  let browser: Browser;
  let dir: string;
  let id: string;
  let document: Buffer;
  /** PKCS#12 files and their passwords: the world's P-256 officers, and two the CA made with other keys. */
  const p12: Record<'reviewer' | 'approver' | 'edReviewer' | 'rsaApprover', { file: string; password: string }> = {
    reviewer: { file: '', password: P12_PASSWORD },
    approver: { file: '', password: P12_PASSWORD },
    edReviewer: { file: '', password: '' },
    rsaApprover: { file: '', password: '' },
  };

  beforeAll(async () => {
    w = await createWorld(driver);
    dir = scratchDir();
    document = foodDocument(w.a.uscc);
    writeFileSync(join(dir, 'app.json'), document);
    const enterprise = holderFiles(w, w.a, dir);
    const signArgs = ['sign', ...enterprise.args, '--in', join(dir, 'app.json'), '--format', 'cms', '--out', join(dir, 'app.p7m')];
    const signed = await runCli(signArgs);
    expect(signed.code, signed.stderr).toBe(0);
    const submitted = await runCli(['submit', '--url', w.url, '--in', join(dir, 'app.p7m'), '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const answer = JSON.parse(submitted.stdout) as { id?: string; submission?: { id: string } };
    id = answer.id ?? answer.submission!.id;
    const der = (pem: string, label: string): Buffer => pemDecodeAll(pem, [label])![0]!;
    const bundle = (name: string, h: Holder): string => {
      const file = join(dir, `${name}.p12`);
      writeFileSync(file, buildPkcs12(der(h.keyPem, 'PRIVATE KEY'), [der(h.certPem, 'CERTIFICATE'), w.issuing], P12_PASSWORD, name));
      return file;
    };
    p12.reviewer.file = bundle('reviewer', w.reviewer);
    p12.approver.file = bundle('approver', w.approver);
    // Two more officers whose key pairs the CA generated (POST /api/v1/certificates/pkcs12): Ed25519 and RSA-2048.
    for (const [slot, o] of [
      ['edReviewer', { id: 'SZ-R-002', name: 'Liu Yang', role: 'reviewer', jurisdiction: '440300', keyAlgorithm: 'Ed25519' }],
      ['rsaApprover', { id: 'GD-A-003', name: 'Huang Min', role: 'approver', jurisdiction: '440000', keyAlgorithm: 'RSA-2048' }],
    ] as const) {
      await w.admin.json('POST', '/api/v1/officers', {
        id: o.id,
        name: o.name,
        role: o.role,
        jurisdiction: o.jurisdiction,
        authority: 'Market Regulation Administration',
      });
      const issued = await w.admin.json<{ pkcs12: string; password: string }>('POST', '/api/v1/certificates/pkcs12', {
        profile: 'officer',
        officerId: o.id,
        keyAlgorithm: o.keyAlgorithm,
      });
      p12[slot].file = join(dir, `${slot}.p12`);
      p12[slot].password = issued.password;
      writeFileSync(p12[slot].file, Buffer.from(issued.pkcs12, 'base64'));
    }
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await w?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Signs the officer in with its PKCS#12, opens the application from the queue and approves it in
   * the page; checks what was sent (the envelope as application/cms, never the password or key).
   */
  async function approveInPage(
    who: { file: string; password: string },
    submission: string,
    expected: string,
    shots?: string,
  ): Promise<void> {
    const c = await browser.newContext({ locale: shots === undefined ? 'en-GB' : 'zh-CN' });
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
    await o.setInputFiles('#p12', who.file);
    await o.fill('#password', who.password);
    await o.click('#signin-form button');
    await o.waitForURL(`${w.url}/review`);
    await o.click(`[data-submission="${submission}"] a`);
    expect(await o.getAttribute('#application-status', 'data-status')).toBe('pending');
    const scripts = await o.$$eval('script[src]', (els) => els.map((e) => e.getAttribute('src')));
    expect(scripts.some((s) => s?.endsWith('/countersign-cms.js'))).toBe(true);
    expect(scripts.some((s) => s?.endsWith('/countersign.js'))).toBe(false);
    // No decision chosen: the error summary links to the first choice, and nothing is sent.
    await o.click('#countersign button');
    await o.waitForSelector('.error-summary');
    expect(await o.getAttribute('.error-summary a', 'href')).toBe('#decision-approve');
    expect(posted.some((p) => p.path.endsWith('/countersign'))).toBe(false);
    await o.check('#decision-approve');
    if (shots !== undefined) await checkPage(o, shots);
    await Promise.all([o.waitForURL(/countersigned=1/), o.click('#countersign button')]);
    expect(await o.getAttribute('#application-status', 'data-status')).toBe(expected);
    if (shots !== undefined) await checkPage(o, `${shots}-recorded`);
    const upload = posted.filter((p) => p.path === `/applications/${submission}/countersign`);
    expect(upload).toHaveLength(1);
    expect(upload[0]!.type).toBe('application/cms');
    expect(upload[0]!.body?.[0]).toBe(0x30);
    const all = Buffer.concat(posted.map((p) => p.body ?? Buffer.alloc(0))).toString('latin1');
    expect(all).not.toContain(who.password);
    expect(all).not.toContain('PRIVATE KEY');
    expect(cspViolations).toEqual([]);
    await c.close();
  }

  /** The envelope as served now, verified: TOTAL_PASSED, both approvals, no content-type in a countersignature. */
  async function verifyServed(submission: string): Promise<Buffer> {
    const envelope = await (await w.as(w.auditor)).envelope(submission);
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
    // Each countersignature is an RFC 5652 §11.4 one: no content-type, the decision as commitment-type-indication.
    const counters = parseCmsSignedData(envelope).signerInfos[0]!.unsignedAttrs.filter((a) => a.type === OID.countersignature);
    expect(counters).toHaveLength(2);
    for (const a of counters) {
      const types = parseSignerInfo(a.values[0]!, 'countersignature').signedAttrs!.attributes.map((x) => x.type);
      expect(types).not.toContain(OID.contentType);
      expect(types).toContain(OID.commitmentTypeIndication);
    }
    return envelope;
  }

  it('the reviewer and the approver approve it in the page; the envelope verifies TOTAL_PASSED, here and with openssl', async () => {
    expect((await (await w.as(w.a)).envelope(id))[0]).toBe(0x30); // a CMS envelope, not a JWS
    await approveInPage(p12.reviewer, id, 'pending', 'review-cms-reviewer');
    await approveInPage(p12.approver, id, 'approved', 'review-cms-approver');
    const envelope = await verifyServed(id);
    const carried = parseCmsSignedData(envelope).certificates.map((c) => Buffer.from(c));
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

  it('countersigns with Ed25519 and RSA keys from the PKCS#12 files the CA generated', async () => {
    const submitted = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (submitted.kind === 'rejected') throw new Error(submitted.body.detail);
    const second = submitted.body.id;
    await approveInPage(p12.edReviewer, second, 'pending');
    await approveInPage(p12.rsaApprover, second, 'approved');
    const envelope = await verifyServed(second);
    // The countersignatures' algorithms: Ed25519 (RFC 8419) and sha256WithRSAEncryption.
    const algorithms = parseCmsSignedData(envelope)
      .signerInfos[0]!.unsignedAttrs.filter((a) => a.type === OID.countersignature)
      .map((a) => parseSignerInfo(a.values[0]!, 'countersignature').signatureAlgorithm.oid);
    expect(algorithms.sort()).toEqual(['1.2.840.113549.1.1.11', '1.3.101.112']);
  }, 120_000);
});

if (missing !== undefined) {
  describe('countersigning a CMS application in chromium', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
