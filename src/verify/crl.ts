import { looksLikePem } from '../der/pem.js';
import {
  childrenOf,
  expectTag,
  readBitString,
  readBoolean,
  readIntegerHex,
  readDer,
  readNamedBits,
  readOctets,
  readOid,
  readSmallInteger,
  readTime,
  toHex,
} from '../der/reader.js';
import type { DerElement } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { tlv } from '../der/writer.js';
import { EXT } from '../oids.js';
import { CHANCERY_ALGORITHMS, type AlgorithmPolicy } from './algorithms.js';
import { parseAlgorithmIdentifier } from './algorithm-identifier.js';
import type { Certificate } from './certificate.js';
import { parseDistributionPointName } from './certificate-extensions.js';
import {
  REASON_FLAG_NAMES,
  type AlgorithmIdentifier,
  type DistributionPoint,
  type DistributionPointName,
  type Extension,
  type ReasonName,
} from './certificate-types.js';
import { asVerifyError, isParseFault, malformed } from './errors.js';
import { parseGeneralNames, parseName, type GeneralName, type Name } from './name.js';
import { ParseCache } from './parse-cache.js';
import { pemBlocks } from './pem-input.js';
import { PURPOSE_CRL_SIGNING } from './path.js';
import { verifySignedBytes } from './path/signatures.js';
import { normalizeSerial, type RevocationContext, type RevocationSource, type RevocationStatus } from './revocation.js';

/**
 * Certificate revocation lists (RFC 5280 §5) and the CRL revocation source (§6.3). A CRL is used
 * for a certificate only when its issuer and scope fit (issuing distribution point, user/CA-only,
 * indirect CRLs with cRLIssuer), it is current at the validation time (nextUpdate not passed),
 * it has no critical extension or entry extension we do not process, and its signature verifies
 * with a key entitled to sign it: the certificate's issuer, or another certificate of the same
 * name with cRLSign whose own path validates to the same trust anchor (§6.3.3 (f)). Delta CRLs
 * (§5.2.4) are applied on top of a complete CRL they fit. A certificate is good only when the
 * usable CRLs together cover every revocation reason; otherwise its status is unknown.
 */

/** CRLReason (RFC 5280 §5.3.1). */
export const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

export interface CrlEntry {
  serialNumberHex: string;
  revocationDate: Date;
  reason: string | undefined;
  /** The issuer of the revoked certificate (indirect CRLs: from the certificateIssuer entry extension). */
  certificateIssuer: Name;
}

export interface IssuingDistributionPoint {
  distributionPoint: DistributionPointName | undefined;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  onlySomeReasons: ReadonlySet<ReasonName> | undefined;
  indirectCrl: boolean;
  onlyContainsAttributeCerts: boolean;
  /** DER of the extension value, to compare the scope of a delta CRL with its base. */
  der: Buffer;
}

/** A parsed CRL. Read-only; instances are cached by exact bytes. */
export interface Crl {
  der: Buffer;
  tbs: Buffer;
  version: number;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Buffer;
  issuer: Name;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  extensions: Extension[];
  crlNumber: bigint | undefined;
  /** BaseCRLNumber of a delta CRL. */
  deltaCrlIndicator: bigint | undefined;
  issuingDistributionPoint: IssuingDistributionPoint | undefined;
  authorityKeyIdentifier: Buffer | undefined;
  /** Entries by normalized serial number. */
  entries: Map<string, CrlEntry[]>;
  entryCount: number;
  /** Why this CRL must not be used at all (unprocessable critical extensions, profile faults). */
  problems: string[];
}

const PROCESSED_CRL_EXTENSIONS = new Set<string>([
  EXT.crlNumber,
  EXT.deltaCrlIndicator,
  EXT.issuingDistributionPoint,
  EXT.authorityKeyIdentifier,
  EXT.issuerAltName,
  EXT.freshestCrl,
  EXT.authorityInfoAccess,
]);
const PROCESSED_ENTRY_EXTENSIONS = new Set<string>([EXT.crlReason, EXT.invalidityDate, EXT.certificateIssuer]);

