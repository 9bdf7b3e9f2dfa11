import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { OID } from '../../src/oids.js';
import { readCommitment, readMessageDigest } from '../../src/verify/cms-attributes.js';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { TAG } from '../../src/der/tags.js';
import { parseCmsSignedData, parseSignerInfo } from '../../src/verify/cms-parse.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from '../verify/envelope-pki.js';
import { createHash } from 'node:crypto';
import { expectCode } from '../helpers/expect-code.js';

const NOW = new Date('2026-03-01T08:00:00Z');

/** openssl cms -verify as an outside verifier (chain to the test root, any purpose). */
function opensslVerifies(pki: TestPki, envelope: Buffer, content?: Buffer): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-sign-'));
  writeFileSync(join(dir, 'root.pem'), pki.root.pem);
  writeFileSync(join(dir, 'env.p7s'), envelope);
  const args = [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    join(dir, 'env.p7s'),
    '-CAfile',
    join(dir, 'root.pem'),
    '-purpose',
    'any',
    '-attime',
    String(Math.floor(NOW.getTime() / 1000)),
    '-out',
    '/dev/null',
  ];
  if (content !== undefined) {
    writeFileSync(join(dir, 'doc.json'), content);
    args.push('-content', join(dir, 'doc.json'));
  }
  try {
    execFileSync('openssl', args, { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('signCms', () => {
  let pki: TestPki;
  let ent: TestIdentity;
  beforeAll(async () => {
    pki = await createTestPki(NOW);
    ent = await pki.enterprise();
  });

  it('makes a detached envelope that openssl verifies, with the four required signed attributes', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    expect(opensslVerifies(pki, env, doc)).toBe(true);
    const sd = parseCmsSignedData(env);
    expect(sd.eContent).toBeUndefined();
    expect(sd.eContentType).toBe(OID.data);
    expect(sd.certificates.map((c) => Buffer.from(c))).toEqual(expect.arrayContaining(ent.chain));
    const types = sd.signerInfos[0]!.signedAttrs!.attributes.map((a) => a.type);
    expect(new Set(types)).toEqual(new Set([OID.contentType, OID.signingTime, OID.messageDigest, OID.signingCertificateV2]));
  });

  it('makes an encapsulated envelope that openssl verifies', async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: false, time: NOW });
    expect(Buffer.from(parseCmsSignedData(env).eContent!)).toEqual(doc);
    expect(opensslVerifies(pki, env)).toBe(true);
  });

  it('encodes the signed attributes in DER SET OF order (sorted encodings)', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: true, time: NOW });
    const signed = parseCmsSignedData(env).signerInfos[0]!.signedAttrs!.signedBytes;
    const encodings = childrenOf(readDer(signed)).map((e) => Buffer.from(e.bytes));
    const sorted = [...encodings].sort(Buffer.compare);
    expect(encodings).toEqual(sorted);
  });

  // Ed25519 CMS (RFC 8419) is verified by our own verifier in test/verify: OpenSSL 3.0 cannot sign
  // or verify it at all ("eddsa_digest_signverify_init: invalid digest").
  it('signs with P-384 and RSA-2048 keys, which openssl verifies', async () => {
    for (const keyAlg of ['P-384', 'RSA-2048'] as const) {
      const id = await pki.enterprise({ keyAlg });
      const doc = annualReport();
      const env = await signCms({ signer: id.signer, chain: id.chain, content: doc, detached: true, time: NOW });
      expect(opensslVerifies(pki, env, doc), keyAlg).toBe(true);
    }
  });

  it('refuses an empty certificate chain', async () => {
    await expectCode(
      () => signCms({ signer: ent.signer, chain: [], content: annualReport(), detached: true, time: NOW }),
      'ERR_SIGN_INVALID_INPUT',
    );
  });
});

describe('countersignCms', () => {
  let pki: TestPki;
  let ent: TestIdentity;
  let officer: TestIdentity;
  beforeAll(async () => {
    pki = await createTestPki(NOW);
    ent = await pki.enterprise();
    officer = await pki.officer('reviewer');
  });

  it("adds a countersignature over the enterprise's signature value and keeps the enterprise signature valid", async () => {
    const doc = annualReport();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const signed = await countersignCms(env, {
      signer: officer.signer,
      chain: officer.chain,
      decision: 'approve',
      time: new Date(NOW.getTime() + 60_000),
    });
    expect(opensslVerifies(pki, signed, doc)).toBe(true);
    const sd = parseCmsSignedData(signed);
    const si = sd.signerInfos[0]!;
    const attr = si.unsignedAttrs.find((a) => a.type === OID.countersignature)!;
    const counter = parseSignerInfo(attr.values[0]!, 'countersignature');
    const md = counter.signedAttrs!.attributes.find((a) => a.type === OID.messageDigest)!;
    expect(Buffer.from(readMessageDigest(md))).toEqual(createHash('sha256').update(si.signature).digest());
    const cti = counter.signedAttrs!.attributes.find((a) => a.type === OID.commitmentTypeIndication)!;
    expect(readCommitment(cti)).toEqual({ type: OID.proofOfApproval, reason: undefined });
    expect(counter.signedAttrs!.attributes.some((a) => a.type === OID.contentType)).toBe(false);
    expect(sd.certificates.map((c) => Buffer.from(c))).toEqual(expect.arrayContaining([officer.der, ent.der]));
  });

  it('adds a second countersignature next to the first', async () => {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: true, time: NOW });
    const once = await countersignCms(env, { signer: officer.signer, chain: officer.chain, decision: 'review', time: NOW });
    const approver = await pki.officer('approver');
    const twice = await countersignCms(once, { signer: approver.signer, chain: approver.chain, decision: 'refuse', time: NOW });
    const si = parseCmsSignedData(twice).signerInfos[0]!;
    const values = si.unsignedAttrs.filter((a) => a.type === OID.countersignature).flatMap((a) => a.values);
    expect(values).toHaveLength(2);
    expect(values.every((v) => v.tag === TAG.SEQUENCE)).toBe(true);
  });

  it('refuses something that is not an envelope', async () => {
    await expectCode(
      () => countersignCms(Buffer.from('not der'), { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW }),
      'ERR_SIGN_ENVELOPE_UNREADABLE',
    );
  });
});
