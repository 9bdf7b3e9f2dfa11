import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificates, type Certificate } from '../../src/verify/certificate.js';
import { crlSource, parseCrl } from '../../src/verify/crl.js';
import { ocspResponseSource } from '../../src/verify/ocsp.js';
import { PURPOSE_ANY, validatePath } from '../../src/verify/path.js';
import { firstAnswer, inMemoryRevocation, normalizeSerial, unknownRevocation, type RevocationStatus } from '../../src/verify/revocation.js';
import { expectCode } from '../helpers/expect-code.js';
import { CA_EXT, LEAF_EXT, OpensslPki } from './path-openssl.js';
import { DAY, makeCert, makeCrl, rawExtension, simpleChain, x509, type TestCert } from './path-pki.js';

const NOW = new Date('2026-06-01T12:00:00Z');

function statusText(s: RevocationStatus): string {
  return s.status === 'unknown'
    ? `unknown: ${s.reason}`
    : s.status === 'revoked'
      ? `revoked ${s.revokedAt.toISOString()} ${s.reason ?? ''}`
      : `good: ${s.source}`;
}

describe('CRL revocation source', () => {
  let root: TestCert;
  let issuing: TestCert;
  let leaf: TestCert;
  const current = { thisUpdate: new Date(NOW.getTime() - DAY), nextUpdate: new Date(NOW.getTime() + 6 * DAY) };

  beforeAll(async () => {
    ({ root, issuing, leaf } = await simpleChain(NOW));
  });

  const status = async (
    crls: Buffer[],
    cert: Certificate = leaf.certificate,
    issuer: Certificate = issuing.certificate,
    at = NOW,
  ): Promise<RevocationStatus> => crlSource(crls).status(cert, issuer, at);

  it('says good for a certificate absent from a current CRL of its issuer, naming the CRL', async () => {
    const s = await status([await makeCrl(issuing, [{ serialHex: '0bad', at: NOW }], { ...current, crlNumber: 7 })]);
    expect(statusText(s)).toMatch(/^good: the CRL of .*Path Test Issuing CA.* \(number 7\)$/);
  });

  it('says revoked, with the date and reason, for a listed certificate', async () => {
    const at = new Date(NOW.getTime() - 2 * DAY);
    const s = await status([
      await makeCrl(issuing, [{ serialHex: leaf.certificate.serialNumberHex, at, reason: x509.X509CrlReason.keyCompromise }], current),
    ]);
    expect(s).toMatchObject({ status: 'revoked', revokedAt: at, reason: 'keyCompromise' });
  });

  it('passes a path at a time before the listed revocation date, and fails it after', async () => {
    const revokedAt = new Date(NOW.getTime() + DAY);
    const crls = [
      await makeCrl(root, [], current),
      await makeCrl(issuing, [{ serialHex: leaf.certificate.serialNumberHex, at: revokedAt }], {
        thisUpdate: new Date(NOW.getTime() + 2 * DAY),
        nextUpdate: new Date(NOW.getTime() + 5 * DAY),
      }),
    ];
    const run = (time: Date): Promise<string> =>
      validatePath({
        leaf: leaf.certificate,
        intermediates: [issuing.certificate],
        anchors: [root.certificate],
        time,
        purpose: PURPOSE_ANY,
        revocation: crlSource(crls),
      }).then((r) => r.subIndication ?? r.indication);
    expect(await run(NOW)).toBe('TOTAL_PASSED');
    expect(await run(new Date(NOW.getTime() + 3 * DAY))).toBe('REVOKED');
  });

  it('is unknown, with a reason, for a stale CRL, a CRL without nextUpdate, a CRL by another key, or a CRL of another issuer', async () => {
    expect(
      statusText(
        await status([
          await makeCrl(issuing, [], { thisUpdate: new Date(NOW.getTime() - 9 * DAY), nextUpdate: new Date(NOW.getTime() - DAY) }),
        ]),
      ),
    ).toMatch(/superseded on/);
    expect(statusText(await status([await makeCrl(issuing, [], { thisUpdate: current.thisUpdate })]))).toMatch(/no nextUpdate/);
    const impostor = await makeCert({ subject: issuing.subject, ca: true, notBefore: current.thisUpdate, notAfter: current.nextUpdate });
    expect(statusText(await status([await makeCrl(impostor, [], current)]))).toMatch(/not signed by the key of/);
    expect(statusText(await status([await makeCrl(root, [], current)]))).toMatch(/not by the certificate's issuer/);
    expect(statusText(await status([]))).toMatch(/no CRL was supplied/);
  });

  it('refuses a CRL with a critical extension it does not process, or one whose signer lacks cRLSign', async () => {
    expect(
      statusText(await status([await makeCrl(issuing, [], { ...current, extensions: [rawExtension('1.3.6.1.4.1.55555.7', true)] })])),
    ).toMatch(/critical extension .*55555/);
    const noCrlSign = await makeCert({
      subject: 'CN=No CRL Sign',
      ca: true,
      keyUsage: x509.KeyUsageFlags.keyCertSign,
      issuer: root,
      notBefore: current.thisUpdate,
      notAfter: current.nextUpdate,
    });
    const ee = await makeCert({ subject: 'CN=EE', issuer: noCrlSign, notBefore: current.thisUpdate, notAfter: current.nextUpdate });
    const s = await crlSource([await makeCrl(noCrlSign, [], current)]).status(ee.certificate, noCrlSign.certificate, NOW);
    expect(statusText(s)).toMatch(/without cRLSign/);
  });

  it('never lets a self-issued certificate vouch for itself with a CRL it signed', async () => {
    // A key rollover certificate: same name as the issuing CA, new key, issued by the old key.
    const rolled = await makeCert({
      subject: issuing.subject,
      ca: true,
      issuer: issuing,
      notBefore: current.thisUpdate,
      notAfter: current.nextUpdate,
    });
    const selfSigned = await makeCrl(rolled, [], current);
    const s = await crlSource([selfSigned]).status(rolled.certificate, issuing.certificate, NOW, {
      candidates: [rolled.certificate, issuing.certificate, root.certificate],
      validateSigner: () => Promise.resolve('not asked in this test'),
    });
    expect(s.status).toBe('unknown');
  });

  it('applies a delta CRL on top of its base: a newly revoked certificate, and removeFromCRL', async () => {
    const base = await makeCrl(issuing, [{ serialHex: '0bad', at: NOW }], { ...current, crlNumber: 10 });
    const delta = (entries: Parameters<typeof makeCrl>[1]): Promise<Buffer> =>
      makeCrl(issuing, entries, {
        ...current,
        crlNumber: 11,
        extensions: [rawExtension('2.5.29.27', true, Buffer.from([0x02, 0x01, 10]))],
      });
    expect((await status([base, await delta([{ serialHex: leaf.certificate.serialNumberHex, at: NOW }])])).status).toBe('revoked');
    const unrevoke = await delta([{ serialHex: '0bad', at: NOW, reason: x509.X509CrlReason.removeFromCRL }]);
    expect(
      (await crlSource([base, unrevoke]).status({ ...leaf.certificate, serialNumberHex: '0bad' } as Certificate, issuing.certificate, NOW))
        .status,
    ).toBe('good');
    expect(statusText(await status([base, await delta([])]))).toMatch(/with its delta CRL number 11/);
  });

  it('never throws on unreadable CRL input: it is unknown with the parser reason', async () => {
    const s = await crlSource([Buffer.from([0x30, 0x03, 0x02, 0x01])]).status(leaf.certificate, issuing.certificate, NOW);
    expect(statusText(s)).toMatch(/cannot be read/);
    await expectCode(() => parseCrl(Buffer.from('not a crl')), 'ERR_VERIFY_MALFORMED');
  });
});

describe('combining and in-memory sources', () => {
  let issuing: TestCert;
  let leaf: TestCert;

  beforeAll(async () => {
    ({ issuing, leaf } = await simpleChain(NOW));
  });

  it('firstAnswer returns the first definite answer, else every reason', async () => {
    const good = inMemoryRevocation([{ issuer: issuing.certificate, revoked: [] }], 'registry');
    expect(await firstAnswer(unknownRevocation('A is down'), good).status(leaf.certificate, issuing.certificate, NOW)).toEqual({
      status: 'good',
      source: 'registry',
    });
    expect(
      await firstAnswer(unknownRevocation('A is down'), unknownRevocation('B is down')).status(leaf.certificate, issuing.certificate, NOW),
    ).toEqual({ status: 'unknown', reason: 'A is down; B is down' });
  });

  it('inMemoryRevocation matches serials as integers and knows only its issuers', async () => {
    expect(normalizeSerial('000A')).toBe('0a');
    expect(normalizeSerial('00ff')).toBe('00ff');
    const source = inMemoryRevocation([
      { issuer: issuing.certificate, revoked: [{ serialNumberHex: `00${leaf.certificate.serialNumberHex}`, revokedAt: NOW }] },
    ]);
    expect((await source.status(leaf.certificate, issuing.certificate, NOW)).status).toBe('revoked');
    expect((await source.status(leaf.certificate, issuing.certificate, new Date(NOW.getTime() - 1))).status).toBe('good');
    expect((await source.status(issuing.certificate, leaf.certificate, NOW)).status).toBe('unknown');
  });
});

describe('OCSP response source (responses made by openssl ocsp)', () => {
  const pki = new OpensslPki();
  let int: Certificate;
  let leaf: Certificate;
  let other: Certificate;
  const load = (name: string): Certificate => parseCertificates(readFileSync(pki.path(`${name}.pem`)))[0]!;

  beforeAll(() => {
    pki.root('root');
    pki.issue('int', 'root', CA_EXT);
    pki.issue('leaf', 'int', LEAF_EXT);
    pki.issue('other', 'int', LEAF_EXT);
    pki.issue(
      'responder',
      'int',
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n1.3.6.1.5.5.7.48.1.5=ASN1:NULL\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
    );
    pki.issue('not-responder', 'int', LEAF_EXT);
    int = load('int');
    leaf = load('leaf');
    other = load('other');
  }, 60_000);

  it('takes good and revoked answers signed by the issuer, with SHA-256 or SHA-1 CertIDs', async () => {
    const good = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good' });
    expect(statusText(await ocspResponseSource([good]).status(leaf, int, new Date()))).toMatch(/^good: the OCSP response produced/);
    const sha1 = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good', hash: 'sha1', name: 'sha1' });
    expect((await ocspResponseSource([sha1]).status(leaf, int, new Date())).status).toBe('good');
    const revokedAt = new Date(Date.now() - 3_600_000);
    const revoked = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'revoked', revokedAt });
    const s = await ocspResponseSource([revoked]).status(leaf, int, new Date());
    expect(s).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    expect(Math.abs((s as { revokedAt: Date }).revokedAt.getTime() - revokedAt.getTime())).toBeLessThan(1000);
  });

  it('accepts a delegated responder with OCSPSigning and nocheck, and refuses one without OCSPSigning', async () => {
    const delegated = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good', signer: 'responder', name: 'delegated' });
    expect((await ocspResponseSource([delegated]).status(leaf, int, new Date())).status).toBe('good');
    const rogue = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good', signer: 'not-responder', name: 'rogue' });
    expect(statusText(await ocspResponseSource([rogue]).status(leaf, int, new Date()))).toMatch(
      /it is signed neither by|lacks 1\.3\.6\.1\.5\.5\.7\.3\.9|not a certificate for OCSP signing/,
    );
  });

  it('is unknown for a response about another certificate, a response past its nextUpdate, or unreadable bytes', async () => {
    const good = pki.ocsp({ issuer: 'int', cert: 'leaf', status: 'good', name: 'about-leaf' });
    expect(statusText(await ocspResponseSource([good]).status(other, int, new Date()))).toMatch(/no supplied OCSP response is about/);
    expect(statusText(await ocspResponseSource([good]).status(leaf, int, new Date(Date.now() + 3 * DAY)))).toMatch(/not current/);
    expect(statusText(await ocspResponseSource([Buffer.from('garbage')]).status(leaf, int, new Date()))).toMatch(/cannot be read/);
  });
});
