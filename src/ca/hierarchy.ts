import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../audit/types.js';
import { SQLSTATE, sqlState, type Database, type Queryable } from '../db/types.js';
import type { KeyStore } from '../crypto/key-store.js';
import { exportSpki, generateKeyPair, type KeyAlgorithm } from '../crypto/keys.js';
import { keyObjectSigner, type Signer } from '../crypto/signer.js';
import { sha256Hex } from '../crypto/digest.js';
import { pemEncode } from '../der/pem.js';
import {
  buildCertificate,
  compileTemplate,
  encodeName,
  keyIdentifier,
  type IssuerContext,
  type RevocationUrls,
} from './certificate-builder.js';
import { readCertificateFields, type CertificateFields } from './certificate-fields.js';
import { CaError } from './errors.js';
import { fillTemplate, profileById, type CertificateProfile, type ProfileSet } from './profiles.js';
import { newSerial } from './serial.js';
import {
  insertCertificate,
  insertCrlPartitionCount,
  insertHierarchy,
  selectCrlPartitionCount,
  selectHierarchy,
  type HierarchyRole,
} from './store.js';
import { formatName } from './names.js';
import {
  DEFAULT_CRL_PARTITIONS,
  ISSUING_CA,
  MAX_CRL_PARTITIONS,
  MIN_CRL_PARTITIONS,
  publishCrl,
  ROOT_CA,
  type CaId,
} from './crl-publisher.js';

/**
 * The CA hierarchy `chancery init` makes: root CA (P-384, self-signed),
 * issuing CA (P-256), delegated OCSP responder, service seal, time-stamping authority, and the
 * operator's admin certificate. Private keys of the service live in the KeyStore (encrypted PKCS#8 under
 * `<dataDir>/keys`); certificates live in the database (`ca_hierarchy`) so every node sharing it
 * sees the same CA, and their public PEMs are written to `<dataDir>/ca/`.
 */

/** Key store names of the service's keys. */
export const KEY_NAMES = {
  root: 'root-ca',
  issuing: 'issuing-ca',
  ocsp: 'ocsp-responder',
  seal: 'service-seal',
  /** Signs RFC 3161 time-stamp tokens (src/tsa). */
  tsa: 'tsa',
  /** Signs login tokens (ES256 JWTs); not certified. */
  token: 'auth-token',
} as const;

/** Where `init` puts files in the data dir. */
export function hierarchyFiles(dataDir: string) {
  return {
    root: join(dataDir, 'ca', 'root.pem'),
    issuing: join(dataDir, 'ca', 'issuing.pem'),
    chain: join(dataDir, 'ca', 'chain.pem'),
    ocsp: join(dataDir, 'ca', 'ocsp.pem'),
    seal: join(dataDir, 'ca', 'seal.pem'),
    tsa: join(dataDir, 'ca', 'tsa.pem'),
    adminDir: join(dataDir, 'admin'),
    adminKey: join(dataDir, 'admin', 'admin.key.pem'),
    adminCert: join(dataDir, 'admin', 'admin.cert.pem'),
    adminChain: join(dataDir, 'admin', 'chain.pem'),
  };
}

export interface HierarchyCertificate extends CertificateFields {
  keyIdentifier: Buffer;
}

/**
 * The loaded hierarchy: certificates, and the signers of the online keys. The root's signer is
 * there when this node's key store holds the root key; the service uses it for nothing but the
 * root's CRL, and a node without it serves the CRL another node signed.
 */
export interface Hierarchy {
  root: HierarchyCertificate & { signer?: Signer };
  issuing: HierarchyCertificate & { signer: Signer };
  ocsp: HierarchyCertificate & { signer: Signer };
  seal: HierarchyCertificate & { signer: Signer };
  /**
   * The time-stamping authority. `init` makes it; a data dir made before it existed gets it at
   * the next start (`addTsaCertificate`), so it is absent only between loading and that step.
   */
  tsa?: HierarchyCertificate & { signer: Signer };
  admin: HierarchyCertificate;
  tokenSigner: Signer;
}

