import { DerError } from '../der/errors.js';
import {
  childrenOf,
  expectTag,
  isNonMinimalInteger,
  readBoolean,
  readDer,
  readOctets,
  readOid,
  readSequence,
  readSmallInteger,
  readTime,
  type DerElement,
} from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import {
  booleanValue,
  explicit,
  implicitPrimitive,
  octetString,
  oid,
  sequence,
  sequenceOf,
  smallInteger,
  tlv,
  tlvOf,
  unsignedInteger,
} from '../der/writer.js';
import { OID } from '../oids.js';

/**
 * The RFC 3161 structures, both ways: TimeStampReq (§2.4.1), TimeStampResp with PKIStatusInfo
 * (§2.4.2) and TSTInfo (§2.4.2). DER in and out, through src/der; hostile requests are read
 * with the strict reader and every fault becomes one of the RFC's PKIFailureInfo values.
 */

/** PKIStatus (RFC 3161 §2.4.2). */
export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;
export type PkiStatus = (typeof PKI_STATUS)[keyof typeof PKI_STATUS];

/** PKIFailureInfo bit numbers (RFC 3161 §2.4.2). */
export const FAILURE_INFO = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type FailureInfo = keyof typeof FAILURE_INFO;

/** The digest algorithms a messageImprint may use, with their digest lengths. */
export const IMPRINT_HASHES: Readonly<Record<string, { name: 'sha1' | 'sha256' | 'sha384' | 'sha512'; length: number }>> = {
  [OID.sha1]: { name: 'sha1', length: 20 },
  [OID.sha256]: { name: 'sha256', length: 32 },
  [OID.sha384]: { name: 'sha384', length: 48 },
  [OID.sha512]: { name: 'sha512', length: 64 },
};

/** Longest nonce accepted (RFC 3161 leaves it open; openssl sends 8 octets). */
export const MAX_NONCE_OCTETS = 32;

export interface TimeStampQuery {
  /** Dotted OID of the messageImprint's hashAlgorithm. */
  hashAlgorithm: string;
  /** The hashedMessage. */
  digest: Uint8Array;
  /** TSAPolicyId asked for, when given. */
  policy: string | undefined;
  /** The nonce's INTEGER contents octets exactly as sent (echoed verbatim), when given. */
  nonce: Uint8Array | undefined;
  certReq: boolean;
  /** Extension OIDs of the request (none are understood). */
  extensions: string[];
}

/** A request the TSA cannot grant: the failure bit and a sentence for statusString. */
export interface Refusal {
  failure: FailureInfo;
  text: string;
}

/**
 * Reads a DER TimeStampReq. Anything that is not one (not DER, wrong structure, a digest of the
 * wrong length for its algorithm) is badDataFormat; a version other than v1 is badRequest; the
 * algorithm and policy checks belong to the TSA (`TimeStampAuthority`).
 */
