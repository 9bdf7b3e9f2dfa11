import type { KeyObject } from 'node:crypto';
import { describeKey, type KeyDescription } from '../crypto/keys.js';
import { importSpki } from '../crypto/keys.js';
import { verifySignature } from '../crypto/signature.js';
import { looksLikePem, pemDecodeAll } from '../der/pem.js';
import { checkDerTree, childrenOf, readBitString, readDer, readOid } from '../der/reader.js';
import { TAG } from '../der/tags.js';
import { publicKeyAcceptable, signatureSchemeOf } from '../verify/algorithms.js';
import { CaError } from './errors.js';
import { nameAttributes } from './names.js';

/**
 * PKCS#10 (RFC 2986) requests: decoding, proof of possession and the key policy. Each step is
 * its own function so the issuance pipeline reads as the checklist it is.
 */

/** Largest CSR accepted (an RSA-4096 request with a long subject is under 2 KiB). */
export const MAX_CSR_BYTES = 16 * 1024;

export interface CertificationRequestData {
  der: Buffer;
  /** The exact DER of certificationRequestInfo, which the self-signature covers. */
  info: Buffer;
  /** The exact DER SubjectPublicKeyInfo of the request. */
  spki: Buffer;
  /** The AlgorithmIdentifier: OID, parameters (DER, when present) and its whole DER. */
  signatureAlgorithm: { oid: string; parameters: Buffer | undefined; der: Buffer };
  signature: Buffer;
  /** Subject attributes as given (informational: the CA decides the subject). */
  subject: Array<{ oid: string; value: string }>;
}

/** PEM (CERTIFICATE REQUEST / NEW CERTIFICATE REQUEST) or DER bytes → the request's DER. */
export function decodeCsrInput(input: Uint8Array | string): Buffer {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  if (bytes.length > MAX_CSR_BYTES) {
    throw new CaError('ERR_CA_CSR_MALFORMED', `the CSR is larger than ${MAX_CSR_BYTES} bytes`, { detail: { limit: MAX_CSR_BYTES } });
  }
  if (!looksLikePem(bytes)) return bytes;
  const blocks = pemDecodeAll(bytes.toString('latin1'), ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  if (blocks === undefined) throw new CaError('ERR_CA_CSR_MALFORMED', 'the CSR PEM block is not valid base64');
  if (blocks.length !== 1) throw new CaError('ERR_CA_CSR_MALFORMED', `expected one CERTIFICATE REQUEST PEM block, found ${blocks.length}`);
  return blocks[0]!;
}

/**
 * Parses the DER structure (no signature check yet) with the strict DER reader, keeping the exact
 * bytes of certificationRequestInfo and of the SubjectPublicKeyInfo. MUST refuse trailing bytes,
 * BER lengths and any other layout:
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name, subjectPKInfo, attributes [0] }
 */
export function parseCertificationRequest(der: Buffer): CertificationRequestData {
  try {
    const outer = readDer(der, 'the CSR');
    if (outer.tag !== TAG.SEQUENCE) throw new RangeError('not one DER SEQUENCE');
    const [infoTlv, algorithmTlv, signatureTlv, extra] = childrenOf(outer, 'the CSR');
    if (
      infoTlv?.tag !== TAG.SEQUENCE ||
      algorithmTlv?.tag !== TAG.SEQUENCE ||
      signatureTlv?.tag !== TAG.BIT_STRING ||
      extra !== undefined
    ) {
      throw new RangeError('not SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }');
    }
    const [version, subjectTlv, spkiTlv, attributes, more] = childrenOf(infoTlv, 'certificationRequestInfo');
    if (version?.tag !== TAG.INTEGER || version.value.length !== 1 || version.value[0] !== 0)
      throw new RangeError('version must be 0 (v1)');
    if (subjectTlv?.tag !== TAG.SEQUENCE || spkiTlv?.tag !== TAG.SEQUENCE || attributes?.tag !== 0xa0 || more !== undefined) {
      throw new RangeError('unexpected certificationRequestInfo layout');
    }
    // The signature covers the DER of certificationRequestInfo (RFC 2986 §4.2), and its
    // SubjectPublicKeyInfo goes into the certificate verbatim (RFC 5280 §4.1.2.7): all of it must
    // be DER (X.690 §10), and the key an AlgorithmIdentifier and a BIT STRING.
    checkDerTree(infoTlv, 'certificationRequestInfo');
    const [keyAlgorithm, keyBits, moreKey] = childrenOf(spkiTlv, 'subjectPKInfo');
    if (keyAlgorithm?.tag !== TAG.SEQUENCE || moreKey !== undefined) throw new RangeError('malformed subjectPKInfo');
    const [keyOid, , moreKeyParameters] = childrenOf(keyAlgorithm, 'the public key algorithm');
    readOid(keyOid, 'the public key algorithm');
    if (moreKeyParameters !== undefined) throw new RangeError('malformed subjectPKInfo algorithm');
    readBitString(keyBits, 'the subject public key');
    const [algorithmOid, parameters, extraParameter] = childrenOf(algorithmTlv, 'signatureAlgorithm');
    if (algorithmOid?.tag !== TAG.OID || extraParameter !== undefined) throw new RangeError('malformed signatureAlgorithm');
    if (signatureTlv.value[0] !== 0 || signatureTlv.value.length < 2)
      throw new RangeError('the signature BIT STRING must have no unused bits');
    const subject = nameAttributes(subjectTlv.bytes).map(({ oid, value }) => ({ oid, value }));
    return {
      der,
      info: Buffer.from(infoTlv.bytes.buffer, infoTlv.bytes.byteOffset, infoTlv.bytes.byteLength),
      spki: Buffer.from(spkiTlv.bytes.buffer, spkiTlv.bytes.byteOffset, spkiTlv.bytes.byteLength),
      signatureAlgorithm: {
        oid: readOid(algorithmOid, 'the signature algorithm'),
        parameters:
          parameters === undefined
            ? undefined
            : Buffer.from(parameters.bytes.buffer, parameters.bytes.byteOffset, parameters.bytes.byteLength),
        der: Buffer.from(algorithmTlv.bytes.buffer, algorithmTlv.bytes.byteOffset, algorithmTlv.bytes.byteLength),
      },
      signature: Buffer.from(signatureTlv.value.buffer, signatureTlv.value.byteOffset + 1, signatureTlv.value.byteLength - 1),
      subject,
    };
  } catch (error) {
    if (error instanceof CaError) throw error;
    throw new CaError('ERR_CA_CSR_MALFORMED', `the CSR is not a DER PKCS#10 request: ${(error as Error).message}`, { cause: error });
  }
}

/** Signature algorithms whose digest is broken: refused with their name (before anything else). */
const WEAK: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'MD2 with RSA',
  '1.2.840.113549.1.1.4': 'MD5 with RSA',
  '1.2.840.113549.1.1.5': 'SHA-1 with RSA',
  '1.3.14.3.2.29': 'SHA-1 with RSA',
  '1.2.840.10045.4.1': 'ECDSA with SHA-1',
  '1.2.840.10040.4.3': 'DSA with SHA-1',
};

