import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/verify/certificate.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { pgliteDriver } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { createWorld, foodDocument, signCmsWith, signJwsWith, type World } from '../submissions/fixtures.js';
import { holderFiles, scratchDir, type HolderFiles } from './cli-world.js';

/** `chancery countersign` as a real process: one more signature with the decision, nothing else changed. */
describe('chancery countersign', () => {
  let w: World;
  let dir: string;
  let reviewer: HolderFiles;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
    dir = scratchDir();
    reviewer = holderFiles(w, w.reviewer, dir);
    writeFileSync(join(dir, 'app.p7s'), await signCmsWith(w.a, foodDocument(w.a.uscc)));
    writeFileSync(join(dir, 'app.jws'), await signJwsWith(w.a, foodDocument(w.a.uscc)));
  });
  afterAll(async () => w?.stop());

  const report = (envelope: Buffer) =>
    verifyEnvelope({
      envelope,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      revocation: noRevocation(),
      time: new Date(),
    });

  it.each([
    ['app.p7s', 'approve', []],
    ['app.jws', 'refuse', ['--reason', 'The food-safety manager has no certificate']],
    ['app.p7s', 'refuse', ['--reason', 'The food-safety manager has no certificate']],
    ['app.jws', 'review', []],
  ])('countersigns %s with %s, keeping the enterprise signature valid', async (input, decision, extra) => {
    const out = join(dir, `${input}.${decision}`);
    const r = await runCli(['countersign', ...reviewer.args, '--in', join(dir, input), '--decision', decision, ...extra, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const result = await report(readFileSync(out));
    expect(result.indication).toBe('TOTAL_PASSED');
    expect(result.signatures.map((s) => s.decision ?? null)).toEqual([null, decision]);
    expect(result.signatures[1]!.signer?.officer).toEqual({ role: 'reviewer', jurisdiction: '440300' });
    expect(result.signatures[1]!.reason).toBe(extra[1]);
  });

  it('signs the reason as typed, normalized (NFC, line breaks and runs of spaces to one space), and `chancery verify` prints it', async () => {
    const out = join(dir, 'normalized.p7s');
    const typed = '  Cafe\u0301 premises:\n  the   floor plan is missing  ';
    const r = await runCli([
      'countersign',
      ...reviewer.args,
      '--in',
      join(dir, 'app.p7s'),
      '--decision',
      'refuse',
      '--reason',
      typed,
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const expected = 'Café premises: the floor plan is missing';
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'refuse', reason: expected });
    expect((await report(readFileSync(out))).signatures[1]!.reason).toBe(expected);
    writeFileSync(join(dir, 'root.pem'), new X509Certificate(w.ts.service.parts.ca.hierarchy.root.der).toString());
    const shown = await runCli(['verify', '--in', out, '--trust', join(dir, 'root.pem')]);
    expect(shown.stdout).toContain(`reason: ${JSON.stringify(expected)}`);
  });

  it('exits 64 on a refusal without --reason, an approval with one, and a reason that cannot be one; nothing is written', async () => {
    const base = ['countersign', ...reviewer.args, '--in', join(dir, 'app.jws'), '--out', join(dir, 'never.jws')];
    const bare = await runCli([...base, '--decision', 'refuse']);
    expect(bare.code).toBe(64);
    expect(bare.stderr).toContain('needs --reason');
    const approved = await runCli([...base, '--decision', 'approve', '--reason', 'fine']);
    expect(approved.code).toBe(64);
    expect(approved.stderr).toContain('takes no --reason');
    expect((await runCli([...base, '--decision', 'refuse', '--reason', '   '])).stderr).toContain('the reason is empty');
    expect((await runCli([...base, '--decision', 'refuse', '--reason', 'x'.repeat(501)])).code).toBe(64);
    expect((await runCli([...base, '--decision', 'refuse', '--reason', 'bell\u0007'])).stderr).toContain('control');
    expect(existsSync(join(dir, 'never.jws'))).toBe(false);
  });

  it('exits 64 on an unknown decision and 1 on an envelope it cannot read', async () => {
    expect(
      (await runCli(['countersign', ...reviewer.args, '--in', join(dir, 'app.p7s'), '--decision', 'maybe', '--out', join(dir, 'x')])).code,
    ).toBe(64);
    writeFileSync(join(dir, 'junk.p7s'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]));
    const junk = await runCli([
      'countersign',
      ...reviewer.args,
      '--in',
      join(dir, 'junk.p7s'),
      '--decision',
      'approve',
      '--out',
      join(dir, 'y'),
    ]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('cannot be read');
  });
});
