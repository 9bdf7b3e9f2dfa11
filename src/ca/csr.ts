import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { describeKey, type KeyDescription } from '../crypto/keys.js';
import { importSpkiFast } from '../crypto/spki-import.js';
import { keyFitsScheme, verifySignature, type HashName, type SignatureScheme } from '../crypto/signature.js';
import { children, decodeOid, readTlv, TAG } from './der.js';
import { nameAttributes } from './names.js';
import { CaError } from './errors.js';
import { looksLikePem, pemDecodeAll } from './pem.js';

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
  signatureAlgorithm: { oid: string; parameters: Buffer | undefined };
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
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.sequence || outer.end !== der.length) throw new RangeError('not one DER SEQUENCE');
    const [infoTlv, algorithmTlv, signatureTlv, extra] = children(der, outer);
    if (infoTlv?.tag !== TAG.sequence || algorithmTlv?.tag !== TAG.sequence || signatureTlv?.tag !== TAG.bitString || extra !== undefined) {
      throw new RangeError('not SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }');
    }
    const [version, subjectTlv, spkiTlv, attributes, more] = children(der, infoTlv);
    if (version?.tag !== TAG.integer || version.end - version.start !== 1 || der[version.start] !== 0) throw new RangeError('version must be 0 (v1)');
    if (subjectTlv?.tag !== TAG.sequence || spkiTlv?.tag !== TAG.sequence || attributes?.tag !== 0xa0 || more !== undefined) {
      throw new RangeError('unexpected certificationRequestInfo layout');
    }
    const [algorithmOid, parameters, extraParameter] = children(der, algorithmTlv);
    if (algorithmOid?.tag !== TAG.oid || extraParameter !== undefined) throw new RangeError('malformed signatureAlgorithm');
    if (der[signatureTlv.start] !== 0 || signatureTlv.end - signatureTlv.start < 2) throw new RangeError('the signature BIT STRING must have no unused bits');
    const subject = nameAttributes(der.subarray(subjectTlv.offset, subjectTlv.end)).map(({ oid, value }) => ({ oid, value }));
    return {
      der,
      info: der.subarray(infoTlv.offset, infoTlv.end),
      spki: der.subarray(spkiTlv.offset, spkiTlv.end),
      signatureAlgorithm: {
        oid: decodeOid(der.subarray(algorithmOid.start, algorithmOid.end)),
        parameters: parameters === undefined ? undefined : der.subarray(parameters.offset, parameters.end),
      },
      signature: der.subarray(signatureTlv.start + 1, signatureTlv.end),
      subject,
    };
  } catch (error) {
    if (error instanceof CaError) throw error;
    throw new CaError('ERR_CA_CSR_MALFORMED', `the CSR is not a DER PKCS#10 request: ${(error as Error).message}`, { cause: error });
  }
}

const HASH_OIDS: Record<string, HashName> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms whose digest is broken: named in the refusal. */
const WEAK: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'MD2 with RSA',
  '1.2.840.113549.1.1.4': 'MD5 with RSA',
  '1.2.840.113549.1.1.5': 'SHA-1 with RSA',
  '1.3.14.3.2.29': 'SHA-1 with RSA',
  '1.2.840.10045.4.1': 'ECDSA with SHA-1',
  '1.2.840.10040.4.3': 'DSA with SHA-1',
};

const NULL_DER = Buffer.from([0x05, 0x00]);

/**
 * The signature scheme of the request's AlgorithmIdentifier (allow-list: ECDSA and RSA PKCS#1
 * v1.5 with SHA-256/384/512, RSASSA-PSS with matching MGF1, Ed25519). MUST refuse SHA-1 and MD5
 * with ERR_CA_CSR_WEAK_SIGNATURE, anything else unknown with ERR_CA_CSR_UNSUPPORTED_ALGORITHM.
 */
export function csrSignatureScheme(algorithm: CertificationRequestData['signatureAlgorithm']): SignatureScheme {
  const weak = WEAK[algorithm.oid];
  if (weak !== undefined) {
    throw new CaError('ERR_CA_CSR_WEAK_SIGNATURE', `the CSR is signed with ${weak}; SHA-1 and MD5 signatures are refused (use SHA-256 or stronger)`, {
      detail: { algorithm: algorithm.oid },
    });
  }
  const noParams = algorithm.parameters === undefined;
  const nullOrNone = noParams || algorithm.parameters!.equals(NULL_DER);
  const ecdsa: Record<string, HashName> = { '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512' };
  const rsa: Record<string, HashName> = { '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512' };
  if (ecdsa[algorithm.oid] !== undefined && noParams) return { kind: 'ecdsa', hash: ecdsa[algorithm.oid]!, encoding: 'der' };
  if (rsa[algorithm.oid] !== undefined && nullOrNone) return { kind: 'rsa-pkcs1', hash: rsa[algorithm.oid]! };
  if (algorithm.oid === '1.3.101.112' && noParams) return { kind: 'ed25519' };
  if (algorithm.oid === '1.2.840.113549.1.1.10' && algorithm.parameters !== undefined) return pssScheme(algorithm.parameters);
  throw new CaError('ERR_CA_CSR_UNSUPPORTED_ALGORITHM', `the CSR's signature algorithm ${algorithm.oid} is not accepted (ECDSA, RSA or RSA-PSS with SHA-256/384/512, or Ed25519)`, {
    detail: { algorithm: algorithm.oid },
  });
}

