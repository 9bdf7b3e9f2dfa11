import { identifierDigest, type IdentifierHash } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import type { CertificateStatus } from './authority.js';
import { signatureAlgorithmIdentifier, subjectPublicKeyBits } from './certificate-builder.js';
import { bitString, explicit, generalizedTime, octetString, oid, readTlv, sequence, smallInteger, TAG, tlv } from './der.js';
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

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

const HASH_BY_OID: Record<string, IdentifierHash> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

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
      sequence(...singles),
      ...(request.nonce === undefined ? [] : [explicit(1, sequence(request.nonce))]),
    );
    const signature = await this.deps.responder.signer.sign(responseData);
    const basic = sequence(responseData, this.#algorithm, bitString(signature), this.#certs);
    return { der: sequence(smallInteger(OCSP_STATUS.successful, TAG.enumerated), explicit(0, sequence(oid(ID_PKIX_OCSP_BASIC), octetString(basic)))), allKnown };
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
  return sequence(smallInteger(status, TAG.enumerated));
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
      const body = code === 0 ? time : Buffer.concat([time, explicit(0, smallInteger(code, TAG.enumerated))]);
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
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.sequence || outer.end !== der.length) return undefined;
    const tbs = readTlv(der, outer.start);
    if (tbs.tag !== TAG.sequence) return undefined;
    if (tbs.end !== outer.end) {
      const signature = readTlv(der, tbs.end);
      if (signature.tag !== 0xa0 || signature.end !== outer.end) return undefined;
    }
    let at = tbs.start;
    let el = readTlv(der, at);
    if (el.tag === 0xa0) {
      const version = readTlv(der, el.start);
      if (version.tag !== TAG.integer || version.end !== el.end || version.end - version.start !== 1 || der[version.start] !== 0) return undefined;
      at = el.end;
      el = readTlv(der, at);
    }
    if (el.tag === 0xa1) {
      at = el.end;
      el = readTlv(der, at);
    }
    if (el.tag !== TAG.sequence) return undefined;
    const singles: ParsedSingle[] = [];
    let nonce: Buffer | undefined;
    for (let r = el.start; r < el.end; ) {
      const request = readTlv(der, r);
      if (request.tag !== TAG.sequence || request.end > el.end) return undefined;
      const certId = readTlv(der, request.start);
      if (certId.tag !== TAG.sequence) return undefined;
      if (certId.end !== request.end) {
        const extensions = readTlv(der, certId.end);
        if (extensions.tag !== 0xa0 || extensions.end !== request.end) return undefined;
        if (parseExtensions(der, extensions.start, extensions.end) === undefined) return undefined;
      }
      const single = parseCertId(der, request.start, certId.start, certId.end);
      if (single === undefined) return undefined;
      singles.push(single);
      if (singles.length > MAX_SINGLE_REQUESTS) return undefined;
      r = request.end;
    }
    if (singles.length === 0) return undefined;
    if (el.end !== tbs.end) {
      const extensions = readTlv(der, el.end);
      if (extensions.tag !== 0xa2 || extensions.end !== tbs.end) return undefined;
      const parsed = parseExtensions(der, extensions.start, extensions.end);
      if (parsed === undefined) return undefined;
      nonce = parsed.nonce;
    }
    return { singles, nonce };
  } catch {
    return undefined;
  }
}

function parseCertId(der: Buffer, tlvStart: number, start: number, end: number): ParsedSingle | undefined {
  const algorithm = readTlv(der, start);
  if (algorithm.tag !== TAG.sequence) return undefined;
  const algOid = readTlv(der, algorithm.start);
  if (algOid.tag !== TAG.oid) return undefined;
  const nameHash = readTlv(der, algorithm.end);
  const keyHash = readTlv(der, nameHash.end);
  const serial = readTlv(der, keyHash.end);
  if (nameHash.tag !== TAG.octetString || keyHash.tag !== TAG.octetString || serial.tag !== TAG.integer || serial.end !== end) return undefined;
  if (serial.end - serial.start === 0 || serial.end - serial.start > 21) return undefined;
  return {
    certId: der.subarray(tlvStart, end),
    hash: HASH_BY_OID[decodeOid(der.subarray(algOid.start, algOid.end))],
    issuerNameHash: der.subarray(nameHash.start, nameHash.end),
    issuerKeyHash: der.subarray(keyHash.start, keyHash.end),
    serial: der.subarray(serial.start, serial.end),
    negativeSerial: (der[serial.start]! & 0x80) !== 0,
  };
}

/** Extensions: finds the nonce; refuses unknown critical ones and oversized nonces. */
function parseExtensions(der: Buffer, start: number, end: number): { nonce: Buffer | undefined } | undefined {
  const list = readTlv(der, start);
  if (list.tag !== TAG.sequence || list.end !== end) return undefined;
  let nonce: Buffer | undefined;
  for (let e = list.start; e < list.end; ) {
    const ext = readTlv(der, e);
    if (ext.tag !== TAG.sequence) return undefined;
    const id = readTlv(der, ext.start);
    if (id.tag !== TAG.oid) return undefined;
    let next = readTlv(der, id.end);
    let critical = false;
    if (next.tag === TAG.boolean) {
      critical = der[next.start] !== 0;
      next = readTlv(der, next.end);
    }
    if (next.tag !== TAG.octetString || next.end !== ext.end) return undefined;
    const oidText = decodeOid(der.subarray(id.start, id.end));
    if (oidText === ID_PKIX_OCSP_NONCE) {
      const length = next.end - next.start;
      if (length === 0 || length > MAX_NONCE_BYTES || nonce !== undefined) return undefined;
      nonce = der.subarray(e, ext.end);
    } else if (critical) {
      return undefined;
    }
    e = ext.end;
  }
  return { nonce };
}

function decodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
