import { OID } from '../oids.js';
import { DIVISION_CODE } from '../registry/jurisdiction.js';
import type { OfficerRole } from '../registry/types.js';
import { printableString, readTlv, sequence, smallInteger, TAG } from './der.js';

/**
 * The officer certificate extension, under Chancery's arc (`OID.officerAuthorization`,
 * 2.25.246176504630350160250129726162839165097.1), non-critical so that generic validators
 * (openssl) still accept officer certificates:
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

const ROLES: readonly OfficerRole[] = ['reviewer', 'approver', 'handler'];

/** The extension's value (the DER inside extnValue). */
export function encodeOfficerAuthorization(value: OfficerAuthorization): Buffer {
  const role = ROLES.indexOf(value.role);
  if (role < 0) throw new RangeError(`unknown officer role ${value.role}`);
  if (!DIVISION_CODE.test(value.jurisdiction)) throw new RangeError('jurisdiction must be 6 digits');
  return sequence(smallInteger(role, TAG.enumerated), printableString(value.jurisdiction));
}

/**
 * Decodes the extension's value strictly (DER, nothing trailing, known role, 6-digit code);
 * undefined when it is malformed, so a caller can refuse the certificate with its own reason.
 */
export function decodeOfficerAuthorization(bytes: Uint8Array): OfficerAuthorization | undefined {
  try {
    const outer = readTlv(bytes, 0);
    if (outer.tag !== TAG.sequence || outer.end !== bytes.length) return undefined;
    const role = readTlv(bytes, outer.start);
    if (role.tag !== TAG.enumerated || role.end - role.start !== 1) return undefined;
    const roleName = ROLES[bytes[role.start]!];
    const jurisdiction = readTlv(bytes, role.end);
    if (jurisdiction.tag !== TAG.printableString || jurisdiction.end !== outer.end) return undefined;
    const code = Buffer.from(bytes.subarray(jurisdiction.start, jurisdiction.end)).toString('latin1');
    if (roleName === undefined || !DIVISION_CODE.test(code)) return undefined;
    return { role: roleName, jurisdiction: code };
  } catch {
    return undefined;
  }
}
