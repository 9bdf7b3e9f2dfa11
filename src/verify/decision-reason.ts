/**
 * The reason an officer gives for a decision, as it is signed in a countersignature (JWS protected
 * header `reason`; CMS commitment-type-indication qualifier, see cms-attributes.ts). One form is
 * accepted, so that the bytes signed are the text shown, everywhere, without a second
 * normalization on the way:
 *
 * - a string of 1 to MAX_REASON_LENGTH Unicode code points, well-formed (no lone surrogates);
 * - in Unicode Normalization Form C (a verifier refuses other forms rather than normalizing what
 *   was signed);
 * - without control characters (general category Cc, which includes tab, CR and LF: a reason is
 *   one paragraph) and without the bidirectional formatting characters (U+061C, U+200E, U+200F,
 *   U+202A–U+202E, U+2066–U+2069), which can make the text shown read differently from the text
 *   signed;
 * - with no white space at either end and no run of more than one white space inside.
 *
 * Builders pass what a person typed through `normalizeReason` first (NFC, every run of white
 * space including line breaks to one space, trimmed); `reasonProblem` is what every verifier
 * applies. Whether a decision needs a reason is the workflow's rule (src/submissions), not the
 * verifier's: a countersignature is read the same with or without one.
 */

/** Most code points in a reason: a paragraph, not a document (the document is what is signed). */
export const MAX_REASON_LENGTH = 500;

const FORBIDDEN = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const WHITE_SPACE_RUN = /\s+/gu;
// Without the u flag the pattern sees UTF-16 code units, so an unpaired surrogate is matchable.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a person typed, in the one form a reason is signed in (it may still be refused: empty, too long). */
export function normalizeReason(text: string): string {
  return text.normalize('NFC').replace(WHITE_SPACE_RUN, ' ').trim();
}

/** Why `value` is not a reason in the signed form, as a sentence; undefined when it is one. */
export function reasonProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'the reason is not a string';
  if (LONE_SURROGATE.test(value)) return 'the reason is not well-formed Unicode (it has a lone surrogate)';
  const length = [...value].length;
  if (length === 0) return 'the reason is empty';
  if (length > MAX_REASON_LENGTH) return `the reason has ${length} characters, above the limit of ${MAX_REASON_LENGTH}`;
  if (FORBIDDEN.test(value)) return 'the reason contains a control or bidirectional formatting character';
  if (value.normalize('NFC') !== value) return 'the reason is not in Unicode Normalization Form C';
  if (value !== normalizeReason(value)) return 'the reason has white space at an end or more than one white space in a row';
  return undefined;
}
