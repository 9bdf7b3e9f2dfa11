import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditPart } from '../audit/open.js';
import { loginOverHttp } from '../auth/login-client.js';
import type { CertificateInfo } from '../ca/authority.js';
import { readCertificateFields } from '../ca/certificate-fields.js';
import { pemDecodeAll } from '../ca/pem.js';
import type { CertificateServices } from '../ca/services.js';
import { loadConfig } from '../config.js';
import { FileKeyStore, resolveKeyPassphrase } from '../crypto/key-store.js';
import { signerFromPem } from '../crypto/private-key-file.js';
import { ChanceryError } from '../errors.js';
import type { Database } from '../db/types.js';
import { createLogger } from '../log.js';
import type { Enterprise, Officer } from '../registry/types.js';
import { CliError } from './errors.js';

/**
 * What the registry and certificate commands need from Chancery, reached either over HTTP (a
 * running service, logging in with the admin credential through challenge and token) or directly
 * on a data dir whose database no server holds. Both behave the same: same checks, same audit
 * entries, same errors (codes come back from the service's problem documents).
 */
export interface AdminClient {
  registerEnterprise(input: { uscc: string; name: string; overrideCheck?: boolean }): Promise<Enterprise>;
  getEnterprise(uscc: string): Promise<Enterprise>;
  listEnterprises(query: { status?: string; after?: string; limit?: string }): Promise<{ items: Enterprise[]; next: string | null }>;
  revokeEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
  deregisterEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }>;
  registerOfficer(input: { id: string; name: string; authority?: string; role: string; jurisdiction: string }): Promise<Officer>;
  issue(input: { profile: string; csr: string; uscc?: string; officerId?: string; name?: string }): Promise<CertificateInfo>;
  issuePkcs12(input: { profile: string; uscc?: string; officerId?: string; name?: string; keyAlgorithm?: string }): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }>;
  getCertificate(serial: string): Promise<CertificateInfo>;
  revokeCertificate(serial: string, reason: string | undefined): Promise<CertificateInfo>;
  /** The CA chain (issuing CA + root) as PEM. */
  chainPem(): Promise<string>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  url?: string;
  dataDir?: string;
  credential?: string;
  databaseUrl?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/**
 * `--url` given: that service. `--data-dir` given without `--url`: the data dir directly (its
 * embedded database must not be held by a running server; with DATABASE_URL, that database).
 * Neither: the service at http://127.0.0.1:8080 with the credential of ./data/admin.
 */
export async function connect(options: ConnectionOptions): Promise<AdminClient> {
  if (options.url === undefined && options.dataDir !== undefined) return DirectClient.open(options.dataDir, options.databaseUrl);
  const config = loadConfig(process.env, { dataDir: options.dataDir });
  const credential = options.credential ?? join(config.dataDir, 'admin');
  return HttpClient.login(options.url ?? DEFAULT_URL, credential);
}

/** Reads a credential directory: admin.key.pem + admin.cert.pem (or key.pem + cert.pem). */
export function readCredential(dir: string): { keyPem: Buffer; certificates: Buffer[] } {
  for (const [key, cert] of [
    ['admin.key.pem', 'admin.cert.pem'],
    ['key.pem', 'cert.pem'],
  ] as const) {
    if (existsSync(join(dir, key)) && existsSync(join(dir, cert))) {
      const certificates = pemDecodeAll(readFileSync(join(dir, cert), 'utf8'), ['CERTIFICATE']);
      if (certificates === undefined || certificates.length === 0) throw new CliError('ERR_CLI_CREDENTIAL', `${join(dir, cert)} holds no certificate`);
      return { keyPem: readFileSync(join(dir, key)), certificates };
    }
  }
  throw new CliError('ERR_CLI_CREDENTIAL', `no credential in ${dir}: expected admin.key.pem and admin.cert.pem (give --credential DIR, or --data-dir of the service)`);
}

class HttpClient implements AdminClient {
  private constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  static async login(url: string, credentialDir: string): Promise<HttpClient> {
    const { keyPem, certificates } = readCredential(credentialDir);
    const base = url.replace(/\/+$/, '');
    try {
      const { token } = await loginOverHttp(base, signerFromPem('credential', keyPem), certificates);
      return new HttpClient(base, token);
    } catch (error) {
      throw asChanceryError(error, `cannot log in to ${base}`);
    }
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError('ERR_CLI_UNREACHABLE', `cannot reach ${this.url}: ${(error as Error).message}`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) {
      let problem: { code?: string; detail?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        /* not a problem document */
      }
      throw new ChanceryError(problem.code ?? 'ERR_CLI_HTTP', problem.detail ?? `${method} ${path}: HTTP ${res.status}`, { detail: { status: res.status } });
    }
    return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
  }

