import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequence, setOf, tlv, oid, explicit, octetString } from '../../src/der/writer.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { countersignJws, signJws } from '../../src/sign/jws.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { annualReport, createTestPki, type TestPki } from './envelope-pki.js';

/**
 * Hostile input: every malformed envelope is answered with a report (FORMAT_FAILURE where it is
 * not an envelope at all), never an exception or a hang; and no mutation of a valid envelope
 * passes for another document or another signer. Fixed seeds, bounded runs.
 */

const NOW = new Date('2026-03-01T08:00:00Z');
const annual = loadPolicies().require('annual-report');
const INDICATIONS = ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE'];
let pki: TestPki;
let cms: Buffer;
let cmsCountered: Buffer;
let jws: Buffer;
let doc: Buffer;
let signerSerial: string;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  const ent = await pki.enterprise();
  const officer = await pki.officer('approver');
  signerSerial = ent.serialHex;
  doc = annualReport();
  cms = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: false, time: NOW });
  cmsCountered = await countersignCms(cms, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW });
  const general = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
  jws = Buffer.from(
    JSON.stringify(await countersignJws(general, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW })),
  );
});

const verify = (envelope: Uint8Array, content?: Uint8Array): Promise<ValidationReport> =>
  verifyEnvelope({
    envelope,
    content,
    anchors: pki.anchors,
    revocation: noRevocation(),
    policy: annual,
    time: new Date(NOW.getTime() + 60_000),
  });

async function expectFormatFailure(envelope: Uint8Array): Promise<ValidationReport> {
  const r = await verify(envelope);
  expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
  return r;
}

describe('bad input gets FORMAT_FAILURE, never an exception', () => {
  it('truncated DER, at every length', async () => {
    for (let n = 0; n < cms.length; n += 7) await expectFormatFailure(cms.subarray(0, n));
  });

  it('a ContentInfo of another type (id-data instead of SignedData)', async () => {
    const r = await expectFormatFailure(sequence(oid(OID.data), explicit(0, octetString(doc))));
    expect(r.checks[0]!.message).toContain('not SignedData');
  });

  it('50 nested SETs', async () => {
    let nested: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 50; i++) nested = setOf(nested);
    await expectFormatFailure(sequence(oid(OID.signedData), explicit(0, nested)));
    await expectFormatFailure(nested);
  });

  it('a 20 MB envelope, refused by size before parsing', async () => {
    const huge = Buffer.alloc(20 * 1024 * 1024);
    huge[0] = 0x30;
    const r = await expectFormatFailure(huge);
    expect(r.checks[0]!.message).toContain('above the limit');
    const hugeJws = Buffer.alloc(20 * 1024 * 1024, 0x41);
    hugeJws[0] = 0x7b;
    await expectFormatFailure(hugeJws);
  });

  it('BER indefinite lengths', async () => {
    const ber = Buffer.concat([Buffer.from([0x30, 0x80]), oid(OID.signedData), Buffer.from([0x00, 0x00])]);
    const r = await expectFormatFailure(ber);
    expect(r.checks[0]!.message).toContain('indefinite');
  });

  it('garbage base64 in JWS parts, JSON that is not a JWS, a JWS with the wrong part count', async () => {
    for (const bad of [
      'eyJhbGciOiJFUzI1NiJ9.@@@.AAAA',
      'e30.e30.=',
      '{"payload":"e30"}',
      '{"signatures":[]}',
      '{"signatures":[{"protected":"e30","signature":"AA"}],"x":1}',
      'a.b.c.d.e',
      '{"payload":"e30","signatures":[{"protected":"!!","signature":"AA"}]}',
    ]) {
      await expectFormatFailure(Buffer.from(bad));
    }
  });

  it('a certificate cycle or 40 certificates inside the envelope', async () => {
    const many = tlv(0xa0, ...Array.from({ length: 40 }, () => pki.issuing.der));
    const body = sequence(Buffer.from([0x02, 0x01, 0x01]), setOf(), sequence(oid(OID.data)), many, setOf());
    const r = await expectFormatFailure(sequence(oid(OID.signedData), explicit(0, body)));
    expect(r.checks[0]!.message).toContain('40 certificates');
  });
});

describe('mutation fuzzing (fast-check, fixed seed)', () => {
  const mutation = (length: number) =>
    fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: length - 1 }), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat({ max: length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: length - 1 }), count: fc.integer({ min: 1, max: 64 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat({ max: length - 1 }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    );
  type Mutation =
    | { kind: 'flip'; at: number; bit: number }
    | { kind: 'set'; at: number; value: number }
    | { kind: 'cut'; at: number; count: number }
    | { kind: 'insert'; at: number; bytes: Uint8Array };

  function apply(input: Buffer, mutations: Mutation[]): Buffer {
    let b = Buffer.from(input);
    for (const m of mutations) {
      const at = Math.min(m.at, b.length - 1);
      if (m.kind === 'flip') b[at]! ^= 1 << m.bit;
      else if (m.kind === 'set') b[at] = m.value;
      else if (m.kind === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
      else b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
      if (b.length === 0) b = Buffer.from([0]);
    }
    return b;
  }

  async function property(original: () => Buffer, runs: number, seed: number): Promise<void> {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(original().length), { minLength: 1, maxLength: 4 }), async (mutations) => {
        const mutated = apply(original(), mutations);
        const r = await verify(mutated);
        expect(INDICATIONS).toContain(r.indication);
        if (r.indication === 'TOTAL_PASSED') {
          // Whatever passes is the same document, signed by the same enterprise.
          expect(r.document.json).toEqual(JSON.parse(doc.toString('utf8')));
          expect(r.signatures[0]!.signer?.serialNumber).toBe(signerSerial);
        }
      }),
      { seed, numRuns: runs, endOnFailure: true },
    );
  }

  it('CMS: no mutation throws or passes for another document or signer', async () => {
    await property(() => cms, 300, 20260301);
  });

  it('countersigned CMS: the same', async () => {
    await property(() => cmsCountered, 200, 5);
  });

  it('JWS: the same', async () => {
    await property(() => jws, 300, 7515);
  });
});
