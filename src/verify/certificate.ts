import type { KeyObject } from 'node:crypto';
import { sha256Hex } from '../crypto/digest.js';
import { importSpki } from '../crypto/keys.js';
import { childrenOf, contextTag, expectTag, malformed, readDer, readOctets, readOid, readSmallInteger, readTime, TAG, toHex, type DerElement } from './cms-der.js';
import { VerifyError } from './errors.js';
import { parseGeneralName, parseGeneralNames, parseName, type GeneralName, type Name, type NameAttribute } from './name.js';

/**
 * X.509 certificates (RFC 5280 §4) parsed into a read-only model, with our own strict DER reader:
 * the original bytes are kept and never re-encoded (signatures and ESS certHash cover them), and
 * every extension the path validator relies on is decoded here once. Parsing decides nothing:
 * profile faults (a zero serial, a critical AKI, a malformed known extension, …) are collected in
 * `problems` and the path validator refuses a certificate that has any.
 */

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** KeyUsage bits in order (RFC 5280 §4.2.1.3): index = bit number. */
export const KEY_USAGE_NAMES: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export type ReasonName =
  | 'unused'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** ReasonFlags bits in order (RFC 5280 §4.2.1.13). */
export const REASON_FLAG_NAMES: readonly ReasonName[] = [
  'unused',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

/** Extension OIDs (RFC 5280 §4.2, RFC 6960, RFC 5280 §5.2/5.3 for CRLs). */
export const EXT = {
  subjectDirectoryAttributes: '2.5.29.9',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

/** An AlgorithmIdentifier exactly as encoded. */
export interface AlgorithmIdentifier {
  oid: string;
  /** DER of the parameters element, or undefined when absent. */
  parameters: Buffer | undefined;
  /** DER of the whole AlgorithmIdentifier. */
  der: Buffer;
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** Contents of extnValue (the DER of the extension's own value). */
  value: Buffer;
}

export interface BasicConstraints {
  ca: boolean;
  pathLenConstraint: number | undefined;
}

export interface AuthorityKeyIdentifier {
  keyIdentifier: Buffer | undefined;
  authorityCertIssuer: GeneralName[] | undefined;
  authorityCertSerialNumberHex: string | undefined;
}

export interface GeneralSubtree {
  base: GeneralName;
  /** RFC 5280 requires minimum 0 and no maximum; other values make the extension a problem. */
  minimum: number;
  maximum: number | undefined;
}

export interface NameConstraints {
  permitted: GeneralSubtree[] | undefined;
  excluded: GeneralSubtree[] | undefined;
}

export interface PolicyInformation {
  policyIdentifier: string;
  /** DER of the policyQualifiers SEQUENCE, when present. */
  qualifiers: Buffer | undefined;
}

export interface PolicyMapping {
  issuerDomainPolicy: string;
  subjectDomainPolicy: string;
}

export interface PolicyConstraints {
  requireExplicitPolicy: number | undefined;
  inhibitPolicyMapping: number | undefined;
}

export interface DistributionPointName {
  fullName: GeneralName[] | undefined;
  /** nameRelativeToCRLIssuer: one RDN appended to the CRL issuer's name. */
  nameRelativeToCrlIssuer: NameAttribute[] | undefined;
  /** DER of the RDN, for building the full name. */
  nameRelativeToCrlIssuerDer: Buffer | undefined;
}

export interface DistributionPoint {
  distributionPoint: DistributionPointName | undefined;
  reasons: ReadonlySet<ReasonName> | undefined;
  crlIssuer: GeneralName[] | undefined;
}

export interface AccessDescription {
  method: string;
  location: GeneralName;
}

/** Extensions the validator processes, so they may be critical (RFC 5280 §6.1.4 (o)). */
export const PROCESSED_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  EXT.basicConstraints,
  EXT.keyUsage,
  EXT.extKeyUsage,
  EXT.nameConstraints,
  EXT.certificatePolicies,
  EXT.policyMappings,
  EXT.policyConstraints,
  EXT.inhibitAnyPolicy,
  EXT.subjectAltName,
  EXT.issuerAltName,
  EXT.crlDistributionPoints,
  EXT.ocspNoCheck,
]);

const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(EXT));

