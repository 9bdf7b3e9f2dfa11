import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';
import { generateKeyPair, type KeyAlgorithm } from './keys.js';
import { keyObjectSigner, type Signer } from './signer.js';

/**
 * A user's own private key in a file (`chancery keygen`, the admin credential, test holders):
 * PKCS#8 PEM, optionally encrypted. Unlike the service's keys in the KeyStore, these belong to
 * the person holding them; Chancery only ever reads them on that person's machine.
 */

/** Key kinds `chancery keygen` makes: the KeyStore's, plus RSA-PSS-only keys (PS2048). */
export type UserKeyAlgorithm = KeyAlgorithm | 'RSA-PSS-2048' | 'RSA-PSS-3072';

/** A new key pair; the private key as PKCS#8 PEM (encrypted when a passphrase is given). */
export function generateUserKey(algorithm: UserKeyAlgorithm, passphrase?: string): { privateKeyPem: string; publicKey: KeyObject } {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (algorithm === 'RSA-PSS-2048' || algorithm === 'RSA-PSS-3072') {
    pair = generateKeyPairSync('rsa-pss', {
      modulusLength: algorithm === 'RSA-PSS-2048' ? 2048 : 3072,
      publicExponent: 0x10001,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
      // @types/node 20 declares saltLength a string; node takes the number of bytes.
      saltLength: 32 as unknown as string,
    });
  } else {
    pair = generateKeyPair(algorithm);
  }
  const privateKeyPem = pair.privateKey.export(
    passphrase === undefined ? { type: 'pkcs8', format: 'pem' } : { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
  ) as string;
  return { privateKeyPem, publicKey: pair.publicKey };
}

/** A Signer over a PEM private key (PKCS#8 or traditional, encrypted when a passphrase is given). */
export function signerFromPem(name: string, pem: string | Buffer, passphrase?: string): Signer {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (error) {
    const message = (error as Error).message;
    const text = typeof pem === 'string' ? pem : pem.toString('latin1');
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text);
    if (encrypted && passphrase === undefined) {
      throw new CryptoError(
        'ERR_CRYPTO_KEY_PASSPHRASE',
        `cannot read the private key ${name}: it is encrypted and no passphrase was given (put it in an environment variable and name it with --passphrase-env VAR)`,
        { cause: error },
      );
    }
    const code = encrypted || /passphrase|decrypt|bad decrypt/i.test(message) ? 'ERR_CRYPTO_KEY_PASSPHRASE' : 'ERR_CRYPTO_KEY_INVALID';
    throw new CryptoError(
      code,
      `cannot read the private key ${name}${code === 'ERR_CRYPTO_KEY_PASSPHRASE' ? ': it is encrypted and the passphrase is wrong' : ': it is not a PEM private key (PKCS#8 or traditional)'}`,
      { cause: error },
    );
  }
  return keyObjectSigner(name, privateKey, createPublicKey(privateKey));
}