export interface HierarchyDeps {
  db: Database;
  audit: AuditLog;
  keys: KeyStore;
  profiles: ProfileSet;
  now: () => Date;
  dataDir: string;
  /**
   * Service URLs for the revocation pointers, by issuer (`caUrls(base)`), when known: the
   * issuing CA's for the OCSP, seal and admin certificates, the root's for the issuing CA.
   */
  urls: Record<CaId, RevocationUrls> | undefined;
  /** Gets or creates the audit log's Ed25519 key and writes `<dataDir>/log.vkey` (src/audit). */
  ensureLogKey?: () => Promise<void>;
  /** The loud line about dev-mode passphrases and where the admin credential went. */
  log?: (message: string) => void;
}

export interface InitializeResult {
  hierarchy: Hierarchy;
  files: ReturnType<typeof hierarchyFiles>;
}

/**
 * Makes a new hierarchy. MUST refuse when the database already has one
 * (ERR_CA_ALREADY_INITIALIZED) or when the data dir holds another CA's files
 * (ERR_CA_STATE_MISMATCH); never replaces a key or a certificate. Keys left by an init that
 * crashed before committing (never certified, so never trusted) are reused.
 */
export async function initializeHierarchy(
  deps: HierarchyDeps,
  options: { adminName?: string; crlPartitions?: number | undefined } = {},
): Promise<InitializeResult> {
  const crlPartitions = options.crlPartitions ?? DEFAULT_CRL_PARTITIONS;
  checkCrlPartitionCount(crlPartitions);
  const existing = await selectHierarchy(deps.db);
  if (existing.size > 0) {
    throw new CaError('ERR_CA_ALREADY_INITIALIZED', 'a CA hierarchy already exists in this database; refusing to replace it');
  }
  const files = hierarchyFiles(deps.dataDir);
  if (existsSync(files.root) || existsSync(files.adminKey)) {
    throw new CaError(
      'ERR_CA_STATE_MISMATCH',
      `${deps.dataDir} already holds a CA (ca/root.pem or admin/admin.key.pem) but the database has none: point DATABASE_URL at that CA's database, or use a new data dir`,
    );
  }
  await deps.ensureLogKey?.();
  const now = deps.now();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const validity = (p: CertificateProfile): Date => new Date(notBefore.getTime() + p.validityDays * 86_400_000);

  const keyFor = async (name: string, algorithm: KeyAlgorithm): Promise<Signer> =>
    (await deps.keys.has(name)) ? deps.keys.signer(name) : deps.keys.generate(name, algorithm);

  const rootProfile = profileById(deps.profiles, 'root');
  const issuingProfile = profileById(deps.profiles, 'issuing-ca');
  const ocspProfile = profileById(deps.profiles, 'ocsp-responder');
  const sealProfile = profileById(deps.profiles, 'service-seal');
  const tsaProfile = profileById(deps.profiles, 'tsa');
  const adminProfile = profileById(deps.profiles, 'admin');

  const rootSigner = await keyFor(KEY_NAMES.root, rootProfile.key!);
  const issuingSigner = await keyFor(KEY_NAMES.issuing, issuingProfile.key!);
  const ocspSigner = await keyFor(KEY_NAMES.ocsp, ocspProfile.key!);
  const sealSigner = await keyFor(KEY_NAMES.seal, sealProfile.key!);
  const tsaSigner = await keyFor(KEY_NAMES.tsa, tsaProfile.key!);
  const tokenSigner = await keyFor(KEY_NAMES.token, 'P-256');
  const admin = generateKeyPair(adminProfile.key!);

  const subjectOf = (p: CertificateProfile, values: Record<string, string> = {}): Buffer =>
    encodeName(p.subject.map((e) => ({ type: e.type, value: fillTemplate(e.template, values) })));

  const rootSpki = exportSpki(rootSigner.publicKey);
  const rootDer = await buildCertificate(compileTemplate(rootProfile, 'self', undefined), {
    serial: newSerial().bytes,
    notBefore,
    notAfter: validity(rootProfile),
    subject: subjectOf(rootProfile),
    spki: rootSpki,
    selfSigner: rootSigner,
  });
  const root = withKeyId(readCertificateFields(rootDer));
  const rootIssuer: IssuerContext = { name: root.subject, keyIdentifier: root.keyIdentifier, signer: rootSigner, notAfter: root.notAfter };

  const issuingDer = await buildCertificate(compileTemplate(issuingProfile, rootIssuer, deps.urls?.root), {
    serial: newSerial().bytes,
    notBefore,
    notAfter: validity(issuingProfile),
    subject: subjectOf(issuingProfile),
    spki: exportSpki(issuingSigner.publicKey),
  });
  const issuing = withKeyId(readCertificateFields(issuingDer));
  const issuingContext: IssuerContext = {
    name: issuing.subject,
    keyIdentifier: issuing.keyIdentifier,
    signer: issuingSigner,
    notAfter: issuing.notAfter,
  };

  const leaf = async (profile: CertificateProfile, spki: Buffer, values: Record<string, string> = {}): Promise<HierarchyCertificate> =>
    withKeyId(
      readCertificateFields(
        await buildCertificate(compileTemplate(profile, issuingContext, deps.urls?.issuing), {
          serial: newSerial().bytes,
          notBefore,
          notAfter: validity(profile),
          subject: subjectOf(profile, values),
          spki,
        }),
      ),
    );
  const ocsp = await leaf(ocspProfile, exportSpki(ocspSigner.publicKey));
  const seal = await leaf(sealProfile, exportSpki(sealSigner.publicKey));
  const tsa = await leaf(tsaProfile, exportSpki(tsaSigner.publicKey));
  const adminCert = await leaf(adminProfile, exportSpki(admin.publicKey), { name: options.adminName ?? 'Chancery registry operator' });

  // The operator's key is written before the commit (to a temporary name) so that a committed
  // hierarchy never lacks its admin credential; it is moved into place after the commit.
  mkdirSync(files.adminDir, { recursive: true, mode: 0o700 });
  const pendingKey = `${files.adminKey}.${process.pid}.pending`;
  writeFileSync(pendingKey, admin.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'w' });
  try {
    await deps.audit.record(async (tx, append) => {
      const at = now.toISOString();
      const rows: Array<[HierarchyRole, HierarchyCertificate, string | null]> = [
        ['root', root, KEY_NAMES.root],
        ['issuing', issuing, KEY_NAMES.issuing],
        ['ocsp', ocsp, KEY_NAMES.ocsp],
        ['seal', seal, KEY_NAMES.seal],
        ['tsa', tsa, KEY_NAMES.tsa],
        ['admin', adminCert, null],
      ];
      for (const [role, cert, keyName] of rows)
        await insertHierarchy(tx, { role, serial: cert.serial, key_name: keyName, der: cert.der }, at);
      for (const [profile, cert] of [
        [ocspProfile, ocsp],
        [sealProfile, seal],
        [tsaProfile, tsa],
        [adminProfile, adminCert],
      ] as const) {
        await insertServiceCertificate(tx, profile, cert, now);
      }
      await insertCrlPartitionCount(tx, ISSUING_CA, crlPartitions, now);
      const crlNumber = await publishCrl(
        tx,
        { ca: ISSUING_CA, issuerName: issuing.subject, issuerKeyIdentifier: issuing.keyIdentifier, signer: issuingSigner },
        now,
      );
      const rootCrlNumber = await publishCrl(
        tx,
        { ca: ROOT_CA, issuerName: root.subject, issuerKeyIdentifier: root.keyIdentifier, signer: rootSigner },
        now,
      );
      const describe = (c: HierarchyCertificate) => ({
        serial: c.serial,
        sha256: c.sha256,
        subject: formatName(c.subject),
        notAfter: c.notAfter.toISOString(),
      });
      await append({
        kind: 'ca.initialized',
        actor: 'system',
        subject: 'ca',
        data: {
          root: describe(root),
          issuing: describe(issuing),
          ocsp: describe(ocsp),
          seal: describe(seal),
          tsa: describe(tsa),
          admin: describe(adminCert),
          crlNumber,
          rootCrlNumber,
          crlPartitions,
        },
      });
    });
  } catch (error) {
    rmSync(pendingKey, { force: true });
    throw error;
  }
  renameSync(pendingKey, files.adminKey);

  const hierarchy: Hierarchy = {
    root: { ...root, signer: rootSigner },
    issuing: { ...issuing, signer: issuingSigner },
    ocsp: { ...ocsp, signer: ocspSigner },
    seal: { ...seal, signer: sealSigner },
    tsa: { ...tsa, signer: tsaSigner },
    admin: adminCert,
    tokenSigner,
  };
  writePublicFiles(deps.dataDir, hierarchy);
  deps.log?.(
    `CA initialized: root ${root.sha256.slice(0, 16)}…; the operator's credential is in ${files.adminDir} (keep admin.key.pem secret)`,
  );
  return { hierarchy, files };
}

