import { EXT } from '../../oids.js';
import { ALG, type AlgorithmPolicy } from '../algorithms.js';
import type { Certificate } from '../certificate.js';
import type { Purpose } from '../purpose.js';
import type { Check, SubIndication } from '../report.js';
import { isSourceUnavailable } from '../errors.js';
import type { RevocationContext, RevocationSource, RevocationStatus } from '../revocation.js';
import { addNameConstraints, checkNames, initialNameConstraints } from './name-constraints.js';
import { matchPeerName } from './peer-name.js';
import { PolicyProcessor, type PolicySettings } from './policy-tree.js';
import { certificateSignedBy } from './signatures.js';

/**
 * RFC 5280 §6.1 processing of one candidate path (leaf first, trust anchor last), in three
 * passes: the structural checks of every certificate from the anchor down (signatures, names,
 * constraints, policies, purpose), then revocation of every certificate below the anchor, then
 * the validity verdict. A validity failure does not stop the first pass, so that revocation can
 * still be established (a revoked certificate is REVOKED even when it has also expired); any
 * other failure stops the processing of this path.
 *
 * Sub-indications (ETSI EN 319 102-1 §5.2.6):
 * expired at the validation time → OUT_OF_BOUNDS_NO_POE (OUT_OF_BOUNDS_NOT_REVOKED when
 * revocation showed it good; the envelope validator turns it into EXPIRED when the signing time
 * is after notAfter); not yet valid → NOT_YET_VALID; revoked → REVOKED; revocation unknown →
 * TRY_LATER; a bad certificate signature or a certificate that breaks the RFC 5280 profile →
 * CERTIFICATE_CHAIN_GENERAL_FAILURE; a refused algorithm or key → CRYPTO_CONSTRAINTS_FAILURE;
 * basic constraints, path length, key usage, name constraints, policies, unknown critical
 * extensions, purpose and peer name → CHAIN_CONSTRAINTS_FAILURE.
 */

export interface ProcessEnv {
  /** Validation time, already floored to whole seconds. */
  time: Date;
  purpose: Purpose;
  policySettings: PolicySettings;
  revocation: RevocationSource;
  algorithms: AlgorithmPolicy;
  peerName: string | undefined;
  /** See PathInput.trustAnchorAs. */
  trustAnchorAs: 'certificate' | 'name-and-key';
  revocationContext(anchor: Certificate): RevocationContext;
}

export interface ProcessOutcome {
  passed: boolean;
  checks: Check[];
  subIndication?: SubIndication;
  policies?: string[];
}

