import {
  childrenOf,
  expectTag,
  readDer,
  readNamedBits,
  readOctets,
  readOid,
  readSmallInteger,
  readBoolean,
  toHex,
  type DerElement,
} from '../der/reader.js';
import { TAG } from '../der/tags.js';
import { tlv } from '../der/writer.js';
import { EXT } from '../oids.js';
import {
  KEY_USAGE_NAMES,
  REASON_FLAG_NAMES,
  type AccessDescription,
  type AuthorityKeyIdentifier,
  type BasicConstraints,
  type DistributionPoint,
  type DistributionPointName,
  type Extension,
  type GeneralSubtree,
  type KeyUsageName,
  type NameConstraints,
  type PolicyConstraints,
  type PolicyInformation,
  type PolicyMapping,
} from './certificate-types.js';
import { isParseFault, malformed } from './errors.js';
import { parseGeneralName, parseGeneralNames, parseName, type GeneralName } from './name.js';

/**
 * Certificate extensions (RFC 5280 §4.2): the Extensions list with its critical flags, and the
 * decoders of every extension the path validator relies on. A malformed known extension, a
 * duplicate, or a critical flag RFC 5280 forbids is a profile fault recorded in `problems`, not
 * an exception: the path validator refuses a certificate that has any.
 */

export const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(EXT));

/** Extensions RFC 5280 (§4.2.1.1, .2, .8, §4.2.2) says MUST be non-critical. */
export const MUST_BE_NON_CRITICAL: ReadonlyMap<string, string> = new Map([
  [EXT.authorityKeyIdentifier, 'authority key identifier'],
  [EXT.subjectKeyIdentifier, 'subject key identifier'],
  [EXT.subjectDirectoryAttributes, 'subject directory attributes'],
  [EXT.authorityInfoAccess, 'authority information access'],
  [EXT.subjectInfoAccess, 'subject information access'],
  [EXT.freshestCrl, 'freshest CRL'],
]);

