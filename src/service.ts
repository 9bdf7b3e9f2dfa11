import { join } from 'node:path';
import { openAudit, type AuditPart } from './audit/open.js';
import type { AuditLog } from './audit/types.js';
import { publicBaseUrl, startCertificateServices, type CertificateServices } from './ca/services.js';
import type { Config } from './config.js';
import { FileKeyStore, resolveKeyPassphrase } from './crypto/key-store.js';
import { prepareDataDir } from './data-dir.js';
import { isMigrated, migrate } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import type { Database } from './db/types.js';
import { createApp, type ChanceryApp } from './http/app.js';
import { HttpMetrics } from './http/metrics.js';
import { listen, type RunningServer } from './http/server.js';
import { logRoutes } from './http/routes/log.js';
import { verifyRoutes } from './http/routes/verify.js';
import { openapiRoutes } from './http/openapi.js';
import { openSubmissions } from './submissions/open.js';
import type { SubmissionService } from './submissions/service.js';
import type { Logger } from './log.js';
import { loadPolicies, type PolicySet } from './policy/policy.js';
import { parseCertificate } from './verify/certificate.js';
import { VERSION } from './version.js';

/** Everything a running Chancery holds; `stop` releases it in the right order. */
export interface Service {
  config: Config;
  db: Database;
  http: ChanceryApp;
  server: RunningServer;
  /** The audit log: other parts append with `audit.record((tx, append) => …)`. */
  audit: AuditLog;
  /** The audit part itself (reader, log key, checkpointer), for tests and tools. */
  auditPart: AuditPart;
  /** Registry, CA, OCSP responder and login (src/registry, src/ca, src/auth). */
  certificates: CertificateServices;
  /** The transaction policies loaded and validated at start (src/policy). */
  policies: PolicySet;
  /** The submission workflow (src/submissions): submit, countersign, status, receipts. */
  submissions: SubmissionService;
  /** Stop accepting, finish in-flight requests, close the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The composition root: opens and migrates the database, builds the domain services and the
 * HTTP app from them, and listens. Start-up faults are ChanceryErrors with one-line messages.
 */
export async function startService(config: Config, logger: Logger): Promise<Service> {
  prepareDataDir(config.dataDir);
  // A policy file that does not validate stops start-up, naming the file and the fault.
  const policies = loadPolicies();
  // Take the port first: a port in use fails at once, before any other work or log line.
  const server = await listen(undefined, config.host, config.port);
  let db: Database;
  try {
    db = await openDatabase(config);
  } catch (error) {
    await server.close(0);
    throw error;
  }
  let audit: AuditPart | undefined;
  let certificates: CertificateServices | undefined;
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');

    const keyStore = new FileKeyStore(join(config.dataDir, 'keys'), resolveKeyPassphrase(config.dataDir, config.keyPassphrase, (m) => logger.warn(m)));
    audit = await openAudit({ db, keyStore, dataDir: config.dataDir, logger });
    certificates = await startCertificateServices({
      db,
      audit: audit.log,
      keys: keyStore,
      dataDir: config.dataDir,
      logger,
      baseUrl: () => publicBaseUrl(config, server.port),
      initializeIfEmpty: true,
    });
    await recordLoadedPolicies(audit.log, policies);
    const hierarchy = certificates.ca.hierarchy;
    const submissions = openSubmissions({ db, audit: audit.log, policies, certificates });
    const trust = { anchors: [parseCertificate(hierarchy.root.der)], intermediates: [parseCertificate(hierarchy.issuing.der)] };

    const http = createApp({
      logger,
      version: VERSION,
      metrics: new HttpMetrics({ processMetrics: true }),
      readiness: async () => {
        try {
          return (await isMigrated(db)) ? { ready: true } : { ready: false, reason: 'database is not fully migrated' };
        } catch {
          return { ready: false, reason: 'database is not reachable' };
        }
      },
      routes: [
        ...certificates.routes,
        logRoutes({ reader: audit.reader, vkey: audit.logKey.vkey }),
        verifyRoutes({ trust: () => trust, revocation: certificates.revocation, policies }),
        ...submissions.routes,
        openapiRoutes(),
      ],
    });
    server.attach(http.listener);
    logger.info({ host: config.host, port: server.port, driver: db.driver, dataDir: config.dataDir }, 'chancery listening');

    let stopping: Promise<void> | undefined;
    const running = server;
    const auditPart = audit;
    const certificateServices = certificates;
    return {
      config,
      db,
      http,
      server: running,
      audit: auditPart.log,
      auditPart,
      certificates: certificateServices,
      policies,
      submissions: submissions.service,
      stop: () => {
        stopping ??= (async () => {
          await running.close();
          certificateServices.stop();
          await auditPart.close();
          await db.close();
          logger.info('chancery stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    await server.close(0).catch(() => undefined);
    certificates?.stop();
    await audit?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}

/**
 * One `policy.loaded` entry per policy at every start (DESIGN.md § Policies): id, version and the
 * SHA-256 of the file, so an auditor knows which rules decided the submissions that follow.
 */
async function recordLoadedPolicies(audit: AuditLog, policies: PolicySet): Promise<void> {
  await audit.record(async (_tx, append) => {
    for (const p of policies.list()) {
      await append({ kind: 'policy.loaded', actor: 'system', subject: `policy:${p.id}`, data: { id: p.id, version: p.version, sha256: p.sha256 } });
    }
  });
}
