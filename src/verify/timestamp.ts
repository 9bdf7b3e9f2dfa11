import { digest, identifierDigest } from '../crypto/digest.js';
import { verifySignature } from '../crypto/signature.js';
import {
  childrenOf,
  expectTag,
  readBoolean,
  readDer,
  readIntegerHex,
  readOctets,
  readOid,
  readSequence,
  readSmallInteger,
  readTime,
  toHex,
  type DerElement,
} from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { OID } from '../oids.js';
import { algorithmName, signatureSchemeOf } from './algorithms.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { DIGEST_BY_OID, indexAttributes, readContentType, readMessageDigest, singleValue } from './cms-attributes.js';
import { parseCmsSignedData, readAlgorithm, type CmsAttribute, type CmsSignerInfo } from './cms-parse.js';
import { isParseFault, malformed } from './errors.js';
import { parseNameDer } from './name.js';
import { PURPOSE_TIME_STAMPING, validatePath } from './path.js';
import type { SubIndication } from './report.js';
import type { RevocationSource } from './revocation.js';
import { CheckList, outcomeFields, outcomeOf, summarizeSigner, type TimestampReport } from './validation-report.js';

export type { TimestampReport } from './validation-report.js';

/**
 * Validation of RFC 3161 time-stamp tokens (with RFC 5816 ESSCertIDv2): a TimeStampToken is a CMS
 * ContentInfo holding SignedData over a TSTInfo. A token is a proof of existence of the data its
 * messageImprint covers at its genTime only when every check passes: the imprint is of that data,
 * the SignerInfo signs the TSTInfo, signing-certificate(-v2) names the TSA certificate, the TSA's
 * path leads to a trust anchor for id-kp-timeStamping (critical, alone: RFC 3161 §2.3) at the
 * validation time with revocation, and genTime is not after the validation time. Pure: no I/O
 * besides the revocation source; every fault is a check.
 */

/** RFC 3161 id-ct-TSTInfo. */
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
/** RFC 2634 signing-certificate (ESSCertID with SHA-1 certHash). */
export const OID_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
/** RFC 3161 Appendix A id-aa-signatureTimeStampToken: an unsigned attribute of a SignerInfo. */
export const OID_SIGNATURE_TIME_STAMP = '1.2.840.113549.1.9.16.2.14';
/** RFC 5280 id-kp-timeStamping. */
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** Largest token accepted (a TSA certificate chain and a signature fit easily). */
export const MAX_TOKEN_BYTES = 64 * 1024;

export interface TstInfo {
  policy: string;
  hashAlgorithm: string;
  hashedMessage: Uint8Array;
  serialHex: string;
  genTime: Date;
  nonceHex: string | undefined;
}

export interface TimestampValidation {
  report: TimestampReport;
  /** The token is well formed, its imprint covers the data and the TSA's signature and ESS binding hold. */
  intact: boolean;
  /** Set when the token is a proof of existence (intact and trusted). */
  proofTime: Date | undefined;
}

export interface VerifyTimestampInput {
  token: Uint8Array;
  /** The data the token must cover (its messageImprint is this data's hash). */
  data: Uint8Array;
  /** What the data is, for messages ("the signature value"). */
  dataName: string;
  anchors: readonly Certificate[];
  intermediates?: readonly Certificate[] | undefined;
  revocation: RevocationSource;
  time: Date;
  index?: number;
}

