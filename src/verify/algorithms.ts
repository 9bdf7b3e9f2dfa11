import type { KeyObject } from 'node:crypto';
import { describeKey } from '../crypto/keys.js';
import type { HashName, SignatureScheme } from '../crypto/signature.js';
import { childrenOf, expectTag, readDer, readSmallInteger } from '../der/reader.js';
import { TAG } from '../der/tags.js';
import { explicit, nullValue, oid, sequence, smallInteger } from '../der/writer.js';
import { parseAlgorithmIdentifier } from './algorithm-identifier.js';
import type { AlgorithmIdentifier } from './certificate-types.js';
import { isParseFault } from './errors.js';

/**
 * Chancery's algorithm policy: an allow-list, never a deny-list.
 * Accepted: ECDSA on P-256 or P-384 with SHA-256/384/512; Ed25519; RSA 2048–4096 bits (whole
 * octets, odd public exponent ≥ 65537) with PKCS#1 v1.5 or PSS (SHA-256/384/512, MGF1 with the
 * same hash, salt from the hash length up to the maximum the key allows, trailer field 1). Everything else is refused with a
 * sentence naming the algorithm, which becomes CRYPTO_CONSTRAINTS_FAILURE in a report.
 */

/** Signature and hash algorithm OIDs (RFC 5758, RFC 8410, RFC 4055, RFC 8017). */
export const ALG = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** Names of algorithms people meet, accepted or not, so a refusal names what it refused. */
const ALGORITHM_NAMES: Record<string, string> = {
  [ALG.ecdsaWithSha256]: 'ecdsa-with-SHA256',
  [ALG.ecdsaWithSha384]: 'ecdsa-with-SHA384',
  [ALG.ecdsaWithSha512]: 'ecdsa-with-SHA512',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  [ALG.ed25519]: 'Ed25519',
  '1.3.101.113': 'Ed448',
  [ALG.sha256WithRsa]: 'sha256WithRSAEncryption',
  [ALG.sha384WithRsa]: 'sha384WithRSAEncryption',
  [ALG.sha512WithRsa]: 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  [ALG.rsassaPss]: 'RSASSA-PSS',
  [ALG.rsaEncryption]: 'rsaEncryption',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
  '1.2.156.10197.1.501': 'SM2-with-SM3',
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  [ALG.sha256]: 'SHA-256',
  [ALG.sha384]: 'SHA-384',
  [ALG.sha512]: 'SHA-512',
  '1.2.840.113549.2.5': 'MD5',
};

/** The readable name of an algorithm OID (the OID itself when unknown). */
export function algorithmName(oid: string): string {
  return ALGORITHM_NAMES[oid] ?? oid;
}

/** Either the exact scheme to verify with, or a refusal that names the algorithm. */
export type SchemeDecision = { scheme: SignatureScheme } | { refused: string };

export interface SchemeOptions {
  /**
   * CMS only (RFC 5652 §5.3, RFC 5754 §3.2): when the SignerInfo's signatureAlgorithm is plain
   * rsaEncryption, the hash comes from its digestAlgorithm OID.
   */
  digestAlgorithm?: string;
}

/**
 * An algorithm policy, as the path validator and the revocation sources take it (default
 * CHANCERY_ALGORITHMS): how a signature is verified, and which subject keys are acceptable.
 */
export interface AlgorithmPolicy {
  signatureScheme(algorithm: AlgorithmIdentifier, publicKey: KeyObject, options?: SchemeOptions): SchemeDecision;
  publicKey(publicKey: KeyObject): { ok: true } | { refused: string };
}

const HASH_BY_OID: Record<string, HashName> = { [ALG.sha256]: 'sha256', [ALG.sha384]: 'sha384', [ALG.sha512]: 'sha512' };
const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * Decides how a signature made with `algorithm` by `publicKey` is verified under Chancery's
 * policy. MUST be called before `verifySignature`: it refuses forbidden algorithms, parameters,
 * curves and key sizes, and any key that does not fit the algorithm.
 */
