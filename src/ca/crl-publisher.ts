import type { Signer } from '../crypto/signer.js';
import type { Tx } from '../db/types.js';
import type { RevocationUrls } from './certificate-builder.js';
import { buildCrl } from './crl.js';
import { insertCrlIfAbsent, selectCrl, selectRevokedForCrl, upsertCrl } from './store.js';

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

export interface CrlIssuer {
  /** Which CA: its row in `crls` and the certificates (`certificates.issuer`) its CRL lists. */
  ca: CaId;
  issuerName: Buffer;
  issuerKeyIdentifier: Buffer;
  signer: Signer;
  /** Which certificates the CRL lists; default every revoked row of `ca` still within its validity. */
  entries?: (tx: Tx, ca: CaId, at: Date) => Promise<Array<{ serial: string; revoked_at: Date; revocation_reason: number }>>;
}

/**
 * Signs a new full CRL of `issuer.ca` inside `tx` and returns its number. The CRL row is locked
 * FOR UPDATE first, so numbers are strictly increasing per CA (RFC 5280 §5.2.3) and concurrent
 * revocations publish one after the other, each CRL listing everything committed before it. A
 * CA's first CRL is inserted only if no other transaction inserted one meanwhile; if one did,
 * the number continues after it.
 */
export async function publishCrl(tx: Tx, issuer: CrlIssuer, at: Date): Promise<number> {
  const { ca, entries = selectRevokedForCrl, ...signing } = issuer;
  for (let attempt = 0; ; attempt++) {
    const current = await selectCrl(tx, ca, { forUpdate: true });
    const number = (current?.number ?? 0) + 1;
    const thisUpdate = new Date(Math.floor(at.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + CRL_SCHEDULE[ca].validityMs);
    const revoked = await entries(tx, ca, thisUpdate);
    const der = await buildCrl({
      ...signing,
      number,
      thisUpdate,
      nextUpdate,
      entries: revoked.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at, reason: r.revocation_reason })),
    });
    const row = { issuer: ca, number, this_update: thisUpdate, next_update: nextUpdate, der };
    if (current !== undefined) {
      await upsertCrl(tx, row);
      return number;
    }
    if (await insertCrlIfAbsent(tx, row)) return number;
    if (attempt > 0) throw new Error(`the CRL row of ${ca} keeps appearing and disappearing`);
  }
}
