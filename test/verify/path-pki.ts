import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';

/**
 * Test PKI for path validation, made at test time with @peculiar/x509 as a
 * builder only. Every knob the path tests need is a field of CertSpec: key type, CA flag and
 * path length, key usage, EKU, SAN, validity, policies, name constraints, AKI/SKI presence, and
 * arbitrary extra extensions (an unknown critical one, say). CRLs too. No wall-clock reads: the
 * tests pass their own dates.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const DAY = 86_400_000;
export type KeyAlg = 'P-256' | 'P-384' | 'Ed25519' | 'RSA-2048' | 'RSA-1024';
type KeyPair = webcrypto.CryptoKeyPair;

const GEN: Record<KeyAlg, object> = {
  'P-256': { name: 'ECDSA', namedCurve: 'P-256' },
  'P-384': { name: 'ECDSA', namedCurve: 'P-384' },
  Ed25519: { name: 'Ed25519' },
  'RSA-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  'RSA-1024': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};
const SIGN: Record<KeyAlg, object> = {
  'P-256': { name: 'ECDSA', hash: 'SHA-256' },
  'P-384': { name: 'ECDSA', hash: 'SHA-384' },
  Ed25519: { name: 'Ed25519' },
  'RSA-2048': { name: 'RSASSA-PKCS1-v1_5' },
  'RSA-1024': { name: 'RSASSA-PKCS1-v1_5' },
};

const keyCache = new Map<KeyAlg, KeyPair[]>();

/** A fresh key pair (RSA keys are slow to make: tests draw from a small pool per run). */
export async function keyPair(alg: KeyAlg): Promise<KeyPair> {
  if (alg.startsWith('RSA')) {
    const pool = keyCache.get(alg) ?? [];
    keyCache.set(alg, pool);
    if (pool.length >= 3) return pool[Math.floor(Math.random() * pool.length)]!;
    const k = (await webcrypto.subtle.generateKey(GEN[alg] as webcrypto.RsaHashedKeyGenParams, true, ['sign', 'verify'])) as KeyPair;
    pool.push(k);
    return k;
  }
  return (await webcrypto.subtle.generateKey(GEN[alg] as webcrypto.EcKeyGenParams, true, ['sign', 'verify'])) as KeyPair;
}

export interface TestCert {
  der: Buffer;
  pem: string;
  certificate: Certificate;
  keys: KeyPair;
  keyAlg: KeyAlg;
  /** PKCS#8 PEM of the private key (test material only; for openssl). */
  keyPem: string;
  subject: string;
}

export interface CertSpec {
  subject: string;
  /** Issuer; omitted: self-signed. */
  issuer?: TestCert;
  keyAlg?: KeyAlg;
  /** Reuse an existing key pair (same key, new certificate). */
  keys?: KeyPair;
  serial?: string;
  ca?: boolean;
  pathLen?: number;
  /** false: a non-critical basicConstraints. */
  bcCritical?: boolean;
  /** true: no basicConstraints extension at all. */
  noBasicConstraints?: boolean;
  /** KeyUsageFlags bits; null: no keyUsage extension. Default: CA → keyCertSign|cRLSign, else digitalSignature. */
  keyUsage?: number | null;
  eku?: string[];
  san?: x509.JsonGeneralName[];
  notBefore: Date;
  notAfter: Date;
  policies?: string[];
  noAki?: boolean;
  noSki?: boolean;
  extensions?: x509.Extension[];
}

export async function makeCert(spec: CertSpec): Promise<TestCert> {
  const keyAlg = spec.keyAlg ?? 'P-256';
  const keys = spec.keys ?? (await keyPair(keyAlg));
  const issuerKeys = spec.issuer?.keys ?? keys;
  const issuerAlg = spec.issuer?.keyAlg ?? keyAlg;
  const ca = spec.ca ?? false;
  const extensions: x509.Extension[] = [];
  if (spec.noBasicConstraints !== true) extensions.push(new x509.BasicConstraintsExtension(ca, spec.pathLen, spec.bcCritical ?? true));
  const ku =
    spec.keyUsage === undefined
      ? ca
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature
      : spec.keyUsage;
  if (ku !== null) extensions.push(new x509.KeyUsagesExtension(ku, true));
  if (spec.noSki !== true) extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (spec.noAki !== true && spec.issuer !== undefined)
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey));
  if (spec.eku !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku));
  if (spec.san !== undefined) extensions.push(new x509.SubjectAlternativeNameExtension(spec.san));
  if (spec.policies !== undefined) extensions.push(new x509.CertificatePolicyExtension(spec.policies));
  extensions.push(...(spec.extensions ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serial ?? nextSerial(),
    issuer: spec.issuer?.subject ?? spec.subject,
    subject: spec.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: SIGN[issuerAlg],
    publicKey: keys.publicKey,
    signingKey: issuerKeys.privateKey,
    extensions,
  });
  const der = Buffer.from(cert.rawData);
  return {
    der,
    pem: cert.toString('pem') + '\n',
    certificate: parseCertificate(der),
    keys,
    keyAlg,
    keyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }) as string,
    subject: spec.subject,
  };
}

