import { sha256Hex } from '../crypto/digest.js';
import { OID } from '../oids.js';
import { DEFAULT_SIGNATURE_RULES, type SignatureRules } from '../policy/algorithms.js';
import { checkApplicantBinding } from '../policy/applicant.js';
import { parseDocument } from '../policy/document.js';
import type { LoadedPolicy, PolicySet } from '../policy/policy.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { verifyCmsSignatures } from './cms.js';
import { MAX_CONTENT_BYTES, parseCmsSignedData, type CmsSignedData } from './cms-parse.js';
import { isParseFault, VerifyError } from './errors.js';
import { parseJws, type ParsedJws } from './jws-parse.js';
import { verifyJwsSignatures } from './jws.js';
import { PURPOSE_DOCUMENT_SIGNING, validatePath } from './path.js';
import type { RevocationSource } from './revocation.js';
import { cmsRevocationValues, jwsRevocationValues, withCarriedRevocation } from './revocation-values.js';
import { verifyArchiveChain, verifyTimestampToken, type ArchiveChain, type ArchiveChainValidation } from './timestamp.js';
import {
  CheckList,
  REPORT_VERSION,
  combineOutcomes,
  outcomeFields,
  outcomeOf,
  summarizeSigner,
  type SignatureEvidence,
  type SignatureReport,
  type ValidationReport,
} from './validation-report.js';

/**
 * Validation of a signed envelope: one pure function from an envelope,
 * trust anchors, a revocation source, a policy and a time to a validation report. No I/O, no
 * clock, no global state: the server and the offline CLI get the same verdict for the same
 * inputs. The report shape is documented in validation-report.ts.
 */

export interface VerifyEnvelopeInput {
  /** The envelope: DER CMS SignedData, or JWS text (compact, flattened or general JSON). */
  envelope: Uint8Array;
  /** The document, for a detached envelope (CMS without eContent, JWS with an empty payload). */
  content?: Uint8Array | undefined;
  /** Trust anchors (root certificates). */
  anchors: readonly Certificate[];
  /** Further untrusted certificates to build paths with, besides those the envelope carries. */
  intermediates?: readonly Certificate[] | undefined;
  revocation: RevocationSource;
  /**
   * The transaction policy. Absent: the signatures are validated for the document-signing
   * purpose alone, without schema, applicant or certificate-policy checks.
   */
  policy?: LoadedPolicy | undefined;
  /**
   * Choose the policy by the document's `type` among these (when `policy` is not given): what a
   * submission endpoint wants. A document whose type has no policy fails with POLICY_FAILURE.
   */
  policies?: PolicySet | undefined;
  /** The validation time. */
  time: Date;
  /**
   * Proofs of existence established outside the envelope, e.g. a log entry naming a signature
   * value's SHA-256, proven into a checkpoint verified with a pinned log key (the caller proves
   * it; the verifier matches it to a signature by that hash).
   */
  proofsOfExistence?: readonly ProofOfExistence[] | undefined;
  /**
   * Verify CMS signature values on libuv's thread pool instead of the calling thread: for a server
   * validating many envelopes at once (the event loop parses the next one meanwhile). A lone
   * validation pays ~0.1 ms for the hop, so in-process callers (CLI, benchmarks) leave it off.
   * Same verdict either way.
   */
  signaturesOnThreadPool?: boolean | undefined;
}

/** A proof that a signature value existed at a time, from outside the envelope. */
export type ProofOfExistence = LogProofOfExistence | ArchiveProofOfExistence;

/** A log entry naming the signature value, proven into a checkpoint: it existed at the entry's time. */
export interface LogProofOfExistence {
  /** Lowercase hex SHA-256 of the signature value (CMS SignerInfo.signature, the decoded JWS signature). */
  signatureValueSha256: string;
  time: Date;
  source: 'log-inclusion-proof';
  /** What proves it, in a sentence. */
  detail: string;
}

/**
 * A log entry naming the signature value, proven under archive time-stamped checkpoints: it
 * existed at the earliest trusted token's genTime. The tokens are validated here (verifyArchiveChain),
 * once per chain; one that does not validate is reported in `archiveTimestamps` and not used.
 */
export interface ArchiveProofOfExistence {
  signatureValueSha256: string;
  source: 'archive-timestamp';
  chain: ArchiveChain;
  /** The log entry it is about, in a sentence. */
  detail: string;
}

