import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentationFor, buildSubmissionService, caValidationData } from '../../src/app/parts.js';
import type { Principal } from '../../src/auth/principal.js';
import { pemEncode } from '../../src/der/pem.js';
import { loadPolicies } from '../../src/policy/policy.js';
import type { SubmissionService } from '../../src/submissions/service.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { parseCmsSignedData } from '../../src/verify/cms-parse.js';
import { crlSource } from '../../src/verify/crl.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { parseOcspResponse } from '../../src/verify/ocsp.js';
import { firstAnswer, inMemoryRevocation, normalizeSerial } from '../../src/verify/revocation.js';
import { OID_SIGNATURE_TIME_STAMP } from '../../src/verify/timestamp.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { drivers } from '../helpers/db.js';
import { createOpensslTsa, type OpensslTsa } from '../helpers/openssl-timestamper.js';
import { createTestPki, type TestPki } from '../verify/envelope-pki.js';
import {
  annualDocument,
  countersignWith,
  createWorld,
  entriesSince,
  foodDocument,
  signCmsWith,
  signJwsWith,
  treeSize,
  type Holder,
  type World,
} from './fixtures.js';

/**
 * Accepted signatures are augmented: a signature time-stamp from the configured TimeStamper (here
 * an outside TSA: openssl ts under its own test CA) on the enterprise's signature and on each
 * countersignature (B-T), the CA certificates and CRLs when the workflow ends (B-LT). Years later,
 * when every certificate in the envelope has expired, the envelope still validates on what it
 * carries, and openssl cms -verify still accepts it.
 */

const DAY = 86_400_000;
const ctx = { method: 'POST', path: '/test' };

