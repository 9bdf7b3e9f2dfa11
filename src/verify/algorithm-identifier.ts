import { childrenOf, expectTag, readOid, type DerElement } from '../der/reader.js';
import { TAG } from '../der/tags.js';
import type { AlgorithmIdentifier } from './certificate-types.js';
import { malformed } from './errors.js';

/** Parses an AlgorithmIdentifier (RFC 5280 §4.1.1.2), keeping its exact encoding. */
export function parseAlgorithmIdentifier(el: DerElement | undefined, what: string): AlgorithmIdentifier {
  const parts = childrenOf(expectTag(el, TAG.SEQUENCE, what), what);
  if (parts.length < 1 || parts.length > 2) throw malformed(`${what} is not an OID with optional parameters`);
  return {
    oid: readOid(parts[0], what),
    parameters: parts[1] === undefined ? undefined : Buffer.from(parts[1].bytes),
    der: Buffer.from(el!.bytes),
  };
}
