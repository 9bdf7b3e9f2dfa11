import { describe, expect, it } from 'vitest';
import { buildCrl } from '../../src/ca/crl.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { sequence } from '../../src/der/writer.js';
import { parseCrl } from '../../src/verify/crl.js';

describe('buildCrl', () => {
  it('builds a CRL with 200,000 revoked entries (the entry list is never spread into a call)', async () => {
    const signer = signerFromPem('crl', generateUserKey('P-256').privateKeyPem);
    const at = new Date('2026-03-01T08:00:00Z');
    const entries = Array.from({ length: 200_000 }, (_, i) => ({ serial: (0x10_0000 + i).toString(16), revokedAt: at, reason: i % 3 }));
    const der = await buildCrl({
      issuerName: sequence(),
      issuerKeyIdentifier: Buffer.alloc(20, 7),
      signer,
      number: 42,
      thisUpdate: at,
      nextUpdate: new Date(at.getTime() + 86_400_000),
      entries,
    });
    const crl = parseCrl(der);
    expect(crl.entryCount).toBe(200_000);
    expect(crl.crlNumber).toBe(42n);
    // Reason 0 (unspecified) is written as no reasonCode extension (RFC 5280 §5.3.1).
    expect(crl.entries.get('100000')?.[0]?.reason).toBeUndefined();
    expect(crl.entries.get('100001')?.[0]?.reason).toBe('keyCompromise');
    expect(crl.entries.get('130d3d')?.[0]?.reason).toBe('cACompromise');
  }, 60_000);
});
