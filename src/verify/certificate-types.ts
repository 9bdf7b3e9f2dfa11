import type { GeneralName, Name, NameAttribute } from './name.js';

/**
 * The read-only model of an X.509 certificate (RFC 5280 §4.1) and of the extensions the path
 * validator relies on: plain data, filled in once by the certificate parser.
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
