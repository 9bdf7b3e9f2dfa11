import { childrenOf, readDer, readOid, toHex } from '../der/reader.js';
import { decodeDirectoryString } from '../der/strings.js';
import { TAG } from '../der/tags.js';
import { ATTRIBUTE_TYPES } from './profiles.js';

const SHORT: Record<string, string> = Object.fromEntries(Object.entries(ATTRIBUTE_TYPES).map(([name, spec]) => [spec.oid, name]));

/**
 * The attributes of a DER Name, in order, with short names where known (else the dotted OID);
 * values that are not valid directory strings are shown as `#hex` of their DER. Throws (RangeError or
 * DerError) on malformed DER.
 */
export function nameAttributes(der: Uint8Array): Array<{ type: string; oid: string; value: string }> {
  const name = readDer(der, 'a Name');
  if (name.tag !== TAG.SEQUENCE) throw new RangeError('a Name is one SEQUENCE');
  const out: Array<{ type: string; oid: string; value: string }> = [];
  for (const rdn of childrenOf(name, 'a Name')) {
    if (rdn.tag !== TAG.SET) throw new RangeError('an RDN is a SET');
    for (const atv of childrenOf(rdn, 'an RDN')) {
      if (atv.tag !== TAG.SEQUENCE) throw new RangeError('malformed AttributeTypeAndValue');
      const [type, value, extra] = childrenOf(atv, 'an AttributeTypeAndValue');
      if (type?.tag !== TAG.OID || value === undefined || extra !== undefined) throw new RangeError('malformed AttributeTypeAndValue');
      const oid = readOid(type, 'an attribute type');
      out.push({ type: SHORT[oid] ?? oid, oid, value: decodeDirectoryString(value) ?? `#${toHex(value.bytes)}` });
    }
  }
  return out;
}

/**
 * A Name for people and logs, in encoding order: `C=CN, O=Acme, organizationIdentifier=…, CN=Acme`,
 * with RFC 4514 §2.4 escaping of the special characters.
 */
export function formatName(der: Uint8Array): string {
  return formatAttributes(nameAttributes(der));
}

export function formatAttributes(attributes: ReadonlyArray<{ type: string; value: string }>): string {
  return attributes
    .map(
      ({ type, value }) =>
        `${type}=${value
          .replace(/([,+"\\<>;])/g, '\\$1')
          .replace(/^([ #])/, '\\$1')
          .replace(/ $/, '\\ ')}`,
    )
    .join(', ');
}