/** Validates one token against the data it should cover; never throws for anything in the token. */
export async function verifyTimestampToken(input: VerifyTimestampInput): Promise<TimestampValidation> {
  const checks = new CheckList();
  const index = input.index ?? 0;
  const result = (tstInfo: TstInfo | undefined, tsa: Certificate | undefined, intact: boolean, trusted: boolean): TimestampValidation => {
    const o = outcomeOf(checks.checks);
    return {
      report: {
        index,
        ...outcomeFields(o),
        genTime: tstInfo?.genTime.toISOString() ?? null,
        serialNumber: tstInfo?.serialHex ?? null,
        policy: tstInfo?.policy ?? null,
        tsa: tsa === undefined ? null : summarizeSigner(tsa),
        checks: checks.checks,
      },
      intact,
      proofTime: intact && trusted && o.indication === 'TOTAL_PASSED' ? tstInfo!.genTime : undefined,
    };
  };

  // 1. The structure: SignedData over a TSTInfo with exactly one SignerInfo.
  let parsed: ReturnType<typeof parseToken>;
  try {
    parsed = parseToken(input.token);
    checks.pass('timestamp.format', `the token is a CMS SignedData over a TSTInfo (serial ${parsed.tstInfo.serialHex})`);
  } catch (error) {
    if (!isParseFault(error)) throw error;
    checks.fail('timestamp.format', 'FORMAT_FAILURE', `the time-stamp token is malformed: ${error.message}`);
    return result(undefined, undefined, false, false);
  }
  const { tstInfo, signerInfo, certificates } = parsed;

  // 2. The messageImprint is the hash of the data the token is meant to cover.
  const imprintHash = DIGEST_BY_OID[tstInfo.hashAlgorithm];
  let intact = true;
  if (imprintHash === undefined) {
    checks.fail(
      'timestamp.message-imprint',
      'CRYPTO_CONSTRAINTS_FAILURE',
      `the messageImprint uses ${algorithmName(tstInfo.hashAlgorithm)}, which is not accepted (SHA-256, SHA-384 and SHA-512 are)`,
    );
    intact = false;
  } else if (!digest(imprintHash, input.data).equals(Buffer.from(tstInfo.hashedMessage))) {
    checks.fail(
      'timestamp.message-imprint',
      'HASH_FAILURE',
      `the messageImprint is not the ${imprintHash.toUpperCase()} of ${input.dataName}: the token is for other data`,
    );
    intact = false;
  } else {
    checks.pass('timestamp.message-imprint', `the messageImprint is the ${imprintHash.toUpperCase()} of ${input.dataName}`);
  }

  // 3. The SignerInfo's signed attributes: content-type id-ct-TSTInfo, message-digest of the TSTInfo.
  const attrs = signedAttributes(signerInfo, checks);
  if (attrs === undefined) intact = false;
  else if (!checkSignedAttributes(attrs, signerInfo, parsed.tstInfoDer, checks)) intact = false;

  // 4. The TSA certificate: named by the sid and bound by signing-certificate(-v2) (RFC 5816 §2.2.1).
  const candidates = [...certificates, ...(input.intermediates ?? [])];
  const located = attrs === undefined ? undefined : locateTsa(signerInfo, attrs, candidates);
  let tsa: Certificate | undefined;
  if (located === undefined) {
    checks.notRun('timestamp.tsa-certificate', 'the signed attributes are missing or malformed');
    intact = false;
  } else if ('reason' in located) {
    checks.fail('timestamp.tsa-certificate', located.sub, located.reason);
    intact = false;
  } else {
    tsa = located.certificate;
    checks.pass(
      'timestamp.tsa-certificate',
      `the TSA certificate ${tsa.describe()} matches the signer identifier and the ${located.by} hash`,
    );
  }

  // 5. The TSA's signature over the signed attributes.
  if (tsa !== undefined && attrs !== undefined && signerInfo.signedAttrs !== undefined) {
    const key = tsa.tryPublicKey();
    const scheme =
      key === undefined
        ? undefined
        : signatureSchemeOf(signerInfo.signatureAlgorithm.der, key, { digestAlgorithm: signerInfo.digestAlgorithm.oid });
    if (key === undefined || scheme === undefined) {
      checks.fail(
        'timestamp.signature',
        'CRYPTO_CONSTRAINTS_FAILURE',
        `the TSA's public key cannot be read (${tsa.publicKeyProblem ?? 'unknown reason'})`,
      );
      intact = false;
    } else if ('refused' in scheme) {
      checks.fail('timestamp.signature', 'CRYPTO_CONSTRAINTS_FAILURE', scheme.refused);
      intact = false;
    } else if (verifySignature(scheme.scheme, key, signerInfo.signedAttrs.signedBytes, signerInfo.signature)) {
      checks.pass('timestamp.signature', "the TSA's signature over the TSTInfo verifies with the TSA certificate's key");
    } else {
      checks.fail('timestamp.signature', 'SIG_CRYPTO_FAILURE', "the TSA's signature does not verify: the token is forged or altered");
      intact = false;
    }
  } else {
    checks.notRun('timestamp.signature', 'no TSA certificate was found to verify with');
  }

  // 6. Trust: the TSA certificate's EKU, then its path at the validation time for time-stamping.
  let trusted = false;
  if (tsa !== undefined && intact) {
    const eku = tsa.extension('2.5.29.37');
    if (eku === undefined || !eku.critical || tsa.extKeyUsage?.length !== 1 || tsa.extKeyUsage[0] !== OID_KP_TIME_STAMPING) {
      checks.fail(
        'timestamp.tsa-key-purpose',
        'CHAIN_CONSTRAINTS_FAILURE',
        `the TSA certificate does not have the one critical extended key usage id-kp-timeStamping that RFC 3161 §2.3 requires`,
      );
    } else {
      checks.pass('timestamp.tsa-key-purpose', 'the TSA certificate has the critical extended key usage id-kp-timeStamping, alone');
      const path = await validatePath({
        leaf: tsa,
        intermediates: candidates,
        anchors: input.anchors,
        time: input.time,
        purpose: PURPOSE_TIME_STAMPING,
        revocation: input.revocation,
      });
      checks.add(...path.checks.map((c) => ({ ...c, id: `timestamp.${c.id}` })));
      if (path.indication === 'TOTAL_PASSED') trusted = true;
      else if (outcomeOf(path.checks).indication === 'TOTAL_PASSED')
        checks.fail('timestamp.path', path.subIndication ?? 'CERTIFICATE_CHAIN_GENERAL_FAILURE', "the TSA certificate's path is not valid");
    }
  } else {
    checks.notRun('timestamp.path', tsa === undefined ? 'no TSA certificate was found' : 'the token is not intact');
  }

  // 7. genTime is not after the validation time: a token from the future proves nothing yet.
  if (tstInfo.genTime.getTime() > input.time.getTime()) {
    checks.fail(
      'timestamp.gen-time',
      'SIG_CONSTRAINTS_FAILURE',
      `the token's genTime ${tstInfo.genTime.toISOString()} is after the validation time ${input.time.toISOString()}`,
    );
    trusted = false;
  } else {
    checks.pass('timestamp.gen-time', `the token's genTime ${tstInfo.genTime.toISOString()} is not after the validation time`);
  }
  return result(tstInfo, tsa, intact, trusted);
}