/** Extensions RFC 5280 (§4.2.1.1, .2, .8, §4.2.2) says MUST be non-critical. */
const MUST_BE_NON_CRITICAL: ReadonlyMap<string, string> = new Map([
  [EXT.authorityKeyIdentifier, 'authority key identifier'],
  [EXT.subjectKeyIdentifier, 'subject key identifier'],
  [EXT.subjectDirectoryAttributes, 'subject directory attributes'],
  [EXT.authorityInfoAccess, 'authority information access'],
  [EXT.subjectInfoAccess, 'subject information access'],
  [EXT.freshestCrl, 'freshest CRL'],
]);

/** The data fields of a parsed certificate. */
export interface CertificateFields {
  /** The original DER bytes, never re-encoded. */
  readonly der: Buffer;
  /** The DER of tbsCertificate: the bytes the issuer signed. */
  readonly tbs: Buffer;
  /** 1, 2 or 3. */
  readonly version: number;
  /** Serial number contents as lowercase hex (two's complement, as encoded). */
  readonly serialNumberHex: string;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  /** The `signature` field inside tbsCertificate (must equal signatureAlgorithm). */
  readonly tbsSignatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Buffer;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER of SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  readonly spkiAlgorithm: AlgorithmIdentifier;
  /** Every extension, in order, with its critical flag. */
  readonly extensions: readonly Extension[];
  readonly basicConstraints: BasicConstraints | undefined;
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectKeyIdentifier: Buffer | undefined;
  readonly authorityKeyIdentifier: AuthorityKeyIdentifier | undefined;
  readonly nameConstraints: NameConstraints | undefined;
  readonly certificatePolicies: readonly PolicyInformation[] | undefined;
  readonly policyMappings: readonly PolicyMapping[] | undefined;
  readonly policyConstraints: PolicyConstraints | undefined;
  readonly inhibitAnyPolicy: number | undefined;
  readonly subjectAltName: readonly GeneralName[] | undefined;
  readonly crlDistributionPoints: readonly DistributionPoint[] | undefined;
  readonly freshestCrl: readonly DistributionPoint[] | undefined;
  readonly authorityInfoAccess: readonly AccessDescription[] | undefined;
  readonly ocspNoCheck: boolean;
  /** Profile faults found while parsing; the path validator refuses a certificate with any. */
  readonly problems: readonly string[];
  /**
   * A serial number RFC 5280 §4.1.2.2 forbids (zero, negative, over 20 octets). Kept apart from
   * `problems` because it is refused below a trust anchor only: anchors are trusted as given.
   */
  readonly serialNumberProblem: string | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Certificate extends CertificateFields {}

/** A parsed certificate. Read-only: callers MUST NOT mutate its buffers (instances are cached). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Certificate {
  #publicKey: KeyObject | undefined;
  #publicKeyError: VerifyError | undefined;
  #fingerprint: string | undefined;
  #description: string | undefined;

  /** @internal use parseCertificate */
  constructor(fields: CertificateFields) {
    Object.assign(this, fields);
  }

  get subjectDer(): Buffer {
    return this.subject.der;
  }

  get issuerDer(): Buffer {
    return this.issuer.der;
  }

  /** The subject public key; throws ERR_VERIFY_MALFORMED when node cannot import it. */
  get publicKey(): KeyObject {
    const key = this.tryPublicKey();
    if (key === undefined) throw this.#publicKeyError!;
    return key;
  }

