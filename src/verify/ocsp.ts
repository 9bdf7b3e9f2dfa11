import { identifierDigest } from '../crypto/digest.js';
import {
  childrenOf,
  expectTag,
  readBitString,
  readDer,
  readOctets,
  readOid,
  readSmallInteger,
  readTime,
  toHex,
  type DerElement,
} from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { CERT_ID_HASH_BY_OID, OID } from '../oids.js';
import { parseAlgorithmIdentifier } from './algorithm-identifier.js';
import { CHANCERY_ALGORITHMS, type AlgorithmPolicy } from './algorithms.js';
import { parseCertificate, type Certificate } from './certificate.js';
import type { AlgorithmIdentifier } from './certificate-types.js';
import { CRL_REASONS } from './crl.js';
import { asVerifyError, isParseFault, malformed } from './errors.js';
import { parseName } from './name.js';
import { PURPOSE_OCSP_SIGNING } from './path.js';
import { checkPurpose } from './path/process.js';
import { certificateSignedBy, verifySignedBytes } from './path/signatures.js';
import { normalizeSerial, type RevocationContext, type RevocationSource, type RevocationStatus } from './revocation.js';

/**
 * Supplied OCSP responses (RFC 6960) as a revocation source. A response is used for a
 * certificate only when one of its SingleResponses names exactly that certificate (CertID: hash
 * of the issuer's name and key, and the serial number), it is signed by the issuer itself or by a
 * responder the issuer delegated directly (id-kp-OCSPSigning, valid at the validation time, with
 * id-pkix-ocsp-nocheck or a path of its own that validates), its signature algorithm passes the
 * algorithm policy, and it is current (nextUpdate not passed; without nextUpdate, thisUpdate no
 * older than `maxAgeWithoutNextUpdateMs`).
 */

export interface OcspSingleResponse {
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialNumberHex: string;
  status: 'good' | 'revoked' | 'unknown';
  revokedAt: Date | undefined;
  reason: string | undefined;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Unknown critical single extensions make this answer unusable. */
  problems: string[];
}

export interface OcspResponse {
  der: Buffer;
  tbs: Buffer;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Buffer;
  producedAt: Date;
  responses: OcspSingleResponse[];
  certificates: Certificate[];
  problems: string[];
}

/**
 * Parses an OCSPResponse (or a bare BasicOCSPResponse). Throws ERR_VERIFY_MALFORMED on bad DER or
 * a response that is not `successful` with a basic response inside.
 */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  try {
    return decodeOcspResponse(der);
  } catch (error) {
    throw asVerifyError(error);
  }
}

/** True when the bytes are a readable OCSPResponse with status `successful` (what is worth keeping as validation data). */
export function isSuccessfulOcspResponse(der: Uint8Array): boolean {
  try {
    decodeOcspResponse(der);
    return true;
  } catch {
    return false;
  }
}

function decodeOcspResponse(der: Uint8Array): OcspResponse {
  const root = readDer(der, 'the OCSP response');
  const parts = childrenOf(expectTag(root, TAG.SEQUENCE, 'the OCSP response'), 'the OCSP response');
  let basic: DerElement = root;
  if (parts[0]?.tag === 0x0a) {
    const status = parts[0].value.length === 1 ? parts[0].value[0]! : -1;
    if (status !== 0)
      throw malformed(
        `the OCSP response status is ${['successful', 'malformedRequest', 'internalError', 'tryLater', '(4)', 'sigRequired', 'unauthorized'][status] ?? status}, not successful`,
      );
    const bytes = childrenOf(expectTag(parts[1], contextTag(0, true), 'responseBytes'), 'responseBytes');
    const [type, octets] = childrenOf(expectTag(bytes[0], TAG.SEQUENCE, 'responseBytes'), 'responseBytes');
    const responseType = readOid(type, 'the OCSP response type');
    if (responseType !== OID.ocspBasic) throw malformed(`the OCSP response type ${responseType} is not id-pkix-ocsp-basic`);
    basic = readDer(readOctets(octets, 'the basic OCSP response'), 'the basic OCSP response');
  }
  return decodeBasic(Buffer.from(der), basic);
}

