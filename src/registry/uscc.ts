import { RegistryError } from './errors.js';

/**
 * The unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters of a 31-symbol
 * alphabet (digits and capitals without I, O, S, V, Z):
 *
 *   position 1      registration authority code
 *   position 2      organization category code
 *   positions 3–8   administrative division code of the registering authority (GB/T 2260)
 *   positions 9–17  organization code (GB 11714), with its own mod-11 check character at 17
 *   position 18     check character over positions 1–17 (mod 31)
 */
export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** GB 32100-2015 §5: weight of position i (1-based) is 3^(i−1) mod 31. */
const USCC_WEIGHTS: readonly number[] = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** GB 11714-1997 §4: weights of the organization code's eight body characters. */
const ORG_CODE_WEIGHTS: readonly number[] = [3, 7, 9, 10, 5, 8, 4, 2];

const USCC_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

export interface Uscc {
  code: string;
  /** Positions 3–8: the administrative division code of the registering authority. */
  division: string;
  /** Positions 9–17: the embedded organization code (GB 11714), check character included. */
  organizationCode: string;
}

/** The GB 32100-2015 check character for the first 17 characters of a USCC. */
export function usccCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_CHARSET.indexOf(first17[i] ?? '');
    if (value < 0) throw new RegistryError('ERR_REGISTRY_USCC_MALFORMED', `"${first17[i] ?? ''}" is not a USCC character`);
    sum += value * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET[(31 - (sum % 31)) % 31]!;
}

/**
 * The GB 11714 check character for an organization code's first eight characters (digits and
 * capitals, A = 10 … Z = 35): 11 − (Σ mod 11), where 10 is written X and 11 is written 0.
 */
export function organizationCodeCheckCharacter(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = first8.charCodeAt(i);
    const value = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : -1;
    if (value < 0) throw new RegistryError('ERR_REGISTRY_USCC_MALFORMED', `"${first8[i] ?? ''}" is not an organization code character`);
    sum += value * ORG_CODE_WEIGHTS[i]!;
  }
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

/**
 * Parses and checks a USCC. MUST refuse a code of the wrong shape, a wrong check character, or an
 * embedded organization code failing its own check — unless `overrideCheck` is set, which waives
 * the two check-character tests (never the shape) for legacy codes the registry holds as issued.
 */
export function parseUscc(input: unknown, options: { overrideCheck?: boolean } = {}): Uscc {
  if (typeof input !== 'string' || !USCC_SHAPE.test(input)) {
    throw new RegistryError(
      'ERR_REGISTRY_USCC_MALFORMED',
      'a USCC is 18 characters of 0-9 and A-Z without I, O, S, V and Z (GB 32100-2015)',
      { detail: { field: 'uscc' } },
    );
  }
  const code = input;
  const division = code.slice(2, 8);
  const organizationCode = code.slice(8, 17);
  if (options.overrideCheck !== true) {
    const expected = usccCheckCharacter(code.slice(0, 17));
    if (code[17] !== expected) {
      throw new RegistryError(
        'ERR_REGISTRY_USCC_CHECK',
        `USCC ${code}: the check character is ${code[17]}, the code's characters give ${expected}`,
        {
          detail: { field: 'uscc', expected },
        },
      );
    }
    const orgExpected = organizationCodeCheckCharacter(organizationCode.slice(0, 8));
    if (organizationCode[8] !== orgExpected) {
      throw new RegistryError(
        'ERR_REGISTRY_ORGANIZATION_CODE_CHECK',
        `USCC ${code}: the embedded organization code ${organizationCode} fails its GB 11714 check (expected ${orgExpected} at position 17); register it with the override flag if it is a legacy code issued this way`,
        { detail: { field: 'uscc', expected: orgExpected } },
      );
    }
  }
  if (!/^[0-9]{6}$/.test(division)) {
    throw new RegistryError('ERR_REGISTRY_USCC_MALFORMED', `USCC ${code}: positions 3–8 (${division}) are not a 6-digit division code`, {
      detail: { field: 'uscc' },
    });
  }
  return { code, division, organizationCode };
}

/** True when `code` is a USCC with correct check characters (no exception). */
export function isValidUscc(code: string): boolean {
  try {
    parseUscc(code);
    return true;
  } catch {
    return false;
  }
}

/**
 * Completes a USCC from its first 17 characters by computing both check characters where they
 * are free: given 16 characters (positions 1–16), appends the organization-code check and the
 * USCC check. Used by tests and the demo to make valid codes.
 */
export function completeUscc(first16: string): string {
  const withOrgCheck = first16 + organizationCodeCheckCharacter(first16.slice(8, 16));
  return withOrgCheck + usccCheckCharacter(withOrgCheck);
}
