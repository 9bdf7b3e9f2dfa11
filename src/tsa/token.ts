import { digest as hashOf, identifierDigest } from '../crypto/digest.js';
import { verifySignature } from '../crypto/signature.js';
import { DerError } from '../der/errors.js';
import { OID } from '../oids.js';
import { signatureSchemeOf } from '../verify/algorithms.js';
import { parseCertificate, type Certificate } from '../verify/certificate.js';
import { DIGEST_BY_OID, indexAttributes, readContentType, readMessageDigest } from '../verify/cms-attributes.js';
import { parseCmsSignedData, readCertificateIdentity, type CmsSignedData } from '../verify/cms-parse.js';
import { isParseFault } from '../verify/errors.js';
import { OID_SIGNING_CERTIFICATE, readEssCertId } from '../verify/timestamp.js';
import { parseTstInfo, type TstInfo } from './protocol.js';

/**
 * Checks of one TimeStampToken on its own (RFC 3161 §2.4.2, RFC 5816): it is a SignedData over
 * a TSTInfo, its imprint (and nonce) are the ones asked for, its signed attributes are right
 * (content-type id-ct-TSTInfo, message-digest of the TSTInfo, signing-certificate-v2 or
 * signing-certificate naming the signer's certificate), its signature verifies with that certificate's key under Chancery's
 * algorithm policy, and that certificate is a TSA's: extended key usage id-kp-timeStamping only,
 * critical (§2.3). Whether the TSA's chain leads to a trusted root, and whether it was valid
 * and unrevoked at genTime, is path validation's question, not answered here.
 */

export interface ExpectedImprint {
  hashAlgorithm: string;
  digest: Uint8Array;
  /** INTEGER contents octets of the nonce sent, when one was. */
  nonce?: Uint8Array | undefined;
}

export interface CheckedToken {
  tstInfo: TstInfo;
  /** The TSA certificate that signed it. */
  signer: Certificate;
  /** Every certificate the token carries. */
  certificates: Certificate[];
}

/** Why a token is not acceptable, as one sentence. */
export class TokenProblem extends Error {}

