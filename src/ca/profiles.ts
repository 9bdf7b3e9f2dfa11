import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KeyAlgorithm } from '../crypto/keys.js';
import { OID } from '../oids.js';
import { PROFILES_DIR } from '../paths.js';
import { CaError } from './errors.js';

/**
 * Certificate profiles (`certs/profiles/<id>.yaml`): which subject,
 * extensions and validity each kind of certificate gets. Loaded and validated once at start;
 * an invalid file stops start-up with the file and the fault.
 */

export const PROFILE_IDS = [
  'root',
  'issuing-ca',
  'ocsp-responder',
  'service-seal',
  'admin',
  'auditor',
  'enterprise-signing',
  'officer',
  'tsa',
] as const;
export type ProfileId = (typeof PROFILE_IDS)[number];

/** Who a certificate of the profile names, and so which inputs its subject template may use. */
export type Holder = 'ca' | 'service' | 'named' | 'enterprise' | 'officer';

const HOLDER_VARIABLES: Record<Holder, readonly string[]> = {
  ca: [],
  service: [],
  named: ['name'],
  enterprise: ['enterprise.name', 'enterprise.uscc'],
  officer: ['officer.name', 'officer.authority', 'officer.id'],
};

/** Subject attribute types a profile may use, with their OID and ASN.1 string type. */
export const ATTRIBUTE_TYPES = {
  C: { oid: '2.5.4.6', printable: true },
  ST: { oid: '2.5.4.8', printable: false },
  L: { oid: '2.5.4.7', printable: false },
  O: { oid: '2.5.4.10', printable: false },
  OU: { oid: '2.5.4.11', printable: false },
  CN: { oid: '2.5.4.3', printable: false },
  serialNumber: { oid: '2.5.4.5', printable: true },
  organizationIdentifier: { oid: OID.organizationIdentifier, printable: false },
} as const;
export type AttributeType = keyof typeof ATTRIBUTE_TYPES;

/** RFC 5280 §4.2.1.3 KeyUsage bit numbers. */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

export const EKU_OIDS = {
  documentSigning: OID.kpDocumentSigning,
  clientAuth: OID.kpClientAuth,
  ocspSigning: OID.kpOcspSigning,
  timeStamping: OID.kpTimeStamping,
} as const;
export type EkuName = keyof typeof EKU_OIDS;

export const POLICY_OIDS = {
  'enterprise-signing': OID.policyEnterpriseSigning,
  officer: OID.policyOfficer,
  auditor: OID.policyAuditor,
  service: OID.policyService,
  admin: OID.policyAdmin,
  any: '2.5.29.32.0',
} as const;

export interface SubjectTemplateEntry {
  type: AttributeType;
  /** Literal text with `${variable}` placeholders from the holder's variables. */
  template: string;
}

export interface CertificateProfile {
  id: ProfileId;
  title: string;
  holder: Holder;
  /** `self` (the root), `root` (the issuing CA) or `issuing` (everything else). */
  issuer: 'self' | 'root' | 'issuing';
  /** Key the CA generates for init-made profiles; undefined for CSR profiles. */
  key: KeyAlgorithm | undefined;
  /** True when the API and CLI may issue it from a PKCS#10 request. */
  fromCsr: boolean;
  subject: SubjectTemplateEntry[];
  validityDays: number;
  basicConstraints: { ca: boolean; pathLen?: number } | undefined;
  keyUsage: KeyUsageName[];
  extendedKeyUsage: EkuName[];
  /** Mark the extended key usage critical (RFC 3161 §2.3 requires it of a TSA certificate). */
  extendedKeyUsageCritical: boolean;
  /** Dotted OIDs. */
  certificatePolicies: string[];
  /**
   * CRL distribution point and caIssuers AIA pointing at the issuer's files on this service, and
   * an OCSP AIA when the issuer has a responder (the issuing CA; the root has none).
   */
  revocationInfo: boolean;
  ocspNoCheck: boolean;
  officerAuthorization: boolean;
}

const KNOWN_KEYS = new Set([
  'id',
  'title',
  'holder',
  'issuer',
  'key',
  'fromCsr',
  'subject',
  'validityDays',
  'basicConstraints',
  'keyUsage',
  'extendedKeyUsage',
  'extendedKeyUsageCritical',
  'certificatePolicies',
  'revocationInfo',
  'ocspNoCheck',
  'officerAuthorization',
]);

export type ProfileSet = ReadonlyMap<ProfileId, CertificateProfile>;

