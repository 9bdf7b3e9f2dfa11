import { digest } from '../crypto/digest.js';
import { toHex } from '../der/reader.js';
import { verifySignature, verifySignatureAsync } from '../crypto/signature.js';
import { OID } from '../oids.js';
import { algorithmAllowed, algorithmNameOf, type SignatureRules } from '../policy/algorithms.js';
import { algorithmName, signatureSchemeOf } from './algorithms.js';
import type { Certificate } from './certificate.js';
import {
  DECISION_BY_COMMITMENT,
  DIGEST_BY_OID,
  indexAttributes,
  readCommitment,
  readContentType,
  readMessageDigest,
  readSigningCertificateV2,
  readSigningTime,
  type Decision,
  type EssCertIdV2,
} from './cms-attributes.js';
import { MAX_COUNTERSIGNATURES, parseSignerInfo, type CmsAttribute, type CmsSignedData, type CmsSignerInfo } from './cms-parse.js';
import { reasonProblem } from './decision-reason.js';
import { isParseFault } from './errors.js';
import { parseNameDer } from './name.js';
import { OID_SIGNATURE_TIME_STAMP } from './timestamp.js';
import { CheckList, type SignatureEvidence } from './validation-report.js';

/**
 * The CMS half of envelope validation (RFC 5652, RFC 5035): for the
 * enterprise's SignerInfo and each countersignature, the checks that only CMS has — signed
 * attributes, message digest, signer certificate and its ESS binding, algorithm, signature
 * value, decision. Path validation, signing-time window and the applicant binding are common to
 * both formats and run in envelope.ts. No I/O; every fault becomes a check.
 */

/** What CMS validation found, for envelope.ts to finish. */
export interface CmsSignatures {
  signer: SignatureEvidence;
  countersigners: SignatureEvidence[];
}

/**
 * Runs the CMS checks of the one SignerInfo and of its countersignatures. `content` is the
 * document (encapsulated or detached; undefined when neither is available). `candidates` are the
 * certificates the signer may be found among (the envelope's, then any supplied).
 */
export async function verifyCmsSignatures(
  signedData: CmsSignedData,
  content: Uint8Array | undefined,
  candidates: readonly Certificate[],
  rules: SignatureRules,
  onThreadPool = false,
): Promise<CmsSignatures> {
  const si = signedData.signerInfos[0]!;
  const signer = await verifySignerInfo(
    si,
    { role: 'signer', message: content, eContentType: signedData.eContentType },
    candidates,
    rules,
    onThreadPool,
  );
  const countersigners: SignatureEvidence[] = [];
  const values = countersignatureValues(si, signer.checks);
  for (const [i, value] of values.entries()) {
    let counter: CmsSignerInfo;
    try {
      counter = parseSignerInfo(value, `countersignature ${i + 1}`);
    } catch (error) {
      const checks = new CheckList().fail(
        'cms.countersignature.structure',
        'FORMAT_FAILURE',
        `countersignature ${i + 1} is not a SignerInfo: ${messageOf(error)}`,
      );
      countersigners.push({
        role: 'countersigner',
        checks,
        certificate: undefined,
        algorithm: null,
        signingTime: undefined,
        decision: null,
      });
      continue;
    }
    const evidence = await verifySignerInfo(counter, { role: 'countersigner', message: si.signature }, candidates, rules, onThreadPool);
    if (counter.unsignedAttrs.some((a) => a.type === OID.countersignature)) {
      evidence.checks.fail(
        'cms.countersignature.nesting',
        'FORMAT_FAILURE',
        'the countersignature is itself countersigned; Chancery officers countersign the enterprise signature only',
      );
    }
    countersigners.push(evidence);
  }
  return { signer, countersigners };
}

/** The values of every countersignature attribute (RFC 5652 §11.4 allows several instances and several values). */
function countersignatureValues(si: CmsSignerInfo, checks: CheckList): CmsAttribute['values'] {
  const values = si.unsignedAttrs.filter((a) => a.type === OID.countersignature).flatMap((a) => a.values);
  if (values.length > MAX_COUNTERSIGNATURES) {
    checks.fail(
      'cms.countersignatures',
      'FORMAT_FAILURE',
      `the signature carries ${values.length} countersignatures, above the limit of ${MAX_COUNTERSIGNATURES}; none were verified`,
    );
    return [];
  }
  return values;
}

interface SignedMessage {
  role: 'signer' | 'countersigner';
  /** The enterprise's: the document. A countersignature's: the parent's signature value. */
  message: Uint8Array | undefined;
  /** The signer's eContentType, which its content-type attribute must equal. */
  eContentType?: string;
}