/** Parses a TimeStampToken (throws a parse fault). */
export function parseToken(token: Uint8Array): {
  tstInfo: TstInfo;
  tstInfoDer: Uint8Array;
  signerInfo: CmsSignerInfo;
  certificates: Certificate[];
} {
  if (token.length > MAX_TOKEN_BYTES) throw malformed(`the token is ${token.length} bytes, above the limit of ${MAX_TOKEN_BYTES}`);
  const sd = parseCmsSignedData(token);
  if (sd.eContentType !== OID_TST_INFO) throw malformed(`the encapsulated content type is ${sd.eContentType}, not id-ct-TSTInfo`);
  if (sd.eContent === undefined) throw malformed('the token does not carry its TSTInfo');
  if (sd.signerInfos.length !== 1) throw malformed(`the token has ${sd.signerInfos.length} SignerInfos; RFC 3161 §2.4.2 requires one`);
  const certificates = sd.certificates.map((der) => parseCertificate(der));
  return { tstInfo: parseTstInfo(sd.eContent), tstInfoDer: sd.eContent, signerInfo: sd.signerInfos[0]!, certificates };
}

/**
 * The certificate among the token's own that its SignerInfo's sid names (no ESS binding, no
 * trust: for labelling a token, e.g. telling tokens of different TSA certificates apart), or
 * undefined when the token does not carry it. Throws a parse fault for a malformed token.
 */
export function tokenSignerCertificate(token: Uint8Array): Certificate | undefined {
  const { signerInfo, certificates } = parseToken(token);
  return certificates.find((c) => sidNames(signerInfo, c));
}

function sidNames(si: CmsSignerInfo, c: Certificate): boolean {
  const sid = si.sid;
  if (sid.kind === 'issuer-and-serial') {
    try {
      return c.serialNumberHex === sid.serialHex && c.issuer.equals(parseNameDer(sid.issuer));
    } catch {
      return false;
    }
  }
  return c.subjectKeyIdentifier !== undefined && Buffer.from(sid.keyIdentifier).equals(c.subjectKeyIdentifier);
}