let serial = 0x100;
function nextSerial(): string {
  serial++;
  return `7${serial.toString(16).padStart(5, '0')}`;
}

/** A name constraints extension (critical unless said otherwise). */
export function nameConstraints(
  permitted: asn1x509.GeneralName[] | undefined,
  excluded: asn1x509.GeneralName[] | undefined,
  critical = true,
): x509.Extension {
  const nc = new asn1x509.NameConstraints({
    ...(permitted === undefined
      ? {}
      : { permittedSubtrees: new asn1x509.GeneralSubtrees(permitted.map((base) => new asn1x509.GeneralSubtree({ base }))) }),
    ...(excluded === undefined
      ? {}
      : { excludedSubtrees: new asn1x509.GeneralSubtrees(excluded.map((base) => new asn1x509.GeneralSubtree({ base }))) }),
  });
  return new x509.Extension(asn1x509.id_ce_nameConstraints, critical, AsnConvert.serialize(nc));
}

export const dnsName = (value: string): asn1x509.GeneralName => new asn1x509.GeneralName({ dNSName: value });
export const directoryName = (dn: string): asn1x509.GeneralName =>
  new asn1x509.GeneralName({ directoryName: AsnConvert.parse(new x509.Name(dn).toArrayBuffer(), asn1x509.Name) });

/** An extension with an arbitrary OID and DER value (NULL by default). */
export function rawExtension(oid: string, critical: boolean, value: Uint8Array = Buffer.from([0x05, 0x00])): x509.Extension {
  return new x509.Extension(oid, critical, value);
}

/** A CRL by `issuer` listing `entries`, with a CRL number (v2). */
export async function makeCrl(
  issuer: TestCert,
  entries: Array<{ serialHex: string; at: Date; reason?: x509.X509CrlReason }>,
  o: { thisUpdate: Date; nextUpdate?: Date; crlNumber?: number; extensions?: x509.Extension[] },
): Promise<Buffer> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.subject,
    thisUpdate: o.thisUpdate,
    ...(o.nextUpdate === undefined ? {} : { nextUpdate: o.nextUpdate }),
    entries: entries.map((e) => ({
      serialNumber: e.serialHex,
      revocationDate: e.at,
      ...(e.reason === undefined ? {} : { reason: e.reason }),
    })),
    extensions: [new x509.Extension('2.5.29.20', false, Buffer.from([0x02, 0x01, o.crlNumber ?? 1])), ...(o.extensions ?? [])],
    signingAlgorithm: SIGN[issuer.keyAlg],
    signingKey: issuer.keys.privateKey,
  });
  return Buffer.from(crl.rawData);
}

/** Root → issuing CA → leaf (document signing), all valid around `now`. */
export async function simpleChain(
  now: Date,
  leafSpec: Partial<CertSpec> = {},
): Promise<{ root: TestCert; issuing: TestCert; leaf: TestCert }> {
  const root = await makeCert({
    subject: 'C=CN, O=Path Test, CN=Path Test Root',
    ca: true,
    keyAlg: 'P-384',
    notBefore: new Date(now.getTime() - 400 * DAY),
    notAfter: new Date(now.getTime() + 4000 * DAY),
  });
  const issuing = await makeCert({
    subject: 'C=CN, O=Path Test, CN=Path Test Issuing CA',
    ca: true,
    pathLen: 0,
    issuer: root,
    notBefore: new Date(now.getTime() - 300 * DAY),
    notAfter: new Date(now.getTime() + 3000 * DAY),
  });
  const leaf = await makeCert({
    subject: 'C=CN, O=Fuzhou Minjiang Foods, CN=Fuzhou Minjiang Foods',
    issuer: issuing,
    eku: ['1.3.6.1.5.5.7.3.36'],
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    notBefore: new Date(now.getTime() - 30 * DAY),
    notAfter: new Date(now.getTime() + 335 * DAY),
    ...leafSpec,
  });
  return { root, issuing, leaf };
}

export { x509 };
