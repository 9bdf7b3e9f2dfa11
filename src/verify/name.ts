import { childrenOf, readDer, readOid, toHex, type DerElement } from '../der/reader.js';
import { decodeDirectoryString } from '../der/strings.js';
import { TAG } from '../der/tags.js';
import { asVerifyError, malformed } from './errors.js';
import { ParseCache } from './parse-cache.js';

/**
 * X.500 distinguished names and GeneralNames (RFC 5280 §4.1.2.4, §4.2.1.6), parsed from DER and
 * compared the way RFC 5280 §7.1 asks: attribute by attribute, string values after case folding,
 * Unicode normalisation and whitespace folding (an approximation of RFC 4518 string
 * preparation that is exact for ASCII), anything else by its exact bytes.
 */

/** Short names of the attributes people read, for `Name.toString()` (RFC 4514 where defined). */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** PKCS#9 emailAddress: RFC 5280 §4.2.1.10 applies rfc822Name constraints to it. */
export const EMAIL_ADDRESS_OID = '1.2.840.113549.1.9.1';

/** One AttributeTypeAndValue of a name. */
export interface NameAttribute {
  readonly oid: string;
  /** The decoded text when the value is one of the X.520 string types; otherwise undefined. */
  readonly value: string | undefined;
  /** The value's whole DER encoding (tag, length, contents). */
  readonly valueDer: Buffer;
}

/** A parsed distinguished name. Immutable; `der` is the original encoding. */
export class Name {
  /** Relative distinguished names in encoding order (most significant first). */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** One comparison key per RDN; two RDNs match exactly when their keys are equal. */
  readonly rdnKeys: readonly string[];
  /** Comparison key of the whole name (RFC 5280 §7.1 matching). */
  readonly key: string;

  constructor(
    readonly der: Buffer,
    rdns: NameAttribute[][],
  ) {
    this.rdns = rdns;
    this.rdnKeys = rdns.map(rdnKey);
    this.key = this.rdnKeys.join('\u0001');
  }

  get isEmpty(): boolean {
    return this.rdns.length === 0;
  }

  /** Every value of the attribute `oid`, in order (non-string values as `#hex`). */
  attribute(oid: string): string[] {
    const out: string[] = [];
    for (const rdn of this.rdns) for (const a of rdn) if (a.oid === oid) out.push(a.value ?? `#${a.valueDer.toString('hex')}`);
    return out;
  }

  /** True when both names match under RFC 5280 §7.1. */
  equals(other: Name): boolean {
    return this.key === other.key;
  }

  /** True when `prefix`'s RDNs are the first RDNs of this name (directoryName constraints). */
  hasPrefix(prefix: Name): boolean {
    if (prefix.rdnKeys.length > this.rdnKeys.length) return false;
    for (let i = 0; i < prefix.rdnKeys.length; i++) if (prefix.rdnKeys[i] !== this.rdnKeys[i]) return false;
    return true;
  }

  /** The readable form cut to `limit` characters, for messages (hostile names can be huge). */
  describe(limit = 200): string {
    const text = this.toString();
    return text.length > limit ? `${text.slice(0, limit)}…` : text;
  }

