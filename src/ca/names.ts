import { children, decodeDirectoryString, decodeOid, readTlv, TAG } from './der.js';
import { ATTRIBUTE_TYPES } from './profiles.js';

const SHORT: Record<string, string> = Object.fromEntries(Object.entries(ATTRIBUTE_TYPES).map(([name, spec]) => [spec.oid, name]));

/**
 * The attributes of a DER Name, in order, with short names where known (else the dotted OID);
 * values that are not directory strings are shown as `#hex`. Throws RangeError on malformed DER.
 */
export function nameAttributes(der: Uint8Array): Array<{ type: string; oid: string; value: string }> {
  const name = readTlv(der, 0);
  if (name.tag !== TAG.sequence || name.end !== der.length) throw new RangeError('a Name is one SEQUENCE');
  const out: Array<{ type: string; oid: string; value: string }> = [];
  for (const rdn of children(der, name)) {
    if (rdn.tag !== TAG.set) throw new RangeError('an RDN is a SET');
    for (const atv of children(der, rdn)) {
      const [type, value, extra] = children(der, atv);
      if (atv.tag !== TAG.sequence || type?.tag !== TAG.oid || value === undefined || extra !== undefined) throw new RangeError('malformed AttributeTypeAndValue');
      const oid = decodeOid(der.subarray(type.start, type.end));
      const text = decodeDirectoryString(value.tag, der.subarray(value.start, value.end));
      out.push({ type: SHORT[oid] ?? oid, oid, value: text ?? `#${Buffer.from(der.subarray(value.offset, value.end)).toString('hex')}` });
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
  return attributes.map(({ type, value }) => `${type}=${value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ')}`).join(', ');
}
