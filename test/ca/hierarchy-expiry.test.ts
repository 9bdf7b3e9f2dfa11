import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPIRY_WARNING_DAYS, expiringHierarchyCertificates } from '../../src/ca/hierarchy.js';
import { createCaFixture, type CaFixture } from './fixtures.js';
import { drivers } from '../helpers/db.js';

const DAY = 86_400_000;

describe('hierarchy certificates that nothing renews are announced before they expire', () => {
  let f: CaFixture;
  beforeAll(async () => {
    f = await createCaFixture(drivers()[0]!);
  });
  afterAll(async () => f?.close());

  it('names none on a new hierarchy', () => {
    expect(expiringHierarchyCertificates(f.hierarchy, new Date())).toEqual([]);
  });

  it('names the OCSP responder and admin certificates (2 years) first, with the days left, inside the warning window', () => {
    const ocspEnd = f.hierarchy.ocsp.notAfter.getTime();
    const at = new Date(ocspEnd - 10 * DAY - 1000);
    const found = expiringHierarchyCertificates(f.hierarchy, at);
    expect(found.map((c) => c.certificate).sort()).toEqual(['admin', 'ocsp']);
    expect(found.find((c) => c.certificate === 'ocsp')).toMatchObject({ daysLeft: 10, notAfter: f.hierarchy.ocsp.notAfter });
    // One day before the window opens, nothing yet.
    expect(expiringHierarchyCertificates(f.hierarchy, new Date(ocspEnd - (EXPIRY_WARNING_DAYS + 1) * DAY))).toEqual([]);
  });

  it('orders by expiry and gives negative days for an expired certificate', () => {
    const sealEnd = f.hierarchy.seal.notAfter.getTime();
    const found = expiringHierarchyCertificates(f.hierarchy, new Date(sealEnd + 2 * DAY));
    expect(found.map((c) => c.certificate)).toContain('seal');
    expect(found.find((c) => c.certificate === 'seal')!.daysLeft).toBeLessThan(0);
    const ends = found.map((c) => c.notAfter.getTime());
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    expect(found.map((c) => c.certificate)).not.toContain('root');
  });
});
