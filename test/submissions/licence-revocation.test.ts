import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import { countersignWith, createWorld, entriesSince, foodDocument, signCmsWith, treeSize, type World } from './fixtures.js';

/**
 * An enterprise whose licence is revoked has its open applications closed in the same
 * transaction: each becomes `rejected` (ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE, with the reason)
 * through a `submission.rejected` entry and a sealed receipt, leaves the officers' queue, and a
 * later approval attempt is refused as closed without writing anything.
 */
describe.each(drivers())('revoking a licence closes its open applications on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  it('rejects each pending application of the enterprise with a receipt, in the transaction of the revocation', async () => {
    const submit = async () => {
      const r = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
      if (r.kind === 'rejected') throw new Error(r.body.detail);
      return r.body;
    };
    const first = await submit();
    const second = await submit();
    expect([first.status, second.status]).toEqual(['pending', 'pending']);
    // B's application is not A's: it stays open.
    const other = await new ChanceryClient(w.url).submit(await signCmsWith(w.b, foodDocument(w.b.uscc)));
    expect(other.kind).toBe('created');

    const reviewer = await w.as(w.reviewer);
    const envelope = await reviewer.envelope(first.id);
    const queued = async () => (await reviewer.list({ status: 'pending' })).items.map((i) => i.id);
    expect(await queued()).toEqual(expect.arrayContaining([first.id, second.id]));

    const before = await treeSize(w.ts);
    await w.admin.json('POST', `/api/v1/enterprises/${w.a.uscc}/revoke`, { reason: 'licence revoked by the authority' });
    const written = await entriesSince(w.ts, before);
    const revokedAt = written.findIndex((e) => e.kind === 'enterprise.revoked');
    expect(revokedAt).toBeGreaterThanOrEqual(0);
    const closings = written.filter((e) => e.kind === 'submission.rejected');
    expect(closings.map((e) => e.data['submission'])).toEqual([first.id, second.id]);
    // Same transaction: the closings follow the revocation entry directly, with the same time.
    expect(written.slice(revokedAt + 1, revokedAt + 3).map((e) => e.kind)).toEqual(['submission.rejected', 'submission.rejected']);
    for (const e of closings) {
      expect(e.data).toMatchObject({ applicant: w.a.uscc, status: 'rejected', code: 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE' });
      expect(String(e.data['reason'])).toContain('licence revoked by the authority');
    }

    const auditor = await w.as(w.auditor);
    for (const s of [first, second]) {
      const view = await auditor.status(s.id);
      expect(view.status).toBe('rejected');
      expect(JSON.stringify(view)).toContain('ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE');
      const receipt = await auditor.receipt(s.id);
      const payload = JSON.parse(Buffer.from(receipt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(payload).toMatchObject({ submission: s.id, status: 'rejected' });
      expect(payload['logIndex']).toBe(closings.find((e) => e.data['submission'] === s.id)!.index);
    }
    expect(await queued()).not.toContain(first.id);
    expect(await queued()).not.toContain(second.id);
    expect((await auditor.status((other as { body: { id: string } }).body.id)).status).toBe('pending');

    // An approval attempt now (by a certified officer: its refusal is its own entry) is refused as closed.
    const size = await treeSize(w.ts);
    const attempt = await reviewer.fetch('POST', `/api/v1/submissions/${first.id}/countersignatures`, {
      type: 'application/cms',
      bytes: await countersignWith(w.reviewer, envelope, 'approve'),
    });
    expect(attempt.status).toBe(409);
    expect(((await attempt.json()) as { code: string }).code).toBe('ERR_SUBMISSION_CLOSED');
    expect((await entriesSince(w.ts, size)).map((e) => [e.kind, e.data['code']])).toEqual([['auth.denied', 'ERR_SUBMISSION_CLOSED']]);
  });
});
