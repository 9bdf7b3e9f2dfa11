import { describe, expect, it } from 'vitest';
import { childrenOf, readDer } from '../../src/der/reader.js';
import {
  encodeHeader,
  explicit,
  sequence,
  sequenceOf,
  smallInteger,
  sortedSetOf,
  tlv,
  tlvOf,
  unsignedInteger,
} from '../../src/der/writer.js';

describe('the DER writer', () => {
  it('encodes a SEQUENCE of 200,000 items (no spread into a call, so no stack overflow)', () => {
    const items = Array.from({ length: 200_000 }, (_, i) => smallInteger(i));
    const der = sequenceOf(items);
    const el = readDer(der);
    expect(el.tag).toBe(0x30);
    const children = childrenOf(el);
    expect(children).toHaveLength(200_000);
    expect(Buffer.from(children[199_999]!.bytes).equals(smallInteger(199_999))).toBe(true);
  });

  it('encodes a SET OF 200,000 items in DER order (X.690 §11.6)', () => {
    const items = Array.from({ length: 200_000 }, (_, i) => smallInteger((i * 7919) % 200_000));
    const children = childrenOf(readDer(sortedSetOf(items)));
    expect(children).toHaveLength(200_000);
    for (let i = 1; i < children.length; i += 997)
      expect(Buffer.compare(Buffer.from(children[i - 1]!.bytes), Buffer.from(children[i]!.bytes))).toBeLessThanOrEqual(0);
  });

  it('writes the minimal length form at every boundary (X.690 §10.1)', () => {
    for (const [length, header] of [
      [0, '3000'],
      [127, '307f'],
      [128, '308180'],
      [255, '3081ff'],
      [256, '30820100'],
      [65535, '3082ffff'],
      [65536, '3083010000'],
    ] as const) {
      expect(encodeHeader(0x30, length).toString('hex')).toBe(header);
      const der = tlvOf(0x30, [Buffer.alloc(length)]);
      expect(der.subarray(0, header.length / 2).toString('hex')).toBe(header);
      expect(readDer(der).value.length).toBe(length);
    }
  });

  it('keeps the fixed-arity forms equal to the array forms', () => {
    const a = smallInteger(1);
    const b = unsignedInteger(Buffer.from([0x00, 0x80]));
    expect(sequence(a, b).equals(sequenceOf([a, b]))).toBe(true);
    expect(tlv(0xa0, a, b).equals(explicit(0, a, b))).toBe(true);
    expect(b.toString('hex')).toBe('02020080');
    expect(unsignedInteger(Buffer.from([0, 0, 1])).toString('hex')).toBe('020101');
  });
});
