import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { loadPolicies } from '../../src/policy/policy.js';
import { verifyJwsWithKey } from '../../src/verify/jws.js';
import { vectorSuite } from '../helpers/vectors.js';

/**
 * Wycheproof `json_web_signature_test.json` (C2SP/wycheproof dac1dd47, Apache-2.0; harness per
 * ../shared/vectors/wycheproof/README.md) through Chancery's JWS verification: strict parsing, our
 * header rules, then jose with the algorithms pinned to the shipped policies' allow-list. The
 * key is the group's JWK, so jose also applies its `alg`/`use`/`key_ops`. Three outcomes are
 * counted apart: pass, wrong answer (must be 0), and a `valid` vector refused by algorithm policy
 * (HMAC, RS384/512, PS384/512, ES512 are outside Chancery's allow-list).
 */

interface Test {
  tcId: number;
  comment: string;
  jws: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface Group {
  comment: string;
  public?: JWK;
  private?: JWK;
  tests: Test[];
}

const dir = vectorSuite('wycheproof');
const ALLOWED = loadPolicies().require('annual-report').signature.algorithms;

describe.skipIf(dir === undefined)('Wycheproof JWS through verifyJwsWithKey', () => {
  it('gives no wrong answer on any of the 401 vectors', async () => {
    const file = JSON.parse(readFileSync(join(dir!, 'json_web_signature_test.json'), 'utf8')) as {
      numberOfTests: number;
      testGroups: Group[];
    };
    const counts = { pass: 0, wrong: 0, rejectedByPolicy: 0, total: 0 };
    const wrong: string[] = [];
    for (const group of file.testGroups) {
      const key = (group.public ?? group.private)!;
      // An HMAC key (kty oct) is outside Chancery's policy whatever the JWS looks like: the README
      // asks for its valid vectors to be counted as policy rejections (a few, e.g. tcId 372/373,
      // are only "valid" to a lenient base64url decoder, which Chancery's parser is not).
      const keyOutsidePolicy = key.kty === 'oct';
      for (const t of group.tests) {
        counts.total++;
        const r = await verifyJwsWithKey(t.jws, key, ALLOWED);
        if (t.result === 'valid' && !r.ok && (r.byPolicy || keyOutsidePolicy)) counts.rejectedByPolicy++;
        else if ((t.result === 'valid') === r.ok || t.result === 'acceptable') counts.pass++;
        else {
          counts.wrong++;
          wrong.push(
            `tcId ${t.tcId} (${group.comment}/${t.comment}): expected ${t.result}, got ${r.ok ? 'accepted' : `refused: ${r.reason}`}`,
          );
        }
      }
    }
    process.stdout.write(`wycheproof jws: ${JSON.stringify(counts)}\n`);
    expect(wrong).toEqual([]);
    expect(counts.total).toBe(file.numberOfTests);
    // Every refusal by policy is a valid vector of an algorithm outside the allow-list, never a vector we got wrong.
    expect(counts.pass + counts.rejectedByPolicy).toBe(counts.total);
  });
});
