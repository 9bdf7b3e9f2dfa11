import 'reflect-metadata';
import { KeyObject, sign as nodeSign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { keyObjectSigner, type Signer } from '../../src/crypto/signer.js';
import { bitString, explicit, octetString, oid, sequence } from '../../src/der/writer.js';
import { encodeOfficerAuthorization } from '../../src/ca/officer-extension.js';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { OID } from '../../src/oids.js';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';

/**
 * A test PKI made at test time: root CA → issuing CA → enterprise and officer
 * certificates, with knobs for the variants the envelope tests need (expired, no documentSigning
 * EKU, another enterprise's organizationIdentifier, …) and CRLs. Built with @peculiar/x509 (a
 * codec/builder, not a validator). Dates are relative to `now` given by the test, never a
 * wall-clock read deep inside.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;
type Alg = webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm | webcrypto.EcdsaParams;

export type TestKeyAlg = 'P-256' | 'P-384' | 'Ed25519' | 'RSA-2048';

const DAY = 86_400_000;
export const USCC = '91350100M000100Y43';
export const OTHER_USCC = '91110000100000000A';

export interface TestIdentity {
  der: Buffer;
  pem: string;
  certificate: Certificate;
  privateKey: KeyObject;
  /** PKCS#8 PEM of the private key (test material only; for openssl as the outside signer). */
  keyPem: string;
  signer: Signer;
  /** Leaf then the issuing CA (what an envelope carries). */
  chain: Buffer[];
  serialHex: string;
}

export interface IssueOptions {
  serialHex?: string;
  commonName?: string;
  /** organizationIdentifier value; null: none. Default NTRCN-<USCC>. */
  organizationIdentifier?: string | null;
  /** EKUs; null: no EKU extension. Default documentSigning. */
  eku?: string[] | null;
  /** Mark the EKU extension critical (a TSA certificate's must be: RFC 3161 §2.3). */
  ekuCritical?: boolean;
  keyUsage?: number;
  policies?: string[];
  notBefore?: Date;
  notAfter?: Date;
  officer?: { role: 'reviewer' | 'approver' | 'handler'; jurisdiction: string };
  keyAlg?: TestKeyAlg;
}

export interface TestPki {
  now: Date;
  root: TestIdentity;
  issuing: TestIdentity;
  /** Trust anchors for verification (the root). */
  anchors: Certificate[];
  issue(options?: IssueOptions): Promise<TestIdentity>;
  enterprise(options?: IssueOptions): Promise<TestIdentity>;
  officer(role: 'reviewer' | 'approver' | 'handler', jurisdiction?: string, options?: IssueOptions): Promise<TestIdentity>;
  /** A CRL of the issuing CA (or of the root, covering the issuing CA) listing `revoked`. */
  crl(
    revoked: Array<{ serialHex: string; at: Date }>,
    options?: { thisUpdate?: Date; nextUpdate?: Date; issuer?: 'issuing' | 'root' },
  ): Promise<Buffer>;
}

