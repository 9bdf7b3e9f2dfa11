import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemEncode } from '../../src/der/pem.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { evidenceMimeType, openEvidence } from '../../src/submissions/evidence.js';
import { readZip, writeZip } from '../../src/submissions/zip.js';
import { ASIC_MANIFEST_NAME, ASIC_TIMESTAMP_NAME, writeAsicManifest } from '../../src/submissions/asic-manifest.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { crlSource } from '../../src/verify/crl.js';
import { verifyEnvelope, type ProofOfExistence } from '../../src/verify/envelope.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { runCli } from '../helpers/spawn.js';
import { annualDocument, createWorld, signCmsWith, type World } from '../submissions/fixtures.js';

/**
 * Archive time-stamps in evidence containers, end to end: a service time-stamping its log's head
 * every 0.2 s (its own TSA), an annual report accepted, and its container fetched once a
 * time-stamped checkpoint covers the transition: the container carries that checkpoint's note,
 * the token and the consistency proof to its own checkpoint, and the offline verifier trusts the
 * token as a proof of existence of the signature (source archive-timestamp). Altered links are
 * refused when they break the log's proofs, and reported (not trusted) when only the token is wrong.
 */

describe.each(drivers())('archive time-stamps in evidence containers on $name', (driver) => {
  let w: World;
  let vkey: string;
  let container: Buffer;

  beforeAll(async () => {
    w = await createWorld(driver, { CHANCERY_ARCHIVE_TIMESTAMP_INTERVAL: '0.2' });
    vkey = w.ts.service.auditPart.logKey.vkey;
    // A checkpoint time-stamped before the submission, so another checkpoint's token exists for the
    // tests that swap one in (a fresh log waits an interval before its first archive time-stamp).
    const first = Date.now() + 15_000;
    while ((await fetch(`${w.url}/api/v1/log/timestamps?size=0`)).status !== 200) {
      if (Date.now() > first) throw new Error('the service time-stamped no checkpoint in 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = await w.as(w.a);
    const submitted = await client.submit(await signCmsWith(w.a, annualDocument(w.a.uscc)));
    expect(submitted.kind).not.toBe('rejected');
    const id = submitted.kind === 'rejected' ? '' : submitted.body.id;
    // The container carries an archive time-stamp once one covers the transition (within ~0.2 s + a checkpoint)…
    const deadline = Date.now() + 15_000;
    for (;;) {
      container = await client.bytes(`/api/v1/submissions/${id}/evidence`);
      // …and once the container's checkpoint also covers the entry recording that token (a moment later).
      const meta = readZip(container).find((e) => e.name === 'META-INF/archive/1.json');
      if (meta !== undefined && (JSON.parse(meta.data.toString()) as { record?: unknown }).record !== undefined) break;
      if (Date.now() > deadline) throw new Error('no archive time-stamp covered the submission in 15 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await w?.stop();
  });

  const anchors = () => [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)];
  // An attacker who edits files also re-makes the ASiC manifest over them (and drops the time
  // assertion that would no longer match), so what is tested here is the archive checks behind it.
  const remanifest = (list: Array<{ name: string; data: Buffer }>): Array<{ name: string; data: Buffer }> => {
    const objects = list.flatMap((e) => {
      const mimeType = evidenceMimeType(e.name);
      return mimeType === undefined ? [] : [{ name: e.name, mimeType, data: e.data }];
    });
    const signature = objects.find((o) => o.name.startsWith('META-INF/signature.'))!;
    return [
      ...list.filter((e) => e.name !== ASIC_MANIFEST_NAME && e.name !== ASIC_TIMESTAMP_NAME),
      { name: ASIC_MANIFEST_NAME, data: writeAsicManifest({ uri: signature.name, mimeType: signature.mimeType }, objects) },
    ];
  };
  const rebuild = (edit: (list: Array<{ name: string; data: Buffer }>) => Array<{ name: string; data: Buffer }>): Buffer =>
    writeZip(
      remanifest(edit(readZip(container).map((e) => ({ name: e.name, data: e.data })))).map((e) => ({
        ...e,
        store: e.name === 'mimetype',
      })),
    );
  const validateArchiveOnly = async (bytes: Buffer) => {
    const opened = openEvidence(bytes, { logKey: vkey });
    const archiveOnly = opened.proofsOfExistence.filter(
      (p): p is Extract<ProofOfExistence, { source: 'archive-timestamp' }> => p.source === 'archive-timestamp',
    );
    return {
      opened,
      report: await verifyEnvelope({
        envelope: opened.envelope,
        content: opened.document,
        anchors: anchors(),
        revocation: crlSource(opened.crls),
        policies: loadPolicies(),
        proofsOfExistence: archiveOnly,
        time: new Date(Date.now() + 60_000),
      }),
    };
  };

  it('carries the time-stamped checkpoint covering the transition, proven consistent with its own checkpoint', async () => {
    const names = readZip(container).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['META-INF/archive/1.note', 'META-INF/archive/1.tst', 'META-INF/archive/1.json']));
    const opened = openEvidence(container, { logKey: vkey });
    expect(opened.archive?.links).toHaveLength(1);
    const link = opened.archive!.links[0]!;
    expect(link.treeSize).toBeGreaterThan(Math.max(...opened.entries.map((e) => e.index)));
    expect(link.treeSize).toBeLessThanOrEqual(opened.checkpointSize);
    // The same checkpoint the service publishes at GET /api/v1/log/timestamps for that size.
    const served = (await (await fetch(`${w.url}/api/v1/log/timestamps?size=${link.treeSize}`)).json()) as { note: string; token: string };
    expect(Buffer.from(link.note).toString('utf8')).toBe(served.note);
    expect(Buffer.from(link.token).toString('base64')).toBe(served.token);
    expect(opened.proofsOfExistence.filter((p) => p.source === 'archive-timestamp')).toHaveLength(1);
  });

  it('the verifier validates the token and trusts it as a proof of existence of the signature', async () => {
    const { report } = await validateArchiveOnly(container);
    expect(report.indication).toBe('TOTAL_PASSED');
    const s = report.signatures[0]!;
    expect(s.archiveTimestamps?.map((t) => t.indication)).toEqual(['TOTAL_PASSED']);
    // The signature's own time-stamp (B-T) is earlier than the checkpoint's, so it stays the best time;
    // the archive time-stamp is a second, independent proof under the TSA's certificate.
    expect(['signature-time-stamp', 'archive-timestamp']).toContain(s.bestSignatureTime.source);
    expect(Date.parse(s.archiveTimestamps![0]!.genTime!)).toBeGreaterThanOrEqual(Date.parse(s.bestSignatureTime.time));
  });

  it('chancery verify --in evidence.asice validates the archive time-stamp offline and reports it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chancery-archive-cli-'));
    try {
      writeFileSync(join(dir, 'evidence.asice'), container);
      writeFileSync(join(dir, 'root.pem'), pemEncode('CERTIFICATE', w.ts.service.parts.ca.hierarchy.root.der));
      writeFileSync(join(dir, 'log.vkey'), `${vkey}\n`);
      const r = await runCli([
        'verify',
        '--in',
        join(dir, 'evidence.asice'),
        '--trust',
        join(dir, 'root.pem'),
        '--log-key',
        join(dir, 'log.vkey'),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ValidationReport;
      expect(report.indication).toBe('TOTAL_PASSED');
      expect(report.signatures[0]!.archiveTimestamps?.map((t) => t.indication)).toEqual(['TOTAL_PASSED']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a container whose archive link breaks the log proofs: altered consistency proof, another note, a foreign record', async () => {
    const editJson = (f: (j: Record<string, unknown>) => Record<string, unknown>) =>
      rebuild((list) =>
        list.map((e) =>
          e.name === 'META-INF/archive/1.json' ? { ...e, data: Buffer.from(JSON.stringify(f(JSON.parse(e.data.toString())))) } : e,
        ),
      );
    const json = JSON.parse(
      readZip(container)
        .find((e) => e.name === 'META-INF/archive/1.json')!
        .data.toString(),
    ) as {
      treeSize: number;
      consistency: string[];
      record?: { entry: string };
    };
    if (json.consistency.length > 0) {
      const altered = editJson((j) => ({
        ...j,
        consistency: (j['consistency'] as string[]).map((h, i) => (i === 0 ? 'ff'.repeat(32) : h)),
      }));
      expect((await expectCode(() => openEvidence(altered, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
        /consistent/,
      );
    }
    const wrongSize = editJson((j) => ({ ...j, treeSize: (j['treeSize'] as number) + 1 }));
    expect((await expectCode(() => openEvidence(wrongSize, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
      /tree size/,
    );
    const unsignedNote = rebuild((list) =>
      list.map((e) =>
        e.name === 'META-INF/archive/1.note' ? { ...e, data: Buffer.from(e.data.toString().replace(/\n\n.*$/s, '\n\n— x AAAA\n')) } : e,
      ),
    );
    expect((await expectCode(() => openEvidence(unsignedNote, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
      /archive\/1\.note/,
    );
    // A record that names another token than the one carried.
    expect(json.record).toBeDefined();
    const otherToken = rebuild((list) =>
      list.map((e) => (e.name === 'META-INF/archive/1.tst' ? { ...e, data: Buffer.concat([e.data, Buffer.from([0])]) } : e)),
    );
    expect((await expectCode(() => openEvidence(otherToken, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
      /not the checkpoint.timestamped entry of this token/,
    );
    const strayFile = rebuild((list) => [...list, { name: 'META-INF/archive/3.tst', data: Buffer.from([0x30, 0]) }]);
    expect((await expectCode(() => openEvidence(strayFile, { logKey: vkey }), 'ERR_SUBMISSION_EVIDENCE_INVALID')).message).toMatch(
      /numbered/,
    );
  });

  it('reports, and does not trust, a token over other data or a forged one (the log proofs themselves hold)', async () => {
    // Another checkpoint's token (the first the service time-stamped), without a record to tie it.
    const earliest = (await (await fetch(`${w.url}/api/v1/log/timestamps?size=0`)).json()) as { token: string; treeSize: number };
    const link = openEvidence(container, { logKey: vkey }).archive!.links[0]!;
    expect(earliest.treeSize).toBeLessThan(link.treeSize);
    const swap = (token: Buffer) =>
      rebuild((list) =>
        list.map((e) => {
          if (e.name === 'META-INF/archive/1.tst') return { ...e, data: token };
          if (e.name !== 'META-INF/archive/1.json') return e;
          const { record: _record, ...rest } = JSON.parse(e.data.toString()) as Record<string, unknown>;
          return { ...e, data: Buffer.from(JSON.stringify(rest)) };
        }),
      );
    const other = await validateArchiveOnly(swap(Buffer.from(earliest.token, 'base64')));
    const t = other.report.signatures[0]!.archiveTimestamps![0]!;
    expect(t.subIndication).toBe('HASH_FAILURE');
    expect(other.report.signatures[0]!.bestSignatureTime.source).not.toBe('archive-timestamp');
    const forgedBytes = Buffer.from(link.token);
    forgedBytes[forgedBytes.length - 10]! ^= 0x01;
    const forged = await validateArchiveOnly(swap(forgedBytes));
    expect(forged.report.signatures[0]!.archiveTimestamps![0]!.indication).not.toBe('TOTAL_PASSED');
    expect(forged.report.signatures[0]!.bestSignatureTime.source).not.toBe('archive-timestamp');
    // Neither fails the signature: it is valid on its own at this time.
    expect(forged.report.indication).toBe('TOTAL_PASSED');
  });
});
