import { OID } from '../oids.js';
import type { Certificate } from './certificate.js';
import type { Decision } from './cms-attributes.js';
import { decodeOfficerAuthorization } from './officer-extension.js';
import { INDICATION_OF, type Check, type Indication, type SubIndication } from './report.js';

/**
 * The validation report of a signed envelope, and how it is assembled. The JSON shape below is a
 * public contract (the CLI prints it with `--json`, `POST /api/v1/verify` returns it, submissions
 * store it): add members compatibly, never rename or remove one. `reportVersion` changes if that
 * ever has to happen.
 *
 * ## Shape (reportVersion 1)
 *
 * ```
 * ValidationReport {
 *   reportVersion: 1
 *   indication: 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE'   -- the envelope as a whole
 *   subIndication?: SubIndication          -- present unless TOTAL_PASSED
 *   validationTime: string                 -- RFC 3339 UTC: the time everything was checked at
 *   format: 'cms' | 'jws' | null           -- null when the input is neither
 *   policy: { id, version, sha256 } | null -- the transaction policy applied (null: none, the
 *                                             document-signing purpose alone)
 *   document: {
 *     sha256: string | null                -- hex SHA-256 of the signed document bytes
 *     json: object | null                  -- the document, parsed (null when it is not I-JSON)
 *     type, applicant, applicationId: string | null   -- its core fields, when present
 *   }
 *   checks: Check[]                        -- envelope-level checks: format, content, document,
 *                                             schema, policy format rules
 *   signatures: SignatureReport[]          -- the enterprise's signature first, then each
 *                                             countersignature ordered by signing time
 * }
 *
 * SignatureReport {
 *   index: number                          -- 0 = the enterprise's signature
 *   role: 'signer' | 'countersigner'
 *   indication, subIndication?             -- this signature alone (incl. its path and binding)
 *   signer: SignerSummary | null           -- null when no signer certificate was found
 *   algorithm: string | null               -- e.g. ES256, EdDSA, PS256, ECDSA-P256-SHA384
 *   signingTime: string | null             -- claimed (CMS signing-time, JWS sigT or iat), RFC 3339 UTC
 *   decision?: 'approve' | 'refuse' | 'review' | null   -- countersignatures only
 *   reason?: string                        -- countersignatures only: the officer's reason, signed
 *                                             with the decision (decision-reason.ts), when given
 *   bestSignatureTime: { time, source, detail }   -- the earliest proof of existence of this
 *                                             signature value: 'signature-time-stamp' (a trusted
 *                                             token's genTime), 'log-inclusion-proof' (a log entry
 *                                             proven into a checkpoint under a pinned log key),
 *                                             'archive-timestamp' (that entry under a checkpoint
 *                                             whose RFC 3161 archive time-stamp is trusted), or
 *                                             'validation-time' when there is none. An expired or
 *                                             later-revoked certificate path is validated at it.
 *   timestamps: TimestampReport[]          -- each signature time-stamp token on the signature:
 *                                             { index, indication, subIndication?, genTime,
 *                                               serialNumber, policy, tsa: SignerSummary|null,
 *                                               checks }; only a TOTAL_PASSED one is a proof
 *   archiveTimestamps?: TimestampReport[]  -- the archive time-stamps of log checkpoints covering
 *                                             this signature's log entry (evidence containers), oldest
 *                                             first; a renewed one has a `timestamp.renewal` check
 *   checks: Check[]                        -- every check, in the order run (path checks included)
 * }
 *
 * SignerSummary {
 *   subject: string                        -- e.g. "C=CN, O=Acme, organizationIdentifier=NTRCN-…, CN=Acme"
 *   organizationIdentifier: string | null  -- 2.5.4.97
 *   serialNumber: string                   -- certificate serial, lowercase hex
 *   issuer: string
 *   certificateSha256: string              -- hex SHA-256 of the certificate's DER
 *   notBefore, notAfter: string            -- RFC 3339 UTC
 *   officer: { role, jurisdiction } | null -- Chancery's officer extension, when present
 * }
 *
 * Check { id, result: 'PASSED'|'FAILED'|'INDETERMINATE', message, subIndication?, certificateIndex? }
 * ```
 *
 * ## How indications are derived
 *
 * A signature is TOTAL_PASSED only when every one of its checks PASSED. Otherwise the first check
 * (in run order) whose sub-indication belongs to TOTAL_FAILED decides; failing that, the first
 * non-passed check with a sub-indication decides INDETERMINATE; a non-passed check without one
 * (a check that could not run) gives INDETERMINATE/GENERIC. The envelope's indication is the
 * same rule over, in order: the envelope checks that precede signature validation (format),
 * the enterprise's signature, the envelope checks that follow it (document, schema), then the
 * countersignatures.
 */