/**
 * Path faults a proof of existence can cure (ETSI EN 319 102-1 §5.6.2.4, §5.6.3): a certificate
 * that has expired, or was revoked, since the signature existed. Nothing else depends on time.
 */
const CURABLE_BY_POE: ReadonlySet<string> = new Set([
  'OUT_OF_BOUNDS_NO_POE',
  'OUT_OF_BOUNDS_NOT_REVOKED',
  'REVOKED',
  'REVOKED_NO_POE',
  'REVOKED_CA_NO_POE',
  'EXPIRED',
]);

/** Validates an envelope and every signature on it; never throws for anything in the input. */
export async function verifyEnvelope(input: VerifyEnvelopeInput): Promise<ValidationReport> {
  const before = new CheckList(); // envelope checks that come before the enterprise's signature
  const after = new CheckList(); // document and policy checks that come after it

  // 1. What the envelope is, parsed within hard limits.
  const envelope = readEnvelope(input.envelope, before);
  if (envelope === undefined) return assemble(input, input.policy, null, before, after, null, undefined);

  // Revocation values the envelope carries (B-LT) answer what the given source cannot.
  input = {
    ...input,
    revocation: withCarriedRevocation(
      input.revocation,
      envelope.format === 'cms' ? cmsRevocationValues(envelope.signedData) : jwsRevocationValues(envelope.jws),
    ),
  };

  // 2. The signed document: carried, or supplied for a detached envelope; and the policy for it.
  const content = resolveContent(envelope.embedded, input.content, before);
  const parsedDocument = content === undefined ? undefined : parseDocument(content);
  const policy = input.policy ?? (input.policies === undefined ? undefined : selectPolicy(input.policies, parsedDocument, before));
  const rules = signatureRulesOf(policy);

  // 3. The policy allows this format.
  if (!rules.formats.includes(envelope.format)) {
    before.fail(
      'policy.format',
      'POLICY_FAILURE',
      `the policy ${policy!.id} does not accept ${envelope.format.toUpperCase()} envelopes (it accepts ${rules.formats.join(', ')})`,
    );
  } else if (policy !== undefined) {
    before.pass('policy.format', `the policy ${policy.id} accepts ${envelope.format.toUpperCase()} envelopes`);
  }

  // 4. The format's own checks of every signature (structure, certificate, algorithm, value).
  const found =
    envelope.format === 'cms'
      ? await verifyCmsSignatures(
          envelope.signedData,
          content,
          [...envelope.certificates, ...(input.intermediates ?? [])],
          rules,
          input.signaturesOnThreadPool === true,
        )
      : await verifyJwsSignatures(envelope.jws, content, rules);

  // 5. The document: I-JSON, and under a policy its type and schema.
  const document = parsedDocument === undefined ? undefined : checkDocument(parsedDocument, policy, after);

  // 6. Checks common to both formats: signing-time window, certificate path, applicant binding.
  const carried = envelope.format === 'cms' ? envelope.certificates : [];
  const signer = await finishSignature(found.signer, undefined, carried, input, policy, rules, document);
  const countersigners = await Promise.all(
    found.countersigners.map((c) => finishSignature(c, found.signer.signingTime, carried, input, policy, rules, undefined)),
  );

  return assemble(
    input,
    policy,
    envelope.format,
    before,
    after,
    content === undefined ? null : { bytes: content, json: document ?? null },
    [signer, ...countersigners],
  );
}

type ReadEnvelope =
  | { format: 'cms'; signedData: CmsSignedData; certificates: Certificate[]; embedded: Uint8Array | undefined }
  | { format: 'jws'; jws: ParsedJws; embedded: Uint8Array | undefined };