export function signatureSchemeOf(
  algorithm: AlgorithmIdentifier | Uint8Array,
  publicKey: KeyObject,
  options: SchemeOptions = {},
): SchemeDecision {
  let alg: AlgorithmIdentifier;
  try {
    alg =
      algorithm instanceof Uint8Array
        ? parseAlgorithmIdentifier(readDer(algorithm, 'the algorithm identifier'), 'the algorithm identifier')
        : algorithm;
  } catch (error) {
    if (isParseFault(error)) return { refused: `the signature algorithm identifier cannot be read: ${error.message}` };
    throw error;
  }
  const name = algorithmName(alg.oid);
  switch (alg.oid) {
    case ALG.ecdsaWithSha256:
    case ALG.ecdsaWithSha384:
    case ALG.ecdsaWithSha512: {
      // RFC 5758 §3.2: the parameters field MUST be absent.
      if (alg.parameters !== undefined) return { refused: `${name} with parameters is not a valid algorithm identifier (RFC 5758 §3.2)` };
      const keyOk = checkKey(publicKey, 'ec');
      if ('refused' in keyOk) return { refused: `${name}: ${keyOk.refused}` };
      const hash: HashName = alg.oid === ALG.ecdsaWithSha256 ? 'sha256' : alg.oid === ALG.ecdsaWithSha384 ? 'sha384' : 'sha512';
      return { scheme: { kind: 'ecdsa', hash, encoding: 'der' } };
    }
    case ALG.ed25519: {
      // RFC 8410 §3: parameters MUST be absent.
      if (alg.parameters !== undefined) return { refused: 'Ed25519 with parameters is not a valid algorithm identifier (RFC 8410 §3)' };
      const keyOk = checkKey(publicKey, 'ed25519');
      if ('refused' in keyOk) return { refused: `Ed25519: ${keyOk.refused}` };
      return { scheme: { kind: 'ed25519' } };
    }
    case ALG.sha256WithRsa:
    case ALG.sha384WithRsa:
    case ALG.sha512WithRsa:
    case ALG.rsaEncryption: {
      // RFC 4055 §5: parameters NULL, and absent MUST be accepted too.
      if (alg.parameters !== undefined && !isNull(alg.parameters))
        return { refused: `${name} with parameters other than NULL is not valid (RFC 4055 §5)` };
      let hash: HashName | undefined;
      if (alg.oid === ALG.rsaEncryption) {
        hash = options.digestAlgorithm === undefined ? undefined : HASH_BY_OID[options.digestAlgorithm];
        if (hash === undefined) {
          return {
            refused: `rsaEncryption with ${options.digestAlgorithm === undefined ? 'no digest algorithm' : algorithmName(options.digestAlgorithm)} is not an accepted signature algorithm`,
          };
        }
      } else {
        hash = alg.oid === ALG.sha256WithRsa ? 'sha256' : alg.oid === ALG.sha384WithRsa ? 'sha384' : 'sha512';
      }
      const keyOk = checkKey(publicKey, 'rsa');
      if ('refused' in keyOk) return { refused: `${name}: ${keyOk.refused}` };
      return { scheme: { kind: 'rsa-pkcs1', hash } };
    }
    case ALG.rsassaPss: {
      const params = parsePssParameters(alg.parameters);
      if ('refused' in params) return params;
      const keyOk = checkKey(publicKey, 'rsa-pss');
      if ('refused' in keyOk) return { refused: `RSASSA-PSS: ${keyOk.refused}` };
      const saltOk = checkPssSalt(params.hash, params.saltLength, (describeKey(publicKey) as { bits: number }).bits);
      if ('refused' in saltOk) return saltOk;
      return { scheme: { kind: 'rsa-pss', hash: params.hash, saltLength: params.saltLength } };
    }
    default:
      return {
        refused: `the signature algorithm ${name}${name === alg.oid ? '' : ` (${alg.oid})`} is not accepted by Chancery's algorithm policy`,
      };
  }
}

/**
 * The scheme for a JOSE `alg` (RFC 7518 §3, RFC 8037) under the same policy: ES256 (P-256),
 * ES384 (P-384), EdDSA (Ed25519), RS256/384/512, PS256/384/512 (salt = hash length). JOSE ECDSA
 * signatures are r‖s, so the scheme uses the IEEE P1363 encoding.
 */
export function joseSignatureScheme(alg: string, publicKey: KeyObject): SchemeDecision {
  const m = /^(ES|RS|PS)(256|384|512)$/.exec(alg);
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    const keyOk = checkKey(publicKey, 'ed25519');
    return 'refused' in keyOk ? { refused: `${alg}: ${keyOk.refused}` } : { scheme: { kind: 'ed25519' } };
  }
  if (m === null) return { refused: `the JOSE algorithm ${JSON.stringify(alg)} is not accepted by Chancery's algorithm policy` };
  const hash = `sha${m[2]}` as HashName;
  switch (m[1]) {
    case 'ES': {
      const curve = m[2] === '256' ? 'P-256' : m[2] === '384' ? 'P-384' : undefined;
      const d = describeKey(publicKey);
      if (curve === undefined) return { refused: `${alg} (P-521) is not accepted by Chancery's algorithm policy` };
      if (d.type !== 'ec' || (d as { curve: string }).curve !== curve) return { refused: `${alg} needs a ${curve} key` };
      return { scheme: { kind: 'ecdsa', hash, encoding: 'ieee-p1363' } };
    }
    case 'RS': {
      const keyOk = checkKey(publicKey, 'rsa');
      return 'refused' in keyOk ? { refused: `${alg}: ${keyOk.refused}` } : { scheme: { kind: 'rsa-pkcs1', hash } };
    }
    default: {
      const keyOk = checkKey(publicKey, 'rsa-pss');
      return 'refused' in keyOk
        ? { refused: `${alg}: ${keyOk.refused}` }
        : { scheme: { kind: 'rsa-pss', hash, saltLength: HASH_LENGTH[hash] } };
    }
  }
}