export const REPORT_VERSION = 1;

export interface SignerSummary {
  subject: string;
  organizationIdentifier: string | null;
  serialNumber: string;
  issuer: string;
  certificateSha256: string;
  notBefore: string;
  notAfter: string;
  officer: { role: string; jurisdiction: string } | null;
}

export interface SignatureReport {
  index: number;
  role: 'signer' | 'countersigner';
  indication: Indication;
  subIndication?: SubIndication;
  signer: SignerSummary | null;
  algorithm: string | null;
  signingTime: string | null;
  decision?: Decision | null;
  /** Countersignatures: the reason signed with the decision, when one was given and is well-formed. */
  reason?: string;
  /** The best proof of existence used for this signature (see BestSignatureTime). */
  bestSignatureTime: BestSignatureTime;
  /** Every signature time-stamp token on this signature, each validated on its own. */
  timestamps: TimestampReport[];
  /**
   * The archive time-stamps of the log's checkpoints that cover this signature's log entry (an
   * evidence container's), each validated; present only when some were given.
   */
  archiveTimestamps?: TimestampReport[];
  checks: Check[];
}

export interface ValidationReport {
  reportVersion: typeof REPORT_VERSION;
  indication: Indication;
  subIndication?: SubIndication;
  validationTime: string;
  format: 'cms' | 'jws' | null;
  policy: { id: string; version: number; sha256: string } | null;
  document: {
    sha256: string | null;
    json: Record<string, unknown> | null;
    type: string | null;
    applicant: string | null;
    applicationId: string | null;
  };
  checks: Check[];
  signatures: SignatureReport[];
}

/**
 * What a format (CMS or JWS) established about one signature, before the checks common to both
 * formats (signing-time window, path validation, applicant binding) are added by envelope.ts.
 */
export interface SignatureEvidence {
  role: 'signer' | 'countersigner';
  checks: CheckList;
  /** The signer certificate, when found (and bound to the signature). */
  certificate: Certificate | undefined;
  /** The verified algorithm's policy name, when one was decided. */
  algorithm: string | null;
  /** The claimed signing time (CMS signing-time, JWS `iat`). */
  signingTime: Date | undefined;
  /** Countersignatures: the officer's decision, null when none could be read. */
  decision?: Decision | null;
  /** Countersignatures: the reason signed with the decision, when one was given and is well-formed. */
  reason?: string;
  /** Certificates the signature itself carries for path building (JWS `x5c`, JAdES `xVals`). */
  carried?: Certificate[];
  /** The signature value as signed (CMS SignerInfo.signature; the decoded JWS signature). */
  signatureValue?: Uint8Array;
  /** Signature time-stamp tokens on this signature, each with the bytes its messageImprint must cover. */
  timestampTokens?: Array<{ token: Uint8Array; covered: Uint8Array; coveredName: string }>;
  /** Set by envelope.ts: what each token was found to be, and the best proof of existence. */
  timestamps?: TimestampReport[];
  archiveTimestamps?: TimestampReport[];
  bestSignatureTime?: BestSignatureTime;
}

/** What the validation of one signature time-stamp token found (RFC 3161; see timestamp.ts). */
export interface TimestampReport {
  index: number;
  /** TOTAL_PASSED only when the token is a proof of existence that can be relied on. */
  indication: Indication;
  subIndication?: SubIndication;
  /** The time the TSA asserts (RFC 3339 UTC), when the TSTInfo could be read. */
  genTime: string | null;
  serialNumber: string | null;
  policy: string | null;
  tsa: SignerSummary | null;
  checks: Check[];
}

/**
 * The earliest time the signature is proven to have existed (ETSI EN 319 102-1 §5.6.2.1 "best
 * signature time"): a trusted signature time-stamp's genTime, a log inclusion proof's entry time,
 * or, without any proof, the validation time itself.
 */
