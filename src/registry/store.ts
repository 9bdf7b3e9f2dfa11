import type { Queryable } from '../db/types.js';
import type { Enterprise, EnterpriseStatus, Officer, OfficerRole } from './types.js';

/** The registry's SQL. Every function runs on the caller's connection or transaction. */

interface EnterpriseRow {
  uscc: string;
  name: string;
  division: string;
  status: EnterpriseStatus;
  check_overridden: boolean;
  registered_at: Date | string;
  status_changed_at: Date | string | null;
  status_reason: string | null;
}

const ENTERPRISE_COLUMNS = 'uscc, name, division, status, check_overridden, registered_at, status_changed_at, status_reason';

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toEnterprise(row: EnterpriseRow): Enterprise {
  return {
    uscc: row.uscc,
    name: row.name,
    division: row.division,
    status: row.status,
    checkOverridden: row.check_overridden,
    registeredAt: iso(row.registered_at),
    statusChangedAt: row.status_changed_at === null ? null : iso(row.status_changed_at),
    statusReason: row.status_reason,
  };
}

/** Inserts an enterprise; undefined when the USCC is already registered. */
export async function insertEnterprise(q: Queryable, e: Enterprise): Promise<Enterprise | undefined> {
  const { rows } = await q.query<EnterpriseRow>(
    `INSERT INTO enterprises (uscc, name, division, status, check_overridden, registered_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (uscc) DO NOTHING RETURNING ${ENTERPRISE_COLUMNS}`,
    [e.uscc, e.name, e.division, e.status, e.checkOverridden, e.registeredAt],
  );
  return rows[0] === undefined ? undefined : toEnterprise(rows[0]);
}

/** An enterprise as a bulk import inserts it (its check characters verified: never overridden). */
export interface BulkEnterprise {
  uscc: string;
  name: string;
  division: string;
  status: EnterpriseStatus;
  statusChangedAt: string | null;
  statusReason: string | null;
}

/**
 * Inserts many enterprises with one statement (one row per array element, through unnest), all
 * registered at `registeredAt`; a USCC already registered is skipped. The number inserted.
 */
export async function insertEnterprisesBulk(q: Queryable, rows: readonly BulkEnterprise[], registeredAt: string): Promise<number> {
  const { rowCount } = await q.query(
    `INSERT INTO enterprises (uscc, name, division, status, check_overridden, registered_at, status_changed_at, status_reason)
     SELECT u.uscc, u.name, u.division, u.status, false, $1::timestamptz, u.changed, u.reason
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[]) AS u(uscc, name, division, status, changed, reason)
     ON CONFLICT (uscc) DO NOTHING`,
    [
      registeredAt,
      rows.map((r) => r.uscc),
      rows.map((r) => r.name),
      rows.map((r) => r.division),
      rows.map((r) => r.status),
      rows.map((r) => r.statusChangedAt),
      rows.map((r) => r.statusReason),
    ],
  );
  return rowCount;
}

/** Which of these USCCs are registered. */
export async function selectExistingUsccs(q: Queryable, usccs: readonly string[]): Promise<Set<string>> {
  if (usccs.length === 0) return new Set();
  const { rows } = await q.query<{ uscc: string }>('SELECT uscc FROM enterprises WHERE uscc = ANY($1::text[])', [usccs]);
  return new Set(rows.map((r) => r.uscc));
}

/** `lock: 'update'` for a status change; `lock: 'share'` to hold the status steady while issuing. */
export async function selectEnterprise(
  q: Queryable,
  uscc: string,
  options: { lock?: 'update' | 'share' } = {},
): Promise<Enterprise | undefined> {
  const lock = options.lock === 'update' ? ' FOR UPDATE' : options.lock === 'share' ? ' FOR SHARE' : '';
  const { rows } = await q.query<EnterpriseRow>(`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE uscc = $1${lock}`, [uscc]);
  return rows[0] === undefined ? undefined : toEnterprise(rows[0]);
}