/** MUST refuse SHA-1 and MD5 signatures with ERR_CA_CSR_WEAK_SIGNATURE, naming them. */
export function checkSignatureDigest(algorithm: CertificationRequestData['signatureAlgorithm']): void {
  const weak = WEAK[algorithm.oid];
  // RSASSA-PSS without parameters, or with SHA-1 (OID 1.3.14.3.2.26 inside them), is SHA-1 too.
  const pssSha1 =
    algorithm.oid === '1.2.840.113549.1.1.10' && (algorithm.parameters === undefined || algorithm.parameters.includes(SHA1_OID_DER));
  if (weak !== undefined || pssSha1) {
    throw new CaError(
      'ERR_CA_CSR_WEAK_SIGNATURE',
      `the CSR is signed with ${weak ?? 'RSASSA-PSS over SHA-1'}; SHA-1 and MD5 signatures are refused (use SHA-256 or stronger)`,
      {
        detail: { algorithm: algorithm.oid },
      },
    );
  }
}
const SHA1_OID_DER = Buffer.from('06052b0e03021a', 'hex');

/**
 * The key policy, Chancery's one algorithm policy
 * (`publicKeyAcceptable`, src/verify/algorithms.ts): ECDSA P-256 or P-384, Ed25519, RSA 2048–4096
 * bits with an odd public exponent ≥ 65537. Anything else is refused with a reason naming it.
 */
export function checkKeyPolicy(spki: Buffer): { publicKey: KeyObject; key: KeyDescription } {
  let publicKey: KeyObject;
  try {
    publicKey = importSpki(spki);
  } catch (error) {
    throw new CaError('ERR_CA_CSR_MALFORMED', "the CSR's public key cannot be read", { cause: error });
  }
  const acceptable = publicKeyAcceptable(publicKey);
  if ('refused' in acceptable) {
    throw new CaError('ERR_CA_KEY_POLICY', `${acceptable.refused}; use ECDSA P-256 or P-384, Ed25519, or RSA with 2048 to 4096 bits`, {
      detail: { key: describeKey(publicKey) },
    });
  }
  return { publicKey, key: describeKey(publicKey) };
}

/**
 * Proof of possession (RFC 2986 §3): the request's self-signature over certificationRequestInfo
 * MUST verify under the key it asks to certify, with a signature algorithm the policy accepts
 * for that key (`signatureSchemeOf`: ECDSA/RSA/RSA-PSS with SHA-256/384/512, Ed25519).
 */
export function checkProofOfPossession(request: CertificationRequestData, publicKey: KeyObject): void {
  const decision = signatureSchemeOf(request.signatureAlgorithm.der, publicKey);
  if ('refused' in decision) {
    throw new CaError('ERR_CA_CSR_UNSUPPORTED_ALGORITHM', `the CSR's signature algorithm is not accepted: ${decision.refused}`, {
      detail: { algorithm: request.signatureAlgorithm.oid },
    });
  }
  if (!verifySignature(decision.scheme, publicKey, request.info, request.signature)) {
    throw new CaError('ERR_CA_CSR_SIGNATURE', "the CSR's self-signature does not verify: no proof of possession of the private key");
  }
}

/**
 * The front of the issuance pipeline: decode, strict parse, refuse weak digests by name, key
 * policy, then proof of possession under the accepted signature algorithm. (The key policy runs
 * before the signature check because verifying under a refused key proves nothing.)
 */
export function acceptCertificationRequest(
  input: Uint8Array | string,
): CertificationRequestData & { publicKey: KeyObject; key: KeyDescription } {
  const request = parseCertificationRequest(decodeCsrInput(input));
  checkSignatureDigest(request.signatureAlgorithm);
  const { publicKey, key } = checkKeyPolicy(request.spki);
  checkProofOfPossession(request, publicKey);
  return { ...request, publicKey, key };
}