function decodeBasic(der: Buffer, basic: DerElement): OcspResponse {
  const [tbsEl, algEl, sigEl, certsEl] = childrenOf(expectTag(basic, TAG.SEQUENCE, 'the basic OCSP response'), 'the basic OCSP response');
  const tbs = expectTag(tbsEl, TAG.SEQUENCE, 'tbsResponseData');
  const signatureAlgorithm = parseAlgorithmIdentifier(algEl, 'the OCSP signature algorithm');
  const signature = Buffer.from(readBitString(sigEl, 'the OCSP signature').bytes);
  const certificates: Certificate[] = [];
  if (certsEl !== undefined) {
    const list = childrenOf(expectTag(certsEl, contextTag(0, true), 'the OCSP certificates'), 'the OCSP certificates');
    for (const c of childrenOf(expectTag(list[0], TAG.SEQUENCE, 'the OCSP certificates'), 'the OCSP certificates'))
      certificates.push(parseCertificate(c.bytes));
  }
  const f = childrenOf(tbs, 'tbsResponseData');
  const problems: string[] = [];
  let i = 0;
  if (f[i]?.tag === contextTag(0, true)) {
    const v = readSmallInteger(childrenOf(f[i++]!, 'the OCSP version')[0], 'the OCSP version');
    if (v !== 0) throw malformed(`the OCSP response version ${v + 1} is unknown`);
  }
  const rid = f[i++];
  if (rid?.tag === contextTag(1, true)) parseName(childrenOf(rid, 'responderID')[0]!, 'the responder name');
  else if (rid?.tag === contextTag(2, true)) readOctets(childrenOf(rid, 'responderID')[0], 'the responder key hash');
  else throw malformed('the OCSP responderID is missing or malformed');
  const producedAt = readTime(f[i++], 'producedAt');
  const responses = childrenOf(expectTag(f[i++], TAG.SEQUENCE, 'the OCSP responses'), 'the OCSP responses').map(parseSingle);
  if (f[i]?.tag === contextTag(1, true)) {
    for (const ext of extensions(childrenOf(f[i++]!, 'responseExtensions')[0]!)) {
      // The nonce (1.3.6.1.5.5.7.48.1.2) and others are informative here; only critical unknowns matter.
      if (ext.critical && ext.oid !== OID.ocspNonce)
        problems.push(`the OCSP response has a critical extension Chancery does not process: ${ext.oid}`);
    }
  }
  if (i !== f.length) throw malformed('tbsResponseData has unexpected trailing fields');
  return { der, tbs: Buffer.from(tbs.bytes), signatureAlgorithm, signature, producedAt, responses, certificates, problems };
}

function parseSingle(el: DerElement): OcspSingleResponse {
  const f = childrenOf(expectTag(el, TAG.SEQUENCE, 'a single response'), 'a single response');
  const certId = childrenOf(expectTag(f[0], TAG.SEQUENCE, 'the CertID'), 'the CertID');
  const hashAlgorithm = parseAlgorithmIdentifier(certId[0], 'the CertID hash algorithm').oid;
  const issuerNameHash = Buffer.from(readOctets(certId[1], 'issuerNameHash'));
  const issuerKeyHash = Buffer.from(readOctets(certId[2], 'issuerKeyHash'));
  const serialNumberHex = normalizeSerial(toHex(expectTag(certId[3], TAG.INTEGER, 'the CertID serial number').value));
  const statusEl = f[1];
  let status: OcspSingleResponse['status'];
  let revokedAt: Date | undefined;
  let reason: string | undefined;
  if (statusEl?.tag === 0x80) status = 'good';
  else if (statusEl?.tag === 0xa1) {
    status = 'revoked';
    const info = childrenOf(statusEl, 'RevokedInfo');
    revokedAt = readTime(info[0], 'revocationTime');
    if (info[1] !== undefined) {
      const code = childrenOf(expectTag(info[1], contextTag(0, true), 'revocationReason'), 'revocationReason')[0];
      const e = expectTag(code, 0x0a, 'revocationReason');
      reason = CRL_REASONS[e.value.length === 1 ? e.value[0]! : -1];
    }
  } else if (statusEl?.tag === 0x82) status = 'unknown';
  else throw malformed('a single response has no valid certStatus');
  const thisUpdate = readTime(f[2], 'thisUpdate');
  let k = 3;
  let nextUpdate: Date | undefined;
  if (f[k]?.tag === contextTag(0, true)) nextUpdate = readTime(childrenOf(f[k++]!, 'nextUpdate')[0], 'nextUpdate');
  const problems: string[] = [];
  if (f[k]?.tag === contextTag(1, true)) {
    for (const ext of extensions(childrenOf(f[k++]!, 'singleExtensions')[0]!)) {
      if (ext.critical) problems.push(`the single response has a critical extension Chancery does not process: ${ext.oid}`);
    }
  }
  if (k !== f.length) throw malformed('a single response has unexpected fields');
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumberHex, status, revokedAt, reason, thisUpdate, nextUpdate, problems };
}

function extensions(el: DerElement): Array<{ oid: string; critical: boolean }> {
  return childrenOf(expectTag(el, TAG.SEQUENCE, 'extensions'), 'extensions').map((item) => {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'an extension'), 'an extension');
    const oid = readOid(parts[0], 'an extension id');
    const critical = parts[1]?.tag === TAG.BOOLEAN && parts[1].value[0] === 0xff;
    return { oid, critical };
  });
}

/** Hash of the issuer's public key BIT STRING contents (RFC 6960 §4.1.1 issuerKeyHash). */
function issuerKeyBits(issuer: Certificate): Buffer {
  const spki = childrenOf(readDer(issuer.spki, 'the issuer key'), 'the issuer key');
  return Buffer.from(readBitString(spki[1], 'the issuer key').bytes);
}

export interface OcspSourceOptions {
  /** How old a response without nextUpdate may be at the validation time; default one hour. */
  maxAgeWithoutNextUpdateMs?: number;
  /** Algorithm policy for response signatures; default Chancery's. */
  algorithms?: AlgorithmPolicy;
}