async function verifySignerInfo(
  si: CmsSignerInfo,
  signed: SignedMessage,
  candidates: readonly Certificate[],
  rules: SignatureRules,
  onThreadPool: boolean,
): Promise<SignatureEvidence> {
  const checks = new CheckList();
  const what = signed.role === 'signer' ? 'the signature' : 'the countersignature';
  const evidence: SignatureEvidence = {
    role: signed.role,
    checks,
    certificate: undefined,
    algorithm: null,
    signingTime: undefined,
    signatureValue: si.signature,
    timestampTokens: signatureTimestamps(si, checks, what),
  };
  if (signed.role === 'countersigner') evidence.decision = null;

  // 1. Signed attributes are required (RFC 5652 §5.3 makes them optional; Chancery does not).
  let attrs: Map<string, CmsAttribute> | undefined;
  if (si.signedAttrs === undefined) {
    checks.fail(
      'cms.signed-attributes',
      'FORMAT_FAILURE',
      `${what} has no signed attributes; Chancery requires content-type, message-digest, signing-time and signing-certificate-v2`,
    );
  } else {
    try {
      attrs = indexAttributes(si.signedAttrs.attributes, 'the signed attributes');
      checks.pass('cms.signed-attributes', `${what} has ${si.signedAttrs.attributes.length} signed attributes, none repeated`);
    } catch (error) {
      checks.fail('cms.signed-attributes', 'FORMAT_FAILURE', messageOf(error));
    }
  }

  // 2. content-type: equal to eContentType for the signer, absent for a countersignature (§11.4).
  step(checks, 'cms.content-type', attrs, (a) => {
    const ct = a.get(OID.contentType);
    if (signed.role === 'countersigner') {
      if (ct !== undefined)
        return fail('FORMAT_FAILURE', 'the countersignature has a content-type attribute, which RFC 5652 §11.4 forbids');
      return pass('the countersignature has no content-type attribute, as RFC 5652 §11.4 requires');
    }
    if (ct === undefined) return fail('FORMAT_FAILURE', 'the content-type signed attribute is missing');
    const value = readContentType(ct);
    if (value !== signed.eContentType)
      return fail('FORMAT_FAILURE', `the content-type attribute is ${value} but the encapsulated content type is ${signed.eContentType}`);
    return pass(`the content-type attribute equals the encapsulated content type (${value})`);
  });

  // 3. message-digest over the document (or the parent's signature value).
  step(checks, 'cms.message-digest', attrs, (a) => {
    const md = a.get(OID.messageDigest);
    if (md === undefined) return fail('FORMAT_FAILURE', 'the message-digest signed attribute is missing');
    const expected = readMessageDigest(md);
    const hash = DIGEST_BY_OID[si.digestAlgorithm.oid];
    if (hash === undefined)
      return fail(
        'CRYPTO_CONSTRAINTS_FAILURE',
        `the digest algorithm ${algorithmName(si.digestAlgorithm.oid)} is not accepted (SHA-256, SHA-384 and SHA-512 are)`,
      );
    if (signed.message === undefined)
      return {
        result: 'INDETERMINATE',
        subIndication: 'SIGNED_DATA_NOT_FOUND',
        message: 'the signed document is not available (a detached signature needs its content)',
      };
    const actual = digest(hash, signed.message);
    const of = signed.role === 'signer' ? 'the document' : "the enterprise's signature value";
    if (!actual.equals(expected))
      return fail('HASH_FAILURE', `the ${hash.toUpperCase()} of ${of} does not match the message-digest attribute`);
    return pass(`the ${hash.toUpperCase()} of ${of} matches the message-digest attribute`);
  });

  // 4. signing-time.
  step(checks, 'cms.signing-time', attrs, (a) => {
    const st = a.get(OID.signingTime);
    if (st === undefined) return fail('FORMAT_FAILURE', 'the signing-time signed attribute is missing');
    evidence.signingTime = readSigningTime(st);
    return pass(`the claimed signing time is ${evidence.signingTime.toISOString()}`);
  });

  // 5. The signer certificate, by sid, bound by signing-certificate-v2's certHash.
  let ess: EssCertIdV2 | undefined;
  step(checks, 'cms.signing-certificate-v2', attrs, (a) => {
    const sc = a.get(OID.signingCertificateV2);
    if (sc === undefined) return fail('FORMAT_FAILURE', 'the signing-certificate-v2 signed attribute (RFC 5035) is missing');
    ess = readSigningCertificateV2(sc);
    if (typeof ess.hash !== 'string')
      return fail(
        'CRYPTO_CONSTRAINTS_FAILURE',
        `signing-certificate-v2 uses the hash ${algorithmName(ess.hash.unsupported)}, which is not accepted`,
      );
    return pass(`signing-certificate-v2 names a certificate by its ${ess.hash.toUpperCase()}`);
  });
  const located = locateSigner(si, ess, candidates);
  if ('certificate' in located) {
    evidence.certificate = located.certificate;
    checks.pass(
      'cms.signer-certificate',
      `the signer certificate ${located.certificate.describe()} matches the signer identifier${ess === undefined ? '' : ' and the signing-certificate-v2 hash'}`,
    );
  } else {
    checks.fail('cms.signer-certificate', 'NO_SIGNING_CERTIFICATE_FOUND', located.reason);
  }

  // 6. Algorithm: Chancery's algorithm policy, then the transaction policy's allow-list.
  const cert = evidence.certificate;
  const key = cert?.tryPublicKey();
  let scheme: ReturnType<typeof signatureSchemeOf> | undefined;
  if (cert === undefined || key === undefined) {
    checks.notRun(
      'cms.signature-algorithm',
      cert === undefined
        ? 'the signer certificate was not found'
        : `the signer's public key cannot be read (${cert.publicKeyProblem ?? 'unknown reason'})`,
    );
  } else {
    scheme = signatureSchemeOf(si.signatureAlgorithm.der, key, { digestAlgorithm: si.digestAlgorithm.oid });
    if ('refused' in scheme) {
      checks.fail('cms.signature-algorithm', 'CRYPTO_CONSTRAINTS_FAILURE', scheme.refused);
    } else {
      const name = algorithmNameOf(scheme.scheme, key);
      evidence.algorithm = name;
      const allowed = algorithmAllowed(name, key, rules);
      if (allowed.ok) checks.pass('cms.signature-algorithm', `the signature algorithm ${name} is allowed`);
      else checks.fail('cms.signature-algorithm', 'CRYPTO_CONSTRAINTS_FAILURE', allowed.reason);
    }
  }

  // 7. The signature value, over the DER SET OF signed attributes (RFC 5652 §5.4); a server
  // computes it off the event loop (the one costly step of a submission's validation).
  if (si.signedAttrs === undefined) checks.notRun('cms.signature', 'there are no signed attributes to verify the signature over');
  else if (scheme === undefined || 'refused' in scheme || key === undefined)
    checks.notRun('cms.signature', 'no accepted algorithm and key to verify with');
  else if (
    onThreadPool
      ? await verifySignatureAsync(scheme.scheme, key, si.signedAttrs.signedBytes, si.signature)
      : verifySignature(scheme.scheme, key, si.signedAttrs.signedBytes, si.signature)
  )
    checks.pass('cms.signature', `${what} value verifies with the signer's public key over the signed attributes`);
  else checks.fail('cms.signature', 'SIG_CRYPTO_FAILURE', `${what} value does not verify with the signer's public key`);

  // 8. A countersignature's decision: commitment-type-indication (ETSI EN 319 122-1 §5.2.3).
  if (signed.role === 'countersigner') {
    step(checks, 'cms.decision', attrs, (a) => {
      const cti = a.get(OID.commitmentTypeIndication);
      if (cti === undefined)
        return fail('FORMAT_FAILURE', 'the countersignature has no commitment-type-indication, so it carries no decision');
      const { type, reason } = readCommitment(cti);
      const decision: Decision | undefined = DECISION_BY_COMMITMENT[type];
      if (decision === undefined)
        return fail('FORMAT_FAILURE', `the commitment type ${type} is not a Chancery decision (approve, refuse or review)`);
      evidence.decision = decision;
      if (reason === undefined) return pass(`the officer's decision is "${decision}" (commitment type ${type})`);
      const problem = reasonProblem(reason);
      if (problem !== undefined) return fail('FORMAT_FAILURE', `the reason signed with the decision is refused: ${problem}`);
      evidence.reason = reason;
      return pass(`the officer's decision is "${decision}" (commitment type ${type}), for the reason signed with it`);
    });
  }
  return evidence;
}

