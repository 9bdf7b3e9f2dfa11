import { explicit, nullValue, oid, sequence, smallInteger } from '../../src/der/writer.js';
import { KeyObject, webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/keys.js';
import {
  ALG,
  joseSignatureScheme,
  pssAlgorithmIdentifier,
  publicKeyAcceptable,
  signatureSchemeOf,
  simpleAlgorithmIdentifier,
  type SchemeDecision,
} from '../../src/verify/algorithms.js';

async function webKey(params: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams): Promise<KeyObject> {
  const pair = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return KeyObject.from(pair.publicKey);
}

function refusal(d: SchemeDecision): string {
  return 'refused' in d ? d.refused : '(accepted)';
}

describe('algorithm policy', () => {
  let p256: KeyObject;
  let p384: KeyObject;
  let p521: KeyObject;
  let ed: KeyObject;
  let rsa2048: KeyObject;
  let rsa1024: KeyObject;
  let rsaE3: KeyObject;

  beforeAll(async () => {
    p256 = generateKeyPair('P-256').publicKey;
    p384 = generateKeyPair('P-384').publicKey;
    ed = generateKeyPair('Ed25519').publicKey;
    rsa2048 = generateKeyPair('RSA-2048').publicKey;
    p521 = await webKey({ name: 'ECDSA', namedCurve: 'P-521' });
    rsa1024 = await webKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });
    rsaE3 = await webKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([3]), hash: 'SHA-256' });
  });

  it('accepts ECDSA on P-256 and P-384 with SHA-256, SHA-384 and SHA-512, as DER signatures', () => {
    for (const key of [p256, p384]) {
      for (const [oid, hash] of [
        [ALG.ecdsaWithSha256, 'sha256'],
        [ALG.ecdsaWithSha384, 'sha384'],
        [ALG.ecdsaWithSha512, 'sha512'],
      ] as const) {
        expect(signatureSchemeOf(simpleAlgorithmIdentifier(oid), key)).toEqual({ scheme: { kind: 'ecdsa', hash, encoding: 'der' } });
      }
    }
  });

  it('refuses P-521, ECDSA with parameters, and an ECDSA algorithm with a non-EC key, naming why', () => {
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.ecdsaWithSha512), p521))).toMatch(
      /ecdsa-with-SHA512: the EC curve P-521 is not accepted/,
    );
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.ecdsaWithSha256, true), p256))).toMatch(/with parameters/);
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.ecdsaWithSha256), rsa2048))).toMatch(/not EC/);
  });

  it('accepts Ed25519 and refuses Ed448 by name', () => {
    expect(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.ed25519), ed)).toEqual({ scheme: { kind: 'ed25519' } });
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier('1.3.101.113'), ed))).toMatch(/Ed448/);
  });

  it('accepts RSA PKCS#1 v1.5 with SHA-2 (NULL or absent parameters) on 2048–4096-bit keys', () => {
    expect(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.sha256WithRsa, true), rsa2048)).toEqual({
      scheme: { kind: 'rsa-pkcs1', hash: 'sha256' },
    });
    expect(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.sha512WithRsa), rsa2048)).toEqual({
      scheme: { kind: 'rsa-pkcs1', hash: 'sha512' },
    });
    expect(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.sha256WithRsa, true).der, rsa2048)).toEqual({
      scheme: { kind: 'rsa-pkcs1', hash: 'sha256' },
    });
  });

  it('refuses RSA-1024, small exponents, SHA-1 and MD5, naming the algorithm', () => {
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.sha256WithRsa, true), rsa1024))).toMatch(
      /1024 bits is outside 2048–4096/,
    );
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.sha256WithRsa, true), rsaE3))).toMatch(/exponent 3/);
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier('1.2.840.113549.1.1.5', true), rsa2048))).toMatch(
      /sha1WithRSAEncryption .* not accepted/,
    );
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier('1.2.840.113549.1.1.4', true), rsa2048))).toMatch(/md5WithRSAEncryption/);
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier('1.2.840.10040.4.3'), rsa2048))).toMatch(/dsa-with-SHA1/);
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier('1.2.3.4'), rsa2048))).toMatch(/1\.2\.3\.4/);
  });

  it('takes the hash of plain rsaEncryption from the CMS digest algorithm', () => {
    expect(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.rsaEncryption, true), rsa2048, { digestAlgorithm: ALG.sha384 })).toEqual({
      scheme: { kind: 'rsa-pkcs1', hash: 'sha384' },
    });
    expect(
      refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.rsaEncryption, true), rsa2048, { digestAlgorithm: '1.3.14.3.2.26' })),
    ).toMatch(/SHA-1/);
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.rsaEncryption, true), rsa2048))).toMatch(/no digest algorithm/);
  });

  it('accepts RSASSA-PSS only with SHA-2, MGF1 over the same hash and a salt from the hash length up to the maximum', () => {
    expect(signatureSchemeOf(pssAlgorithmIdentifier('sha256'), rsa2048)).toEqual({
      scheme: { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 },
    });
    expect(signatureSchemeOf(pssAlgorithmIdentifier('sha512'), rsa2048)).toEqual({
      scheme: { kind: 'rsa-pss', hash: 'sha512', saltLength: 64 },
    });
    expect(refusal(signatureSchemeOf(simpleAlgorithmIdentifier(ALG.rsassaPss), rsa2048))).toMatch(/SHA-1/);
    const pss = pssAlgorithmIdentifier('sha256');
    const salt20 = Buffer.from(pss.der);
    salt20.writeUInt8(20, salt20.length - 1);
    expect(refusal(signatureSchemeOf(salt20, rsa2048))).toMatch(/20-octet salt/);
    // RFC 8017 §9.1.1: up to emLen − hLen − 2 = 256 − 32 − 2 = 222 octets for a 2048-bit key.
    for (const [salt, accepted] of [
      [33, true],
      [222, true],
      [223, false],
    ] as const) {
      const sha256Id = sequence(oid(ALG.sha256), nullValue());
      const der = sequence(
        oid(ALG.rsassaPss),
        sequence(explicit(0, sha256Id), explicit(1, sequence(oid(ALG.mgf1), sha256Id)), explicit(2, smallInteger(salt))),
      );
      const decision = signatureSchemeOf(der, rsa2048);
      if (accepted) expect(decision).toEqual({ scheme: { kind: 'rsa-pss', hash: 'sha256', saltLength: salt } });
      else expect(refusal(decision)).toMatch(/223-octet salt .* up to 222 octets/);
    }
  });

  it('maps JOSE algorithms under the same policy, with r‖s ECDSA signatures', () => {
    expect(joseSignatureScheme('ES256', p256)).toEqual({ scheme: { kind: 'ecdsa', hash: 'sha256', encoding: 'ieee-p1363' } });
    expect(joseSignatureScheme('ES384', p384)).toEqual({ scheme: { kind: 'ecdsa', hash: 'sha384', encoding: 'ieee-p1363' } });
    expect(refusal(joseSignatureScheme('ES256', p384))).toMatch(/P-256 key/);
    expect(refusal(joseSignatureScheme('ES512', p521))).toMatch(/P-521/);
    expect(joseSignatureScheme('EdDSA', ed)).toEqual({ scheme: { kind: 'ed25519' } });
    expect(joseSignatureScheme('PS384', rsa2048)).toEqual({ scheme: { kind: 'rsa-pss', hash: 'sha384', saltLength: 48 } });
    expect(joseSignatureScheme('RS256', rsa2048)).toEqual({ scheme: { kind: 'rsa-pkcs1', hash: 'sha256' } });
    for (const alg of ['HS256', 'none', 'NONE', 'RS1']) expect(refusal(joseSignatureScheme(alg, rsa2048))).toMatch(/not accepted/);
  });

  it('judges subject keys alone', () => {
    expect(publicKeyAcceptable(p256)).toEqual({ ok: true });
    expect(publicKeyAcceptable(ed)).toEqual({ ok: true });
    expect(publicKeyAcceptable(rsa2048)).toEqual({ ok: true });
    expect(refusal(publicKeyAcceptable(p521) as SchemeDecision)).toMatch(/P-521/);
    expect(refusal(publicKeyAcceptable(rsa1024) as SchemeDecision)).toMatch(/1024/);
  });
});
