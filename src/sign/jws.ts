import { sha256 } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import type { Decision } from '../verify/cms-attributes.js';
import { VerifyError } from '../verify/errors.js';
import { parseJws, type ParsedJws } from '../verify/jws-parse.js';
import {
  COUNTERSIGNATURE_CRIT,
  COUNTERSIGNATURE_HASH_HEADER,
  DECISION_HEADER,
  REASON_HEADER,
  JADES_CONTENT_TYPE,
  SIGNING_TIME_HEADER,
  jadesSigningTime,
} from '../verify/jws.js';
import { checkReason } from './reason.js';
import { SignError } from './errors.js';

/**
 * Builders for Chancery's JWS envelopes (RFC 7515 General JSON Serialization with `x5c`;
 * header rules documented in src/verify/jws.ts). Every entry is a JAdES baseline signature
 * (ETSI TS 119 182-1 §5.1, §5.2): `x5c` and `x5t#S256` name the signing certificate, `sigT` is
 * the claimed signing time and is listed in `crit` (as JAdES requires), `cty` names the payload's
 * type; `iat` carries the same time as a NumericDate for plain JOSE verifiers. Every signature
 * goes through the `Signer` interface; ECDSA signatures are r‖s as JOSE requires.
 */

/** RFC 7515 §7.2.1 General JWS JSON Serialization. */
export interface GeneralJws {
  payload: string;
  signatures: Array<{ protected: string; header?: Record<string, unknown>; signature: string }>;
}

export interface JwsSignOptions {
  signer: Signer;
  /** The signer's certificate first, then intermediates (DER, original bytes). */
  chain: Uint8Array[];
  /** The document bytes. */
  payload: Uint8Array;
  /** The `iat` header: signing time (whole seconds). */
  time: Date;
}

export interface JwsCountersignOptions {
  signer: Signer;
  chain: Uint8Array[];
  decision: Decision;
  /** The officer's reason, a critical `reason` header; in the form decision-reason.ts defines (normalizeReason makes it). */
  reason?: string | undefined;
  time: Date;
}

/** Signs `payload` as a one-signature General JWS (the enterprise's signature). */
export async function signJws(options: JwsSignOptions): Promise<GeneralJws> {
  const payload = Buffer.from(options.payload).toString('base64url');
  const header = {
    alg: options.signer.algorithm,
    cty: JADES_CONTENT_TYPE,
    x5c: x5c(options.chain),
    'x5t#S256': thumbprint(options.chain),
    iat: seconds(options.time),
    [SIGNING_TIME_HEADER]: jadesSigningTime(options.time),
    crit: [SIGNING_TIME_HEADER],
  };
  return { payload, signatures: [await signEntry(options.signer, header, payload)] };
}

/**
 * Adds an officer's countersignature entry: same payload, a protected header with `decision`,
 * the officer's `reason` when given, `iat`/`sigT` and `sig#S256` (the SHA-256 of the enterprise
 * signature bytes), `crit` naming all but `iat`.
 * Accepts any serialization; returns General JSON.
 */
export async function countersignJws(envelope: GeneralJws | string | Uint8Array, options: JwsCountersignOptions): Promise<GeneralJws> {
  let parsed: ParsedJws;
  try {
    parsed = parseJws(typeof envelope === 'string' || envelope instanceof Uint8Array ? envelope : JSON.stringify(envelope));
  } catch (error) {
    if (error instanceof VerifyError)
      throw new SignError('ERR_SIGN_ENVELOPE_UNREADABLE', `the envelope to countersign cannot be read: ${error.message}`, { cause: error });
    throw error;
  }
  if (parsed.payloadB64 === undefined)
    throw new SignError(
      'ERR_SIGN_ENVELOPE_UNREADABLE',
      'the envelope to countersign has a detached payload; countersign the envelope with its payload',
    );
  if (options.reason !== undefined) checkReason(options.reason);
  const enterprise = parsed.signatures[0]!;
  const header = {
    alg: options.signer.algorithm,
    x5c: x5c(options.chain),
    'x5t#S256': thumbprint(options.chain),
    iat: seconds(options.time),
    [SIGNING_TIME_HEADER]: jadesSigningTime(options.time),
    [DECISION_HEADER]: options.decision,
    ...(options.reason === undefined ? {} : { [REASON_HEADER]: options.reason }),
    [COUNTERSIGNATURE_HASH_HEADER]: sha256(enterprise.signature).toString('base64url'),
    crit: [...COUNTERSIGNATURE_CRIT, ...(options.reason === undefined ? [] : [REASON_HEADER]), SIGNING_TIME_HEADER],
  };
  const kept = parsed.signatures.map((s) => ({
    protected: s.protectedB64,
    ...(s.unprotectedHeader === undefined ? {} : { header: s.unprotectedHeader }),
    signature: s.signatureB64,
  }));
  return { payload: parsed.payloadB64, signatures: [...kept, await signEntry(options.signer, header, parsed.payloadB64)] };
}