export interface BestSignatureTime {
  time: string;
  source: 'signature-time-stamp' | 'log-inclusion-proof' | 'archive-timestamp' | 'validation-time';
  /** What the proof is, in a sentence (the TSA and serial, or the log entry and checkpoint). */
  detail: string;
}

export interface Outcome {
  indication: Indication;
  subIndication?: SubIndication;
}

/** Checks in run order, written as sentences. */
export class CheckList {
  readonly checks: Check[] = [];

  pass(id: string, message: string, certificateIndex?: number): this {
    this.checks.push(
      certificateIndex === undefined ? { id, result: 'PASSED', message } : { id, result: 'PASSED', message, certificateIndex },
    );
    return this;
  }

  /** The check ran and found a fault; `subIndication` says what the fault means. */
  fail(id: string, subIndication: SubIndication, message: string, certificateIndex?: number): this {
    this.checks.push(
      certificateIndex === undefined
        ? { id, result: 'FAILED', message, subIndication }
        : { id, result: 'FAILED', message, subIndication, certificateIndex },
    );
    return this;
  }

  /** The check ran but could not decide (e.g. no revocation information). */
  indeterminate(id: string, subIndication: SubIndication, message: string): this {
    this.checks.push({ id, result: 'INDETERMINATE', message, subIndication });
    return this;
  }

  /** The check could not run because something it needs failed earlier. */
  notRun(id: string, because: string): this {
    this.checks.push({ id, result: 'INDETERMINATE', message: `not run: ${because}` });
    return this;
  }

  add(...checks: Check[]): this {
    for (const c of checks) this.checks.push(c);
    return this;
  }

  get allPassed(): boolean {
    return this.checks.every((c) => c.result === 'PASSED');
  }
}

/** The outcome of a list of checks, by the rule documented above. */
export function outcomeOf(checks: readonly Check[]): Outcome {
  const failing = checks.filter((c) => c.result !== 'PASSED');
  if (failing.length === 0) return { indication: 'TOTAL_PASSED' };
  const failed = failing.find((c) => c.subIndication !== undefined && INDICATION_OF[c.subIndication] === 'TOTAL_FAILED');
  if (failed !== undefined) return { indication: 'TOTAL_FAILED', subIndication: failed.subIndication! };
  const withSub = failing.find((c) => c.subIndication !== undefined);
  return { indication: 'INDETERMINATE', subIndication: withSub?.subIndication ?? 'GENERIC' };
}

/** The combined outcome of several outcomes, in order (the first TOTAL_FAILED, else the first INDETERMINATE). */
export function combineOutcomes(outcomes: readonly Outcome[]): Outcome {
  return (
    outcomes.find((o) => o.indication === 'TOTAL_FAILED') ??
    outcomes.find((o) => o.indication === 'INDETERMINATE') ?? { indication: 'TOTAL_PASSED' }
  );
}

/** An outcome as report members (no `subIndication` key when passed). */
export function outcomeFields(o: Outcome): Outcome {
  return o.subIndication === undefined ? { indication: o.indication } : { indication: o.indication, subIndication: o.subIndication };
}

/** Summaries by certificate (a pure function of its bytes; certificates are parsed once, cached). */
const summaries = new WeakMap<Certificate, SignerSummary>();

/** What a report says about a signer certificate (a fresh object; the officer member is frozen). */
export function summarizeSigner(cert: Certificate): SignerSummary {
  let summary = summaries.get(cert);
  if (summary === undefined) {
    summary = summarize(cert);
    summaries.set(cert, summary);
  }
  return { ...summary };
}

function summarize(cert: Certificate): SignerSummary {
  const orgIds = cert.subject.attribute(OID.organizationIdentifier);
  const officerExt = cert.extension(OID.officerAuthorization);
  const officer = officerExt === undefined ? undefined : decodeOfficerAuthorization(officerExt.value);
  return {
    subject: cert.subject.toString(),
    organizationIdentifier: orgIds.length === 1 ? orgIds[0]! : null,
    serialNumber: cert.serialNumberHex,
    issuer: cert.issuer.toString(),
    certificateSha256: cert.sha256Fingerprint,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    officer: officer === undefined ? null : Object.freeze({ role: officer.role, jurisdiction: officer.jurisdiction }),
  };
}
