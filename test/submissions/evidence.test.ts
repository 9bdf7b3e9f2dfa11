import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemEncode } from '../../src/der/pem.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { OID } from '../../src/oids.js';
import { writeAsicManifest } from '../../src/submissions/asic-manifest.js';
import { evidenceMimeType, openEvidence, type OpenedEvidence } from '../../src/submissions/evidence.js';
import { verifyManifestTimestamp } from '../../src/submissions/evidence-timestamp.js';
import { verifyEvidenceReceipts } from '../../src/submissions/evidence-receipts.js';
import { readReceipt, ReceiptSigner } from '../../src/submissions/receipts.js';
import { readZip, writeZip } from '../../src/submissions/zip.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { parseCmsSignedData } from '../../src/verify/cms-parse.js';
import { crlSource } from '../../src/verify/crl.js';
import { parseOcspResponse } from '../../src/verify/ocsp.js';
import { normalizeSerial } from '../../src/verify/revocation.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { runCli } from '../helpers/spawn.js';
import { createTestPki } from '../verify/envelope-pki.js';
import { annualDocument, countersignWith, createWorld, foodDocument, signCmsWith, signJwsWith, type World } from './fixtures.js';

/**
 * Evidence containers end to end: a licence taken through review and approval over HTTP, its
 * ASiC-E fetched from GET /api/v1/submissions/{id}/evidence and validated offline ten years on —
 * every certificate expired — on the log's inclusion proofs under the pinned log key; an
 * enterprise revoked after its application was accepted still shows it valid; broken containers
 * are refused with a reason. `unzip -t` and `openssl cms -verify` are the outside checks, and
 * `chancery verify --in evidence.asice` the CLI's (it runs the built CLI, as the CLI tests do).
 */

const TEN_YEARS_ON = new Date(Date.now() + 3653 * 86_400_000);

/** The files in ZIP order, `mimetype` stored. */
function zipOf(files: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  return writeZip(files.map((f) => ({ name: f.name, data: f.data, store: f.name === 'mimetype' })));
}