/** MUST throw unless `n` is a partition count an operator may choose (MIN_CRL_PARTITIONS..MAX_CRL_PARTITIONS). */
export function checkCrlPartitionCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < MIN_CRL_PARTITIONS || n > MAX_CRL_PARTITIONS)
    throw new RangeError(`the CRL partition count must be an integer from ${MIN_CRL_PARTITIONS} to ${MAX_CRL_PARTITIONS}, got ${n}`);
}

/**
 * The issuing CA's CRL partition count: the one stored at init. `requested` (the operator's
 * CHANCERY_CRL_PARTITIONS or --crl-partitions at this start) MUST equal it when given: every issued
 * certificate's CRL distribution point names its partition's CRL, so a different count is refused
 * (ERR_CA_STATE_MISMATCH), never applied as a silent re-partitioning. A CA without a stored count
 * (its row removed by hand) gets `requested` or the default, first writer winning across nodes.
 */
export async function settleCrlPartitionCount(db: Database, requested: number | undefined, now: () => Date): Promise<number> {
  if (requested !== undefined) checkCrlPartitionCount(requested);
  let stored = await selectCrlPartitionCount(db, ISSUING_CA);
  if (stored === undefined) {
    await insertCrlPartitionCount(db, ISSUING_CA, requested ?? DEFAULT_CRL_PARTITIONS, now());
    stored = (await selectCrlPartitionCount(db, ISSUING_CA))!;
  }
  if (requested !== undefined && requested !== stored)
    throw new CaError(
      'ERR_CA_STATE_MISMATCH',
      `CHANCERY_CRL_PARTITIONS (--crl-partitions) is ${requested}, but this CA was initialized with ${stored} CRL partitions; ` +
        `the count is fixed at init (issued certificates name their partition's CRL): set it to ${stored} or leave it unset`,
      { detail: { stored, requested } },
    );
  return stored;
}

