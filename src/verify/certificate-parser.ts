import { childrenOf, expectTag, isNonMinimalInteger, readBitString, readDer, readSmallInteger, readTime, toHex } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { EXT } from '../oids.js';
import { parseAlgorithmIdentifier } from './algorithm-identifier.js';
import { parseExtensions, parseKnownExtensions } from './certificate-extensions.js';
import type { CertificateFields, Extension } from './certificate-types.js';
import { malformed } from './errors.js';
import { parseName } from './name.js';

/**
 * The X.509 certificate parser (RFC 5280 §4.1) over the strict DER reader: the original bytes
 * are kept and never re-encoded (signatures and ESS certHash cover them), and every extension
 * the path validator relies on is decoded here once. Parsing decides nothing: profile faults (a
 * zero serial, a critical AKI, a malformed known extension, …) are collected in `problems`.
 */

/**
 * The fields of one DER Certificate (RFC 5280 §4.1). Throws (DerError or VerifyError) when the
 * bytes are not a DER Certificate; profile faults do not throw, they land in `problems`.
 */
export function decodeCertificateFields(der: Buffer): CertificateFields {
  const what = 'the certificate';
  const root = readDer(der, what);
  const [tbsEl, sigAlgEl, sigEl, extra] = childrenOf(expectTag(root, TAG.SEQUENCE, what), what);
  if (extra !== undefined) throw malformed(`${what} has more than three top-level fields`);
  const tbsSeq = expectTag(tbsEl, TAG.SEQUENCE, 'tbsCertificate');
  const signatureAlgorithm = parseAlgorithmIdentifier(sigAlgEl, 'the signature algorithm');
  const signature = Buffer.from(readBitString(sigEl, 'the signature value').bytes);

  const fields = childrenOf(tbsSeq, 'tbsCertificate');
  let i = 0;
  let version = 1;
  const problems: string[] = [];
  if (fields[i]?.tag === contextTag(0, true)) {
    const inner = childrenOf(fields[i]!, 'the version');
    if (inner.length !== 1) throw malformed('the version field is malformed');
    const v = readSmallInteger(inner[0], 'the version');
    if (v > 2) throw malformed(`the certificate version ${v + 1} is unknown`);
    version = v + 1;
    if (v === 0) problems.push('the version field encodes the default v1 explicitly (not DER)');
    i++;
  }
  const serialEl = expectTag(fields[i++], TAG.INTEGER, 'the serial number');
  const serial = serialEl.value;
  if (isNonMinimalInteger(serial)) throw malformed('the serial number is not a minimal DER INTEGER');
  const serialNumberHex = toHex(serial);
  let serialNumberProblem: string | undefined;
  if ((serial[0]! & 0x80) !== 0) serialNumberProblem = 'the serial number is negative (RFC 5280 §4.1.2.2)';
  else if (serial.every((b) => b === 0)) serialNumberProblem = 'the serial number is zero (RFC 5280 §4.1.2.2)';
  else if (serial.length > 21 || (serial.length === 21 && serial[0] !== 0))
    serialNumberProblem = 'the serial number is longer than 20 octets (RFC 5280 §4.1.2.2)';

  const tbsSignatureAlgorithm = parseAlgorithmIdentifier(fields[i++], 'the tbsCertificate signature algorithm');
  if (!tbsSignatureAlgorithm.der.equals(signatureAlgorithm.der)) {
    problems.push('the signature algorithm inside tbsCertificate differs from the outer one (RFC 5280 §4.1.1.2)');
  }
  const issuer = parseName(expectTag(fields[i++], TAG.SEQUENCE, 'the issuer'), 'the issuer');
  if (issuer.isEmpty) problems.push('the issuer name is empty (RFC 5280 §4.1.2.4)');
  const validity = childrenOf(expectTag(fields[i++], TAG.SEQUENCE, 'the validity'), 'the validity');
  if (validity.length !== 2) throw malformed('the validity is not exactly notBefore and notAfter');
  const notBefore = readTime(validity[0], 'notBefore');
  const notAfter = readTime(validity[1], 'notAfter');
  const subject = parseName(expectTag(fields[i++], TAG.SEQUENCE, 'the subject'), 'the subject');
  const spkiEl = expectTag(fields[i++], TAG.SEQUENCE, 'the subject public key info');
  const spkiParts = childrenOf(spkiEl, 'the subject public key info');
  if (spkiParts.length !== 2) throw malformed('the subject public key info is not an algorithm and a key');
  const spkiAlgorithm = parseAlgorithmIdentifier(spkiParts[0], 'the public key algorithm');
  readBitString(spkiParts[1], 'the subject public key');

  if (fields[i]?.tag === 0x81) {
    if (version < 2) problems.push('a v1 certificate carries an issuerUniqueID');
    i++;
  }
  if (fields[i]?.tag === 0xa1 || fields[i]?.tag === 0x82) {
    if (version < 2) problems.push('a v1 certificate carries a subjectUniqueID');
    i++;
  }
  let extensions: Extension[] = [];
  if (fields[i]?.tag === contextTag(3, true)) {
    const inner = childrenOf(fields[i]!, 'the extensions');
    if (inner.length !== 1) throw malformed('the extensions field is malformed');
    extensions = parseExtensions(inner[0]!, problems);
    if (version !== 3) problems.push(`a v${version} certificate carries extensions`);
    i++;
  }
  if (i !== fields.length) throw malformed('tbsCertificate has unexpected trailing fields');

  const parsed = parseKnownExtensions(extensions, problems);
  if (subject.isEmpty) {
    const san = extensions.find((e) => e.oid === EXT.subjectAltName);
    if (san === undefined) problems.push('the subject name is empty and there is no subjectAltName (RFC 5280 §4.1.2.6)');
    else if (!san.critical) problems.push('the subject name is empty but the subjectAltName is not critical (RFC 5280 §4.2.1.6)');
  }

  return {
    der,
    tbs: Buffer.from(tbsSeq.bytes.buffer, tbsSeq.bytes.byteOffset, tbsSeq.bytes.byteLength),
    version,
    serialNumberHex,
    signatureAlgorithm,
    tbsSignatureAlgorithm,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: Buffer.from(spkiEl.bytes.buffer, spkiEl.bytes.byteOffset, spkiEl.bytes.byteLength),
    spkiAlgorithm,
    extensions,
    ...parsed,
    problems,
    serialNumberProblem,
  };
}
