import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { vectorSuite } from '../helpers/vectors.js';

/**
 * RFC 8785 conformance: vectors/jcs (cyberphone/json-canonicalization @ 19d51d7, Apache-2.0).
 * Harness (vectors/jcs/README.md): canonicalize(JSON.parse(input)) == output byte for byte; every
 * line of numbers/es6testfile-10k.txt serializes its IEEE-754 double as expected.
 */
const dir = vectorSuite('jcs');

describe.skipIf(dir === undefined)('RFC 8785 canonical JSON (vectors/jcs)', () => {
  const names = dir === undefined ? [] : readdirSync(join(dir, 'input')).filter((f) => f.endsWith('.json'));

  it('has the six published input/output pairs', () => {
    expect(names.sort()).toEqual(['arrays.json', 'french.json', 'structures.json', 'unicode.json', 'values.json', 'weird.json']);
  });

  it.each(names)('canonicalizes %s byte for byte', (name) => {
    const input = JSON.parse(readFileSync(join(dir!, 'input', name), 'utf8')) as unknown;
    const expected = readFileSync(join(dir!, 'output', name));
    const hex = Buffer.from(readFileSync(join(dir!, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8').replace(/\s+/g, ''), 'hex');
    expect(hex.equals(expected)).toBe(true);
    expect(Buffer.from(canonicalJson(input), 'utf8').equals(expected)).toBe(true);
  });

  it('serializes all 10,000 numbers of es6testfile-10k.txt as ECMAScript does', () => {
    const lines = readFileSync(join(dir!, 'numbers', 'es6testfile-10k.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(10_000);
    const failures: string[] = [];
    for (const line of lines) {
      const [hex, expected] = line.split(',') as [string, string];
      const value = Buffer.from(hex.padStart(16, '0'), 'hex').readDoubleBE(0);
      if (canonicalJson(value) !== expected) failures.push(line);
    }
    expect(failures).toEqual([]);
  });
});
