import { createRequire } from 'node:module';
import type * as Forge from 'node-forge';
import { randomBytes } from '../crypto/digest.js';

/**
 * PKCS#12 (RFC 7292) bundles for server-side key generation, built with node-forge (the only
 * place it is used; pinned ≥ 1.4.3 for its PKCS#1 and basicConstraints fixes, and never trusted
 * to re-encode a certificate: it changes the bytes of EC-signed ones). The private key is a PKCS#8 EncryptedPrivateKeyInfo (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC);
 * certificates go in as their original DER inside the certBag's OCTET STRING (forge writes a
 * BMPString friendlyName from the JS string itself); the integrity MAC
 * is HMAC-SHA1 with the PKCS#12 KDF (what forge and every reader supports). Protected by a one-time
 * password the caller shows the user once and never stores.
 */

// node-forge is CommonJS whose exports ESM cannot see by name: load it through require.
const forge = createRequire(import.meta.url)('node-forge') as typeof Forge;
const asn1 = forge.asn1;
const OIDS = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
  sha1: '1.3.14.3.2.26',
};
const KDF_ITERATIONS = 10_000;
const MAC_ITERATIONS = 2048;

/** A random one-time password: 128 bits, base64url (22 characters). */
export function oneTimePassword(): string {
  return randomBytes(16).toString('base64url');
}

const seq = (items: Forge.asn1.Asn1[]): Forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const set = (items: Forge.asn1.Asn1[]): Forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, items);
const oid = (dotted: string): Forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (bytes: string): Forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
const explicit0 = (inner: Forge.asn1.Asn1): Forge.asn1.Asn1 => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [inner]);
const binary = (data: Uint8Array): string => Buffer.from(data).toString('binary');
const dataContentInfo = (content: Forge.asn1.Asn1): Forge.asn1.Asn1 =>
  seq([oid(OIDS.data), explicit0(octets(asn1.toDer(content).getBytes()))]);

/**
 * A PFX holding `pkcs8` (unencrypted PKCS#8 DER, in memory only) and `certificates` (leaf first,
 * DER), protected by `password`.
 */
export function buildPkcs12(pkcs8: Uint8Array, certificates: readonly Uint8Array[], password: string, friendlyName: string): Buffer {
  const localKeyId = binary(randomBytes(20));
  const attributes = (withName: boolean): Forge.asn1.Asn1 =>
    set([
      seq([oid(OIDS.localKeyId), set([octets(localKeyId)])]),
      ...(withName
        ? [seq([oid(OIDS.friendlyName), set([asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, friendlyName)])])]
        : []),
    ]);
  const certBags = certificates.map((der, i) => {
    const bag = seq([oid(OIDS.x509Certificate), explicit0(octets(binary(der)))]);
    return seq([oid(OIDS.certBag), explicit0(bag), ...(i === 0 ? [attributes(true)] : [])]);
  });
  const encryptedKey = forge.pki.encryptPrivateKeyInfo(asn1.fromDer(binary(pkcs8)), password, {
    algorithm: 'aes256',
    prfAlgorithm: 'sha256',
    count: KDF_ITERATIONS,
    saltSize: 16,
  });
  const keyBag = seq([oid(OIDS.pkcs8ShroudedKeyBag), explicit0(encryptedKey), attributes(true)]);
  const authenticatedSafe = seq([dataContentInfo(seq(certBags)), dataContentInfo(seq([keyBag]))]);
  const safeDer = asn1.toDer(authenticatedSafe).getBytes();

  const macSalt = binary(randomBytes(16));
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(macSalt), 3, MAC_ITERATIONS, 20);
  const hmac = forge.hmac.create();
  hmac.start('sha1', macKey);
  hmac.update(safeDer);
  const macData = seq([
    seq([seq([oid(OIDS.sha1), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]), octets(hmac.digest().getBytes())]),
    octets(macSalt),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(MAC_ITERATIONS).getBytes()),
  ]);
  const pfx = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(3).getBytes()),
    seq([oid(OIDS.data), explicit0(octets(safeDer))]),
    macData,
  ]);
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}