const cache = new ParseCache<Crl>(256);

/** Parses one DER CRL; throws ERR_VERIFY_MALFORMED when it is not a DER CertificateList. */
export function parseCrl(der: Uint8Array): Crl {
  return cache.get(der, readCrl, undefined);
}

function readCrl(der: Uint8Array): Crl {
  try {
    return decodeCrl(Buffer.from(der));
  } catch (error) {
    throw asVerifyError(error);
  }
}

/** Reads every CRL from PEM text (X509 CRL blocks) or one DER blob. */
export function parseCrls(input: Uint8Array | string, what = 'the CRL input'): Crl[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return [parseCrl(input as Uint8Array)];
  const blocks = pemBlocks(text, 'X509 CRL');
  if (blocks.length === 0) throw malformed(`${what} contains no PEM X509 CRL block`);
  return blocks.map((b) => parseCrl(b));
}

function decodeCrl(der: Buffer): Crl {
  const what = 'the CRL';
  const [tbsEl, algEl, sigEl, extra] = childrenOf(expectTag(readDer(der, what), TAG.SEQUENCE, what), what);
  if (extra !== undefined) throw malformed(`${what} has more than three top-level fields`);
  const tbs = expectTag(tbsEl, TAG.SEQUENCE, 'tbsCertList');
  const signatureAlgorithm = parseAlgorithmIdentifier(algEl, 'the CRL signature algorithm');
  const signature = Buffer.from(readBitString(sigEl, 'the CRL signature').bytes);
  const f = childrenOf(tbs, 'tbsCertList');
  const problems: string[] = [];
  let i = 0;
  let version = 1;
  if (f[i]?.tag === TAG.INTEGER) {
    const v = readSmallInteger(f[i++], 'the CRL version');
    if (v !== 1) throw malformed(`the CRL version ${v + 1} is unknown`);
    version = 2;
  }
  const inner = parseAlgorithmIdentifier(f[i++], 'the tbsCertList signature algorithm');
  if (!inner.der.equals(signatureAlgorithm.der)) problems.push('the signature algorithm inside tbsCertList differs from the outer one');
  const issuer = parseName(expectTag(f[i++], TAG.SEQUENCE, 'the CRL issuer'), 'the CRL issuer');
  if (issuer.isEmpty) problems.push('the CRL issuer name is empty');
  const thisUpdate = readTime(f[i++], 'thisUpdate');
  let nextUpdate: Date | undefined;
  if (f[i]?.tag === TAG.UTC_TIME || f[i]?.tag === TAG.GENERALIZED_TIME) nextUpdate = readTime(f[i++], 'nextUpdate');
  let revokedEl: DerElement | undefined;
  if (f[i]?.tag === TAG.SEQUENCE) revokedEl = f[i++];
  let extensions: Extension[] = [];
  if (f[i]?.tag === contextTag(0, true)) {
    const wrapped = childrenOf(f[i++]!, 'crlExtensions');
    if (wrapped.length !== 1) throw malformed('crlExtensions is malformed');
    extensions = parseExtensionList(wrapped[0]!, 'crlExtensions', problems);
    if (version !== 2) problems.push('a v1 CRL carries extensions');
  }
  if (i !== f.length) throw malformed('tbsCertList has unexpected trailing fields');

  let crlNumber: bigint | undefined;
  let deltaCrlIndicator: bigint | undefined;
  let issuingDistributionPoint: IssuingDistributionPoint | undefined;
  let authorityKeyIdentifier: Buffer | undefined;
  for (const ext of extensions) {
    try {
      switch (ext.oid) {
        case EXT.crlNumber:
          if (ext.critical) problems.push('the CRL number extension is critical (RFC 5280 §5.2.3 requires it non-critical)');
          crlNumber = readBigInteger(readDer(ext.value, 'the CRL number'), 'the CRL number');
          break;
        case EXT.deltaCrlIndicator:
          if (!ext.critical) problems.push('the delta CRL indicator is not critical (RFC 5280 §5.2.4)');
          deltaCrlIndicator = readBigInteger(readDer(ext.value, 'the delta CRL indicator'), 'the delta CRL indicator');
          break;
        case EXT.issuingDistributionPoint:
          if (!ext.critical) problems.push('the issuing distribution point is not critical (RFC 5280 §5.2.5)');
          issuingDistributionPoint = parseIdp(ext.value);
          break;
        case EXT.authorityKeyIdentifier: {
          const parts = childrenOf(expectTag(readDer(ext.value, 'the CRL AKI'), TAG.SEQUENCE, 'the CRL AKI'), 'the CRL AKI');
          if (parts[0]?.tag === 0x80) authorityKeyIdentifier = Buffer.from(parts[0].value);
          break;
        }
        default:
          if (ext.critical && !PROCESSED_CRL_EXTENSIONS.has(ext.oid))
            problems.push(`the CRL has a critical extension Chancery does not process: ${ext.oid}`);
      }
    } catch (error) {
      if (!isParseFault(error)) throw error;
      problems.push(`CRL extension ${ext.oid} is malformed: ${error.message}`);
    }
  }
  if (version === 2 && crlNumber === undefined) problems.push('the CRL has no CRL number (RFC 5280 §5.2.3 requires one)');

  const entries = new Map<string, CrlEntry[]>();
  let entryCount = 0;
  if (revokedEl !== undefined) {
    let entryIssuer = issuer;
    for (const item of childrenOf(revokedEl, 'revokedCertificates')) {
      const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'a CRL entry'), 'a CRL entry');
      // X.690 §8.3.2: a serial with a redundant leading octet is not an INTEGER encoding at all.
      const serialHex = readIntegerHex(parts[0], 'a revoked serial number');
      const revocationDate = readTime(parts[1], 'a revocation date');
      let reason: string | undefined;
      if (parts[2] !== undefined) {
        if (version !== 2) problems.push('a v1 CRL entry carries extensions');
        for (const ext of parseExtensionList(parts[2], 'CRL entry extensions', problems)) {
          try {
            if (ext.oid === EXT.crlReason) {
              const el = expectTag(readDer(ext.value, 'a reason code'), 0x0a, 'a reason code');
              const code = el.value.length === 1 ? el.value[0]! : -1;
              reason = CRL_REASONS[code];
              if (reason === undefined) problems.push(`a CRL entry has an unknown reason code ${code}`);
            } else if (ext.oid === EXT.certificateIssuer) {
              const names = parseGeneralNames(readDer(ext.value, 'a certificate issuer'), 'a certificate issuer');
              const dn = names.find((n): n is Extract<GeneralName, { type: 'directory' }> => n.type === 'directory');
              if (dn === undefined) problems.push('a certificateIssuer entry extension has no directoryName');
              else entryIssuer = dn.name;
            } else if (ext.oid === EXT.invalidityDate) {
              readTime(readDer(ext.value, 'an invalidity date'), 'an invalidity date');
            } else if (ext.critical && !PROCESSED_ENTRY_EXTENSIONS.has(ext.oid)) {
              problems.push(`a CRL entry has a critical extension Chancery does not process: ${ext.oid}`);
            }
          } catch (error) {
            if (!isParseFault(error)) throw error;
            problems.push(`CRL entry extension ${ext.oid} is malformed: ${error.message}`);
          }
        }
      }
      if (parts.length > 3) throw malformed('a CRL entry has unexpected fields');
      const serialNumberHex = normalizeSerial(serialHex);
      const list = entries.get(serialNumberHex) ?? [];
      list.push({ serialNumberHex, revocationDate, reason, certificateIssuer: entryIssuer });
      entries.set(serialNumberHex, list);
      entryCount++;
    }
  }
  return {
    der,
    tbs: Buffer.from(tbs.bytes),
    version,
    signatureAlgorithm,
    signature,
    issuer,
    thisUpdate,
    nextUpdate,
    extensions,
    crlNumber,
    deltaCrlIndicator,
    issuingDistributionPoint,
    authorityKeyIdentifier,
    entries,
    entryCount,
    problems,
  };
}

