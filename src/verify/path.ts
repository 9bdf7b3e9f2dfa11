import { OID } from '../oids.js';
import { CHANCERY_ALGORITHMS, type AlgorithmPolicy } from './algorithms.js';
import type { Certificate } from './certificate.js';
import { isSourceUnavailable } from './errors.js';
import { newBudget, searchPaths, type Budget } from './path/build.js';
import { ANY_POLICY, type PolicySettings } from './path/policy-tree.js';
import { processPath, type ProcessOutcome } from './path/process.js';
import type { Purpose } from './purpose.js';
import { INDICATION_OF, type Check, type Indication, type SubIndication } from './report.js';
import type { RevocationContext, RevocationSource } from './revocation.js';

export type { Purpose } from './purpose.js';
export type { PolicySettings } from './path/policy-tree.js';
export { ANY_POLICY } from './path/policy-tree.js';

/**
 * Certification path validation, Chancery's own (RFC 5280 §6): build a
 * path from the leaf through the supplied intermediates to one of the trust anchors, and
 * validate it at the given time for the given purpose. Pure: the anchors, the revocation source,
 * the algorithm policy and the time are parameters; the only I/O is what the revocation source
 * does. Every check lands in the result as a readable sentence.
 */

/** Document signing (RFC 9336 id-kp-documentSigning; digitalSignature or nonRepudiation). */
export const PURPOSE_DOCUMENT_SIGNING: Purpose = Object.freeze<Purpose>({
  name: 'document signing',
  extendedKeyUsage: [OID.kpDocumentSigning],
  keyUsage: ['digitalSignature', 'nonRepudiation'],
  keyUsageMatch: 'any',
});

/** A delegated OCSP responder (RFC 6960 §4.2.2.2: id-kp-OCSPSigning, digitalSignature). */
export const PURPOSE_OCSP_SIGNING: Purpose = Object.freeze<Purpose>({
  name: 'OCSP signing',
  extendedKeyUsage: [OID.kpOcspSigning],
  keyUsage: ['digitalSignature'],
});

/** Certificate-based login (id-kp-clientAuth, digitalSignature). */
export const PURPOSE_CLIENT_AUTH: Purpose = Object.freeze<Purpose>({
  name: 'client authentication (login)',
  extendedKeyUsage: [OID.kpClientAuth],
  keyUsage: ['digitalSignature'],
});

/** A CRL issuer (RFC 5280 §6.3.3 (f): cRLSign when a keyUsage is present). */
export const PURPOSE_CRL_SIGNING: Purpose = Object.freeze<Purpose>({
  name: 'CRL signing',
  keyUsage: ['cRLSign'],
  keyUsageRequired: false,
});

/** A time-stamping authority (RFC 3161 §2.3: id-kp-timeStamping; digitalSignature or nonRepudiation when a keyUsage is present). */
export const PURPOSE_TIME_STAMPING: Purpose = Object.freeze<Purpose>({
  name: 'time-stamping',
  extendedKeyUsage: ['1.3.6.1.5.5.7.3.8'],
  keyUsage: ['digitalSignature', 'nonRepudiation'],
  keyUsageMatch: 'any',
  keyUsageRequired: false,
});

/** No purpose constraint on the leaf (path validity only). */
export const PURPOSE_ANY: Purpose = Object.freeze<Purpose>({ name: 'any purpose' });

/** All named purposes, by a short name (for the CLI and policies). */
export const PURPOSES = {
  documentSigning: PURPOSE_DOCUMENT_SIGNING,
  ocspSigning: PURPOSE_OCSP_SIGNING,
  clientAuth: PURPOSE_CLIENT_AUTH,
  crlSigning: PURPOSE_CRL_SIGNING,
  timeStamping: PURPOSE_TIME_STAMPING,
  any: PURPOSE_ANY,
} as const;

/** Default maximum number of (non-self-issued) intermediates between leaf and anchor. */
export const DEFAULT_MAX_DEPTH = 8;