const ALGS: Record<TestKeyAlg, { gen: Alg; sign: Alg }> = {
  'P-256': { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'P-384': { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  Ed25519: { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  'RSA-2048': {
    gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
};

async function keyPair(alg: TestKeyAlg): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGS[alg].gen as webcrypto.EcKeyGenParams, true, ['sign', 'verify'])) as KeyPair;
}

let serialCounter = 0x1000;

async function identity(cert: x509.X509Certificate, keys: KeyPair, chainTail: Buffer[]): Promise<TestIdentity> {
  const der = Buffer.from(cert.rawData);
  const privateKey = KeyObject.from(keys.privateKey);
  const publicKey = KeyObject.from(keys.publicKey);
  return {
    der,
    pem: cert.toString('pem') + '\n',
    certificate: parseCertificate(der),
    privateKey,
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    signer: keyObjectSigner('test', privateKey, publicKey),
    chain: [der, ...chainTail],
    serialHex: cert.serialNumber,
  };
}

/**
 * The officer extension (src/ca/officer-extension.ts: SEQUENCE { ENUMERATED role, PrintableString
 * jurisdiction }) as a whole Extension DER. It is spliced into the TBSCertificate and the
 * certificate re-signed, because @peculiar/x509 truncates an extnID with arcs beyond 2^53.
 */
function officerExtensionDer(role: 'reviewer' | 'approver' | 'handler', jurisdiction: string): Buffer {
  return sequence(oid(OID.officerAuthorization), octetString(encodeOfficerAuthorization({ role, jurisdiction })));
}

function withExtraExtension(certDer: Buffer, extensionDer: Buffer, issuerKey: KeyObject): Buffer {
  const [tbsEl, algEl] = childrenOf(readDer(certDer));
  const fields = childrenOf(tbsEl!).map((f) => {
    if (f.tag !== 0xa3) return Buffer.from(f.bytes);
    const list = childrenOf(childrenOf(f)[0]!).map((e) => Buffer.from(e.bytes));
    return explicit(3, sequence(...list, extensionDer));
  });
  const tbs = sequence(...fields);
  return sequence(tbs, Buffer.from(algEl!.bytes), bitString(nodeSign('sha256', tbs, issuerKey)));
}

export async function createTestPki(now: Date, label = 'Chancery Test'): Promise<TestPki> {
  const rootKeys = await keyPair('P-256');
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `C=CN, O=${label} Registry, CN=${label} Root CA`,
    notBefore: new Date(now.getTime() - 365 * DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    signingAlgorithm: ALGS['P-256'].sign,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const root = await identity(rootCert, rootKeys, []);

  const issuingKeys = await keyPair('P-256');
  const issuingCert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    issuer: rootCert.subject,
    subject: `C=CN, O=${label} Registry, CN=${label} Issuing CA`,
    notBefore: new Date(now.getTime() - 300 * DAY),
    notAfter: new Date(now.getTime() + 3000 * DAY),
    signingAlgorithm: ALGS['P-256'].sign,
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      new x509.CertificatePolicyExtension(['2.5.29.32.0']),
    ],
  });
  const issuing = await identity(issuingCert, issuingKeys, [root.der]);

  const issue = async (o: IssueOptions = {}): Promise<TestIdentity> => {
    const alg = o.keyAlg ?? 'P-256';
    const keys = await keyPair(alg);
    const orgId = o.organizationIdentifier === undefined ? `NTRCN-${USCC}` : o.organizationIdentifier;
    const cn = o.commonName ?? 'Fuzhou Minjiang Foods Co Ltd';
    const subject = o.officer
      ? `C=CN, O=Market Regulation Authority, 2.5.4.5=OFF-${o.officer.role}, CN=${cn}`
      : `C=CN, O=${cn}${orgId === null ? '' : `, 2.5.4.97=${orgId}`}, CN=${cn}`;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(o.keyUsage ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuingKeys.publicKey),
      new x509.CertificatePolicyExtension(o.policies ?? [o.officer ? OID.policyOfficer : OID.policyEnterpriseSigning]),
    ];
    const eku = o.eku === undefined ? [OID.kpDocumentSigning] : o.eku;
    if (eku !== null) extensions.push(new x509.ExtendedKeyUsageExtension(eku, o.ekuCritical === true));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: o.serialHex ?? (serialCounter++).toString(16).padStart(4, '0'),
      issuer: issuingCert.subject,
      subject,
      notBefore: o.notBefore ?? new Date(now.getTime() - 30 * DAY),
      notAfter: o.notAfter ?? new Date(now.getTime() + 335 * DAY),
      signingAlgorithm: ALGS['P-256'].sign,
      publicKey: keys.publicKey,
      signingKey: issuingKeys.privateKey,
      extensions,
    });
    if (o.officer === undefined) return identity(cert, keys, [issuing.der]);
    const patched = withExtraExtension(
      Buffer.from(cert.rawData),
      officerExtensionDer(o.officer.role, o.officer.jurisdiction),
      KeyObject.from(issuingKeys.privateKey),
    );
    return identity(new x509.X509Certificate(patched), keys, [issuing.der]);
  };

  return {
    now,
    root,
    issuing,
    anchors: [root.certificate],
    issue,
    enterprise: (o) => issue(o),
    officer: (role, jurisdiction = '350100', o = {}) =>
      issue({
        commonName: `Officer ${role}`,
        eku: [OID.kpDocumentSigning, OID.kpClientAuth],
        ...o,
        officer: { role, jurisdiction },
        organizationIdentifier: null,
      }),
    crl: async (revoked, options = {}) => {
      const byRoot = options.issuer === 'root';
      const signerKeys = byRoot ? rootKeys : issuingKeys;
      const crl = await x509.X509CrlGenerator.create({
        issuer: byRoot ? rootCert.subject : issuingCert.subject,
        thisUpdate: options.thisUpdate ?? new Date(now.getTime() - DAY),
        nextUpdate: options.nextUpdate ?? new Date(now.getTime() + 7 * DAY),
        entries: revoked.map((r) => ({ serialNumber: r.serialHex, revocationDate: r.at, reason: x509.X509CrlReason.keyCompromise })),
        signingAlgorithm: ALGS['P-256'].sign,
        signingKey: signerKeys.privateKey,
        extensions: [
          await x509.AuthorityKeyIdentifierExtension.create(signerKeys.publicKey),
          new x509.Extension('2.5.29.20', false, Buffer.from([0x02, 0x01, 0x01])),
        ],
      });
      return Buffer.from(crl.rawData);
    },
  };
}

/** A realistic annual report of the test enterprise, as the bytes that get signed. */
export function annualReport(overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'annual-report',
      applicant: USCC,
      applicationId: 'AR-2025-0001',
      createdAt: '2026-01-15T10:00:00+08:00',
      reportYear: 2025,
      registeredAddress: '88 Wusi Road, Gulou District, Fuzhou',
      contact: { phone: '+86 591 8765 4321', email: 'office@minjiang-foods.example' },
      employees: { value: 42, publish: true },
      totalAssets: { value: '12500000.00', publish: false },
      revenue: { value: '8300000.50', publish: true },
      taxPaid: { value: '415000.00', publish: true },
      ...overrides,
    }),
    'utf8',
  );
}

/** A food business licence application (needs officers). */
export function foodLicence(overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'food-business-licence',
      applicant: USCC,
      applicationId: 'FBL-2025-0007',
      createdAt: '2026-01-15T10:00:00+08:00',
      premises: { address: '12 Dongjie Street, Gulou District, Fuzhou', divisionCode: '350102', areaSquareMetres: 86.5 },
      businessCategories: ['prepackagedFoodSale', 'hotFoodPreparation'],
      foodSafetyManager: { name: 'Chen Li', phone: '+86 591 8765 4321', trainingCertificate: 'FS-2024-118' },
      storageConditions: { ambient: true, refrigerated: true, frozen: false },
      ...overrides,
    }),
    'utf8',
  );
}