/** The Extensions SEQUENCE (RFC 5280 §4.1): every extension in order, with its critical flag. */
export function parseExtensions(el: DerElement, problems: string[]): Extension[] {
  const items = childrenOf(expectTag(el, TAG.SEQUENCE, 'the extensions'), 'the extensions');
  if (items.length === 0) problems.push('the extensions field is present but empty (RFC 5280 §4.1)');
  const seen = new Set<string>();
  const out: Extension[] = [];
  for (const item of items) {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'an extension'), 'an extension');
    const oid = readOid(parts[0], 'an extension id');
    let critical = false;
    let k = 1;
    if (parts[k]?.tag === TAG.BOOLEAN) {
      critical = readBoolean(parts[k], `the critical flag of extension ${oid}`);
      k++;
    }
    const value = Buffer.from(readOctets(parts[k], `the value of extension ${oid}`));
    if (k + 1 !== parts.length) throw malformed(`extension ${oid} has unexpected fields`);
    if (seen.has(oid)) problems.push(`extension ${oid} appears more than once (RFC 5280 §4.2)`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

export interface KnownExtensions {
  basicConstraints: BasicConstraints | undefined;
  keyUsage: Set<KeyUsageName> | undefined;
  extKeyUsage: string[] | undefined;
  subjectKeyIdentifier: Buffer | undefined;
  authorityKeyIdentifier: AuthorityKeyIdentifier | undefined;
  nameConstraints: NameConstraints | undefined;
  certificatePolicies: PolicyInformation[] | undefined;
  policyMappings: PolicyMapping[] | undefined;
  policyConstraints: PolicyConstraints | undefined;
  inhibitAnyPolicy: number | undefined;
  subjectAltName: GeneralName[] | undefined;
  crlDistributionPoints: DistributionPoint[] | undefined;
  freshestCrl: DistributionPoint[] | undefined;
  authorityInfoAccess: AccessDescription[] | undefined;
  ocspNoCheck: boolean;
}

/** Decodes the known extensions; a malformed one becomes a problem and is left undefined. */
export function parseKnownExtensions(extensions: Extension[], problems: string[]): KnownExtensions {
  const out: KnownExtensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    subjectKeyIdentifier: undefined,
    authorityKeyIdentifier: undefined,
    nameConstraints: undefined,
    certificatePolicies: undefined,
    policyMappings: undefined,
    policyConstraints: undefined,
    inhibitAnyPolicy: undefined,
    subjectAltName: undefined,
    crlDistributionPoints: undefined,
    freshestCrl: undefined,
    authorityInfoAccess: undefined,
    ocspNoCheck: false,
  };
  for (const ext of extensions) {
    const label = MUST_BE_NON_CRITICAL.get(ext.oid);
    if (label !== undefined && ext.critical) problems.push(`the ${label} extension is marked critical, which RFC 5280 forbids`);
    if (!KNOWN_EXTENSIONS.has(ext.oid)) continue;
    try {
      const v = readDer(ext.value, `extension ${ext.oid}`);
      switch (ext.oid) {
        case EXT.basicConstraints:
          out.basicConstraints = parseBasicConstraints(v);
          break;
        case EXT.keyUsage: {
          const ku = readNamedBits(v, KEY_USAGE_NAMES, 'the key usage');
          if (ku.size === 0) throw malformed('the key usage asserts no bit');
          out.keyUsage = ku;
          break;
        }
        case EXT.extKeyUsage: {
          const items = childrenOf(expectTag(v, TAG.SEQUENCE, 'the extended key usage'), 'the extended key usage');
          if (items.length === 0) throw malformed('the extended key usage is empty');
          out.extKeyUsage = items.map((o) => readOid(o, 'an extended key usage'));
          break;
        }
        case EXT.subjectKeyIdentifier:
          out.subjectKeyIdentifier = Buffer.from(readOctets(v, 'the subject key identifier'));
          break;
        case EXT.authorityKeyIdentifier:
          out.authorityKeyIdentifier = parseAuthorityKeyIdentifier(v);
          break;
        case EXT.nameConstraints:
          out.nameConstraints = parseNameConstraints(v, problems);
          break;
        case EXT.certificatePolicies:
          out.certificatePolicies = parseCertificatePolicies(v);
          break;
        case EXT.policyMappings:
          out.policyMappings = childrenOf(expectTag(v, TAG.SEQUENCE, 'the policy mappings'), 'the policy mappings').map((m) => {
            const [a, b, extra] = childrenOf(expectTag(m, TAG.SEQUENCE, 'a policy mapping'), 'a policy mapping');
            if (extra !== undefined) throw malformed('a policy mapping has extra fields');
            return { issuerDomainPolicy: readOid(a, 'issuerDomainPolicy'), subjectDomainPolicy: readOid(b, 'subjectDomainPolicy') };
          });
          if (out.policyMappings.length === 0) throw malformed('the policy mappings are empty');
          break;
        case EXT.policyConstraints:
          out.policyConstraints = parsePolicyConstraints(v);
          break;
        case EXT.inhibitAnyPolicy:
          out.inhibitAnyPolicy = readSmallInteger(v, 'inhibitAnyPolicy');
          break;
        case EXT.subjectAltName:
          out.subjectAltName = parseGeneralNames(v, 'the subject alternative name');
          break;
        case EXT.issuerAltName:
          parseGeneralNames(v, 'the issuer alternative name');
          break;
        case EXT.crlDistributionPoints:
          out.crlDistributionPoints = parseDistributionPoints(v, 'the CRL distribution points');
          break;
        case EXT.freshestCrl:
          out.freshestCrl = parseDistributionPoints(v, 'the freshest CRL');
          break;
        case EXT.authorityInfoAccess:
          out.authorityInfoAccess = parseAccessDescriptions(v, 'the authority information access');
          break;
        case EXT.subjectInfoAccess:
          parseAccessDescriptions(v, 'the subject information access');
          break;
        case EXT.ocspNoCheck:
          expectTag(v, TAG.NULL, 'ocsp-nocheck');
          out.ocspNoCheck = true;
          break;
        default:
          break;
      }
    } catch (error) {
      if (!isParseFault(error)) throw error;
      problems.push(`extension ${ext.oid} is malformed: ${error.message}`);
    }
  }
  return out;
}

