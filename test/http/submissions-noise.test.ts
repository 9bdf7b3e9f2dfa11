import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChanceryClient } from '../../src/client/submissions.js';
import { signCms } from '../../src/sign/cms.js';
import { drivers } from '../helpers/db.js';
import { createWorld, entriesSince, foodDocument, signCmsWith, treeSize, type World } from '../submissions/fixtures.js';
import { createTestPki } from '../verify/envelope-pki.js';

/**
 * Junk that names an enterprise does not pass for its applications: what enterprise B signs
 * naming A is rejected and recorded (B is someone this CA certified), but A's own list shows only
 * what A signed, and lists B's junk apart, flagged as not signed by A. An envelope with no
 * certificate of this CA at all names nobody: refused with no record, entry or receipt.
 */
describe.each(drivers())('submission noise on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  it("keeps B's junk naming A out of A's own list, listing it apart and flagged", async () => {
    const own = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    expect(own.kind).toBe('created');
    const junk: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await new ChanceryClient(w.url).submit(await signCmsWith(w.b, foodDocument(w.a.uscc)));
      expect(r.kind === 'rejected' && r.body.code).toBe('ERR_SUBMISSION_APPLICANT_MISMATCH');
      if (r.kind === 'rejected') junk.push(r.body.submission.id);
    }
    const a = await w.as(w.a);
    const mine = (await a.list({ limit: 100 })).items;
    expect(mine.map((i) => i.id)).toContain((own as { body: { id: string } }).body.id);
    expect(mine.filter((i) => junk.includes(i.id))).toEqual([]);
    expect((await a.list({ status: 'rejected', limit: 100 })).items.filter((i) => junk.includes(i.id))).toEqual([]);

    const others = await a.json<{ items: Array<{ id: string; signedByApplicant?: boolean; applicant: string }> }>(
      'GET',
      '/api/v1/submissions?signedBy=others&limit=100',
    );
    expect(others.items.map((i) => i.id).sort()).toEqual([...junk].sort());
    expect(others.items.every((i) => i.signedByApplicant === false && i.applicant === w.a.uscc)).toBe(true);
    const bad = await a.fetch('GET', '/api/v1/submissions?signedBy=nobody');
    expect(bad.status).toBe(400);
  });

  it('refuses an envelope from a foreign CA without a record, an entry or a receipt', async () => {
    const foreign = await (await createTestPki(new Date(), 'Elsewhere')).enterprise({ organizationIdentifier: `NTRCN-${w.a.uscc}` });
    const envelope = await signCms({
      signer: foreign.signer,
      chain: foreign.chain,
      content: foodDocument(w.a.uscc),
      detached: false,
      time: new Date(),
    });
    const before = await treeSize(w.ts);
    const rows = async () => Number((await w.ts.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM submissions')).rows[0]!.n);
    const count = await rows();
    for (let i = 0; i < 5; i++) {
      const res = await new ChanceryClient(w.url).fetch('POST', '/api/v1/submissions', { type: 'application/cms', bytes: envelope });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { code: string; receipt?: string };
      expect(body.code).toBe('ERR_SUBMISSION_UNIDENTIFIED');
      expect(body.receipt).toBeUndefined();
    }
    expect(await entriesSince(w.ts, before)).toEqual([]);
    expect(await rows()).toBe(count);
  });
});
