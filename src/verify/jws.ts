import type { KeyObject } from 'node:crypto';
import { flattenedVerify, type JWK } from 'jose';
import { sha256 } from '../crypto/digest.js';
import { algorithmAllowed, type SignatureRules } from '../policy/algorithms.js';
import { joseSignatureScheme } from './algorithms.js';
import { parseCertificate, type Certificate } from './certificate.js';
import type { Decision } from './cms-attributes.js';
import { reasonProblem } from './decision-reason.js';
import { isParseFault } from './errors.js';
import { decodeBase64, decodeBase64Url, parseJws, type JwsEntry, type ParsedJws } from './jws-parse.js';
import { parseDocument } from '../policy/document.js';
import type { SubIndication } from './report.js';
import { CheckList, type SignatureEvidence } from './validation-report.js';

/**
 * The JWS half of envelope validation (RFC 7515). jose does the
 * signature math, always with `algorithms` pinned to the one algorithm this entry was checked
 * for; the rules jose does not enforce are ours, checked first:
 *
 * - `alg: none` (any case) is refused; so is any algorithm outside the policy's allow-list.
 * - `b64` is refused unless it is `true` (RFC 7797 unencoded payloads are not accepted).
 * - `crit` must be protected, non-empty, and list only parameters Chancery understands and the
 *   header carries. The enterprise's entry understands only `sigT`; a countersignature
 *   understands `decision`, `sig#S256`, `reason` and `sigT`.
 * - Everything Chancery reads lives in the protected header; an unprotected `header` may only
 *   carry `kid`.
 * - `x5c` (protected) carries the signer's chain, leaf first; `x5t#S256`, when present, must be
 *   the leaf's SHA-256. The chain is validated by path validation like any other.
 * - The claimed signing time is JAdES `sigT` (ETSI TS 119 182-1 §5.2.1: a string
 *   YYYY-MM-DDThh:mm:ssZ, protected, and listed in `crit` as JAdES requires), or, in a plain JWS
 *   without `sigT`, `iat` (NumericDate). One of them is required on every entry; when both are
 *   there they must name the same second.
 * - JAdES `sigD` (the payload is elsewhere, §5.2.8) is not understood: an entry carrying it is
 *   refused whether or not `crit` lists it, since it changes what the signature covers.
 * - `cty` (the payload's type, JAdES §5.1.3) is carried by Chancery's own entries and not read.
 *
 * ## Countersignatures
 *
 * An officer countersigns by adding an entry to `signatures` over the same payload, whose
 * protected header carries:
 *
 * | parameter | value |
 * | --- | --- |
 * | `decision` | `approve`, `refuse` or `review` |
 * | `reason` | optional: the officer's reason, in the one form decision-reason.ts defines; listed in `crit` when present |
 * | `iat` | signing time (NumericDate) |
 * | `sig#S256` | base64url of the SHA-256 of the enterprise signature's bytes (the decoded `signatures[0].signature`) |
 * | `crit` | `["decision", "sig#S256"]`, so a verifier that does not know them refuses the entry instead of reading it as a plain signature |
 * | `alg`, `x5c` | as for the enterprise |
 *
 * `sig#S256` is named after `x5t#S256` (RFC 7515 §4.1.8): a SHA-256 thumbprint, here of the
 * signature being countersigned. It binds the countersignature to that exact enterprise signature.
 *
 * `reason` is critical when present because it is part of what the officer signed: a verifier
 * that cannot show it must refuse the entry rather than present the decision without its reason.
 * Whether a decision needs one is the workflow's rule, not the verifier's.
 */

/** Header parameter: SHA-256 (base64url) of the enterprise signature a countersignature binds. */
export const COUNTERSIGNATURE_HASH_HEADER = 'sig#S256';
/** Header parameter: the officer's decision. */
export const DECISION_HEADER = 'decision';
/** The `crit` a countersignature carries. */
export const COUNTERSIGNATURE_CRIT = [DECISION_HEADER, COUNTERSIGNATURE_HASH_HEADER] as const;
/** Header parameter: the officer's reason for the decision (optional; critical when present). */
export const REASON_HEADER = 'reason';
/** JAdES header parameter: the claimed signing time (ETSI TS 119 182-1 §5.2.1). */
export const SIGNING_TIME_HEADER = 'sigT';
/** JAdES header parameter: a detached payload's references (§5.2.8); not understood here. */
export const SIGNED_DATA_HEADER = 'sigD';
/** The `cty` of Chancery's documents (RFC 7515 §4.1.10: the `application/` prefix omitted). */
export const JADES_CONTENT_TYPE = 'json';

