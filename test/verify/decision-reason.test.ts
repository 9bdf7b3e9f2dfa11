import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/digest.js';
import { oid, sequence } from '../../src/der/writer.js';
import { utf8String } from '../../src/der/strings.js';
import { readDer } from '../../src/der/reader.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { countersignJws, signJws, type GeneralJws } from '../../src/sign/jws.js';
import { readCommitment } from '../../src/verify/cms-attributes.js';
import { MAX_REASON_LENGTH, normalizeReason, reasonProblem } from '../../src/verify/decision-reason.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { jadesSigningTime } from '../../src/verify/jws.js';
import { noRevocation } from '../../src/verify/revocation.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { expectCode } from '../helpers/expect-code.js';
import { createTestPki, foodLicence, type TestIdentity, type TestPki } from './envelope-pki.js';

/**
 * An officer's reason is signed with its decision, in both formats, and the validation report
 * shows it: envelopes made by src/sign over a test PKI made here, judged by the real
 * verifyEnvelope; openssl reads the CMS reason as an outside parser.
 */

const NOW = new Date('2026-03-01T08:00:00Z');
const LATER = new Date(NOW.getTime() + 3600_000);
const food = loadPolicies().require('food-business-licence');
const REASON = '经营场所面积与申报不符 (premises area differs from the application)';

