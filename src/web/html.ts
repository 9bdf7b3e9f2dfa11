/**
 * HTML made safe by construction: `html` is a tagged template whose interpolations are escaped
 * unless they are themselves `Html` (made by `html`, or by `raw` for text known to be markup).
 * Arrays are rendered item by item; null, undefined and false render as nothing. Attribute values
 * MUST be quoted in the template (the escape covers both quote characters).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written by this code itself (never text that came from outside). */
export function raw(markup: string): Html {
  return new Html(markup);
}
