import { identifierDigest, randomBytes } from '../crypto/digest.js';
import { subjectPublicKeyBits } from './certificate-builder.js';
import { readCertificateFields } from './certificate-fields.js';
import { explicit, nullValue, octetString, oid, sequence, unsignedInteger } from '../der/writer.js';
import { OID, OID_OF_CERT_ID_HASH } from '../oids.js';
import { serialBytes } from './serial.js';

/**
 * The client side of OCSP (RFC 6960 §4.1.1) for tools, tests and benchmarks: a request for one
 * serial of an issuer, with a SHA-1 or SHA-256 CertID and an optional nonce.
 */
export function buildOcspRequest(
  issuerDer: Buffer,
  serialHex: string,
  options: { hash?: 'sha1' | 'sha256'; nonce?: boolean | Buffer } = {},
): Buffer {
  const issuer = readCertificateFields(issuerDer);
  const hash = options.hash ?? 'sha1';
  const hashOid = OID_OF_CERT_ID_HASH[hash];
  const certId = sequence(
    sequence(oid(hashOid), nullValue()),
    octetString(identifierDigest(hash, issuer.subject)),
    octetString(identifierDigest(hash, subjectPublicKeyBits(issuer.spki))),
    unsignedInteger(serialBytes(serialHex)),
  );
  const nonce =
    options.nonce === true ? randomBytes(16) : options.nonce === false || options.nonce === undefined ? undefined : options.nonce;
  const extensions = nonce === undefined ? [] : [explicit(2, sequence(sequence(oid(OID.ocspNonce), octetString(octetString(nonce)))))];
  return sequence(sequence(sequence(sequence(certId)), ...extensions));
}