/** A time as JAdES `sigT` writes it: UTC, whole seconds, YYYY-MM-DDThh:mm:ssZ. */
export function jadesSigningTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const SIGT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** The instant a `sigT` value names, or undefined when it is not one (wrong form, or no such date). */
export function parseJadesSigningTime(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = SIGT.exec(value);
  if (m === null) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) || jadesSigningTime(date) !== value ? undefined : date;
}

/** JAdES unsigned properties (ETSI TS 119 182-1 §5.3.1): the only unprotected parameter besides `kid`. */
export const ETSI_UNSIGNED_HEADER = 'etsiU';
/** Most `etsiU` items read (sigTst, xVals, rVals, …). */
export const MAX_ETSI_U_ITEMS = 8;
/** Most certificates in one `x5c`. */
export const MAX_X5C = 8;

const DECISIONS: readonly Decision[] = ['approve', 'refuse', 'review'];

/** Outcome of verifying one JWS entry with a key: accepted, or refused with a reason. */
export type JwsEntryResult = { ok: true } | { ok: false; subIndication: SubIndication; reason: string; byPolicy: boolean };

/**
 * Verifies one entry's signature with `key`: our header rules first, then jose with the
 * algorithms pinned. `understood` lists the `crit` names the caller processes itself.
 * `payloadB64` is the payload as in the signing input (base64url).
 */
export async function verifyJwsEntry(
  entry: JwsEntry,
  payloadB64: string,
  key: KeyObject | JWK,
  algorithms: readonly string[],
  understood: readonly string[] = [],
): Promise<JwsEntryResult> {
  const refusal = headerRuleViolation(entry, understood);
  if (refusal !== undefined) return { ok: false, subIndication: 'FORMAT_FAILURE', reason: refusal, byPolicy: false };
  const alg = entry.protectedHeader['alg'] as string;
  if (!algorithms.includes(alg)) {
    return {
      ok: false,
      subIndication: 'CRYPTO_CONSTRAINTS_FAILURE',
      reason: `the algorithm ${alg} is not among those allowed (${algorithms.join(', ')})`,
      byPolicy: true,
    };
  }
  try {
    await flattenedVerify(
      {
        protected: entry.protectedB64,
        payload: payloadB64,
        signature: entry.signatureB64,
        ...(entry.unprotectedHeader === undefined ? {} : { header: entry.unprotectedHeader }),
      },
      key as KeyObject,
      { algorithms: [alg], crit: Object.fromEntries(understood.map((n) => [n, true])) },
    );
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
      return {
        ok: false,
        subIndication: 'SIG_CRYPTO_FAILURE',
        reason: 'the signature value does not verify with the signer key',
        byPolicy: false,
      };
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED')
      return { ok: false, subIndication: 'CRYPTO_CONSTRAINTS_FAILURE', reason: `the algorithm ${alg} is not allowed`, byPolicy: true };
    if (error instanceof TypeError) {
      // jose refuses keys that do not fit the algorithm, or whose JWK `use`/`key_ops`/`alg` forbid verification.
      return {
        ok: false,
        subIndication: 'CRYPTO_CONSTRAINTS_FAILURE',
        reason: `the key cannot verify ${alg}: ${error.message}`,
        byPolicy: false,
      };
    }
    if (code !== undefined && code.startsWith('ERR_J'))
      return { ok: false, subIndication: 'FORMAT_FAILURE', reason: `the JWS is invalid: ${(error as Error).message}`, byPolicy: false };
    // Anything else (a key WebCrypto cannot import, say) means the check could not run: never a pass.
    return {
      ok: false,
      subIndication: 'GENERIC',
      reason: `the signature could not be checked: ${(error as Error).message ?? String(error)}`,
      byPolicy: false,
    };
  }
}