/** Detects the format and parses it; a fault becomes a FORMAT_FAILURE check. */
function readEnvelope(bytes: Uint8Array, checks: CheckList): ReadEnvelope | undefined {
  const format = detectFormat(bytes);
  if (format === undefined) {
    checks.fail('envelope.format', 'FORMAT_FAILURE', 'the input is neither a DER CMS SignedData nor a JWS (compact or JSON)');
    return undefined;
  }
  try {
    if (format === 'cms') {
      const signedData = parseCmsSignedData(bytes);
      if (signedData.signerInfos.length !== 1)
        throw new VerifyError(
          'ERR_VERIFY_MALFORMED',
          `the SignedData has ${signedData.signerInfos.length} SignerInfos; a Chancery envelope has exactly one (officers countersign it)`,
        );
      if (signedData.eContentType !== OID.data)
        throw new VerifyError(
          'ERR_VERIFY_MALFORMED',
          `the encapsulated content type is ${signedData.eContentType}, not id-data (${OID.data})`,
        );
      const certificates = signedData.certificates.map((der, i) => {
        try {
          return parseCertificate(der);
        } catch (error) {
          throw new VerifyError('ERR_VERIFY_MALFORMED', `certificate ${i + 1} of the envelope cannot be read: ${(error as Error).message}`);
        }
      });
      checks.pass('envelope.format', `the envelope is a DER CMS SignedData with one SignerInfo and ${certificates.length} certificates`);
      return { format, signedData, certificates, embedded: signedData.eContent };
    }
    const jws = parseJws(bytes);
    checks.pass(
      'envelope.format',
      `the envelope is a JWS (${jws.serialization} serialization) with ${jws.signatures.length} signature${jws.signatures.length === 1 ? '' : 's'}`,
    );
    return { format, jws, embedded: jws.payload };
  } catch (error) {
    if (!isParseFault(error)) throw error;
    checks.fail('envelope.format', 'FORMAT_FAILURE', `the ${format === 'cms' ? 'CMS' : 'JWS'} envelope is malformed: ${error.message}`);
    return undefined;
  }
}

/** CMS when the input starts with a DER SEQUENCE; JWS when it is JSON or three base64url parts. */
export function detectFormat(bytes: Uint8Array): 'cms' | 'jws' | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === 0x30) return 'cms';
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b) return 'jws';
  const head = Buffer.from(bytes.subarray(i, Math.min(bytes.length, i + 4096))).toString('latin1');
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(\.|$)/.test(head) ? 'jws' : undefined;
}

function resolveContent(embedded: Uint8Array | undefined, supplied: Uint8Array | undefined, checks: CheckList): Uint8Array | undefined {
  if (supplied !== undefined && supplied.length > MAX_CONTENT_BYTES) {
    checks.fail(
      'envelope.content',
      'FORMAT_FAILURE',
      `the supplied document is ${supplied.length} bytes, above the limit of ${MAX_CONTENT_BYTES}`,
    );
    return undefined;
  }
  if (embedded !== undefined) {
    if (supplied !== undefined && !Buffer.from(supplied).equals(Buffer.from(embedded))) {
      checks.fail('envelope.content', 'FORMAT_FAILURE', 'a document was supplied, but the envelope carries a different one');
      return undefined;
    }
    checks.pass('envelope.content', `the envelope carries the document (${embedded.length} bytes)`);
    return embedded;
  }
  if (supplied === undefined) {
    checks.indeterminate('envelope.content', 'SIGNED_DATA_NOT_FOUND', 'the envelope is detached and the document was not supplied');
    return undefined;
  }
  checks.pass('envelope.content', `the envelope is detached; the supplied document (${supplied.length} bytes) is checked against it`);
  return supplied;
}

/** The policy whose id is the document's type; a fault is a check and no policy. */
function selectPolicy(
  policies: PolicySet,
  parsed: ReturnType<typeof parseDocument> | undefined,
  checks: CheckList,
): LoadedPolicy | undefined {
  if (parsed === undefined) {
    checks.notRun('policy.select', 'the document is not available, so no policy can be chosen by its type');
    return undefined;
  }
  if (!parsed.ok) {
    checks.fail('policy.select', 'FORMAT_FAILURE', `no policy can be chosen by the document's type: ${parsed.reason}`);
    return undefined;
  }
  const type = parsed.value['type'];
  const policy = typeof type === 'string' ? policies.get(type) : undefined;
  if (policy === undefined) {
    checks.fail(
      'policy.select',
      'POLICY_FAILURE',
      `no policy applies to the document type ${JSON.stringify(type ?? null).slice(0, 80)} (known: ${policies
        .list()
        .map((p) => p.id)
        .join(', ')})`,
    );
    return undefined;
  }
  checks.pass('policy.select', `the document's type selects the policy ${policy.id} v${policy.version}`);
  return policy;
}