/** A revocation source over supplied OCSP responses (DER). Unreadable ones are skipped with a reason. */
export function ocspResponseSource(responses: Array<Uint8Array | OcspResponse>, options: OcspSourceOptions = {}): RevocationSource {
  const parsed: OcspResponse[] = [];
  const unreadable: string[] = [];
  for (const r of responses) {
    try {
      parsed.push(r instanceof Uint8Array ? parseOcspResponse(r) : r);
    } catch (error) {
      if (!isParseFault(error)) throw error;
      unreadable.push(error.message);
    }
  }
  const maxAge = options.maxAgeWithoutNextUpdateMs ?? 3_600_000;
  const algorithms = options.algorithms ?? CHANCERY_ALGORITHMS;

  return {
    async status(cert, issuer, at, context) {
      const notes: string[] = unreadable.map((u) => `a supplied OCSP response cannot be read (${u})`);
      const serial = normalizeSerial(cert.serialNumberHex);
      for (const response of parsed) {
        const single = response.responses.find((s) => s.serialNumberHex === serial && certIdMatches(s, issuer));
        if (single === undefined) continue;
        const label = `the OCSP response produced ${response.producedAt.toISOString()}`;
        if (response.problems.length > 0 || single.problems.length > 0) {
          notes.push(`${label} is not usable: ${[...response.problems, ...single.problems].join('; ')}`);
          continue;
        }
        if (
          single.nextUpdate !== undefined ? at.getTime() > single.nextUpdate.getTime() : at.getTime() > single.thisUpdate.getTime() + maxAge
        ) {
          notes.push(
            `${label} is not current at the validation time (thisUpdate ${single.thisUpdate.toISOString()}${single.nextUpdate === undefined ? '' : `, nextUpdate ${single.nextUpdate.toISOString()}`})`,
          );
          continue;
        }
        const signerProblem = await checkSigner(response, issuer, at, context, algorithms);
        if (signerProblem !== undefined) {
          notes.push(`${label} is not usable: ${signerProblem}`);
          continue;
        }
        if (single.status === 'good') return { status: 'good', source: label };
        if (single.status === 'revoked') {
          const s: RevocationStatus = { status: 'revoked', revokedAt: single.revokedAt!, source: label };
          if (single.reason !== undefined) s.reason = single.reason;
          return s;
        }
        notes.push(`${label} says the status is unknown`);
      }
      return {
        status: 'unknown',
        reason: notes.length === 0 ? `no supplied OCSP response is about certificate ${cert.describe()}` : notes.join('; '),
      };
    },
  };
}

function certIdMatches(single: OcspSingleResponse, issuer: Certificate): boolean {
  const hash = CERT_ID_HASH_BY_OID[single.hashAlgorithm];
  if (hash === undefined) return false;
  return (
    identifierDigest(hash, issuer.subject.der).equals(single.issuerNameHash) &&
    identifierDigest(hash, issuerKeyBits(issuer)).equals(single.issuerKeyHash)
  );
}

/** RFC 6960 §4.2.2.2: the issuer itself, or a responder certificate it issued for OCSP signing. */
async function checkSigner(
  response: OcspResponse,
  issuer: Certificate,
  at: Date,
  context: RevocationContext | undefined,
  algorithms: AlgorithmPolicy,
): Promise<string | undefined> {
  const issuerKey = issuer.tryPublicKey();
  if (issuerKey !== undefined && verifySignedBytes(response.tbs, response.signatureAlgorithm, response.signature, issuerKey, algorithms).ok)
    return undefined;
  const notes: string[] = [];
  for (const responder of response.certificates) {
    const key = responder.tryPublicKey();
    if (key === undefined) continue;
    const sig = verifySignedBytes(response.tbs, response.signatureAlgorithm, response.signature, key, algorithms);
    if (!sig.ok) continue;
    if (!responder.issuer.equals(issuer.subject) || !certificateSignedBy(responder, issuer, algorithms).ok) {
      notes.push(`its responder ${responder.describe()} was not issued by ${issuer.describe()}`);
      continue;
    }
    const purpose = checkPurpose(responder, PURPOSE_OCSP_SIGNING);
    if (purpose !== undefined) {
      notes.push(purpose);
      continue;
    }
    if (at.getTime() < responder.notBefore.getTime() || at.getTime() > responder.notAfter.getTime()) {
      notes.push(`its responder ${responder.describe()} is not valid at the validation time`);
      continue;
    }
    if (responder.problems.length > 0 || responder.unknownCriticalExtensions.length > 0) {
      notes.push(`its responder ${responder.describe()} is not a valid certificate`);
      continue;
    }
    if (responder.ocspNoCheck) return undefined;
    if (context === undefined) {
      notes.push(`its responder ${responder.describe()} has no ocsp-nocheck and its own status cannot be checked here`);
      continue;
    }
    const invalid = await context.validateSigner(responder, PURPOSE_OCSP_SIGNING);
    if (invalid === undefined) return undefined;
    notes.push(`its responder ${responder.describe()} is not valid: ${invalid}`);
  }
  return notes.length > 0 ? notes.join('; ') : `it is signed neither by ${issuer.describe()} nor by a responder certificate it carries`;
}
