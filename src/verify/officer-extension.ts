import { childrenOf, readDer } from '../der/reader.js';
import { TAG } from '../der/tags.js';
import { OID } from '../oids.js';
import type { OfficerRole } from '../policy/policy-schema.js';

/**
 * The officer certificate extension, under Chancery's arc (`OID.officerAuthorization`,
 * 2.25.246176504630350160250129726162839165097.1), non-critical in the certificates Chancery
 * issues so that generic validators (openssl) still accept them; the verifier processes it
 * either way (src/verify/processed-extensions.ts):
 *
 *   OfficerAuthorization ::= SEQUENCE {
 *     role          ENUMERATED { reviewer(0), approver(1), handler(2) },
 *     jurisdiction  PrintableString (SIZE(6))   -- GB/T 2260 division code, 6 digits
 *   }
 *
 * A jurisdiction ending in 0000 covers its province, one ending in 00 its city
 * (see `jurisdictionCovers` in src/registry/jurisdiction.ts).
 */
export const OFFICER_AUTHORIZATION_OID = OID.officerAuthorization;

export interface OfficerAuthorization {
  role: OfficerRole;
  jurisdiction: string;
}

/** The ENUMERATED values in order: index = the encoded value. */
export const OFFICER_ROLE_CODES: readonly OfficerRole[] = ['reviewer', 'approver', 'handler'];

/** A GB/T 2260 administrative division code: exactly six digits. */
export const DIVISION_CODE_PATTERN = /^[0-9]{6}$/;

/**
 * Decodes the extension's value (the DER inside extnValue) strictly: DER, nothing trailing, a
 * known role, a 6-digit code. Undefined when it is malformed, so a caller can refuse the
 * certificate with its own reason.
 */
export function decodeOfficerAuthorization(bytes: Uint8Array): OfficerAuthorization | undefined {
  try {
    const outer = readDer(bytes, 'the officer authorization');
    if (outer.tag !== TAG.SEQUENCE) return undefined;
    const [role, jurisdiction, extra] = childrenOf(outer, 'the officer authorization');
    if (role?.tag !== TAG.ENUMERATED || role.value.length !== 1 || jurisdiction?.tag !== TAG.PRINTABLE_STRING || extra !== undefined)
      return undefined;
    const roleName = OFFICER_ROLE_CODES[role.value[0]!];
    const code = Buffer.from(jurisdiction.value).toString('latin1');
    if (roleName === undefined || !DIVISION_CODE_PATTERN.test(code)) return undefined;
    return { role: roleName, jurisdiction: code };
  } catch {
    return undefined;
  }
}