/** The parsed document; under a policy, its JSON form, type and schema are checked. */
function checkDocument(
  parsed: ReturnType<typeof parseDocument>,
  policy: LoadedPolicy | undefined,
  checks: CheckList,
): Record<string, unknown> | undefined {
  if (!parsed.ok) {
    // Without a policy the signature alone is validated; a non-JSON document is reported, not failed.
    if (policy !== undefined) checks.fail('document.json', 'FORMAT_FAILURE', `the document is not acceptable JSON: ${parsed.reason}`);
    return undefined;
  }
  if (policy === undefined) return parsed.value;
  checks.pass('document.json', 'the document is a JSON object (I-JSON: UTF-8, no repeated member names)');
  const type = parsed.value['type'];
  if (type !== policy.id) {
    checks.fail(
      'policy.document-type',
      'POLICY_FAILURE',
      `the document's type is ${JSON.stringify(type ?? null).slice(0, 80)}, not ${policy.id}`,
    );
  } else {
    checks.pass('policy.document-type', `the document's type is ${policy.id}`);
  }
  const valid = policy.validateDocument(parsed.value);
  if (valid.valid) checks.pass('policy.document-schema', `the document matches the ${policy.id} v${policy.version} schema`);
  else
    checks.fail(
      'policy.document-schema',
      'POLICY_FAILURE',
      `the document does not match the ${policy.id} v${policy.version} schema: ${valid.errors.join('; ')}`,
    );
  return parsed.value;
}

/** The signing-time window, the certificate path and (for the enterprise) the applicant binding. */
async function finishSignature(
  evidence: SignatureEvidence,
  enterpriseSigningTime: Date | undefined,
  carried: readonly Certificate[],
  input: VerifyEnvelopeInput,
  policy: LoadedPolicy | undefined,
  rules: SignatureRules,
  document: Record<string, unknown> | undefined,
): Promise<SignatureEvidence> {
  const { checks } = evidence;

  // Signing time: not after the validation time (allowing the policy's clock skew); a
  // countersignature not before the signature it countersigns.
  if (evidence.signingTime === undefined) {
    checks.notRun('signature.signing-time-window', 'no signing time was read');
  } else {
    const latest = input.time.getTime() + rules.maxClockSkewMs;
    if (evidence.signingTime.getTime() > latest) {
      checks.fail(
        'signature.signing-time-window',
        'SIG_CONSTRAINTS_FAILURE',
        `the claimed signing time ${evidence.signingTime.toISOString()} is after the validation time ${input.time.toISOString()} (plus ${rules.maxClockSkewMs / 1000} s clock skew)`,
      );
    } else if (
      enterpriseSigningTime !== undefined &&
      evidence.signingTime.getTime() + rules.maxClockSkewMs < enterpriseSigningTime.getTime()
    ) {
      checks.fail(
        'signature.signing-time-window',
        'SIG_CONSTRAINTS_FAILURE',
        `the countersignature claims ${evidence.signingTime.toISOString()}, before the enterprise signed (${enterpriseSigningTime.toISOString()})`,
      );
    } else {
      checks.pass(
        'signature.signing-time-window',
        `the claimed signing time is not after the validation time${enterpriseSigningTime === undefined ? '' : ' nor before the enterprise signature'}`,
      );
    }
  }

  // Proofs of existence: the signature's own time-stamps, validated here, and those given.
  const best = await bestProofOfExistence(evidence, carried, input);
  if (
    best !== undefined &&
    evidence.signingTime !== undefined &&
    evidence.signingTime.getTime() > best.at.getTime() + rules.maxClockSkewMs
  ) {
    checks.fail(
      'signature.proof-of-existence',
      'SIG_CONSTRAINTS_FAILURE',
      `the claimed signing time ${evidence.signingTime.toISOString()} is after the signature's proof of existence at ${best.time} (${best.detail})`,
    );
  }

  // The certificate path, for the document-signing purpose, at the validation time, with
  // revocation; when it fails only because a certificate has since expired or been revoked, at the
  // best signature time instead (ETSI EN 319 102-1 §5.6.2: validation with time).
  const leaf = evidence.certificate;
  if (leaf === undefined) {
    checks.notRun('path', 'the signer certificate was not found');
  } else {
    const requiredPolicies =
      policy === undefined ? undefined : [evidence.role === 'signer' ? OID.policyEnterpriseSigning : OID.policyOfficer];
    const pathAt = (time: Date) =>
      validatePath({
        leaf,
        intermediates: [...(evidence.carried ?? []), ...carried, ...(input.intermediates ?? [])],
        anchors: input.anchors,
        time,
        purpose: PURPOSE_DOCUMENT_SIGNING,
        revocation: input.revocation,
        ...(requiredPolicies === undefined ? {} : { requiredPolicies }),
      });
    let path = await pathAt(input.time);
    if (
      path.indication !== 'TOTAL_PASSED' &&
      best !== undefined &&
      best.at.getTime() < input.time.getTime() &&
      CURABLE_BY_POE.has(outcomeOf(path.checks).subIndication ?? path.subIndication ?? '')
    ) {
      const now = path.checks.find((c) => c.result !== 'PASSED');
      const atPoe = await pathAt(best.at);
      checks.pass(
        'signature.proof-of-existence',
        `at the validation time the path fails (${outcomeOf(path.checks).subIndication ?? path.subIndication}: ${now?.message ?? 'not valid'}); the signature existed at ${best.time} (${best.detail}), so the path is validated at that time`,
      );
      path = atPoe;
    }
    checks.add(...path.checks);
    if (path.indication !== 'TOTAL_PASSED' && outcomeOf(path.checks).indication === 'TOTAL_PASSED') {
      checks.fail('path', path.subIndication ?? 'CERTIFICATE_CHAIN_GENERAL_FAILURE', 'the certificate path is not valid');
    }
  }

  // The applicant binding: the enterprise signs its own applications.
  if (evidence.role === 'signer' && policy !== undefined) {
    if (leaf === undefined) checks.notRun('policy.applicant-binding', 'the signer certificate was not found');
    else if (document === undefined) checks.notRun('policy.applicant-binding', 'the document could not be read');
    else {
      const binding = checkApplicantBinding(document, leaf.subject.attribute(OID.organizationIdentifier));
      if (binding.bound)
        checks.pass(
          'policy.applicant-binding',
          `the signer's organizationIdentifier ${binding.organizationIdentifier} is NTRCN- plus the document's applicant`,
        );
      else checks.fail('policy.applicant-binding', 'POLICY_FAILURE', binding.reason);
    }
  }
  return evidence;
}

