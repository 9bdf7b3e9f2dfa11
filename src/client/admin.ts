import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateInfo } from '../ca/authority.js';
import { pemDecodeAll } from '../der/pem.js';
import { signerFromPem } from '../crypto/private-key-file.js';
import { ChanceryError } from '../errors.js';
import type { ImportFormat, ImportReport } from '../registry/import.js';
import type { Enterprise, Officer } from '../registry/types.js';
import { ClientError, fetchService, unreachable } from './errors.js';
import { loginOverHttp, RenewingLogin } from './login.js';

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
  /** Bulk import of a registry file (src/registry/import.ts says what commits when). */
  importEnterprises(input: EnterpriseImport): Promise<ImportReport>;
  close(): Promise<void>;
}

export interface EnterpriseImport {
  path: string;
  format: ImportFormat;
  fromLine?: number;
  checkOnly?: boolean;
  batchSize?: number;
  /** Over HTTP: lines per request (default: adapted so that each request takes about PART_SECONDS). */
  partLines?: number;
  /** Bytes of the file read so far (for a progress bar). */
  onProgress?: (bytes: number) => void;
}

/**
 * Import requests over HTTP: the first carries IMPORT_PART_LINES lines, later ones are sized from
 * the rate seen so far to take about PART_SECONDS each, within [1,000, 200,000] lines, so that no
 * request nears the server's request timeout (60 s) however loaded the service is.
 */
export const IMPORT_PART_LINES = 10_000;
const PART_SECONDS = 15;

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

/** AdminClient over a running service's HTTP API, logged in with an admin credential (renewed as it nears expiry). */
export class HttpAdminClient implements AdminClient {
  private constructor(
    private readonly url: string,
    private readonly session: RenewingLogin,
  ) {}

