import { canonicalJson } from '../audit/canonical.js';
import { describeKey } from '../crypto/keys.js';
import type { Signer } from '../crypto/signer.js';
import { verifySignature } from '../crypto/signature.js';
import { OID } from '../oids.js';
import { parseCertificate, type Certificate } from '../verify/certificate.js';
import { PURPOSE_DOCUMENT_SIGNING, validatePath, type PathResult } from '../verify/path.js';
import { crlSource } from '../verify/crl.js';
import type { RevocationSource } from '../verify/revocation.js';
import { SubmissionError } from './errors.js';
import { SUBMISSION_STATUSES, type SubmissionStatus } from './types.js';

/**
 * Receipts: for every transition of a submission, a compact
 * JWS (RFC 7515 §7.1) signed by the service seal, ES256, with the seal's certificate chain in
 * `x5c` (seal, issuing CA). Its payload is the RFC 8785 canonical JSON of
 *
 *   { submission, applicant, documentDigest, status, at, logIndex, leafHash }
 *
 * - `submission`: the submission id (UUID); `applicant`: the USCC;
 * - `documentDigest`: lowercase hex SHA-256 of the signed document's bytes;
 * - `status`: the status this transition left it in (rejected | accepted | pending | approved | refused);
 * - `at`: the audit entry's time (RFC 3339 UTC);
 * - `logIndex`, `leafHash`: the transition's audit log entry (Merkle leaf index, RFC 6962 leaf
 *   hash in lowercase hex), so anyone can prove with an inclusion proof that the log holds it.
 *
 * Anyone verifies a receipt offline with the CA's root: `verifyReceipt` checks the header rules,
 * the signature with the seal's key (node's crypto, not jose), and the seal's certification path
 * (document signing, the service certificate policy) at the receipt's time.
 */

export interface ReceiptPayload {
  submission: string;
  applicant: string;
  documentDigest: string;
  status: SubmissionStatus;
  at: string;
  logIndex: number;
  leafHash: string;
}

/** The `typ` of a receipt's protected header. */
export const RECEIPT_TYPE = 'chancery-receipt+jws';
const MAX_RECEIPT_BYTES = 64 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

/** Signs receipts with the service seal; the header is encoded once. */
export class ReceiptSigner {
  readonly #headerB64: string;

  /** `chain`: the seal certificate, then the issuing CA (DER). The signer MUST be a P-256 key. */
  constructor(
    private readonly signer: Signer,
    chain: readonly Uint8Array[],
  ) {
    if (signer.algorithm !== 'ES256') throw new Error('the service seal must be a P-256 key (receipts are ES256)');
    this.#headerB64 = b64u(JSON.stringify({ alg: 'ES256', typ: RECEIPT_TYPE, x5c: chain.map((c) => Buffer.from(c).toString('base64')) }));
  }

