import { identifierDigest, randomBytes } from '../crypto/digest.js';
import { subjectPublicKeyBits } from './certificate-builder.js';
import { readCertificateFields } from './certificate-fields.js';
import { explicit, nullValue, octetString, oid, sequence, unsignedInteger } from './der.js';
import { serialBytes } from './serial.js';

/**
 * The client side of OCSP (RFC 6960 §4.1.1) for tools, tests and benchmarks: a request for one
 * serial of an issuer, with a SHA-1 or SHA-256 CertID and an optional nonce.
 */
export function buildOcspRequest(issuerDer: Buffer, serialHex: string, options: { hash?: 'sha1' | 'sha256'; nonce?: boolean | Buffer } = {}): Buffer {
  const issuer = readCertificateFields(issuerDer);
  const hash = options.hash ?? 'sha1';
  const hashOid = hash === 'sha1' ? '1.3.14.3.2.26' : '2.16.840.1.101.3.4.2.1';
  const certId = sequence(
    sequence(oid(hashOid), nullValue()),
    octetString(identifierDigest(hash, issuer.subject)),
    octetString(identifierDigest(hash, subjectPublicKeyBits(issuer.spki))),
    unsignedInteger(serialBytes(serialHex)),
  );
  const nonce = options.nonce === true ? randomBytes(16) : options.nonce === false || options.nonce === undefined ? undefined : options.nonce;
  const extensions = nonce === undefined ? [] : [explicit(2, sequence(sequence(oid('1.3.6.1.5.5.7.48.1.2'), octetString(octetString(nonce)))))];
  return sequence(sequence(sequence(sequence(certId)), ...extensions));
}
