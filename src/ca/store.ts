import type { Queryable } from '../db/types.js';

/** The CA's SQL. Every function runs on the caller's connection or transaction. */

export type HierarchyRole = 'root' | 'issuing' | 'ocsp' | 'seal' | 'admin' | 'tsa';

export interface HierarchyRow {
  role: HierarchyRole;
  serial: string;
  key_name: string | null;
  der: Buffer;
}

export async function selectHierarchy(q: Queryable): Promise<Map<HierarchyRole, HierarchyRow>> {
  const { rows } = await q.query<HierarchyRow>('SELECT role, serial, key_name, der FROM ca_hierarchy');
  return new Map(rows.map((r) => [r.role, r]));
}

export async function insertHierarchy(q: Queryable, row: HierarchyRow, at: string): Promise<void> {
  await q.query('INSERT INTO ca_hierarchy (role, serial, key_name, der, created_at) VALUES ($1, $2, $3, $4, $5)', [
    row.role,
    row.serial,
    row.key_name,
    row.der,
    at,
  ]);
}

/** The CRL partition count `issuer` was initialized with (migration 0025), if stored. */
export async function selectCrlPartitionCount(q: Queryable, issuer: string): Promise<number | undefined> {
  const { rows } = await q.query<{ partitions: number }>('SELECT partitions FROM ca_crl_partition_count WHERE issuer = $1', [issuer]);
  return rows[0] === undefined ? undefined : Number(rows[0].partitions);
}

/** Stores the CRL partition count of `issuer` unless one is stored already (the first choice stands). */
export async function insertCrlPartitionCount(q: Queryable, issuer: string, partitions: number, at: Date): Promise<void> {
  await q.query('INSERT INTO ca_crl_partition_count (issuer, partitions, chosen_at) VALUES ($1, $2, $3) ON CONFLICT (issuer) DO NOTHING', [
    issuer,
    partitions,
    at.toISOString(),
  ]);
}

export interface CertificateRow {
  serial: string;
  issuer: string;
  profile: string;
  uscc: string | null;
  officer_id: string | null;
  subject: string;
  spki_sha256: string;
  not_before: Date;
  not_after: Date;
  der: Buffer;
  issued_at: Date;
  revoked_at: Date | null;
  revocation_reason: number | null;
  /** The partition whose CRL lists it; null: the full CRL only. */
  crl_partition: number | null;
}

const CERT_COLUMNS =
  'serial, issuer, profile, uscc, officer_id, subject, spki_sha256, not_before, not_after, der, issued_at, revoked_at, revocation_reason, crl_partition';

export interface NewCertificateRow {
  serial: string;
  issuer: string;
  profile: string;
  uscc: string | null;
  officerId: string | null;
  subject: string;
  spkiSha256: string;
  notBefore: Date;
  notAfter: Date;
  der: Buffer;
  issuedAt: Date;
  /** The CRL partition its distribution point names; absent: the full CRL. */
  crlPartition?: number;
}

