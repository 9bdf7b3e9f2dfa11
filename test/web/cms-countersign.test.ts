import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, verify as nodeVerify, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { readMessageDigest } from '../../src/verify/cms-attributes.js';
import { parseCmsSignedData, parseSignerInfo } from '../../src/verify/cms-parse.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import {
  countersignCmsEnvelope,
  ecdsaSignatureToDer,
  webCryptoSigning,
  type BrowserAlgorithm,
  type StoredSigningKey,
} from '../../src/web/assets/lib/cms-countersign.js';
import { expectCode } from '../helpers/expect-code.js';
import { createTestPki, foodLicence, type TestIdentity, type TestKeyAlg, type TestPki } from '../verify/envelope-pki.js';

/**
 * The browser's CMS countersignature (src/web/assets/lib/cms-countersign.ts), run here on Node's
 * WebCrypto with keys imported the way the sign-in imports them: with a deterministic key
 * (Ed25519) it writes the very bytes `chancery countersign` (src/sign/cms.ts) writes; with every
 * key the sign-in keeps, the countersigned envelope verifies TOTAL_PASSED with the decisions, and
 * openssl still verifies the enterprise's signature.
 */

const NOW = new Date('2026-03-01T08:00:00Z');
const food = loadPolicies().require('food-business-licence');

/** The key algorithm of the test PKI and the WebCrypto parameters signin.js keeps for it. */
const BROWSER_KEYS: Record<
  BrowserAlgorithm,
  {
    keyAlg: TestKeyAlg;
    key: webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
    sign: StoredSigningKey['sign'];
  }
