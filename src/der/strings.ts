import { TAG } from './tags.js';
import { tlv } from './writer.js';

/** The character string types of X.520 directory strings (X.680 §41), both ways. */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text of a string value, or undefined for other types or for contents that are not valid in
 * their type (a NumericString with a letter, a PrintableString above 0x7f, malformed UTF-8, …):
 * such a value is then compared and shown by its bytes, never as a guessed text.
 */
export function decodeDirectoryString(el: { readonly tag: number; readonly value: Uint8Array }): string | undefined {
  const v = el.value;
  try {
    switch (el.tag) {
      case TAG.UTF8_STRING:
        return utf8.decode(v);
      case TAG.NUMERIC_STRING: // digits and space only (X.680 §41.2); anything else compares as bytes
        for (const b of v) if (b !== 0x20 && (b < 0x30 || b > 0x39)) return undefined;
        return Buffer.from(v).toString('latin1');
      case TAG.PRINTABLE_STRING:
      case TAG.IA5_STRING:
      case TAG.VISIBLE_STRING:
        for (const b of v) if (b > 0x7f) return undefined;
        return Buffer.from(v).toString('latin1');
      case TAG.T61_STRING: // TeletexString: treated as Latin-1, as most implementations do
        return Buffer.from(v).toString('latin1');
      case TAG.BMP_STRING: {
        // UTF-16BE
        if (v.length % 2 !== 0) return undefined;
        const swapped = Buffer.from(v);
        swapped.swap16();
        return swapped.toString('utf16le');
      }
      case TAG.UNIVERSAL_STRING: {
        // UTF-32BE
        if (v.length % 4 !== 0) return undefined;
        let s = '';
        for (let i = 0; i < v.length; i += 4) {
          const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
          if (cp > 0x10ffff) return undefined;
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** X.680 §41.4 PrintableString repertoire. */
export const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** UTF8String of any text. */
export const utf8String = (value: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'));
/** PrintableString; the caller MUST have checked `value` against PRINTABLE. */
export const printableString = (value: string): Buffer => tlv(TAG.PRINTABLE_STRING, Buffer.from(value, 'latin1'));
/** IA5String; the caller MUST pass ASCII only. */
export const ia5String = (value: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(value, 'latin1'));
