import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from '../../src/crypto/digest.js';
import { OID } from '../../src/oids.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { envelopeSignatureValue, signCms } from '../../src/sign/cms.js';
import { verifyEnvelope, type ProofOfExistence, type VerifyEnvelopeInput } from '../../src/verify/envelope.js';
import { inMemoryRevocation, type RevocationSource } from '../../src/verify/revocation.js';
import { verifyArchiveChain, type ArchiveChain, type ArchiveLink } from '../../src/verify/timestamp.js';
import type { ValidationReport } from '../../src/verify/validation-report.js';
import { createOpensslTsa, type OpensslTsa } from '../helpers/openssl-timestamper.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from './envelope-pki.js';

/**
 * Archive time-stamps of the log's checkpoints as proofs of existence (X-Road style): a signature
 * whose log entry is under a checkpoint time-stamped by a trusted TSA existed at the token's
 * genTime, so its certificate may have expired since. Renewal: a later checkpoint time-stamped
 * under a newer TSA certificate, whose tree holds the entry recording the older token, keeps the
 * older token trusted after its own TSA certificate expired. Tokens come from an outside TSA
 * (`openssl ts -reply`) with certificates under the test CA; openssl stamps the wall clock, so
 * the PKI is made around the real time and "later" is two years on (the enterprise's one-year
 * certificate and the first TSA's 30-day certificate have expired, the second TSA's five-year one
 * has not).
 */

const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const SOON = new Date(NOW.getTime() + 60_000);
const LATER = new Date(NOW.getTime() + 2 * 365 * DAY);
const annual = loadPolicies().require('annual-report');

let pki: TestPki;
let otherPki: TestPki;
let oldTsa: OpensslTsa;
let newTsa: OpensslTsa;
let strangerTsa: OpensslTsa;
let ent: TestIdentity;
let envelope: Buffer;
const note1 = Buffer.from('chancery.test/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— chancery.test/log sig1\n');
const note2 = Buffer.from('chancery.test/log\n25\nBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\n— chancery.test/log sig2\n');
let oldToken: Uint8Array;
let newToken: Uint8Array;

const stamp = (tsa: OpensslTsa, data: Uint8Array): Promise<Uint8Array> =>
  tsa.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(data) });

beforeAll(async () => {
  pki = await createTestPki(NOW);
  otherPki = await createTestPki(NOW, 'Stranger');
  oldTsa = await createOpensslTsa(pki, { issue: { commonName: 'Old Archive TSA', notAfter: new Date(NOW.getTime() + 30 * DAY) } });
  newTsa = await createOpensslTsa(pki, { issue: { commonName: 'New Archive TSA' } });
  strangerTsa = await createOpensslTsa(otherPki, { issue: { commonName: 'Untrusted TSA' } });
  ent = await pki.enterprise();
  envelope = await signCms({ signer: ent.signer, chain: ent.chain, content: annualReport(), detached: false, time: NOW });
  oldToken = await stamp(oldTsa, note1);
  newToken = await stamp(newTsa, note2);
});
afterAll(() => {
  oldTsa?.close();
  newTsa?.close();
  strangerTsa?.close();
});

const good = (): RevocationSource =>
  inMemoryRevocation([
    { issuer: pki.issuing.certificate, revoked: [] },
    { issuer: pki.root.certificate, revoked: [] },
  ]);
const link = (token: Uint8Array, note: Buffer, treeSize: number, recordedUnderNext = false): ArchiveLink => ({
  token,
  note,
  treeSize,
  recordedUnderNext,
});
const context = (time: Date) => ({ anchors: pki.anchors, intermediates: [pki.issuing.certificate], revocation: good(), time });
const poe = (chain: ArchiveChain): ProofOfExistence[] => [
  {
    signatureValueSha256: sha256Hex(envelopeSignatureValue(envelope)),
    source: 'archive-timestamp',
    chain,
    detail: 'log entry 3 (submission.accepted) proven under the archive checkpoints',
  },
];
const verify = (chain: ArchiveChain | undefined, extra: Partial<VerifyEnvelopeInput> = {}): Promise<ValidationReport> =>
  verifyEnvelope({
    envelope,
    anchors: pki.anchors,
    revocation: good(),
    policy: annual,
    time: LATER,
    ...(chain === undefined ? {} : { proofsOfExistence: poe(chain) }),
    ...extra,
  });
const failing = (checks: ReadonlyArray<{ id: string; result: string }>) => checks.filter((c) => c.result !== 'PASSED').map((c) => c.id);

