import { describe, expect, it } from 'vitest';
import { coveredDivisionPrefix, jurisdictionCovers } from '../../src/registry/jurisdiction.js';

describe('jurisdictionCovers', () => {
  it.each([
    ['350000', '350100', true], // a province covers its cities
    ['350000', '350102', true], // … and their districts
    ['350000', '440300', false],
    ['350100', '350102', true], // a city covers its districts
    ['350100', '350100', true],
    ['350100', '350200', false],
    ['350100', '350000', false], // a city does not cover its province
    ['350102', '350102', true], // a district covers only itself
    ['350102', '350103', false],
    ['35010', '350102', false], // malformed codes cover nothing
    ['350102', 'abcdef', false],
  ])('officer %s covers enterprise %s: %s', (officer, enterprise, covers) => {
    expect(jurisdictionCovers(officer, enterprise)).toBe(covers);
  });
});

describe('coveredDivisionPrefix', () => {
  it('agrees with jurisdictionCovers on every pair of a sample of codes', () => {
    const codes = ['350000', '350100', '350102', '350200', '440000', '440300', '440305', '110000', '110101', 'x50000', '35010'];
    for (const officer of codes) {
      for (const enterprise of codes.filter((c) => /^\d{6}$/.test(c))) {
        const prefix = coveredDivisionPrefix(officer);
        expect(prefix !== undefined && enterprise.startsWith(prefix), `${officer} → ${enterprise}`).toBe(
          jurisdictionCovers(officer, enterprise),
        );
      }
    }
  });
});
