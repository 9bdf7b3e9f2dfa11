import { identifierDigest, type IdentifierHash } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import { childrenOf, readDer, readOid, type DerElement } from '../der/reader.js';
import { TAG } from '../der/tags.js';
import { generalizedTime } from '../der/time.js';
import { bitString, explicit, octetString, oid, sequence, sequenceOf, smallInteger, tlv } from '../der/writer.js';
import { CERT_ID_HASH_BY_OID, OID } from '../oids.js';
import type { CertificateStatus } from './authority.js';
import { signatureAlgorithmIdentifier, subjectPublicKeyBits } from './certificate-builder.js';
import { REVOCATION_REASONS } from './reasons.js';
import { serialHex } from './serial.js';

/**
 * The OCSP responder (RFC 6960), delegated: responses are signed by a certificate with
 * id-kp-OCSPSigning and id-pkix-ocsp-nocheck issued by the issuing CA (§4.2.2.2). A request is
 * parsed with a strict DER reader; anything malformed is answered with the unsigned
 * `malformedRequest` status — never an exception, never an HTTP error. Responses to requests
 * without a nonce are cached until the revocation epoch (the CRL number) changes or ten minutes
 * pass; a nonce is echoed in a freshly signed response.
 */

/** RFC 6960 §4.2.1 OCSPResponseStatus. */
export const OCSP_STATUS = { successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;

/** Most single requests answered in one response; more is a malformed request here. */
export const MAX_SINGLE_REQUESTS = 16;
/** Largest nonce extension value echoed (RFC 8954 recommends 32 octets; openssl sends 18). */
const MAX_NONCE_BYTES = 128;
/** A response is valid for an hour (nextUpdate), and served from cache for at most ten minutes. */
export const RESPONSE_VALIDITY_MS = 3600_000;
const CACHE_TTL_MS = 600_000;
const CACHE_MAX_ENTRIES = 10_000;

export interface OcspResponderDeps {
  /** The issuing CA: subject Name DER and SubjectPublicKeyInfo DER. */
  issuer: { subject: Buffer; spki: Buffer };
  /** The delegated responder: its certificate (sent in `certs`) and signer. */
  responder: { der: Buffer; spki: Buffer; signer: Signer };
  status(serialHex: string): Promise<CertificateStatus>;
  epoch(): Promise<number>;
  now: () => Date;
}

interface ParsedSingle {
  /** The request's CertID, exact bytes, echoed in the response. */
  certId: Buffer;
  hash: IdentifierHash | undefined;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serial: Buffer;
  negativeSerial: boolean;
}

interface ParsedRequest {
  singles: ParsedSingle[];
  /** The whole nonce Extension TLV, echoed as is. */
  nonce: Buffer | undefined;
}

export class OcspResponder {
  readonly #issuerHashes = new Map<IdentifierHash, { name: Buffer; key: Buffer }>();
  readonly #responderId: Buffer;
  readonly #algorithm: Buffer;
  readonly #certs: Buffer;
  readonly #cache = new Map<string, { der: Buffer; epoch: number; until: number; maxAgeUntil: number }>();
  /** Statuses by serial, valid while the epoch is unchanged (nonce requests still need a fresh signature). */
  readonly #statuses = new Map<string, { status: CertificateStatus; epoch: number }>();

  constructor(private readonly deps: OcspResponderDeps) {
    const keyBits = subjectPublicKeyBits(deps.issuer.spki);
    for (const hash of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
      this.#issuerHashes.set(hash, { name: identifierDigest(hash, deps.issuer.subject), key: identifierDigest(hash, keyBits) });
    }
    // ResponderID byKey [2] KeyHash: SHA-1 of the responder's public key bits (RFC 6960 §4.2.1).
    this.#responderId = explicit(2, octetString(identifierDigest('sha1', subjectPublicKeyBits(deps.responder.spki))));
    this.#algorithm = signatureAlgorithmIdentifier(deps.responder.signer);
    this.#certs = explicit(0, sequence(deps.responder.der));
  }

  /** Drops every cached response (a revocation committed on this node). */
  invalidate(): void {
    this.#cache.clear();
    this.#statuses.clear();
  }

  /**
   * Answers one DER OCSPRequest with a DER OCSPResponse. MUST NOT throw for any input: malformed
   * requests get `malformedRequest`, a failure of the database `internalError`.
   */
  async respond(request: Buffer): Promise<{ der: Buffer; cacheableSeconds: number }> {
    const parsed = parseOcspRequest(request);
    if (parsed === undefined) return { der: statusOnly(OCSP_STATUS.malformedRequest), cacheableSeconds: 0 };
    try {
      const epoch = await this.deps.epoch(); // read before the statuses: see the cache rule above
      const key = parsed.nonce === undefined ? request.toString('base64') : undefined;
      const nowMs = this.deps.now().getTime();
      if (key !== undefined) {
        const hit = this.#cache.get(key);
        if (hit !== undefined && hit.epoch === epoch && hit.until > nowMs) {
          return { der: hit.der, cacheableSeconds: Math.max(0, Math.floor((hit.maxAgeUntil - nowMs) / 1000)) };
        }
      }
      const { der, allKnown } = await this.sign(parsed, epoch);
      // An unknown serial may be issued later without a revocation changing the epoch: never cache it.
      if (key !== undefined && allKnown) {
        if (this.#cache.size >= CACHE_MAX_ENTRIES) this.#cache.clear();
        this.#cache.set(key, { der, epoch, until: nowMs + CACHE_TTL_MS, maxAgeUntil: nowMs + 60_000 });
      }
      return { der, cacheableSeconds: key === undefined || !allKnown ? 0 : 60 };
    } catch {
      return { der: statusOnly(OCSP_STATUS.internalError), cacheableSeconds: 0 };
    }
  }

  private async sign(request: ParsedRequest, epoch: number): Promise<{ der: Buffer; allKnown: boolean }> {
    const now = new Date(Math.floor(this.deps.now().getTime() / 1000) * 1000);
    const nextUpdate = new Date(now.getTime() + RESPONSE_VALIDITY_MS);
    const singles: Buffer[] = [];
    let allKnown = true;
    for (const single of request.singles) {
      const status = await this.statusOf(single, epoch);
      if (status.status === 'unknown') allKnown = false;
      singles.push(sequence(single.certId, encodeCertStatus(status), generalizedTime(now), explicit(0, generalizedTime(nextUpdate))));
    }
    const responseData = sequence(
      this.#responderId,
      generalizedTime(now),
      sequenceOf(singles),
      ...(request.nonce === undefined ? [] : [explicit(1, sequence(request.nonce))]),
    );
    const signature = await this.deps.responder.signer.sign(responseData);
    const basic = sequence(responseData, this.#algorithm, bitString(signature), this.#certs);
    return {
      der: sequence(smallInteger(OCSP_STATUS.successful, TAG.ENUMERATED), explicit(0, sequence(oid(OID.ocspBasic), octetString(basic)))),
      allKnown,
    };
  }

  private async statusOf(single: ParsedSingle, epoch: number): Promise<CertificateStatus> {
    if (single.hash === undefined || single.negativeSerial) return { status: 'unknown' };
    const ours = this.#issuerHashes.get(single.hash)!;
    // Certificates of other issuers (including the root's, which this delegated responder may
    // not answer for) are unknown (RFC 6960 §2.2).
    if (!single.issuerNameHash.equals(ours.name) || !single.issuerKeyHash.equals(ours.key)) return { status: 'unknown' };
    const serial = serialHex(single.serial);
    const known = this.#statuses.get(serial);
    if (known !== undefined && known.epoch === epoch) return known.status;
    const status = await this.deps.status(serial);
    if (status.status !== 'unknown') {
      if (this.#statuses.size >= CACHE_MAX_ENTRIES * 10) this.#statuses.clear();
      this.#statuses.set(serial, { status, epoch });
    }
    return status;
  }
}

/** An OCSPResponse with only a status (no responseBytes), for the error statuses. */
export function statusOnly(status: number): Buffer {
  return sequence(smallInteger(status, TAG.ENUMERATED));
}

function encodeCertStatus(status: CertificateStatus): Buffer {
  switch (status.status) {
    case 'good':
      return Buffer.from([0x80, 0x00]); // [0] IMPLICIT NULL
    case 'unknown':
      return Buffer.from([0x82, 0x00]); // [2] IMPLICIT NULL
    case 'revoked': {
      // [1] IMPLICIT RevokedInfo ::= SEQUENCE { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      const code = REVOCATION_REASONS[status.reason];
      const time = generalizedTime(status.revokedAt);
      const body = code === 0 ? time : Buffer.concat([time, explicit(0, smallInteger(code, TAG.ENUMERATED))]);
      return tlv(0xa1, body);
    }
  }
}

/**
 * Parses an OCSPRequest (RFC 6960 §4.1.1) strictly; undefined when malformed:
 *
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 *   CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                              issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 */
export function parseOcspRequest(der: Buffer): ParsedRequest | undefined {
  try {
    const outer = readDer(der, 'the OCSP request');
    if (outer.tag !== TAG.SEQUENCE) return undefined;
    const [tbs, signature, extra] = childrenOf(outer, 'the OCSP request');
    if (tbs?.tag !== TAG.SEQUENCE || (signature !== undefined && signature.tag !== 0xa0) || extra !== undefined) return undefined;
    const fields = childrenOf(tbs, 'tbsRequest');
    let k = 0;
    if (fields[k]?.tag === 0xa0) {
      const [version, more] = childrenOf(fields[k++]!, 'the version');
      if (version?.tag !== TAG.INTEGER || more !== undefined || version.value.length !== 1 || version.value[0] !== 0) return undefined;
    }
    if (fields[k]?.tag === 0xa1) k++; // requestorName: not used
    const requestList = fields[k++];
    if (requestList?.tag !== TAG.SEQUENCE) return undefined;
    const singles: ParsedSingle[] = [];
    for (const request of childrenOf(requestList, 'requestList')) {
      if (request.tag !== TAG.SEQUENCE) return undefined;
      const [certId, extensions, more] = childrenOf(request, 'a Request');
      if (certId?.tag !== TAG.SEQUENCE || more !== undefined) return undefined;
      if (extensions !== undefined && (extensions.tag !== 0xa0 || parseExtensions(extensions) === undefined)) return undefined;
      const single = parseCertId(certId);
      if (single === undefined) return undefined;
      singles.push(single);
      if (singles.length > MAX_SINGLE_REQUESTS) return undefined;
    }
    if (singles.length === 0) return undefined;
    let nonce: Buffer | undefined;
    const requestExtensions = fields[k++];
    if (requestExtensions !== undefined) {
      if (requestExtensions.tag !== 0xa2) return undefined;
      const parsed = parseExtensions(requestExtensions);
      if (parsed === undefined) return undefined;
      nonce = parsed.nonce;
    }
    if (k < fields.length) return undefined;
    return { singles, nonce };
  } catch {
    return undefined;
  }
}

const view = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function parseCertId(certId: DerElement): ParsedSingle | undefined {
  const [algorithm, nameHash, keyHash, serial, extra] = childrenOf(certId, 'the CertID');
  if (algorithm?.tag !== TAG.SEQUENCE) return undefined;
  const [algOid] = childrenOf(algorithm, 'the CertID hash algorithm');
  if (algOid?.tag !== TAG.OID) return undefined;
  if (nameHash?.tag !== TAG.OCTET_STRING || keyHash?.tag !== TAG.OCTET_STRING || serial?.tag !== TAG.INTEGER || extra !== undefined)
    return undefined;
  if (serial.value.length === 0 || serial.value.length > 21) return undefined;
  return {
    certId: view(certId.bytes),
    hash: CERT_ID_HASH_BY_OID[readOid(algOid, 'the CertID hash algorithm')],
    issuerNameHash: view(nameHash.value),
    issuerKeyHash: view(keyHash.value),
    serial: view(serial.value),
    negativeSerial: (serial.value[0]! & 0x80) !== 0,
  };
}

/** Extensions ([0] or [2] EXPLICIT): finds the nonce; refuses unknown critical ones and oversized nonces. */
function parseExtensions(wrapper: DerElement): { nonce: Buffer | undefined } | undefined {
  const [list, more] = childrenOf(wrapper, 'extensions');
  if (list?.tag !== TAG.SEQUENCE || more !== undefined) return undefined;
  let nonce: Buffer | undefined;
  for (const ext of childrenOf(list, 'extensions')) {
    if (ext.tag !== TAG.SEQUENCE) return undefined;
    const parts = childrenOf(ext, 'an extension');
    const id = parts[0];
    if (id?.tag !== TAG.OID) return undefined;
    let p = 1;
    let critical = false;
    // Read leniently, as any non-zero octet (BER, X.690 §8.2.2): a request is answered, not judged.
    if (parts[p]?.tag === TAG.BOOLEAN) critical = parts[p++]!.value[0] !== 0;
    const value = parts[p++];
    if (value?.tag !== TAG.OCTET_STRING || p !== parts.length) return undefined;
    if (readOid(id, 'an extension id') === OID.ocspNonce) {
      if (value.value.length === 0 || value.value.length > MAX_NONCE_BYTES || nonce !== undefined) return undefined;
      nonce = view(ext.bytes);
    } else if (critical) {
      return undefined;
    }
  }
  return { nonce };
}