/**
 * Loads the hierarchy from the database and its keys from the key store, checking that each key
 * is the one its certificate certifies. ERR_CA_NOT_INITIALIZED when there is none.
 */
export async function loadHierarchy(deps: Pick<HierarchyDeps, 'db' | 'keys' | 'dataDir'>): Promise<Hierarchy> {
  const rows = await selectHierarchy(deps.db);
  if (rows.size === 0) throw new CaError('ERR_CA_NOT_INITIALIZED', 'no CA hierarchy in this database: run `chancery init` first');
  const cert = (role: HierarchyRole): HierarchyCertificate => {
    const row = rows.get(role);
    if (row === undefined) throw new CaError('ERR_CA_STATE_MISMATCH', `the CA hierarchy in the database lacks its ${role} certificate`);
    return withKeyId(readCertificateFields(Buffer.from(row.der)));
  };
  const keyed = async (role: HierarchyRole, name: string): Promise<HierarchyCertificate & { signer: Signer }> => {
    const c = cert(role);
    const signer = await signerOf(deps.keys, name, deps.dataDir);
    if (!exportSpki(signer.publicKey).equals(c.spki)) {
      throw new CaError(
        'ERR_CA_STATE_MISMATCH',
        `key ${name} in ${deps.dataDir}/keys is not the key of the ${role} certificate in the database`,
      );
    }
    return { ...c, signer };
  };
  const hierarchy: Hierarchy = {
    // The root key is optional here: an operator may keep it off the online nodes.
    root: (await deps.keys.has(KEY_NAMES.root)) ? await keyed('root', KEY_NAMES.root) : cert('root'),
    issuing: await keyed('issuing', KEY_NAMES.issuing),
    ocsp: await keyed('ocsp', KEY_NAMES.ocsp),
    seal: await keyed('seal', KEY_NAMES.seal),
    ...(rows.has('tsa') ? { tsa: await keyed('tsa', KEY_NAMES.tsa) } : {}),
    admin: cert('admin'),
    tokenSigner: await signerOf(deps.keys, KEY_NAMES.token, deps.dataDir),
  };
  writePublicFiles(deps.dataDir, hierarchy);
  return hierarchy;
}

