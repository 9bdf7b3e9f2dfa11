import { describe, expect, it } from 'vitest';
import { booleanValue, octetString, oid, sequence, smallInteger, unsignedInteger } from '../../src/der/writer.js';
import { generalizedTimeMillis } from '../../src/der/time.js';
import { OID } from '../../src/oids.js';
import {
  encodeTimeStampQuery,
  encodeTstInfo,
  parseTimeStampQuery,
  parseTimeStampReply,
  parseTstInfo,
  rejectionResponse,
} from '../../src/tsa/protocol.js';

const imprint = sequence(sequence(oid(OID.sha256)), octetString(Buffer.alloc(32, 9)));

describe('RFC 3161 structures', () => {
  it('reads back what it writes: a TimeStampReq with policy, nonce and certReq', () => {
    const q = parseTimeStampQuery(
      encodeTimeStampQuery({
        hashAlgorithm: OID.sha256,
        digest: Buffer.alloc(32, 9),
        policy: '1.2.3',
        nonce: Buffer.from([0x80, 1]),
        certReq: true,
      }),
    );
    expect(q).toMatchObject({ hashAlgorithm: OID.sha256, policy: '1.2.3', certReq: true, extensions: [] });
    // The nonce is kept as its INTEGER contents: a leading 00 for a magnitude whose top bit is set.
    expect(Buffer.from((q as { nonce: Uint8Array }).nonce)).toEqual(Buffer.from([0, 0x80, 1]));
  });

  it.each<[string, Buffer, string]>([
    [
      'certReq FALSE spelled out (a DEFAULT, which DER leaves out)',
      sequence(smallInteger(1), imprint, booleanValue(false)),
      'badDataFormat',
    ],
    ['a nonce above 32 octets', sequence(smallInteger(1), imprint, unsignedInteger(Buffer.alloc(33, 1))), 'badRequest'],
    ['a non-minimal nonce', sequence(smallInteger(1), imprint, Buffer.from([2, 2, 0, 1])), 'badDataFormat'],
    [
      'hash parameters other than NULL',
      sequence(smallInteger(1), sequence(sequence(oid(OID.sha256), smallInteger(0)), octetString(Buffer.alloc(32)))),
      'badAlg',
    ],
    ['a huge version', sequence(unsignedInteger(Buffer.alloc(9, 0x7f)), imprint), 'badRequest'],
    ['trailing fields', sequence(smallInteger(1), imprint, octetString(Buffer.alloc(1))), 'badDataFormat'],
    ['trailing bytes after the DER', Buffer.concat([sequence(smallInteger(1), imprint), Buffer.from([0])]), 'badDataFormat'],
    ['BER indefinite length', Buffer.from('3080020101', 'hex'), 'badDataFormat'],
  ])('refuses %s', (_name, der, failure) => {
    expect(parseTimeStampQuery(der)).toMatchObject({ failure });
  });

  it('writes a rejection that reads back with its failInfo and text', () => {
    for (const failure of ['badAlg', 'badRequest', 'badDataFormat', 'unacceptedPolicy', 'unacceptedExtension', 'systemFailure'] as const) {
      expect(parseTimeStampReply(rejectionResponse({ failure, text: 'why' }))).toEqual({
        status: 2,
        statusText: ['why'],
        failures: [failure],
        token: undefined,
      });
    }
  });

  it('writes a TSTInfo with milliseconds, accuracy and a serial whose top bit is set, and reads it back', () => {
    const genTime = new Date('2026-12-03T10:11:12.340Z');
    const der = encodeTstInfo(
      {
        policy: '1.2.3.4',
        hashAlgorithm: OID.sha384,
        digest: Buffer.alloc(48, 3),
        serial: Buffer.from([0x80, 0x01]),
        genTime,
        accuracy: { seconds: 1, millis: 500, micros: 7 },
        nonce: Buffer.from([0x05]),
        tsaName: sequence(),
      },
      generalizedTimeMillis(genTime),
    );
    expect(generalizedTimeMillis(genTime).subarray(2).toString()).toBe('20261203101112.34Z');
    expect(generalizedTimeMillis(new Date('2026-12-03T10:11:12.000Z')).subarray(2).toString()).toBe('20261203101112Z');
    expect(parseTstInfo(der)).toMatchObject({
      version: 1,
      policy: '1.2.3.4',
      hashAlgorithm: OID.sha384,
      serialHex: '008001',
      genTime,
      accuracy: { seconds: 1, millis: 500, micros: 7 },
      ordering: false,
    });
  });
});
