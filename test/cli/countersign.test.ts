import { readFileSync, writeFileSync } from 'node:fs';
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
    ['app.p7s', 'approve'],
    ['app.jws', 'refuse'],
  ])('countersigns %s with %s, keeping the enterprise signature valid', async (input, decision) => {
    const out = join(dir, `${input}.${decision}`);
    const r = await runCli(['countersign', ...reviewer.args, '--in', join(dir, input), '--decision', decision, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const result = await report(readFileSync(out));
    expect(result.indication).toBe('TOTAL_PASSED');
    expect(result.signatures.map((s) => s.decision ?? null)).toEqual([null, decision]);
    expect(result.signatures[1]!.signer?.officer).toEqual({ role: 'reviewer', jurisdiction: '440300' });
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