export async function insertCertificate(q: Queryable, c: NewCertificateRow): Promise<void> {
  await q.query(
    `INSERT INTO certificates (serial, issuer, profile, uscc, officer_id, subject, spki_sha256, not_before, not_after, der, issued_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      c.serial,
      c.issuer,
      c.profile,
      c.uscc,
      c.officerId,
      c.subject,
      c.spkiSha256,
      c.notBefore.toISOString(),
      c.notAfter.toISOString(),
      c.der,
      c.issuedAt.toISOString(),
    ],
  );
}

/** What must still hold in the registry for an issued certificate to be stored. */
export type IssuanceGuard =
  | { kind: 'enterprise'; uscc: string; name: string }
  | { kind: 'officer'; id: string; name: string; authority: string; role: string; jurisdiction: string }
  | { kind: 'none' };

/**
 * Inserts the certificate only if the registry still agrees with it: an enterprise still active
 * under the same name (its row share-locked until commit, so a concurrent licence revocation
 * either happened before — nothing is inserted — or waits and then revokes this certificate
 * too), an officer still registered as certified. False when nothing was inserted.
 */
export async function insertCertificateIfCurrent(q: Queryable, c: NewCertificateRow, guard: IssuanceGuard): Promise<boolean> {
  const params: unknown[] = [
    c.serial,
    c.issuer,
    c.profile,
    c.uscc,
    c.officerId,
    c.subject,
    c.spkiSha256,
    c.notBefore.toISOString(),
    c.notAfter.toISOString(),
    c.der,
    c.issuedAt.toISOString(),
  ];
  let condition = '';
  if (guard.kind === 'enterprise') {
    params.push(guard.uscc, guard.name);
    condition = `WHERE EXISTS (SELECT 1 FROM enterprises WHERE uscc = $12 AND status = 'active' AND name = $13 FOR SHARE)`;
  } else if (guard.kind === 'officer') {
    params.push(guard.id, guard.name, guard.authority, guard.role, guard.jurisdiction);
    condition =
      'WHERE EXISTS (SELECT 1 FROM officers WHERE id = $12 AND name = $13 AND authority = $14 AND role = $15 AND jurisdiction = $16 FOR SHARE)';
  }
  const { rowCount } = await q.query(
    `INSERT INTO certificates (serial, issuer, profile, uscc, officer_id, subject, spki_sha256, not_before, not_after, der, issued_at)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10::bytea, $11::timestamptz ${condition}`,
    params,
  );
  return rowCount === 1;
}

/**
 * `insertCertificateIfCurrent` for many certificates in one statement (issuance under load);
 * returns the serials actually inserted.
 */
export async function insertCertificatesIfCurrent(
  q: Queryable,
  items: ReadonlyArray<{ row: NewCertificateRow; guard: IssuanceGuard }>,
): Promise<Set<string>> {
  const col = <T>(f: (item: { row: NewCertificateRow; guard: IssuanceGuard }) => T): T[] => items.map(f);
  const g = (item: { guard: IssuanceGuard }, field: 'name' | 'authority' | 'role' | 'jurisdiction'): string | null =>
    item.guard.kind === 'none' ? null : field === 'name' ? item.guard.name : item.guard.kind === 'officer' ? item.guard[field] : null;
  const { rows } = await q.query<{ serial: string }>(
    `INSERT INTO certificates (serial, issuer, profile, uscc, officer_id, subject, spki_sha256, not_before, not_after, der, issued_at, crl_partition)
     SELECT v.serial, v.issuer, v.profile, v.uscc, v.officer_id, v.subject, v.spki, v.nb::timestamptz, v.na::timestamptz, decode(v.der, 'hex'), v.ia::timestamptz, v.part
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                 $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::int[])
          AS v(serial, issuer, profile, uscc, officer_id, subject, spki, nb, na, der, ia, kind, g_name, g_authority, g_role, g_jurisdiction, part)
     WHERE CASE v.kind
       WHEN 'enterprise' THEN EXISTS (SELECT 1 FROM enterprises e WHERE e.uscc = v.uscc AND e.status = 'active' AND e.name = v.g_name FOR SHARE)
       WHEN 'officer' THEN EXISTS (SELECT 1 FROM officers o WHERE o.id = v.officer_id AND o.name = v.g_name AND o.authority = v.g_authority
                                   AND o.role = v.g_role AND o.jurisdiction = v.g_jurisdiction FOR SHARE)
       ELSE true END
     RETURNING serial`,
    [
      col((i) => i.row.serial),
      col((i) => i.row.issuer),
      col((i) => i.row.profile),
      col((i) => i.row.uscc),
      col((i) => i.row.officerId),
      col((i) => i.row.subject),
      col((i) => i.row.spkiSha256),
      col((i) => i.row.notBefore.toISOString()),
      col((i) => i.row.notAfter.toISOString()),
      col((i) => i.row.der.toString('hex')),
      col((i) => i.row.issuedAt.toISOString()),
      col((i) => i.guard.kind),
      col((i) => g(i, 'name')),
      col((i) => g(i, 'authority')),
      col((i) => g(i, 'role')),
      col((i) => g(i, 'jurisdiction')),
      col((i) => i.row.crlPartition ?? null),
    ],
  );
  return new Set(rows.map((r) => r.serial));
}

export async function selectCertificate(q: Queryable, serial: string): Promise<CertificateRow | undefined> {
  const { rows } = await q.query<CertificateRow>(`SELECT ${CERT_COLUMNS} FROM certificates WHERE serial = $1`, [serial]);
  return rows[0] === undefined ? undefined : normalize(rows[0]);
}

/** Only what a revocation answer needs (OCSP, RevocationSource): no DER. */
export async function selectRevocationState(
  q: Queryable,
  serial: string,
): Promise<
  | {
      issuer: string;
      revoked_at: Date | null;
      revocation_reason: number | null;
      not_after: Date;
    }
  | undefined
> {
  const { rows } = await q.query<{
    issuer: string;
    revoked_at: Date | string | null;
    revocation_reason: number | null;
    not_after: Date | string;
  }>('SELECT issuer, revoked_at, revocation_reason, not_after FROM certificates WHERE serial = $1', [serial]);
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    issuer: row.issuer,
    revoked_at: toDate(row.revoked_at),
    revocation_reason: row.revocation_reason,
    not_after: toDate(row.not_after)!,
  };
}

/** Marks a certificate revoked unless it already is; the updated row, or undefined. */
export async function markRevoked(q: Queryable, serial: string, at: Date, reason: number): Promise<CertificateRow | undefined> {
  const { rows } = await q.query<CertificateRow>(
    `UPDATE certificates SET revoked_at = $2, revocation_reason = $3 WHERE serial = $1 AND revoked_at IS NULL RETURNING ${CERT_COLUMNS}`,
    [serial, at.toISOString(), reason],
  );
  return rows[0] === undefined ? undefined : normalize(rows[0]);
}

/** Revokes every unrevoked certificate of an enterprise; returns their serials and CRL partitions, by serial. */
export async function markEnterpriseCertificatesRevoked(
  q: Queryable,
  uscc: string,
  at: Date,
  reason: number,
): Promise<Array<{ serial: string; crlPartition: number | null }>> {
  const { rows } = await q.query<{ serial: string; crl_partition: number | null }>(
    'UPDATE certificates SET revoked_at = $2, revocation_reason = $3 WHERE uscc = $1 AND revoked_at IS NULL RETURNING serial, crl_partition',
    [uscc, at.toISOString(), reason],
  );
  return rows.map((r) => ({ serial: r.serial, crlPartition: r.crl_partition })).sort((a, b) => (a.serial < b.serial ? -1 : 1));
}

/** Which certificates a CRL speaks about: the full CRL, or one partition's. */
export type CrlScope = { kind: 'full' } | { kind: 'partition'; partition: number };

/** One CRL entry as stored. */
export interface CrlEntryRow {
  serial: string;
  revoked_at: Date;
  revocation_reason: number;
}

/**
 * THE selection of CRL entries — every CRL this CA signs lists exactly what this returns: the
 * revoked certificates of `issuer` in `scope` still within their validity at `at` (RFC 5280
 * §3.3 lets an expired certificate leave the CRL; it stays in the table and the log), by serial.
 * Reads through the partial index on revoked rows, so the cost is that of the scope's own
 * unexpired entries.
 */
export async function selectCrlEntries(q: Queryable, issuer: string, scope: CrlScope, at: Date): Promise<CrlEntryRow[]> {
  const { rows } = await q.query<{ serial: string; revoked_at: Date | string; revocation_reason: number }>(
    scope.kind === 'full'
      ? 'SELECT serial, revoked_at, revocation_reason FROM certificates WHERE issuer = $1 AND revoked_at IS NOT NULL AND not_after > $2 ORDER BY serial'
      : `SELECT serial, revoked_at, revocation_reason FROM certificates
         WHERE issuer = $1 AND crl_partition = $3 AND revoked_at IS NOT NULL AND not_after > $2 ORDER BY serial`,
    scope.kind === 'full' ? [issuer, at.toISOString()] : [issuer, at.toISOString(), scope.partition],
  );
  return rows.map((r) => ({ serial: r.serial, revoked_at: toDate(r.revoked_at)!, revocation_reason: r.revocation_reason }));
}

/** The revocation-count row of the certificates without a partition. */
export const UNPARTITIONED = -1;

/**
 * Counts revocations in their partitions' rows (`counts`: partition → how many), in partition
 * order, so that transactions revoking in several partitions lock the rows in one order.
 */
export async function countRevocations(q: Queryable, issuer: string, counts: ReadonlyMap<number, number>): Promise<void> {
  for (const partition of [...counts.keys()].sort((a, b) => a - b)) {
    await q.query(
      `INSERT INTO crl_revocations (issuer, partition, count) VALUES ($1, $2, $3)
       ON CONFLICT (issuer, partition) DO UPDATE SET count = crl_revocations.count + EXCLUDED.count`,
      [issuer, partition, counts.get(partition)],
    );
  }
}

/** The revocation count of one partition (UNPARTITIONED for the certificates without one). */
export async function selectRevocationCount(q: Queryable, issuer: string, partition: number): Promise<number> {
  const { rows } = await q.query<{ count: string | number }>('SELECT count FROM crl_revocations WHERE issuer = $1 AND partition = $2', [
    issuer,
    partition,
  ]);
  return rows[0] === undefined ? 0 : Number(rows[0].count);
}

/** Every revocation of `issuer`, and those of certificates without a partition (for the full CRL). */
export async function selectRevocationTotals(q: Queryable, issuer: string): Promise<{ total: number; unpartitioned: number }> {
  const { rows } = await q.query<{ total: string | number; unpartitioned: string | number }>(
    'SELECT coalesce(sum(count), 0) AS total, coalesce(sum(count) FILTER (WHERE partition = -1), 0) AS unpartitioned FROM crl_revocations WHERE issuer = $1',
    [issuer],
  );
  return { total: Number(rows[0]?.total ?? 0), unpartitioned: Number(rows[0]?.unpartitioned ?? 0) };
}

/** Per partition: its revocation count and its CRL's (for the refresh timer), over the partitions that have either. */
export async function selectPartitionStates(
  q: Queryable,
  issuer: string,
): Promise<Array<{ partition: number; count: number; covers: number | null; this_update: Date | null }>> {
  const { rows } = await q.query<{
    partition: number;
    count: string | number | null;
    covers: string | number | null;
    this_update: Date | string | null;
  }>(
    `SELECT coalesce(r.partition, p.partition) AS partition, r.count, p.covers, p.this_update
     FROM (SELECT partition, count FROM crl_revocations WHERE issuer = $1 AND partition >= 0) r
     FULL JOIN (SELECT partition, covers, this_update FROM crl_partitions WHERE issuer = $1) p ON p.partition = r.partition
     ORDER BY 1`,
    [issuer],
  );
  return rows.map((r) => ({
    partition: Number(r.partition),
    count: Number(r.count ?? 0),
    covers: r.covers === null ? null : Number(r.covers),
    this_update: toDate(r.this_update),
  }));
}

export interface PartitionCrlRow {
  issuer: string;
  partition: number;
  number: number;
  this_update: Date;
  next_update: Date;
  covers: number;
  entries: number;
  der: Buffer;
}

export async function selectPartitionCrl(
  q: Queryable,
  issuer: string,
  partition: number,
  options: { forUpdate?: boolean } = {},
): Promise<PartitionCrlRow | undefined> {
  const { rows } = await q.query<PartitionCrlRow>(
    `SELECT issuer, partition, number, this_update, next_update, covers, entries, der FROM crl_partitions
     WHERE issuer = $1 AND partition = $2${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
    [issuer, partition],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    ...row,
    number: Number(row.number),
    covers: Number(row.covers),
    this_update: toDate(row.this_update)!,
    next_update: toDate(row.next_update)!,
  };
}