/** Returns the checked token, or throws TokenProblem naming the first fault. */
export function checkTimeStampToken(token: Uint8Array, expected: ExpectedImprint): CheckedToken {
  let signed: CmsSignedData;
  let tstInfo: TstInfo;
  try {
    signed = parseCmsSignedData(token);
  } catch (error) {
    throw new TokenProblem(`the token is not a CMS SignedData: ${(error as Error).message}`);
  }
  if (signed.eContentType !== OID.tstInfo) throw new TokenProblem(`the token's content type is ${signed.eContentType}, not id-ct-TSTInfo`);
  if (signed.eContent === undefined) throw new TokenProblem('the token does not encapsulate its TSTInfo');
  try {
    tstInfo = parseTstInfo(signed.eContent);
  } catch (error) {
    if (error instanceof DerError) throw new TokenProblem(`the TSTInfo cannot be read: ${error.message}`);
    throw error;
  }
  if (tstInfo.version !== 1) throw new TokenProblem(`TSTInfo version ${tstInfo.version} is not v1`);
  if (tstInfo.hashAlgorithm !== expected.hashAlgorithm || !Buffer.from(tstInfo.digest).equals(Buffer.from(expected.digest)))
    throw new TokenProblem("the token's messageImprint is not the one asked for (another document or hash)");
  if (expected.nonce !== undefined && (tstInfo.nonce === undefined || !Buffer.from(tstInfo.nonce).equals(Buffer.from(expected.nonce))))
    throw new TokenProblem("the token's nonce is not the one sent (a replayed or misrouted reply)");
  if (signed.signerInfos.length !== 1) throw new TokenProblem(`the token has ${signed.signerInfos.length} SignerInfos, not one`);
  const si = signed.signerInfos[0]!;

  let certificates: Certificate[];
  try {
    certificates = signed.certificates.map((c) => parseCertificate(c));
  } catch (error) {
    throw new TokenProblem(`a certificate in the token cannot be read: ${(error as Error).message}`);
  }
  const signer = certificates.find((c) => {
    if (si.sid.kind === 'subject-key-identifier')
      return c.subjectKeyIdentifier !== undefined && Buffer.from(si.sid.keyIdentifier).equals(c.subjectKeyIdentifier);
    const id = readCertificateIdentity(c.der);
    return id.serialHex === si.sid.serialHex && Buffer.from(id.issuer).equals(Buffer.from(si.sid.issuer));
  });
  if (signer === undefined) throw new TokenProblem("the token does not carry its signer's certificate (was certReq set?)");

  if (si.signedAttrs === undefined) throw new TokenProblem('the token has no signed attributes');
  const digestName = DIGEST_BY_OID[si.digestAlgorithm.oid];
  if (digestName === undefined) throw new TokenProblem(`the token's digest algorithm ${si.digestAlgorithm.oid} is not accepted`);
  try {
    const attrs = indexAttributes(si.signedAttrs.attributes, 'the signed attributes');
    const contentType = attrs.get(OID.contentType);
    if (contentType === undefined || readContentType(contentType) !== OID.tstInfo)
      throw new TokenProblem('the content-type signed attribute is not id-ct-TSTInfo');
    const messageDigest = attrs.get(OID.messageDigest);
    if (messageDigest === undefined || !Buffer.from(readMessageDigest(messageDigest)).equals(hashOf(digestName, signed.eContent)))
      throw new TokenProblem('the message-digest signed attribute is not the digest of the TSTInfo');
    // RFC 5816 allows either: ESSCertIDv2, or ESSCertID (v1, SHA-1 certHash; openssl's default).
    const v2 = attrs.get(OID.signingCertificateV2);
    const v1 = attrs.get(OID_SIGNING_CERTIFICATE);
    if (v2 === undefined && v1 === undefined)
      throw new TokenProblem(
        'the token has neither signing-certificate nor signing-certificate-v2 (RFC 2634 ESSCertID, RFC 5816 ESSCertIDv2)',
      );
    const name = v2 !== undefined ? 'ESSCertIDv2' : 'ESSCertID';
    const essCertId = readEssCertId((v2 ?? v1)!, v2 !== undefined);
    if ('unsupported' in essCertId) throw new TokenProblem(`${name} uses the unsupported hash ${essCertId.unsupported}`);
    if (!identifierDigest(essCertId.hash, signer.der).equals(Buffer.from(essCertId.certHash)))
      throw new TokenProblem(`the ${name} certHash is not the hash of the signer's certificate`);
    if (essCertId.issuerSerial !== undefined && essCertId.issuerSerial.serialHex !== signer.serialNumberHex)
      throw new TokenProblem(`the ${name} issuerSerial does not name the signer's certificate`);
  } catch (error) {
    if (isParseFault(error)) throw new TokenProblem(`the signed attributes cannot be read: ${error.message}`);
    throw error;
  }

  const key = signer.tryPublicKey();
  if (key === undefined) throw new TokenProblem("the TSA certificate's public key cannot be read");
  const decision = signatureSchemeOf(si.signatureAlgorithm.der, key, { digestAlgorithm: si.digestAlgorithm.oid });
  if ('refused' in decision) throw new TokenProblem(decision.refused);
  if (!verifySignature(decision.scheme, key, si.signedAttrs.signedBytes, si.signature))
    throw new TokenProblem("the token's signature does not verify with the TSA certificate's key");

  const eku = signer.extensions.find((e) => e.oid === '2.5.29.37');
  if (eku === undefined || !eku.critical || signer.extKeyUsage?.length !== 1 || signer.extKeyUsage[0] !== OID.kpTimeStamping)
    throw new TokenProblem(
      'the signer certificate is not a TSA certificate (RFC 3161 §2.3: a critical extended key usage of id-kp-timeStamping only)',
    );
  return { tstInfo, signer, certificates };
}