/** Most signature time-stamp tokens read from one SignerInfo. */
export const MAX_SIGNATURE_TIMESTAMPS = 4;

/**
 * The signature time-stamp tokens of a SignerInfo (RFC 3161 Appendix A, ETSI EN 319 122-1
 * §5.3: id-aa-signatureTimeStampToken, unsigned; each value a TimeStampToken over the SignerInfo's
 * signature value). Their validation is envelope.ts's; too many is a format fault.
 */
function signatureTimestamps(si: CmsSignerInfo, checks: CheckList, what: string): SignatureEvidence['timestampTokens'] {
  const values = si.unsignedAttrs.filter((a) => a.type === OID_SIGNATURE_TIME_STAMP).flatMap((a) => a.values);
  if (values.length > MAX_SIGNATURE_TIMESTAMPS) {
    checks.fail(
      'cms.signature-time-stamps',
      'FORMAT_FAILURE',
      `${what} carries ${values.length} signature time-stamps, above the limit of ${MAX_SIGNATURE_TIMESTAMPS}; none were used`,
    );
    return [];
  }
  return values.map((v) => ({ token: v.bytes, covered: si.signature, coveredName: `${what} value` }));
}

type StepResult =
  | { result: 'PASSED'; message: string }
  | { result: 'FAILED' | 'INDETERMINATE'; subIndication: Parameters<CheckList['fail']>[1]; message: string };

