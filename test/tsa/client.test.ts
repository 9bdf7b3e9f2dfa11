import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { OID } from '../../src/oids.js';
import { RemoteTimeStamper } from '../../src/tsa/client.js';
import { parseCertificate } from '../../src/verify/certificate.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { verifyTimestampToken } from '../../src/verify/timestamp.js';
import { expectCode } from '../helpers/expect-code.js';
import { startOpensslTsa, type OpensslTsa } from '../helpers/openssl-tsa.js';

/** The client of an outside TSA, against `openssl ts -reply` behind an HTTP wrapper. */
describe('RemoteTimeStamper against openssl ts -reply', () => {
  let tsa: OpensslTsa;
  let dir: string;
  const digest = createHash('sha256').update('the checkpoint of the log').digest();

  beforeAll(async () => {
    tsa = await startOpensslTsa();
    dir = mkdtempSync(join(tmpdir(), 'chancery-tsa-client-'));
  });
  afterAll(async () => {
    await tsa?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets a token whose imprint, nonce, signature and TSA certificate check out, and that openssl ts -verify accepts', async () => {
    tsa.mode = 'normal';
    const client = new RemoteTimeStamper({ url: tsa.url });
    const checked = await client.timestampChecked({ hashAlgorithm: OID.sha256, digest });
    expect(checked.tstInfo.policy).toBe(tsa.policy);
    expect(Buffer.from(checked.tstInfo.digest)).toEqual(digest);
    expect(checked.tstInfo.nonce).toBeDefined();
    expect(checked.tstInfo.genTime.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(checked.signer.describe()).toContain('Outside Test TSA');
    writeFileSync(join(dir, 'token.der'), checked.token);
    const out = execFileSync(
      'openssl',
      ['ts', '-verify', '-digest', digest.toString('hex'), '-in', join(dir, 'token.der'), '-token_in', '-CAfile', tsa.caPem],
      { stdio: 'pipe' },
    ).toString();
    expect(out).toContain('Verification: OK');
    // The TimeStamper interface hands out the same kind of token.
    const token = await client.timestamp({ hashAlgorithm: OID.sha384, digest: createHash('sha384').update('x').digest() });
    expect(token.length).toBeGreaterThan(300);
  });

  it('a refusal (SHA-1, which this TSA does not accept) is ERR_TSA_UNAVAILABLE naming the failure', async () => {
    tsa.mode = 'normal';
    const error = await expectCode(
      () => new RemoteTimeStamper({ url: tsa.url }).timestamp({ hashAlgorithm: OID.sha1, digest: Buffer.alloc(20, 7) }),
      'ERR_TSA_UNAVAILABLE',
    );
    expect(error.message).toMatch(/status 2, badAlg/);
  });

  it.each<[OpensslTsa['mode'], string, RegExp]>([
    // The wrapper's first reply was for this same imprint (the first test's): only the nonce tells it apart.
    ['replay', 'ERR_TSA_REPLY_INVALID', /nonce/],
    ['tamper', 'ERR_TSA_REPLY_INVALID', /signature does not verify|cannot be read/],
    ['wrong-type', 'ERR_TSA_REPLY_INVALID', /text\/plain/],
    ['http-500', 'ERR_TSA_UNAVAILABLE', /HTTP 500/],
  ])('a %s reply is %s, never a token', async (mode, code, message) => {
    const client = new RemoteTimeStamper({ url: tsa.url });
    tsa.mode = 'normal';
    await client.timestamp({ hashAlgorithm: OID.sha256, digest: createHash('sha256').update('first').digest() });
    tsa.mode = mode;
    const error = await expectCode(() => client.timestamp({ hashAlgorithm: OID.sha256, digest }), code);
    expect(error.message).toMatch(message);
    tsa.mode = 'normal';
  });

  it('an unreachable TSA is ERR_TSA_UNAVAILABLE', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await expectCode(
      () =>
        new RemoteTimeStamper({ url: `http://127.0.0.1:${port}/tsr`, timeoutMs: 2000 }).timestamp({ hashAlgorithm: OID.sha256, digest }),
      'ERR_TSA_UNAVAILABLE',
    );
  });

  it('CHANCERY_TSA_URL configures it; a value that is not an http(s) URL stops start-up', async () => {
    expect(loadConfig({ CHANCERY_TSA_URL: tsa.url }).tsaUrl).toBe(tsa.url);
    expect(loadConfig({}).tsaUrl).toBeUndefined();
    for (const bad of ['not a url', 'ftp://tsa.example/', 'https://user:pw@tsa.example/'])
      await expectCode(() => loadConfig({ CHANCERY_TSA_URL: bad }), 'ERR_CONFIG_INVALID');
  });
});

/** openssl's default certificate identifier: signing-certificate with an ESSCertID (v1, SHA-1 certHash). */
describe('RemoteTimeStamper against openssl ts -reply with its default ESSCertID (v1)', () => {
  let tsa: OpensslTsa;
  beforeAll(async () => {
    tsa = await startOpensslTsa({ essCertId: 'v1' });
  });
  afterAll(async () => {
    await tsa?.close();
  });

  it('accepts the token in the client check, and the verifier trusts it under the outside CA', async () => {
    const data = Buffer.from('a checkpoint note\n');
    const digest = createHash('sha256').update(data).digest();
    const client = new RemoteTimeStamper({ url: tsa.url });
    const checked = await client.timestampChecked({ hashAlgorithm: OID.sha256, digest });
    // The token really carries v1 and not v2: the identifier is the SHA-1 of the TSA certificate.
    const der = Buffer.from(checked.token);
    expect(der.includes(Buffer.from('060b2a864886f70d010910020c', 'hex'))).toBe(true); // id-aa-signingCertificate
    expect(der.includes(Buffer.from('060b2a864886f70d010910022f', 'hex'))).toBe(false); // id-aa-signingCertificateV2
    expect(der.includes(createHash('sha1').update(checked.signer.der).digest())).toBe(true);
    const anchor = parseCertificate(execFileSync('openssl', ['x509', '-in', tsa.caPem, '-outform', 'DER']));
    const v = await verifyTimestampToken({
      token: checked.token,
      data,
      dataName: 'the note',
      anchors: [anchor],
      revocation: noRevocation(),
      time: new Date(),
    });
    expect(v.report.checks.find((c) => c.id === 'timestamp.tsa-certificate')?.message).toContain('ESSCertID SHA1');
    expect(v.intact).toBe(true);
  });
});
