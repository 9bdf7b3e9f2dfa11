import type { AlgorithmPolicy } from '../algorithms.js';
import type { Certificate } from '../certificate.js';
import { cachedCertificateSignature, certificateSignedBy, type SignatureOutcome } from './signatures.js';

/**
 * Path building (RFC 4158 in spirit): depth-first from the leaf towards the trust anchors, over
 * the supplied intermediates, with backtracking. Issuer candidates are the certificates whose
 * subject matches the child's issuer name (RFC 5280 §7.1), tried trust anchors first, then those
 * whose subjectKeyIdentifier matches the child's authorityKeyIdentifier, then those valid at the
 * validation time. A link is followed only when the child's signature verifies with the
 * candidate's key. Loops are cut (a certificate, or the same subject and key, never appears
 * twice in a path), the number of non-self-issued intermediates is bounded by `maxDepth`, and
 * a work budget bounds the whole search, so no input can make it run long.
 */

/** Hard cap on certificates in one path, whatever maxDepth says (self-issued ones included). */
export const HARD_MAX_PATH_LENGTH = 64;

export interface Budget {
  /** Candidate links still allowed to be examined (each may cost a signature check). */
  steps: number;
  /** Complete candidate paths still allowed to be processed. */
  paths: number;
  /** Certificate signature verifications still allowed (cached results are free). */
  signatures: number;
  exhausted: boolean;
}

/**
 * One validation's budget (nested signer validations share it). 256 signature checks are about
 * 0.1 s of P-384 verification on the reference machine, far beyond any real path.
 */
export function newBudget(): Budget {
  return { steps: 4000, paths: 32, signatures: 256, exhausted: false };
}

export interface BuildEnv {
  anchors: readonly Certificate[];
  intermediates: readonly Certificate[];
  time: Date;
  /** Maximum number of intermediates that are not self-issued. */
  maxDepth: number;
  algorithms: AlgorithmPolicy;
  budget: Budget;
}

/** A candidate issuer whose name matched but whose signature check did not pass. */
export interface NearMiss {
  child: Certificate;
  issuer: Certificate;
  outcome: Extract<SignatureOutcome, { ok: false }>;
}

export interface SearchSummary {
  /** The path accepted by `tryPath`, when one was. */
  found: Certificate[] | undefined;
  /** Complete candidate paths handed to `tryPath`. */
  pathsTried: number;
  nearMisses: NearMiss[];
  /** A path was cut because it would exceed maxDepth. */
  depthExceeded: boolean;
  /** The first certificate for which no issuer of that name exists at all. */
  orphan: Certificate | undefined;
}

/**
 * Searches paths from `leaf` to a trust anchor, calling `tryPath` (leaf first, anchor last) for
 * each complete candidate until it resolves true.
 */
export async function searchPaths(
  env: BuildEnv,
  leaf: Certificate,
  tryPath: (path: Certificate[]) => Promise<boolean>,
): Promise<SearchSummary> {
  const summary: SearchSummary = { found: undefined, pathsTried: 0, nearMisses: [], depthExceeded: false, orphan: undefined };
  const anchorSet = new Set(env.anchors);
  // Certificates are told apart by their (cached) SHA-256 fingerprints, not by copies of their DER.
  const anchorDer = new Set(env.anchors.map((a) => a.sha256Fingerprint));
  const bySubject = new Map<string, Certificate[]>();
  const seen = new Set<string>();
  for (const cert of [...env.anchors, ...env.intermediates]) {
    const id = cert.sha256Fingerprint;
    if (seen.has(id)) continue;
    seen.add(id);
    const list = bySubject.get(cert.subject.key);
    if (list === undefined) bySubject.set(cert.subject.key, [cert]);
    else list.push(cert);
  }
  const time = env.time.getTime();

  const complete = async (path: Certificate[]): Promise<boolean> => {
    if (env.budget.paths <= 0) {
      env.budget.exhausted = true;
      return false;
    }
    env.budget.paths--;
    summary.pathsTried++;
    if (await tryPath(path)) {
      summary.found = path;
      return true;
    }
    return false;
  };

  // A leaf that is itself a trust anchor needs no path.
  if (anchorDer.has(leaf.sha256Fingerprint)) {
    const anchor = env.anchors.find((a) => a.der.equals(leaf.der));
    if (anchor !== undefined && (await complete([anchor]))) return summary;
  }

  const extend = async (path: Certificate[], depth: number): Promise<boolean> => {
    const child = path[path.length - 1]!;
    const candidates = bySubject.get(child.issuer.key);
    if (candidates === undefined || candidates.length === 0) {
      summary.orphan ??= child;
      return false;
    }
    for (const candidate of order(child, candidates, anchorSet, time)) {
      if (env.budget.steps <= 0 || env.budget.paths <= 0) {
        env.budget.exhausted = true;
        return false;
      }
      env.budget.steps--;
      if (path.some((c) => c === candidate || (c.subject.key === candidate.subject.key && c.spki.equals(candidate.spki)))) continue;
      const isAnchor = anchorSet.has(candidate);
      let nextDepth = depth;
      if (!isAnchor) {
        if (!candidate.selfIssued) nextDepth++;
        if (nextDepth > env.maxDepth) {
          summary.depthExceeded = true;
          continue;
        }
        if (path.length + 1 >= HARD_MAX_PATH_LENGTH) {
          summary.depthExceeded = true;
          continue;
        }
      }
      let outcome = cachedCertificateSignature(child, candidate, env.algorithms);
      if (outcome === undefined) {
        if (env.budget.signatures <= 0) {
          env.budget.exhausted = true;
          return false;
        }
        env.budget.signatures--;
        outcome = certificateSignedBy(child, candidate, env.algorithms);
      }
      if (!outcome.ok) {
        if (summary.nearMisses.length < 16) summary.nearMisses.push({ child, issuer: candidate, outcome });
        continue;
      }
      const next = [...path, candidate];
      if (isAnchor ? await complete(next) : await extend(next, nextDepth)) return true;
    }
    return false;
  };

  await extend([leaf], 0);
  return summary;
}

/** Candidate order: trust anchors, then AKI/SKI agreement, then validity at the time, then as given. */
function order(child: Certificate, candidates: Certificate[], anchors: Set<Certificate>, time: number): Certificate[] {
  if (candidates.length === 1) return candidates;
  const aki = child.authorityKeyIdentifier?.keyIdentifier;
  const score = (c: Certificate): number => {
    let s = anchors.has(c) ? 0 : 100;
    if (aki !== undefined && c.subjectKeyIdentifier !== undefined) s += aki.equals(c.subjectKeyIdentifier) ? 0 : 20;
    else s += 10;
    if (time < c.notBefore.getTime() || time > c.notAfter.getTime()) s += 5;
    return s;
  };
  return candidates
    .map((c, i) => ({ c, s: score(c), i }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.c);
}