  async sign(payload: ReceiptPayload): Promise<string> {
    const input = `${this.#headerB64}.${b64u(canonicalJson(payload))}`;
    const signature = await this.signer.sign(Buffer.from(input, 'ascii'), { dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64u(signature)}`;
  }
}

export interface ReceiptTrust {
  /** The CA's root, obtained out of band. */
  anchors: readonly Certificate[];
  intermediates?: readonly Certificate[];
  revocation: RevocationSource;
  /** Validation time of the seal's path; default the receipt's `at`. */
  time?: Date;
}

export interface VerifiedReceipt {
  payload: ReceiptPayload;
  /** The seal certificate that signed it. */
  seal: Certificate;
  path: PathResult;
}

/** Reads a receipt without verifying it (payload and seal certificate), or ERR_SUBMISSION_RECEIPT_INVALID. */
export function readReceipt(jws: string): { payload: ReceiptPayload; chain: Certificate[]; signingInput: Buffer; signature: Buffer } {
  const text = jws.trim();
  if (text.length > MAX_RECEIPT_BYTES) throw invalid('it is too long to be a receipt');
  const parts = text.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    throw invalid('it is not a compact JWS (three base64url parts)');
  const header = parseJsonObject(parts[0]!, 'header');
  if (header['alg'] !== 'ES256') throw invalid(`its alg is ${JSON.stringify(header['alg'] ?? null)}, not ES256`);
  if (header['typ'] !== RECEIPT_TYPE) throw invalid(`its typ is ${JSON.stringify(header['typ'] ?? null)}, not ${RECEIPT_TYPE}`);
  if ('crit' in header || 'b64' in header) throw invalid('a receipt carries neither crit nor b64');
  const x5c = header['x5c'];
  if (
    !Array.isArray(x5c) ||
    x5c.length === 0 ||
    x5c.length > 4 ||
    !x5c.every((c) => typeof c === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(c))
  ) {
    throw invalid('its x5c is not a list of 1–4 base64 certificates');
  }
  let chain: Certificate[];
  try {
    chain = (x5c as string[]).map((c) => parseCertificate(Buffer.from(c, 'base64')));
  } catch (error) {
    throw invalid(`its x5c holds something that is not a certificate: ${(error as Error).message}`);
  }
  return {
    payload: parsePayload(parseJsonObject(parts[1]!, 'payload')),
    chain,
    signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

/**
 * Verifies a receipt: header rules, ES256 signature by the first x5c certificate, and that
 * certificate's path to `trust.anchors` as a Chancery service seal (document signing, service
 * policy) at the receipt's time. MUST throw ERR_SUBMISSION_RECEIPT_INVALID on any failure.
 */
export async function verifyReceipt(jws: string, trust: ReceiptTrust): Promise<VerifiedReceipt> {
  const { payload, chain, signingInput, signature } = readReceipt(jws);
  const seal = chain[0]!;
  const key = seal.tryPublicKey();
  const described = key === undefined ? undefined : describeKey(key);
  if (key === undefined || described?.type !== 'ec' || !('curve' in described) || described.curve !== 'P-256')
    throw invalid('the seal certificate does not hold a P-256 key');
  if (!verifySignature({ kind: 'ecdsa', hash: 'sha256', encoding: 'ieee-p1363' }, key, signingInput, signature)) {
    throw invalid("its signature does not verify with the seal certificate's key");
  }
  const path = await validatePath({
    leaf: seal,
    intermediates: [...chain.slice(1), ...(trust.intermediates ?? [])],
    anchors: trust.anchors,
    time: trust.time ?? new Date(payload.at),
    purpose: PURPOSE_DOCUMENT_SIGNING,
    requiredPolicies: [OID.policyService],
    revocation: trust.revocation,
  });
  if (path.indication !== 'TOTAL_PASSED') {
    const why = path.checks.find((c) => c.result !== 'PASSED');
    throw invalid(
      `the seal certificate is not a valid Chancery service seal (${path.subIndication ?? path.indication}${why === undefined ? '' : `: ${why.message}`})`,
      { indication: path.indication, subIndication: path.subIndication },
    );
  }
  return { payload, seal, path };
}

/** The CRLs a Chancery service publishes: the issuing CA's, and the root's (the issuing CA's status). */
export const CHANCERY_CRL_PATHS = ['/ca/issuing.crl', '/ca/root.crl'] as const;

/**
 * Revocation for an offline verifier of a Chancery chain (receipts, downloaded envelopes): the
 * CRLs of `CHANCERY_CRL_PATHS` (`ChanceryClient.caCrls()`), the issuing CA's for every
 * certificate it issued and the root's for the issuing CA itself (RFC 5280 §6.3.3: every
 * certificate below the anchor is checked). A certificate no usable CRL covers is unknown.
 */
export function offlineChanceryRevocation(crls: readonly Uint8Array[]): RevocationSource {
  return crlSource([...crls]);
}

function parseJsonObject(b64: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    throw invalid(`its ${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`its ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function parsePayload(p: Record<string, unknown>): ReceiptPayload {
  const keys = ['submission', 'applicant', 'documentDigest', 'status', 'at', 'logIndex', 'leafHash'];
  for (const key of Object.keys(p)) if (!keys.includes(key)) throw invalid(`its payload has an unknown member "${key.slice(0, 32)}"`);
  const str = (k: string, pattern: RegExp): string => {
    const v = p[k];
    if (typeof v !== 'string' || !pattern.test(v)) throw invalid(`its payload's ${k} is missing or malformed`);
    return v;
  };
  const logIndex = p['logIndex'];
  if (typeof logIndex !== 'number' || !Number.isSafeInteger(logIndex) || logIndex < 0)
    throw invalid("its payload's logIndex is not a non-negative integer");
  const status = p['status'];
  if (!SUBMISSION_STATUSES.includes(status as SubmissionStatus)) throw invalid("its payload's status is not a submission status");
  return {
    submission: str('submission', UUID),
    applicant: str('applicant', /^[0-9A-HJ-NPQRTUWXY]{18}$/),
    documentDigest: str('documentDigest', HEX64),
    status: status as SubmissionStatus,
    at: str('at', RFC3339),
    logIndex,
    leafHash: str('leafHash', HEX64),
  };
}

function invalid(why: string, detail?: Record<string, unknown>): SubmissionError {
  return new SubmissionError(
    'ERR_SUBMISSION_RECEIPT_INVALID',
    `the receipt does not verify: ${why}`,
    detail === undefined ? {} : { detail },
  );
}