/** TSTInfo (RFC 3161 §2.4.2). */
export function parseTstInfo(der: Uint8Array): TstInfo {
  const f = readSequence(readDer(der, 'the TSTInfo'), 'TSTInfo');
  let i = 0;
  const version = readSmallInteger(f[i++], 'TSTInfo.version');
  if (version !== 1) throw malformed(`TSTInfo.version is ${version}, not 1`);
  const policy = readOid(f[i++], 'TSTInfo.policy');
  const mi = readSequence(f[i++], 'TSTInfo.messageImprint');
  if (mi.length !== 2) throw malformed('MessageImprint must be SEQUENCE { hashAlgorithm, hashedMessage }');
  const hashAlgorithm = readAlgorithm(mi[0], 'MessageImprint.hashAlgorithm').oid;
  const hashedMessage = readOctets(mi[1], 'MessageImprint.hashedMessage');
  const serialHex = readIntegerHex(f[i++], 'TSTInfo.serialNumber');
  const genTimeEl = expectTag(f[i++], TAG.GENERALIZED_TIME, 'TSTInfo.genTime');
  const genTime = readTime(genTimeEl, 'TSTInfo.genTime');
  if (f[i]?.tag === TAG.SEQUENCE) i++; // accuracy
  if (f[i]?.tag === TAG.BOOLEAN) readBoolean(f[i++], 'TSTInfo.ordering');
  let nonceHex: string | undefined;
  if (f[i]?.tag === TAG.INTEGER) nonceHex = readIntegerHex(f[i++], 'TSTInfo.nonce');
  if (f[i]?.tag === contextTag(0, true)) i++; // tsa GeneralName
  if (f[i]?.tag === contextTag(1, true)) i++; // extensions
  if (i !== f.length) throw malformed('TSTInfo has unexpected fields');
  return { policy, hashAlgorithm, hashedMessage, serialHex, genTime, nonceHex };
}

function signedAttributes(si: CmsSignerInfo, checks: CheckList): Map<string, CmsAttribute> | undefined {
  if (si.signedAttrs === undefined) {
    checks.fail(
      'timestamp.signed-attributes',
      'FORMAT_FAILURE',
      'the TSA SignerInfo has no signed attributes (RFC 3161 §2.4.2 requires them)',
    );
    return undefined;
  }
  try {
    const attrs = indexAttributes(si.signedAttrs.attributes, "the TSA's signed attributes");
    checks.pass(
      'timestamp.signed-attributes',
      `the TSA SignerInfo has ${si.signedAttrs.attributes.length} signed attributes, none repeated`,
    );
    return attrs;
  } catch (error) {
    if (!isParseFault(error)) throw error;
    checks.fail('timestamp.signed-attributes', 'FORMAT_FAILURE', error.message);
    return undefined;
  }
}

function checkSignedAttributes(attrs: Map<string, CmsAttribute>, si: CmsSignerInfo, tstInfoDer: Uint8Array, checks: CheckList): boolean {
  try {
    const ct = attrs.get(OID.contentType);
    if (ct === undefined || readContentType(ct) !== OID_TST_INFO) {
      checks.fail('timestamp.content-type', 'FORMAT_FAILURE', 'the content-type signed attribute is not id-ct-TSTInfo');
      return false;
    }
    const md = attrs.get(OID.messageDigest);
    const hash = DIGEST_BY_OID[si.digestAlgorithm.oid];
    if (md === undefined) {
      checks.fail('timestamp.message-digest', 'FORMAT_FAILURE', 'the message-digest signed attribute is missing');
      return false;
    }
    if (hash === undefined) {
      checks.fail(
        'timestamp.message-digest',
        'CRYPTO_CONSTRAINTS_FAILURE',
        `the digest algorithm ${algorithmName(si.digestAlgorithm.oid)} is not accepted`,
      );
      return false;
    }
    if (!digest(hash, tstInfoDer).equals(Buffer.from(readMessageDigest(md)))) {
      checks.fail(
        'timestamp.message-digest',
        'HASH_FAILURE',
        'the message-digest attribute is not the hash of the TSTInfo: the TSTInfo was altered',
      );
      return false;
    }
    checks.pass('timestamp.message-digest', `the ${hash.toUpperCase()} of the TSTInfo matches the message-digest attribute`);
    return true;
  } catch (error) {
    if (!isParseFault(error)) throw error;
    checks.fail('timestamp.signed-attributes', 'FORMAT_FAILURE', error.message);
    return false;
  }
}

