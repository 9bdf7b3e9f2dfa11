import { createRequire } from 'node:module';
import { AuditError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * RFC 8785 (JCS) canonical JSON. The `canonicalize` package passes every case of
 * vectors/jcs (6 input/output pairs, 10,000 number serializations): test/audit/jcs-vectors.test.ts.
 * Its types declare an ESM default export over a CommonJS module, hence the require.
 */
const serialize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/** Deepest nesting an entry may have; deeper input is refused rather than recursed into. */
export const MAX_JSON_DEPTH = 32;

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Canonical JSON text of a value that `assertCanonicalizable` accepts. Callers that hold
 * untrusted values MUST call `assertCanonicalizable` first.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new AuditError('ERR_AUDIT_ENTRY_INVALID', 'value has no JSON form');
  return text;
}

/**
 * Refuses anything whose canonical form would be lossy or ambiguous: numbers that are not safe
 * integers (I-JSON, RFC 7493 §2.2: the log carries integers only), strings with lone surrogates
 * (not Unicode, RFC 8785 §3.2.2.2), undefined, functions, class instances, cycles, deep nesting.
 */
export function assertCanonicalizable(value: unknown, path = '$', depth = 0): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) invalid(path, 'contains a lone surrogate (not Unicode text)');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) invalid(path, `${value} is not a safe integer (the log holds integers only)`);
    return;
  }
  if (depth >= MAX_JSON_DEPTH) invalid(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertCanonicalizable(value[i], `${path}[${i}]`, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) invalid(path, 'is not a plain object');
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (LONE_SURROGATE.test(key)) invalid(`${path}`, `has a key with a lone surrogate`);
      assertCanonicalizable(item, `${path}.${key}`, depth + 1);
    }
    return;
  }
  invalid(path, `is a ${typeof value}, which JSON cannot carry`);
}

function invalid(path: string, why: string): never {
  throw new AuditError('ERR_AUDIT_ENTRY_INVALID', `${path} ${why}`);
}
