import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/verify/certificate.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { openssl } from '../ca/openssl.js';
import { pgliteDriver } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { createWorld, foodDocument, type World } from '../submissions/fixtures.js';
import { holderFiles, scratchDir, type HolderFiles } from './cli-world.js';

/** `chancery sign` as a real process: envelopes that our verifier and openssl accept. */
describe('chancery sign', () => {
  let w: World;
  let dir: string;
  let enterprise: HolderFiles;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
    dir = scratchDir();
    enterprise = holderFiles(w, w.a, dir);
    writeFileSync(join(dir, 'app.json'), foodDocument(w.a.uscc));
    writeFileSync(join(dir, 'root.pem'), readFileSync(join(w.ts.dataDir, 'ca', 'root.pem')));
    writeFileSync(join(dir, 'chain.pem'), readFileSync(join(w.ts.dataDir, 'ca', 'chain.pem')));
  });
  afterAll(async () => w?.stop());

  const verify = async (envelope: Buffer, content?: Buffer) =>
    verifyEnvelope({
      envelope,
      content,
      anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
      revocation: noRevocation(),
      policy: loadPolicies().get('food-business-licence'),
      time: new Date(),
    });

  it('refuses a key that is not the certificate’s before signing anything (exit 1, no file)', async () => {
    const other = holderFiles(w, w.b, dir);
    const out = join(dir, 'mismatch.p7s');
    const r = await runCli(['sign', '--key', other.key, '--cert', enterprise.cert, '--in', join(dir, 'app.json'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not belong to the certificate');
    expect(existsSync(out)).toBe(false);
  });

  it('signs a CMS envelope that Chancery and openssl cms -verify accept', async () => {
    const r = await runCli(['sign', ...enterprise.args, '--in', join(dir, 'app.json'), '--format', 'cms', '--out', join(dir, 'app.p7s')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote CMS envelope');
    const envelope = readFileSync(join(dir, 'app.p7s'));
    expect((await verify(envelope)).indication).toBe('TOTAL_PASSED');
    const o = await openssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      join(dir, 'app.p7s'),
      '-CAfile',
      join(dir, 'chain.pem'),
      '-purpose',
      'any',
      '-out',
      join(dir, 'out.json'),
    ]);
    expect(o.code, o.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.json')).equals(readFileSync(join(dir, 'app.json')))).toBe(true);
  });

  it('signs a detached JWS whose document is given beside it', async () => {
    const r = await runCli([
      'sign',
      ...enterprise.args,
      '--in',
      join(dir, 'app.json'),
      '--format',
      'jws',
      '--detached',
      '--out',
      join(dir, 'app.jws'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'jws', detached: true });
    const envelope = readFileSync(join(dir, 'app.jws'));
    expect(JSON.parse(envelope.toString()).payload).toBe('');
    expect((await verify(envelope, readFileSync(join(dir, 'app.json')))).indication).toBe('TOTAL_PASSED');
  });

  it('exits 64 on usage errors and refuses to overwrite a file', async () => {
    expect((await runCli(['sign', '--in', join(dir, 'app.json'), '--out', join(dir, 'x.p7s')])).code).toBe(64);
    expect(
      (await runCli(['sign', ...enterprise.args, '--in', join(dir, 'app.json'), '--format', 'xml', '--out', join(dir, 'x.p7s')])).code,
    ).toBe(64);
    const again = await runCli(['sign', ...enterprise.args, '--in', join(dir, 'app.json'), '--out', join(dir, 'app.p7s')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
  });
});