/** The enterprises with these USCCs (any order; missing ones are absent). */
export async function selectEnterprisesByUscc(q: Queryable, usccs: readonly string[]): Promise<Enterprise[]> {
  const { rows } = await q.query<EnterpriseRow>(`SELECT ${ENTERPRISE_COLUMNS} FROM enterprises WHERE uscc = ANY($1::text[])`, [usccs]);
  return rows.map(toEnterprise);
}

/** The officers with these ids (any order; missing ones are absent). */
export async function selectOfficersById(q: Queryable, ids: readonly string[]): Promise<Officer[]> {
  const { rows } = await q.query<OfficerRow>(`SELECT ${OFFICER_COLUMNS} FROM officers WHERE id = ANY($1::text[])`, [ids]);
  return rows.map(toOfficer);
}

/**
 * A page of enterprises in USCC order, optionally of one status, matching a search (a USCC
 * prefix, or a part of the name in any case), after a USCC (keyset paging).
 */
export async function selectEnterprises(
  q: Queryable,
  options: { status?: EnterpriseStatus; search?: string; after?: string; limit: number },
): Promise<Enterprise[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (options.status !== undefined) {
    params.push(options.status);
    where.push(`status = $${params.length}`);
  }
  if (options.search !== undefined) {
    params.push(options.search);
    where.push(`(starts_with(uscc, upper($${params.length})) OR strpos(lower(name), lower($${params.length})) > 0)`);
  }
  if (options.after !== undefined) {
    params.push(options.after);
    where.push(`uscc > $${params.length}`);
  }
  params.push(options.limit);
  const { rows } = await q.query<EnterpriseRow>(
    `SELECT ${ENTERPRISE_COLUMNS} FROM enterprises ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY uscc LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEnterprise);
}

export async function updateEnterpriseStatus(
  q: Queryable,
  uscc: string,
  status: EnterpriseStatus,
  at: string,
  reason: string | null,
): Promise<Enterprise> {
  const { rows } = await q.query<EnterpriseRow>(
    `UPDATE enterprises SET status = $2, status_changed_at = $3, status_reason = $4 WHERE uscc = $1 RETURNING ${ENTERPRISE_COLUMNS}`,
    [uscc, status, at, reason],
  );
  return toEnterprise(rows[0]!);
}

interface OfficerRow {
  id: string;
  name: string;
  authority: string;
  role: OfficerRole;
  jurisdiction: string;
  registered_at: Date | string;
}

const OFFICER_COLUMNS = 'id, name, authority, role, jurisdiction, registered_at';

function toOfficer(row: OfficerRow): Officer {
  return {
    id: row.id,
    name: row.name,
    authority: row.authority,
    role: row.role,
    jurisdiction: row.jurisdiction,
    registeredAt: iso(row.registered_at),
  };
}

/** Inserts an officer; undefined when the id is already registered. */
export async function insertOfficer(q: Queryable, o: Officer): Promise<Officer | undefined> {
  const { rows } = await q.query<OfficerRow>(
    `INSERT INTO officers (id, name, authority, role, jurisdiction, registered_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING ${OFFICER_COLUMNS}`,
    [o.id, o.name, o.authority, o.role, o.jurisdiction, o.registeredAt],
  );
  return rows[0] === undefined ? undefined : toOfficer(rows[0]);
}

export async function selectOfficer(q: Queryable, id: string): Promise<Officer | undefined> {
  const { rows } = await q.query<OfficerRow>(`SELECT ${OFFICER_COLUMNS} FROM officers WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : toOfficer(rows[0]);
}

export async function selectOfficers(q: Queryable, options: { after?: string; limit: number }): Promise<Officer[]> {
  const { rows } = await q.query<OfficerRow>(
    `SELECT ${OFFICER_COLUMNS} FROM officers WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [options.after ?? null, options.limit],
  );
  return rows.map(toOfficer);
}