/**
 * Gives a hierarchy made before the time-stamping authority existed its TSA certificate, issued
 * by the issuing CA and recorded like init's (`ca_hierarchy`, `certificates`, and a
 * `certificate.issued` audit entry); returns the hierarchy unchanged when it has one. When
 * another node sharing the database adds it first, that node's certificate is loaded instead
 * (and this node needs that node's `keys/tsa` key, as for every other hierarchy key).
 */
export async function addTsaCertificate(
  deps: HierarchyDeps,
  hierarchy: Hierarchy,
): Promise<Hierarchy & { tsa: NonNullable<Hierarchy['tsa']> }> {
  if (hierarchy.tsa !== undefined) return { ...hierarchy, tsa: hierarchy.tsa };
  const profile = profileById(deps.profiles, 'tsa');
  const signer = (await deps.keys.has(KEY_NAMES.tsa))
    ? await deps.keys.signer(KEY_NAMES.tsa)
    : await deps.keys.generate(KEY_NAMES.tsa, profile.key!);
  const now = deps.now();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const issuer: IssuerContext = {
    name: hierarchy.issuing.subject,
    keyIdentifier: hierarchy.issuing.keyIdentifier,
    signer: hierarchy.issuing.signer,
    notAfter: hierarchy.issuing.notAfter,
  };
  const der = await buildCertificate(compileTemplate(profile, issuer, deps.urls?.issuing), {
    serial: newSerial().bytes,
    notBefore,
    notAfter: new Date(notBefore.getTime() + profile.validityDays * 86_400_000),
    subject: encodeName(profile.subject.map((e) => ({ type: e.type, value: fillTemplate(e.template, {}) }))),
    spki: exportSpki(signer.publicKey),
  });
  const tsa = withKeyId(readCertificateFields(der));
  try {
    await deps.audit.record(async (tx, append) => {
      await insertHierarchy(tx, { role: 'tsa', serial: tsa.serial, key_name: KEY_NAMES.tsa, der: tsa.der }, now.toISOString());
      await insertServiceCertificate(tx, profile, tsa, now);
      await append({
        kind: 'certificate.issued',
        actor: 'system',
        subject: `certificate:${tsa.serial}`,
        data: {
          serial: tsa.serial,
          profile: profile.id,
          subject: formatName(tsa.subject),
          notBefore: tsa.notBefore.toISOString(),
          notAfter: tsa.notAfter.toISOString(),
          spkiSha256: sha256Hex(tsa.spki),
          certificateSha256: tsa.sha256,
        },
      });
    });
  } catch (error) {
    if (sqlState(error) !== SQLSTATE.uniqueViolation) throw error;
    const loaded = await loadHierarchy(deps);
    if (loaded.tsa === undefined) throw error;
    return { ...loaded, tsa: loaded.tsa };
  }
  const added = { ...hierarchy, tsa: { ...tsa, signer } };
  writePublicFiles(deps.dataDir, added);
  deps.log?.(`time-stamping authority certificate ${tsa.serial} issued for this existing CA`);
  return added;
}