function parseBasicConstraints(v: DerElement): BasicConstraints {
  const parts = childrenOf(expectTag(v, TAG.SEQUENCE, 'the basic constraints'), 'the basic constraints');
  let k = 0;
  let ca = false;
  if (parts[k]?.tag === TAG.BOOLEAN) ca = readBoolean(parts[k++], 'cA');
  let pathLenConstraint: number | undefined;
  if (parts[k]?.tag === TAG.INTEGER) pathLenConstraint = readSmallInteger(parts[k++], 'pathLenConstraint');
  if (k !== parts.length) throw malformed('the basic constraints have unexpected fields');
  return { ca, pathLenConstraint };
}

function parseAuthorityKeyIdentifier(v: DerElement): AuthorityKeyIdentifier {
  const parts = childrenOf(expectTag(v, TAG.SEQUENCE, 'the authority key identifier'), 'the authority key identifier');
  const out: AuthorityKeyIdentifier = { keyIdentifier: undefined, authorityCertIssuer: undefined, authorityCertSerialNumberHex: undefined };
  let k = 0;
  if (parts[k]?.tag === 0x80) out.keyIdentifier = Buffer.from(parts[k++]!.value);
  if (parts[k]?.tag === 0xa1) out.authorityCertIssuer = parseGeneralNames(parts[k++]!, 'authorityCertIssuer', 0xa1);
  if (parts[k]?.tag === 0x82) out.authorityCertSerialNumberHex = toHex(parts[k++]!.value);
  if (k !== parts.length) throw malformed('the authority key identifier has unexpected fields');
  if ((out.authorityCertIssuer === undefined) !== (out.authorityCertSerialNumberHex === undefined)) {
    throw malformed('authorityCertIssuer and authorityCertSerialNumber must be both present or both absent');
  }
  return out;
}

function parseNameConstraints(v: DerElement, problems: string[]): NameConstraints {
  const parts = childrenOf(expectTag(v, TAG.SEQUENCE, 'the name constraints'), 'the name constraints');
  const out: NameConstraints = { permitted: undefined, excluded: undefined };
  let k = 0;
  if (parts[k]?.tag === 0xa0) out.permitted = parseSubtrees(parts[k++]!, 'permittedSubtrees', problems);
  if (parts[k]?.tag === 0xa1) out.excluded = parseSubtrees(parts[k++]!, 'excludedSubtrees', problems);
  if (k !== parts.length) throw malformed('the name constraints have unexpected fields');
  if (out.permitted === undefined && out.excluded === undefined)
    throw malformed('the name constraints have neither permitted nor excluded subtrees (RFC 5280 §4.2.1.10)');
  return out;
}

function parseSubtrees(el: DerElement, what: string, problems: string[]): GeneralSubtree[] {
  const items = childrenOf(el, what);
  if (items.length === 0) throw malformed(`${what} is empty`);
  return items.map((item) => {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, `a ${what} entry`), `a ${what} entry`);
    const base = parseGeneralName(parts[0]!, `a ${what} base`);
    let minimum = 0;
    let maximum: number | undefined;
    let k = 1;
    if (parts[k]?.tag === 0x80) minimum = readSmallInteger({ ...parts[k++]!, tag: TAG.INTEGER }, 'minimum');
    if (parts[k]?.tag === 0x81) maximum = readSmallInteger({ ...parts[k++]!, tag: TAG.INTEGER }, 'maximum');
    if (k !== parts.length) throw malformed(`a ${what} entry has unexpected fields`);
    if (minimum !== 0 || maximum !== undefined) problems.push('a name constraint uses minimum/maximum, which RFC 5280 §4.2.1.10 forbids');
    return { base, minimum, maximum };
  });
}

function parseCertificatePolicies(v: DerElement): PolicyInformation[] {
  const items = childrenOf(expectTag(v, TAG.SEQUENCE, 'the certificate policies'), 'the certificate policies');
  if (items.length === 0) throw malformed('the certificate policies are empty');
  const seen = new Set<string>();
  return items.map((item) => {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'a policy information'), 'a policy information');
    const policyIdentifier = readOid(parts[0], 'a policy identifier');
    if (seen.has(policyIdentifier)) throw malformed(`policy ${policyIdentifier} appears more than once (RFC 5280 §4.2.1.4)`);
    seen.add(policyIdentifier);
    if (parts.length > 2) throw malformed('a policy information has unexpected fields');
    const q = parts[1];
    if (q !== undefined) expectTag(q, TAG.SEQUENCE, 'policy qualifiers');
    return { policyIdentifier, qualifiers: q === undefined ? undefined : Buffer.from(q.bytes) };
  });
}

