import type { AuditLog } from '../audit/types.js';
import { AuthService } from '../auth/auth-service.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { Database } from '../db/types.js';
import { authRoutes } from '../http/routes/auth.js';
import { caRoutes } from '../http/routes/ca.js';
import { certificateRoutes } from '../http/routes/certificates.js';
import { enterpriseRoutes } from '../http/routes/enterprises.js';
import { ocspRoutes } from '../http/routes/ocsp.js';
import { officerRoutes } from '../http/routes/officers.js';
import type { RouteTable } from '../http/routes.js';
import type { Logger } from '../log.js';
import { Registry } from '../registry/registry.js';
import { parseCertificate } from '../verify/certificate.js';
import { CertificateAuthority } from './authority.js';
import { caUrls } from './crl-publisher.js';
import { CaError } from './errors.js';
import { expiringHierarchyCertificates, initializeHierarchy, loadHierarchy, type Hierarchy } from './hierarchy.js';
import { OcspResponder } from './ocsp-responder.js';
import { loadProfiles } from './profiles.js';
import { databaseRevocationSource, revokedSerialCheck } from './revocation-source.js';
import type { RevocationSource } from '../verify/revocation.js';

/**
 * Composition of the registry, the CA, the OCSP responder and login, for `startService` and the
 * CLI's direct (no server) mode. One call, one object to stop.
 */
export interface CertificateServices {
  registry: Registry;
  ca: CertificateAuthority;
  ocsp: OcspResponder;
  auth: AuthService;
  /** RevocationSource over the CA database, for path validation by other parts. */
  revocation: RevocationSource;
  /** True when this start made the hierarchy (an empty data dir and database). */
  initialized: boolean;
  /** Route modules: enterprises, officers, certificates, CA files, OCSP, auth. */
  routes: Array<(table: RouteTable) => void>;
  /** Stops the CRL refresh timer (both CAs' CRLs). */
  stop(): void;
}

export interface CertificateServicesOptions {
  db: Database;
  audit: AuditLog;
  keys: KeyStore;
  dataDir: string;
  logger: Logger;
  now?: () => Date;
  /** This service's public base URL once known (certificates point at it). */
  baseUrl: () => string | undefined;
  /** Make the hierarchy when the database has none (`chancery serve` on an empty data dir). */
  initializeIfEmpty: boolean;
  /** src/audit's get-or-create of the log key, called by init. */
  ensureLogKey?: () => Promise<void>;
  /** How often to check whether the CRL needs re-signing; 0 disables the timer (CLI). */
  crlRefreshIntervalMs?: number;
}

export async function startCertificateServices(options: CertificateServicesOptions): Promise<CertificateServices> {
  const now = options.now ?? (() => new Date());
  const profiles = loadProfiles();
  const registry = new Registry({ db: options.db, audit: options.audit, now });
  let hierarchy: Hierarchy;
  let initialized = false;
  try {
    hierarchy = await loadHierarchy({ db: options.db, keys: options.keys, dataDir: options.dataDir });
  } catch (error) {
    if (!(error instanceof CaError && error.code === 'ERR_CA_NOT_INITIALIZED' && options.initializeIfEmpty)) throw error;
    const base = options.baseUrl();
    ({ hierarchy } = await initializeHierarchy({
      db: options.db,
      audit: options.audit,
      keys: options.keys,
      profiles,
      now,
      dataDir: options.dataDir,
      urls: base === undefined ? undefined : caUrls(base),
      ...(options.ensureLogKey === undefined ? {} : { ensureLogKey: options.ensureLogKey }),
      log: (message) => options.logger.info(message),
    }));
    initialized = true;
  }
  for (const c of expiringHierarchyCertificates(hierarchy, now())) {
    options.logger.warn({ certificate: c.certificate, notAfter: c.notAfter.toISOString(), daysLeft: c.daysLeft }, c.daysLeft < 0 ? `the ${c.certificate} certificate has expired` : `the ${c.certificate} certificate expires in ${c.daysLeft} days and nothing renews it`);
  }
  const ca = new CertificateAuthority({ db: options.db, audit: options.audit, registry, profiles, hierarchy, now, baseUrl: options.baseUrl });
  registry.certificates = ca;
  const ocsp = new OcspResponder({
    issuer: { subject: hierarchy.issuing.subject, spki: hierarchy.issuing.spki },
    responder: { der: hierarchy.ocsp.der, spki: hierarchy.ocsp.spki, signer: hierarchy.ocsp.signer },
    status: (serial) => ca.certificateStatus(serial),
    epoch: () => ca.revocationEpoch(),
    now,
  });
  ca.onRevocation(() => ocsp.invalidate());
  const revocation = databaseRevocationSource(ca);
  const auth = new AuthService({
    db: options.db,
    audit: options.audit,
    root: parseCertificate(hierarchy.root.der),
    issuing: parseCertificate(hierarchy.issuing.der),
    revocation,
    tokenSigner: hierarchy.tokenSigner,
    holderRevoked: revokedSerialCheck(ca),
    now,
  });

  const interval = options.crlRefreshIntervalMs ?? 60_000;
  // A serving node publishes what is due at once: in a data dir initialized before the root
  // published a CRL, that is the root's first CRL. A failure here is logged and retried by the timer.
  if (interval > 0) await ca.refreshCrlIfDue().catch((error: unknown) => options.logger.error({ err: error }, 'CRL refresh failed'));
  const timer =
    interval > 0
      ? setInterval(() => {
          ca.refreshCrlIfDue().catch((error: unknown) => options.logger.error({ err: error }, 'CRL refresh failed'));
        }, interval)
      : undefined;
  timer?.unref();

  return {
    registry,
    ca,
    ocsp,
    auth,
    revocation,
    initialized,
    routes: [
      authRoutes({ auth }),
      enterpriseRoutes({ registry, auth }),
      officerRoutes({ registry, auth }),
      certificateRoutes({ ca, auth }),
      caRoutes({ ca }),
      ocspRoutes({ ocsp }),
    ],
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

/**
 * The base URL certificates point at: CHANCERY_PUBLIC_URL when set, else http://HOST:PORT of the
 * listening server (a wildcard host becomes the loopback address). Undefined until the port is
 * known when asked for port 0.
 */
export function publicBaseUrl(config: { publicUrl: string | undefined; host: string; port: number }, boundPort: number | undefined): string | undefined {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const port = config.port !== 0 ? config.port : boundPort;
  if (port === undefined) return undefined;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}