  registerEnterprise(input: Parameters<AdminClient['registerEnterprise']>[0]): Promise<Enterprise> {
    return this.call('POST', '/api/v1/enterprises', input);
  }
  getEnterprise(uscc: string): Promise<Enterprise> {
    return this.call('GET', `/api/v1/enterprises/${encodeURIComponent(uscc)}`);
  }
  listEnterprises(query: { status?: string; after?: string; limit?: string }): Promise<{ items: Enterprise[]; next: string | null }> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.call('GET', `/api/v1/enterprises${params.size > 0 ? `?${params}` : ''}`);
  }
  revokeEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.call('POST', `/api/v1/enterprises/${encodeURIComponent(uscc)}/revoke`, reason === undefined ? {} : { reason });
  }
  deregisterEnterprise(uscc: string, reason: string | undefined): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.call('POST', `/api/v1/enterprises/${encodeURIComponent(uscc)}/deregister`, reason === undefined ? {} : { reason });
  }
  registerOfficer(input: Parameters<AdminClient['registerOfficer']>[0]): Promise<Officer> {
    return this.call('POST', '/api/v1/officers', input);
  }
  issue(input: Parameters<AdminClient['issue']>[0]): Promise<CertificateInfo> {
    return this.call('POST', '/api/v1/certificates', input);
  }
  async issuePkcs12(input: Parameters<AdminClient['issuePkcs12']>[0]): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }> {
    const r = await this.call<{ certificate: CertificateInfo; pkcs12: string; password: string }>('POST', '/api/v1/certificates/pkcs12', input);
    return { certificate: r.certificate, pkcs12: Buffer.from(r.pkcs12, 'base64'), password: r.password };
  }
  getCertificate(serial: string): Promise<CertificateInfo> {
    return this.call('GET', `/api/v1/certificates/${encodeURIComponent(serial)}`);
  }
  revokeCertificate(serial: string, reason: string | undefined): Promise<CertificateInfo> {
    return this.call('POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, reason === undefined ? {} : { reason });
  }
  async chainPem(): Promise<string> {
    const res = await fetch(`${this.url}/ca/chain.pem`);
    if (!res.ok) throw new CliError('ERR_CLI_HTTP', `GET /ca/chain.pem: HTTP ${res.status}`);
    return res.text();
  }
  async close(): Promise<void> {}
}

class DirectClient implements AdminClient {
  private constructor(
    private readonly db: Database,
    private readonly audit: AuditPart,
    private readonly services: CertificateServices,
    private readonly actor: string,
  ) {}

  static async open(dataDir: string, databaseUrl: string | undefined): Promise<DirectClient> {
    // Loaded here: commands that reach a service over HTTP never need the database, log or CA.
    const [{ openDatabase }, { migrate }, { openAudit }, { startCertificateServices }] = await Promise.all([
      import('../db/open.js'),
      import('../db/migrate.js'),
      import('../audit/open.js'),
      import('../ca/services.js'),
    ]);
    const config = loadConfig(process.env, { dataDir, databaseUrl, logLevel: process.env['LOG_LEVEL'] ?? 'warn' });
    const logger = createLogger(config.logLevel);
    const db = await openDatabase(config);
    let audit: AuditPart | undefined;
    try {
      await migrate(db);
      const keys = new FileKeyStore(join(config.dataDir, 'keys'), resolveKeyPassphrase(config.dataDir, config.keyPassphrase, (m) => logger.warn(m)));
      audit = await openAudit({ db, keyStore: keys, dataDir: config.dataDir, logger });
      const services = await startCertificateServices({
        db,
        audit: audit.log,
        keys,
        dataDir: config.dataDir,
        logger,
        baseUrl: () => config.publicUrl ?? `http://${config.host}:${config.port}`,
        initializeIfEmpty: false,
        crlRefreshIntervalMs: 0,
      });
      return new DirectClient(db, audit, services, `admin:${services.ca.hierarchy.admin.serial}`);
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
  issuePkcs12(input: Parameters<AdminClient['issuePkcs12']>[0]): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }> {
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
  async close(): Promise<void> {
    this.services.stop();
    await this.audit.close();
    await this.db.close();
  }
}

function asChanceryError(error: unknown, context: string): ChanceryError {
  if (error instanceof ChanceryError) return error;
  const e = error as Error & { code?: string };
  return new ChanceryError(typeof e.code === 'string' && e.code.startsWith('ERR_') ? e.code : 'ERR_CLI_LOGIN', `${context}: ${e.message}`, { cause: error });
}

/** The serial of a PEM certificate file (for messages). */
export function certificateSerialOf(pem: string): string | undefined {
  const der = pemDecodeAll(pem, ['CERTIFICATE'])?.[0];
  return der === undefined ? undefined : readCertificateFields(der).serial;
}