function parsePolicyConstraints(v: DerElement): PolicyConstraints {
  const parts = childrenOf(expectTag(v, TAG.SEQUENCE, 'the policy constraints'), 'the policy constraints');
  const out: PolicyConstraints = { requireExplicitPolicy: undefined, inhibitPolicyMapping: undefined };
  let k = 0;
  if (parts[k]?.tag === 0x80) out.requireExplicitPolicy = readSmallInteger({ ...parts[k++]!, tag: TAG.INTEGER }, 'requireExplicitPolicy');
  if (parts[k]?.tag === 0x81) out.inhibitPolicyMapping = readSmallInteger({ ...parts[k++]!, tag: TAG.INTEGER }, 'inhibitPolicyMapping');
  if (k !== parts.length) throw malformed('the policy constraints have unexpected fields');
  if (out.requireExplicitPolicy === undefined && out.inhibitPolicyMapping === undefined)
    throw malformed('the policy constraints are empty (RFC 5280 §4.2.1.11)');
  return out;
}

/** Parses CRLDistributionPoints / FreshestCRL (RFC 5280 §4.2.1.13). */
export function parseDistributionPoints(v: DerElement, what: string): DistributionPoint[] {
  const items = childrenOf(expectTag(v, TAG.SEQUENCE, what), what);
  if (items.length === 0) throw malformed(`${what} are empty`);
  return items.map((item) => {
    const parts = childrenOf(expectTag(item, TAG.SEQUENCE, 'a distribution point'), 'a distribution point');
    const dp: DistributionPoint = { distributionPoint: undefined, reasons: undefined, crlIssuer: undefined };
    let k = 0;
    if (parts[k]?.tag === 0xa0) {
      const inner = childrenOf(parts[k++]!, 'a distribution point name');
      if (inner.length !== 1) throw malformed('a distribution point name is not exactly one choice');
      dp.distributionPoint = parseDistributionPointName(inner[0]!);
    }
    if (parts[k]?.tag === 0x81) dp.reasons = readNamedBits({ ...parts[k++]!, tag: TAG.BIT_STRING }, REASON_FLAG_NAMES, 'reasons');
    if (parts[k]?.tag === 0xa2) dp.crlIssuer = parseGeneralNames(parts[k++]!, 'cRLIssuer', 0xa2);
    if (k !== parts.length) throw malformed('a distribution point has unexpected fields');
    if (dp.distributionPoint === undefined && dp.crlIssuer === undefined)
      throw malformed('a distribution point has neither a name nor a cRLIssuer');
    return dp;
  });
}

/** DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }. */
export function parseDistributionPointName(el: DerElement): DistributionPointName {
  if (el.tag === 0xa0) {
    return { fullName: parseGeneralNames(el, 'fullName', 0xa0), nameRelativeToCrlIssuer: undefined, nameRelativeToCrlIssuerDer: undefined };
  }
  if (el.tag === 0xa1) {
    // An RDN (SET OF AttributeTypeAndValue) with an implicit [1] tag: re-read it as a Name of one RDN.
    const set = Buffer.from(el.bytes);
    set[0] = TAG.SET;
    const nameDer = tlv(TAG.SEQUENCE, set);
    const name = parseName(readDer(nameDer, 'nameRelativeToCRLIssuer'), 'nameRelativeToCRLIssuer');
    return { fullName: undefined, nameRelativeToCrlIssuer: [...name.rdns[0]!], nameRelativeToCrlIssuerDer: set };
  }
  throw malformed('a distribution point name has an unknown tag');
}

function parseAccessDescriptions(v: DerElement, what: string): AccessDescription[] {
  const items = childrenOf(expectTag(v, TAG.SEQUENCE, what), what);
  if (items.length === 0) throw malformed(`${what} is empty`);
  return items.map((item) => {
    const [m, loc, extra] = childrenOf(expectTag(item, TAG.SEQUENCE, 'an access description'), 'an access description');
    if (loc === undefined || extra !== undefined) throw malformed('an access description is not a method and a location');
    return { method: readOid(m, 'an access method'), location: parseGeneralName(loc, 'an access location') };
  });
}
