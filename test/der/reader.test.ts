import { describe, expect, it } from 'vitest';
import { DerError } from '../../src/der/errors.js';
import { decodeOid, encodeOid } from '../../src/der/oid.js';
import { childrenOf, MAX_DER_DEPTH, readBoolean, readDer, readIntegerHex, readOid, readTime } from '../../src/der/reader.js';
import { decodeDirectoryString } from '../../src/der/strings.js';
import { generalizedTime, x509Time } from '../../src/der/time.js';
import { oid, sequence, tlv } from '../../src/der/writer.js';
import { OID } from '../../src/oids.js';
import { expectCode } from '../helpers/expect-code.js';

describe('the strict DER reader', () => {
  it('refuses indefinite lengths, non-minimal lengths, trailing bytes and multi-octet tags', async () => {
    await expectCode(() => readDer(Buffer.from([0x30, 0x80, 0x00, 0x00])), 'ERR_DER_MALFORMED');
    await expectCode(() => readDer(Buffer.from([0x04, 0x81, 0x01, 0x00])), 'ERR_DER_MALFORMED');
    await expectCode(() => readDer(Buffer.from([0x04, 0x82, 0x00, 0x01, 0x00])), 'ERR_DER_MALFORMED');
    await expectCode(() => readDer(Buffer.from([0x04, 0x01, 0x00, 0x00])), 'ERR_DER_MALFORMED');
    await expectCode(() => readDer(Buffer.from([0x1f, 0x81, 0x01, 0x00])), 'ERR_DER_MALFORMED');
    await expectCode(() => readDer(Buffer.from([0x04, 0x05, 0x00])), 'ERR_DER_MALFORMED');
  });

  it(`refuses nesting deeper than ${MAX_DER_DEPTH} levels while walking`, async () => {
    let el: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 40; i++) el = sequence(el);
    let node = readDer(el);
    const walk = (): void => {
      for (;;) node = childrenOf(node)[0]!;
    };
    await expectCode(walk, 'ERR_DER_MALFORMED');
  });

  it("reads OIDs with arcs beyond 2^53 (Chancery's UUID arc) exactly", () => {
    expect(readOid(readDer(oid(OID.commitmentRefusal)), 'x')).toBe(OID.commitmentRefusal);
    expect(readOid(readDer(oid('1.2.840.113549.1.9.16.2.47')), 'x')).toBe('1.2.840.113549.1.9.16.2.47');
  });

  it('reads UTCTime (1950–2049) and GeneralizedTime, and refuses other spellings', async () => {
    expect(readTime(readDer(x509Time(new Date('2026-03-01T08:00:00Z'))), 't').toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(readTime(readDer(x509Time(new Date('2051-01-01T00:00:00Z'))), 't').toISOString()).toBe('2051-01-01T00:00:00.000Z');
    expect(readTime(readDer(tlv(0x17, Buffer.from('990101000000Z'))), 't').getUTCFullYear()).toBe(1999);
    await expectCode(() => readTime(readDer(tlv(0x17, Buffer.from('2603010800Z'))), 't'), 'ERR_DER_MALFORMED');
    await expectCode(() => readTime(readDer(tlv(0x17, Buffer.from('260230080000Z'))), 't'), 'ERR_DER_MALFORMED');
    await expectCode(() => readTime(readDer(tlv(0x18, Buffer.from('20260301080000.50Z'))), 't'), 'ERR_DER_MALFORMED');
  });

  it('refuses non-minimal INTEGERs', async () => {
    expect(readIntegerHex(readDer(Buffer.from([0x02, 0x02, 0x00, 0x80])), 'i')).toBe('0080');
    await expectCode(() => readIntegerHex(readDer(Buffer.from([0x02, 0x02, 0x00, 0x01])), 'i'), 'ERR_DER_MALFORMED');
  });
});

