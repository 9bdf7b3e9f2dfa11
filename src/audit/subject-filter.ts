/**
 * A scalable Bloom filter of subject strings: "definitely never seen" answers without a database
 * round trip, which is what a brand-new subject (its first entry, `subjectPrev: null`) needs.
 * False positives only cost a lookup. Filters are added as it fills (each twice the capacity of
 * the last), so no size must be known up front. Hashing is FNV-1a over UTF-16 code units with
 * two seeds and double hashing (Kirsch–Mitzenmacher): not cryptographic, and needs not be.
 */
const HASHES = 7;
const BITS_PER_ITEM = 10; // about 1% false positives at capacity with 7 hashes

class Filter {
  readonly bits: Uint8Array;
  readonly size: number;
  count = 0;

  constructor(readonly capacity: number) {
    this.size = capacity * BITS_PER_ITEM;
    this.bits = new Uint8Array(Math.ceil(this.size / 8));
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.size;
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.size;
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class SubjectFilter {
  #filters: Filter[] = [];

  constructor(private readonly initialCapacity = 65_536) {
    this.clear();
  }

  clear(): void {
    this.#filters = [new Filter(this.initialCapacity)];
  }

  add(subject: string): void {
    const [h1, h2] = hashes(subject);
    if (this.#filters.some((f) => f.has(h1, h2))) return;
    let last = this.#filters[this.#filters.length - 1]!;
    if (last.count >= last.capacity) {
      last = new Filter(last.capacity * 2);
      this.#filters.push(last);
    }
    last.add(h1, h2);
  }

  /** False only when `subject` was certainly never added. */
  mightContain(subject: string): boolean {
    const [h1, h2] = hashes(subject);
    return this.#filters.some((f) => f.has(h1, h2));
  }
}

function hashes(subject: string): [number, number] {
  // h2 odd so that the probe sequence visits distinct bits.
  return [fnv1a(subject, 0x811c9dc5), (fnv1a(subject, 0x050c5d1f) | 1) >>> 0];
}
