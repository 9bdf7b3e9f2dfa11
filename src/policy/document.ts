/**
 * Reading the signed document: I-JSON (RFC 7493) only. UTF-8 without a byte-order mark, valid
 * JSON, an object at the top, bounded nesting, and no member name twice in one object — a name
 * given twice (two `applicant`s, say) means different things to different parsers, and a signed
 * document must mean one thing.
 */

/** Deepest nesting accepted in a document (a form, not a data dump). */
export const MAX_DOCUMENT_DEPTH = 32;

export type DocumentParse = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses the document bytes, or says in one sentence why they are not an acceptable document. */
export function parseDocument(bytes: Uint8Array): DocumentParse {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'the document is not valid UTF-8' };
  }
  if (text.startsWith('\uFEFF')) return { ok: false, reason: 'the document starts with a byte-order mark, which I-JSON forbids' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `the document is not JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, reason: 'the document is not a JSON object' };
  const structural = checkStructure(text);
  if (structural !== undefined) return { ok: false, reason: structural };
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Walks text that JSON.parse already accepted, finding duplicate member names and excessive
 * nesting. Iterative, linear in the input.
 */
function checkStructure(text: string): string | undefined {
  const stack: Array<{ keys: Set<string> | undefined; expectKey: boolean }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DOCUMENT_DEPTH) return `the document nests deeper than ${MAX_DOCUMENT_DEPTH} levels`;
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined) top.expectKey = true;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(j); d !== 0x22; d = text.charCodeAt(j)) {
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else {
          j += 1;
        }
      }
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        // Without an escape, the name is the text between the quotes (JSON.parse accepted it).
        const name = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.keys.has(name)) return `the document gives the member "${name.slice(0, 64)}" twice in one object`;
        top.keys.add(name);
        top.expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}