let pki: TestPki;
let ent: TestIdentity;
let reviewer: TestIdentity;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki(NOW);
  ent = await pki.enterprise();
  reviewer = await pki.officer('reviewer', '350100');
  dir = mkdtempSync(join(tmpdir(), 'chancery-reason-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(envelope: Uint8Array): Promise<ValidationReport> {
  return verifyEnvelope({
    envelope,
    anchors: pki.anchors,
    intermediates: [pki.issuing.certificate],
    revocation: noRevocation(),
    policy: food,
    time: LATER,
  });
}

const check = (r: ValidationReport, id: string) => r.signatures[1]!.checks.find((c) => c.id === id);

describe('the form of a reason', () => {
  it('normalizes what a person typed: NFC, one space for each run of white space and line breaks, trimmed', () => {
    expect(normalizeReason('  Cafe\u0301 closed,\r\n\tpremises\u3000too small  ')).toBe('Café closed, premises too small');
    expect(reasonProblem(normalizeReason('  Cafe\u0301 closed,\r\n premises  '))).toBeUndefined();
  });

  it.each([
    ['not a string', 42, 'not a string'],
    ['empty', '', 'empty'],
    ['too long', 'x'.repeat(MAX_REASON_LENGTH + 1), `above the limit of ${MAX_REASON_LENGTH}`],
    ['a line break', 'one\ntwo', 'control'],
    ['a NUL', 'one\u0000two', 'control'],
    ['a right-to-left override', 'pay \u202Eevil', 'bidirectional'],
    ['decomposed (NFD)', 'Cafe\u0301', 'Normalization Form C'],
    ['a leading space', ' late', 'white space'],
    ['a double space', 'too  late', 'white space'],
    ['a lone surrogate', 'bad \uD800 text', 'surrogate'],
  ])('refuses %s', (_what, value, why) => {
    expect(reasonProblem(value)).toContain(why);
  });

  it(`counts characters, not UTF-16 units: ${MAX_REASON_LENGTH} CJK and astral characters pass`, () => {
    expect(reasonProblem('𠀀'.repeat(MAX_REASON_LENGTH))).toBeUndefined();
    expect(reasonProblem('驳'.repeat(MAX_REASON_LENGTH))).toBeUndefined();
  });
});

describe('a CMS countersignature with a reason', () => {
  async function refusedCms(reason: string | undefined): Promise<Buffer> {
    const env = await signCms({ signer: ent.signer, chain: ent.chain, content: foodLicence(), detached: false, time: NOW });
    return countersignCms(env, { signer: reviewer.signer, chain: reviewer.chain, decision: 'refuse', reason, time: NOW });
  }

  it('carries it as the commitment qualifier, a UTF8String that openssl reads back, and the report shows it', async () => {
    const envelope = await refusedCms(REASON);
    const report = await verify(envelope);
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]).toMatchObject({ role: 'countersigner', decision: 'refuse', reason: REASON });
    expect(check(report, 'cms.decision')).toMatchObject({ result: 'PASSED' });
    const file = join(dir, 'refused.p7s');
    writeFileSync(file, envelope);
    const dump = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file], { encoding: 'utf8' });
    expect(dump).toContain(OID.commitmentReason);
    expect(dump).toMatch(/UTF8STRING\s+:/);
  });

  it('has no reason member in the report when none was signed', async () => {
    const report = await verify(await refusedCms(undefined));
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]!.decision).toBe('refuse');
    expect('reason' in report.signatures[1]!).toBe(false);
  });

  it('fails the countersignature whose qualifier is not the reason (the signed bytes changed: both checks say so)', async () => {
    const envelope = await refusedCms(REASON);
    const reasonOid = oid(OID.commitmentReason);
    const at = envelope.indexOf(reasonOid);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(envelope);
    tampered[at + reasonOid.length - 1] = 9; // …2.3 → …2.9, same length
    const report = await verify(tampered);
    expect(report.indication).toBe('TOTAL_FAILED');
    expect(check(report, 'cms.decision')).toMatchObject({ result: 'FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(check(report, 'cms.decision')!.message).toContain('not one Chancery understands');
    expect(check(report, 'cms.signature')!.result).toBe('FAILED');
  });

  it('reads the qualifier strictly: one reason, UTF8String, valid UTF-8', () => {
    const cti = (...qualifiers: Buffer[]) => ({
      type: OID.commitmentTypeIndication,
      values: [readDer(sequence(oid(OID.commitmentRefusal), ...(qualifiers.length === 0 ? [] : [sequence(...qualifiers)])))],
    });
    const reason = (value: Buffer) => sequence(oid(OID.commitmentReason), value);
    expect(readCommitment(cti(reason(utf8String('ok'))))).toEqual({ type: OID.commitmentRefusal, reason: 'ok' });
    expect(() => readCommitment(cti(reason(utf8String('a')), reason(utf8String('b'))))).toThrow(/more than one reason/);
    expect(() => readCommitment(cti(reason(Buffer.from([0x13, 0x02, 0x6f, 0x6b]))))).toThrow(/UTF8String/);
    expect(() => readCommitment(cti(reason(Buffer.from([0x0c, 0x02, 0xc3, 0x28]))))).toThrow(/UTF-8/);
    expect(() => readCommitment(cti(sequence(oid(OID.proofOfApproval), utf8String('x'))))).toThrow(/not one Chancery understands/);
  });

  it('is not built from a reason in another form than the signed one', async () => {
    await expectCode(() => refusedCms('Cafe\u0301'), 'ERR_SIGN_INVALID_INPUT');
    await expectCode(() => refusedCms(''), 'ERR_SIGN_INVALID_INPUT');
  });
});

