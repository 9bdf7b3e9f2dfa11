import type { Signer } from '../crypto/signer.js';
import { ChanceryError } from '../errors.js';
import { CHANCERY_CRL_PATHS } from '../submissions/receipts.js';
import type { SubmissionSummary, SubmissionView } from '../submissions/types.js';
import { detectFormat } from '../verify/envelope.js';
import { unreachable } from './errors.js';
import { loginOverHttp } from './login.js';

/**
 * A small client of a running Chancery's API, for `chancery submit`, `chancery status` and
 * `chancery demo`: the submission routes, plus the JSON calls the demo makes as the operator.
 * A problem document becomes a ChanceryError carrying its code, HTTP status and members.
 */

export interface TransitionBody extends SubmissionSummary {
  existing?: true;
  receipt: string;
  logIndex: number;
}

/** A rejected submission's answer (422): the problem document with the record and the report. */
export interface RejectionBody {
  code: string;
  detail: string;
  submission: SubmissionSummary;
  receipt: string;
  logIndex: number;
  report: Record<string, unknown>;
}

export type SubmitOutcome = { kind: 'created' | 'existing'; body: TransitionBody } | { kind: 'rejected'; body: RejectionBody };

export class ChanceryClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  /** Logs in with a certificate (src/auth login) and returns a client carrying the token. */
  static async login(baseUrl: string, signer: Signer, chain: readonly Uint8Array[]): Promise<ChanceryClient> {
    try {
      const { token } = await loginOverHttp(baseUrl, signer, chain);
      return new ChanceryClient(baseUrl, token);
    } catch (error) {
      const e = error as Error & { code?: string; status?: number };
      if (e.code === 'ERR_CLIENT_UNREACHABLE') throw error;
      throw new ChanceryError(e.code ?? 'ERR_CLIENT_LOGIN', `login to ${baseUrl} failed: ${e.message}`, {
        cause: error,
        detail: { status: e.status },
      });
    }
  }

  /** A JSON call; a non-2xx answer throws. */
  async json<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(
      method,
      path,
      body === undefined ? undefined : { type: 'application/json', bytes: Buffer.from(JSON.stringify(body)) },
    );
    if (!res.ok) throw await problem(res, `${method} ${path}`);
    return (await res.json()) as T;
  }

  /**
   * Submits an envelope (with the document for a detached one, as the documented multipart
   * form). Resolves with the new or existing submission, or the rejection; other faults throw.
   */
  async submit(envelope: Uint8Array, content?: Uint8Array): Promise<SubmitOutcome> {
    let res: Response;
    if (content === undefined) {
      res = await this.fetch('POST', '/api/v1/submissions', { type: envelopeType(envelope), bytes: envelope });
    } else {
      const form = new FormData();
      form.append('envelope', new Blob([envelope], { type: envelopeType(envelope) }), 'envelope');
      form.append('content', new Blob([content], { type: 'application/json' }), 'document.json');
      res = await this.fetch('POST', '/api/v1/submissions', { form });
    }
    if (res.status === 201 || res.status === 200)
      return { kind: res.status === 201 ? 'created' : 'existing', body: (await res.json()) as TransitionBody };
    if (res.status === 422) {
      const body = (await res.json()) as RejectionBody & { submission?: SubmissionSummary };
      if (body.submission !== undefined) return { kind: 'rejected', body };
      throw problemOf(body as unknown as Record<string, unknown>, res.status, 'POST /api/v1/submissions');
    }
    throw await problem(res, 'POST /api/v1/submissions');
  }

  /** Uploads an envelope with the caller's countersignature added. */
  async countersign(id: string, envelope: Uint8Array): Promise<TransitionBody> {
    const path = `/api/v1/submissions/${encodeURIComponent(id)}/countersignatures`;
    const res = await this.fetch('POST', path, { type: envelopeType(envelope), bytes: envelope });
    if (!res.ok) throw await problem(res, `POST ${path}`);
    return (await res.json()) as TransitionBody;
  }

  status(id: string): Promise<SubmissionView> {
    return this.json<SubmissionView>('GET', `/api/v1/submissions/${encodeURIComponent(id)}`);
  }

  list(query: { status?: string; after?: string; limit?: number } = {}): Promise<{ items: SubmissionSummary[]; next: string | null }> {
    const q = new URLSearchParams(
      Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.json('GET', `/api/v1/submissions${q.size === 0 ? '' : `?${q.toString()}`}`);
  }

  async envelope(id: string): Promise<Buffer> {
    return this.bytes(`/api/v1/submissions/${encodeURIComponent(id)}/envelope`);
  }

  async document(id: string): Promise<Buffer> {
    return this.bytes(`/api/v1/submissions/${encodeURIComponent(id)}/document`);
  }

  async receipt(id: string, logIndex?: number): Promise<string> {
    return (
      await this.bytes(`/api/v1/submissions/${encodeURIComponent(id)}/receipt${logIndex === undefined ? '' : `?index=${logIndex}`}`)
    ).toString('utf8');
  }

  /** The service's CRLs (issuing CA and root, DER), for `offlineChanceryRevocation`; a failed GET throws. */
  async caCrls(): Promise<Buffer[]> {
    return Promise.all(CHANCERY_CRL_PATHS.map((path) => this.bytes(path)));
  }

  /** A GET answering bytes. */
  async bytes(path: string): Promise<Buffer> {
    const res = await this.fetch('GET', path);
    if (!res.ok) throw await problem(res, `GET ${path}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async fetch(method: string, path: string, body?: { type: string; bytes: Uint8Array } | { form: FormData }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let payload: FormData | Blob | undefined;
    if (body !== undefined && 'form' in body) payload = body.form;
    else if (body !== undefined) {
      headers['content-type'] = body.type;
      payload = new Blob([body.bytes]);
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    } catch (error) {
      throw unreachable(this.baseUrl, error);
    }
  }
}

/** The content type of an envelope by its first bytes. */
export function envelopeType(envelope: Uint8Array): string {
  const format = detectFormat(envelope);
  if (format === 'cms') return 'application/cms';
  const first = Buffer.from(envelope.subarray(0, 64)).toString('latin1').trimStart();
  return first.startsWith('{') ? 'application/jose+json' : 'application/jose';
}

async function problem(res: Response, what: string): Promise<ChanceryError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return problemOf(body, res.status, what);
}

function problemOf(body: Record<string, unknown>, status: number, what: string): ChanceryError {
  const code = typeof body['code'] === 'string' ? body['code'] : 'ERR_CLIENT_HTTP';
  const detail = typeof body['detail'] === 'string' ? body['detail'] : `HTTP ${status}`;
  return new ChanceryError(code, `${what}: ${detail} (${code})`, { detail: { ...body, status } });
}
