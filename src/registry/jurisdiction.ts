import { RegistryError } from './errors.js';

/** A 6-digit administrative division code (GB/T 2260): province (2), city (2), county (2). */
export const DIVISION_CODE = /^[0-9]{6}$/;

/** Throws ERR_REGISTRY_INVALID unless `value` is a 6-digit division code. */
export function parseDivisionCode(value: unknown, field = 'jurisdiction'): string {
  if (typeof value !== 'string' || !DIVISION_CODE.test(value)) {
    throw new RegistryError('ERR_REGISTRY_INVALID', `${field} must be a 6-digit administrative division code`, { detail: { field } });
  }
  return value;
}

/**
 * True when an officer whose jurisdiction is `officerDivision` may act for an enterprise
 * registered in `enterpriseDivision`: a code ending in 0000 covers its whole province, a code
 * ending in 00 its whole city (prefecture), any other code only itself. Malformed codes cover
 * nothing.
 */
export function jurisdictionCovers(officerDivision: string, enterpriseDivision: string): boolean {
  if (!DIVISION_CODE.test(officerDivision) || !DIVISION_CODE.test(enterpriseDivision)) return false;
  if (officerDivision.endsWith('0000')) return officerDivision.slice(0, 2) === enterpriseDivision.slice(0, 2);
  if (officerDivision.endsWith('00')) return officerDivision.slice(0, 4) === enterpriseDivision.slice(0, 4);
  return officerDivision === enterpriseDivision;
}

/**
 * The division-code prefix an officer's jurisdiction covers, for queries over many enterprises:
 * `jurisdictionCovers(o, e)` is exactly `e.startsWith(coveredDivisionPrefix(o))` for well-formed
 * codes. Undefined for a malformed code (it covers nothing).
 */
export function coveredDivisionPrefix(officerDivision: string): string | undefined {
  if (!DIVISION_CODE.test(officerDivision)) return undefined;
  if (officerDivision.endsWith('0000')) return officerDivision.slice(0, 2);
  if (officerDivision.endsWith('00')) return officerDivision.slice(0, 4);
  return officerDivision;
}
