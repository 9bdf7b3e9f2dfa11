import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/verify/certificate.js';
import { verifyEnvelope } from '../../src/verify/envelope.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { verifyReceipt } from '../../src/submissions/receipts.js';
import { loadPolicies } from '../../src/policy/policy.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import {
  annualDocument,
  countersignWith,
  createWorld,
  entriesSince,
  foodDocument,
  nextApplicationId,
  REFUSAL_REASON,
  signCmsWith,
  signJwsWith,
  treeSize,
  type World,
} from '../submissions/fixtures.js';

const REASON = 'Заявка неполная: the floor plan is missing (平面图缺失)';

describe.each(drivers())('submissions end to end over HTTP on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  const anchors = () => [parseCertificate(w.ts.service.parts.ca.hierarchy.root.der)];

  it('takes a CMS food-business licence through reviewer and approver to approved, with a receipt and a log entry per transition', async () => {
    const before = await treeSize(w.ts);
    const envelope = await signCmsWith(w.a, foodDocument(w.a.uscc));
    const submitted = await new ChanceryClient(w.url).submit(envelope);
    expect(submitted.kind).toBe('created');
    if (submitted.kind === 'rejected') throw new Error('rejected');
    const id = submitted.body.id;
    expect(submitted.body.status).toBe('pending');
    expect(submitted.body.nextStep).toEqual({ index: 0, role: 'reviewer' });

    const reviewer = await w.as(w.reviewer);
    const queue = await reviewer.list({ status: 'pending' });
    expect(queue.items.map((i) => i.id)).toContain(id);

    const current = await reviewer.envelope(id);
    const reviewed = await reviewer.countersign(id, await countersignWith(w.reviewer, current, 'approve'));
    expect(reviewed.status).toBe('pending');
    expect(reviewed.nextStep).toEqual({ index: 1, role: 'approver' });

    const approver = await w.as(w.approver);
    const approved = await approver.countersign(id, await countersignWith(w.approver, await approver.envelope(id), 'approve'));
    expect(approved.status).toBe('approved');

    const view = await (await w.as(w.a)).status(id);
    expect(view.status).toBe('approved');
    expect(view.history.map((h) => h.kind)).toEqual(['submission.pending', 'submission.countersigned', 'submission.approved']);
    expect(view.approval.steps.map((s) => s.countersignature?.officerId)).toEqual([w.reviewer.id, w.approver.id]);

    // Every transition is one entry about this submission, at the index its receipt names.
    const entries = (await entriesSince(w.ts, before)).filter((e) => e.subject === `submission:${id}`);
    expect(entries.map((e) => e.kind)).toEqual(view.history.map((h) => h.kind));
    expect(entries.map((e) => e.index)).toEqual(view.history.map((h) => h.logIndex));
    for (const h of view.history) {
      const receipt = await (await w.as(w.auditor)).receipt(id, h.logIndex);
      const verified = await verifyReceipt(receipt, { anchors: anchors(), revocation: noRevocation() });
      expect(verified.payload).toMatchObject({
        submission: id,
        applicant: w.a.uscc,
        status: h.status,
        logIndex: h.logIndex,
        leafHash: h.leafHash,
        at: h.at,
      });
      expect(verified.payload.documentDigest).toBe(view.documentSha256);
    }

    // The current envelope is a third party's to verify: enterprise signature and both countersignatures.
    const final = await (await w.as(w.auditor)).envelope(id);
    const report = await verifyEnvelope({
      envelope: final,
      anchors: anchors(),
      intermediates: [parseCertificate(w.issuing)],
      revocation: noRevocation(),
      policy: loadPolicies().get('food-business-licence'),
      time: new Date(),
    });
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures.map((s) => [s.role, s.decision ?? null])).toEqual([
      ['signer', null],
      ['countersigner', 'approve'],
      ['countersigner', 'approve'],
    ]);
  });

  it('accepts an annual report on verification alone (JWS), and answers the same envelope again with the existing submission', async () => {
    const client = await w.as(w.a);
    const envelope = await signJwsWith(w.a, annualDocument(w.a.uscc));
    const first = await client.submit(envelope);
    expect(first.kind).toBe('created');
    expect(first.body).toMatchObject({ status: 'accepted', nextStep: null });
    const again = await client.submit(envelope);
    expect(again.kind).toBe('existing');
    expect(again.body).toMatchObject({ id: (first.body as { id: string }).id, status: 'accepted', existing: true });
  });

  it('answers a re-signed envelope of the same (applicant, applicationId) with the existing submission, not a second record', async () => {
    const client = await w.as(w.a);
    const document = annualDocument(w.a.uscc, nextApplicationId('SAME'));
    const first = await client.submit(await signCmsWith(w.a, document));
    const second = await client.submit(await signCmsWith(w.a, document, { time: new Date(Date.now() - 5000) }));
    expect(second.kind).toBe('existing');
    expect((second.body as { id: string }).id).toBe((first.body as { id: string }).id);
  });

  it('takes a detached CMS with its document as the documented multipart form, and serves the document back', async () => {
    const client = await w.as(w.a);
    const document = annualDocument(w.a.uscc);
    const result = await client.submit(await signCmsWith(w.a, document, { detached: true }), document);
    expect(result.kind).toBe('created');
    const id = (result.body as { id: string }).id;
    expect((await client.document(id)).equals(document)).toBe(true);
  });

  it('takes a detached JWS, keeps it with its payload embedded, and lets officers countersign it to refused', async () => {
    const document = foodDocument(w.a.uscc);
    const result = await (await w.as(w.a)).submit(await signJwsWith(w.a, document, { detached: true }), document);
    const id = (result.body as { id: string }).id;
    const reviewer = await w.as(w.reviewer);
    const current = await reviewer.envelope(id);
    expect(JSON.parse(current.toString()).payload).toBe(document.toString('base64url'));
    const before = await treeSize(w.ts);
    const refused = await reviewer.countersign(id, await countersignWith(w.reviewer, current, 'refuse', new Date(), REASON));
    expect(refused).toMatchObject({ status: 'refused', nextStep: null, refusalReason: REASON });
    await expectReasonShown(id, before, REASON);
  });

  it('shows the reason of a CMS refusal in the view, the history, the audit entry and the validation report; the receipt is as before', async () => {
    const envelope = await signCmsWith(w.a, foodDocument(w.a.uscc));
    const submitted = await new ChanceryClient(w.url).submit(envelope);
    if (submitted.kind === 'rejected') throw new Error('rejected');
    const before = await treeSize(w.ts);
    const reviewer = await w.as(w.reviewer);
    await reviewer.countersign(submitted.body.id, await countersignWith(w.reviewer, await reviewer.envelope(submitted.body.id), 'refuse'));
    await expectReasonShown(submitted.body.id, before, REFUSAL_REASON);
  });

  /** The refusal's reason, as the officer signed it, everywhere the decision is shown; the receipt keeps its documented payload. */
  async function expectReasonShown(id: string, before: number, reason: string): Promise<void> {
    const mine = await (await w.as(w.a)).list({ status: 'refused' });
    expect(mine.items.find((i) => i.id === id)).toMatchObject({ status: 'refused', refusalReason: reason });
    const view = await (await w.as(w.a)).status(id);
    expect(view.approval.steps[0]!.countersignature).toMatchObject({ officerId: w.reviewer.id, decision: 'refuse', reason });
    expect(view.approval.steps[1]!.countersignature).toBeNull();
    const last = view.history.at(-1)!;
    expect(last).toMatchObject({ kind: 'submission.refused', detail: { decision: 'refuse', reason } });
    const entries = (await entriesSince(w.ts, before)).filter((e) => e.subject === `submission:${id}`);
    expect(entries.map((e) => [e.kind, e.data['decision'], e.data['reason']])).toEqual([['submission.refused', 'refuse', reason]]);
    const receipt = await verifyReceipt(await (await w.as(w.a)).receipt(id, last.logIndex), {
      anchors: anchors(),
      revocation: noRevocation(),
    });
    expect(Object.keys(receipt.payload).sort()).toEqual([
      'applicant',
      'at',
      'documentDigest',
      'leafHash',
      'logIndex',
      'status',
      'submission',
    ]);
    expect(receipt.payload).toMatchObject({ status: 'refused', logIndex: last.logIndex });
    const report = await verifyEnvelope({
      envelope: await (await w.as(w.auditor)).envelope(id),
      anchors: anchors(),
      intermediates: [parseCertificate(w.issuing)],
      revocation: noRevocation(),
      policy: loadPolicies().get('food-business-licence'),
      time: new Date(),
    });
    expect(report.indication).toBe('TOTAL_PASSED');
    expect(report.signatures[1]).toMatchObject({ role: 'countersigner', decision: 'refuse', reason });
  }

  it("pages the officers' queue: their jurisdiction, steps their role signs, without what they already signed", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
      ids.push((r.body as { id: string }).id);
    }
    const reviewer = await w.as(w.reviewer);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await reviewer.list({ status: 'pending', limit: 2, ...(after === undefined ? {} : { after }) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((s) => s.status === 'pending' && s.nextStep?.role === 'reviewer' && s.applicant === w.a.uscc)).toBe(true);
      seen.push(...page.items.map((s) => s.id));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
    // Reviewed: it leaves the reviewer's queue and enters the approvers'.
    await reviewer.countersign(ids[0]!, await countersignWith(w.reviewer, await reviewer.envelope(ids[0]!), 'approve'));
    expect((await reviewer.list({ status: 'pending', limit: 500 })).items.map((s) => s.id)).not.toContain(ids[0]);
    expect((await (await w.as(w.approver)).list({ status: 'pending', limit: 500 })).items.map((s) => s.id)).toContain(ids[0]);
    // Another jurisdiction's reviewer sees none of A's; enterprise B sees none of A's either.
    expect((await (await w.as(w.outsider)).list({ status: 'pending', limit: 500 })).items.filter((s) => s.applicant === w.a.uscc)).toEqual(
      [],
    );
    expect((await (await w.as(w.b)).list({ limit: 500 })).items.filter((s) => s.applicant === w.a.uscc)).toEqual([]);
    await expect((await w.as(w.reviewer)).list({ status: 'bogus' })).rejects.toMatchObject({ code: 'ERR_SUBMISSION_QUERY_INVALID' });
  });
});