/** A container of `files` (their own manifest and time-stamp dropped) with a manifest made anew over them; `timestamp` kept if given. */
function repack(files: ReadonlyArray<{ name: string; data: Buffer }>, timestamp?: Buffer): Buffer {
  const objects = files
    .filter((f) => evidenceMimeType(f.name) !== undefined)
    .map((f) => ({ name: f.name, data: f.data, mimeType: evidenceMimeType(f.name)! }));
  const signature = objects.find((o) => o.name.startsWith('META-INF/signature.'))!;
  const sigReference =
    timestamp === undefined
      ? { uri: signature.name, mimeType: signature.mimeType }
      : { uri: 'META-INF/timestamp.tst', mimeType: 'application/vnd.etsi.timestamp-token' };
  return zipOf([
    { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip') },
    ...objects,
    { name: 'META-INF/ASiCManifest.xml', data: writeAsicManifest(sigReference, objects) },
    ...(timestamp === undefined ? [] : [{ name: 'META-INF/timestamp.tst', data: timestamp }]),
  ]);
}

describe.each(drivers())('evidence containers on $name', (driver) => {
  let w: World;
  let dir: string;
  let vkey: string;
  let approved: Buffer;

  beforeAll(async () => {
    w = await createWorld(driver);
    dir = mkdtempSync(join(tmpdir(), 'chancery-evidence-'));
    vkey = w.ts.service.auditPart.logKey.vkey;
    writeFileSync(join(dir, 'log.vkey'), `${vkey}\n`);
    writeFileSync(join(dir, 'root.pem'), pemEncode('CERTIFICATE', w.ts.service.parts.ca.hierarchy.root.der));
    const submitted = await (await w.as(w.a)).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    const id = submitted.kind === 'rejected' ? '' : submitted.body.id;
    const reviewer = await w.as(w.reviewer);
    await reviewer.countersign(id, await countersignWith(w.reviewer, await reviewer.envelope(id), 'approve'));
    const approver = await w.as(w.approver);
    const done = await approver.countersign(id, await countersignWith(w.approver, await approver.envelope(id), 'approve'));
    expect(done.status).toBe('approved');
    const res = await (await w.as(w.a)).fetch('GET', `/api/v1/submissions/${id}/evidence`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.etsi.asic-e+zip');
    approved = Buffer.from(await res.arrayBuffer());
  });
  afterAll(async () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    await w?.stop();
  });

  const validate = (opened: OpenedEvidence, time: Date): Promise<ValidationReport> =>
    verifyEnvelope({
      envelope: opened.envelope,
      content: opened.document,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      revocation: crlSource(opened.crls),
      policies: loadPolicies(),
      proofsOfExistence: opened.proofsOfExistence,
      time,
    });

  it('holds the ASiC-E layout, and unzip and openssl cms -verify accept what it carries', () => {
    const names = readZip(approved).map((e) => e.name);
    expect(names[0]).toBe('mimetype');
    expect(names).toContain('document.json');
    expect(names).toContain('META-INF/signature.p7s');
    expect(names).toContain('META-INF/checkpoint.note');
    expect(names).toContain('META-INF/log.vkey');
    expect(names.filter((n) => n.startsWith('META-INF/proofs/'))).toHaveLength(3);
    expect(names.filter((n) => n.startsWith('META-INF/receipts/'))).toHaveLength(3);
    expect(names.filter((n) => n.startsWith('META-INF/crls/'))).toHaveLength(2);
    writeFileSync(join(dir, 'evidence.asice'), approved);
    expect(execFileSync('unzip', ['-t', join(dir, 'evidence.asice')]).toString()).toMatch(/No errors detected/);
    const sig = readZip(approved).find((e) => e.name === 'META-INF/signature.p7s')!.data;
    // B-LT: an OCSP response for the enterprise, both officers and the service's TSA.
    const tsaSerial = normalizeSerial(parseCertificate(w.ts.service.parts.ca.hierarchy.tsa!.der).serialNumberHex);
    const ocspSerials = parseCmsSignedData(sig).revocationValues.ocspResponses.map(
      (r) => parseOcspResponse(r).responses[0]!.serialNumberHex,
    );
    expect(ocspSerials).toHaveLength(4);
    expect(ocspSerials).toContain(tsaSerial);
    writeFileSync(join(dir, 'signature.p7s'), sig);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        join(dir, 'signature.p7s'),
        '-CAfile',
        join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { stdio: 'pipe' },
    );
  });

  it('validates offline ten years on, every certificate expired, on the log proofs under the pinned key', async () => {
    const opened = openEvidence(approved, { logKey: vkey });
    expect(opened.logKey).toBe('given');
    expect(opened.proofsOfExistence.length).toBe(3); // the enterprise's signature and both countersignatures
    const report = await validate(opened, TEN_YEARS_ON);
    expect(report.signatures.flatMap((s) => s.checks.filter((c) => c.result !== 'PASSED'))).toEqual([]);
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures.map((s) => s.bestSignatureTime.source)).toEqual([
      'log-inclusion-proof',
      'log-inclusion-proof',
      'log-inclusion-proof',
    ]);
    // Without the proofs, the same envelope ten years on is INDETERMINATE.
    const bare = await verifyEnvelope({
      ...{ envelope: opened.envelope, content: opened.document },
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      revocation: crlSource(opened.crls),
      policies: loadPolicies(),
      time: TEN_YEARS_ON,
    });
    expect(bare.indication).toBe('INDETERMINATE');
  });

  it('still shows an application valid ten years on after its enterprise was revoked (revocation after the proof of existence)', async () => {
    // The previous test kept the connection idle for seconds: a request racing the server's
    // keep-alive close can meet ECONNRESET. One throwaway request takes the stale socket out.
    await fetch(`${w.url}/healthz`).catch(() => undefined);
    const client = await w.as(w.b);
    const accepted = await client.submit(await signJwsWith(w.b, annualDocument(w.b.uscc)));
    const id = accepted.kind === 'rejected' ? '' : accepted.body.id;
    // CRLs date revocations in whole seconds, and a revocation in the same second as the proof
    // cannot be ordered after it (it counts as before): revoke in a later second.
    await new Promise((r) => setTimeout(r, 1100));
    await w.admin.json('POST', `/api/v1/enterprises/${w.b.uscc}/revoke`, { reason: 'business licence revoked' });
    const container = await (await w.as(w.auditor)).bytes(`/api/v1/submissions/${id}/evidence`);
    const opened = openEvidence(container, { logKey: vkey });
    // The container's CRL lists b's certificate as revoked, after the acceptance.
    const report = await validate(opened, TEN_YEARS_ON);
    expect(report.signatures[0]!.checks.filter((c) => c.result !== 'PASSED')).toEqual([]);
    expect(report.indication).toBe('TOTAL_PASSED');
    // Without the log's proof the envelope still carries the signature time-stamp the service added
    // when it accepted it (B-T): that alone places the signature before the revocation.
    const timeStampOnly = await validate({ ...opened, proofsOfExistence: [] }, new Date(Date.now() + 60_000));
    expect(timeStampOnly.indication).toBe('TOTAL_PASSED');
    expect(timeStampOnly.signatures[0]!.bestSignatureTime.source).toBe('signature-time-stamp');
    // POST /api/v1/verify agrees, on the service's own revocation data and log key.
    const post = async (type: string, body: Uint8Array) =>
      fetch(`${w.url}/api/v1/verify`, { method: 'POST', headers: { 'content-type': type }, body: new Blob([body]) });
    const viaApi = await post('application/vnd.etsi.asic-e+zip', container);
    expect(viaApi.status, await viaApi.clone().text()).toBe(200);
    const apiReport = (await viaApi.json()) as ValidationReport;
    expect(apiReport.indication).toBe('TOTAL_PASSED');
    expect(['log-inclusion-proof', 'signature-time-stamp']).toContain(apiReport.signatures[0]!.bestSignatureTime.source);
    const envelopeOnly = (await (await post('application/jose+json', opened.envelope)).json()) as ValidationReport;
    expect(envelopeOnly.indication).toBe('TOTAL_PASSED');
    expect(envelopeOnly.signatures[0]!.bestSignatureTime.source).toBe('signature-time-stamp');
    const broken = await post('application/vnd.etsi.asic-e+zip', container.subarray(0, 200));
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { code: string }).code).toBe('ERR_SUBMISSION_EVIDENCE_INVALID');
  });

  it('passes through chancery verify --in evidence.asice --at ten years on, offline', async () => {
    const r = await runCli([
      'verify',
      '--in',
      join(dir, 'evidence.asice'),
      '--trust',
      join(dir, 'root.pem'),
      '--at',
      TEN_YEARS_ON.toISOString(),
      '--log-key',
      join(dir, 'log.vkey'),
    ]);
    expect(r.stdout, r.stdout + r.stderr).toMatch(/^TOTAL_PASSED/);
    expect(r.stdout).toMatch(/best signature time: .*log-inclusion-proof/);
    expect(r.code).toBe(0);
  });

  it('refuses broken containers with a reason: truncated, another log key, an altered entry, an extra file, a missing mimetype', async () => {
    await expectCode(() => openEvidence(approved.subarray(0, approved.length - 100), { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID');
    const otherKey = vkey.replace(
      /\+[A-Za-z0-9+/=]+$/,
      (k) => `+${Buffer.alloc(Buffer.from(k.slice(1), 'base64').length, 7).toString('base64')}`,
    );
    await expectCode(() => openEvidence(approved, { logKey: otherKey }), 'ERR_SUBMISSION_EVIDENCE_INVALID');
    const entries = readZip(approved);
    const rebuild = (edit: (list: typeof entries) => typeof entries) =>
      writeZip(edit(entries.map((e) => ({ ...e }))).map((e) => ({ name: e.name, data: e.data, store: e.name === 'mimetype' })));
    const alteredProof = rebuild((list) =>
      list.map((e) => {
        if (!e.name.startsWith('META-INF/proofs/')) return e;
        const p = JSON.parse(e.data.toString()) as { entry: string };
        const entry = Buffer.from(p.entry, 'base64').toString().replace('"approve"', '"refuse"');
        return { ...e, data: Buffer.from(JSON.stringify({ ...p, entry: Buffer.from(entry).toString('base64') })) };
      }),
    );
    const e1 = await expectCode(() => openEvidence(alteredProof, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID');
    expect(e1.message).toMatch(/leaf hash|inclusion proof/);
    const extra = rebuild((list) => [...list, { ...list[1]!, name: 'META-INF/extra.txt' }]);
    expect((await expectCode(() => openEvidence(extra), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(/unexpected file/);
    const noMime = rebuild((list) => list.slice(1));
    expect((await expectCode(() => openEvidence(noMime), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(/mimetype/);
    const traversal = rebuild((list) => [...list, { ...list[1]!, name: '../escape.json' }]);
    expect((await expectCode(() => openEvidence(traversal), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(/path traversal/);
    // The CLI gives a verdict, not a crash.
    writeFileSync(join(dir, 'broken.asice'), approved.subarray(0, approved.length - 100));
    const r = await runCli(['verify', '--in', join(dir, 'broken.asice'), '--trust', join(dir, 'root.pem')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/TOTAL_FAILED \/ FORMAT_FAILURE[\s\S]*evidence container is not valid/);
  });

  it("verifies the container's receipts: an altered, misplaced, foreign-sealed or other submission's receipt fails with its reason", async () => {
    const root = parseCertificate(w.ts.service.parts.ca.hierarchy.root.der);
    const opened = openEvidence(approved, { logKey: vkey });
    const trust = { anchors: [root], revocation: crlSource(opened.crls) };
    const verified = await verifyEvidenceReceipts(opened, trust);
    expect(verified.map((r) => r.status)).toEqual(['pending', 'pending', 'approved']);
    expect(verified.map((r) => r.logIndex)).toEqual(opened.entries.map((e) => e.index));

    const entries = readZip(approved);
    const receiptNames = entries.filter((e) => e.name.startsWith('META-INF/receipts/')).map((e) => e.name);
    // Each altered container gets a manifest made anew over what it holds (as a forger would make one).
    const withReceipt = (name: string, receipt: string) =>
      repack(entries.map((e) => ({ name: e.name, data: e.name === name ? Buffer.from(receipt) : e.data })));
    const receiptAt = (name: string) => entries.find((e) => e.name === name)!.data.toString('utf8');
    const refusal = async (container: Buffer) =>
      (await expectCode(() => verifyEvidenceReceipts(openEvidence(container, { logKey: vkey }), trust), 'ERR_SUBMISSION_EVIDENCE_INVALID'))
        .message;

    // Altered: the last receipt says "refused" under the seal's signature of "approved".
    const last = receiptNames[2]!;
    const [h, payload, sig] = receiptAt(last).split('.');
    const altered = Buffer.from(Buffer.from(payload!, 'base64url').toString('utf8').replace('"approved"', '"refused"')).toString(
      'base64url',
    );
    expect(await refusal(withReceipt(last, `${h}.${altered}.${sig}`))).toMatch(/receipts\/\d+\.jws: .*signature does not verify/);
    // Misplaced: the first transition's (genuine) receipt beside the last transition's proof.
    expect(await refusal(withReceipt(last, receiptAt(receiptNames[0]!)))).toMatch(/is the receipt of log entry \d+, not \d+/);
    // Foreign: the same payload sealed by a key and certificate of another CA.
    const other = await createTestPki(new Date(), 'Other Registry');
    const foreignSeal = await other.issue({ commonName: 'Other seal', policies: [OID.policyService] });
    const foreign = await new ReceiptSigner(foreignSeal.signer, foreignSeal.chain).sign(readReceipt(receiptAt(last)).payload);
    expect(await refusal(withReceipt(last, foreign))).toMatch(/not a valid Chancery service seal/);
    // Another submission's receipt, at the same index, sealed by the same service.
    const fake = await new ReceiptSigner(w.ts.service.parts.ca.hierarchy.seal.signer, [
      w.ts.service.parts.ca.hierarchy.seal.der,
      w.ts.service.parts.ca.hierarchy.issuing.der,
    ]).sign({ ...readReceipt(receiptAt(last)).payload, submission: '00000000-0000-4000-8000-000000000000' });
    expect(await refusal(withReceipt(last, fake))).toMatch(/does not match its log entry: the entry is about/);
    // A receipt with no proof beside it is refused when the container is opened.
    const orphan = repack([...entries, { name: 'META-INF/receipts/999999.jws', data: Buffer.from(foreign) }]);
    expect((await expectCode(() => openEvidence(orphan, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
      /no proof of log entry 999999/,
    );

    // The CLI lists the verified receipts, and refuses the altered container with the reason.
    const ok = await runCli([
      'verify',
      '--in',
      join(dir, 'evidence.asice'),
      '--trust',
      join(dir, 'root.pem'),
      '--log-key',
      join(dir, 'log.vkey'),
    ]);
    expect(ok.stdout).toMatch(/receipts: 3 verified/);
    writeFileSync(join(dir, 'foreign.asice'), withReceipt(last, foreign));
    const r = await runCli([
      'verify',
      '--in',
      join(dir, 'foreign.asice'),
      '--trust',
      join(dir, 'root.pem'),
      '--log-key',
      join(dir, 'log.vkey'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/TOTAL_FAILED \/ FORMAT_FAILURE[\s\S]*receipts\/\d+\.jws: .*not a valid Chancery service seal/);
    // POST /api/v1/verify refuses it too.
    const res = await fetch(`${w.url}/api/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.etsi.asic-e+zip' },
      body: new Blob([withReceipt(last, foreign)]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_SUBMISSION_EVIDENCE_INVALID');
  });

  it('carries an ASiC manifest of every file with its time assertion; openssl ts accepts the time-stamp; altered, unlisted and missing files fail', async () => {
    const entries = readZip(approved);
    const file = (name: string) => entries.find((e) => e.name === name)!.data;
    const manifest = file('META-INF/ASiCManifest.xml').toString('utf8');
    const listed = [...manifest.matchAll(/<asic:DataObjectReference URI="([^"]+)" MimeType="([^"]+)">/g)].map((m) => m[1]);
    expect(listed).toEqual(
      entries.map((e) => e.name).filter((n) => !['mimetype', 'META-INF/ASiCManifest.xml', 'META-INF/timestamp.tst'].includes(n)),
    );
    expect(manifest).toContain('<asic:SigReference URI="META-INF/timestamp.tst" MimeType="application/vnd.etsi.timestamp-token"/>');
    expect(manifest).toContain('<asic:DataObjectReference URI="META-INF/signature.p7s" MimeType="application/pkcs7-signature">');
    // The outside check: openssl ts verifies the time assertion over the manifest's bytes.
    writeFileSync(join(dir, 'ASiCManifest.xml'), file('META-INF/ASiCManifest.xml'));
    writeFileSync(join(dir, 'timestamp.tst'), file('META-INF/timestamp.tst'));
    writeFileSync(join(dir, 'issuing.pem'), pemEncode('CERTIFICATE', w.ts.service.parts.ca.hierarchy.issuing.der));
    const ts = execFileSync('openssl', [
      'ts',
      '-verify',
      '-data',
      join(dir, 'ASiCManifest.xml'),
      '-in',
      join(dir, 'timestamp.tst'),
      '-token_in',
      '-CAfile',
      join(dir, 'root.pem'),
      '-untrusted',
      join(dir, 'issuing.pem'),
    ]).toString();
    expect(ts).toMatch(/Verification: OK/);
    const opened = openEvidence(approved, { logKey: vkey });
    expect(opened.manifest.objects).toBe(listed.length);
    const root = parseCertificate(w.ts.service.parts.ca.hierarchy.root.der);
    const assertion = await verifyManifestTimestamp(opened, { anchors: [root], revocation: crlSource(opened.crls), time: new Date() });
    expect(assertion?.indication).toBe('TOTAL_PASSED');
    expect(Date.parse(assertion!.genTime!)).toBeGreaterThan(Date.parse(opened.entries.at(-1)!.time) - 1000);
    const cli = await runCli([
      'verify',
      '--in',
      join(dir, 'evidence.asice'),
      '--trust',
      join(dir, 'root.pem'),
      '--log-key',
      join(dir, 'log.vkey'),
    ]);
    expect(cli.stdout).toMatch(/manifest: META-INF\/ASiCManifest\.xml lists 12 files, every SHA-256 digest matches/);
    expect(cli.stdout).toMatch(/time assertion: genTime .*: TOTAL_PASSED/);

    const refusal = async (files: Array<{ name: string; data: Buffer }>) =>
      (await expectCode(() => openEvidence(zipOf(files), { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message;
    // A CRL swapped for the other one: nothing but the manifest covers the CRLs.
    const swapped = entries.map((e) =>
      e.name === 'META-INF/crls/1.crl'
        ? { ...e, data: file('META-INF/crls/2.crl') }
        : e.name === 'META-INF/crls/2.crl'
          ? { ...e, data: file('META-INF/crls/1.crl') }
          : e,
    );
    expect(await refusal(swapped)).toMatch(/META-INF\/crls\/1\.crl does not match its SHA-256 digest/);
    expect(await refusal([...entries, { name: 'META-INF/crls/3.crl', data: file('META-INF/crls/1.crl') }])).toMatch(
      /crls\/3\.crl is not listed/,
    );
    expect(await refusal(entries.filter((e) => e.name !== 'META-INF/crls/2.crl'))).toMatch(
      /lists META-INF\/crls\/2\.crl, which the container does not hold/,
    );
    expect(await refusal(entries.filter((e) => e.name !== 'META-INF/ASiCManifest.xml'))).toMatch(/has no META-INF\/ASiCManifest\.xml/);
    expect(await refusal(entries.filter((e) => e.name !== 'META-INF/timestamp.tst'))).toMatch(
      /names META-INF\/timestamp\.tst as what covers it/,
    );
    const garbled = entries.map((e) =>
      e.name === 'META-INF/ASiCManifest.xml'
        ? { ...e, data: Buffer.from(manifest.replace('<ds:DigestValue>', '<!-- x --><ds:DigestValue>')) }
        : e,
    );
    expect(await refusal(garbled)).toMatch(/not an ASiCManifest/);
    // A manifest made anew over a swapped CRL opens, but the time assertion no longer covers it.
    const forged = repack(swapped, file('META-INF/timestamp.tst'));
    await expectCode(
      () =>
        verifyManifestTimestamp(openEvidence(forged, { logKey: vkey }), { anchors: [root], revocation: crlSource([]), time: new Date() }),
      'ERR_SUBMISSION_EVIDENCE_INVALID',
    );
  });

  it('answers 404 for the evidence of an unknown submission', async () => {
    const res = await (await w.as(w.auditor)).fetch('GET', '/api/v1/submissions/00000000-0000-4000-8000-000000000000/evidence');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_SUBMISSION_NOT_FOUND');
  });
});
