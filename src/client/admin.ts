import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateInfo } from '../ca/authority.js';
import { pemDecodeAll } from '../der/pem.js';
import { signerFromPem } from '../crypto/private-key-file.js';
import { ChanceryError } from '../errors.js';
import type { Enterprise, Officer } from '../registry/types.js';
import { ClientError, fetchService, unreachable } from './errors.js';
import { loginOverHttp } from './login.js';

/**
 * What the registry and certificate commands need from Chancery, reached either over HTTP (a
 * running service, logging in with the admin credential through challenge and token: this
 * module) or directly on a data dir whose database no server holds (the composition root's
 * direct client). Both behave the same: same checks, same audit
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
  issuePkcs12(input: {
    profile: string;
    uscc?: string;
    officerId?: string;
    name?: string;
    keyAlgorithm?: string;
  }): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }>;
  getCertificate(serial: string): Promise<CertificateInfo>;
  revokeCertificate(serial: string, reason: string | undefined): Promise<CertificateInfo>;
  /** The CA chain (issuing CA + root) as PEM. */
  chainPem(): Promise<string>;
  close(): Promise<void>;
}

/** Where the CLI looks for a service when no --url is given. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Reads a credential directory: admin.key.pem + admin.cert.pem (or key.pem + cert.pem). */
export function readCredential(dir: string): { keyPem: Buffer; certificates: Buffer[] } {
  for (const [key, cert] of [
    ['admin.key.pem', 'admin.cert.pem'],
    ['key.pem', 'cert.pem'],
  ] as const) {
    if (existsSync(join(dir, key)) && existsSync(join(dir, cert))) {
      const certificates = pemDecodeAll(readFileSync(join(dir, cert), 'utf8'), ['CERTIFICATE']);
      if (certificates === undefined || certificates.length === 0)
        throw new ClientError('ERR_CLIENT_CREDENTIAL', `${join(dir, cert)} holds no certificate`);
      return { keyPem: readFileSync(join(dir, key)), certificates };
    }
  }
  throw new ClientError(
    'ERR_CLIENT_CREDENTIAL',
    `no credential in ${dir}: expected admin.key.pem and admin.cert.pem (give --credential DIR, or --data-dir of the service)`,
  );
}

/** AdminClient over a running service's HTTP API, logged in with an admin credential. */
export class HttpAdminClient implements AdminClient {
  private constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  static async login(url: string, credentialDir: string): Promise<HttpAdminClient> {
    const { keyPem, certificates } = readCredential(credentialDir);
    const base = url.replace(/\/+$/, '');
    try {
      const { token } = await loginOverHttp(base, signerFromPem('credential', keyPem), certificates);
      return new HttpAdminClient(base, token);
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
      throw unreachable(this.url, error);
    }
    const text = await res.text();
    if (!res.ok) {
      let problem: { code?: string; detail?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        /* not a problem document */
      }
      throw new ChanceryError(problem.code ?? 'ERR_CLIENT_HTTP', problem.detail ?? `${method} ${path}: HTTP ${res.status}`, {
        detail: { status: res.status },
      });
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
  async issuePkcs12(
    input: Parameters<AdminClient['issuePkcs12']>[0],
  ): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }> {
    const r = await this.call<{ certificate: CertificateInfo; pkcs12: string; password: string }>(
      'POST',
      '/api/v1/certificates/pkcs12',
      input,
    );
    return { certificate: r.certificate, pkcs12: Buffer.from(r.pkcs12, 'base64'), password: r.password };
  }
  getCertificate(serial: string): Promise<CertificateInfo> {
    return this.call('GET', `/api/v1/certificates/${encodeURIComponent(serial)}`);
  }
  revokeCertificate(serial: string, reason: string | undefined): Promise<CertificateInfo> {
    return this.call('POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, reason === undefined ? {} : { reason });
  }
  async chainPem(): Promise<string> {
    const res = await fetchService(`${this.url}/ca/chain.pem`);
    if (!res.ok) throw new ClientError('ERR_CLIENT_HTTP', `GET /ca/chain.pem: HTTP ${res.status}`);
    return res.text();
  }
  async close(): Promise<void> {}
}

function asChanceryError(error: unknown, context: string): ChanceryError {
  if (error instanceof ChanceryError) return error;
  const e = error as Error & { code?: string };
  return new ChanceryError(
    typeof e.code === 'string' && e.code.startsWith('ERR_') ? e.code : 'ERR_CLIENT_LOGIN',
    `${context}: ${e.message}`,
    { cause: error },
  );
}