interface BestPoe {
  at: Date;
  time: string;
  source: 'signature-time-stamp' | 'log-inclusion-proof' | 'archive-timestamp';
  detail: string;
}

/** Each archive chain is validated once per validation, however many signatures it covers. */
const archiveValidations = new WeakMap<VerifyEnvelopeInput, Map<ArchiveChain, Promise<ArchiveChainValidation>>>();

function archiveChainOf(input: VerifyEnvelopeInput, chain: ArchiveChain): Promise<ArchiveChainValidation> {
  let byChain = archiveValidations.get(input);
  if (byChain === undefined) archiveValidations.set(input, (byChain = new Map()));
  let v = byChain.get(chain);
  if (v === undefined) {
    v = verifyArchiveChain(chain, {
      anchors: input.anchors,
      intermediates: input.intermediates,
      revocation: input.revocation,
      time: input.time,
    });
    byChain.set(chain, v);
  }
  return v;
}

/**
 * Validates the signature's time-stamp tokens (recording each in `evidence.timestamps`; a token
 * that is not intact, i.e. forged, altered, for other data or badly bound, fails the signature) and
 * returns the earliest proof of existence among the trusted tokens and the given proofs.
 */
async function bestProofOfExistence(
  evidence: SignatureEvidence,
  carried: readonly Certificate[],
  input: VerifyEnvelopeInput,
): Promise<BestPoe | undefined> {
  const candidates: BestPoe[] = [];
  evidence.timestamps = [];
  for (const [index, t] of (evidence.timestampTokens ?? []).entries()) {
    const v = await verifyTimestampToken({
      token: t.token,
      data: t.covered,
      dataName: t.coveredName,
      anchors: input.anchors,
      intermediates: [...carried, ...(input.intermediates ?? [])],
      revocation: input.revocation,
      time: input.time,
      index,
    });
    evidence.timestamps.push(v.report);
    const why = v.report.checks.find((c) => c.result !== 'PASSED');
    if (!v.intact) {
      evidence.checks.fail(
        'signature.time-stamp',
        v.report.subIndication ?? 'FORMAT_FAILURE',
        `signature time-stamp ${index + 1} is not valid: ${why?.message ?? 'it could not be read'}`,
      );
    } else if (v.proofTime !== undefined) {
      const tsa = v.report.tsa?.subject ?? 'an unnamed TSA';
      candidates.push({
        at: v.proofTime,
        time: v.proofTime.toISOString(),
        source: 'signature-time-stamp',
        detail: `signature time-stamp ${index + 1}, serial ${v.report.serialNumber}, by ${tsa}`,
      });
    }
    // An intact token that is not trusted (its TSA's path fails, it is dated after the validation
    // time) is reported in `timestamps` and not used.
  }
  const value = evidence.signatureValue;
  if (value !== undefined && input.proofsOfExistence !== undefined && input.proofsOfExistence.length > 0) {
    const hash = sha256Hex(value);
    for (const p of input.proofsOfExistence) {
      if (p.signatureValueSha256 !== hash) continue;
      if (p.source === 'archive-timestamp') {
        const v = await archiveChainOf(input, p.chain);
        (evidence.archiveTimestamps ??= []).push(...v.reports);
        if (v.proofTime !== undefined)
          candidates.push({ at: v.proofTime, time: v.proofTime.toISOString(), source: p.source, detail: `${p.detail}: ${v.detail}` });
      } else if (p.time.getTime() <= input.time.getTime()) {
        candidates.push({ at: p.time, time: p.time.toISOString(), source: p.source, detail: p.detail });
      }
    }
  }
  candidates.sort((a, b) => a.at.getTime() - b.at.getTime());
  const best = candidates[0];
  evidence.bestSignatureTime =
    best === undefined
      ? { time: input.time.toISOString(), source: 'validation-time', detail: 'no proof of existence: the validation time' }
      : { time: best.time, source: best.source, detail: best.detail };
  return best;
}