async function insertServiceCertificate(tx: Queryable, profile: CertificateProfile, cert: HierarchyCertificate, now: Date): Promise<void> {
  await insertCertificate(tx, {
    serial: cert.serial,
    issuer: 'issuing',
    profile: profile.id,
    uscc: null,
    officerId: null,
    subject: formatName(cert.subject),
    spkiSha256: sha256Hex(cert.spki),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    der: cert.der,
    issuedAt: now,
  });
}

async function signerOf(keys: KeyStore, name: string, dataDir: string): Promise<Signer> {
  if (!(await keys.has(name))) {
    throw new CaError(
      'ERR_CA_STATE_MISMATCH',
      `the database has a CA hierarchy but ${dataDir}/keys has no key ${name}: copy the keys/ directory (and CHANCERY_KEY_PASSPHRASE) of the node that ran init`,
    );
  }
  return keys.signer(name);
}

function withKeyId(fields: CertificateFields): HierarchyCertificate {
  return { ...fields, keyIdentifier: keyIdentifier(fields.spki) };
}

/** The chain relying parties need: issuing CA then root, as PEM. */
/** How long before its expiry a hierarchy certificate is announced at start. */
export const EXPIRY_WARNING_DAYS = 60;

/**
 * The hierarchy's own certificates that expire within `withinDays` of `now` (or already have),
 * soonest first: nothing renews them automatically, and an expired OCSP responder or seal
 * certificate makes every response or receipt it signs unverifiable.
 */
export function expiringHierarchyCertificates(
  h: Pick<Hierarchy, 'root' | 'issuing' | 'ocsp' | 'seal' | 'admin' | 'tsa'>,
  now: Date,
  withinDays = EXPIRY_WARNING_DAYS,
): Array<{ certificate: string; notAfter: Date; daysLeft: number }> {
  const limit = now.getTime() + withinDays * 86_400_000;
  return (['root', 'issuing', 'ocsp', 'seal', 'tsa', 'admin'] as const)
    .flatMap((certificate) => {
      const c = h[certificate];
      return c === undefined ? [] : [{ certificate, notAfter: c.notAfter }];
    })
    .filter((c) => c.notAfter.getTime() <= limit)
    .map((c) => ({ ...c, daysLeft: Math.floor((c.notAfter.getTime() - now.getTime()) / 86_400_000) }))
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
}

export function chainPem(h: Pick<Hierarchy, 'issuing' | 'root'>): string {
  return pemEncode('CERTIFICATE', h.issuing.der) + pemEncode('CERTIFICATE', h.root.der);
}

/** (Re)writes the public PEM files; they are derived from the database and safe to rewrite. */
function writePublicFiles(dataDir: string, h: Hierarchy): void {
  const files = hierarchyFiles(dataDir);
  mkdirSync(join(dataDir, 'ca'), { recursive: true, mode: 0o755 });
  const write = (path: string, text: string): void => {
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, path);
  };
  write(files.root, pemEncode('CERTIFICATE', h.root.der));
  write(files.issuing, pemEncode('CERTIFICATE', h.issuing.der));
  write(files.chain, chainPem(h));
  write(files.ocsp, pemEncode('CERTIFICATE', h.ocsp.der));
  write(files.seal, pemEncode('CERTIFICATE', h.seal.der));
  if (h.tsa !== undefined) write(files.tsa, pemEncode('CERTIFICATE', h.tsa.der));
  if (existsSync(files.adminDir)) {
    write(files.adminCert, pemEncode('CERTIFICATE', h.admin.der));
    write(files.adminChain, chainPem(h));
  }
}

/** For tests and tools: a Signer over a freshly generated in-memory key. */
export function ephemeralSigner(name: string, algorithm: KeyAlgorithm): Signer {
  const { privateKey, publicKey } = generateKeyPair(algorithm);
  return keyObjectSigner(name, privateKey, publicKey);
}
