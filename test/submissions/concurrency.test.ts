import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChanceryClient } from '../../src/client/submissions.js';
import { drivers } from '../helpers/db.js';
import {
  annualDocument,
  countersignWith,
  createWorld,
  entriesSince,
  foodDocument,
  nextApplicationId,
  signCmsWith,
  signJwsWith,
  treeSize,
  type World,
} from './fixtures.js';

/**
 * Concurrency, over HTTP against the real service: retries of one submission never make
 * a second record (unique constraints, retried 23505 inside the log's transaction), and two
 * officers countersigning the same step at once make exactly one transition, the other told why.
 */
describe.each(drivers())('submission concurrency on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number((await w.ts.service.db.query<{ n: number }>(sql, params)).rows[0]!.n);

  it('200 concurrent submissions of the same envelope make one record, one entry, and all get its id', async () => {
    const envelope = await signCmsWith(w.a, annualDocument(w.a.uscc));
    const before = await treeSize(w.ts);
    const results = await Promise.all(Array.from({ length: 200 }, () => new ChanceryClient(w.url).submit(envelope)));
    const ids = new Set(results.map((r) => (r.kind === 'rejected' ? 'rejected' : r.body.id)));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'existing')).toHaveLength(199);
    const [id] = [...ids];
    expect(
      await count(
        'SELECT count(*)::int AS n FROM submissions WHERE id = $1 OR application_id = (SELECT application_id FROM submissions WHERE id = $1)',
        [id],
      ),
    ).toBe(1);
    expect((await entriesSince(w.ts, before)).filter((e) => e.kind.startsWith('submission.'))).toHaveLength(1);
  });

  it('200 concurrent differently-signed envelopes of one application (CMS and JWS) make one record', async () => {
    const applicationId = nextApplicationId('RACE');
    const document = annualDocument(w.a.uscc, applicationId);
    const envelopes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? signCmsWith(w.a, document, { time: new Date(Date.now() - i * 1000) })
          : signJwsWith(w.a, document, { time: new Date(Date.now() - i * 1000) }),
      ),
    );
    const results = await Promise.all(envelopes.map((e) => new ChanceryClient(w.url).submit(e)));
    expect(results.filter((r) => r.kind === 'rejected')).toEqual([]);
    expect(new Set(results.map((r) => (r.kind === 'rejected' ? '' : r.body.id))).size).toBe(1);
    expect(
      await count("SELECT count(*)::int AS n FROM submissions WHERE applicant = $1 AND application_id = $2 AND status <> 'rejected'", [
        w.a.uscc,
        applicationId,
      ]),
    ).toBe(1);
  });

  it('two approvers countersigning the same step at once: one transition, the other a 409 with its code and an audit entry', async () => {
    for (let round = 0; round < 5; round++) {
      const submitted = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
      if (submitted.kind === 'rejected') throw new Error(submitted.body.detail);
      const id = submitted.body.id;
      const reviewer = await w.as(w.reviewer);
      await reviewer.countersign(id, await countersignWith(w.reviewer, await reviewer.envelope(id), 'approve'));
      const current = await reviewer.envelope(id);
      const uploads = await Promise.all(
        [w.approver, w.approver2].map(async (officer) => ({
          officer,
          envelope: await countersignWith(officer, current, 'approve'),
          client: await w.as(officer),
        })),
      );
      const before = await treeSize(w.ts);
      const outcomes = await Promise.allSettled(uploads.map((u) => u.client.countersign(id, u.envelope)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const reason = lost[0]!.reason as { code: string; detail: { status: number } };
      expect(reason.detail.status).toBe(409);
      expect(['ERR_SUBMISSION_STEP_TAKEN', 'ERR_SUBMISSION_CLOSED']).toContain(reason.code);
      const view = await (await w.as(w.auditor)).status(id);
      expect(view.status).toBe('approved');
      expect(view.history.map((h) => h.kind)).toEqual(['submission.pending', 'submission.countersigned', 'submission.approved']);
      const entries = await entriesSince(w.ts, before);
      expect(entries.filter((e) => e.kind === 'submission.approved')).toHaveLength(1);
      expect(entries.filter((e) => e.kind === 'auth.denied' && e.data['code'] === reason.code)).toHaveLength(1);
    }
  });
});