/** What signing-certificate (ESSCertID, RFC 2634) or signing-certificate-v2 (ESSCertIDv2, RFC 5035) says of the signer's certificate. */
export interface EssCertId {
  hash: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  certHash: Uint8Array;
  issuerSerial: { issuer: Uint8Array[]; serialHex: string } | undefined;
}

/**
 * The first ESSCertID(v2) of signing-certificate(-v2): the one naming the TSA certificate. An
 * ESSCertID (v1) identifies the certificate by its SHA-1 hash, which only names it; what the
 * token is signed with is decided by the signature algorithm rules, not here.
 */
export function readEssCertId(attribute: CmsAttribute, v2: boolean): EssCertId | { unsupported: string } {
  const body = readSequence(singleValue(attribute, v2 ? 'signing-certificate-v2' : 'signing-certificate'), 'SigningCertificate');
  const certs = readSequence(body[0], 'SigningCertificate.certs');
  if (certs.length === 0) throw malformed('SigningCertificate.certs is empty');
  const fields = readSequence(certs[0], v2 ? 'ESSCertIDv2' : 'ESSCertID');
  let i = 0;
  let hash: EssCertId['hash'] = v2 ? 'sha256' : 'sha1';
  if (v2 && fields[i]?.tag === TAG.SEQUENCE) {
    const alg = readAlgorithm(fields[i++], 'ESSCertIDv2.hashAlgorithm');
    const h = DIGEST_BY_OID[alg.oid];
    if (h === undefined) return { unsupported: alg.oid };
    hash = h;
  }
  const certHash = readOctets(fields[i++], 'ESSCertID.certHash');
  let issuerSerial: EssCertId['issuerSerial'];
  if (fields[i] !== undefined) {
    const is = readSequence(fields[i++], 'ESSCertID.issuerSerial');
    const issuer = readSequence(is[0], 'IssuerSerial.issuer')
      .filter((n: DerElement) => n.tag === contextTag(4, true))
      .map((n) => expectTag(childrenOf(n, 'a directoryName')[0], TAG.SEQUENCE, 'a directoryName').bytes);
    issuerSerial = { issuer, serialHex: readIntegerHex(is[1], 'IssuerSerial.serialNumber') };
  }
  if (i !== fields.length) throw malformed('ESSCertID has unexpected fields');
  return { hash, certHash, issuerSerial };
}

type Located = { certificate: Certificate; by: string } | { reason: string; sub: SubIndication };

function locateTsa(si: CmsSignerInfo, attrs: Map<string, CmsAttribute>, candidates: readonly Certificate[]): Located {
  let ess: EssCertId;
  let by: string;
  try {
    const v2 = attrs.get(OID.signingCertificateV2);
    const v1 = attrs.get(OID_SIGNING_CERTIFICATE);
    if (v2 === undefined && v1 === undefined)
      return {
        reason: 'the token has neither signing-certificate nor signing-certificate-v2 (RFC 3161 §2.4.2, RFC 5816)',
        sub: 'FORMAT_FAILURE',
      };
    const read = readEssCertId((v2 ?? v1)!, v2 !== undefined);
    if ('unsupported' in read)
      return { reason: `the ESSCertIDv2 hash ${algorithmName(read.unsupported)} is not accepted`, sub: 'CRYPTO_CONSTRAINTS_FAILURE' };
    ess = read;
    by = `${v2 !== undefined ? 'ESSCertIDv2' : 'ESSCertID'} ${ess.hash.toUpperCase()}`;
  } catch (error) {
    if (!isParseFault(error)) throw error;
    return { reason: error.message, sub: 'FORMAT_FAILURE' };
  }
  const matching = candidates.filter((c) => sidNames(si, c));
  if (matching.length === 0)
    return { reason: 'no certificate in the token or supplied matches the TSA signer identifier', sub: 'NO_SIGNING_CERTIFICATE_FOUND' };
  const bound = matching.find((c) => identifierDigest(ess.hash, c.der).equals(Buffer.from(ess.certHash)));
  if (bound === undefined)
    return {
      reason: `the ${by} certHash (${toHex(ess.certHash).slice(0, 16)}…) does not name the certificate matching the signer identifier`,
      sub: 'NO_SIGNING_CERTIFICATE_FOUND',
    };
  if (ess.issuerSerial !== undefined) {
    const { issuer, serialHex } = ess.issuerSerial;
    const issuerOk =
      issuer.length === 0 ||
      issuer.some((n) => {
        try {
          return parseNameDer(n).equals(bound.issuer);
        } catch {
          return false;
        }
      });
    if (serialHex !== bound.serialNumberHex || !issuerOk)
      return { reason: `the issuerSerial of the ${by} does not name the TSA certificate`, sub: 'NO_SIGNING_CERTIFICATE_FOUND' };
  }
  return { certificate: bound, by };
}