export function parseTimeStampQuery(der: Uint8Array): TimeStampQuery | Refusal {
  try {
    const fields = readSequence(readDer(der, 'the TimeStampReq'), 'TimeStampReq');
    let i = 0;
    const version = readSmallIntegerOrBig(fields[i++], 'TimeStampReq.version');
    if (version !== 1) return { failure: 'badRequest', text: `TimeStampReq version ${version} is not supported (only v1)` };
    const imprint = readSequence(fields[i++], 'TimeStampReq.messageImprint');
    if (imprint.length !== 2) return { failure: 'badDataFormat', text: 'messageImprint must hold hashAlgorithm and hashedMessage' };
    const algorithm = readSequence(imprint[0], 'messageImprint.hashAlgorithm');
    if (algorithm.length < 1 || algorithm.length > 2)
      return { failure: 'badDataFormat', text: 'messageImprint.hashAlgorithm is not an AlgorithmIdentifier' };
    const hashAlgorithm = readOid(algorithm[0], 'messageImprint.hashAlgorithm');
    // RFC 5754 §2: parameters absent, or NULL from older implementations.
    if (algorithm[1] !== undefined && !(algorithm[1].tag === TAG.NULL && algorithm[1].value.length === 0))
      return { failure: 'badAlg', text: 'messageImprint.hashAlgorithm has parameters other than NULL' };
    const digest = readOctets(imprint[1], 'messageImprint.hashedMessage');
    let policy: string | undefined;
    let nonce: Uint8Array | undefined;
    let certReq = false;
    const extensions: string[] = [];
    if (fields[i]?.tag === TAG.OID) policy = readOid(fields[i++], 'TimeStampReq.reqPolicy');
    if (fields[i]?.tag === TAG.INTEGER) {
      const el = fields[i++]!;
      if (isNonMinimalInteger(el.value)) return { failure: 'badDataFormat', text: 'the nonce is not a minimal INTEGER encoding' };
      if (el.value.length > MAX_NONCE_OCTETS)
        return { failure: 'badRequest', text: `the nonce is ${el.value.length} octets, above the limit of ${MAX_NONCE_OCTETS}` };
      nonce = el.value;
    }
    if (fields[i]?.tag === TAG.BOOLEAN) {
      certReq = readBoolean(fields[i++], 'TimeStampReq.certReq');
      // DER (X.690 §11.5): a DEFAULT value is never encoded.
      if (!certReq) return { failure: 'badDataFormat', text: 'certReq FALSE is the DEFAULT and must be left out (DER)' };
    }
    if (fields[i]?.tag === contextTag(0, true)) {
      for (const ext of childrenOf(fields[i++]!, 'TimeStampReq.extensions'))
        extensions.push(readOid(readSequence(ext, 'an extension')[0], 'extnID'));
    }
    if (i !== fields.length) return { failure: 'badDataFormat', text: 'TimeStampReq has fields after its last known one' };
    return { hashAlgorithm, digest, policy, nonce, certReq, extensions };
  } catch (error) {
    if (error instanceof DerError) return { failure: 'badDataFormat', text: `the request is not a DER TimeStampReq: ${error.message}` };
    throw error;
  }
}

/** The version INTEGER, which may be anything a client sends: larger ones read as -1 (not v1). */
function readSmallIntegerOrBig(el: DerElement | undefined, what: string): number {
  const v = expectTag(el, TAG.INTEGER, what).value;
  if (v.length > 4 || (v[0]! & 0x80) !== 0) return -1;
  return readSmallInteger(el, what);
}

/** TimeStampReq DER (for the client of an outside TSA, and for tests). */
export function encodeTimeStampQuery(query: {
  hashAlgorithm: string;
  digest: Uint8Array;
  policy?: string;
  nonce?: Uint8Array;
  certReq?: boolean;
}): Buffer {
  return sequenceOf([
    smallInteger(1),
    sequence(sequence(oid(query.hashAlgorithm)), octetString(query.digest)),
    ...(query.policy === undefined ? [] : [oid(query.policy)]),
    ...(query.nonce === undefined ? [] : [unsignedInteger(query.nonce)]),
    ...(query.certReq === true ? [booleanValue(true)] : []),
  ]);
}

/** Accuracy (RFC 3161 §2.4.2): how far genTime may be from UTC. */
export interface Accuracy {
  seconds?: number;
  /** 1–999 */
  millis?: number;
  /** 1–999 */
  micros?: number;
}

export interface TstInfoFields {
  policy: string;
  hashAlgorithm: string;
  digest: Uint8Array;
  /** Big-endian magnitude of the (positive) serial number. */
  serial: Uint8Array;
  genTime: Date;
  accuracy: Accuracy | undefined;
  /** INTEGER contents octets as the request sent them. */
  nonce: Uint8Array | undefined;
  /** The TSA's name as a DER Name, for the `tsa` field ([0] GeneralName directoryName). */
  tsaName: Uint8Array | undefined;
}

