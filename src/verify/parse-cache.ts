/**
 * Parsed values kept by the exact bytes they were parsed from: the same bytes always give the
 * same (immutable) object, so re-parsing a certificate, CRL or name seen before is a map lookup.
 * Bounded, least recently used first out, because the keys come from hostile input.
 */
export class ParseCache<T> {
  readonly #entries = new Map<string, T>();

  constructor(readonly limit: number) {}

  /** The value parsed from `der` before, or `parse(der)` (which MUST NOT return a value it mutates later). */
  get(der: Uint8Array, parse: (der: Uint8Array) => T): T {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const value = parse(der);
    this.#entries.set(key, value);
    if (this.#entries.size > this.limit) this.#entries.delete(this.#entries.keys().next().value!);
    return value;
  }
}