/**
 * Verifies a JWS in any serialization with one key (the primitive the Wycheproof vectors
 * exercise): parsing, our rules and jose, exactly as envelope validation runs them. A detached
 * payload is refused here (there is nothing to verify it over).
 */
export async function verifyJwsWithKey(jws: string, key: KeyObject | JWK, algorithms: readonly string[]): Promise<JwsEntryResult> {
  let parsed: ParsedJws;
  try {
    parsed = parseJws(jws);
  } catch (error) {
    if (isParseFault(error)) return { ok: false, subIndication: 'FORMAT_FAILURE', reason: error.message, byPolicy: false };
    throw error;
  }
  if (parsed.signatures.length !== 1)
    return { ok: false, subIndication: 'FORMAT_FAILURE', reason: 'exactly one signature was expected', byPolicy: false };
  return verifyJwsEntry(parsed.signatures[0]!, parsed.payloadB64 ?? '', key, algorithms);
}

/** The rule a header breaks, as a sentence, or undefined when it keeps them all. */
export function headerRuleViolation(entry: JwsEntry, understood: readonly string[]): string | undefined {
  const h = entry.protectedHeader;
  const u = entry.unprotectedHeader ?? {};
  const alg = h['alg'];
  if (alg === undefined && 'alg' in u) return 'the "alg" header parameter must be protected';
  if (typeof alg !== 'string' || alg === '') return 'the protected header has no "alg"';
  if (alg.toLowerCase() === 'none') return 'the JWS is unsigned ("alg": "none"), which is never accepted';
  for (const name of Object.keys(u)) {
    if (name !== 'kid' && name !== ETSI_UNSIGNED_HEADER)
      return `the unprotected header carries "${name.slice(0, 64)}"; Chancery reads only protected header parameters (and JAdES etsiU)`;
  }
  if ('b64' in h && h['b64'] !== true) return 'the JWS uses an unencoded payload ("b64": false, RFC 7797), which is not accepted';
  if (SIGNED_DATA_HEADER in h && !understood.includes(SIGNED_DATA_HEADER))
    return 'the header carries JAdES "sigD" (a payload held elsewhere), which Chancery does not understand';
  if (understood.includes(SIGNING_TIME_HEADER) && SIGNING_TIME_HEADER in h) {
    const crit = h['crit'];
    if (!Array.isArray(crit) || !crit.includes(SIGNING_TIME_HEADER))
      return '"sigT" is not listed in "crit" (ETSI TS 119 182-1 §5.2.1 requires it to be critical)';
  }
  if ('crit' in h) {
    const crit = h['crit'];
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string'))
      return '"crit" must be a non-empty array of header parameter names';
    if (new Set(crit).size !== crit.length) return '"crit" lists a name twice';
    for (const name of crit as string[]) {
      if (!understood.includes(name)) return `the header marks "${name.slice(0, 64)}" critical, and Chancery does not understand it here`;
      if (!(name in h)) return `"crit" lists "${name.slice(0, 64)}" but the protected header does not carry it`;
    }
  }
  return undefined;
}

/** What JWS validation found, for envelope.ts to finish. */
export interface JwsSignatures {
  signer: SignatureEvidence;
  countersigners: SignatureEvidence[];
}

/**
 * Runs the JWS checks of every entry: `signatures[0]` is the enterprise's, the rest are
 * countersignatures. `payload` is the document (the JWS's own or the detached one supplied).
 */
export async function verifyJwsSignatures(
  parsed: ParsedJws,
  payload: Uint8Array | undefined,
  rules: SignatureRules,
): Promise<JwsSignatures> {
  const payloadB64 = parsed.payloadB64 ?? (payload === undefined ? undefined : Buffer.from(payload).toString('base64url'));
  const first = parsed.signatures[0]!;
  const signer = await verifyEntry(first, 'signer', payloadB64, rules, first.signature);
  const countersigners: SignatureEvidence[] = [];
  for (const entry of parsed.signatures.slice(1))
    countersigners.push(await verifyEntry(entry, 'countersigner', payloadB64, rules, first.signature));
  return { signer, countersigners };
}

