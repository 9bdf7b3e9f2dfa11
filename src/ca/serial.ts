import { randomBytes } from '../crypto/digest.js';
import { CaError } from './errors.js';

/**
 * Certificate serial numbers: 128 bits from the CSPRNG, encoded as a positive INTEGER
 * (RFC 5280 §4.1.2.2 allows up to 20 octets). Chancery names a serial by the lowercase hex of its
 * value's octets without leading zero octets (even length, as openssl prints it, and as
 * `normalizeSerial` of src/verify compares) — one string per number however it was written.
 */
export interface Serial {
  /** Big-endian magnitude. */
  bytes: Buffer;
  hex: string;
}

export function newSerial(): Serial {
  const bytes = randomBytes(16);
  return { bytes, hex: serialHex(bytes) };
}

/** Canonical hex of a big-endian magnitude. */
export function serialHex(magnitude: Uint8Array): string {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  return magnitude.length === 0 ? '00' : Buffer.from(magnitude.subarray(start)).toString('hex');
}

/**
 * Parses a serial as a user writes it (hex, any case, optional colons, as openssl prints it) into
 * its canonical form, or ERR_CA_SERIAL_MALFORMED.
 */
export function parseSerial(input: unknown): string {
  if (typeof input !== 'string') throw new CaError('ERR_CA_SERIAL_MALFORMED', 'a serial number is a hex string');
  const compact = input.trim().replace(/:/g, '').toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,42}$/.test(compact)) {
    throw new CaError('ERR_CA_SERIAL_MALFORMED', `"${input.slice(0, 64)}" is not a certificate serial number (hex, up to 20 octets)`, {
      detail: { field: 'serial' },
    });
  }
  const hex = serialHex(Buffer.from(compact.length % 2 === 0 ? compact : `0${compact}`, 'hex'));
  if (hex.length > 40)
    throw new CaError('ERR_CA_SERIAL_MALFORMED', 'a serial number has at most 20 octets', { detail: { field: 'serial' } });
  return hex;
}

/** Magnitude bytes of a canonical serial. */
export function serialBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}