/**
 * Whether a public key is one Chancery accepts at all (any certificate's subject key):
 * P-256/P-384, Ed25519, RSA 2048–4096 in whole octets with an odd exponent ≥ 65537.
 */
export function publicKeyAcceptable(publicKey: KeyObject): { ok: true } | { refused: string } {
  const d = describeKey(publicKey);
  switch (d.type) {
    case 'ec':
      return checkKey(publicKey, 'ec');
    case 'ed25519':
      return { ok: true };
    case 'rsa':
    case 'rsa-pss':
      return checkKey(publicKey, 'rsa-pss');
    default:
      return { refused: `${d.type} keys are not accepted by Chancery's algorithm policy` };
  }
}

/** Chancery's algorithm policy. */
export const CHANCERY_ALGORITHMS: AlgorithmPolicy = Object.freeze({
  signatureScheme: (algorithm: AlgorithmIdentifier, publicKey: KeyObject, options?: SchemeOptions) =>
    signatureSchemeOf(algorithm, publicKey, options),
  publicKey: (publicKey: KeyObject) => publicKeyAcceptable(publicKey),
});

/** A readable description of a key: "EC P-256", "RSA 3072", "Ed25519". */
export function keyDescription(publicKey: KeyObject): string {
  const d = describeKey(publicKey);
  if (d.type === 'ec') return `EC ${(d as { curve: string }).curve}`;
  if (d.type === 'rsa' || d.type === 'rsa-pss') return `${d.type === 'rsa' ? 'RSA' : 'RSA-PSS'} ${(d as { bits: number }).bits}`;
  if (d.type === 'ed25519') return 'Ed25519';
  return d.type;
}

function checkKey(publicKey: KeyObject, want: 'ec' | 'ed25519' | 'rsa' | 'rsa-pss'): { ok: true } | { refused: string } {
  const d = describeKey(publicKey);
  switch (want) {
    case 'ec': {
      if (d.type !== 'ec') return { refused: `the key is ${d.type}, not EC` };
      const curve = (d as { curve: string }).curve;
      return curve === 'P-256' || curve === 'P-384'
        ? { ok: true }
        : { refused: `the EC curve ${curve} is not accepted (P-256 and P-384 are)` };
    }
    case 'ed25519':
      return d.type === 'ed25519' ? { ok: true } : { refused: `the key is ${d.type}, not Ed25519` };
    case 'rsa':
    case 'rsa-pss': {
      // A PKCS#1 v1.5 signature needs a plain rsaEncryption key; PSS may use either key type.
      if (d.type !== 'rsa' && !(want === 'rsa-pss' && d.type === 'rsa-pss')) return { refused: `the key is ${d.type}, not RSA` };
      const bits = (d as { bits: number }).bits;
      if (bits < 2048 || bits > 4096) return { refused: `an RSA key of ${bits} bits is outside 2048–4096` };
      if (bits % 8 !== 0) return { refused: `an RSA modulus of ${bits} bits is not a whole number of octets` };
      const e = publicKey.asymmetricKeyDetails?.publicExponent;
      if (e === undefined || e < 65537n || e % 2n === 0n)
        return { refused: `the RSA public exponent ${String(e)} is not an odd number ≥ 65537` };
      return { ok: true };
    }
  }
}

function isNull(der: Buffer): boolean {
  return der.length === 2 && der[0] === TAG.NULL && der[1] === 0;
}