describe('a JWS countersignature with a reason', () => {
  async function enterpriseJws(): Promise<GeneralJws> {
    return signJws({ signer: ent.signer, chain: ent.chain, payload: foodLicence(), time: NOW });
  }
  const bytes = (jws: GeneralJws) => Buffer.from(JSON.stringify(jws), 'utf8');
  const header = (b64: string) => JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as Record<string, unknown>;

  /** An officer entry with exactly `fields` in its protected header (besides the usual ones), signed for real. */
  async function withEntry(jws: GeneralJws, fields: Record<string, unknown>, crit: string[]): Promise<GeneralJws> {
    const h = {
      alg: reviewer.signer.algorithm,
      x5c: reviewer.chain.map((c) => c.toString('base64')),
      iat: Math.floor(NOW.getTime() / 1000),
      sigT: jadesSigningTime(NOW),
      decision: 'refuse',
      'sig#S256': sha256(Buffer.from(jws.signatures[0]!.signature, 'base64url')).toString('base64url'),
      ...fields,
      crit,
    };
    const p = Buffer.from(JSON.stringify(h), 'utf8').toString('base64url');
    const signature = await reviewer.signer.sign(Buffer.from(`${p}.${jws.payload}`, 'ascii'), { dsaEncoding: 'ieee-p1363' });
    return { payload: jws.payload, signatures: [...jws.signatures, { protected: p, signature: signature.toString('base64url') }] };
  }

  it('carries it as a critical protected "reason", and the report shows it', async () => {
    const countered = await countersignJws(await enterpriseJws(), {
      signer: reviewer.signer,
      chain: reviewer.chain,
      decision: 'refuse',
      reason: REASON,
      time: NOW,
    });
    const h = header(countered.signatures[1]!.protected);
    expect(h).toMatchObject({ decision: 'refuse', reason: REASON, crit: ['decision', 'sig#S256', 'reason', 'sigT'] });
    const report = await verify(bytes(countered));
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]).toMatchObject({ decision: 'refuse', reason: REASON });
    expect(check(report, 'jws.reason')).toMatchObject({ result: 'PASSED' });
  });

  it('leaves "reason" out of the header and of crit when none is given', async () => {
    const countered = await countersignJws(await enterpriseJws(), {
      signer: reviewer.signer,
      chain: reviewer.chain,
      decision: 'review',
      time: NOW,
    });
    const h = header(countered.signatures[1]!.protected);
    expect('reason' in h).toBe(false);
    expect(h['crit']).toEqual(['decision', 'sig#S256', 'sigT']);
    const report = await verify(bytes(countered));
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(check(report, 'jws.reason')).toBeUndefined();
  });

  it('fails a validly signed reason that is not critical, or not in the signed form', async () => {
    const base = await enterpriseJws();
    const notCritical = await verify(bytes(await withEntry(base, { reason: REASON }, ['decision', 'sig#S256', 'sigT'])));
    expect(notCritical.indication).toBe('TOTAL_FAILED');
    expect(check(notCritical, 'jws.reason')).toMatchObject({ result: 'FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(check(notCritical, 'jws.signature')!.result).toBe('PASSED');
    expect('reason' in notCritical.signatures[1]!).toBe(false);

    for (const bad of ['Cafe\u0301', 'line\nbreak', '', 7, 'x'.repeat(MAX_REASON_LENGTH + 1)]) {
      const r = await verify(bytes(await withEntry(base, { reason: bad }, ['decision', 'sig#S256', 'reason', 'sigT'])));
      expect(r.indication).toBe('TOTAL_FAILED');
      expect(check(r, 'jws.reason')).toMatchObject({ result: 'FAILED', subIndication: 'FORMAT_FAILURE' });
      expect('reason' in r.signatures[1]!).toBe(false);
    }
  });

  it("fails an enterprise signature that carries a reason (it is an officer's parameter)", async () => {
    const p = Buffer.from(
      JSON.stringify({
        alg: ent.signer.algorithm,
        x5c: ent.chain.map((c) => c.toString('base64')),
        iat: Math.floor(NOW.getTime() / 1000),
        reason: 'mine',
      }),
    ).toString('base64url');
    const payload = foodLicence().toString('base64url');
    const signature = await ent.signer.sign(Buffer.from(`${p}.${payload}`, 'ascii'), { dsaEncoding: 'ieee-p1363' });
    const r = await verify(bytes({ payload, signatures: [{ protected: p, signature: signature.toString('base64url') }] }));
    expect(r.signatures[0]!.checks.find((c) => c.id === 'jws.role')).toMatchObject({ result: 'FAILED' });
  });

  it('is not built from a reason in another form than the signed one', async () => {
    await expectCode(
      async () =>
        countersignJws(await enterpriseJws(), {
          signer: reviewer.signer,
          chain: reviewer.chain,
          decision: 'refuse',
          reason: ' x',
          time: NOW,
        }),
      'ERR_SIGN_INVALID_INPUT',
    );
  });
});
