/**
 * Parsed values kept by the exact bytes they were parsed from: the same bytes always give the
 * same (immutable) object, so re-parsing a certificate, CRL or name seen before is a map lookup.
 * Bounded, because the keys come from hostile input: past `limit` the oldest entry goes, where
 * "oldest" is the least recently used one when `recency` is set, else the first stored.
 */
export class ParseCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly limit: number,
    private readonly recency = false,
  ) {}

  /** The value parsed from `der` before, or `parse(der, context)`; `parse` MUST NOT return a value it mutates later. */
  get<C>(der: Uint8Array, parse: (der: Uint8Array, context: C) => T, context: C): T {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    const entries = this.entries;
    const hit = entries.get(key);
    if (hit !== undefined) {
      if (this.recency) {
        entries.delete(key);
        entries.set(key, hit);
      }
      return hit;
    }
    const value = parse(der, context);
    entries.set(key, value);
    if (entries.size > this.limit) entries.delete(entries.keys().next().value!);
    return value;
  }
}