export interface PathInput {
  leaf: Certificate;
  /** Untrusted certificates to build with, in any order; decoys and cycles are fine. */
  intermediates: readonly Certificate[];
  anchors: readonly Certificate[];
  /** Validation time (floored to whole seconds, the granularity of X.509 validity). */
  time: Date;
  purpose: Purpose;
  /** Certificate policies one of which the path must be valid for (explicit policy required). */
  requiredPolicies?: string[];
  /** The full RFC 5280 §6.1.1 policy inputs; when given, `requiredPolicies` is ignored. */
  policySettings?: PolicySettings;
  revocation: RevocationSource;
  /** Maximum number of intermediates that are not self-issued; default DEFAULT_MAX_DEPTH. */
  maxDepth?: number;
  /** Expected DNS name, IP address or email address of the leaf (its subjectAltName). */
  peerName?: string;
  /** Algorithm policy; default Chancery's (CHANCERY_ALGORITHMS). */
  algorithms?: AlgorithmPolicy;
  /**
   * 'certificate' (default): a trust anchor must itself be a sound CA certificate (critical
   * basicConstraints with cA, subjectKeyIdentifier, keyCertSign where it has a keyUsage, no
   * unknown critical extension, critical name constraints). 'name-and-key': only its name, key,
   * validity and constraints are used, as RFC 5280 §6.1.1 (d) describes trust anchor
   * information; for conformance suites whose anchors predate the profile.
   */
  trustAnchorAs?: 'certificate' | 'name-and-key';
}

export interface PathResult {
  indication: Indication;
  subIndication?: SubIndication;
  /** Leaf … trust anchor: the path that passed, or the candidate path whose failure is reported. */
  path: Certificate[];
  checks: Check[];
  /** The certificate policies the path is valid for (RFC 5280 §6.1.6), when it passed. */
  policies?: string[];
}

/** Nesting allowed for signer validation (a CRL signer's own CRL signer, …). */
const MAX_NESTING = 3;

/**
 * Validates the certification path of `input.leaf`. Never throws for bad certificates or
 * missing data: the result says TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE, with the
 * sub-indication and every check. Trust anchors are not revocation-checked; every other
 * certificate in the path is.
 */
export async function validatePath(input: PathInput): Promise<PathResult> {
  return validateNested(input, 0, newBudget());
}

