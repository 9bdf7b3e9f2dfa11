import { parseDocument } from '../policy/document.js';
import type { CmsSignedData } from './cms-parse.js';
import { crlSource } from './crl.js';
import { decodeBase64, decodeBase64Url, type ParsedJws } from './jws-parse.js';
import { ocspResponseSource } from './ocsp.js';
import { firstAnswer, type RevocationSource } from './revocation.js';

/**
 * Revocation values an envelope carries (B-LT): CMS SignedData.crls (CertificateList and RFC 5940
 * id-ri-ocsp-response choices) and JAdES `rVals` (ETSI TS 119 182-1 §5.3.5.2: `crlVals`,
 * `ocspVals`, each `val` base64 DER) in any entry's `etsiU`. They are unsigned data offered to
 * the same CRL and OCSP sources as supplied ones, so each is used only when its own signature,
 * issuer and currency check out: carrying a value proves nothing by itself.
 */

export interface RevocationValues {
  crls: Uint8Array[];
  ocspResponses: Uint8Array[];
}

/** Most values read from one JWS's rVals (as for CMS, cms-parse MAX_REVOCATION_VALUES). */
const MAX_JWS_VALUES = 32;

/** The revocation values of a parsed CMS envelope. */
export function cmsRevocationValues(signedData: CmsSignedData): RevocationValues {
  return signedData.revocationValues;
}

/** The revocation values in the `rVals` of a JWS's entries; unreadable items are skipped (the other checks of etsiU report them). */
export function jwsRevocationValues(jws: ParsedJws): RevocationValues {
  const out: RevocationValues = { crls: [], ocspResponses: [] };
  for (const entry of jws.signatures) {
    const items = entry.unprotectedHeader?.['etsiU'];
    if (!Array.isArray(items)) continue;
    for (const item of items.slice(0, 64)) {
      let property: unknown = item;
      try {
        if (typeof item === 'string') {
          const parsed = parseDocument(decodeBase64Url(item, 'an etsiU item'));
          if (!parsed.ok) continue;
          property = parsed.value;
        }
        const rVals = (property as { rVals?: unknown } | null)?.rVals as { crlVals?: unknown; ocspVals?: unknown } | undefined;
        if (rVals === undefined || rVals === null || typeof rVals !== 'object') continue;
        for (const [list, into] of [
          [rVals.crlVals, out.crls],
          [rVals.ocspVals, out.ocspResponses],
        ] as const) {
          if (!Array.isArray(list)) continue;
          for (const v of list) {
            const val = (v as { val?: unknown } | null)?.val;
            if (typeof val === 'string' && out.crls.length + out.ocspResponses.length < MAX_JWS_VALUES)
              into.push(decodeBase64(val, 'an rVals value'));
          }
        }
      } catch {
        continue;
      }
    }
  }
  return out;
}

/**
 * `given`, then the carried values: a status `given` cannot establish (unknown) is looked up in
 * the envelope's OCSP responses (the more specific answer), then its CRLs. Without carried
 * values, `given` itself.
 */
export function withCarriedRevocation(given: RevocationSource, values: RevocationValues): RevocationSource {
  const sources: RevocationSource[] = [given];
  if (values.ocspResponses.length > 0) sources.push(ocspResponseSource([...values.ocspResponses]));
  if (values.crls.length > 0) sources.push(crlSource([...values.crls]));
  return sources.length === 1 ? given : firstAnswer(...sources);
}
