import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509Time } from '../../src/der/time.js';
import { explicit, octetString, oid, sequence, setOf, smallInteger, tlv } from '../../src/der/writer.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { readDer } from '../../src/der/reader.js';
import { parseCmsSignedData, readCertificateIdentity } from '../../src/verify/cms-parse.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { expectCode } from '../helpers/expect-code.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from './envelope-pki.js';

describe('DER faults as the verifier reports them', () => {
  it("refuses indefinite lengths, non-minimal lengths, trailing bytes and multi-octet tags with ERR_VERIFY_MALFORMED and the reader's message", async () => {
    const faults = [
      [0x30, 0x80, 0x00, 0x00],
      [0x04, 0x81, 0x01, 0x00],
      [0x04, 0x82, 0x00, 0x01, 0x00],
      [0x04, 0x01, 0x00, 0x00],
      [0x1f, 0x81, 0x01, 0x00],
      [0x04, 0x05, 0x00],
    ];
    for (const bytes of faults) {
      const input = Buffer.from(bytes);
      const error = await expectCode(() => parseCmsSignedData(input), 'ERR_VERIFY_MALFORMED');
      const reader = await expectCode(() => readDer(input, 'the envelope'), 'ERR_DER_MALFORMED');
      expect(error.message).toBe(reader.message);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built SignerInfos, for the cases the builders never produce.

const NOW = new Date('2026-03-01T08:00:00Z');
let pki: TestPki;
let ent: TestIdentity;
const doc = annualReport();
const annual = loadPolicies().require('annual-report');

beforeAll(async () => {
  pki = await createTestPki(NOW);
  ent = await pki.enterprise();
});

const attr = (type: string, ...values: Buffer[]): Buffer => sequence(oid(type), setOf(...values));
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

function essV2(cert: Buffer): Buffer {
  return sequence(sequence(sequence(octetString(sha256(cert)))));
}

function standardAttributes(): Buffer[] {
  return [
    attr(OID.contentType, oid(OID.data)),
    attr(OID.signingTime, x509Time(NOW)),
    attr(OID.messageDigest, octetString(sha256(doc))),
    attr(OID.signingCertificateV2, essV2(ent.der)),
  ];
}

/** A detached SignedData with one SignerInfo over `attributes` (in the order given), by `sid`. */
async function handBuilt(
  attributes: Buffer[],
  sid: 'issuer-and-serial' | 'ski' = 'issuer-and-serial',
  signedDataVersion = sid === 'ski' ? 3 : 1,
): Promise<Buffer> {
  const id = readCertificateIdentity(ent.der);
  const signedSet = tlv(0x31, ...attributes);
  const signature = await ent.signer.sign(signedSet);
  const implicit = Buffer.from(signedSet);
  implicit[0] = 0xa0;
  const sidDer = sid === 'ski' ? tlv(0x80, id.subjectKeyIdentifier!) : sequence(Buffer.from(id.issuer), tlv(0x02, id.serialContents));
  const si = sequence(
    smallInteger(sid === 'ski' ? 3 : 1),
    sidDer,
    sequence(oid('2.16.840.1.101.3.4.2.1')),
    implicit,
    sequence(oid('1.2.840.10045.4.3.2')),
    octetString(signature),
  );
  const sd = sequence(
    smallInteger(signedDataVersion),
    setOf(sequence(oid('2.16.840.1.101.3.4.2.1'))),
    sequence(oid(OID.data)),
    tlv(0xa0, ent.der, pki.issuing.der),
    setOf(si),
  );
  return sequence(oid(OID.signedData), explicit(0, sd));
}

const verify = (envelope: Buffer): Promise<ValidationReport> =>
  verifyEnvelope({
    envelope,
    content: doc,
    anchors: pki.anchors,
    revocation: noRevocation(),
    policy: annual,
    time: new Date(NOW.getTime() + 60_000),
  });
const check = (r: ValidationReport, id: string) => r.signatures[0]?.checks.find((c) => c.id === id);

describe('CMS signer infos built by hand', () => {
  it('accepts a signer identified by subjectKeyIdentifier (SignerInfo v3)', async () => {
    const env = await handBuilt(standardAttributes(), 'ski');
    expect(parseCmsSignedData(env).signerInfos[0]!.sid.kind).toBe('subject-key-identifier');
    expect((await verify(env)).indication).toBe('TOTAL_PASSED');
  });

  it('refuses a SignedData version other than the one RFC 5652 §5.1 derives from the content (FORMAT_FAILURE)', async () => {
    for (const [sid, version] of [
      ['issuer-and-serial', 3],
      ['issuer-and-serial', 5],
      ['ski', 1],
      ['ski', 4],
    ] as const) {
      const env = await handBuilt(standardAttributes(), sid, version);
      const error = await expectCode(() => parseCmsSignedData(env), 'ERR_VERIFY_MALFORMED');
      expect(error.message).toContain(`requires ${sid === 'ski' ? 3 : 1}`);
      expect(await verify(env)).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    }
    expect((await verify(await handBuilt(standardAttributes(), 'ski', 3))).indication).toBe('TOTAL_PASSED');
  });

  it('verifies the signature over the attributes as sent, even out of DER order', async () => {
    expect((await verify(await handBuilt([...standardAttributes()].reverse()))).indication).toBe('TOTAL_PASSED');
  });

  it('refuses an attribute given twice (FORMAT_FAILURE)', async () => {
    const r = await verify(await handBuilt([...standardAttributes(), attr(OID.signingTime, x509Time(NOW))]));
    expect(r).toMatchObject({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(check(r, 'cms.signed-attributes')?.message).toContain('more than once');
  });

  it('refuses a content-type attribute that is not the encapsulated content type', async () => {
    const attrs = standardAttributes();
    attrs[0] = attr(OID.contentType, oid(OID.signedData));
    const r = await verify(await handBuilt(attrs));
    expect(check(r, 'cms.content-type')?.result).toBe('FAILED');
    expect(r.subIndication).toBe('FORMAT_FAILURE');
  });

  it('refuses each missing required attribute', async () => {
    for (const [i, id] of [
      [0, 'cms.content-type'],
      [1, 'cms.signing-time'],
      [2, 'cms.message-digest'],
      [3, 'cms.signing-certificate-v2'],
    ] as const) {
      const attrs = standardAttributes().filter((_, k) => k !== i);
      const r = await verify(await handBuilt(attrs));
      expect(r.indication, id).toBe('TOTAL_FAILED');
      expect(check(r, id)?.result, id).toBe('FAILED');
    }
  });

  it('refuses a message-digest with two values', async () => {
    const attrs = standardAttributes();
    attrs[2] = attr(OID.messageDigest, octetString(sha256(doc)), octetString(sha256(Buffer.from('x'))));
    expect(check(await verify(await handBuilt(attrs)), 'cms.message-digest')?.result).toBe('FAILED');
  });

  it('refuses an ESS certHash over another certificate (NO_SIGNING_CERTIFICATE_FOUND)', async () => {
    const attrs = standardAttributes();
    attrs[3] = attr(OID.signingCertificateV2, essV2(pki.issuing.der));
    expect(await verify(await handBuilt(attrs))).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'NO_SIGNING_CERTIFICATE_FOUND',
    });
  });
});