/** TSTInfo DER (RFC 3161 §2.4.2); genTime with millisecond precision, `ordering` left at its DEFAULT. */
export function encodeTstInfo(f: TstInfoFields, genTime: Uint8Array): Buffer {
  return sequenceOf([
    smallInteger(1),
    oid(f.policy),
    sequence(sequence(oid(f.hashAlgorithm)), octetString(f.digest)),
    unsignedInteger(f.serial),
    genTime,
    ...(f.accuracy === undefined ? [] : [encodeAccuracy(f.accuracy)]),
    ...(f.nonce === undefined ? [] : [tlv(TAG.INTEGER, f.nonce)]),
    ...(f.tsaName === undefined ? [] : [explicit(0, tlv(contextTag(4, true), f.tsaName))]),
  ]);
}

function encodeAccuracy(a: Accuracy): Buffer {
  return sequenceOf([
    ...(a.seconds === undefined ? [] : [smallInteger(a.seconds)]),
    ...(a.millis === undefined ? [] : [implicitPrimitive(0, smallInteger(a.millis).subarray(2))]),
    ...(a.micros === undefined ? [] : [implicitPrimitive(1, smallInteger(a.micros).subarray(2))]),
  ]);
}

/** PKIFailureInfo as a DER named BIT STRING: trailing zero bits dropped (X.690 §11.2.2). */
function failureBits(bit: number): Buffer {
  const bytes = Buffer.alloc((bit >> 3) + 1);
  bytes[bit >> 3] = 0x80 >> (bit & 7);
  const unused = 7 - (bit & 7);
  return tlvOf(TAG.BIT_STRING, [Buffer.from([unused]), bytes]);
}

/** TimeStampResp DER granting `token` (status granted, no statusString). */
export function grantedResponse(token: Uint8Array): Buffer {
  return sequenceOf([sequence(smallInteger(PKI_STATUS.granted)), token]);
}

/** TimeStampResp DER refusing a request: status rejection, the sentence as statusString, and failInfo. */
export function rejectionResponse(refusal: Refusal): Buffer {
  return sequence(
    sequence(
      smallInteger(PKI_STATUS.rejection),
      sequence(tlv(TAG.UTF8_STRING, Buffer.from(refusal.text, 'utf8'))),
      failureBits(FAILURE_INFO[refusal.failure]),
    ),
  );
}

export interface TimeStampReply {
  status: number;
  statusText: string[];
  /** Names of the failure bits set. */
  failures: FailureInfo[];
  /** The TimeStampToken (a ContentInfo, DER as sent), when there is one. */
  token: Uint8Array | undefined;
}

/** Reads a DER TimeStampResp (from an outside TSA). Throws DerError when it is not one. */
export function parseTimeStampReply(der: Uint8Array): TimeStampReply {
  const fields = readSequence(readDer(der, 'the TimeStampResp'), 'TimeStampResp');
  if (fields.length < 1 || fields.length > 2)
    throw new DerError('ERR_DER_MALFORMED', 'TimeStampResp must hold status and an optional token');
  const info = readSequence(fields[0], 'PKIStatusInfo');
  const status = readSmallInteger(info[0], 'PKIStatusInfo.status');
  let i = 1;
  const statusText: string[] = [];
  if (info[i]?.tag === TAG.SEQUENCE)
    for (const t of childrenOf(info[i++]!, 'statusString'))
      statusText.push(Buffer.from(expectTag(t, TAG.UTF8_STRING, 'statusString').value).toString('utf8'));
  const failures: FailureInfo[] = [];
  if (info[i]?.tag === TAG.BIT_STRING) {
    const v = info[i++]!.value;
    for (const [name, bit] of Object.entries(FAILURE_INFO)) {
      const byte = v[1 + (bit >> 3)];
      if (byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0) failures.push(name as FailureInfo);
    }
  }
  if (i !== info.length) throw new DerError('ERR_DER_MALFORMED', 'PKIStatusInfo has unexpected fields');
  return { status, statusText, failures, token: fields[1]?.bytes };
}

