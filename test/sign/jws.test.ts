import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { countersignJws, signJws, toCompact, toFlattened } from '../../src/sign/jws.js';
import { parseJws } from '../../src/verify/jws-parse.js';
import { verifyJwsEntry } from '../../src/verify/jws.js';
import { expectCode } from '../helpers/expect-code.js';
import { annualReport, createTestPki, type TestIdentity } from '../verify/envelope-pki.js';

const NOW = new Date('2026-03-01T08:00:00.750Z');

describe('signJws / countersignJws', () => {
  let ent: TestIdentity;
  let officer: TestIdentity;
  beforeAll(async () => {
    const pki = await createTestPki(NOW);
    ent = await pki.enterprise();
    officer = await pki.officer('approver');
  });

  const header = (b64: string): Record<string, unknown> => JSON.parse(Buffer.from(b64, 'base64url').toString()) as Record<string, unknown>;

  it('signs a JAdES baseline entry: alg, cty, x5c (leaf first), x5t#S256, iat and sigT in whole seconds, sigT critical, r||s', async () => {
    const doc = annualReport();
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: NOW });
    expect(Buffer.from(jws.payload, 'base64url')).toEqual(doc);
    const h = header(jws.signatures[0]!.protected);
    expect(h).toEqual({
      alg: 'ES256',
      cty: 'json',
      x5c: ent.chain.map((c) => c.toString('base64')),
      'x5t#S256': createHash('sha256').update(ent.chain[0]!).digest('base64url'),
      iat: Math.floor(NOW.getTime() / 1000),
      sigT: '2026-03-01T08:00:00Z',
      crit: ['sigT'],
    });
    expect(Buffer.from(jws.signatures[0]!.signature, 'base64url')).toHaveLength(64);
    const parsed = parseJws(JSON.stringify(jws));
    expect(await verifyJwsEntry(parsed.signatures[0]!, jws.payload, ent.certificate.publicKey, ['ES256'], ['sigT'])).toEqual({ ok: true });
    // A verifier that does not understand sigT refuses the entry (that is what crit is for).
    expect((await verifyJwsEntry(parsed.signatures[0]!, jws.payload, ent.certificate.publicKey, ['ES256'])).ok).toBe(false);
  });

  it('converts a one-signature JWS to the flattened and compact forms', async () => {
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: annualReport(), time: NOW });
    expect(parseJws(JSON.stringify(toFlattened(jws))).serialization).toBe('flattened');
    expect(parseJws(toCompact(jws)).serialization).toBe('compact');
    const countered = await countersignJws(jws, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW });
    await expectCode(() => toCompact(countered), 'ERR_SIGN_INVALID_INPUT');
  });

  it('countersigns with decision, iat, sig#S256 of the enterprise signature bytes and crit, keeping the first entry as it was', async () => {
    const jws = await signJws({ signer: ent.signer, chain: ent.chain, payload: annualReport(), time: NOW });
    const countered = await countersignJws(toCompact(jws), { signer: officer.signer, chain: officer.chain, decision: 'refuse', time: NOW });
    expect(countered.signatures[0]).toEqual(jws.signatures[0]);
    expect(countered.payload).toBe(jws.payload);
    const h = header(countered.signatures[1]!.protected);
    expect(h).toMatchObject({ alg: 'ES256', decision: 'refuse', sigT: '2026-03-01T08:00:00Z', crit: ['decision', 'sig#S256', 'sigT'] });
    expect(h['sig#S256']).toBe(createHash('sha256').update(Buffer.from(jws.signatures[0]!.signature, 'base64url')).digest('base64url'));
    const parsed = parseJws(JSON.stringify(countered));
    expect(
      await verifyJwsEntry(
        parsed.signatures[1]!,
        countered.payload,
        officer.certificate.publicKey,
        ['ES256'],
        ['decision', 'sig#S256', 'sigT'],
      ),
    ).toEqual({ ok: true });
    // A verifier that does not understand the countersignature parameters refuses the entry.
    expect((await verifyJwsEntry(parsed.signatures[1]!, countered.payload, officer.certificate.publicKey, ['ES256'])).ok).toBe(false);
  });

  it('refuses to countersign something that is not a JWS, or a detached one', async () => {
    await expectCode(
      () => countersignJws('not a jws', { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW }),
      'ERR_SIGN_ENVELOPE_UNREADABLE',
    );
    const [h, , s] = toCompact(await signJws({ signer: ent.signer, chain: ent.chain, payload: annualReport(), time: NOW })).split('.');
    await expectCode(
      () => countersignJws(`${h}..${s}`, { signer: officer.signer, chain: officer.chain, decision: 'approve', time: NOW }),
      'ERR_SIGN_ENVELOPE_UNREADABLE',
    );
  });

  it('signs with Ed25519 and RSA keys (EdDSA, RS256)', async () => {
    const pki = await createTestPki(NOW);
    for (const [keyAlg, alg] of [
      ['Ed25519', 'EdDSA'],
      ['RSA-2048', 'RS256'],
    ] as const) {
      const id = await pki.enterprise({ keyAlg });
      const jws = await signJws({ signer: id.signer, chain: id.chain, payload: annualReport(), time: NOW });
      expect(header(jws.signatures[0]!.protected)['alg']).toBe(alg);
      expect(
        await verifyJwsEntry(parseJws(JSON.stringify(jws)).signatures[0]!, jws.payload, id.certificate.publicKey, [alg], ['sigT']),
      ).toEqual({
        ok: true,
      });
    }
  });
});