/** RSASSA-PSS-params (RFC 4055 §3.1) restricted to the accepted combinations. */
function parsePssParameters(parameters: Buffer | undefined): { hash: HashName; saltLength: number } | { refused: string } {
  if (parameters === undefined) return { refused: 'RSASSA-PSS without parameters means SHA-1, which is not accepted' };
  try {
    const parts = childrenOf(
      expectTag(readDer(parameters, 'the RSASSA-PSS parameters'), TAG.SEQUENCE, 'the RSASSA-PSS parameters'),
      'the RSASSA-PSS parameters',
    );
    let k = 0;
    let hashOid: string | undefined;
    let mgfOid: string | undefined;
    let mgfHashOid: string | undefined;
    let saltLength = 20;
    let trailer = 1;
    if (parts[k]?.tag === 0xa0) {
      const inner = childrenOf(parts[k++]!, 'hashAlgorithm');
      const h = parseAlgorithmIdentifier(inner[0], 'hashAlgorithm');
      if (inner.length !== 1 || (h.parameters !== undefined && !isNull(h.parameters)))
        return { refused: 'RSASSA-PSS hashAlgorithm is malformed' };
      hashOid = h.oid;
    }
    if (parts[k]?.tag === 0xa1) {
      const inner = childrenOf(parts[k++]!, 'maskGenAlgorithm');
      const mgf = parseAlgorithmIdentifier(inner[0], 'maskGenAlgorithm');
      mgfOid = mgf.oid;
      if (mgf.parameters !== undefined) {
        const mh = parseAlgorithmIdentifier(readDer(mgf.parameters, 'the MGF1 hash'), 'the MGF1 hash');
        if (mh.parameters !== undefined && !isNull(mh.parameters)) return { refused: 'RSASSA-PSS MGF1 hash is malformed' };
        mgfHashOid = mh.oid;
      }
    }
    if (parts[k]?.tag === 0xa2) saltLength = readSmallInteger(childrenOf(parts[k++]!, 'saltLength')[0], 'saltLength');
    if (parts[k]?.tag === 0xa3) trailer = readSmallInteger(childrenOf(parts[k++]!, 'trailerField')[0], 'trailerField');
    if (k !== parts.length) return { refused: 'RSASSA-PSS parameters have unexpected fields' };
    const hash = hashOid === undefined ? undefined : HASH_BY_OID[hashOid];
    if (hash === undefined)
      return { refused: `RSASSA-PSS with ${hashOid === undefined ? 'SHA-1 (the default)' : algorithmName(hashOid)} is not accepted` };
    if (mgfOid !== ALG.mgf1)
      return {
        refused: `RSASSA-PSS with mask generation ${mgfOid === undefined ? 'MGF1-SHA-1 (the default)' : algorithmName(mgfOid)} is not accepted`,
      };
    if (mgfHashOid !== hashOid)
      return {
        refused: `RSASSA-PSS with MGF1 over ${mgfHashOid === undefined ? 'SHA-1' : algorithmName(mgfHashOid)} and message hash ${algorithmName(hashOid!)} is not accepted (they must be equal)`,
      };
    if (trailer !== 1) return { refused: `RSASSA-PSS trailer field ${trailer} is not accepted` };
    return { hash, saltLength };
  } catch (error) {
    if (isParseFault(error)) return { refused: `the RSASSA-PSS parameters cannot be read: ${error.message}` };
    throw error;
  }
}

/**
 * The salt length rule: at least the hash length (shorter salts weaken the security proof), at
 * most what the encoded message leaves room for, emLen − hLen − 2 with emLen = ⌈(modBits − 1)/8⌉
 * (RFC 8017 §9.1.1 step 3). The maximum is what `openssl cms -sign -keyopt rsa_padding_mode:pss`
 * uses by default: 222 octets for RSA-2048 with SHA-256.
 */
function checkPssSalt(hash: HashName, saltLength: number, modulusBits: number): { ok: true } | { refused: string } {
  const hLen = HASH_LENGTH[hash];
  const max = Math.ceil((modulusBits - 1) / 8) - hLen - 2;
  if (saltLength < hLen || saltLength > max)
    return {
      refused: `RSASSA-PSS with a ${saltLength}-octet salt is not accepted (from the hash length, ${hLen} octets, up to ${max} octets for this ${modulusBits}-bit key, RFC 8017 §9.1)`,
    };
  return { ok: true };
}

/** DER of an AlgorithmIdentifier for RSASSA-PSS with the given hash (for tests and harnesses). */
export function pssAlgorithmIdentifier(hash: HashName): AlgorithmIdentifier {
  const hashOid = { sha256: ALG.sha256, sha384: ALG.sha384, sha512: ALG.sha512 }[hash];
  const hashAlg = sequence(oid(hashOid), nullValue());
  const params = sequence(
    explicit(0, hashAlg),
    explicit(1, sequence(oid(ALG.mgf1), hashAlg)),
    explicit(2, smallInteger(HASH_LENGTH[hash])),
  );
  const der = sequence(oid(ALG.rsassaPss), params);
  return { oid: ALG.rsassaPss, parameters: params, der };
}

/** An AlgorithmIdentifier with no parameters (or NULL), for tests and harnesses. */
export function simpleAlgorithmIdentifier(algOid: string, nullParameters = false): AlgorithmIdentifier {
  const parameters = nullParameters ? nullValue() : undefined;
  const der = parameters === undefined ? sequence(oid(algOid)) : sequence(oid(algOid), parameters);
  return { oid: algOid, parameters, der };
}