export interface TstInfo {
  version: number;
  policy: string;
  hashAlgorithm: string;
  digest: Uint8Array;
  serialHex: string;
  genTime: Date;
  accuracy: Accuracy | undefined;
  ordering: boolean;
  nonce: Uint8Array | undefined;
  /** DER of the `tsa` GeneralName, when present. */
  tsa: Uint8Array | undefined;
}

/** Reads a DER TSTInfo. Throws DerError when it is not one. */
export function parseTstInfo(der: Uint8Array): TstInfo {
  const f = readSequence(readDer(der, 'the TSTInfo'), 'TSTInfo');
  let i = 0;
  const version = readSmallInteger(f[i++], 'TSTInfo.version');
  const policy = readOid(f[i++], 'TSTInfo.policy');
  const imprint = readSequence(f[i++], 'TSTInfo.messageImprint');
  const hashAlgorithm = readOid(readSequence(imprint[0], 'messageImprint.hashAlgorithm')[0], 'messageImprint.hashAlgorithm');
  const digest = readOctets(imprint[1], 'messageImprint.hashedMessage');
  const serialEl = expectTag(f[i++], TAG.INTEGER, 'TSTInfo.serialNumber');
  if (isNonMinimalInteger(serialEl.value)) throw new DerError('ERR_DER_MALFORMED', 'TSTInfo.serialNumber is not a minimal INTEGER');
  const genTimeEl = expectTag(f[i++], TAG.GENERALIZED_TIME, 'TSTInfo.genTime');
  const genTime = readTime(genTimeEl, 'TSTInfo.genTime');
  let accuracy: Accuracy | undefined;
  if (f[i]?.tag === TAG.SEQUENCE) {
    accuracy = {};
    for (const a of childrenOf(f[i++]!, 'TSTInfo.accuracy')) {
      if (a.tag === TAG.INTEGER) accuracy.seconds = readSmallInteger(a, 'accuracy.seconds');
      else if (a.tag === 0x80) accuracy.millis = smallFromContents(a.value, 'accuracy.millis');
      else if (a.tag === 0x81) accuracy.micros = smallFromContents(a.value, 'accuracy.micros');
      else throw new DerError('ERR_DER_MALFORMED', 'TSTInfo.accuracy has an unknown field');
    }
  }
  let ordering = false;
  if (f[i]?.tag === TAG.BOOLEAN) ordering = readBoolean(f[i++], 'TSTInfo.ordering');
  let nonce: Uint8Array | undefined;
  if (f[i]?.tag === TAG.INTEGER) nonce = f[i++]!.value;
  let tsa: Uint8Array | undefined;
  if (f[i]?.tag === contextTag(0, true)) tsa = f[i++]!.bytes;
  if (f[i]?.tag === contextTag(1, true)) i++;
  if (i !== f.length) throw new DerError('ERR_DER_MALFORMED', 'TSTInfo has fields after its last known one');
  return {
    version,
    policy,
    hashAlgorithm,
    digest,
    serialHex: Buffer.from(serialEl.value).toString('hex'),
    genTime,
    accuracy,
    ordering,
    nonce,
    tsa,
  };
}

function smallFromContents(v: Uint8Array, what: string): number {
  if (v.length === 0 || v.length > 2 || isNonMinimalInteger(v) || (v[0]! & 0x80) !== 0)
    throw new DerError('ERR_DER_MALFORMED', `${what} is not a small positive INTEGER`);
  return v.length === 1 ? v[0]! : v[0]! * 256 + v[1]!;
}

/** The media types of RFC 3161 §3.4. */
export const TIMESTAMP_QUERY_TYPE = 'application/timestamp-query';
export const TIMESTAMP_REPLY_TYPE = 'application/timestamp-reply';
