import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { ATTRIBUTE_TYPES } from './profiles.js';

const SHORT: Record<string, string> = Object.fromEntries(Object.entries(ATTRIBUTE_TYPES).map(([name, spec]) => [spec.oid, name]));

/** The attributes of a DER Name, in order, with short names where known (else the dotted OID). */
export function nameAttributes(der: Uint8Array): Array<{ type: string; oid: string; value: string }> {
  const name = AsnConvert.parse(der, Name);
  const out: Array<{ type: string; oid: string; value: string }> = [];
  for (const rdn of name) for (const atv of rdn) out.push({ type: SHORT[atv.type] ?? atv.type, oid: atv.type, value: atv.value.toString() });
  return out;
}

/**
 * A Name for people and logs, in encoding order: `C=CN, O=Acme, organizationIdentifier=…, CN=Acme`,
 * with RFC 4514 §2.4 escaping of the special characters.
 */
export function formatName(der: Uint8Array): string {
  return nameAttributes(der)
    .map(({ type, value }) => `${type}=${value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ')}`)
    .join(', ');
}
