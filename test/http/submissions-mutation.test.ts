import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, readDer, type DerElement } from '../../src/der/reader.js';
import { drivers } from '../helpers/db.js';
import { annualDocument, createWorld, signCmsWith, type World } from '../submissions/fixtures.js';

/**
 * No signed byte of a submission can change quietly: every single-bit mutation of an accepted
 * CMS envelope, posted again, is refused (400/422) unless it falls where RFC 5652 and RFC 5280
 * say it changes nothing — the unsigned digestAlgorithms set, the extra (untrusted) issuing-CA
 * certificate the envelope carries beside the trusted one, or a letter's case in the signer
 * identifier's issuer name (names match case-insensitively; ESS certHash pins the certificate).
 * Those verify and answer the existing submission (200), never a second record. No mutation gets
 * a 5xx.
 */

const MUTATIONS = 600;

describe('bit flips of an accepted CMS submission', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(drivers()[0]!);
  });
  afterAll(async () => w?.stop());

  it(`refuses every one of ${MUTATIONS} single-bit mutations that touches a signed or meaningful byte`, async () => {
    const good = await signCmsWith(w.a, annualDocument(w.a.uscc));
    const post = (body: Uint8Array): Promise<Response> =>
      fetch(`${w.url}/api/v1/submissions`, { method: 'POST', headers: { 'content-type': 'application/cms' }, body });
    const first = await post(good);
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };

    const offset = (el: DerElement): [number, number] => [
      el.bytes.byteOffset - good.byteOffset,
      el.bytes.byteOffset - good.byteOffset + el.bytes.length,
    ];
    const signedData = childrenOf(childrenOf(childrenOf(readDer(good))[1]!)[0]!);
    const digestAlgorithms = offset(signedData[1]!);
    const signerInfo = childrenOf(signedData.at(-1)!)[0]!;
    const sid = offset(childrenOf(signerInfo)[1]!);
    const issuingAt = good.indexOf(w.a.chain[1]!);
    const issuing: [number, number] = [issuingAt, issuingAt + w.a.chain[1]!.length];
    expect(issuingAt).toBeGreaterThan(0);
    const inside = (at: number, [from, to]: [number, number]): boolean => at >= from && at < to;
    const isLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

    let seed = 20261127;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const wrong: string[] = [];
    let refused = 0;
    for (let i = 0; i < MUTATIONS; i++) {
      const at = rnd(good.length);
      const bit = 1 << rnd(8);
      const mutated = Buffer.from(good);
      mutated[at]! ^= bit;
      const res = await post(mutated);
      const body = (await res.json()) as { id?: string; existing?: boolean; code?: string };
      const where = `byte ${at} bit ${bit}: ${res.status} ${body.code ?? ''}`;
      // 415: the first byte no longer starts DER, so the body contradicts its media type.
      if (res.status === 400 || res.status === 415 || res.status === 422) {
        refused++;
        continue;
      }
      const harmless = inside(at, digestAlgorithms) || inside(at, issuing) || (inside(at, sid) && bit === 0x20 && isLetter(good[at]!));
      if (res.status !== 200 || body.existing !== true || body.id !== id || !harmless) wrong.push(where);
    }
    expect(wrong).toEqual([]);
    expect(refused).toBeGreaterThan(MUTATIONS * 0.6);
  }, 120_000);
});
