import { buildOcspRequest } from '../../ca/ocsp-request.js';
import { parseCertificate } from '../../verify/certificate.js';
import { parseCrl, type Crl } from '../../verify/crl.js';
import { parseOcspResponse } from '../../verify/ocsp.js';
import { normalizeSerial } from '../../verify/revocation.js';
import { decodeEntry } from '../entry.js';
import { AuditError } from '../errors.js';
import type { CopiedEntry } from './copy.js';
import { ReplayState, type LoggedSubmission } from './replay-state.js';
import { verifyLog, type VerifyLogOptions, type VerifyResult } from './verify.js';

/**
 * `chancery audit replay`: verify the log, rebuild from its entries alone what the service must
 * say (replay-state.ts), then ask the service — its API, OCSP, the CRL each certificate names,
 * the public revoked list — and name the first divergence of each kind with the log index that
 * says otherwise. Lists are read page by page; nothing the service says goes into the state.
 */

export type DivergenceKind =
  | 'submission-status'
  | 'submission-history'
  | 'submission-steps'
  | 'submission-list'
  | 'certificate-api'
  | 'certificate-ocsp'
  | 'certificate-crl'
  | 'enterprise-status'
  | 'revoked-list';

export interface Divergence {
  kind: DivergenceKind;
  subject: string;
  /** The entry that says otherwise; null when the service shows something the log never said. */
  logIndex: number | null;
  log: string;
  served: string;
}

export interface ReplayResult {
  ok: boolean;
  verify: VerifyResult;
  compared: { submissions: number; certificates: number; enterprises: number; listed: number };
  /** Per kind: how many, and the first (in log order of the subjects). */
  divergences: Partial<Record<DivergenceKind, { count: number; first: Divergence }>>;
  /** What was not compared, and why (no credential for the API, an unreadable answer). */
  skipped: string[];
}

/** Verifies the log and rebuilds the state its entries say, in one pass over the entries. */
export async function replayLog(options: VerifyLogOptions): Promise<{ verify: VerifyResult; state: ReplayState }> {
  const state = new ReplayState();
  async function* feed(): AsyncGenerator<Iterable<CopiedEntry | undefined>> {
    for await (const batch of options.source) {
      const list = [...batch];
      for (const e of list) {
        if (e === undefined) continue;
        const decoded = decodeEntry(e.bytes);
        if (decoded.ok) state.ingest(decoded.entry);
      }
      yield list;
    }
  }
  const verify = await verifyLog({ ...options, source: feed() });
  return { verify, state };
}

export interface ServedOptions {
  url: string;
  /**
   * The Authorization header of an auditor (or admin) login, asked for before each request so a
   * comparison that outlasts a token can renew it: without it the API is not compared, only OCSP,
   * CRLs and the revoked list.
   */
  authorization?: () => Promise<string>;
  /** Requests in flight at once, default 8. */
  concurrency?: number;
  /** Page size for lists, default 100. */
  pageSize?: number;
  onProgress?: (done: number, total: number) => void;
}

const SUBMISSION_STATUSES = ['rejected', 'accepted', 'pending', 'approved', 'refused'];

