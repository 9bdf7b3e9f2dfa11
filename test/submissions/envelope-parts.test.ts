import { beforeAll, describe, expect, it } from 'vitest';
import { signCms, countersignCms } from '../../src/sign/cms.js';
import { countersignJws, signJws } from '../../src/sign/jws.js';
import { readEnvelopeParts, sameEnterpriseSignature, withCountersignatures } from '../../src/submissions/envelope-parts.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { expectCode } from '../helpers/expect-code.js';
import { annualReport, createTestPki, type TestIdentity, type TestPki } from '../verify/envelope-pki.js';

/** What the workflow reads from envelopes, and how it merges an officer's countersignature. */
const NOW = new Date('2026-05-01T08:00:00Z');
let pki: TestPki;
let enterprise: TestIdentity;
let reviewer: TestIdentity;
let approver: TestIdentity;
beforeAll(async () => {
  pki = await createTestPki(NOW);
  enterprise = await pki.enterprise();
  reviewer = await pki.officer('reviewer', '350100');
  approver = await pki.officer('approver', '350000');
});

const verify = (envelope: Uint8Array, content?: Uint8Array) =>
  verifyEnvelope({ envelope, content, anchors: pki.anchors, revocation: noRevocation(), time: NOW });

describe('envelope parts', () => {
  it('reads a CMS envelope: the enterprise signature and each countersignature by the hash of its signature value', async () => {
    const base = await signCms({ signer: enterprise.signer, chain: enterprise.chain, content: annualReport(), detached: false, time: NOW });
    const one = await countersignCms(base, { signer: reviewer.signer, chain: reviewer.chain, decision: 'approve', time: NOW });
    const [a, b] = [readEnvelopeParts(base), readEnvelopeParts(one)];
    expect(a.countersignatures).toEqual([]);
    expect(b.countersignatures).toHaveLength(1);
    expect(b.countersignatures[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(sameEnterpriseSignature(a, b)).toBe(true);
  });

  it('merges countersignatures made over different copies into one envelope that verifies with both', async () => {
    const base = await signCms({ signer: enterprise.signer, chain: enterprise.chain, content: annualReport(), detached: true, time: NOW });
    const byReviewer = readEnvelopeParts(
      await countersignCms(base, { signer: reviewer.signer, chain: reviewer.chain, decision: 'review', time: NOW }),
    );
    const byApprover = readEnvelopeParts(
      await countersignCms(base, { signer: approver.signer, chain: approver.chain, decision: 'approve', time: NOW }),
    );
    const merged = withCountersignatures(
      withCountersignatures(base, byReviewer.countersignatures, { certificates: byReviewer.certificates }),
      byApprover.countersignatures,
      { certificates: byApprover.certificates },
    );
    const report = await verify(merged, annualReport());
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures.map((s) => s.decision ?? null).sort()).toEqual([null, 'approve', 'review'].sort());
    expect(
      readEnvelopeParts(merged)
        .countersignatures.map((c) => c.id)
        .sort(),
    ).toEqual([byReviewer.countersignatures[0]!.id, byApprover.countersignatures[0]!.id].sort());
  });

  it('embeds a detached JWS payload and appends countersignature entries in the general serialization', async () => {
    const jws = await signJws({ signer: enterprise.signer, chain: enterprise.chain, payload: annualReport(), time: NOW });
    const detached = Buffer.from(JSON.stringify({ ...jws, payload: '' }));
    expect(readEnvelopeParts(detached).payloadB64).toBeUndefined();
    const embedded = withCountersignatures(detached, [], { content: annualReport() });
    expect(JSON.parse(embedded.toString()).payload).toBe(Buffer.from(annualReport()).toString('base64url'));
    const countersigned = readEnvelopeParts(
      Buffer.from(
        JSON.stringify(await countersignJws(embedded, { signer: reviewer.signer, chain: reviewer.chain, decision: 'refuse', time: NOW })),
      ),
    );
    const merged = withCountersignatures(embedded, countersigned.countersignatures);
    const report = await verify(merged);
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]!.decision).toBe('refuse');
  });

  it('refuses what is neither CMS nor JWS, and a detached JWS whose payload is unknown', async () => {
    await expectCode(() => readEnvelopeParts(Buffer.from('not an envelope')), 'ERR_SUBMISSION_MALFORMED');
    await expectCode(() => readEnvelopeParts(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), 'ERR_SUBMISSION_MALFORMED');
    const jws = await signJws({ signer: enterprise.signer, chain: enterprise.chain, payload: annualReport(), time: NOW });
    await expectCode(() => withCountersignatures(Buffer.from(JSON.stringify({ ...jws, payload: '' })), []), 'ERR_SUBMISSION_MALFORMED');
  });
});