/**
 * One archive time-stamp of the log's head: an RFC 3161 token over the SHA-256 of a signed
 * checkpoint note, whose tree covers the entries it is evidence for. The caller (the evidence
 * container's reader) has proven, under the log key, that the note's tree contains those entries
 * and, for `recordedUnderNext`, that the `checkpoint.timestamped` entry naming this token's
 * SHA-256 is in the next link's tree: the next token then shows this token existed at its genTime.
 */
export interface ArchiveLink {
  token: Uint8Array;
  /** The checkpoint note's exact bytes (what the token's messageImprint covers). */
  note: Uint8Array;
  treeSize: number;
  recordedUnderNext: boolean;
}

/** Archive time-stamps over ever larger checkpoints, ascending: each covers every entry the first covers. */
export interface ArchiveChain {
  links: readonly ArchiveLink[];
}

export interface ArchiveChainValidation {
  /** Each link's token as validated (at the validation time, or at the next link's genTime when renewed). */
  reports: TimestampReport[];
  /** The earliest genTime of a trusted link: a time by which every entry under the chain existed. */
  proofTime: Date | undefined;
  /** What proves it, in a sentence. */
  detail: string;
}

/**
 * Validates a chain of archive time-stamps from its newest link back: the newest at the
 * validation time; an older one at the validation time or, when that fails only for time (its
 * TSA certificate has since expired or been revoked) and the next link is trusted and covers it,
 * at the next link's genTime (renewal: the newer token proves the older existed while its TSA
 * certificate was still good). A token that is forged, for other data, badly bound, untrusted or
 * dated after the time it is validated at is reported and not trusted; it never throws for
 * anything in the tokens.
 */
export async function verifyArchiveChain(
  chain: ArchiveChain,
  context: Pick<VerifyTimestampInput, 'anchors' | 'intermediates' | 'revocation' | 'time'>,
): Promise<ArchiveChainValidation> {
  const reports: TimestampReport[] = [];
  const proofs: Array<Date | undefined> = [];
  let next: { at: Date; index: number } | undefined;
  for (let k = chain.links.length - 1; k >= 0; k--) {
    const link = chain.links[k]!;
    const input = {
      token: link.token,
      data: link.note,
      dataName: `the checkpoint note of tree size ${link.treeSize}`,
      ...context,
      index: k,
    };
    let v = await verifyTimestampToken(input);
    if (v.proofTime === undefined && v.intact && next !== undefined && link.recordedUnderNext) {
      const renewed = await verifyTimestampToken({ ...input, time: next.at });
      if (renewed.proofTime !== undefined) {
        renewed.report.checks.push({
          id: 'timestamp.renewal',
          result: 'PASSED',
          message: `validated at ${next.at.toISOString()}, the genTime of archive time-stamp ${next.index + 1}, whose checkpoint covers the log entry recording this token: it existed then`,
        });
        v = renewed;
      }
    }
    reports[k] = v.report;
    proofs[k] = v.proofTime;
    next = v.proofTime === undefined ? undefined : { at: v.proofTime, index: k };
  }
  const first = proofs.findIndex((p) => p !== undefined);
  if (first === -1) return { reports, proofTime: undefined, detail: 'no archive time-stamp of the log could be trusted' };
  const report = reports[first]!;
  return {
    reports,
    proofTime: proofs[first],
    detail: `archive time-stamp ${first + 1} of the log's checkpoint of size ${chain.links[first]!.treeSize}, serial ${report.serialNumber}, by ${report.tsa?.subject ?? 'an unnamed TSA'}${first + 1 < chain.links.length && report.checks.some((c) => c.id === 'timestamp.renewal') ? ', renewed by the later ones' : ''}`,
  };
}
