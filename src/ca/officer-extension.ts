import { printableString } from '../der/strings.js';
import { TAG } from '../der/tags.js';
import { sequence, smallInteger } from '../der/writer.js';
import { DIVISION_CODE_PATTERN, OFFICER_ROLE_CODES, type OfficerAuthorization } from '../verify/officer-extension.js';

// The extension's definition and its decoder live with the verifier, which processes it
// (src/verify/officer-extension.ts); the CA writes it.
export type { OfficerAuthorization } from '../verify/officer-extension.js';

/** The extension's value (the DER inside extnValue). Throws RangeError on an unknown role or a code that is not 6 digits. */
export function encodeOfficerAuthorization(value: OfficerAuthorization): Buffer {
  const role = OFFICER_ROLE_CODES.indexOf(value.role);
  if (role < 0) throw new RangeError(`unknown officer role ${value.role}`);
  if (!DIVISION_CODE_PATTERN.test(value.jurisdiction)) throw new RangeError('jurisdiction must be 6 digits');
  return sequence(smallInteger(role, TAG.ENUMERATED), printableString(value.jurisdiction));
}
