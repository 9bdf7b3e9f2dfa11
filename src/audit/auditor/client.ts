import { AuditError } from '../errors.js';
import type { ConsistencyProof, EntriesPage, InclusionProof } from '../reader.js';

/**
 * The auditor's view of a log's HTTP API (GET /log/*). Nothing it returns is trusted: callers
 * verify signatures, hashes and proofs themselves.
 */
export class LogClient {
  readonly #base: string;

  constructor(
    url: string,
    private readonly timeoutMs = 30_000,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `--url: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `--url: ${parsed.protocol} is not http(s)`);
    this.#base = parsed.toString().replace(/\/+$/, '');
  }

  get url(): string {
    return this.#base;
  }

  async checkpoint(): Promise<Buffer> {
    return this.#get('/log/checkpoint', (res) => res.arrayBuffer().then((b) => Buffer.from(b)));
  }

  async verifierKey(): Promise<string> {
    return (await this.#get('/log/key', (res) => res.text())).trim();
  }

  async entries(start: number, end: number): Promise<EntriesPage> {
    return this.#get(`/log/entries?start=${start}&end=${end}`, (res) => res.json() as Promise<EntriesPage>);
  }

  async inclusionByIndex(index: number, size: number): Promise<InclusionProof> {
    return this.#get(`/log/proof/inclusion?index=${index}&size=${size}`, (res) => res.json() as Promise<InclusionProof>);
  }

  async inclusionByLeafHash(leafHash: string, size: number): Promise<InclusionProof> {
    return this.#get(`/log/proof/inclusion?leafHash=${leafHash}&size=${size}`, (res) => res.json() as Promise<InclusionProof>);
  }

  async consistency(from: number, to: number): Promise<ConsistencyProof> {
    return this.#get(`/log/proof/consistency?from=${from}&to=${to}`, (res) => res.json() as Promise<ConsistencyProof>);
  }

  async #get<T>(path: string, read: (res: Response) => Promise<T>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `GET ${this.#base}${path}: ${(error as Error).message}`, { cause: error });
    }
    if (!res.ok) {
      let detail = '';
      try {
        const problem = (await res.json()) as { detail?: string; code?: string };
        detail = `: ${problem.code ?? ''} ${problem.detail ?? ''}`.trimEnd();
      } catch {
        /* not a problem document */
      }
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `GET ${this.#base}${path}: HTTP ${res.status}${detail}`, {
        detail: { status: res.status },
      });
    }
    try {
      return await read(res);
    } catch (error) {
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `GET ${this.#base}${path}: unreadable answer (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
}