describe.each(drivers())('augmentation of accepted signatures on $name', (driver) => {
  let w: World;
  let tsaPki: TestPki;
  let tsa: OpensslTsa;
  let service: SubmissionService;
  let dir: string;

  beforeAll(async () => {
    w = await createWorld(driver);
    tsaPki = await createTestPki(new Date(), 'Outside TSA');
    tsa = await createOpensslTsa(tsaPki);
    const ca = w.ts.service.parts.ca;
    service = buildSubmissionService({ ...w.ts.service.parts, db: w.ts.service.db, audit: w.ts.service.audit }, loadPolicies(), {
      timeStamper: tsa,
      validationData: caValidationData(ca, w.ts.service.parts.ocsp),
    });
    dir = mkdtempSync(join(tmpdir(), 'chancery-augment-'));
  });
  afterAll(async () => {
    tsa?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    await w?.stop();
  });

  const officer = (h: Holder & { id: string }, role: 'reviewer' | 'approver', jurisdiction: string): Principal => ({
    role: 'officer',
    actor: `officer:${h.id}`,
    certificateSerial: h.serial,
    name: h.name,
    officer: { id: h.id, role, jurisdiction },
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  });

  /** Validates `envelope` years on, when every certificate has expired: on the CRLs it carries, the service root and the TSA's root. */
  async function validateYearsLater(envelope: Buffer, later: Date): Promise<ValidationReport> {
    const sd = envelope[0] === 0x30 ? parseCmsSignedData(envelope) : undefined;
    const ca = w.ts.service.parts.ca;
    const crls = [await ca.currentCrl('issuing'), await ca.currentCrl('root')];
    return verifyEnvelope({
      envelope,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der), tsaPki.root.certificate],
      intermediates: [tsaPki.issuing.certificate, ...(sd === undefined ? [parseCertificate(ca.hierarchy.issuing.der)] : [])],
      revocation: firstAnswer(
        crlSource(crls),
        inMemoryRevocation([
          { issuer: tsaPki.issuing.certificate, revoked: [] },
          { issuer: tsaPki.root.certificate, revoked: [] },
        ]),
      ),
      policies: loadPolicies(),
      time: later,
    });
  }

  const expiryOf = (h: Holder): number => parseCertificate(h.chain[0]!).notAfter.getTime();

  it('time-stamps a CMS licence and both countersignatures, adds CRLs and certificates at approval, and passes when every signer has expired', async () => {
    const from = await treeSize(w.ts);
    const submitted = await service.submit({ envelope: await signCmsWith(w.a, foodDocument(w.a.uscc)) }, undefined, ctx);
    expect(submitted.submission.status).toBe('pending');
    const id = submitted.submission.id;
    const reviewer = officer(w.reviewer, 'reviewer', '440300');
    const approver = officer(w.approver, 'approver', '440000');
    const held = (await service.envelope(id, reviewer, ctx)).bytes;
    const si = parseCmsSignedData(held).signerInfos[0]!;
    expect(si.unsignedAttrs.filter((a) => a.type === OID_SIGNATURE_TIME_STAMP)).toHaveLength(1);
    await service.countersign(id, { envelope: await countersignWith(w.reviewer, held, 'approve') }, reviewer, ctx);
    const reviewed = (await service.envelope(id, approver, ctx)).bytes;
    const approved = await service.countersign(id, { envelope: await countersignWith(w.approver, reviewed, 'approve') }, approver, ctx);
    expect(approved.submission.status).toBe('approved');
    const final = (await service.envelope(id, approver, ctx)).bytes;

    // B-LT: the CRLs ride in SignedData.crls; openssl still accepts the envelope.
    const raw = parseCmsSignedData(final);
    expect(raw.certificates.length).toBeGreaterThanOrEqual(3);
    writeFileSync(join(dir, 'final.p7s'), final);
    writeFileSync(join(dir, 'root.pem'), pemEncode('CERTIFICATE', w.ts.service.parts.ca.hierarchy.root.der));
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'final.p7s'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        join(dir, 'doc.json'),
      ],
      { stdio: 'pipe' },
    );
    const listed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 'final.p7s')]).toString();
    expect(listed).toMatch(/crls:\s*\n\s*d\.crl:/);

    // B-LT OCSP: a response of the service's responder for each signer rides in SignedData.crls as
    // an RFC 5940 id-ri-ocsp-response choice, which makes the SignedData version 5.
    expect(raw.version).toBe(5);
    const ocsp = raw.revocationValues.ocspResponses.map((r) => parseOcspResponse(r));
    expect(ocsp.flatMap((r) => r.responses.map((s) => s.serialNumberHex)).sort()).toEqual(
      [w.a, w.reviewer, w.approver].map((h) => normalizeSerial(parseCertificate(h.chain[0]!).serialNumberHex)).sort(),
    );
    expect(ocsp.every((r) => r.responses[0]!.status === 'good')).toBe(true);
    expect(listed.match(/otherRevInfoFormat: .*\(1\.3\.6\.1\.5\.5\.7\.16\.2\)/g)).toHaveLength(3);

    // Now: everything passes, each signature with its own time-stamp as the best signature time.
    const now = await validateYearsLater(final, new Date(Date.now() + 60_000));
    expect(now.indication).toBe('TOTAL_PASSED');
    expect(now.signatures.map((s) => s.bestSignatureTime.source)).toEqual([
      'signature-time-stamp',
      'signature-time-stamp',
      'signature-time-stamp',
    ]);

    // Years later, every signer's certificate expired: still TOTAL_PASSED, on the time-stamps.
    const later = new Date(Math.max(expiryOf(w.a), expiryOf(w.reviewer), expiryOf(w.approver)) + DAY);
    expect(later.getTime()).toBeLessThan(tsa.identity.certificate.notAfter.getTime());
    const report = await validateYearsLater(final, later);
    expect(report.signatures.flatMap((s) => s.checks.filter((c) => c.result !== 'PASSED'))).toEqual([]);
    expect(report.indication).toBe('TOTAL_PASSED');
    // On what the envelope carries alone (nothing given for the service's CA): each signer's
    // status from its OCSP response, the issuing CA's from the root's CRL.
    const carriedOnly = await verifyEnvelope({
      envelope: final,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der), tsaPki.root.certificate],
      intermediates: [tsaPki.issuing.certificate],
      revocation: inMemoryRevocation([
        { issuer: tsaPki.issuing.certificate, revoked: [] },
        { issuer: tsaPki.root.certificate, revoked: [] },
      ]),
      policies: loadPolicies(),
      time: later,
    });
    expect(carriedOnly.indication).toBe('TOTAL_PASSED');
    for (const s of carriedOnly.signatures) {
      const revocation = s.checks.filter((c) => c.id === 'path.revocation');
      expect(revocation.find((c) => c.certificateIndex === 0)?.message).toMatch(/according to the OCSP response produced/);
      expect(revocation.find((c) => c.certificateIndex === 1)?.message).toMatch(/according to the CRL of/);
    }
    // An OCSP response that is altered no longer counts: that signer's status comes from the CRL.
    const tampered = Buffer.from(final);
    const at = tampered.indexOf(Buffer.from(raw.revocationValues.ocspResponses[0]!));
    const flip = at + raw.revocationValues.ocspResponses[0]!.length - 8; // inside the responder's certificate signature
    tampered[flip] = tampered[flip]! ^ 0x01;
    const bad = await verifyEnvelope({
      envelope: tampered,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der), tsaPki.root.certificate],
      intermediates: [tsaPki.issuing.certificate],
      revocation: inMemoryRevocation([
        { issuer: tsaPki.issuing.certificate, revoked: [] },
        { issuer: tsaPki.root.certificate, revoked: [] },
      ]),
      policies: loadPolicies(),
      time: later,
    });
    const leafSources = bad.signatures.map((s) => s.checks.find((c) => c.id === 'path.revocation' && c.certificateIndex === 0)?.message);
    expect(leafSources.filter((m) => /OCSP response/.test(m ?? ''))).toHaveLength(2);
    expect(leafSources.filter((m) => /according to the CRL of/.test(m ?? ''))).toHaveLength(1);

    // The envelope as submitted (no time-stamp) does not.
    const original = await validateYearsLater(await signCmsWith(w.a, foodDocument(w.a.uscc)), later);
    expect(original.indication).toBe('INDETERMINATE');

    // The log entries name the signature values they prove, and that the signatures were time-stamped.
    const entries = (await entriesSince(w.ts, from)).filter((e) => e.subject.endsWith(id));
    expect(entries[0]!.data['signatureSha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(entries[0]!.data['timestamped']).toBe(true);
  });

  it('accepts a JWS annual report with sigTst, xVals and rVals, and it passes after its certificate expired', async () => {
    const accepted = await service.submit({ envelope: await signJwsWith(w.a, annualDocument(w.a.uscc)) }, undefined, ctx);
    expect(accepted.submission.status).toBe('accepted');
    const auditor: Principal = {
      role: 'auditor',
      actor: 'auditor:test',
      certificateSerial: w.auditor.serial,
      name: 'auditor',
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    } as Principal;
    const env = (await service.envelope(accepted.submission.id, auditor, ctx)).bytes;
    const jws = JSON.parse(env.toString('utf8')) as { signatures: Array<{ header?: { etsiU?: string[] } }> };
    const items = (jws.signatures[0]!.header?.etsiU ?? []).map(
      (i) => Object.keys(JSON.parse(Buffer.from(i, 'base64url').toString('utf8')) as object)[0],
    );
    expect(items).toEqual(['sigTst', 'xVals', 'rVals']);
    const rVals = (jws.signatures[0]!.header?.etsiU ?? [])
      .map(
        (i) =>
          JSON.parse(Buffer.from(i, 'base64url').toString('utf8')) as { rVals?: { crlVals: unknown[]; ocspVals: Array<{ val: string }> } },
      )
      .find((p) => p.rVals !== undefined)!.rVals!;
    expect(rVals.crlVals).toHaveLength(2);
    expect(rVals.ocspVals).toHaveLength(1);
    const single = parseOcspResponse(Buffer.from(rVals.ocspVals[0]!.val, 'base64')).responses[0]!;
    expect(single.serialNumberHex).toBe(normalizeSerial(parseCertificate(w.a.chain[0]!).serialNumberHex));
    expect(single.status).toBe('good');
    // The verifier reads rVals: on what the envelope carries alone, the signer's status is its OCSP response's.
    const carriedOnly = await verifyEnvelope({
      envelope: env,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der), tsaPki.root.certificate],
      intermediates: [tsaPki.issuing.certificate],
      revocation: inMemoryRevocation([
        { issuer: tsaPki.issuing.certificate, revoked: [] },
        { issuer: tsaPki.root.certificate, revoked: [] },
      ]),
      policies: loadPolicies(),
      time: new Date(expiryOf(w.a) + DAY),
    });
    expect(carriedOnly.indication).toBe('TOTAL_PASSED');
    expect(carriedOnly.signatures[0]!.checks.find((c) => c.id === 'path.revocation' && c.certificateIndex === 0)?.message).toMatch(
      /according to the OCSP response produced/,
    );
    const report = await validateYearsLater(env, new Date(expiryOf(w.a) + DAY));
    expect(report.signatures[0]!.checks.filter((c) => c.result !== 'PASSED')).toEqual([]);
    expect(report.indication).toBe('TOTAL_PASSED');
  });

  it('adds what CHANCERY_AUGMENT chooses: nothing (none), only the signature time-stamp (t)', async () => {
    const ca = w.ts.service.parts.ca;
    const auditor = { role: 'auditor', actor: 'auditor:test', certificateSerial: w.auditor.serial, name: 'auditor' } as Principal;
    const stored = async (level: 'none' | 't') => {
      const svc = buildSubmissionService(
        { ...w.ts.service.parts, db: w.ts.service.db, audit: w.ts.service.audit },
        loadPolicies(),
        augmentationFor(level, tsa, caValidationData(ca, w.ts.service.parts.ocsp)),
      );
      const envelope = await signCmsWith(w.a, annualDocument(w.a.uscc));
      const r = await svc.submit({ envelope }, undefined, ctx);
      expect(r.submission.status).toBe('accepted');
      return {
        envelope,
        held: (await svc.envelope(r.submission.id, { ...auditor, expiresAt: new Date(Date.now() + 600_000).toISOString() }, ctx)).bytes,
      };
    };
    const none = await stored('none');
    expect(Buffer.compare(none.held, none.envelope)).toBe(0);
    const t = parseCmsSignedData((await stored('t')).held);
    expect(t.signerInfos[0]!.unsignedAttrs.filter((a) => a.type === OID_SIGNATURE_TIME_STAMP)).toHaveLength(1);
    expect(t.revocationValues).toEqual({ crls: [], ocspResponses: [] });
    expect(t.version).toBe(1);
  });

  it('records a submission without a time-stamp when the TSA fails, and says so in the log entry', async () => {
    const failing = buildSubmissionService({ ...w.ts.service.parts, db: w.ts.service.db, audit: w.ts.service.audit }, loadPolicies(), {
      timeStamper: { timestamp: () => Promise.reject(new Error('TSA unreachable')) },
    });
    const from = await treeSize(w.ts);
    const r = await failing.submit({ envelope: await signCmsWith(w.a, annualDocument(w.a.uscc)) }, undefined, ctx);
    expect(r.submission.status).toBe('accepted');
    const entry = (await entriesSince(w.ts, from)).find((e) => e.subject.endsWith(r.submission.id))!;
    expect(entry.data['timestamped']).toBe(false);
  });
});
