import { collectArchiveEvidence } from '../audit/archive-evidence.js';
import { ArchiveTimestamper } from '../audit/archive-timestamps.js';
import { openAudit, type AuditPart } from '../audit/open.js';
import type { AuditLog } from '../audit/types.js';
import type { Config } from '../config.js';
import { prepareDataDir } from '../data-dir.js';
import { isMigrated } from '../db/migrate.js';
import type { Database } from '../db/types.js';
import { createApp, type ChanceryApp } from '../http/app.js';
import { HttpMetrics } from '../http/metrics.js';
import { listen, type RunningServer } from '../http/server.js';
import type { Logger } from '../log.js';
import { loadPolicies, type PolicySet } from '../policy/policy.js';
import type { SubmissionService } from '../submissions/service.js';
import { VERSION } from '../version.js';
import { openStorage } from './storage.js';
import { composeParts, type Parts } from './parts.js';
import { registerDomainMetrics } from './domain-metrics.js';
import { apiRoutes, webPages } from './routes.js';

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
  /** Registry, CA, OCSP responder, login and the trust material, wired together. */
  parts: Parts;
  /** The transaction policies loaded and validated at start. */
  policies: PolicySet;
  /** The submission workflow: submit, countersign, status, receipts. */
  submissions: SubmissionService;
  /** Stop accepting, finish in-flight requests, close the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the service: opens and migrates the database, builds the parts and the HTTP app from
 * them, and listens. Start-up faults are ChanceryErrors with one-line messages.
 */
export async function startService(config: Config, logger: Logger): Promise<Service> {
  prepareDataDir(config.dataDir);
  // A policy file that does not validate stops start-up, naming the file and the fault.
  const policies = loadPolicies();
  // A port in use fails at once, before any other work or log line. A fixed port is only tried
  // here and bound once the service can answer: opening the embedded database blocks the event
  // loop for seconds, and a port bound meanwhile accepts connections it cannot answer. Port 0
  // (tests, tools) is bound now, since certificates made at start need to know the port.
  const early = config.port === 0 ? await listen(undefined, config.host, 0) : undefined;
  if (early === undefined) await (await listen(undefined, config.host, config.port)).close(0);
  let storage: Awaited<ReturnType<typeof openStorage>>;
  try {
    storage = await openStorage(config, logger);
  } catch (error) {
    await early?.close(0);
    throw error;
  }
  const { db, keys } = storage;
  let audit: AuditPart | undefined;
  let parts: Parts | undefined;
  let server: RunningServer | undefined = early;
  const metrics = new HttpMetrics({ processMetrics: true });
  const domainMetrics = registerDomainMetrics(metrics.registry, { db, hierarchy: () => parts?.ca.hierarchy, logger });
  try {
    audit = await openAudit({ db, keyStore: keys, dataDir: config.dataDir, logger });
    parts = await composeParts({
      db,
      audit: domainMetrics.countingLog(audit.log),
      keys,
      dataDir: config.dataDir,
      logger,
      baseUrl: () => publicBaseUrl(config, early?.port),
      initializeIfEmpty: true,
      crlPartitions: config.crlPartitions,
      policies,
      tsaUrl: config.tsaUrl,
      augment: config.augment,
      evidenceLog: {
        latestCheckpoint: () => audit!.reader.latestCheckpoint(),
        publishCheckpoint: () => audit!.checkpointer.publish(),
        inclusionProof: (index, size) => audit!.reader.inclusionProof(index, size),
        entry: async (index) => Buffer.from((await audit!.reader.entries(index, index + 1)).entries[0]!.entry, 'utf8'),
        verifierKey: audit!.logKey.vkey,
        archiveEvidence: (coveredSize, checkpointSize) => collectArchiveEvidence(audit!.reader, coveredSize, checkpointSize),
      },
    });
    await recordLoadedPolicies(audit.log, policies);
    // Archive time-stamps of the log's head, through the same TimeStamper as signature time-stamps.
    audit.checkpointer.archiveWith(
      new ArchiveTimestamper({
        db,
        log: domainMetrics.countingLog(audit.log),
        stamper: parts.timeStamper,
        logger,
        intervalMs: config.archiveTimestampIntervalMs,
        onFailed: () => domainMetrics.archiveTimestampFailed(),
      }),
    );

    metrics.registry.registerMetric(parts.binding.divergences);
    const http = createApp({
      logger,
      version: VERSION,
      metrics,
      readiness: async () => {
        try {
          return (await isMigrated(db)) ? { ready: true } : { ready: false, reason: 'database is not fully migrated' };
        } catch {
          return { ready: false, reason: 'database is not reachable' };
        }
      },
      routes: apiRoutes(parts, audit, policies, { onLoginRefused: domainMetrics.loginFailed }),
      ...(config.rateLimit === undefined ? {} : { rateLimit: config.rateLimit }),
      pages: webPages(parts, audit, policies),
    });
    server = early ?? (await listen(undefined, config.host, config.port));
    server.attach(http.listener);
    logger.info({ host: config.host, port: server.port, driver: db.driver, dataDir: config.dataDir }, 'chancery listening');

    let stopping: Promise<void> | undefined;
    const running = server;
    const auditPart = audit;
    const composed = parts;
    return {
      config,
      db,
      http,
      server: running,
      audit: auditPart.log,
      auditPart,
      parts: composed,
      policies,
      submissions: composed.submissions!,
      stop: () => {
        stopping ??= (async () => {
          await running.close();
          await composed.auth.stop();
          composed.stop();
          await auditPart.close();
          await db.close();
          logger.info('chancery stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    await server?.close(0).catch(() => undefined);
    parts?.stop();
    await audit?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}

/**
 * One `policy.loaded` entry per policy at every start: id, version and the SHA-256 of the file,
 * so an auditor knows which rules decided the submissions that follow.
 */
async function recordLoadedPolicies(audit: AuditLog, policies: PolicySet): Promise<void> {
  await audit.record(async (_tx, append) => {
    for (const p of policies.list()) {
      await append({
        kind: 'policy.loaded',
        actor: 'system',
        subject: `policy:${p.id}`,
        data: { id: p.id, version: p.version, sha256: p.sha256 },
      });
    }
  });
}

/**
 * The base URL certificates point at: CHANCERY_PUBLIC_URL when set, else http://HOST:PORT of the
 * listening server (a wildcard host becomes the loopback address). Undefined until the port is
 * known when asked for port 0.
 */
export function publicBaseUrl(
  config: { publicUrl: string | undefined; host: string; port: number },
  boundPort: number | undefined,
): string | undefined {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const port = config.port !== 0 ? config.port : boundPort;
  if (port === undefined) return undefined;
  const host =
    config.host === '0.0.0.0'
      ? '127.0.0.1'
      : config.host === '::'
        ? '[::1]'
        : config.host.includes(':') && !config.host.startsWith('[')
          ? `[${config.host}]`
          : config.host;
  return `http://${host}:${port}`;
}