function pssScheme(parameters: Buffer): SignatureScheme {
  let params: RsaSaPssParams;
  try {
    params = AsnConvert.parse(parameters, RsaSaPssParams);
  } catch (error) {
    throw new CaError('ERR_CA_CSR_MALFORMED', 'the CSR has malformed RSASSA-PSS parameters', { cause: error });
  }
  const hashOid = params.hashAlgorithm.algorithm;
  if (hashOid === '1.3.14.3.2.26') {
    throw new CaError('ERR_CA_CSR_WEAK_SIGNATURE', 'the CSR is signed with RSASSA-PSS over SHA-1; SHA-1 signatures are refused', { detail: { algorithm: 'RSASSA-PSS/SHA-1' } });
  }
  const hash = HASH_OIDS[hashOid];
  let mgfHash: HashName | undefined;
  if (params.maskGenAlgorithm.algorithm === '1.2.840.113549.1.1.8' && params.maskGenAlgorithm.parameters) {
    try {
      mgfHash = HASH_OIDS[AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm];
    } catch {
      mgfHash = undefined;
    }
  }
  if (hash === undefined || mgfHash !== hash || params.trailerField !== 1) {
    throw new CaError('ERR_CA_CSR_UNSUPPORTED_ALGORITHM', 'the CSR uses RSASSA-PSS parameters other than SHA-256/384/512 with MGF1 and trailer 1', {
      detail: { algorithm: 'RSASSA-PSS' },
    });
  }
  return { kind: 'rsa-pss', hash, saltLength: params.saltLength };
}

/**
 * Proof of possession (RFC 2986 §3 / RFC 4211 §4): the request's self-signature over
 * certificationRequestInfo MUST verify under the key it asks to certify.
 */
export function checkProofOfPossession(request: CertificationRequestData, scheme: SignatureScheme): KeyObject {
  let key: KeyObject;
  try {
    key = importSpkiFast(request.spki);
  } catch (error) {
    throw new CaError('ERR_CA_CSR_MALFORMED', 'the CSR\'s public key cannot be read', { cause: error });
  }
  const fits = keyFitsScheme(scheme, key);
  if (fits !== true) throw new CaError('ERR_CA_CSR_SIGNATURE', `the CSR's signature algorithm does not match its key: ${fits.reason}`);
  if (!verifySignature(scheme, key, request.info, request.signature)) {
    throw new CaError('ERR_CA_CSR_SIGNATURE', 'the CSR\'s self-signature does not verify: no proof of possession of the private key');
  }
  return key;
}

/**
 * The key policy (DESIGN.md § Certificates): ECDSA P-256 or P-384, Ed25519, RSA 2048–4096 bits
 * with an odd public exponent ≥ 65537. Anything else is refused with a reason naming it.
 */
export function checkKeyPolicy(key: KeyObject): KeyDescription {
  const d = describeKey(key);
  const refuse = (what: string): never => {
    throw new CaError('ERR_CA_KEY_POLICY', `${what} is not accepted; use ECDSA P-256 or P-384, Ed25519, or RSA with 2048 to 4096 bits`, {
      detail: { key: d },
    });
  };
  switch (d.type) {
    case 'ec': {
      const curve = (d as { curve: string }).curve;
      if (curve !== 'P-256' && curve !== 'P-384') refuse(`an EC key on curve ${curve}`);
      return d;
    }
    case 'ed25519':
      return d;
    case 'rsa':
    case 'rsa-pss': {
      const bits = (d as { bits: number }).bits;
      if (bits < 2048) refuse(`an RSA key of ${bits} bits (under 2048)`);
      if (bits > 4096) refuse(`an RSA key of ${bits} bits (over 4096)`);
      const exponent = key.asymmetricKeyDetails?.publicExponent;
      if (exponent !== undefined && (exponent < 65537n || exponent % 2n === 0n)) refuse(`an RSA key with public exponent ${exponent}`);
      return d;
    }
    default:
      return refuse(`a ${d.type} key`);
  }
}

/** The whole front of the pipeline: decode, parse, algorithm allow-list, proof of possession, key policy. */
export function acceptCertificationRequest(input: Uint8Array | string): CertificationRequestData & { publicKey: KeyObject; key: KeyDescription } {
  const request = parseCertificationRequest(decodeCsrInput(input));
  const scheme = csrSignatureScheme(request.signatureAlgorithm);
  const publicKey = checkProofOfPossession(request, scheme);
  const key = checkKeyPolicy(publicKey);
  return { ...request, publicKey, key };
}