/** Stores a partition's next CRL; with `insertOnly`, only if no other transaction stored its first one (false then). */
export async function storePartitionCrl(q: Queryable, crl: PartitionCrlRow, insertOnly: boolean): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO crl_partitions (issuer, partition, number, this_update, next_update, covers, entries, der) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (issuer, partition) DO ${
       insertOnly
         ? 'NOTHING'
         : `UPDATE SET number = EXCLUDED.number, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update,
            covers = EXCLUDED.covers, entries = EXCLUDED.entries, der = EXCLUDED.der`
     }`,
    [crl.issuer, crl.partition, crl.number, crl.this_update.toISOString(), crl.next_update.toISOString(), crl.covers, crl.entries, crl.der],
  );
  return rowCount === 1;
}

export interface CrlRow {
  issuer: string;
  number: number;
  this_update: Date;
  next_update: Date;
  der: Buffer;
  /** The issuer's total revocation count it was signed at, and that of the certificates without a partition. */
  covers: number;
  covers_unpartitioned: number;
  entries: number;
}

export async function selectCrl(q: Queryable, issuer: string, options: { forUpdate?: boolean } = {}): Promise<CrlRow | undefined> {
  const { rows } = await q.query<CrlRow>(
    `SELECT issuer, number, this_update, next_update, der, covers, covers_unpartitioned, entries FROM crls WHERE issuer = $1${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
    [issuer],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    ...row,
    number: Number(row.number),
    covers: Number(row.covers),
    covers_unpartitioned: Number(row.covers_unpartitioned),
    entries: Number(row.entries),
    this_update: toDate(row.this_update)!,
    next_update: toDate(row.next_update)!,
  };
}

