import { describe, expect, it } from 'vitest';
import { describeKey, exportSpki, generateKeyPair, importSpki } from '../../src/crypto/keys.js';
import { expectCode } from '../helpers/expect-code.js';

describe('importSpki', () => {
  it.each(['P-256', 'P-384', 'Ed25519', 'RSA-2048'] as const)('round-trips a %s SubjectPublicKeyInfo exactly', (alg) => {
    const spki = exportSpki(generateKeyPair(alg).publicKey);
    const key = importSpki(spki);
    expect(exportSpki(key).equals(spki)).toBe(true);
  });

  it('reads the curve of EC keys taken by the fast (JWK) path', () => {
    expect(describeKey(importSpki(exportSpki(generateKeyPair('P-256').publicKey)))).toEqual({ type: 'ec', curve: 'P-256' });
    expect(describeKey(importSpki(exportSpki(generateKeyPair('P-384').publicKey)))).toEqual({ type: 'ec', curve: 'P-384' });
  });

  it('refuses an EC point that is not on the curve with a coded error', async () => {
    const spki = Buffer.from(exportSpki(generateKeyPair('P-256').publicKey));
    spki[spki.length - 1]! ^= 0x01; // flip a bit of Y
    await expectCode(() => importSpki(spki), 'ERR_CRYPTO_KEY_INVALID');
  });

  it('refuses bytes that are not a SubjectPublicKeyInfo', async () => {
    await expectCode(() => importSpki(Buffer.from('30030201', 'hex')), 'ERR_CRYPTO_KEY_INVALID');
  });
});