  /** The subject public key, or undefined (with `publicKeyProblem` set) when it cannot be read. */
  tryPublicKey(): KeyObject | undefined {
    if (this.#publicKey === undefined && this.#publicKeyError === undefined) {
      try {
        this.#publicKey = importSpki(this.spki);
      } catch (error) {
        this.#publicKeyError = new VerifyError('ERR_VERIFY_MALFORMED', `the public key of certificate ${this.describe()} cannot be read`, { cause: error });
      }
    }
    return this.#publicKey;
  }

  /** Why the public key cannot be read, when it cannot. */
  get publicKeyProblem(): string | undefined {
    this.tryPublicKey();
    return this.#publicKeyError?.message;
  }

  /** SHA-256 of the DER, lowercase hex. */
  get sha256Fingerprint(): string {
    return (this.#fingerprint ??= sha256Hex(this.der));
  }

  /** Subject and issuer are the same name (RFC 5280 §6.1: self-issued). */
  get selfIssued(): boolean {
    return this.subject.equals(this.issuer);
  }

  get isCa(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** Critical extensions this validator does not process (RFC 5280 §6.1.4 (o), §6.1.5 (f)). */
  get unknownCriticalExtensions(): string[] {
    return this.extensions.filter((e) => e.critical && !PROCESSED_CRITICAL_EXTENSIONS.has(e.oid) && !extraProcessed.has(e.oid)).map((e) => e.oid);
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  /** Short human description: subject and serial. */
  describe(): string {
    if (this.#description === undefined) {
      // Bounded: a hostile certificate may carry thousands of attributes.
      const shown = this.subject.describe();
      const serial = this.serialNumberHex.length > 42 ? `${this.serialNumberHex.slice(0, 42)}…` : this.serialNumberHex;
      this.#description = `"${shown}" (serial ${serial})`;
    }
    return this.#description;
  }
}

/** Extension OIDs other parts process themselves and register here (e.g. the officer extension). */
const extraProcessed = new Set<string>();

/**
 * Declares that a critical extension is processed by some part of Chancery (which MUST then
 * check it), so path validation does not refuse it as unknown. Call at module load.
 */
export function registerProcessedExtension(oid: string): void {
  extraProcessed.add(oid);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parsed certificates kept by exact bytes: the same bytes always parse to the same object. */
const CACHE_LIMIT = 1024;
const cache = new Map<string, Certificate>();

/**
 * Parses one DER certificate. Throws VerifyError ERR_VERIFY_MALFORMED when the bytes are not a
 * DER Certificate; profile faults do not throw, they land in `problems`. The result is cached by
 * exact bytes (it is immutable), so re-parsing the same certificate is a map lookup.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const cert = decodeCertificate(Buffer.from(der));
  cache.set(key, cert);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return cert;
}

/** Reads every certificate from PEM text (any number of CERTIFICATE blocks) or one DER blob. */
export function parseCertificates(input: Uint8Array | string, what = 'the input'): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return [parseCertificate(input as Uint8Array)];
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (blocks.length === 0) throw malformed(`${what} contains no PEM CERTIFICATE block`);
  return blocks.map((b) => parseCertificate(b));
}

/** The DER of every `-----BEGIN <label>-----` block in PEM text. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const out: Buffer[] = [];
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  for (const m of text.matchAll(re)) {
    const body = m[1]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw malformed(`a PEM ${label} block is not valid base64`);
    out.push(Buffer.from(body, 'base64'));
  }
  return out;
}

/** True when the bytes start (after whitespace) with a PEM armour line. */
export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN ');
}

/** PEM text of a DER certificate. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function decodeCertificate(der: Buffer): Certificate {
  const what = 'the certificate';
  const root = readDer(der, what);
  const [tbsEl, sigAlgEl, sigEl, extra] = childrenOf(expectTag(root, TAG.SEQUENCE, what), what);
  if (extra !== undefined) throw malformed(`${what} has more than three top-level fields`);
  const tbsSeq = expectTag(tbsEl, TAG.SEQUENCE, 'tbsCertificate');
  const signatureAlgorithm = parseAlgorithmIdentifier(sigAlgEl, 'the signature algorithm');
  const signature = Buffer.from(readBitString(sigEl, 'the signature value').bytes);

  const fields = childrenOf(tbsSeq, 'tbsCertificate');
  let i = 0;
  let version = 1;
  const problems: string[] = [];
  if (fields[i]?.tag === contextTag(0, true)) {
    const inner = childrenOf(fields[i]!, 'the version');
    if (inner.length !== 1) throw malformed('the version field is malformed');
    const v = readSmallInteger(inner[0], 'the version');
    if (v > 2) throw malformed(`the certificate version ${v + 1} is unknown`);
    version = v + 1;
    if (v === 0) problems.push('the version field encodes the default v1 explicitly (not DER)');
    i++;
  }
  const serialEl = expectTag(fields[i++], TAG.INTEGER, 'the serial number');
  const serial = serialEl.value;
  if (serial.length === 0 || (serial.length > 1 && ((serial[0] === 0 && (serial[1]! & 0x80) === 0) || (serial[0] === 0xff && (serial[1]! & 0x80) !== 0)))) {
    throw malformed('the serial number is not a minimal DER INTEGER');
  }
  const serialNumberHex = toHex(serial);
  let serialNumberProblem: string | undefined;
  if ((serial[0]! & 0x80) !== 0) serialNumberProblem = 'the serial number is negative (RFC 5280 §4.1.2.2)';
  else if (serial.every((b) => b === 0)) serialNumberProblem = 'the serial number is zero (RFC 5280 §4.1.2.2)';
  else if (serial.length > 21 || (serial.length === 21 && serial[0] !== 0)) serialNumberProblem = 'the serial number is longer than 20 octets (RFC 5280 §4.1.2.2)';

  const tbsSignatureAlgorithm = parseAlgorithmIdentifier(fields[i++], 'the tbsCertificate signature algorithm');
  if (!tbsSignatureAlgorithm.der.equals(signatureAlgorithm.der)) {
    problems.push('the signature algorithm inside tbsCertificate differs from the outer one (RFC 5280 §4.1.1.2)');
  }
  const issuer = parseName(expectTag(fields[i++], TAG.SEQUENCE, 'the issuer'), 'the issuer');
  if (issuer.isEmpty) problems.push('the issuer name is empty (RFC 5280 §4.1.2.4)');
  const validity = childrenOf(expectTag(fields[i++], TAG.SEQUENCE, 'the validity'), 'the validity');
  if (validity.length !== 2) throw malformed('the validity is not exactly notBefore and notAfter');
  const notBefore = readTime(validity[0], 'notBefore');
  const notAfter = readTime(validity[1], 'notAfter');
  const subject = parseName(expectTag(fields[i++], TAG.SEQUENCE, 'the subject'), 'the subject');
  const spkiEl = expectTag(fields[i++], TAG.SEQUENCE, 'the subject public key info');
  const spkiParts = childrenOf(spkiEl, 'the subject public key info');
  if (spkiParts.length !== 2) throw malformed('the subject public key info is not an algorithm and a key');
  const spkiAlgorithm = parseAlgorithmIdentifier(spkiParts[0], 'the public key algorithm');
  readBitString(spkiParts[1], 'the subject public key');

  if (fields[i]?.tag === 0x81) {
    if (version < 2) problems.push('a v1 certificate carries an issuerUniqueID');
    i++;
  }
  if (fields[i]?.tag === 0xa1 || fields[i]?.tag === 0x82) {
    if (version < 2) problems.push('a v1 certificate carries a subjectUniqueID');
    i++;
  }
  let extensions: Extension[] = [];
  if (fields[i]?.tag === contextTag(3, true)) {
    const inner = childrenOf(fields[i]!, 'the extensions');
    if (inner.length !== 1) throw malformed('the extensions field is malformed');
    extensions = parseExtensions(inner[0]!, problems);
    if (version !== 3) problems.push(`a v${version} certificate carries extensions`);
    i++;
  }
  if (i !== fields.length) throw malformed('tbsCertificate has unexpected trailing fields');

  const parsed = parseKnownExtensions(extensions, problems);
  if (subject.isEmpty) {
    const san = extensions.find((e) => e.oid === EXT.subjectAltName);
    if (san === undefined) problems.push('the subject name is empty and there is no subjectAltName (RFC 5280 §4.1.2.6)');
    else if (!san.critical) problems.push('the subject name is empty but the subjectAltName is not critical (RFC 5280 §4.2.1.6)');
  }

  return new Certificate({
    der,
    tbs: Buffer.from(tbsSeq.bytes.buffer, tbsSeq.bytes.byteOffset, tbsSeq.bytes.byteLength),
    version,
    serialNumberHex,
    signatureAlgorithm,
    tbsSignatureAlgorithm,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: Buffer.from(spkiEl.bytes.buffer, spkiEl.bytes.byteOffset, spkiEl.bytes.byteLength),
    spkiAlgorithm,
    extensions,
    ...parsed,
    problems,
    serialNumberProblem,
  });
}

/** Parses an AlgorithmIdentifier, keeping its exact encoding. */
export function parseAlgorithmIdentifier(el: DerElement | undefined, what: string): AlgorithmIdentifier {
  const parts = childrenOf(expectTag(el, TAG.SEQUENCE, what), what);
  if (parts.length < 1 || parts.length > 2) throw malformed(`${what} is not an OID with optional parameters`);
  return {
    oid: readOid(parts[0], what),
    parameters: parts[1] === undefined ? undefined : Buffer.from(parts[1].bytes),
    der: Buffer.from(el!.bytes),
  };
}

/** BIT STRING: the contents bytes and the number of unused bits in the last one. */
export function readBitString(el: DerElement | undefined, what: string): { bytes: Uint8Array; unusedBits: number } {
  const v = expectTag(el, TAG.BIT_STRING, what).value;
  if (v.length === 0) throw malformed(`${what} is an empty BIT STRING`);
  const unusedBits = v[0]!;
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) throw malformed(`${what} has an invalid unused-bits count`);
  if (unusedBits > 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0) throw malformed(`${what} has non-zero unused bits (not DER)`);
  return { bytes: v.subarray(1), unusedBits };
}

/** The set bits of a named BIT STRING, by position. */
export function readNamedBits<T extends string>(el: DerElement | undefined, names: readonly T[], what: string): Set<T> {
  const { bytes } = readBitString(el, what);
  const out = new Set<T>();
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) {
      const name = names[bit];
      if (name === undefined) throw malformed(`${what} sets bit ${bit}, which has no meaning`);
      out.add(name);
    }
  }
  return out;
}

function parseExtensions(el: DerElement, problems: string[]): Extension[] {
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

export function readBoolean(el: DerElement | undefined, what: string): boolean {
  const v = expectTag(el, TAG.BOOLEAN, what).value;
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed(`${what} is not a DER BOOLEAN`);
  return v[0] === 0xff;
}

interface KnownExtensions {
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

function parseKnownExtensions(extensions: Extension[], problems: string[]): KnownExtensions {
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
      if (!(error instanceof VerifyError)) throw error;
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
  if (out.permitted === undefined && out.excluded === undefined) throw malformed('the name constraints have neither permitted nor excluded subtrees (RFC 5280 §4.2.1.10)');
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
  if (out.requireExplicitPolicy === undefined && out.inhibitPolicyMapping === undefined) throw malformed('the policy constraints are empty (RFC 5280 §4.2.1.11)');
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
    if (dp.distributionPoint === undefined && dp.crlIssuer === undefined) throw malformed('a distribution point has neither a name nor a cRLIssuer');
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
    const seqBody = set;
    const nameDer = Buffer.concat([encodeHeader(TAG.SEQUENCE, seqBody.length), seqBody]);
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

/** DER identifier and length octets for a given tag and content length. */
export function encodeHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}