export async function selectCrlNumber(q: Queryable, issuer: string): Promise<number | undefined> {
  const { rows } = await q.query<{ number: number | string }>('SELECT number FROM crls WHERE issuer = $1', [issuer]);
  return rows[0] === undefined ? undefined : Number(rows[0].number);
}

export async function upsertCrl(q: Queryable, crl: CrlRow): Promise<void> {
  await q.query(
    `INSERT INTO crls (issuer, number, this_update, next_update, der, covers, covers_unpartitioned, entries) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (issuer) DO UPDATE SET number = EXCLUDED.number, this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update,
       der = EXCLUDED.der, covers = EXCLUDED.covers, covers_unpartitioned = EXCLUDED.covers_unpartitioned, entries = EXCLUDED.entries`,
    [
      crl.issuer,
      crl.number,
      crl.this_update.toISOString(),
      crl.next_update.toISOString(),
      crl.der,
      crl.covers,
      crl.covers_unpartitioned,
      crl.entries,
    ],
  );
}

/** A CA's first CRL: inserted unless another transaction inserted its row first (false then). */
export async function insertCrlIfAbsent(q: Queryable, crl: CrlRow): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO crls (issuer, number, this_update, next_update, der, covers, covers_unpartitioned, entries) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (issuer) DO NOTHING`,
    [
      crl.issuer,
      crl.number,
      crl.this_update.toISOString(),
      crl.next_update.toISOString(),
      crl.der,
      crl.covers,
      crl.covers_unpartitioned,
      crl.entries,
    ],
  );
  return rowCount === 1;
}

function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}

function normalize(row: CertificateRow): CertificateRow {
  return {
    ...row,
    not_before: toDate(row.not_before)!,
    not_after: toDate(row.not_after)!,
    issued_at: toDate(row.issued_at)!,
    revoked_at: toDate(row.revoked_at),
  };
}
