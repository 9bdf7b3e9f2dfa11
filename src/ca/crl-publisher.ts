import { sha256 } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import type { Tx } from '../db/types.js';
import type { RevocationUrls } from './certificate-builder.js';
import { buildCrl } from './crl.js';
import {
  insertCrlIfAbsent,
  selectCrl,
  selectCrlEntries,
  selectPartitionCrl,
  selectRevocationCount,
  selectRevocationTotals,
  storePartitionCrl,
  upsertCrl,
  type CrlEntryRow,
  type CrlScope,
  type PartitionCrlRow,
} from './store.js';

/** The issuing CA's name in the database (`certificates.issuer`, `crls.issuer`, `/ca/issuing.crl`). */
export const ISSUING_CA = 'issuing';
/** The root's name in the database (`crls.issuer`) and its files (`/ca/root.crl`, `/ca/root.cer`). */
export const ROOT_CA = 'root';
/** The CAs that publish a CRL. */
export const CA_IDS = [ISSUING_CA, ROOT_CA] as const;
export type CaId = (typeof CA_IDS)[number];

/** The issuing CA's CRL is valid for a day and re-signed once half of that has passed (or on any revocation). */
export const CRL_VALIDITY_MS = 24 * 3600_000;
export const CRL_REFRESH_AFTER_MS = CRL_VALIDITY_MS / 2;
/** The root's CRL changes only if the root ever revokes the issuing CA: a week, re-signed at half. */
export const ROOT_CRL_VALIDITY_MS = 7 * 24 * 3600_000;

/** How long each CA's CRL is valid and when it is re-signed (RFC 5280 §5.1.2.5: before nextUpdate). */
export const CRL_SCHEDULE: Readonly<Record<CaId, { validityMs: number; refreshAfterMs: number }>> = {
  issuing: { validityMs: CRL_VALIDITY_MS, refreshAfterMs: CRL_REFRESH_AFTER_MS },
  root: { validityMs: ROOT_CRL_VALIDITY_MS, refreshAfterMs: ROOT_CRL_VALIDITY_MS / 2 },
};

/**
 * The pointers a certificate carries to the files of its issuer on this service, by issuer:
 * the issuing CA's CRL, OCSP responder and certificate; the root's CRL and certificate (the root
 * has no OCSP responder).
 */
export function caUrls(base: string): Record<CaId, RevocationUrls> {
  return {
    issuing: { crl: `${base}/ca/${ISSUING_CA}.crl`, ocsp: `${base}/ocsp`, caIssuers: `${base}/ca/${ISSUING_CA}.cer` },
    root: { crl: `${base}/ca/${ROOT_CA}.crl`, caIssuers: `${base}/ca/${ROOT_CA}.cer` },
  };
}

/**
 * How many CRL partitions certificates of the issuing CA are spread over, unless `chancery init`
 * chose another count (CHANCERY_CRL_PARTITIONS, stored with the CA: see `settleCrlPartitionCount`).
 * Each holds about 1/64 of the unexpired revoked certificates: at 3.75 million revoked, ~59,000
 * entries (~3 MB) per partition, under the 100,000-entry bound up to 6.4 million.
 */
export const DEFAULT_CRL_PARTITIONS = 64;
/** Fewest and most partitions an operator may choose (the largest partition number a URL may name + 1). */
export const MIN_CRL_PARTITIONS = 1;
export const MAX_CRL_PARTITIONS = 4096;

/**
 * The partition of a certificate: a fixed function of its serial (the first 32 bits of SHA-256 of
 * its canonical hex, modulo `partitions`), so partitions fill evenly whatever the serials look like
 * and a certificate's partition is known from its serial alone.
 */
export function crlPartitionOf(serialHex: string, partitions: number): number {
  return sha256(serialHex).readUInt32BE(0) % partitions;
}

/** The URL of a partition's CRL: what its certificates' CRL DP and its CRL's issuingDistributionPoint both name. */
export function partitionCrlUrl(base: string, partition: number): string {
  return `${base}/ca/crl/${partition}`;
}

