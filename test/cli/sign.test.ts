import { createPrivateKey } from 'node:crypto';
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

  it("refuses a key that is not the certificate's before signing anything (exit 1, ERR_CLI_KEY_CERT_MISMATCH)", async () => {
    const other = holderFiles(w, w.b, dir);
    const out = join(dir, 'mismatch.p7s');
    const r = await runCli(['sign', '--key', other.key, '--cert', enterprise.cert, '--in', join(dir, 'app.json'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not belong to the certificate');
    expect(r.stderr).toContain('nothing was signed');
    expect(existsSync(out)).toBe(false);
  });

  it('says an encrypted key needs its passphrase, and how to give it', async () => {
    const encrypted = join(dir, 'encrypted.key.pem');
    writeFileSync(
      encrypted,
      createPrivateKey(readFileSync(enterprise.key)).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'test-only-passphrase',
      }),
    );
    const r = await runCli([
      'sign',
      '--key',
      encrypted,
      '--cert',
      enterprise.cert,
      '--in',
      join(dir, 'app.json'),
      '--out',
      join(dir, 'enc.p7s'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('it is encrypted and no passphrase was given');
    expect(r.stderr).toContain('--passphrase-env');
    const wrong = await runCli(
      [
        'sign',
        '--key',
        encrypted,
        '--cert',
        enterprise.cert,
        '--passphrase-env',
        'P',
        '--in',
        join(dir, 'app.json'),
        '--out',
        join(dir, 'enc.p7s'),
      ],
      { P: 'not-the-passphrase' },
    );
    expect(wrong.stderr).toContain('the passphrase is wrong');
    const right = await runCli(
      [
        'sign',
        '--key',
        encrypted,
        '--cert',
        enterprise.cert,
        '--passphrase-env',
        'P',
        '--in',
        join(dir, 'app.json'),
        '--out',
        join(dir, 'enc.p7s'),
      ],
      { P: 'test-only-passphrase' },
    );
    expect(right.code, right.stderr).toBe(0);
  });
});

/** `chancery sample`: a document for each policy that the policy's own checks accept once signed. */
describe('chancery sample', () => {
  let w: World;
  let dir: string;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
    dir = scratchDir();
  });
  afterAll(async () => w?.stop());

  it('prints, for every policy, a document that signs and verifies TOTAL_PASSED under that policy', async () => {
    const enterprise = holderFiles(w, w.a, dir);
    const policies = loadPolicies();
    expect(policies.list().length).toBeGreaterThanOrEqual(4);
    for (const policy of policies.list()) {
      const doc = join(dir, `${policy.id}.json`);
      const r = await runCli(['sample', '--policy', policy.id, '--applicant', w.a.uscc, '--out', doc]);
      expect(r.code, `${policy.id}: ${r.stderr}`).toBe(0);
      expect((JSON.parse(readFileSync(doc, 'utf8')) as { applicant: string }).applicant).toBe(w.a.uscc);
      const signed = await runCli(['sign', ...enterprise.args, '--in', doc, '--out', join(dir, `${policy.id}.p7s`)]);
      expect(signed.code, signed.stderr).toBe(0);
      const report = await verifyEnvelope({
        envelope: readFileSync(join(dir, `${policy.id}.p7s`)),
        anchors: [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)],
        revocation: noRevocation(),
        policy,
        time: new Date(),
      });
      expect(report.indication, `${policy.id}: ${JSON.stringify(report.signatures?.[0] ?? report)}`).toBe('TOTAL_PASSED');
    }
  });

  it('serves the same over HTTP, with the policy itself, and 404 for an unknown policy', async () => {
    const list = (await (await fetch(`${w.url}/api/v1/policies`)).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((p) => p.id)).toContain('complaint');
    const policy = (await (await fetch(`${w.url}/api/v1/policies/complaint`)).json()) as { document: { $id: string }; approval: unknown[] };
    expect(policy.document.$id).toBe('urn:chancery:policy:complaint:document');
    expect(policy.approval).toHaveLength(1);
    const sample = await fetch(`${w.url}/api/v1/policies/food-business-licence/sample?applicant=${w.a.uscc}`);
    expect(sample.status).toBe(200);
    const document = (await sample.json()) as Record<string, unknown>;
    expect(document['applicant']).toBe(w.a.uscc);
    expect(loadPolicies().get('food-business-licence')!.validateDocument(document)).toEqual({ valid: true });
    const unknown = await fetch(`${w.url}/api/v1/policies/no-such-policy/sample`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain('known: annual-report');
    expect((await fetch(`${w.url}/api/v1/policies/complaint/sample?applicant=nonsense`)).status).toBe(400);
    const cli = await runCli(['sample', '--policy', 'no-such-policy']);
    expect(cli.code).toBe(64);
    expect(cli.stderr).toContain('known: annual-report');
  });
});