function parseExtensionList(el: DerElement, what: string, problems: string[]): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const item of childrenOf(expectTag(el, TAG.SEQUENCE, what), what)) {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'an extension'), 'an extension');
    const oid = readOid(parts[0], 'an extension id');
    let k = 1;
    let critical = false;
    if (parts[k]?.tag === TAG.BOOLEAN) critical = readBoolean(parts[k++], 'a critical flag');
    const value = Buffer.from(readOctets(parts[k++], 'an extension value'));
    if (k !== parts.length) throw malformed(`extension ${oid} has unexpected fields`);
    if (seen.has(oid)) problems.push(`${what} repeat extension ${oid}`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

function readBigInteger(el: DerElement, what: string): bigint {
  const v = expectTag(el, TAG.INTEGER, what).value;
  if (v.length === 0 || v.length > 20 || (v[0]! & 0x80) !== 0)
    throw malformed(`${what} is not a non-negative integer of at most 20 octets`);
  return BigInt(`0x${toHex(v)}`);
}

function parseIdp(value: Buffer): IssuingDistributionPoint {
  const parts = childrenOf(
    expectTag(readDer(value, 'the issuing distribution point'), TAG.SEQUENCE, 'the issuing distribution point'),
    'the issuing distribution point',
  );
  const idp: IssuingDistributionPoint = {
    distributionPoint: undefined,
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    onlySomeReasons: undefined,
    indirectCrl: false,
    onlyContainsAttributeCerts: false,
    der: value,
  };
  let k = 0;
  const bool = (el: DerElement): boolean => readBoolean({ ...el, tag: TAG.BOOLEAN }, 'an issuing distribution point flag');
  if (parts[k]?.tag === 0xa0) {
    const inner = childrenOf(parts[k++]!, 'the distribution point name');
    if (inner.length !== 1) throw malformed('the issuing distribution point name is malformed');
    idp.distributionPoint = parseDistributionPointName(inner[0]!);
  }
  if (parts[k]?.tag === 0x81) idp.onlyContainsUserCerts = bool(parts[k++]!);
  if (parts[k]?.tag === 0x82) idp.onlyContainsCACerts = bool(parts[k++]!);
  if (parts[k]?.tag === 0x83)
    idp.onlySomeReasons = readNamedBits({ ...parts[k++]!, tag: TAG.BIT_STRING }, REASON_FLAG_NAMES, 'onlySomeReasons');
  if (parts[k]?.tag === 0x84) idp.indirectCrl = bool(parts[k++]!);
  if (parts[k]?.tag === 0x85) idp.onlyContainsAttributeCerts = bool(parts[k++]!);
  if (k !== parts.length) throw malformed('the issuing distribution point has unexpected fields');
  return idp;
}

// ---------------------------------------------------------------------------------------------
// The CRL revocation source (RFC 5280 §6.3.3)

const ALL_REASONS: readonly ReasonName[] = REASON_FLAG_NAMES.filter((r) => r !== 'unused');

export interface CrlSourceOptions {
  /** Extra certificates to look for CRL signers among (besides those of the validation). */
  certificates?: Certificate[];
  /** Algorithm policy for CRL signatures; default Chancery's. */
  algorithms?: AlgorithmPolicy;
}

/**
 * A revocation source over supplied CRLs (DER, PEM text, or parsed). Bad CRLs are not errors:
 * they are skipped, and if no usable CRL covers a certificate its status is unknown, with the
 * reasons each CRL was not used.
 */
export function crlSource(crls: Array<Crl | Uint8Array | string>, options: CrlSourceOptions = {}): RevocationSource {
  const parsed: Crl[] = [];
  const unreadable: string[] = [];
  for (const c of crls) {
    try {
      if (typeof c === 'string' || c instanceof Uint8Array) for (const crl of parseCrls(c)) parsed.push(crl);
      else parsed.push(c);
    } catch (error) {
      if (!isParseFault(error)) throw error;
      unreadable.push(error.message);
    }
  }
  const complete = parsed.filter((c) => c.deltaCrlIndicator === undefined);
  const deltas = parsed.filter((c) => c.deltaCrlIndicator !== undefined);
  const algorithms = options.algorithms ?? CHANCERY_ALGORITHMS;
  const extra = options.certificates ?? [];

  return {
    async status(cert, issuer, at, context) {
      const notes: string[] = unreadable.map((u) => `a supplied CRL cannot be read (${u})`);
      const covered = new Set<ReasonName>();
      const sources: string[] = [];
      const points: DistributionPoint[] = cert.crlDistributionPoints?.length ? [...cert.crlDistributionPoints] : [];
      // §6.3.3: without a cRLDistributionPoints extension, the issuer's own full CRLs apply.
      const implicit: DistributionPoint = {
        distributionPoint: undefined,
        reasons: undefined,
        crlIssuer: [{ type: 'directory', name: cert.issuer }],
      };
      if (points.length === 0) points.push(implicit);
      for (const dp of points) {
        for (const crl of complete) {
          if (covered.size === ALL_REASONS.length) break;
          const why = scopeProblem(crl, cert, dp);
          if (why !== undefined) {
            notes.push(`the CRL of "${crl.issuer.describe()}" issued ${crl.thisUpdate.toISOString()} does not apply: ${why}`);
            continue;
          }
          const interim = new Set<ReasonName>(
            ALL_REASONS.filter((r) => (dp.reasons?.has(r) ?? true) && (crl.issuingDistributionPoint?.onlySomeReasons?.has(r) ?? true)),
          );
          if ([...interim].every((r) => covered.has(r))) continue;
          const usable = await usability(crl, cert, issuer, at, context, extra, algorithms, dp !== implicit && dp.crlIssuer !== undefined);
          if (usable !== undefined) {
            notes.push(`the CRL of "${crl.issuer.describe()}" issued ${crl.thisUpdate.toISOString()} is not usable: ${usable}`);
            continue;
          }
          const label = `the CRL of "${crl.issuer.describe()}" issued ${crl.thisUpdate.toISOString()}${crl.crlNumber === undefined ? '' : ` (number ${crl.crlNumber})`}`;
          // A delta CRL for this complete CRL, newest first (RFC 5280 §5.2.4, §6.3.3 (c)).
          let delta: Crl | undefined;
          for (const d of deltasFor(crl, deltas)) {
            const dUsable =
              scopeProblem(d, cert, dp) ??
              (await usability(d, cert, issuer, at, context, extra, algorithms, dp !== implicit && dp.crlIssuer !== undefined));
            if (dUsable === undefined) {
              delta = d;
              break;
            }
            notes.push(`the delta CRL of "${d.issuer.describe()}" issued ${d.thisUpdate.toISOString()} is not usable: ${dUsable}`);
          }
          const dEntry = delta === undefined ? undefined : findEntry(delta, cert);
          if (dEntry !== undefined && dEntry.reason !== 'removeFromCRL') {
            return revoked(
              dEntry,
              `the delta CRL of "${delta!.issuer.describe()}" issued ${delta!.thisUpdate.toISOString()} (number ${delta!.crlNumber})`,
            );
          }
          if (dEntry === undefined) {
            const entry = findEntry(crl, cert);
            if (entry !== undefined && entry.reason !== 'removeFromCRL') return revoked(entry, label);
          }
          for (const r of interim) covered.add(r);
          sources.push(delta === undefined ? label : `${label} with its delta CRL number ${delta.crlNumber}`);
        }
      }
      if (covered.size === ALL_REASONS.length) return { status: 'good', source: sources.join(' and ') };
      if (parsed.length === 0 && unreadable.length === 0) return { status: 'unknown', reason: 'no CRL was supplied' };
      const missing = ALL_REASONS.filter((r) => !covered.has(r));
      const head =
        covered.size === 0
          ? `no usable CRL covers certificate ${cert.describe()}`
          : `the usable CRLs do not cover the reasons ${missing.join(', ')}`;
      return {
        status: 'unknown',
        reason: notes.length === 0 ? head : `${head} (${notes.slice(0, 4).join('; ')}${notes.length > 4 ? '; …' : ''})`,
      };
    },
  };
}

function revoked(entry: CrlEntry, source: string): RevocationStatus {
  return { status: 'revoked', revokedAt: entry.revocationDate, ...(entry.reason === undefined ? {} : { reason: entry.reason }), source };
}

function findEntry(crl: Crl, cert: Certificate): CrlEntry | undefined {
  return crl.entries.get(normalizeSerial(cert.serialNumberHex))?.find((e) => e.certificateIssuer.equals(cert.issuer));
}

/** Delta CRLs that apply to a complete CRL (RFC 5280 §5.2.4): same issuer and scope, base number covered, newer. */
function deltasFor(base: Crl, deltas: Crl[]): Crl[] {
  if (base.crlNumber === undefined) return [];
  return deltas
    .filter(
      (d) =>
        d.issuer.equals(base.issuer) &&
        d.deltaCrlIndicator! <= base.crlNumber! &&
        d.crlNumber !== undefined &&
        d.crlNumber > base.crlNumber! &&
        (d.issuingDistributionPoint?.der.toString('hex') ?? '') === (base.issuingDistributionPoint?.der.toString('hex') ?? ''),
    )
    .sort((a, b) => (b.crlNumber! > a.crlNumber! ? 1 : -1));
}

/** RFC 5280 §6.3.3 (b): does this CRL speak about this certificate through this distribution point? */
function scopeProblem(crl: Crl, cert: Certificate, dp: DistributionPoint): string | undefined {
  const idp = crl.issuingDistributionPoint;
  // (b)(1) issuer
  if (dp.crlIssuer !== undefined) {
    const names = dp.crlIssuer.filter((n): n is Extract<GeneralName, { type: 'directory' }> => n.type === 'directory');
    if (!names.some((n) => n.name.equals(crl.issuer))) {
      const direct = names.length === 1 && names[0]!.name.equals(cert.issuer);
      return `it is issued by "${crl.issuer.describe()}", not by ${direct ? "the certificate's issuer" : "the distribution point's CRL issuer"}`;
    }
    if (!crl.issuer.equals(cert.issuer) && idp?.indirectCrl !== true) return 'it is issued by another authority but is not an indirect CRL';
  } else if (!crl.issuer.equals(cert.issuer)) {
    return `it is issued by "${crl.issuer.describe()}", not by the certificate's issuer`;
  }
  if (idp === undefined) return undefined;
  // (b)(2)(i) distribution point names
  if (idp.distributionPoint !== undefined) {
    const idpNames = fullNames(idp.distributionPoint, crl.issuer);
    // A relative DP name is appended to the DP's cRLIssuer when there is one, else to the certificate's issuer.
    const dpBase = dp.crlIssuer?.find((n): n is Extract<GeneralName, { type: 'directory' }> => n.type === 'directory')?.name ?? cert.issuer;
    const dpNames = dp.distributionPoint !== undefined ? fullNames(dp.distributionPoint, dpBase) : (dp.crlIssuer ?? []);
    if (!idpNames.some((a) => dpNames.some((b) => sameGeneralName(a, b))))
      return "its issuing distribution point is not one of the certificate's distribution points";
  }
  // (b)(2)(ii)–(iv)
  if (idp.onlyContainsUserCerts && cert.isCa) return 'it covers end-entity certificates only';
  if (idp.onlyContainsCACerts && !cert.isCa) return 'it covers CA certificates only';
  if (idp.onlyContainsAttributeCerts) return 'it covers attribute certificates only';
  return undefined;
}

/** Is the CRL itself usable at `at`: well formed, current, and signed by an entitled key? */
async function usability(
  crl: Crl,
  cert: Certificate,
  issuer: Certificate,
  at: Date,
  context: RevocationContext | undefined,
  extra: Certificate[],
  algorithms: AlgorithmPolicy,
  /** The certificate's issuer named a cRLIssuer for it explicitly (its cRLDistributionPoints). */
  delegated: boolean,
): Promise<string | undefined> {
  if (crl.problems.length > 0) return crl.problems.join('; ');
  if (crl.nextUpdate === undefined) return 'it has no nextUpdate, so its currency cannot be judged';
  if (at.getTime() > crl.nextUpdate.getTime())
    return `it was superseded on ${crl.nextUpdate.toISOString()} (nextUpdate) before the validation time`;
  // (f)/(g): the signer. The certificate's own issuer first, when the CRL is direct.
  const notes: string[] = [];
  if (crl.issuer.equals(issuer.subject)) {
    const key = issuer.tryPublicKey();
    if (key !== undefined) {
      const sig = verifySignedBytes(crl.tbs, crl.signatureAlgorithm, crl.signature, key, algorithms);
      if (sig.ok) {
        if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('cRLSign'))
          return `its signer ${issuer.describe()} has a keyUsage without cRLSign`;
        return undefined;
      }
      notes.push(`it is not signed by the key of ${issuer.describe()} (${sig.message})`);
    }
  }
  if (context === undefined) return notes[0] ?? "its signer is not the certificate's issuer, and no other signer can be validated here";
  const seen = new Set<Certificate>([issuer]);
  const candidates = [...context.candidates, ...extra].filter((c) => c.subject.equals(crl.issuer) && !seen.has(c));
  for (const signer of candidates) {
    seen.add(signer);
    const key = signer.tryPublicKey();
    if (key === undefined) continue;
    const sig = verifySignedBytes(crl.tbs, crl.signatureAlgorithm, crl.signature, key, algorithms);
    if (!sig.ok) continue;
    if (signer.keyUsage !== undefined && !signer.keyUsage.has('cRLSign')) {
      notes.push(`its signer ${signer.describe()} has a keyUsage without cRLSign`);
      continue;
    }
    // A CRL issuer whose own status is on its own CRL, because its issuer named it as the
    // cRLIssuer for it (PKITS 4.14.30): its path is the one the caller is validating, so it is
    // not validated again here. Without that explicit delegation a certificate never vouches
    // for itself.
    if (signer === cert) {
      if (delegated) return undefined;
      continue;
    }
    const invalid = await context.validateSigner(signer, PURPOSE_CRL_SIGNING);
    if (invalid === undefined) return undefined;
    notes.push(`its signer ${signer.describe()} is not valid: ${invalid}`);
  }
  return notes.length > 0 ? notes.join('; ') : 'no certificate entitled to sign it was found';
}

/** The full names of a distribution point name; nameRelativeToCRLIssuer is appended to `issuer`. */
function fullNames(dpn: DistributionPointName, issuer: Name): GeneralName[] {
  if (dpn.fullName !== undefined) return dpn.fullName;
  const rdn = dpn.nameRelativeToCrlIssuerDer!;
  // Name = issuer RDNs + this RDN: re-encode the SEQUENCE from the issuer's contents plus the SET.
  const issuerDer = readDer(issuer.der, 'the CRL issuer');
  const name = tlv(TAG.SEQUENCE, issuerDer.value, rdn);
  return [{ type: 'directory', name: parseName(readDer(name, 'a distribution point name'), 'a distribution point name') }];
}

function sameGeneralName(a: GeneralName, b: GeneralName): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'directory':
      return a.name.equals((b as typeof a).name);
    case 'uri':
    case 'dns':
    case 'rfc822':
      return a.value === (b as typeof a).value;
    case 'ip':
      return a.bytes.equals((b as typeof a).bytes);
    case 'registeredId':
      return a.oid === (b as typeof a).oid;
    default:
      return (a as { der: Buffer }).der.equals((b as { der: Buffer }).der);
  }
}
