import { describe, expect, it } from 'vitest';
import { generalizedTime } from '../../src/der/time.js';
import { bitString, explicit, oid, sequence, sequenceOf, smallInteger, tlv } from '../../src/der/writer.js';
import { TAG } from '../../src/der/tags.js';
import { parseCrl } from '../../src/verify/crl.js';
import { expectCode } from '../helpers/expect-code.js';

/** An (unsigned) CRL whose entries carry the given serial INTEGER contents, for the parser alone. */
function crlWithSerials(serials: Buffer[]): Buffer {
  const algorithm = sequence(oid('1.2.840.10045.4.3.2'));
  const issuer = sequence(tlv(TAG.SET, sequence(oid('2.5.4.3'), tlv(TAG.UTF8_STRING, Buffer.from('Test CA')))));
  const at = generalizedTime(new Date('2026-03-01T07:00:00Z'));
  const entries = sequenceOf(serials.map((s) => sequence(tlv(TAG.INTEGER, s), at)));
  const tbs = sequence(smallInteger(1), algorithm, issuer, at, at, entries, explicit(0, sequence()));
  return sequence(tbs, algorithm, bitString(Buffer.alloc(8)));
}

describe('CRL parsing', () => {
  it('reads the serial numbers of its entries', () => {
    const crl = parseCrl(crlWithSerials([Buffer.from('4593', 'hex'), Buffer.from('00c964', 'hex')]));
    expect([...crl.entries.keys()].sort()).toEqual(['00c964', '4593']);
  });

  it('refuses an entry whose serial has a redundant leading octet (X.690 §8.3.2), which no encoder may write', async () => {
    await expectCode(() => parseCrl(crlWithSerials([Buffer.from('004593', 'hex')])), 'ERR_VERIFY_MALFORMED');
  });
});