describe('archive time-stamps as proofs of existence', () => {
  it('without one, the expired enterprise certificate two years on is INDETERMINATE', async () => {
    const r = await verify(undefined);
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
  });

  it('a trusted archive time-stamp over a checkpoint covering the entry dates the signature: source archive-timestamp', async () => {
    const r = await verify({ links: [link(newToken, note2, 25)] });
    expect(failing(r.signatures[0]!.checks)).toEqual([]);
    expect(r.indication).toBe('TOTAL_PASSED');
    const best = r.signatures[0]!.bestSignatureTime;
    expect(best.source).toBe('archive-timestamp');
    expect(Date.parse(best.time)).toBeLessThan(SOON.getTime());
    expect(best.detail).toMatch(/log entry 3.*archive time-stamp 1 .*size 25.*New Archive TSA/);
    expect(r.signatures[0]!.archiveTimestamps?.map((t) => t.indication)).toEqual(['TOTAL_PASSED']);
  });

  it('an archive time-stamp whose TSA certificate has expired by the validation time is reported, not trusted', async () => {
    const r = await verify({ links: [link(oldToken, note1, 10)] });
    expect(r.indication).toBe('INDETERMINATE');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
    const t = r.signatures[0]!.archiveTimestamps![0]!;
    expect(t.indication).not.toBe('TOTAL_PASSED');
    expect(failing(t.checks).some((id) => id.startsWith('timestamp.path') || id.startsWith('timestamp.validity'))).toBe(true);
  });

  it('renewal: a newer token over a later checkpoint recording the older token keeps the older one trusted, dated at its own genTime', async () => {
    const chain = { links: [link(oldToken, note1, 10, true), link(newToken, note2, 25)] };
    const v = await verifyArchiveChain(chain, context(LATER));
    expect(v.reports.map((t) => t.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
    expect(v.reports[0]!.checks.find((c) => c.id === 'timestamp.renewal')?.message).toMatch(/genTime of archive time-stamp 2/);
    expect(v.proofTime?.toISOString()).toBe(v.reports[0]!.genTime);
    expect(v.proofTime!.getTime()).toBeLessThanOrEqual(Date.parse(v.reports[1]!.genTime!));
    const r = await verify(chain);
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('archive-timestamp');
    expect(r.signatures[0]!.bestSignatureTime.time).toBe(v.reports[0]!.genTime);
    expect(r.signatures[0]!.bestSignatureTime.detail).toMatch(/Old Archive TSA, renewed by the later ones/);
  });

  it('without the record of the older token under the newer checkpoint, only the newer token dates the entries', async () => {
    const v = await verifyArchiveChain({ links: [link(oldToken, note1, 10, false), link(newToken, note2, 25)] }, context(LATER));
    expect(v.reports[0]!.indication).not.toBe('TOTAL_PASSED');
    expect(v.reports[1]!.indication).toBe('TOTAL_PASSED');
    expect(v.proofTime?.toISOString()).toBe(v.reports[1]!.genTime);
  });

  it('a forged token is reported (SIG_CRYPTO_FAILURE or a format fault), not trusted, and does not fail the signature', async () => {
    const forged = Buffer.from(newToken);
    forged[forged.length - 10]! ^= 0x01;
    const r = await verify({ links: [link(forged, note2, 25)] }, { time: SOON });
    expect(r.indication).toBe('TOTAL_PASSED'); // valid on its own at SOON
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
    const t = r.signatures[0]!.archiveTimestamps![0]!;
    expect(t.indication).not.toBe('TOTAL_PASSED');
    expect(failing(t.checks).length).toBeGreaterThan(0);
    const later = await verify({ links: [link(forged, note2, 25)] });
    expect(later.indication).toBe('INDETERMINATE');
  });

  it('a token over other data (another checkpoint note) is HASH_FAILURE, not trusted', async () => {
    const r = await verify({ links: [link(newToken, note1, 10)] });
    expect(r.indication).toBe('INDETERMINATE');
    const t = r.signatures[0]!.archiveTimestamps![0]!;
    expect(t.subIndication).toBe('HASH_FAILURE');
    expect(failing(t.checks)).toContain('timestamp.message-imprint');
  });

  it('a token whose TSA does not chain to a trust anchor is reported, not trusted', async () => {
    const token = await stamp(strangerTsa, note2);
    const r = await verify({ links: [link(token, note2, 25)] });
    expect(r.indication).toBe('INDETERMINATE');
    const t = r.signatures[0]!.archiveTimestamps![0]!;
    expect(t.indication).not.toBe('TOTAL_PASSED');
    expect(r.signatures[0]!.bestSignatureTime.source).toBe('validation-time');
  });

  it('a token dated after the validation time proves nothing yet', async () => {
    const before = new Date(NOW.getTime() - 5_000);
    const v = await verifyArchiveChain({ links: [link(newToken, note2, 25)] }, context(before));
    expect(v.proofTime).toBeUndefined();
    expect(failing(v.reports[0]!.checks)).toContain('timestamp.gen-time');
  });
});