  /** Readable form, most significant RDN first: `C=CN, O=Example, CN=Example`. */
  toString(): string {
    if (this.rdns.length === 0) return '(empty name)';
    return this.rdns
      .map((rdn) => rdn.map((a) => `${SHORT_NAMES[a.oid] ?? a.oid}=${a.value ?? `#${a.valueDer.toString('hex')}`}`).join(' + '))
      .join(', ');
  }
}

/** Parses a Name (RDNSequence) from its DER element. */
export function parseName(el: DerElement, what: string): Name {
  if (el.tag !== TAG.SEQUENCE) throw malformed(`${what} is not a SEQUENCE`);
  const rdns: NameAttribute[][] = [];
  for (const set of childrenOf(el, what)) {
    if (set.tag !== TAG.SET) throw malformed(`${what} has an RDN that is not a SET`);
    const attrs = childrenOf(set, what);
    if (attrs.length === 0) throw malformed(`${what} has an empty RDN`);
    const rdn: NameAttribute[] = [];
    for (const atv of attrs) {
      if (atv.tag !== TAG.SEQUENCE) throw malformed(`${what} has an attribute that is not a SEQUENCE`);
      const [type, value, extra] = childrenOf(atv, what);
      if (value === undefined || extra !== undefined) throw malformed(`${what} has an attribute without exactly a type and a value`);
      rdn.push({ oid: readOid(type, `${what} attribute type`), value: decodeDirectoryString(value), valueDer: Buffer.from(value.bytes) });
    }
    rdns.push(rdn);
  }
  return new Name(Buffer.from(el.bytes), rdns);
}

/** Names parsed from standalone DER, by exact bytes (a Name is immutable): a signer identifier's issuer repeats. */
const nameCache = new ParseCache<Name>(256);

/** Parses a Name from standalone DER bytes; the same bytes give the same (immutable) Name. Throws ERR_VERIFY_MALFORMED. */
export function parseNameDer(der: Uint8Array, what = 'the name'): Name {
  return nameCache.get(der, decodeNameDer, what);
}

function decodeNameDer(der: Uint8Array, what: string): Name {
  try {
    return parseName(readDer(der, what), what);
  } catch (error) {
    throw asVerifyError(error);
  }
}

/**
 * RFC 4518-style preparation for matching: NFKC, case folded, leading/trailing spaces removed,
 * inner runs of whitespace folded to one space.
 */
export function prepareString(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

function rdnKey(rdn: readonly NameAttribute[]): string {
  return rdn
    .map((a) => `${a.oid}=${a.value !== undefined ? `s:${prepareString(a.value)}` : `b:${a.valueDer.toString('hex')}`}`)
    .sort()
    .join('\u0002');
}

// ---------------------------------------------------------------------------------------------
// GeneralName (RFC 5280 §4.2.1.6)

export type GeneralName =
  | { type: 'otherName'; oid: string; der: Buffer }
  | { type: 'rfc822'; value: string }
  | { type: 'dns'; value: string }
  | { type: 'x400'; der: Buffer }
  | { type: 'directory'; name: Name }
  | { type: 'edi'; der: Buffer }
  | { type: 'uri'; value: string }
  | { type: 'ip'; bytes: Buffer }
  | { type: 'registeredId'; oid: string };

/** Parses one GeneralName (the CHOICE element itself). */
export function parseGeneralName(el: DerElement, what: string): GeneralName {
  switch (el.tag) {
    case 0xa0: {
      const [typeId, value] = childrenOf(el, what);
      if (value === undefined || value.tag !== 0xa0) throw malformed(`${what} has an otherName without an explicit [0] value`);
      return { type: 'otherName', oid: readOid(typeId, `${what} otherName type`), der: Buffer.from(el.bytes) };
    }
    case 0x81:
      return { type: 'rfc822', value: ia5(el, what) };
    case 0x82:
      return { type: 'dns', value: ia5(el, what) };
    case 0xa3:
      return { type: 'x400', der: Buffer.from(el.bytes) };
    case 0xa4: {
      const inner = childrenOf(el, what);
      if (inner.length !== 1) throw malformed(`${what} has a directoryName that is not exactly one Name`);
      return { type: 'directory', name: parseName(inner[0]!, what) };
    }
    case 0xa5:
      return { type: 'edi', der: Buffer.from(el.bytes) };
    case 0x86:
      return { type: 'uri', value: ia5(el, what) };
    case 0x87:
      return { type: 'ip', bytes: Buffer.from(el.value) };
    case 0x88:
      return { type: 'registeredId', oid: readOid({ ...el, tag: TAG.OID }, what) };
    default:
      throw malformed(`${what} has an unknown GeneralName tag 0x${el.tag.toString(16)}`);
  }
}

/** Parses GeneralNames (SEQUENCE SIZE (1..MAX) OF GeneralName). */
export function parseGeneralNames(el: DerElement, what: string, tag: number = TAG.SEQUENCE): GeneralName[] {
  if (el.tag !== tag) throw malformed(`${what} is not a GeneralNames SEQUENCE`);
  const names = childrenOf(el, what).map((n) => parseGeneralName(n, what));
  if (names.length === 0) throw malformed(`${what} is empty (GeneralNames needs at least one name)`);
  return names;
}

/** Readable form of a GeneralName for messages. */
export function describeGeneralName(n: GeneralName): string {
  switch (n.type) {
    case 'rfc822':
      return `email:${n.value}`;
    case 'dns':
      return `DNS:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'ip':
      return `IP:${formatIp(n.bytes)}`;
    case 'directory':
      return `DirName:${n.name.toString()}`;
    case 'registeredId':
      return `RID:${n.oid}`;
    case 'otherName':
      return `othername:${n.oid}`;
    case 'x400':
      return 'x400Address';
    case 'edi':
      return 'ediPartyName';
  }
}

/** Dotted IPv4, RFC 5952 IPv6, or address/mask for 8- and 32-byte constraint values. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
    return compressIpv6(groups);
  }
  if (bytes.length === 8) return `${formatIp(bytes.subarray(0, 4))}/${formatIp(bytes.subarray(4))}`;
  if (bytes.length === 32) return `${formatIp(bytes.subarray(0, 16))}/${formatIp(bytes.subarray(16))}`;
  return `#${toHex(bytes)}`;
}

function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function ia5(el: DerElement, what: string): string {
  for (const b of el.value) if (b > 0x7f) throw malformed(`${what} has a non-ASCII IA5String`);
  return Buffer.from(el.value).toString('latin1');
}