async function validateNested(input: PathInput, nesting: number, budget: Budget): Promise<PathResult> {
  const time = new Date(Math.floor(input.time.getTime() / 1000) * 1000);
  if (Number.isNaN(time.getTime())) {
    return failed(
      'GENERIC',
      [{ id: 'path.input', result: 'INDETERMINATE', message: 'The validation time is not a valid date.', subIndication: 'GENERIC' }],
      [],
    );
  }
  const maxDepth = input.maxDepth ?? DEFAULT_MAX_DEPTH;
  const algorithms = input.algorithms ?? CHANCERY_ALGORITHMS;
  const policySettings: PolicySettings =
    input.policySettings ??
    (input.requiredPolicies !== undefined && input.requiredPolicies.length > 0
      ? { initialPolicySet: input.requiredPolicies, initialExplicitPolicy: true }
      : { initialPolicySet: [ANY_POLICY] });

  let firstFailure: { path: Certificate[]; outcome: ProcessOutcome } | undefined;
  let passed: { path: Certificate[]; outcome: ProcessOutcome } | undefined;

  const revocationContext = (anchor: Certificate): RevocationContext => ({
    candidates: [...input.anchors, ...input.intermediates],
    validateSigner: async (signer, purpose) => {
      if (nesting + 1 > MAX_NESTING) return 'revocation signers are nested too deeply';
      const r = await validateNested(
        {
          ...input,
          leaf: signer,
          anchors: [anchor],
          purpose,
          peerName: undefined,
          policySettings: { initialPolicySet: [ANY_POLICY] },
          requiredPolicies: undefined,
        },
        nesting + 1,
        budget,
      );
      if (r.indication === 'TOTAL_PASSED') return undefined;
      const why = r.checks.find((c) => c.result !== 'PASSED');
      return why?.message ?? r.subIndication ?? 'its path is not valid';
    },
  });

  const summary = await searchPaths(
    { anchors: input.anchors, intermediates: input.intermediates, time, maxDepth, algorithms, budget },
    input.leaf,
    async (path) => {
      let outcome: ProcessOutcome;
      try {
        outcome = await processPath(path, {
          time,
          purpose: input.purpose,
          policySettings,
          revocation: input.revocation,
          algorithms,
          peerName: input.peerName,
          trustAnchorAs: input.trustAnchorAs ?? 'certificate',
          revocationContext,
        });
      } catch (error) {
        // A source that is down gives no verdict: the caller says "try again".
        if (isSourceUnavailable(error)) throw error;
        // A fault of ours must not pass a path nor crash the caller: the path is not validated.
        const message = `The path could not be checked: ${error instanceof Error ? error.message : String(error)}.`;
        outcome = {
          passed: false,
          subIndication: 'GENERIC',
          checks: [{ id: 'path.internal', result: 'INDETERMINATE', message, subIndication: 'GENERIC' }],
        };
      }
      if (outcome.passed) {
        passed = { path, outcome };
        return true;
      }
      firstFailure ??= { path, outcome };
      return false;
    },
  );

  if (passed !== undefined) {
    const checks: Check[] = [buildCheck(passed.path, summary.pathsTried), ...passed.outcome.checks];
    return { indication: 'TOTAL_PASSED', path: passed.path, checks, policies: passed.outcome.policies ?? [] };
  }
  if (firstFailure !== undefined) {
    const checks: Check[] = [buildCheck(firstFailure.path, summary.pathsTried), ...firstFailure.outcome.checks];
    if (summary.pathsTried > 1) {
      checks.push({
        id: 'path.alternatives',
        result: 'FAILED',
        message: `${summary.pathsTried} candidate paths were tried; none is valid. The first one is reported.`,
        subIndication: firstFailure.outcome.subIndication!,
      });
    }
    return failed(firstFailure.outcome.subIndication!, checks, firstFailure.path);
  }
  const leafText = input.leaf.describe();
  if (budget.exhausted) {
    return failed(
      'NO_CERTIFICATE_CHAIN_FOUND',
      [
        {
          id: 'path.build',
          result: 'INDETERMINATE',
          message: `Path building for ${leafText} stopped: the supplied certificates need more work than the path-building budget allows.`,
          subIndication: 'NO_CERTIFICATE_CHAIN_FOUND',
        },
      ],
      [],
    );
  }
  const miss = summary.nearMisses[0];
  if (miss !== undefined) {
    const sub: SubIndication = miss.outcome.refused ? 'CRYPTO_CONSTRAINTS_FAILURE' : 'CERTIFICATE_CHAIN_GENERAL_FAILURE';
    const message = miss.outcome.refused
      ? `The signature on certificate ${miss.child.describe()} by ${miss.issuer.describe()} was refused: ${miss.outcome.message}.`
      : `The signature on certificate ${miss.child.describe()} does not verify with the key of ${miss.issuer.describe()}, the only kind of issuer found for it: ${miss.outcome.message}.`;
    return failed(
      sub,
      [
        {
          id: miss.outcome.refused ? 'path.signature-algorithm' : 'path.signature',
          result: 'FAILED',
          message,
          subIndication: sub,
          certificateIndex: 0,
        },
      ],
      [],
    );
  }
  if (summary.depthExceeded) {
    return failed(
      'CHAIN_CONSTRAINTS_FAILURE',
      [
        {
          id: 'path.depth',
          result: 'FAILED',
          message: `No path from ${leafText} to a trust anchor fits within ${maxDepth} intermediate certificate(s).`,
          subIndication: 'CHAIN_CONSTRAINTS_FAILURE',
        },
      ],
      [],
    );
  }
  const orphan = summary.orphan ?? input.leaf;
  return failed(
    'NO_CERTIFICATE_CHAIN_FOUND',
    [
      {
        id: 'path.build',
        result: 'INDETERMINATE',
        message: `No path from ${leafText} to a trust anchor: no trusted or supplied certificate is named "${orphan.issuer.describe()}", the issuer of ${orphan.describe()}.`,
        subIndication: 'NO_CERTIFICATE_CHAIN_FOUND',
      },
    ],
    [],
  );
}

function buildCheck(path: Certificate[], tried: number): Check {
  const anchor = path[path.length - 1]!;
  return {
    id: 'path.build',
    result: 'PASSED',
    message:
      path.length === 1
        ? `The certificate ${anchor.describe()} is itself a trust anchor.`
        : `A path of ${path.length} certificates leads from ${path[0]!.describe()} to the trust anchor ${anchor.describe()}${tried > 1 ? ` (candidate path ${tried})` : ''}.`,
  };
}

function failed(subIndication: SubIndication, checks: Check[], path: Certificate[]): PathResult {
  return { indication: INDICATION_OF[subIndication], subIndication, path, checks };
}