/** The flattened form of a one-signature General JWS (RFC 7515 §7.2.2). */
export function toFlattened(jws: GeneralJws): { payload: string; protected: string; signature: string } {
  if (jws.signatures.length !== 1)
    throw new SignError('ERR_SIGN_INVALID_INPUT', 'only a JWS with exactly one signature has a flattened form');
  return { payload: jws.payload, protected: jws.signatures[0]!.protected, signature: jws.signatures[0]!.signature };
}

/** The compact form of a one-signature General JWS (RFC 7515 §7.1). */
export function toCompact(jws: GeneralJws): string {
  const f = toFlattened(jws);
  return `${f.protected}.${f.payload}.${f.signature}`;
}

async function signEntry(
  signer: Signer,
  header: Record<string, unknown>,
  payloadB64: string,
): Promise<{ protected: string; signature: string }> {
  const protectedB64 = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
  const signature = await signer.sign(Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'), { dsaEncoding: 'ieee-p1363' });
  return { protected: protectedB64, signature: signature.toString('base64url') };
}

function x5c(chain: Uint8Array[]): string[] {
  if (chain.length === 0)
    throw new SignError('ERR_SIGN_INVALID_INPUT', 'the certificate chain is empty: the signer certificate must come first');
  return chain.map((c) => Buffer.from(c).toString('base64'));
}

/** `x5t#S256` (RFC 7515 §4.1.8): base64url SHA-256 of the signer certificate's DER. */
function thumbprint(chain: Uint8Array[]): string {
  return sha256(chain[0]!).toString('base64url');
}

function seconds(time: Date): number {
  return Math.floor(time.getTime() / 1000);
}

/** One entry of a General JWS's `signatures`. */
export type GeneralJwsEntry = GeneralJws['signatures'][number];

/**
 * The bytes a JAdES signature time-stamp covers (ETSI TS 119 182-1 §5.3.4.3, sigTst): the JWS
 * signature value as it appears in the JWS, base64url.
 */
export function jwsTimestampInput(entry: GeneralJwsEntry): Buffer {
  return Buffer.from(entry.signature, 'latin1');
}

/**
 * The entry with one more JAdES unsigned property appended to its unprotected `etsiU` array, as
 * base64url-encoded JSON (ETSI TS 119 182-1 §5.3.1). Nothing signed changes.
 */
export function withEtsiU(entry: GeneralJwsEntry, property: Record<string, unknown>): GeneralJwsEntry {
  const header = entry.header ?? {};
  const existing = Array.isArray(header['etsiU']) ? (header['etsiU'] as unknown[]) : [];
  const item = Buffer.from(JSON.stringify(property), 'utf8').toString('base64url');
  return { ...entry, header: { ...header, etsiU: [...existing, item] } };
}

/** The entry with a signature time-stamp (`sigTst`, DER TimeStampToken over jwsTimestampInput): JAdES B-T. */
export function withSignatureTimestampJws(entry: GeneralJwsEntry, token: Uint8Array): GeneralJwsEntry {
  return withEtsiU(entry, { sigTst: { tstTokens: [{ val: Buffer.from(token).toString('base64') }] } });
}

/**
 * The entry with the validation data used (JAdES B-LT, ETSI TS 119 182-1 §5.3.5): `xVals` with
 * the certificates, `rVals` with the CRLs (`crlVals`) and OCSP responses (`ocspVals`, each a DER
 * OCSPResponse), each value base64 DER.
 */
export function withValidationDataJws(
  entry: GeneralJwsEntry,
  data: { certificates?: readonly Uint8Array[]; crls?: readonly Uint8Array[]; ocspResponses?: readonly Uint8Array[] },
): GeneralJwsEntry {
  let out = entry;
  const b64 = (d: Uint8Array): string => Buffer.from(d).toString('base64');
  const crls = data.crls ?? [];
  const ocsp = data.ocspResponses ?? [];
  if ((data.certificates ?? []).length > 0) out = withEtsiU(out, { xVals: data.certificates!.map((c) => ({ x509Cert: { val: b64(c) } })) });
  if (crls.length > 0 || ocsp.length > 0) {
    const rVals: Record<string, unknown> = {};
    if (crls.length > 0) rVals['crlVals'] = crls.map((c) => ({ val: b64(c) }));
    if (ocsp.length > 0) rVals['ocspVals'] = ocsp.map((o) => ({ val: b64(o) }));
    out = withEtsiU(out, { rVals });
  }
  return out;
}
