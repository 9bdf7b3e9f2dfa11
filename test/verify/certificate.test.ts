import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/verify/errors.js';
import { pemEncode } from '../../src/der/pem.js';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { decodeDirectoryString } from '../../src/der/strings.js';
import { sequence, tlv } from '../../src/der/writer.js';
import { parseNameDer } from '../../src/verify/name.js';
import { parseCertificate, parseCertificates, type Certificate } from '../../src/verify/certificate.js';
import { KEY_USAGE_NAMES } from '../../src/verify/certificate-types.js';
import { expectCode } from '../helpers/expect-code.js';
import { DAY, directoryName, dnsName, makeCert, nameConstraints, rawExtension, x509, type TestCert } from './path-pki.js';

const NOW = new Date('2026-06-01T00:00:00Z');

/** The certificate with its serial INTEGER contents replaced (signature no longer valid; parse-level tests only). */
function withSerial(der: Buffer, serial: Buffer): Certificate {
  const [tbs, alg, sig] = childrenOf(readDer(der));
  const fields = childrenOf(tbs!).map((f, i) => (i === 1 ? tlv(0x02, serial) : Buffer.from(f.bytes)));
  return parseCertificate(sequence(sequence(...fields), Buffer.from(alg!.bytes), Buffer.from(sig!.bytes)));
}
const validity = { notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + 30 * DAY) };

