import { malformedDer } from './errors.js';
import { TAG } from './tags.js';

/**
 * UTCTime and GeneralizedTime in the DER profile (X.690 §11.7, §11.8; RFC 5280 §4.1.2.5), both
 * ways: UTC ("Z"), seconds present, no GeneralizedTime fraction with trailing zeros.
 */

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

/**
 * The instant a UTCTime (`tag` 0x17) or GeneralizedTime (0x18) denotes. UTCTime years 50–99 are
 * 19xx (RFC 5280 §4.1.2.5.1). MUST refuse (DerError) any other spelling and dates that do not exist.
 */
export function decodeTime(tag: number, contents: Uint8Array, what: string): Date {
  const text = Buffer.from(contents).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string[];
  let fraction = '';
  if (tag === TAG.UTC_TIME) {
    m = UTC_TIME.exec(text);
    if (m === null) throw malformedDer(`${what} is not a DER UTCTime (YYMMDDHHMMSSZ)`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = m.slice(2, 7);
  } else if (tag === TAG.GENERALIZED_TIME) {
    m = GENERALIZED_TIME.exec(text);
    if (m === null) throw malformedDer(`${what} is not a DER GeneralizedTime (YYYYMMDDHHMMSS[.f]Z)`);
    year = Number(m[1]);
    rest = m.slice(2, 7);
    fraction = m[7] ?? '';
  } else {
    throw malformedDer(`${what} is neither UTCTime nor GeneralizedTime`);
  }
  const [mo, d, h, mi, s] = rest.map(Number) as [number, number, number, number, number];
  const ms = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s, ms));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw malformedDer(`${what} is not a real date and time`);
  }
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (whole seconds, UTC): the complete TLV. */
export function generalizedTime(date: Date): Buffer {
  return timeTlv(TAG.GENERALIZED_TIME, date, false);
}

/**
 * GeneralizedTime YYYYMMDDHHMMSS[.fff]Z with the date's milliseconds, trailing zeros of the
 * fraction dropped and no fraction at all for a whole second (X.690 §11.7): the complete TLV.
 */
export function generalizedTimeMillis(date: Date): Buffer {
  const iso = date.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  const text = Buffer.from(`${iso.slice(0, 19).replace(/[-:T]/g, '')}${fraction === '' ? '' : `.${fraction}`}Z`, 'ascii');
  return Buffer.concat([Buffer.from([TAG.GENERALIZED_TIME, text.length]), text]);
}

/** RFC 5280 §4.1.2.5: UTCTime for 1950 through 2049, GeneralizedTime otherwise; the complete TLV. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? timeTlv(TAG.UTC_TIME, date, true) : timeTlv(TAG.GENERALIZED_TIME, date, false);
}

/**
 * The TLV written digit by digit (a CRL encodes one time per entry, ~100,000 of them: no string
 * formatting). Years 0–9999 (what Date.toISOString writes with four digits); UTCTime: two digits.
 */
function timeTlv(tag: number, date: Date, twoDigitYear: boolean): Buffer {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new RangeError(`no DER time for ${String(date)}`);
  const fields = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  const length = (twoDigitYear ? 2 : 4) + 2 * fields.length + 1;
  const out = Buffer.allocUnsafe(2 + length);
  out[0] = tag;
  out[1] = length;
  let at = 2;
  const two = (n: number): void => {
    out[at++] = 0x30 + Math.floor(n / 10);
    out[at++] = 0x30 + (n % 10);
  };
  if (twoDigitYear) two(year % 100);
  else {
    two(Math.floor(year / 100));
    two(year % 100);
  }
  for (const f of fields) two(f);
  out[at] = 0x5a; // Z
  return out;
}