async function verifyEntry(
  entry: JwsEntry,
  role: 'signer' | 'countersigner',
  payloadB64: string | undefined,
  rules: SignatureRules,
  enterpriseSignature: Uint8Array,
): Promise<SignatureEvidence> {
  const checks = new CheckList();
  const what = role === 'signer' ? 'the signature' : 'the countersignature';
  const evidence: SignatureEvidence = {
    role,
    checks,
    certificate: undefined,
    algorithm: null,
    signingTime: undefined,
    signatureValue: entry.signature,
  };
  if (role === 'countersigner') evidence.decision = null;
  const h = entry.protectedHeader;
  const unsigned = readEtsiU(entry);
  if ('reason' in unsigned) checks.fail('jws.etsiU', 'FORMAT_FAILURE', unsigned.reason);
  else {
    evidence.timestampTokens = unsigned.sigTst;
    if (unsigned.xVals.length > 0) evidence.carried = unsigned.xVals;
  }
  const understood = role === 'signer' ? [SIGNING_TIME_HEADER] : [...COUNTERSIGNATURE_CRIT, REASON_HEADER, SIGNING_TIME_HEADER];

  // 1. Header rules (alg none, b64, crit, unprotected parameters).
  const violation = headerRuleViolation(entry, understood);
  if (violation !== undefined) checks.fail('jws.header', 'FORMAT_FAILURE', violation);
  else
    checks.pass(
      'jws.header',
      `the protected header keeps Chancery's rules (alg ${String(h['alg'])}, no b64, no sigD, crit only for ${understood.join(', ')})`,
    );
  if (role === 'signer' && (DECISION_HEADER in h || COUNTERSIGNATURE_HASH_HEADER in h || REASON_HEADER in h)) {
    checks.fail(
      'jws.role',
      'FORMAT_FAILURE',
      "the enterprise's signature (the first entry) carries countersignature parameters (decision, reason or sig#S256)",
    );
  }

  // 2. The signer certificate from x5c.
  const chain = readX5c(h);
  if ('reason' in chain) {
    checks.fail('jws.x5c', chain.subIndication, chain.reason);
  } else {
    evidence.certificate = chain.certificates[0]!;
    evidence.carried = [...chain.certificates.slice(1), ...(evidence.carried ?? [])];
    checks.pass(
      'jws.x5c',
      `x5c carries the signer certificate ${evidence.certificate.describe()}${chain.certificates.length > 1 ? ` and ${chain.certificates.length - 1} more` : ''}`,
    );
  }

  // 3. The claimed signing time: JAdES sigT, else iat.
  const iat = h['iat'];
  const iatOk = typeof iat === 'number' && Number.isSafeInteger(iat) && iat >= 0;
  if (SIGNING_TIME_HEADER in h) {
    const sigT = parseJadesSigningTime(h[SIGNING_TIME_HEADER]);
    if (sigT === undefined) {
      checks.fail('jws.signing-time', 'FORMAT_FAILURE', '"sigT" is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ');
    } else if (iat !== undefined && (!iatOk || (iat as number) * 1000 !== sigT.getTime())) {
      checks.fail('jws.signing-time', 'FORMAT_FAILURE', `"iat" and "sigT" do not name the same signing time`);
    } else {
      evidence.signingTime = sigT;
      checks.pass('jws.signing-time', `the claimed signing time (sigT) is ${sigT.toISOString()}`);
    }
  } else if (!iatOk) {
    checks.fail(
      'jws.signing-time',
      'FORMAT_FAILURE',
      'the protected header has neither "sigT" nor "iat" (the signing time, a NumericDate in whole seconds)',
    );
  } else {
    evidence.signingTime = new Date((iat as number) * 1000);
    checks.pass('jws.signing-time', `the claimed signing time is ${evidence.signingTime.toISOString()}`);
  }

  // 4. Algorithm: Chancery's algorithm policy for this key, then the policy allow-list.
  const cert = evidence.certificate;
  const key = cert?.tryPublicKey();
  const alg = typeof h['alg'] === 'string' ? h['alg'] : '';
  let algorithmOk = false;
  if (cert === undefined || key === undefined) {
    checks.notRun(
      'jws.signature-algorithm',
      cert === undefined
        ? 'the signer certificate was not found'
        : `the signer's public key cannot be read (${cert.publicKeyProblem ?? 'unknown reason'})`,
    );
  } else if (violation !== undefined) {
    checks.notRun('jws.signature-algorithm', 'the header breaks the rules above');
  } else {
    const scheme = joseSignatureScheme(alg, key);
    const allowed = 'refused' in scheme ? { ok: false as const, reason: scheme.refused } : algorithmAllowed(alg, key, rules);
    if (allowed.ok) {
      algorithmOk = true;
      evidence.algorithm = alg;
      checks.pass('jws.signature-algorithm', `the signature algorithm ${alg} is allowed`);
    } else {
      checks.fail('jws.signature-algorithm', 'CRYPTO_CONSTRAINTS_FAILURE', allowed.reason);
    }
  }

  // 5. The signature value (jose, algorithm pinned).
  if (!algorithmOk || key === undefined) {
    checks.notRun('jws.signature', 'no accepted algorithm and key to verify with');
  } else if (payloadB64 === undefined) {
    checks.indeterminate('jws.signature', 'SIGNED_DATA_NOT_FOUND', 'the payload is detached and was not supplied');
  } else {
    const r = await verifyJwsEntry(entry, payloadB64, key, [alg], understood);
    if (r.ok) checks.pass('jws.signature', `${what} value verifies with the signer's public key`);
    else checks.fail('jws.signature', r.subIndication, r.reason);
  }

  // 6. A countersignature's decision and its binding to the enterprise signature.
  if (role === 'countersigner') {
    const decision = h[DECISION_HEADER];
    if (typeof decision === 'string' && (DECISIONS as readonly string[]).includes(decision)) {
      evidence.decision = decision as Decision;
      checks.pass('jws.decision', `the officer's decision is "${decision}"`);
    } else {
      checks.fail(
        'jws.decision',
        'FORMAT_FAILURE',
        `the countersignature's "decision" is ${decision === undefined ? 'missing' : JSON.stringify(decision).slice(0, 64)}, not approve, refuse or review`,
      );
    }
    if (REASON_HEADER in h) {
      const reason = h[REASON_HEADER];
      const problem = reasonProblem(reason);
      const crit = h['crit'];
      if (problem !== undefined) checks.fail('jws.reason', 'FORMAT_FAILURE', `the countersignature's "reason" is refused: ${problem}`);
      else if (!Array.isArray(crit) || !crit.includes(REASON_HEADER))
        checks.fail(
          'jws.reason',
          'FORMAT_FAILURE',
          '"reason" is not listed in "crit": a verifier that ignores it would show the decision without it',
        );
      else {
        evidence.reason = reason as string;
        checks.pass('jws.reason', "the officer's reason is signed with the decision");
      }
    }
    const bound = h[COUNTERSIGNATURE_HASH_HEADER];
    const expected = sha256(enterpriseSignature).toString('base64url');
    if (typeof bound !== 'string')
      checks.fail(
        'jws.countersignature-binding',
        'FORMAT_FAILURE',
        `the countersignature has no "${COUNTERSIGNATURE_HASH_HEADER}" binding it to the enterprise signature`,
      );
    else if (bound !== expected)
      checks.fail(
        'jws.countersignature-binding',
        'HASH_FAILURE',
        `"${COUNTERSIGNATURE_HASH_HEADER}" is not the SHA-256 of this envelope's enterprise signature: the countersignature was made for another signature`,
      );
    else checks.pass('jws.countersignature-binding', `"${COUNTERSIGNATURE_HASH_HEADER}" is the SHA-256 of the enterprise signature`);
  }
  return evidence;
}