const pass = (message: string): StepResult => ({ result: 'PASSED', message });
const fail = (subIndication: Parameters<CheckList['fail']>[1], message: string): StepResult => ({
  result: 'FAILED',
  subIndication,
  message,
});

/** Runs one attribute check; a decoding fault is FORMAT_FAILURE; no attributes means not run. */
function step(
  checks: CheckList,
  id: string,
  attrs: Map<string, CmsAttribute> | undefined,
  run: (attrs: Map<string, CmsAttribute>) => StepResult,
): void {
  if (attrs === undefined) {
    checks.notRun(id, 'the signed attributes are missing or malformed');
    return;
  }
  let r: StepResult;
  try {
    r = run(attrs);
  } catch (error) {
    if (!isParseFault(error)) throw error;
    r = fail('FORMAT_FAILURE', error.message);
  }
  if (r.result === 'PASSED') checks.pass(id, r.message);
  else if (r.result === 'FAILED') checks.fail(id, r.subIndication, r.message);
  else checks.indeterminate(id, r.subIndication, r.message);
}

/**
 * The signer's certificate: among the candidates matching the signer identifier, the one whose
 * hash is the ESS certHash (when the attribute was read). Several distinct certificates matching
 * the identifier without an ESS hash to choose between them is refused as ambiguous.
 */
function locateSigner(
  si: CmsSignerInfo,
  ess: EssCertIdV2 | undefined,
  candidates: readonly Certificate[],
): { certificate: Certificate } | { reason: string } {
  const sid = si.sid;
  let matching: Certificate[];
  let described: string;
  if (sid.kind === 'issuer-and-serial') {
    let issuer: ReturnType<typeof parseNameDer>;
    try {
      issuer = parseNameDer(sid.issuer, 'the signer identifier issuer');
    } catch (error) {
      return { reason: messageOf(error) };
    }
    matching = candidates.filter((c) => c.serialNumberHex === sid.serialHex && c.issuer.equals(issuer));
    described = `issuer "${issuer.toString()}" and serial ${sid.serialHex}`;
  } else {
    const ski = Buffer.from(sid.keyIdentifier);
    matching = candidates.filter((c) => c.subjectKeyIdentifier !== undefined && ski.equals(c.subjectKeyIdentifier));
    described = `subject key identifier ${toHex(sid.keyIdentifier)}`;
  }
  matching = uniqueByBytes(matching);
  if (matching.length === 0) return { reason: `no certificate in the envelope or supplied matches the signer identifier (${described})` };
  if (ess === undefined || typeof ess.hash !== 'string') {
    if (matching.length > 1)
      return { reason: `${matching.length} different certificates match the signer identifier (${described}); it is ambiguous` };
    return { certificate: matching[0]! };
  }
  const hash = ess.hash;
  const certHash = Buffer.from(ess.certHash.buffer, ess.certHash.byteOffset, ess.certHash.byteLength);
  // SHA-256 (what Chancery's signers use) is the certificate's cached fingerprint.
  const bound = matching.find((c) =>
    hash === 'sha256' ? c.sha256Fingerprint === certHash.toString('hex') : digest(hash, c.der).equals(certHash),
  );
  if (bound === undefined) {
    return {
      reason: `the certificate matching the signer identifier (${described}) is not the one signing-certificate-v2 names (its ${hash.toUpperCase()} differs from the certHash)`,
    };
  }
  if (ess.issuerSerial !== undefined) {
    const { issuer, serialHex } = ess.issuerSerial;
    const issuerOk = issuer.length === 0 || issuer.some((n) => safeNameEquals(n, bound));
    if (serialHex !== bound.serialNumberHex || !issuerOk)
      return { reason: 'the issuerSerial of signing-certificate-v2 does not name the signer certificate' };
  }
  return { certificate: bound };
}

function safeNameEquals(der: Uint8Array, cert: Certificate): boolean {
  try {
    return parseNameDer(der).equals(cert.issuer);
  } catch {
    return false;
  }
}

function uniqueByBytes(certs: Certificate[]): Certificate[] {
  const seen = new Set<string>();
  return certs.filter((c) => !seen.has(c.sha256Fingerprint) && seen.add(c.sha256Fingerprint) !== undefined);
}

function messageOf(error: unknown): string {
  if (isParseFault(error)) return error.message;
  throw error;
}