/** Processes one complete candidate path: leaf at index 0, trust anchor last. */
export async function processPath(path: Certificate[], env: ProcessEnv): Promise<ProcessOutcome> {
  const checks: Check[] = [];
  const n = path.length - 1;
  const anchor = path[n]!;
  const t = env.time;

  const record = (id: string, result: Check['result'], message: string, certificateIndex?: number, subIndication?: SubIndication): void => {
    const check: Check = { id, result, message };
    if (subIndication !== undefined) check.subIndication = subIndication;
    if (certificateIndex !== undefined) check.certificateIndex = certificateIndex;
    checks.push(check);
  };
  const fail = (id: string, message: string, certificateIndex: number | undefined, subIndication: SubIndication): ProcessOutcome => {
    record(id, 'FAILED', message, certificateIndex, subIndication);
    return finish(checks, false);
  };

  // --- Trust anchor (RFC 5280 §6.1.1 (d); the anchor's own profile is checked as configuration).
  record('path.trust-anchor', 'PASSED', `The path ends at the trust anchor ${anchor.describe()}.`, n);
  if (anchor.problems.length > 0) {
    return fail(
      'path.certificate-profile',
      `The trust anchor ${anchor.describe()} is not a valid certificate: ${anchor.problems.join('; ')}.`,
      n,
      'CERTIFICATE_CHAIN_GENERAL_FAILURE',
    );
  }
  const anchorKey = keyProblem(anchor, env.algorithms);
  if (anchorKey !== undefined) return fail('path.public-key', anchorKey.message, n, anchorKey.subIndication);
  checkValidity(anchor, n, t, record);
  if (n > 0 && env.trustAnchorAs === 'certificate') {
    if (anchor.version === 3) {
      const bc = anchor.extension(EXT.basicConstraints);
      if (anchor.basicConstraints?.ca !== true || bc === undefined) {
        return fail(
          'path.basic-constraints',
          `The trust anchor ${anchor.describe()} is not a CA certificate (no basicConstraints with cA=TRUE).`,
          n,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      if (!bc.critical) {
        return fail(
          'path.basic-constraints',
          `The trust anchor ${anchor.describe()} has a non-critical basicConstraints extension (RFC 5280 §4.2.1.9 requires it critical in CA certificates).`,
          n,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      if (anchor.subjectKeyIdentifier === undefined) {
        return fail(
          'path.key-identifiers',
          `The trust anchor ${anchor.describe()} has no subjectKeyIdentifier (RFC 5280 §4.2.1.2 requires it in CA certificates).`,
          n,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
    }
    if (anchor.keyUsage !== undefined && !anchor.keyUsage.has('keyCertSign')) {
      return fail(
        'path.key-usage',
        `The trust anchor ${anchor.describe()} has a keyUsage without keyCertSign, so it may not sign certificates.`,
        n,
        'CHAIN_CONSTRAINTS_FAILURE',
      );
    }
  }
  if (
    n > 0 &&
    env.trustAnchorAs === 'certificate' &&
    anchor.nameConstraints !== undefined &&
    anchor.extension(EXT.nameConstraints)?.critical !== true
  ) {
    return fail(
      'path.name-constraints',
      `The trust anchor ${anchor.describe()} has a non-critical nameConstraints extension (RFC 5280 §4.2.1.10 requires it critical).`,
      n,
      'CHAIN_CONSTRAINTS_FAILURE',
    );
  }
  if (n === 0 && anchor.serialNumberProblem !== undefined) {
    return fail(
      'path.certificate-profile',
      `Certificate ${anchor.describe()} is not a valid RFC 5280 certificate: ${anchor.serialNumberProblem}.`,
      0,
      'CERTIFICATE_CHAIN_GENERAL_FAILURE',
    );
  }
  const anchorUnknown = anchor.unknownCriticalExtensions;
  if (anchorUnknown.length > 0 && (env.trustAnchorAs === 'certificate' || n === 0)) {
    return fail(
      'path.critical-extensions',
      `The trust anchor ${anchor.describe()} has critical extension(s) Chancery does not process: ${anchorUnknown.join(', ')}.`,
      n,
      'CHAIN_CONSTRAINTS_FAILURE',
    );
  }

  // --- §6.1.2 initialisation.
  const names = initialNameConstraints();
  if (n > 0 && anchor.nameConstraints !== undefined) {
    const bad = addNameConstraints(names, anchor.nameConstraints);
    if (bad !== undefined)
      return fail(
        'path.name-constraints',
        `The trust anchor ${anchor.describe()} has an unusable name constraint: ${bad}.`,
        n,
        'CHAIN_CONSTRAINTS_FAILURE',
      );
  }
  const policies = new PolicyProcessor(n, env.policySettings);
  let maxPathLength = n;
  if (n > 0 && anchor.basicConstraints?.pathLenConstraint !== undefined)
    maxPathLength = Math.min(maxPathLength, anchor.basicConstraints.pathLenConstraint);
  let validPolicies: string[] = [];

  // --- §6.1.3 / §6.1.4 / §6.1.5: structural pass, anchor side first.
  for (let k = n - 1; k >= 0; k--) {
    const cert = path[k]!;
    const issuer = path[k + 1]!;
    const i = n - k;
    const isLeaf = k === 0;
    const problems = cert.serialNumberProblem === undefined ? cert.problems : [...cert.problems, cert.serialNumberProblem];
    if (problems.length > 0) {
      return fail(
        'path.certificate-profile',
        `Certificate ${cert.describe()} is not a valid RFC 5280 certificate: ${problems.join('; ')}.`,
        k,
        'CERTIFICATE_CHAIN_GENERAL_FAILURE',
      );
    }
    if (!cert.issuer.equals(issuer.subject)) {
      return fail(
        'path.issuer-name',
        `Certificate ${cert.describe()} names issuer "${cert.issuer.describe()}", not "${issuer.subject.describe()}".`,
        k,
        'CERTIFICATE_CHAIN_GENERAL_FAILURE',
      );
    }
    const sig = certificateSignedBy(cert, issuer, env.algorithms);
    if (!sig.ok) {
      return sig.refused
        ? fail(
            'path.signature-algorithm',
            `The signature on certificate ${cert.describe()} was refused: ${sig.message}.`,
            k,
            'CRYPTO_CONSTRAINTS_FAILURE',
          )
        : fail(
            'path.signature',
            `The signature on certificate ${cert.describe()} by ${issuer.describe()} is invalid: ${sig.message}.`,
            k,
            'CERTIFICATE_CHAIN_GENERAL_FAILURE',
          );
    }
    record(
      'path.signature',
      'PASSED',
      `The signature on certificate ${cert.describe()} verifies with the key of ${issuer.describe()} (${sig.description}).`,
      k,
    );
    const key = keyProblem(cert, env.algorithms);
    if (key !== undefined) return fail('path.public-key', key.message, k, key.subIndication);
    checkValidity(cert, k, t, record);
    if (cert.authorityKeyIdentifier?.keyIdentifier === undefined) {
      return fail(
        'path.key-identifiers',
        `Certificate ${cert.describe()} has no authorityKeyIdentifier keyIdentifier (RFC 5280 §4.2.1.1 requires it in every certificate that is not self-signed).`,
        k,
        'CHAIN_CONSTRAINTS_FAILURE',
      );
    }
    if (cert.keyUsage?.has('keyCertSign') === true && !cert.isCa) {
      return fail(
        'path.key-usage',
        `Certificate ${cert.describe()} asserts keyCertSign without basicConstraints cA=TRUE (RFC 5280 §4.2.1.3).`,
        k,
        'CHAIN_CONSTRAINTS_FAILURE',
      );
    }
    // (b)(c) name constraints: not for self-issued intermediates.
    if (isLeaf || !cert.selfIssued) {
      const refusal = checkNames(names, cert);
      if (refusal !== undefined)
        return fail(
          'path.name-constraints',
          `Certificate ${cert.describe()} breaks the name constraints: ${refusal}.`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
    }
    // (d)–(f) policies.
    const policyRefusal = policies.processCertificate(cert, i);
    if (policyRefusal !== undefined)
      return fail('path.policies', `Certificate policies: ${policyRefusal}.`, k, 'CHAIN_CONSTRAINTS_FAILURE');

    if (!isLeaf) {
      // §6.1.4: preparation for the next certificate; cert is an intermediate CA.
      if (cert.version !== 3 || cert.basicConstraints?.ca !== true) {
        return fail(
          'path.basic-constraints',
          `Certificate ${cert.describe()} issues certificates but is not a CA (${cert.version !== 3 ? `a v${cert.version} certificate` : 'no basicConstraints with cA=TRUE'}).`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      if (cert.subjectKeyIdentifier === undefined) {
        return fail(
          'path.key-identifiers',
          `The CA certificate ${cert.describe()} has no subjectKeyIdentifier (RFC 5280 §4.2.1.2).`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      // (l) (m)
      if (!cert.selfIssued) {
        if (maxPathLength <= 0) {
          return fail(
            'path.path-length',
            `Certificate ${cert.describe()} exceeds the path length allowed by the certificates above it.`,
            k,
            'CHAIN_CONSTRAINTS_FAILURE',
          );
        }
        maxPathLength--;
      }
      const pathLen = cert.basicConstraints.pathLenConstraint;
      if (pathLen !== undefined && pathLen < maxPathLength) maxPathLength = pathLen;
      // (n)
      if (cert.keyUsage !== undefined && !cert.keyUsage.has('keyCertSign')) {
        return fail(
          'path.key-usage',
          `The CA certificate ${cert.describe()} has a keyUsage without keyCertSign, so it may not sign certificates.`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      // (g) name constraints: RFC 5280 §4.2.1.10 makes the extension critical.
      if (cert.nameConstraints !== undefined) {
        if (cert.extension(EXT.nameConstraints)?.critical !== true) {
          return fail(
            'path.name-constraints',
            `Certificate ${cert.describe()} has a non-critical nameConstraints extension (RFC 5280 §4.2.1.10 requires it critical).`,
            k,
            'CHAIN_CONSTRAINTS_FAILURE',
          );
        }
        const bad = addNameConstraints(names, cert.nameConstraints);
        if (bad !== undefined)
          return fail(
            'path.name-constraints',
            `Certificate ${cert.describe()} has an unusable name constraint: ${bad}.`,
            k,
            'CHAIN_CONSTRAINTS_FAILURE',
          );
      }
      const prep = policies.prepareNext(cert, i);
      if (prep !== undefined) return fail('path.policies', `Certificate policies: ${prep}.`, k, 'CHAIN_CONSTRAINTS_FAILURE');
      // (o)
      const unknown = cert.unknownCriticalExtensions;
      if (unknown.length > 0) {
        return fail(
          'path.critical-extensions',
          `Certificate ${cert.describe()} has critical extension(s) Chancery does not process: ${unknown.join(', ')}.`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
    } else {
      if (cert.nameConstraints !== undefined && !cert.isCa) {
        return fail(
          'path.name-constraints',
          `The end-entity certificate ${cert.describe()} has a nameConstraints extension, which RFC 5280 §4.2.1.10 allows only in CA certificates.`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
      // §6.1.5 (f)
      const unknown = cert.unknownCriticalExtensions;
      if (unknown.length > 0) {
        return fail(
          'path.critical-extensions',
          `Certificate ${cert.describe()} has critical extension(s) Chancery does not process: ${unknown.join(', ')}.`,
          k,
          'CHAIN_CONSTRAINTS_FAILURE',
        );
      }
    }
  }

  if (n > 0) {
    const wrap = policies.wrapUp(path[0]!);
    if ('refused' in wrap) return fail('path.policies', `Certificate policies: ${wrap.refused}.`, 0, 'CHAIN_CONSTRAINTS_FAILURE');
    validPolicies = wrap.policies;
    record(
      'path.basic-constraints',
      'PASSED',
      'Every certificate that issues another is a CA, within the path length its issuers allow, with keyCertSign where it has a keyUsage.',
    );
    record('path.critical-extensions', 'PASSED', 'No certificate in the path has a critical extension Chancery does not process.');
    if (names.permitted.length > 0 || names.excluded.length > 0)
      record('path.name-constraints', 'PASSED', 'Every name in the path lies within the name constraints that apply to it.');
    const required = env.policySettings.initialPolicySet;
    if (required !== undefined && !(required.length === 1 && required[0] === '2.5.29.32.0')) {
      record('path.policies', 'PASSED', `The path is valid for the certificate policies ${validPolicies.join(', ')}.`);
    }
  } else {
    const unknown = anchor.unknownCriticalExtensions;
    if (unknown.length > 0)
      return fail(
        'path.critical-extensions',
        `Certificate ${anchor.describe()} has critical extension(s) Chancery does not process: ${unknown.join(', ')}.`,
        0,
        'CHAIN_CONSTRAINTS_FAILURE',
      );
  }

  // Purpose of the leaf (key usage, extended key usage) and the expected peer name.
  const leaf = path[0]!;
  const purposeRefusal = checkPurpose(leaf, env.purpose);
  if (purposeRefusal !== undefined) return fail('path.purpose', purposeRefusal, 0, 'CHAIN_CONSTRAINTS_FAILURE');
  if (env.purpose.extendedKeyUsage?.length || env.purpose.keyUsage?.length) {
    record(
      'path.purpose',
      'PASSED',
      `Certificate ${leaf.describe()} may be used for ${env.purpose.name ?? describePurpose(env.purpose)}.`,
      0,
    );
  }
  if (env.peerName !== undefined) {
    const refusal = matchPeerName(leaf, env.peerName);
    if (refusal !== undefined) return fail('path.peer-name', `Certificate ${leaf.describe()}: ${refusal}.`, 0, 'CHAIN_CONSTRAINTS_FAILURE');
    record('path.peer-name', 'PASSED', `Certificate ${leaf.describe()} is issued to ${env.peerName}.`, 0);
  }

  // --- Revocation of every certificate below the anchor.
  const context = n > 0 ? env.revocationContext(anchor) : undefined;
  for (let k = n - 1; k >= 0; k--) {
    const cert = path[k]!;
    let status: RevocationStatus;
    try {
      status = await env.revocation.status(cert, path[k + 1]!, t, context);
    } catch (error) {
      if (isSourceUnavailable(error)) throw error;
      status = { status: 'unknown', reason: `the revocation source failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (status.status === 'revoked') {
      if (status.revokedAt.getTime() <= t.getTime()) {
        record(
          'path.revocation',
          'FAILED',
          `Certificate ${cert.describe()} was revoked on ${status.revokedAt.toISOString()}${status.reason === undefined ? '' : ` (${status.reason})`}, according to ${status.source}.`,
          k,
          'REVOKED',
        );
        return finish(checks, false);
      }
      record(
        'path.revocation',
        'PASSED',
        `Certificate ${cert.describe()} was not revoked at ${t.toISOString()} (revoked later, on ${status.revokedAt.toISOString()}, according to ${status.source}).`,
        k,
      );
    } else if (status.status === 'unknown') {
      record(
        'path.revocation',
        'INDETERMINATE',
        `The revocation status of certificate ${cert.describe()} could not be established: ${status.reason}.`,
        k,
        'TRY_LATER',
      );
      return finish(checks, false);
    } else if (status.unchecked === true) {
      record('path.revocation', 'PASSED', `The revocation status of certificate ${cert.describe()} was not checked (${status.source}).`, k);
    } else {
      record('path.revocation', 'PASSED', `Certificate ${cert.describe()} is not revoked, according to ${status.source}.`, k);
      // An expired certificate shown as not revoked is OUT_OF_BOUNDS_NOT_REVOKED (ETSI EN 319 102-1).
      for (const c of checks) {
        if (c.id === 'path.validity' && c.certificateIndex === k && c.subIndication === 'OUT_OF_BOUNDS_NO_POE')
          c.subIndication = 'OUT_OF_BOUNDS_NOT_REVOKED';
      }
    }
  }
  const outcome = finish(checks, true);
  if (outcome.passed) outcome.policies = validPolicies;
  return outcome;
}

/** Passed when no check failed; otherwise the sub-indication of the first check that did not pass (REVOKED first). */
function finish(checks: Check[], completed: boolean): ProcessOutcome {
  const bad = checks.filter((c) => c.result !== 'PASSED');
  if (bad.length === 0 && completed) return { passed: true, checks };
  const revoked = bad.find((c) => c.subIndication === 'REVOKED');
  const first = revoked ?? bad[0];
  return { passed: false, checks, subIndication: first?.subIndication ?? 'CERTIFICATE_CHAIN_GENERAL_FAILURE' };
}

function checkValidity(
  cert: Certificate,
  k: number,
  t: Date,
  record: (id: string, result: Check['result'], message: string, certificateIndex?: number, subIndication?: SubIndication) => void,
): void {
  const time = t.getTime();
  if (time < cert.notBefore.getTime()) {
    record(
      'path.validity',
      'FAILED',
      `Certificate ${cert.describe()} is not valid until ${cert.notBefore.toISOString()} (validation time ${t.toISOString()}).`,
      k,
      'NOT_YET_VALID',
    );
  } else if (time > cert.notAfter.getTime()) {
    record(
      'path.validity',
      'FAILED',
      `Certificate ${cert.describe()} expired on ${cert.notAfter.toISOString()} (validation time ${t.toISOString()}).`,
      k,
      'OUT_OF_BOUNDS_NO_POE',
    );
  } else {
    record(
      'path.validity',
      'PASSED',
      `Certificate ${cert.describe()} is valid at ${t.toISOString()} (from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}).`,
      k,
    );
  }
}

function keyProblem(cert: Certificate, algorithms: AlgorithmPolicy): { message: string; subIndication: SubIndication } | undefined {
  // RFC 5480 §2.1.1: EC keys name their curve; explicit curve parameters are refused.
  if (cert.spkiAlgorithm.oid === ALG.ecPublicKey && cert.spkiAlgorithm.parameters?.[0] !== 0x06) {
    return {
      message: `The public key of certificate ${cert.describe()} uses explicit EC curve parameters instead of a named curve (RFC 5480 §2.1.1).`,
      subIndication: 'CRYPTO_CONSTRAINTS_FAILURE',
    };
  }
  const key = cert.tryPublicKey();
  if (key === undefined)
    return {
      message: `The public key of certificate ${cert.describe()} cannot be read.`,
      subIndication: 'CERTIFICATE_CHAIN_GENERAL_FAILURE',
    };
  const ok = algorithms.publicKey(key);
  if ('refused' in ok)
    return {
      message: `The public key of certificate ${cert.describe()} is refused: ${ok.refused}.`,
      subIndication: 'CRYPTO_CONSTRAINTS_FAILURE',
    };
  return undefined;
}

/** A sentence when the leaf does not serve the purpose, else undefined. */
export function checkPurpose(leaf: Certificate, purpose: Purpose): string | undefined {
  const what = purpose.name ?? describePurpose(purpose);
  for (const eku of purpose.extendedKeyUsage ?? []) {
    if (leaf.extKeyUsage === undefined)
      return `Certificate ${leaf.describe()} has no extendedKeyUsage extension, so it is not a certificate for ${what} (${eku} required).`;
    if (!leaf.extKeyUsage.includes(eku)) {
      return `Certificate ${leaf.describe()} is not a certificate for ${what}: its extendedKeyUsage (${leaf.extKeyUsage.join(', ')}) lacks ${eku}.`;
    }
  }
  const wanted = purpose.keyUsage ?? [];
  if (wanted.length > 0) {
    const ku = leaf.keyUsage;
    if (ku === undefined) {
      if (purpose.keyUsageRequired !== false)
        return `Certificate ${leaf.describe()} has no keyUsage extension; ${what} needs ${wanted.join(purpose.keyUsageMatch === 'any' ? ' or ' : ' and ')}.`;
    } else {
      const ok = purpose.keyUsageMatch === 'any' ? wanted.some((u) => ku.has(u)) : wanted.every((u) => ku.has(u));
      if (!ok)
        return `Certificate ${leaf.describe()} has keyUsage ${[...ku].join(', ')}; ${what} needs ${wanted.join(purpose.keyUsageMatch === 'any' ? ' or ' : ' and ')}.`;
    }
  }
  return undefined;
}

function describePurpose(purpose: Purpose): string {
  const parts: string[] = [];
  if (purpose.extendedKeyUsage?.length) parts.push(`extended key usage ${purpose.extendedKeyUsage.join(', ')}`);
  if (purpose.keyUsage?.length) parts.push(`key usage ${purpose.keyUsage.join(purpose.keyUsageMatch === 'any' ? ' or ' : ' and ')}`);
  return parts.length === 0 ? 'any purpose' : parts.join(' with ');
}