function readX5c(h: Record<string, unknown>): { certificates: Certificate[] } | { subIndication: SubIndication; reason: string } {
  const x5c = h['x5c'];
  if (x5c === undefined)
    return { subIndication: 'NO_SIGNING_CERTIFICATE_FOUND', reason: 'the protected header has no "x5c" with the signer certificate' };
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((c) => typeof c !== 'string'))
    return { subIndication: 'FORMAT_FAILURE', reason: '"x5c" is not a non-empty array of strings' };
  if (x5c.length > MAX_X5C)
    return { subIndication: 'FORMAT_FAILURE', reason: `"x5c" has ${x5c.length} certificates, above the limit of ${MAX_X5C}` };
  let certificates: Certificate[];
  try {
    certificates = (x5c as string[]).map((c, i) => parseCertificate(decodeBase64(c, `x5c[${i}]`)));
  } catch (error) {
    if (isParseFault(error)) return { subIndication: 'FORMAT_FAILURE', reason: `"x5c" does not hold DER certificates: ${error.message}` };
    throw error;
  }
  const thumb = h['x5t#S256'];
  if (thumb !== undefined && thumb !== sha256(certificates[0]!.der).toString('base64url')) {
    return { subIndication: 'NO_SIGNING_CERTIFICATE_FOUND', reason: '"x5t#S256" is not the SHA-256 of the first x5c certificate' };
  }
  return { certificates };
}