/** Compares the rebuilt state with what the service at `url` serves. */
export async function compareWithService(state: ReplayState, verify: VerifyResult, options: ServedOptions): Promise<ReplayResult> {
  const http = new Served(options.url, options.authorization);
  const limit = options.concurrency ?? 8;
  const pageSize = options.pageSize ?? 100;
  const found: Divergence[] = [];
  const skipped: string[] = [];
  const diverge = (d: Divergence): void => void found.push(d);
  const total = state.submissions.size + state.certificates.size + state.enterprises.size;
  let done = 0;
  const tick = (): void => options.onProgress?.(++done, total);
  let listed = 0;

  // Submissions: each one's view, then every list page by status.
  if (options.authorization === undefined) {
    skipped.push('submissions and per-certificate/enterprise API views: no --credential (an auditor login) was given');
    done += state.submissions.size;
  } else {
    await pool([...state.submissions.values()], limit, async (s) => {
      await compareSubmission(http, s, diverge);
      tick();
    });
    for (const status of SUBMISSION_STATUSES) {
      const pages = refusalAware(
        http.pages<{ id: string; status: string }>(`/api/v1/submissions?status=${status}`, pageSize, (i) => i.id),
        (r) =>
          diverge({
            kind: 'submission-list',
            subject: `list:?status=${status}`,
            logIndex: null,
            log: 'every row as logged',
            served: r.served,
          }),
      );
      for await (const page of pages) {
        for (const item of page) {
          listed++;
          const logged = state.submissions.get(item.id);
          if (logged === undefined) {
            diverge({
              kind: 'submission-list',
              subject: `submission:${item.id}`,
              logIndex: null,
              log: 'no entry',
              served: `listed as ${status}`,
            });
          } else if (logged.status !== status) {
            diverge({
              kind: 'submission-list',
              subject: `submission:${item.id}`,
              logIndex: logged.index,
              log: logged.status,
              served: `listed under ?status=${status}`,
            });
          }
        }
      }
    }
  }

  // Certificates: OCSP (with a nonce: never a cached answer), the CRL its distribution point names, the API.
  const issuer = await http.bytes('/ca/issuing.cer');
  await pool([...state.certificates.values()], limit, async (c) => {
    const subject = `certificate:${c.serial}`;
    const logSays = c.revoked === undefined ? 'good' : 'revoked';
    const logIndex = c.revoked?.index ?? c.issuedIndex;
    let crlPath = '/ca/issuing.crl';
    if (options.authorization !== undefined) {
      let view: { status: string; sha256: string; pem: string } | undefined | ServedRefusal;
      try {
        view = await http.json<{ status: string; sha256: string; pem: string }>(`/api/v1/certificates/${c.serial}`);
      } catch (error) {
        if (!(error instanceof ServedRefusal)) throw error;
        view = error;
      }
      if (view instanceof ServedRefusal) {
        diverge({ kind: 'certificate-api', subject, logIndex, log: logSays, served: view.served });
      } else if (view === undefined) {
        diverge({ kind: 'certificate-api', subject, logIndex, log: logSays, served: 'not found' });
      } else {
        const served = view.status === 'expired' ? 'good' : view.status;
        if (served !== logSays) diverge({ kind: 'certificate-api', subject, logIndex, log: logSays, served: view.status });
        if (c.certificateSha256 !== undefined && view.sha256 !== c.certificateSha256) {
          diverge({
            kind: 'certificate-api',
            subject,
            logIndex: c.issuedIndex,
            log: `sha256 ${c.certificateSha256}`,
            served: `sha256 ${view.sha256}`,
          });
        }
        crlPath = crlPathOf(view.pem) ?? crlPath;
      }
    }
    const ocsp = await http.ocsp(issuer, c.serial);
    if (ocsp !== logSays) diverge({ kind: 'certificate-ocsp', subject, logIndex, log: logSays, served: ocsp });
    const crl = await http.crl(crlPath);
    const listedOnCrl = crl.entries.has(serialKey(c.serial));
    if (listedOnCrl !== (c.revoked !== undefined)) {
      diverge({
        kind: 'certificate-crl',
        subject,
        logIndex,
        log: logSays,
        served: `${listedOnCrl ? 'on' : 'not on'} ${crlPath} (CRL ${crl.crlNumber ?? '?'})`,
      });
    }
    tick();
  });

  // Enterprises: the public revoked list, page by page, both ways; each one's view with a credential.
  const revokedServed = new Set<string>();
  let revokedListRefused: ServedRefusal | undefined;
  const revokedPages = refusalAware(
    http.pages<{ uscc: string }>('/api/v1/enterprises?status=revoked', pageSize, (e) => e.uscc),
    (r) => {
      revokedListRefused = r;
    },
  );
  for await (const page of revokedPages) {
    for (const e of page) revokedServed.add(e.uscc);
  }
  await pool([...state.enterprises.values()], limit, async (e) => {
    const subject = `enterprise:${e.uscc}`;
    if ((e.status === 'revoked') !== revokedServed.has(e.uscc)) {
      diverge({
        kind: 'revoked-list',
        subject,
        logIndex: e.index,
        log: e.status,
        served:
          revokedListRefused !== undefined
            ? `the list was refused before it reached it: ${revokedListRefused.served}`
            : revokedServed.has(e.uscc)
              ? 'on the revoked list'
              : 'not on the revoked list',
      });
    }
    if (options.authorization !== undefined) {
      try {
        const view = await http.json<{ status: string }>(`/api/v1/enterprises/${e.uscc}`);
        if (view?.status !== e.status)
          diverge({ kind: 'enterprise-status', subject, logIndex: e.index, log: e.status, served: view?.status ?? 'not found' });
      } catch (error) {
        if (!(error instanceof ServedRefusal)) throw error;
        diverge({ kind: 'enterprise-status', subject, logIndex: e.index, log: e.status, served: error.served });
      }
    }
    tick();
  });
  for (const uscc of revokedServed) {
    if (!state.enterprises.has(uscc))
      diverge({ kind: 'revoked-list', subject: `enterprise:${uscc}`, logIndex: null, log: 'no entry', served: 'on the revoked list' });
  }

  const divergences: ReplayResult['divergences'] = {};
  // "First" is by log index (null — never logged — last), so the answer does not depend on request order.
  found.sort((a, b) => (a.logIndex ?? Number.MAX_SAFE_INTEGER) - (b.logIndex ?? Number.MAX_SAFE_INTEGER));
  for (const d of found) {
    const slot = divergences[d.kind];
    if (slot === undefined) divergences[d.kind] = { count: 1, first: d };
    else slot.count++;
  }
  return {
    ok: verify.ok && found.length === 0,
    verify,
    compared: {
      submissions: options.authorization === undefined ? 0 : state.submissions.size,
      certificates: state.certificates.size,
      enterprises: state.enterprises.size,
      listed,
    },
    divergences,
    skipped,
  };
}