> = {
  ES256: { keyAlg: 'P-256', key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { keyAlg: 'P-384', key: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  EdDSA: { keyAlg: 'Ed25519', key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  RS256: { keyAlg: 'RSA-2048', key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
};

async function storedKey(who: TestIdentity, alg: BrowserAlgorithm): Promise<StoredSigningKey> {
  const pkcs8 = who.privateKey.export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, BROWSER_KEYS[alg].key, false, ['sign']);
  return { alg, key, sign: BROWSER_KEYS[alg].sign };
}

async function countersignInBrowser(
  envelope: Uint8Array,
  who: TestIdentity,
  alg: BrowserAlgorithm,
  decision: 'approve' | 'refuse' | 'review',
  time: Date,
  reason?: string,
): Promise<Buffer> {
  const record = await storedKey(who, alg);
  return Buffer.from(
    await countersignCmsEnvelope(envelope, {
      algorithm: alg,
      chain: who.chain,
      decision,
      reason,
      time,
      ...webCryptoSigning(webcrypto.subtle, record),
    }),
  );
}

let pki: TestPki;
let ent: TestIdentity;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  ent = await pki.enterprise();
  dir = mkdtempSync(join(tmpdir(), 'chancery-web-cms-'));
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function opensslVerifies(envelope: Buffer, content: Buffer): boolean {
  writeFileSync(join(dir, 'root.pem'), pki.root.pem);
  writeFileSync(join(dir, 'env.p7s'), envelope);
  writeFileSync(join(dir, 'doc.json'), content);
  try {
    execFileSync(
      'openssl',
      ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'env.p7s'), '-content', join(dir, 'doc.json')]
        .concat(['-CAfile', join(dir, 'root.pem'), '-purpose', 'any', '-attime', String(Math.floor(NOW.getTime() / 1000) + 600)])
        .concat(['-out', '/dev/null']),
      { stdio: 'pipe' },
    );
    return true;
  } catch {
    return false;
  }
}

describe('the browser CMS countersignature', () => {
  it('writes the same bytes as `chancery countersign` for the same key, time and decision (Ed25519, deterministic)', async () => {
    const reviewer = await pki.officer('reviewer', '350100', { keyAlg: 'Ed25519' });
    const approver = await pki.officer('approver', '350000', { keyAlg: 'Ed25519' });
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const t1 = new Date(NOW.getTime() + 60_000);
    const t2 = new Date(NOW.getTime() + 120_000);
    const cliReviewed = await countersignCms(env, { signer: reviewer.signer, chain: reviewer.chain, decision: 'review', time: t1 });
    const browserReviewed = await countersignInBrowser(env, reviewer, 'EdDSA', 'review', t1);
    expect(browserReviewed.toString('hex')).toBe(cliReviewed.toString('hex'));
    // A second countersignature next to the first: the unsigned attributes and certificates re-sorted alike.
    const cliApproved = await countersignCms(cliReviewed, {
      signer: approver.signer,
      chain: approver.chain,
      decision: 'approve',
      time: t2,
    });
    const browserApproved = await countersignInBrowser(browserReviewed, approver, 'EdDSA', 'approve', t2);
    expect(browserApproved.toString('hex')).toBe(cliApproved.toString('hex'));
  });

  it("signs a refusal's reason as the commitment qualifier, byte for byte as `chancery countersign --reason` (Ed25519)", async () => {
    const reviewer = await pki.officer('reviewer', '350100', { keyAlg: 'Ed25519' });
    const doc = foodLicence();
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
    const reason = '贮存条件不符合要求 (storage conditions do not meet the requirements)';
    const cli = await countersignCms(env, { signer: reviewer.signer, chain: reviewer.chain, decision: 'refuse', reason, time: NOW });
    const browser = await countersignInBrowser(env, reviewer, 'EdDSA', 'refuse', NOW, reason);
    expect(browser.toString('hex')).toBe(cli.toString('hex'));
    const report = await verifyEnvelope({
      envelope: browser,
      content: doc,
      anchors: pki.anchors,
      revocation: noRevocation(),
      policy: food,
      time: new Date(NOW.getTime() + 600_000),
    });
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]).toMatchObject({ decision: 'refuse', reason });
    await expect(countersignInBrowser(env, reviewer, 'EdDSA', 'refuse', NOW, 'two\nlines')).rejects.toMatchObject({
      code: 'ERR_SIGN_INVALID_INPUT',
    });
  });

  for (const alg of ['ES256', 'ES384', 'RS256', 'EdDSA'] as const) {
    it(`countersigns with a ${alg} key kept by the sign-in: TOTAL_PASSED with both decisions, openssl still verifies`, async () => {
      const reviewer = await pki.officer('reviewer', '350100', { keyAlg: BROWSER_KEYS[alg].keyAlg });
      const approver = await pki.officer('approver', '350000', { keyAlg: BROWSER_KEYS[alg].keyAlg });
      const doc = foodLicence();
      const env = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: NOW });
      const reviewed = await countersignInBrowser(env, reviewer, alg, 'review', new Date(NOW.getTime() + 60_000));
      const approved = await countersignInBrowser(reviewed, approver, alg, 'approve', new Date(NOW.getTime() + 120_000));
      const report = await verifyEnvelope({
        envelope: approved,
        content: doc,
        anchors: pki.anchors,
        revocation: noRevocation(),
        policy: food,
        time: new Date(NOW.getTime() + 600_000),
      });
      expect(report.indication, JSON.stringify(report.signatures.map((s) => [s.indication, s.subIndication]))).toBe('TOTAL_PASSED');
      expect(report.signatures.map((s) => [s.role, s.indication, s.decision])).toEqual([
        ['signer', 'TOTAL_PASSED', undefined],
        ['countersigner', 'TOTAL_PASSED', 'review'],
        ['countersigner', 'TOTAL_PASSED', 'approve'],
      ]);
      expect(opensslVerifies(approved, doc)).toBe(true);
      // RFC 5652 §11.4: no content-type in a countersignature; its message-digest is over the enterprise's signature value.
      const sd = parseCmsSignedData(approved);
      const si = sd.signerInfos[0]!;
      const counters = si.unsignedAttrs
        .filter((a) => a.type === OID.countersignature)
        .map((a) => parseSignerInfo(a.values[0]!, 'countersignature'));
      expect(counters).toHaveLength(2);
      const hash = alg === 'ES384' ? 'sha384' : alg === 'EdDSA' ? 'sha512' : 'sha256';
      for (const c of counters) {
        const types = c.signedAttrs!.attributes.map((a) => a.type);
        expect(new Set(types)).toEqual(
          new Set([OID.signingTime, OID.messageDigest, OID.signingCertificateV2, OID.commitmentTypeIndication]),
        );
        const md = c.signedAttrs!.attributes.find((a) => a.type === OID.messageDigest)!;
        expect(Buffer.from(readMessageDigest(md))).toEqual(createHash(hash).update(si.signature).digest());
      }
      expect(sd.certificates.map((c) => Buffer.from(c))).toEqual(expect.arrayContaining([ent.der, reviewer.der, approver.der]));
    });
  }

  it('turns WebCrypto ECDSA signatures (r ‖ s) into minimal DER INTEGERs that OpenSSL accepts', async () => {
    const officer = await pki.officer('reviewer', '350100');
    const record = await storedKey(officer, 'ES256');
    const { sign } = webCryptoSigning(webcrypto.subtle, record);
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = Buffer.from(await sign(data));
      expect(nodeVerify('sha256', data, { key: createPublicKey(officer.privateKey), dsaEncoding: 'der' }, der)).toBe(true);
      const [r, s] = childrenOf(readDer(der));
      for (const n of [r!, s!]) {
        expect(n.value[0] === 0 ? (n.value[1]! & 0x80) !== 0 : (n.value[0]! & 0x80) === 0).toBe(true);
      }
    }
    // High bit set: a leading zero octet; leading zeros: stripped.
    const raw = new Uint8Array(64);
    raw[0] = 0x80;
    raw[63] = 0x01;
    expect(Buffer.from(ecdsaSignatureToDer(raw)).toString('hex')).toBe(`3026022100800000${'00'.repeat(29)}020101`);
    await expectCode(() => ecdsaSignatureToDer(new Uint8Array(63)), 'ERR_SIGN_INVALID_INPUT');
  });

  it('refuses an envelope that is not a CMS SignedData, and an empty chain, with coded errors', async () => {
    const officer = await pki.officer('reviewer', '350100');
    const signing = webCryptoSigning(webcrypto.subtle, await storedKey(officer, 'ES256'));
    const options = { algorithm: 'ES256' as const, chain: officer.chain, decision: 'approve' as const, time: NOW, ...signing };
    await expectCode(() => countersignCmsEnvelope(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), options), 'ERR_SIGN_ENVELOPE_UNREADABLE');
    await expectCode(() => countersignCmsEnvelope(Buffer.from('{"payload":""}'), options), 'ERR_SIGN_ENVELOPE_UNREADABLE');
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: foodLicence(), detached: true, time: NOW });
    await expectCode(() => countersignCmsEnvelope(env, { ...options, chain: [] }), 'ERR_SIGN_INVALID_INPUT');
  });
});
