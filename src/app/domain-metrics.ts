import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditKind, AuditLog } from '../audit/types.js';
import type { Hierarchy } from '../ca/hierarchy.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log.js';

/**
 * What an operator of the registry watches beside HTTP traffic: decisions by kind (submissions by
 * outcome, revocations, denials), login failures, the log's size and how far its checkpoint lags,
 * each CRL's age and time to nextUpdate, and days left on each certificate of the hierarchy.
 * Everything read at scrape time is a one-row (or one-row-per-CRL) indexed read, so a scrape costs
 * the same at any registry size.
 */
export interface DomainMetrics {
  /** The audit log to give the parts: counts each committed entry by kind. */
  countingLog(log: AuditLog): AuditLog;
  /** Counts a refused login by its problem code. */
  loginFailed(code: string): void;
  /** Counts an archive time-stamp of a checkpoint that could not be taken (retried at the next checkpoint). */
  archiveTimestampFailed(): void;
}

export function registerDomainMetrics(
  registry: Registry,
  deps: { db: Database; hierarchy: () => Hierarchy | undefined; logger: Logger; now?: () => Date },
): DomainMetrics {
  const now = deps.now ?? (() => new Date());
  const entries = new Counter({
    name: 'chancery_audit_entries_total',
    help: 'Decisions committed to the audit log by this process, by entry kind (submission.* by outcome, certificate.revoked, auth.denied, …)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const loginFailures = new Counter({
    name: 'chancery_login_failures_total',
    help: 'Refused logins (POST /api/v1/auth/token) by problem code',
    labelNames: ['code'],
    registers: [registry],
  });
  const archiveFailures = new Counter({
    name: 'chancery_archive_timestamp_failures_total',
    help: 'Archive time-stamps of a log checkpoint that failed (TSA unreachable or refusing, bad token); each is retried at the next checkpoint',
    registers: [registry],
  });
  // Read once per scrape, shared by the gauges below.
  let reading: Promise<Snapshot | undefined> | undefined;
  const snapshot = (): Promise<Snapshot | undefined> => {
    reading ??= readSnapshot(deps.db)
      .catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'metrics: cannot read the log and CRL state');
        return undefined;
      })
      .finally(() => setTimeout(() => (reading = undefined), 0).unref());
    return reading;
  };
  new Gauge({
    name: 'chancery_log_entries',
    help: 'Entries in the audit log (the tree head)',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      if (s !== undefined) this.set(s.treeSize);
    },
  });
  new Gauge({
    name: 'chancery_log_unsigned_entries',
    help: 'Entries not yet covered by a signed checkpoint (should fall to 0 within about a second)',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      if (s !== undefined) this.set(s.treeSize - (s.checkpoint?.size ?? 0));
    },
  });
  new Gauge({
    name: 'chancery_log_checkpoint_age_seconds',
    help: 'Seconds since the latest checkpoint was signed',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      if (s?.checkpoint !== undefined) this.set((now().getTime() - s.checkpoint.publishedAt.getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'chancery_crl_age_seconds',
    help: "Seconds since each CRL's thisUpdate",
    labelNames: ['crl'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const c of s?.crls ?? []) this.set({ crl: c.crl }, (now().getTime() - c.thisUpdate.getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'chancery_crl_next_update_seconds',
    help: "Seconds until each CRL's nextUpdate (negative: relying parties see it as stale)",
    labelNames: ['crl'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const c of s?.crls ?? []) this.set({ crl: c.crl }, (c.nextUpdate.getTime() - now().getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'chancery_crl_number',
    help: 'The CRL number of each CRL (RFC 5280 §5.2.3)',
    labelNames: ['crl'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const c of s?.crls ?? []) this.set({ crl: c.crl }, c.number);
    },
  });
  new Gauge({
    name: 'chancery_hierarchy_certificate_expiry_days',
    help: "Days until each certificate of the service's own hierarchy expires",
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      const h = deps.hierarchy();
      if (h === undefined) return;
      for (const name of ['root', 'issuing', 'ocsp', 'seal', 'admin'] as const) {
        this.set({ certificate: name }, (h[name].notAfter.getTime() - now().getTime()) / 86_400_000);
      }
    },
  });

  return {
    countingLog: (log) => ({
      record: async (work, options) => {
        let kinds: AuditKind[] = [];
        const value = await log.record(async (tx, append) => {
          kinds = []; // `work` may run again after a conflict: count only the run that committed
          return work(tx, async (entry) => {
            const appended = await append(entry);
            kinds.push(entry.kind);
            return appended;
          });
        }, options);
        for (const kind of kinds) entries.inc({ kind });
        return value;
      },
    }),
    loginFailed: (code) => loginFailures.inc({ code }),
    archiveTimestampFailed: () => archiveFailures.inc(),
  };
}

interface Snapshot {
  treeSize: number;
  checkpoint: { size: number; publishedAt: Date } | undefined;
  crls: Array<{ crl: string; number: number; thisUpdate: Date; nextUpdate: Date }>;
}

async function readSnapshot(db: Database): Promise<Snapshot> {
  const tree = await db.query<{ size: string | number }>('SELECT size FROM audit_tree WHERE id');
  const checkpoint = await db.query<{ size: string | number; published_at: Date }>(
    'SELECT size, published_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
  );
  const crls = await db.query<{ issuer: string; number: string | number; this_update: Date; next_update: Date }>(
    'SELECT issuer, number, this_update, next_update FROM crls ORDER BY issuer',
  );
  const latest = checkpoint.rows[0];
  return {
    treeSize: Number(tree.rows[0]?.size ?? 0),
    checkpoint: latest === undefined ? undefined : { size: Number(latest.size), publishedAt: new Date(latest.published_at) },
    crls: crls.rows.map((r) => ({
      crl: r.issuer,
      number: Number(r.number),
      thisUpdate: new Date(r.this_update),
      nextUpdate: new Date(r.next_update),
    })),
  };
}