interface ServedSubmission {
  status: string;
  history: Array<{ kind: string; status: string; logIndex: number }>;
  approval: {
    steps: Array<{
      index: number;
      countersignature: { officerId: string; certificateSerial: string; decision: string; reason?: string; logIndex: number } | null;
    }>;
  };
}

async function compareSubmission(http: Served, s: LoggedSubmission, diverge: (d: Divergence) => void): Promise<void> {
  const subject = `submission:${s.id}`;
  let view: ServedSubmission | undefined;
  try {
    view = await http.json<ServedSubmission>(`/api/v1/submissions/${encodeURIComponent(s.id)}`);
  } catch (error) {
    if (!(error instanceof ServedRefusal)) throw error;
    return diverge({ kind: 'submission-status', subject, logIndex: s.index, log: s.status, served: error.served });
  }
  if (view === undefined) return diverge({ kind: 'submission-status', subject, logIndex: s.index, log: s.status, served: 'not found' });
  if (view.status !== s.status) diverge({ kind: 'submission-status', subject, logIndex: s.index, log: s.status, served: view.status });
  const history = view.history ?? [];
  const at = s.transitions.findIndex(
    (t, i) => history[i]?.logIndex !== t.index || history[i]?.kind !== t.kind || history[i]?.status !== t.status,
  );
  if (at >= 0 || history.length !== s.transitions.length) {
    const t = s.transitions[at >= 0 ? at : Math.min(history.length, s.transitions.length - 1)]!;
    const h = history[at >= 0 ? at : s.transitions.length];
    diverge({
      kind: 'submission-history',
      subject,
      logIndex: t.index,
      log: `${s.transitions.length} transitions; ${t.kind} → ${t.status} at ${t.index}`,
      served: `${history.length} transitions; ${h === undefined ? 'none' : `${h.kind} → ${h.status} at ${h.logIndex}`}`,
    });
  }
  const served = new Map<number, NonNullable<ServedSubmission['approval']['steps'][number]['countersignature']>>();
  for (const step of view.approval?.steps ?? []) if (step.countersignature !== null) served.set(step.index, step.countersignature);
  for (const step of new Set([...s.steps.keys(), ...served.keys()])) {
    const l = s.steps.get(step);
    const v = served.get(step);
    const logText =
      l === undefined
        ? `step ${step} not signed`
        : `step ${step} ${l.decision} by ${l.officer} (${l.certificateSerial})${reasonText(l.reason)}`;
    const servedText =
      v === undefined
        ? `step ${step} not signed`
        : `step ${step} ${v.decision} by ${v.officerId} (${v.certificateSerial})${reasonText(v.reason)}`;
    if (logText !== servedText || (l !== undefined && v !== undefined && l.index !== v.logIndex)) {
      diverge({ kind: 'submission-steps', subject, logIndex: l?.index ?? s.index, log: logText, served: servedText });
    }
  }
}

function reasonText(reason: string | undefined): string {
  return reason === undefined ? '' : `, reason ${JSON.stringify(reason)}`;
}

