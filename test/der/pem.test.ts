import { describe, expect, it } from 'vitest';
import { looksLikePem, pemDecodeAll, pemEncode } from '../../src/der/pem.js';

describe('PEM (RFC 7468)', () => {
  const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  it('writes 64-column lines and reads them back, skipping blocks of other labels and surrounding text', () => {
    const pem = pemEncode('CERTIFICATE', der);
    expect(pem.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
    const text = `explanatory text\n${pemEncode('X509 CRL', Buffer.from([1]))}${pem}trailing`;
    expect(pemDecodeAll(text, ['CERTIFICATE'])).toEqual([der]);
    expect(pemDecodeAll(text, ['X509 CRL', 'CERTIFICATE'])).toEqual([Buffer.from([1]), der]);
  });

  it('refuses a body that is empty or not strict base64', () => {
    expect(pemDecodeAll('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', ['CERTIFICATE'])).toBeUndefined();
    expect(pemDecodeAll('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n', ['CERTIFICATE'])).toBeUndefined();
    expect(pemDecodeAll('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', ['CERTIFICATE'])).toBeUndefined();
  });

  it('tells PEM text from DER', () => {
    expect(looksLikePem(Buffer.from(pemEncode('CERTIFICATE', der)))).toBe(true);
    expect(looksLikePem(Buffer.from(`  \n${pemEncode('CERTIFICATE', der)}`))).toBe(true);
    expect(looksLikePem(Buffer.from('Subject: CN=x\n-----BEGIN CERTIFICATE-----\n'))).toBe(true);
    expect(looksLikePem(Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.from('-----BEGIN ')]))).toBe(false);
    expect(looksLikePem(Buffer.alloc(0))).toBe(false);
  });
});