describe('OBJECT IDENTIFIER (X.690 §8.19)', () => {
  it('round-trips dotted OIDs, including arcs beyond 2^53 and the first-arc forms 0, 1 and 2', () => {
    const oids = [
      '0.9.2342.19200300.100.1.25',
      '1.2.840.113549.1.9.16.2.47',
      '2.5.29.19',
      '2.999.3',
      OID.commitmentRefusal,
      '2.25.340282366920938463463374607431768211455',
    ];
    for (const dotted of oids) {
      const der = encodeOid(dotted);
      expect(der[0]).toBe(0x06);
      expect(readOid(readDer(der), 'x')).toBe(dotted);
    }
    expect(encodeOid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
  });

  it('refuses a sub-identifier padded with a leading 0x80 (X.690 §8.19.2), one cut off by the end, and empty contents', async () => {
    await expectCode(() => decodeOid(Buffer.from([0x2a, 0x80, 0x86, 0x48]), 'x'), 'ERR_DER_MALFORMED');
    await expectCode(() => decodeOid(Buffer.from([0x80, 0x2a]), 'x'), 'ERR_DER_MALFORMED');
    await expectCode(() => decodeOid(Buffer.from([0x2a, 0x86]), 'x'), 'ERR_DER_MALFORMED');
    await expectCode(() => decodeOid(Buffer.alloc(0), 'x'), 'ERR_DER_MALFORMED');
    await expectCode(() => decodeOid(Buffer.alloc(65, 0x01), 'x'), 'ERR_DER_MALFORMED');
  });

  it('answers from its cache with the same text, and stays correct past the cache size', () => {
    for (let i = 0; i < 1200; i++) expect(readOid(readDer(oid(`1.3.6.1.4.1.55555.${i}`)), 'x')).toBe(`1.3.6.1.4.1.55555.${i}`);
    expect(readOid(readDer(oid('1.3.6.1.4.1.55555.7')), 'x')).toBe('1.3.6.1.4.1.55555.7');
  });
});

describe('primitive values', () => {
  it('reads BOOLEAN only in its DER form (X.690 §11.1)', async () => {
    expect(readBoolean(readDer(Buffer.from([0x01, 0x01, 0xff])), 'b')).toBe(true);
    expect(readBoolean(readDer(Buffer.from([0x01, 0x01, 0x00])), 'b')).toBe(false);
    await expectCode(() => readBoolean(readDer(Buffer.from([0x01, 0x01, 0x01])), 'b'), 'ERR_DER_MALFORMED');
  });

  it('writes times the reader reads back, on both sides of 2050 (RFC 5280 §4.1.2.5)', () => {
    for (const iso of ['1950-01-01T00:00:00.000Z', '2049-12-31T23:59:59.000Z', '2050-01-01T00:00:00.000Z', '9999-12-31T23:59:59.000Z']) {
      expect(readTime(readDer(x509Time(new Date(iso))), 't').toISOString()).toBe(iso);
      expect(readTime(readDer(generalizedTime(new Date(iso))), 't').toISOString()).toBe(iso);
    }
    expect(x509Time(new Date('2049-12-31T23:59:59Z'))[0]).toBe(0x17);
    expect(x509Time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
  });

  it('decodes directory strings only when their contents are valid for their type', () => {
    const el = (tag: number, bytes: number[]) => readDer(tlv(tag, Buffer.from(bytes)));
    expect(decodeDirectoryString(el(0x0c, [0xe4, 0xb8, 0xad]))).toBe('中');
    expect(decodeDirectoryString(el(0x0c, [0xff]))).toBeUndefined();
    expect(decodeDirectoryString(el(0x13, [0x41, 0xe9]))).toBeUndefined();
    expect(decodeDirectoryString(el(0x1e, [0x4e, 0x2d]))).toBe('中');
    expect(decodeDirectoryString(el(0x1c, [0x00, 0x11, 0x00, 0x00]))).toBeUndefined();
  });

  it('throws only DerError, never a RangeError or TypeError, on a SEQUENCE with garbage inside', () => {
    const bad = sequence(Buffer.from([0x02, 0x05, 0x01]));
    expect(() => childrenOf(readDer(bad))).toThrow(DerError);
  });
});
