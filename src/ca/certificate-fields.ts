import { sha256Hex } from '../crypto/digest.js';
import { readTlv, TAG } from './der.js';
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

export function readCertificateFields(der: Buffer): CertificateFields {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start);
  let field = readTlv(der, tbs.start);
  if (field.tag === 0xa0) field = readTlv(der, field.end); // [0] version
  const serial = field;
  const signature = readTlv(der, serial.end);
  const issuer = readTlv(der, signature.end);
  const validity = readTlv(der, issuer.end);
  const notBefore = readTlv(der, validity.start);
  const notAfter = readTlv(der, notBefore.end);
  const subject = readTlv(der, validity.end);
  const spki = readTlv(der, subject.end);
  if (serial.tag !== TAG.integer || issuer.tag !== TAG.sequence || subject.tag !== TAG.sequence || spki.tag !== TAG.sequence) {
    throw new RangeError('not an X.509 certificate');
  }
  return {
    der,
    serial: serialHex(der.subarray(serial.start, serial.end)),
    issuer: der.subarray(signature.end, issuer.end),
    subject: der.subarray(validity.end, subject.end),
    notBefore: readTime(der, notBefore),
    notAfter: readTime(der, notAfter),
    spki: der.subarray(subject.end, spki.end),
    sha256: sha256Hex(der),
  };
}

function readTime(der: Buffer, t: { tag: number; start: number; end: number }): Date {
  const text = der.subarray(t.start, t.end).toString('latin1');
  const m = t.tag === TAG.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) throw new RangeError(`unsupported time ${text}`);
  let year = Number(m[1]);
  if (t.tag === TAG.utcTime) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