/** Loads every profile of `dir`; MUST fail naming the file when one is invalid or missing. */
export function loadProfiles(dir: string = PROFILES_DIR): ProfileSet {
  const profiles = new Map<ProfileId, CertificateProfile>();
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  } catch (error) {
    throw new CaError('ERR_CA_PROFILE_INVALID', `certificate profiles: cannot read ${dir}`, { cause: error });
  }
  for (const file of files) {
    const path = join(dir, file);
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new CaError(
        'ERR_CA_PROFILE_INVALID',
        `certificate profile ${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        { cause: error },
      );
    }
    const profile = validateProfile(raw, path);
    if (`${profile.id}.yaml` !== file)
      throw new CaError('ERR_CA_PROFILE_INVALID', `certificate profile ${path}: id "${profile.id}" must match the file name`);
    profiles.set(profile.id, profile);
  }
  const missing = PROFILE_IDS.filter((id) => !profiles.has(id));
  if (missing.length > 0)
    throw new CaError('ERR_CA_PROFILE_INVALID', `certificate profiles in ${dir}: missing ${missing.map((m) => `${m}.yaml`).join(', ')}`);
  return profiles;
}

/** The profile with this id, or ERR_CA_PROFILE_UNKNOWN naming the ones there are. */
export function profileById(profiles: ProfileSet, id: unknown): CertificateProfile {
  const profile = typeof id === 'string' ? profiles.get(id as ProfileId) : undefined;
  if (profile === undefined) {
    throw new CaError(
      'ERR_CA_PROFILE_UNKNOWN',
      `unknown certificate profile ${describeProfileId(id)}; known: ${[...profiles.keys()].join(', ')}`,
      {
        detail: { field: 'profile' },
      },
    );
  }
  return profile;
}

/**
 * The given id for a message, short: a string quoted and cut, anything else by its kind. Never
 * JSON.stringify of the value itself, which recurses and overflows on a deeply nested one.
 */
function describeProfileId(id: unknown): string {
  if (typeof id === 'string') return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
  if (id === null || typeof id === 'number' || typeof id === 'boolean' || id === undefined) return String(id);
  return Array.isArray(id) ? '(an array)' : `(a ${typeof id})`;
}

function validateProfile(raw: unknown, path: string): CertificateProfile {
  const fail = (message: string): never => {
    throw new CaError('ERR_CA_PROFILE_INVALID', `certificate profile ${path}: ${message}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be a mapping');
  const p = raw as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!KNOWN_KEYS.has(key)) fail(`unknown key "${key}"`);

  const id = p['id'];
  if (!PROFILE_IDS.includes(id as ProfileId)) fail(`id must be one of ${PROFILE_IDS.join(', ')}`);
  const title = p['title'];
  if (typeof title !== 'string' || title.length === 0) fail('title must be a non-empty string');
  const holder = p['holder'] as Holder;
  if (!(holder in HOLDER_VARIABLES)) fail(`holder must be one of ${Object.keys(HOLDER_VARIABLES).join(', ')}`);
  const issuer = p['issuer'];
  if (issuer !== 'self' && issuer !== 'root' && issuer !== 'issuing') fail('issuer must be self, root or issuing');
  const fromCsr = optionalBoolean(p['fromCsr'], 'fromCsr', fail);
  const key = p['key'];
  if (fromCsr) {
    if (key !== undefined) fail('a fromCsr profile takes its key from the request: remove "key"');
    if (issuer !== 'issuing') fail('only the issuing CA issues from requests');
  } else if (!['P-256', 'P-384', 'Ed25519'].includes(key as string)) {
    fail('key must be P-256, P-384 or Ed25519 for a profile the CA makes keys for');
  }

  const subjectRaw = p['subject'];
  if (!Array.isArray(subjectRaw) || subjectRaw.length === 0) fail('subject must be a non-empty list of single-entry mappings');
  const subject: SubjectTemplateEntry[] = [];
  for (const [i, entry] of (subjectRaw as unknown[]).entries()) {
    if (typeof entry !== 'object' || entry === null || Object.keys(entry).length !== 1)
      fail(`subject[${i}] must be one "TYPE: value" mapping`);
    const [type, template] = Object.entries(entry as Record<string, unknown>)[0]!;
    if (!(type in ATTRIBUTE_TYPES))
      fail(`subject[${i}]: unknown attribute type ${type}; known: ${Object.keys(ATTRIBUTE_TYPES).join(', ')}`);
    if (typeof template !== 'string' || template.length === 0) fail(`subject[${i}].${type} must be a non-empty string`);
    for (const variable of templateVariables(template as string)) {
      if (!HOLDER_VARIABLES[holder].includes(variable)) {
        fail(
          `subject[${i}].${type}: \${${variable}} is not available for holder ${holder} (available: ${HOLDER_VARIABLES[holder].join(', ') || 'none'})`,
        );
      }
    }
    subject.push({ type: type as AttributeType, template: template as string });
  }

  const validityDays = p['validityDays'];
  if (typeof validityDays !== 'number' || !Number.isInteger(validityDays) || validityDays < 1 || validityDays > 10_000) {
    fail('validityDays must be an integer from 1 to 10000');
  }

  let basicConstraints: CertificateProfile['basicConstraints'];
  if (p['basicConstraints'] !== undefined) {
    const bc = p['basicConstraints'] as Record<string, unknown>;
    if (typeof bc !== 'object' || bc === null || typeof bc['ca'] !== 'boolean')
      fail('basicConstraints must be { ca: true|false, pathLen?: N }');
    for (const k of Object.keys(bc)) if (k !== 'ca' && k !== 'pathLen') fail(`basicConstraints: unknown key "${k}"`);
    const pathLen = bc['pathLen'];
    if (pathLen !== undefined && (typeof pathLen !== 'number' || !Number.isInteger(pathLen) || pathLen < 0 || pathLen > 8))
      fail('basicConstraints.pathLen must be 0–8');
    basicConstraints = { ca: bc['ca'] as boolean, ...(pathLen === undefined ? {} : { pathLen: pathLen as number }) };
  }
  if ((holder === 'ca') !== (basicConstraints?.ca === true)) fail('basicConstraints.ca must be true exactly for holder ca');

  const keyUsage = nameList(p['keyUsage'], 'keyUsage', KEY_USAGE_BITS, fail) as KeyUsageName[];
  if (keyUsage.length === 0) fail('keyUsage must name at least one usage');
  const extendedKeyUsage = nameList(p['extendedKeyUsage'] ?? [], 'extendedKeyUsage', EKU_OIDS, fail) as EkuName[];
  const extendedKeyUsageCritical = optionalBoolean(p['extendedKeyUsageCritical'], 'extendedKeyUsageCritical', fail);
  if (extendedKeyUsageCritical && extendedKeyUsage.length === 0) fail('extendedKeyUsageCritical needs extendedKeyUsage');
  // RFC 3161 §2.3: a TSA certificate has id-kp-timeStamping as its only purpose, critical.
  if (extendedKeyUsage.includes('timeStamping') && (extendedKeyUsage.length !== 1 || !extendedKeyUsageCritical))
    fail('timeStamping must be the only extendedKeyUsage, with extendedKeyUsageCritical: true (RFC 3161 §2.3)');
  const policies = nameList(p['certificatePolicies'] ?? [], 'certificatePolicies', POLICY_OIDS, fail);
  const certificatePolicies = policies.map((name) => POLICY_OIDS[name as keyof typeof POLICY_OIDS]);

  const revocationInfo = optionalBoolean(p['revocationInfo'], 'revocationInfo', fail);
  const ocspNoCheck = optionalBoolean(p['ocspNoCheck'], 'ocspNoCheck', fail);
  const officerAuthorization = optionalBoolean(p['officerAuthorization'], 'officerAuthorization', fail);
  if (officerAuthorization && holder !== 'officer') fail('officerAuthorization needs holder officer');
  if (ocspNoCheck && !extendedKeyUsage.includes('ocspSigning')) fail('ocspNoCheck belongs on an ocspSigning certificate');

  return {
    id: id as ProfileId,
    title: title as string,
    holder,
    issuer: issuer as CertificateProfile['issuer'],
    key: fromCsr ? undefined : (key as KeyAlgorithm),
    fromCsr,
    subject,
    validityDays: validityDays as number,
    basicConstraints,
    keyUsage,
    extendedKeyUsage,
    extendedKeyUsageCritical,
    certificatePolicies,
    revocationInfo,
    ocspNoCheck,
    officerAuthorization,
  };
}

function optionalBoolean(value: unknown, field: string, fail: (m: string) => never): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(`${field} must be true or false`);
  return value as boolean;
}

function nameList(value: unknown, field: string, known: Record<string, unknown>, fail: (m: string) => never): string[] {
  if (!Array.isArray(value)) fail(`${field} must be a list`);
  const list = value as unknown[];
  for (const name of list) {
    if (typeof name !== 'string' || !(name in known))
      fail(`${field}: unknown value ${JSON.stringify(name)}; known: ${Object.keys(known).join(', ')}`);
  }
  if (new Set(list).size !== list.length) fail(`${field} lists a value twice`);
  return list as string[];
}

const VARIABLE = /\$\{([a-z.]+)\}/gi;

function templateVariables(template: string): string[] {
  return [...template.matchAll(VARIABLE)].map((m) => m[1]!);
}

/** Fills a subject template; every variable MUST be present (the profile was validated). */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(VARIABLE, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`profile template variable ${name} has no value`);
    return value;
  });
}