describe('parseCertificate', () => {
  let root: TestCert;
  let leaf: TestCert;

  beforeAll(async () => {
    root = await makeCert({
      subject: 'C=CN, O=Parse Test, CN=Parse Root',
      ca: true,
      pathLen: 2,
      keyAlg: 'P-384',
      extensions: [nameConstraints([dnsName('example.com'), directoryName('C=CN, O=Parse Test')], [dnsName('bad.example.com')])],
      ...validity,
    });
    leaf = await makeCert({
      subject: 'C=CN, O=Fuzhou Minjiang Foods, 2.5.4.97=NTRCN-91350100M000100Y43, CN=Fuzhou Minjiang Foods',
      issuer: root,
      serial: '00a1b2c3',
      eku: ['1.3.6.1.5.5.7.3.36', '1.3.6.1.5.5.7.3.2'],
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      san: [
        { type: 'dns', value: 'foods.example.com' },
        { type: 'email', value: 'legal@foods.example.com' },
        { type: 'ip', value: '192.0.2.1' },
      ],
      policies: ['2.25.246176504630350160250129726162839165097.3.1'],
      ...validity,
    });
  });

  it('keeps the original bytes and exposes the signed part, names, dates and key', () => {
    const c = leaf.certificate;
    expect(c.der.equals(leaf.der)).toBe(true);
    expect(leaf.der.includes(c.tbs)).toBe(true);
    expect(c.version).toBe(3);
    expect(c.serialNumberHex).toBe('00a1b2c3');
    expect(c.subject.toString()).toBe(
      'C=CN, O=Fuzhou Minjiang Foods, organizationIdentifier=NTRCN-91350100M000100Y43, CN=Fuzhou Minjiang Foods',
    );
    expect(c.subject.attribute('2.5.4.97')).toEqual(['NTRCN-91350100M000100Y43']);
    expect(c.issuer.equals(root.certificate.subject)).toBe(true);
    expect(c.issuerDer.equals(root.certificate.subjectDer)).toBe(true);
    expect(c.notBefore.toISOString()).toBe(validity.notBefore.toISOString());
    expect(c.notAfter.toISOString()).toBe(validity.notAfter.toISOString());
    expect(c.publicKey.asymmetricKeyType).toBe('ec');
    expect(c.signatureAlgorithm.oid).toBe('1.2.840.10045.4.3.3');
    expect(c.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(c.problems).toEqual([]);
  });

  it('decodes the extensions the validator relies on, with their critical flags', () => {
    const c = leaf.certificate;
    expect(c.basicConstraints).toEqual({ ca: false, pathLenConstraint: undefined });
    expect([...c.keyUsage!]).toEqual(['digitalSignature', 'nonRepudiation']);
    expect(c.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.36', '1.3.6.1.5.5.7.3.2']);
    expect(c.subjectKeyIdentifier?.length).toBeGreaterThan(0);
    expect(c.authorityKeyIdentifier?.keyIdentifier?.equals(root.certificate.subjectKeyIdentifier!)).toBe(true);
    expect(c.subjectAltName).toEqual([
      { type: 'dns', value: 'foods.example.com' },
      { type: 'rfc822', value: 'legal@foods.example.com' },
      { type: 'ip', bytes: Buffer.from([192, 0, 2, 1]) },
    ]);
    expect(c.certificatePolicies?.map((p) => p.policyIdentifier)).toEqual(['2.25.246176504630350160250129726162839165097.3.1']);
    expect(c.extensions.find((e) => e.oid === '2.5.29.15')?.critical).toBe(true);
    const r = root.certificate;
    expect(r.basicConstraints).toEqual({ ca: true, pathLenConstraint: 2 });
    expect(r.nameConstraints?.permitted?.map((s) => s.base.type)).toEqual(['dns', 'directory']);
    expect(r.nameConstraints?.excluded?.map((s) => (s.base as { value: string }).value)).toEqual(['bad.example.com']);
    expect(r.selfIssued).toBe(true);
  });

  it('returns the same object for the same bytes (parse cache)', () => {
    expect(parseCertificate(Buffer.from(leaf.der))).toBe(parseCertificate(leaf.der));
  });

  it('reads PEM bundles and single DER blobs', () => {
    const bundle = pemEncode('CERTIFICATE', leaf.der) + pemEncode('CERTIFICATE', root.der);
    expect(parseCertificates(bundle).map((c) => c.subject.attribute('2.5.4.3')[0])).toEqual(['Fuzhou Minjiang Foods', 'Parse Root']);
    expect(parseCertificates(leaf.der)[0]!.der.equals(leaf.der)).toBe(true);
    expect(parseCertificates(Buffer.from(bundle))).toHaveLength(2);
  });

  it('records profile faults instead of throwing: unknown critical extension stays visible, duplicate and malformed ones are problems', async () => {
    const c = await makeCert({
      subject: 'CN=Odd',
      issuer: root,
      extensions: [rawExtension('1.3.6.1.4.1.55555.1', true), rawExtension('2.5.29.37', false, Buffer.from([0x30, 0x00]))],
      ...validity,
    });
    expect(c.certificate.unknownCriticalExtensions).toEqual(['1.3.6.1.4.1.55555.1']);
    expect(c.certificate.problems.join('\n')).toMatch(/extended key usage is empty/);
    const critAki = await makeCert({
      subject: 'CN=Odd',
      issuer: root,
      noAki: true,
      extensions: [rawExtension('2.5.29.35', true, Buffer.from([0x30, 0x02, 0x80, 0x00]))],
      ...validity,
    });
    expect(critAki.certificate.problems.join('\n')).toMatch(/authority key identifier extension is marked critical/);
    expect(withSerial(leaf.der, Buffer.from([0])).serialNumberProblem).toMatch(/zero/);
    expect(withSerial(leaf.der, Buffer.from([0xff, 0x01])).serialNumberProblem).toMatch(/negative/);
    expect(withSerial(leaf.der, Buffer.alloc(21, 0x11)).serialNumberProblem).toMatch(/longer than 20 octets/);
    expect(withSerial(leaf.der, Buffer.from([0, 0x80, ...Buffer.alloc(19, 1)])).serialNumberProblem).toBeUndefined();
  });

  it('knows every key usage bit by name', () => {
    expect(KEY_USAGE_NAMES).toHaveLength(9);
  });
});

describe('parseCertificate on hostile input', () => {
  let der: Buffer;

  beforeAll(async () => {
    der = (await makeCert({ subject: 'CN=Hostile', ca: true, ...validity })).der;
  });

  it('refuses every truncation of a certificate with ERR_VERIFY_MALFORMED', async () => {
    for (let n = 0; n < der.length; n++) await expectCode(() => parseCertificate(der.subarray(0, n)), 'ERR_VERIFY_MALFORMED');
  });

  it('refuses trailing bytes, BER indefinite lengths and non-minimal lengths', async () => {
    await expectCode(() => parseCertificate(Buffer.concat([der, Buffer.from([0])])), 'ERR_VERIFY_MALFORMED');
    const indefinite = Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(4), Buffer.from([0, 0])]);
    await expectCode(() => parseCertificate(indefinite), 'ERR_VERIFY_MALFORMED');
    const nonMinimal = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), der.subarray(2)]);
    await expectCode(() => parseCertificate(nonMinimal), 'ERR_VERIFY_MALFORMED');
  });

  it('refuses 50 nested SETs and a huge declared length quickly', async () => {
    let nested = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 50; i++)
      nested = Buffer.concat([Buffer.from([0x31, nested.length < 128 ? nested.length : 0]), nested]).subarray(0, nested.length + 2);
    await expectCode(() => parseCertificate(nested), 'ERR_VERIFY_MALFORMED');
    await expectCode(() => parseCertificate(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00])), 'ERR_VERIFY_MALFORMED');
    const deep = Buffer.alloc(200);
    for (let i = 0; i < 100; i++) deep.set([0x30, 198 - 2 * i], 2 * i);
    await expectCode(() => parseCertificate(deep), 'ERR_VERIFY_MALFORMED');
  });

  it('refuses PEM that is not base64, or holds no certificate', async () => {
    await expectCode(() => parseCertificates('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'), 'ERR_VERIFY_MALFORMED');
    await expectCode(() => parseCertificates('hello'), 'ERR_VERIFY_MALFORMED');
  });

  it('never throws anything but a VerifyError on mutated certificates (fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (mutations) => {
        const bytes = Buffer.from(der);
        for (const [at, value] of mutations) bytes.writeUInt8(value, at % bytes.length);
        try {
          const c = parseCertificate(bytes);
          void c.problems;
          void c.tryPublicKey();
        } catch (error) {
          expect(error).toBeInstanceOf(VerifyError);
        }
      }),
      { seed: 5280, numRuns: 2000 },
    );
  });
});

describe('directory string matching', () => {
  const nameOf = (tag: number, text: string): Buffer =>
    sequence(tlv(0x31, sequence(tlv(0x06, Buffer.from([0x55, 0x04, 0x03])), tlv(tag, Buffer.from(text, 'latin1')))));

  it('compares names case-insensitively across string types (RFC 5280 §7.1)', () => {
    expect(parseNameDer(nameOf(0x13, 'Chancery CA')).equals(parseNameDer(nameOf(0x0c, 'CHANCERY  ca')))).toBe(true);
    expect(parseNameDer(nameOf(0x12, '440300')).equals(parseNameDer(nameOf(0x13, '440300')))).toBe(true);
  });

  it('reads a NumericString with anything but digits and space as bytes, so it matches no text', () => {
    expect(decodeDirectoryString(readDer(tlv(0x12, Buffer.from('12 34'))))).toBe('12 34');
    expect(decodeDirectoryString(readDer(tlv(0x12, Buffer.from('CN'))))).toBeUndefined();
    // The bit flip 0x13 → 0x12 on a signer identifier's issuer name must not still match.
    expect(parseNameDer(nameOf(0x12, 'Chancery CA')).equals(parseNameDer(nameOf(0x13, 'Chancery CA')))).toBe(false);
  });
});