function assemble(
  input: VerifyEnvelopeInput,
  policy: LoadedPolicy | undefined,
  format: 'cms' | 'jws' | null,
  before: CheckList,
  after: CheckList,
  document: { bytes: Uint8Array; json: Record<string, unknown> | null } | null,
  finished: SignatureEvidence[] | undefined,
): ValidationReport {
  const signatures: SignatureReport[] = [];
  const evidence = finished ?? [];
  // The enterprise's signature first, then countersignatures by signing time (unknown times last).
  const [signer, ...counters] = evidence;
  const ordered = signer === undefined ? [] : [signer, ...stableSortBySigningTime(counters)];
  for (const [index, e] of ordered.entries()) {
    const o = outcomeOf(e.checks.checks);
    const report: SignatureReport = {
      index,
      role: e.role,
      ...outcomeFields(o),
      signer: e.certificate === undefined ? null : summarizeSigner(e.certificate),
      algorithm: e.algorithm,
      signingTime: e.signingTime?.toISOString() ?? null,
      bestSignatureTime: e.bestSignatureTime ?? {
        time: input.time.toISOString(),
        source: 'validation-time',
        detail: 'no proof of existence: the validation time',
      },
      timestamps: e.timestamps ?? [],
      ...(e.archiveTimestamps === undefined ? {} : { archiveTimestamps: e.archiveTimestamps }),
      checks: e.checks.checks,
    };
    if (e.role === 'countersigner') report.decision = e.decision ?? null;
    if (e.role === 'countersigner' && e.reason !== undefined) report.reason = e.reason;
    signatures.push(report);
  }
  const outcomes = [outcomeOf(before.checks)];
  if (signatures[0] !== undefined) outcomes.push(signatures[0]);
  outcomes.push(outcomeOf(after.checks));
  outcomes.push(...signatures.slice(1));
  if (signatures.length === 0 && format !== null) outcomes.push({ indication: 'INDETERMINATE', subIndication: 'GENERIC' });
  const overall = combineOutcomes(outcomes);
  const json = document?.json ?? null;
  const field = (name: string): string | null => (json !== null && typeof json[name] === 'string' ? (json[name] as string) : null);
  return {
    reportVersion: REPORT_VERSION,
    ...outcomeFields(overall),
    validationTime: input.time.toISOString(),
    format,
    policy: policy === undefined ? null : { id: policy.id, version: policy.version, sha256: policy.sha256 },
    document: {
      sha256: document === null ? null : sha256Hex(document.bytes),
      json,
      type: field('type'),
      applicant: field('applicant'),
      applicationId: field('applicationId'),
    },
    checks: [...before.checks, ...after.checks],
    signatures,
  };
}

function stableSortBySigningTime(list: SignatureEvidence[]): SignatureEvidence[] {
  return list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.signingTime?.getTime() ?? Infinity) - (b.e.signingTime?.getTime() ?? Infinity) || a.i - b.i)
    .map((x) => x.e);
}

function signatureRulesOf(policy: LoadedPolicy | undefined): SignatureRules {
  if (policy === undefined) return DEFAULT_SIGNATURE_RULES;
  return {
    formats: policy.signature.formats,
    algorithms: policy.signature.algorithms,
    minRsaBits: policy.signature.minRsaBits,
    maxClockSkewMs: policy.signature.maxClockSkewMs,
  };
}