function crlPathOf(pem: string): string | undefined {
  try {
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    for (const dp of parseCertificate(der).crlDistributionPoints ?? []) {
      for (const name of dp.distributionPoint?.fullName ?? []) {
        if (name.type === 'uri') return new URL(name.value).pathname;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A logged serial (unsigned hex, as the CA names it) as src/verify keys the INTEGER it is encoded as. */
function serialKey(hex: string): string {
  const h = normalizeSerial(hex);
  return Number.parseInt(h.slice(0, 2), 16) >= 0x80 ? `00${h}` : h;
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The service's HTTP answers, read as an outsider would (fetch, no server code). */
class Served {
  readonly #base: string;
  readonly #authorization: (() => Promise<string>) | undefined;
  readonly #crls = new Map<string, Promise<Crl>>();

  constructor(url: string, authorization: (() => Promise<string>) | undefined) {
    this.#base = url.replace(/\/+$/, '');
    this.#authorization = authorization;
  }

  async #get(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      const auth: Record<string, string> = this.#authorization === undefined ? {} : { authorization: await this.#authorization() };
      return await fetch(`${this.#base}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
    } catch (error) {
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `${init.method ?? 'GET'} ${this.#base}${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * A JSON answer, or undefined on 404. The service's own refusal of a row that disagrees with
   * the log (409 ERR_STATE_DIVERGES_FROM_LOG) is a ServedRefusal: a divergence it caught itself,
   * which the comparison reports. Other failures throw.
   */
  async json<T>(path: string): Promise<T | undefined> {
    const res = await this.#get(path);
    if (res.status === 404) return undefined;
    if (res.status === 409) {
      const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
      if (problem.code === STATE_DIVERGES) throw new ServedRefusal(problem.detail ?? STATE_DIVERGES);
    }
    if (!res.ok) throw new AuditError('ERR_AUDIT_FETCH_FAILED', `GET ${this.#base}${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  async bytes(path: string): Promise<Buffer> {
    const res = await this.#get(path);
    if (!res.ok) throw new AuditError('ERR_AUDIT_FETCH_FAILED', `GET ${this.#base}${path}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** A list, page by page (`?after=<cursor>&limit=`), never all at once. */
  async *pages<T>(path: string, pageSize: number, cursorOf: (item: T) => string): AsyncGenerator<T[]> {
    let after: string | undefined;
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.json<{ items: T[]; next: string | null }>(
        `${path}${sep}limit=${pageSize}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`,
      );
      const items = page?.items ?? [];
      if (items.length > 0) yield items;
      const next = page?.next ?? null;
      if (items.length === 0 || next === null || next === after) return;
      after = next ?? cursorOf(items[items.length - 1]!);
    }
  }

  async ocsp(issuer: Buffer, serial: string): Promise<string> {
    const res = await this.#get('/ocsp', {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: buildOcspRequest(issuer, serial, { nonce: true }),
    });
    if (!res.ok) return `HTTP ${res.status}`;
    try {
      const answer = parseOcspResponse(Buffer.from(await res.arrayBuffer()));
      return answer.responses.find((r) => r.serialNumberHex === serialKey(serial))?.status ?? 'no answer for the serial';
    } catch (error) {
      return `unreadable (${(error as Error).message})`;
    }
  }

  crl(path: string): Promise<Crl> {
    let crl = this.#crls.get(path);
    if (crl === undefined) this.#crls.set(path, (crl = this.bytes(path).then((der) => parseCrl(der))));
    return crl;
  }
}

const STATE_DIVERGES = 'ERR_STATE_DIVERGES_FROM_LOG';

/** The service refused to serve a row because it disagrees with the log: a divergence it caught itself. */
class ServedRefusal extends Error {
  readonly served: string;
  constructor(detail: string) {
    super(detail);
    this.served = `refused by the service (${STATE_DIVERGES}): ${detail.slice(0, 300)}`;
  }
}

/** Pages until the end or until the service refuses one (told to `onRefusal`, which ends the listing). */
async function* refusalAware<T>(pages: AsyncGenerator<T[]>, onRefusal: (r: ServedRefusal) => void): AsyncGenerator<T[]> {
  try {
    for await (const page of pages) yield page;
  } catch (error) {
    if (!(error instanceof ServedRefusal)) throw error;
    onRefusal(error);
  }
}
