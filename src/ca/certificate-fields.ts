import { sha256Hex } from '../crypto/digest.js';
import { childrenOf, readDer, readTime } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { serialHex } from './serial.js';

/**
 * The raw fields of a certificate this CA made (or that a database row holds), sliced out of
 * its DER without re-encoding: the exact issuer/subject Name bytes are what AKI matching, CRL
 * issuers and OCSP issuerNameHash need. This is a reader for our own certificates; validating a
 * certificate someone presents is src/verify's job.
 */
export interface CertificateFields {
  der: Buffer;
  serial: string;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  sha256: string;
}

/** Throws (RangeError or DerError) when the bytes are not a DER certificate with these fields. */
export function readCertificateFields(der: Buffer): CertificateFields {
  const [tbs] = childrenOf(readDer(der, 'the certificate'), 'the certificate');
  if (tbs === undefined) throw new RangeError('not an X.509 certificate');
  const fields = childrenOf(tbs, 'tbsCertificate');
  const at = fields[0]?.tag === contextTag(0, true) ? 1 : 0; // [0] version
  const [serial, , issuer, validity, subject, spki] = fields.slice(at);
  if (
    serial?.tag !== TAG.INTEGER ||
    issuer?.tag !== TAG.SEQUENCE ||
    validity?.tag !== TAG.SEQUENCE ||
    subject?.tag !== TAG.SEQUENCE ||
    spki?.tag !== TAG.SEQUENCE
  ) {
    throw new RangeError('not an X.509 certificate');
  }
  const [notBefore, notAfter] = childrenOf(validity, 'the validity');
  const view = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    der,
    serial: serialHex(view(serial.value)),
    issuer: view(issuer.bytes),
    subject: view(subject.bytes),
    notBefore: readTime(notBefore, 'notBefore'),
    notAfter: readTime(notAfter, 'notAfter'),
    spki: view(spki.bytes),
    sha256: sha256Hex(der),
  };
}