export interface CrlIssuer {
  /** Which CA: its row in `crls` and the certificates (`certificates.issuer`) its CRL lists. */
  ca: CaId;
  issuerName: Buffer;
  issuerKeyIdentifier: Buffer;
  signer: Signer;
  /**
   * Which certificates a CRL of `scope` lists; default `selectCrlEntries`, every revoked row of
   * `ca` in the scope still within its validity.
   */
  entries?: (tx: Tx, ca: CaId, scope: CrlScope, at: Date) => Promise<CrlEntryRow[]>;
}

const toEntries = (rows: CrlEntryRow[]) => rows.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at, reason: r.revocation_reason }));

/**
 * Signs a new full CRL of `issuer.ca` inside `tx` and returns its number. The CRL row is locked
 * FOR UPDATE first, so numbers are strictly increasing per CA (RFC 5280 §5.2.3) and two nodes
 * never sign at once. The revocation counts are read before the entries (each statement sees at
 * least what the one before it saw), so every revocation counted in `covers` is listed. A CA's
 * first CRL is inserted only if no other transaction inserted one meanwhile; if one did, the
 * number continues after it.
 */
export async function publishCrl(tx: Tx, issuer: CrlIssuer, at: Date): Promise<number> {
  const { ca, entries = selectCrlEntries, ...signing } = issuer;
  for (let attempt = 0; ; attempt++) {
    const current = await selectCrl(tx, ca, { forUpdate: true });
    const number = (current?.number ?? 0) + 1;
    const thisUpdate = new Date(Math.floor(at.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + CRL_SCHEDULE[ca].validityMs);
    const totals = await selectRevocationTotals(tx, ca);
    const revoked = await entries(tx, ca, { kind: 'full' }, thisUpdate);
    const der = await buildCrl({ ...signing, number, thisUpdate, nextUpdate, entries: toEntries(revoked) });
    const row = {
      issuer: ca,
      number,
      this_update: thisUpdate,
      next_update: nextUpdate,
      der,
      covers: totals.total,
      covers_unpartitioned: totals.unpartitioned,
      entries: revoked.length,
    };
    if (current !== undefined) {
      await upsertCrl(tx, row);
      return number;
    }
    if (await insertCrlIfAbsent(tx, row)) return number;
    if (attempt > 0) throw new Error(`the CRL row of ${ca} keeps appearing and disappearing`);
  }
}

/**
 * Signs the next CRL of one partition of `issuer.ca` inside `tx`, unless `fresh(current)` says the
 * stored one (read under its row lock) will do; returns the CRL now current. Only the partition's
 * CRL row is locked — never a revocation count — so revocations go on while it signs. Its CRL
 * number is the partition's own sequence (RFC 5280 §5.2.3: one per scope), and it lists exactly
 * `selectCrlEntries` of the partition, read after its revocation count.
 */
export async function publishPartitionCrl(
  tx: Tx,
  issuer: CrlIssuer,
  partition: number,
  url: string,
  at: Date,
  fresh: (current: PartitionCrlRow, count: number) => boolean,
): Promise<PartitionCrlRow> {
  const { ca, entries = selectCrlEntries, ...signing } = issuer;
  for (let attempt = 0; ; attempt++) {
    const current = await selectPartitionCrl(tx, ca, partition, { forUpdate: true });
    const count = await selectRevocationCount(tx, ca, partition);
    if (current !== undefined && fresh(current, count)) return current;
    const number = (current?.number ?? 0) + 1;
    const thisUpdate = new Date(Math.floor(at.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + CRL_SCHEDULE[ca].validityMs);
    const revoked = await entries(tx, ca, { kind: 'partition', partition }, thisUpdate);
    const der = await buildCrl({
      ...signing,
      number,
      thisUpdate,
      nextUpdate,
      entries: toEntries(revoked),
      // Every certificate the issuing CA puts in a partition is an end entity (its CA certificate is the root's).
      partition: { url, onlyContainsUserCerts: true },
    });
    const row: PartitionCrlRow = {
      issuer: ca,
      partition,
      number,
      this_update: thisUpdate,
      next_update: nextUpdate,
      covers: count,
      entries: revoked.length,
      der,
    };
    if (await storePartitionCrl(tx, row, current === undefined)) return row;
    if (attempt > 0) throw new Error(`the CRL row of partition ${partition} of ${ca} keeps appearing and disappearing`);
  }
}
