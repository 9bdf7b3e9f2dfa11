import type { Signer } from '../crypto/signer.js';
import type { Tx } from '../db/types.js';
import { buildCrl } from './crl.js';
import { selectCrl, selectRevokedForCrl, upsertCrl } from './store.js';

/** A CRL is valid for a day and re-signed once half of that has passed (or on any revocation). */
export const CRL_VALIDITY_MS = 24 * 3600_000;
export const CRL_REFRESH_AFTER_MS = CRL_VALIDITY_MS / 2;

/** The issuing CA's name in the database (`certificates.issuer`, `crls.issuer`, `/ca/issuing.crl`). */
export const ISSUING_CA = 'issuing';

export interface CrlIssuer {
  issuerName: Buffer;
  issuerKeyIdentifier: Buffer;
  signer: Signer;
}

/**
 * Signs a new full CRL of the issuing CA inside `tx` and returns its number. The CRL row is
 * locked FOR UPDATE first, so numbers are strictly increasing (RFC 5280 §5.2.3) and concurrent
 * revocations publish one after the other, each CRL listing everything committed before it.
 */
export async function publishCrl(tx: Tx, issuer: CrlIssuer, at: Date): Promise<number> {
  const current = await selectCrl(tx, ISSUING_CA, { forUpdate: true });
  const number = (current?.number ?? 0) + 1;
  const thisUpdate = new Date(Math.floor(at.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
  const revoked = await selectRevokedForCrl(tx, ISSUING_CA, thisUpdate);
  const der = await buildCrl({
    ...issuer,
    number,
    thisUpdate,
    nextUpdate,
    entries: revoked.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at, reason: r.revocation_reason })),
  });
  await upsertCrl(tx, { issuer: ISSUING_CA, number, this_update: thisUpdate, next_update: nextUpdate, der });
  return number;
}