/**
 * JAdES unsigned properties (ETSI TS 119 182-1 §5.3): `etsiU` is an array whose items are each
 * one property, as base64url-encoded JSON or as JSON. Read here: `sigTst` (signature time-stamps,
 * §5.3.4.3: each `tstTokens[].val` a base64 DER TimeStampToken over the base64url JWS signature
 * value) and `xVals` (§5.3.5.1: certificates, `x509Cert` base64 DER, used for path building);
 * `rVals` and other items are carried, not read.
 */
function readEtsiU(
  entry: JwsEntry,
): { sigTst: NonNullable<SignatureEvidence['timestampTokens']>; xVals: Certificate[] } | { reason: string } {
  const raw = entry.unprotectedHeader?.[ETSI_UNSIGNED_HEADER];
  const out = { sigTst: [] as NonNullable<SignatureEvidence['timestampTokens']>, xVals: [] as Certificate[] };
  if (raw === undefined) return out;
  if (!Array.isArray(raw) || raw.length > MAX_ETSI_U_ITEMS)
    return { reason: `"etsiU" must be an array of at most ${MAX_ETSI_U_ITEMS} unsigned properties` };
  const covered = Buffer.from(entry.signatureB64, 'latin1');
  try {
    for (const [i, item] of raw.entries()) {
      let property: unknown = item;
      if (typeof item === 'string') {
        const parsed = parseDocument(decodeBase64Url(item, `etsiU[${i}]`));
        if (!parsed.ok) return { reason: `etsiU[${i}] is not base64url JSON: ${parsed.reason}` };
        property = parsed.value;
      }
      if (property === null || typeof property !== 'object' || Array.isArray(property) || Object.keys(property).length !== 1)
        return { reason: `etsiU[${i}] is not an object with exactly one unsigned property` };
      const [name, value] = Object.entries(property as Record<string, unknown>)[0]!;
      if (name === 'sigTst') {
        const tokens = (value as { tstTokens?: unknown } | null)?.tstTokens;
        if (!Array.isArray(tokens) || tokens.length === 0) return { reason: `etsiU[${i}].sigTst has no tstTokens` };
        for (const t of tokens) {
          const val = (t as { val?: unknown } | null)?.val;
          if (typeof val !== 'string') return { reason: `etsiU[${i}].sigTst.tstTokens holds an entry without a "val" string` };
          out.sigTst.push({
            token: decodeBase64(val, `etsiU[${i}].sigTst token`),
            covered,
            coveredName: 'the base64url JWS signature value',
          });
        }
      } else if (name === 'xVals') {
        if (!Array.isArray(value)) return { reason: `etsiU[${i}].xVals is not an array` };
        for (const x of value) {
          const der = (x as { x509Cert?: { val?: unknown } } | null)?.x509Cert?.val;
          if (typeof der !== 'string') return { reason: `etsiU[${i}].xVals holds an entry without "x509Cert": { "val" }` };
          if (out.xVals.length >= MAX_X5C * 2) return { reason: `etsiU xVals carries more than ${MAX_X5C * 2} certificates` };
          out.xVals.push(parseCertificate(decodeBase64(der, `etsiU[${i}].xVals certificate`)));
        }
      }
    }
  } catch (error) {
    if (isParseFault(error)) return { reason: `"etsiU" is malformed: ${error.message}` };
    throw error;
  }
  if (out.sigTst.length > 4) return { reason: `"etsiU" carries ${out.sigTst.length} signature time-stamps, above the limit of 4` };
  return out;
}