  static async login(url: string, credentialDir: string): Promise<HttpAdminClient> {
    const { keyPem, certificates } = readCredential(credentialDir);
    const base = url.replace(/\/+$/, '');
    const signer = signerFromPem('credential', keyPem);
    const session = await RenewingLogin.start(async () => {
      try {
        return await loginOverHttp(base, signer, certificates);
      } catch (error) {
        throw asChanceryError(error, `cannot log in to ${base}`);
      }
    });
    return new HttpAdminClient(base, session);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const authorization = await this.session.authorization();
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
  /**
   * Sends the file in parts of IMPORT_PART_LINES lines (CSV parts repeat the header), each
   * naming its first line, so line numbers and resuming refer to the whole file. Stops at the
   * first part the service refuses (with checkOnly: goes on and collects every bad line).
   */
  async importEnterprises(input: EnterpriseImport): Promise<ImportReport> {
    let total: ImportReport | undefined;
    let header: Buffer | undefined;
    const size = { lines: input.partLines ?? IMPORT_PART_LINES };
    for await (const part of fileParts(input.path, size)) {
      const sent = performance.now();
      let body = part.bytes;
      let firstRecordLine = part.firstLine;
      if (input.format === 'csv') {
        if (header === undefined) {
          const nl = body.indexOf(10);
          header = Buffer.from(nl < 0 ? body : body.subarray(0, nl + 1));
          firstRecordLine = 2;
        } else {
          body = Buffer.concat([header, body]);
        }
      }
      if (input.fromLine !== undefined && part.lastLine < input.fromLine && part.firstLine > 1) {
        input.onProgress?.(part.endOffset);
        continue;
      }
      const params = new URLSearchParams({ line: String(firstRecordLine) });
      if (input.fromLine !== undefined) params.set('fromLine', String(input.fromLine));
      if (input.checkOnly === true) params.set('check', 'true');
      if (input.batchSize !== undefined) params.set('batch', String(input.batchSize));
      const authorization = await this.session.authorization();
      let res: Response;
      try {
        res = await fetch(`${this.url}/api/v1/enterprises/import?${params}`, {
          method: 'POST',
          headers: { authorization, 'content-type': input.format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
          body,
        });
      } catch (error) {
        throw new ClientError('ERR_CLIENT_UNREACHABLE', `cannot reach ${this.url}: ${(error as Error).message}`, { cause: error });
      }
      const text = await res.text();
      let doc: ImportReport & { code?: string; detail?: string };
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch {
        throw new ClientError('ERR_CLIENT_HTTP', `POST /api/v1/enterprises/import: HTTP ${res.status}`);
      }
      if (!res.ok && doc.imported === undefined) {
        throw new ChanceryError(doc.code ?? 'ERR_CLIENT_HTTP', doc.detail ?? `POST /api/v1/enterprises/import: HTTP ${res.status}`, {
          detail: { status: res.status },
        });
      }
      total = total === undefined ? reportOf(doc) : mergeReports(total, reportOf(doc));
      if (input.partLines === undefined) {
        const seconds = Math.max(0.05, (performance.now() - sent) / 1000);
        const lines = part.lastLine - part.firstLine + 1;
        size.lines = Math.round(Math.min(200_000, Math.max(1000, (lines * PART_SECONDS) / seconds, size.lines / 2), size.lines * 4));
      }
      input.onProgress?.(part.endOffset);
      if (!res.ok && input.checkOnly !== true) break;
    }
    return total ?? (await this.#emptyReport(input));
  }

  /** The report of an empty file, from the service (it decides what an empty input means). */
  async #emptyReport(input: EnterpriseImport): Promise<ImportReport> {
    const res = await fetch(`${this.url}/api/v1/enterprises/import`, {
      method: 'POST',
      headers: {
        authorization: await this.session.authorization(),
        'content-type': input.format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      },
      body: '',
    });
    return reportOf((await res.json()) as ImportReport);
  }

  async close(): Promise<void> {}
}

/** The report members of a report or of a problem document carrying one. */
function reportOf(doc: ImportReport): ImportReport {
  return {
    format: doc.format,
    complete: doc.complete,
    checkOnly: doc.checkOnly,
    imported: doc.imported,
    revoked: doc.revoked,
    deregistered: doc.deregistered,
    valid: doc.valid,
    lines: doc.lines,
    bytes: doc.bytes,
    batches: doc.batches,
    committedThroughLine: doc.committedThroughLine,
    resumeFromLine: doc.resumeFromLine,
    errors: doc.errors,
    errorsTruncated: doc.errorsTruncated,
    tooLargeAtLine: doc.tooLargeAtLine,
    elapsedMs: doc.elapsedMs,
    perSecond: doc.perSecond,
  };
}

function mergeReports(a: ImportReport, b: ImportReport): ImportReport {
  const elapsedMs = a.elapsedMs + b.elapsedMs;
  const imported = a.imported + b.imported;
  return {
    ...b,
    complete: a.complete && b.complete,
    imported,
    revoked: a.revoked + b.revoked,
    deregistered: a.deregistered + b.deregistered,
    valid: a.valid + b.valid,
    bytes: a.bytes + b.bytes,
    batches: a.batches + b.batches,
    committedThroughLine: b.committedThroughLine ?? a.committedThroughLine,
    resumeFromLine: a.resumeFromLine ?? b.resumeFromLine,
    errors: [...a.errors, ...b.errors].slice(0, 1000),
    errorsTruncated: a.errorsTruncated || b.errorsTruncated || a.errors.length + b.errors.length > 1000,
    tooLargeAtLine: a.tooLargeAtLine ?? b.tooLargeAtLine,
    elapsedMs,
    perSecond: elapsedMs > 0 ? Math.round((imported * 1000) / elapsedMs) : 0,
  };
}

/**
 * A file in parts of at most `size.lines` lines (read anew for each part), each cut after a line feed: its bytes, the numbers
 * of its first and last line, and the file offset where it ends. One part is held at a time.
 */
async function* fileParts(
  path: string,
  size: { lines: number },
): AsyncGenerator<{ bytes: Buffer; firstLine: number; lastLine: number; endOffset: number }> {
  let held: Buffer[] = [];
  let heldLength = 0;
  let count = 0;
  let firstLine = 1;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, nl + 1)) {
      if (++count < size.lines) continue;
      held.push(chunk.subarray(start, nl + 1));
      heldLength += nl + 1 - start;
      offset += heldLength;
      yield { bytes: Buffer.concat(held, heldLength), firstLine, lastLine: firstLine + count - 1, endOffset: offset };
      firstLine += count;
      held = [];
      heldLength = 0;
      count = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      held.push(chunk.subarray(start));
      heldLength += chunk.length - start;
    }
  }
  if (heldLength > 0) {
    const bytes = Buffer.concat(held, heldLength);
    offset += heldLength;
    yield { bytes, firstLine, lastLine: firstLine + count - (bytes[bytes.length - 1] === 10 ? 1 : 0), endOffset: offset };
  }
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
