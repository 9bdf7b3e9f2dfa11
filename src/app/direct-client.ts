import { openAudit, type AuditPart } from '../audit/open.js';
import type { CertificateInfo } from '../ca/authority.js';
import { createReadStream } from 'node:fs';
import type { AdminClient, EnterpriseImport } from '../client/admin.js';
import { loadConfig } from '../config.js';
import type { Database } from '../db/types.js';
import { createLogger } from '../log.js';
import type { ImportReport } from '../registry/import.js';
import type { Enterprise, Officer } from '../registry/types.js';
import { composeParts, type Parts } from './parts.js';
import { openStorage } from './storage.js';

/**
 * AdminClient working directly on a data dir whose database no server holds: the same parts,
 * checks and audit entries as the service, without HTTP. The actor is the admin certificate.
 */
export class DirectAdminClient implements AdminClient {
  private constructor(
    private readonly db: Database,
    private readonly audit: AuditPart,
    private readonly services: Parts,
    private readonly actor: string,
  ) {}

  static async open(dataDir: string, databaseUrl: string | undefined): Promise<DirectAdminClient> {
    const config = loadConfig(process.env, { dataDir, databaseUrl, logLevel: process.env['LOG_LEVEL'] ?? 'warn' });
    const logger = createLogger(config.logLevel);
    const { db, keys } = await openStorage(config, logger);
    let audit: AuditPart | undefined;
    try {
      audit = await openAudit({ db, keyStore: keys, dataDir: config.dataDir, logger });
      const parts = await composeParts({
        db,
        audit: audit.log,
        keys,
        dataDir: config.dataDir,
        logger,
        baseUrl: () => config.publicUrl ?? `http://${config.host}:${config.port}`,
        initializeIfEmpty: false,
        crlPartitions: config.crlPartitions,
        crlRefreshIntervalMs: 0,
      });
      return new DirectAdminClient(db, audit, parts, `admin:${parts.ca.hierarchy.admin.serial}`);
    } catch (error) {
      await audit?.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw error;
    }
  }

  registerEnterprise(input: Parameters<AdminClient['registerEnterprise']>[0]): Promise<Enterprise> {
    return this.services.registry.registerEnterprise(input, this.actor);
  }
  getEnterprise(uscc: string): Promise<Enterprise> {
    return this.services.registry.getEnterprise(uscc);
  }
  async listEnterprises(query: { status?: string; after?: string; limit?: string }): Promise<{ items: Enterprise[]; next: string | null }> {
    const items = await this.services.registry.listEnterprises(query);
    return { items, next: items.length > 0 ? items[items.length - 1]!.uscc : null };
  }
  revokeEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.services.registry.revokeEnterprise(uscc, reason, this.actor);
  }
  deregisterEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.services.registry.deregisterEnterprise(uscc, reason, this.actor);
  }
  registerOfficer(input: Parameters<AdminClient['registerOfficer']>[0]): Promise<Officer> {
    return this.services.registry.registerOfficer(input, this.actor);
  }
  issue(input: Parameters<AdminClient['issue']>[0]): Promise<CertificateInfo> {
    return this.services.ca.issue(input, this.actor);
  }
  issuePkcs12(
    input: Parameters<AdminClient['issuePkcs12']>[0],
  ): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }> {
    return this.services.ca.issuePkcs12(input, this.actor);
  }
  getCertificate(serial: string): Promise<CertificateInfo> {
    return this.services.ca.getCertificate(serial);
  }
  revokeCertificate(serial: string, reason: string | undefined): Promise<CertificateInfo> {
    return this.services.ca.revoke(serial, reason, this.actor);
  }
  async chainPem(): Promise<string> {
    return this.services.ca.chainPem;
  }
  importEnterprises(input: EnterpriseImport): Promise<ImportReport> {
    const source = createReadStream(input.path, { highWaterMark: 1 << 20 });
    return this.services.registry
      .importEnterprises(
        source,
        {
          format: input.format,
          ...(input.fromLine === undefined ? {} : { fromLine: input.fromLine }),
          ...(input.checkOnly === undefined ? {} : { checkOnly: input.checkOnly }),
          ...(input.batchSize === undefined ? {} : { batchSize: input.batchSize }),
          onProgress: (p) => input.onProgress?.(p.bytes),
        },
        this.actor,
      )
      .finally(() => source.destroy());
  }
  async close(): Promise<void> {
    this.services.stop();
    await this.audit.close();
    await this.db.close();
  }
}
