import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { keyObjectSigner } from '../../src/crypto/signer.js';
import { ReceiptSigner } from '../../src/submissions/receipts.js';
import { newSubmissionId, subjectOf } from '../../src/submissions/service.js';
import { selectReceipt } from '../../src/submissions/store.js';
import { SubmissionWriter, type PreparedSubmission } from '../../src/submissions/writer.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { recordingAudit } from '../ca/fixtures.js';

/** The group-commit writer: decisions per batch, duplicates inside a batch, isolation of a bad submission. */
const APPLICANT = '91440305000100001C';

function prepared(
  applicationId: string,
  overrides: Partial<PreparedSubmission['record']> = {},
  envelope = Buffer.from(applicationId),
): PreparedSubmission {
  const digest = Buffer.from(envelope).toString('hex').padEnd(64, '0').slice(0, 64);
  return {
    applicant: APPLICANT,
    applicationId,
    authentic: true,
    envelopeSha256: digest,
    requestSha256: digest,
    signerSerial: null,
    policy: undefined,
    reportRejection: undefined,
    callerActor: undefined,
    entryData: { applicant: APPLICANT, applicationId },
    record: {
      applicant: APPLICANT,
      applicationId,
      division: '440305',
      documentType: 'annual-report',
      policy: null,
      format: 'cms',
      envelopeSha256: digest,
      requestSha256: digest,
      documentSha256: 'd'.repeat(64),
      signerSerial: null,
      approval: [],
      envelope,
      content: null,
      report: '{}',
      ...overrides,
    },
  };
}

describe.each(drivers())('SubmissionWriter on $name', (driver) => {
  let t: TestDatabase;
  let audit: ReturnType<typeof recordingAudit>;
  let writer: SubmissionWriter;
  beforeAll(async () => {
    t = await createMigrated(driver);
    await t.db.query(
      `INSERT INTO enterprises (uscc, name, division, status, registered_at) VALUES ($1, 'Writer Test Co', '440305', 'active', now())`,
      [APPLICANT],
    );
    audit = recordingAudit(t.db);
    const { privateKey, publicKey } = generateKeyPair('P-256');
    writer = new SubmissionWriter(
      audit,
      new ReceiptSigner(keyObjectSigner('seal', privateKey, publicKey), [Buffer.from([0x30, 0x00])]),
      newSubmissionId,
      subjectOf,
    );
  });
  afterAll(async () => t?.drop());

  it('decides concurrent submissions together: one record per application, duplicates answered with it', async () => {
    const results = await Promise.all(
      [prepared('W-1'), prepared('W-2'), prepared('W-1', {}, Buffer.from('W-1 re-signed')), prepared('W-2')].map((p) => writer.write(p)),
    );
    const created = results.filter((r) => 'created' in r);
    expect(created).toHaveLength(2);
    const ids = results.map((r) => ('created' in r ? r.created.summary.id : r.existing));
    expect(ids[2]).toBe(ids[0]);
    expect(ids[3]).toBe(ids[1]);
    expect(Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM submissions')).rows[0]!.n)).toBe(2);
    expect(audit.entries.filter((e) => e.kind === 'submission.accepted')).toHaveLength(2);
  });

  it('fails only the submission the database refuses, not the others of its batch', async () => {
    const before = audit.entries.length;
    const results = await Promise.allSettled(
      [prepared('W-3'), prepared('W-4', { division: 'not-a-division' }), prepared('W-5')].map((p) => writer.write(p)),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await t.db.query<{ application_id: string }>('SELECT application_id FROM submissions ORDER BY application_id');
    expect(rows.rows.map((r) => r.application_id)).toEqual(['W-1', 'W-2', 'W-3', 'W-5']);
    // No entry without its state change: only the two recorded submissions left entries.
    expect(audit.entries.slice(before).map((e) => e.data['applicationId'])).toEqual(['W-3', 'W-5']);
  });

  it("stores the seal's receipt header once and gives every receipt back exactly as signed", async () => {
    const results = await Promise.all([prepared('W-7'), prepared('W-8')].map((p) => writer.write(p)));
    for (const r of results) {
      if (!('created' in r)) throw new Error('expected new submissions');
      expect((await selectReceipt(t.db, r.created.summary.id))?.receipt).toBe(r.created.receipt);
      const stored = await t.db.query<{ receipt: string }>('SELECT receipt FROM submission_transitions WHERE submission_id = $1', [
        r.created.summary.id,
      ]);
      expect(r.created.receipt.endsWith(`.${stored.rows[0]!.receipt}`)).toBe(true);
    }
    expect(Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM submission_receipt_headers')).rows[0]!.n)).toBe(1);
  });

  it('reads a receipt stored whole (before receipt headers were stored apart) as it is', async () => {
    const r = await writer.write(prepared('W-9'));
    if (!('created' in r)) throw new Error('expected a new submission');
    await t.db.query('UPDATE submission_transitions SET receipt = $2, receipt_header = NULL WHERE submission_id = $1', [
      r.created.summary.id,
      r.created.receipt,
    ]);
    expect((await selectReceipt(t.db, r.created.summary.id))?.receipt).toBe(r.created.receipt);
  });

  it('rejects a submission whose applicant the registry does not know, with a record and an entry', async () => {
    const unknown = {
      ...prepared('W-6'),
      applicant: '91310101000200004X',
      record: { ...prepared('W-6').record, applicant: '91310101000200004X', division: '310101' },
    };
    const outcome = await writer.write(unknown);
    expect('created' in outcome && outcome.created.rejection?.code).toBe('ERR_SUBMISSION_ENTERPRISE_UNKNOWN');
    expect(audit.entries.at(-1)!.kind).toBe('submission.rejected');
  });
});
