import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReceipt } from '../../src/submissions/receipts.js';
import type { SubmissionView } from '../../src/submissions/types.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { pgliteDriver } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { createWorld, foodDocument, signCmsWith, type World } from '../submissions/fixtures.js';
import { holderFiles, scratchDir, type HolderFiles } from './cli-world.js';

/** `chancery status` as a real process, as the enterprise, an officer and an outsider. */
describe('chancery status', () => {
  let w: World;
  let dir: string;
  let id: string;
  let enterprise: HolderFiles;
  let reviewer: HolderFiles;
  let outsider: HolderFiles;
  beforeAll(async () => {
    w = await createWorld(pgliteDriver);
    dir = scratchDir();
    enterprise = holderFiles(w, w.a, dir);
    reviewer = holderFiles(w, w.reviewer, dir);
    outsider = holderFiles(w, w.outsider, dir);
    const submitted = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc)));
    if (submitted.kind === 'rejected') throw new Error(submitted.body.detail);
    id = submitted.body.id;
  });
  afterAll(async () => w?.stop());

  it('shows the status, the steps and the history with log indexes, and saves document and receipt', async () => {
    const r = await runCli([
      'status',
      '--url',
      w.url,
      id,
      ...enterprise.args,
      '--document-out',
      join(dir, 'doc.json'),
      '--receipt-out',
      join(dir, 'r.jws'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${id}: PENDING`);
    expect(r.stdout).toMatch(/step 1 reviewer.*: waiting/);
    expect(r.stdout).toMatch(/log +\d+ +\S+ +submission\.pending → pending/);
    expect(JSON.parse(readFileSync(join(dir, 'doc.json'), 'utf8'))).toMatchObject({ type: 'food-business-licence', applicant: w.a.uscc });
    expect(readReceipt(readFileSync(join(dir, 'r.jws'), 'utf8')).payload).toMatchObject({ submission: id, status: 'pending' });
    const json = JSON.parse((await runCli(['status', '--url', w.url, id, ...enterprise.args, '--json'])).stdout) as {
      status: string;
      history: unknown[];
    };
    expect(json).toMatchObject({ status: 'pending' });
    expect(json.history).toHaveLength(1);
  });

  it("lists an officer's queue without an ID", async () => {
    const r = await runCli(['status', '--url', w.url, '--status', 'pending', ...reviewer.args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(id);
  });

  it("shows a refusal's reason, as the officer signed it with `chancery countersign --reason`, to the applicant", async () => {
    const envelope = join(dir, 'current.p7s');
    expect((await runCli(['status', '--url', w.url, id, ...reviewer.args, '--envelope-out', envelope])).code).toBe(0);
    const reason = '食品安全管理员未取得培训合格证明 (the food-safety manager is not certified)';
    const refused = join(dir, 'refused.p7s');
    const signed = await runCli([
      'countersign',
      ...reviewer.args,
      '--in',
      envelope,
      '--decision',
      'refuse',
      '--reason',
      reason,
      '--out',
      refused,
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const uploaded = await runCli(['submit', '--url', w.url, '--in', refused, '--submission', id, ...reviewer.args]);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const r = await runCli(['status', '--url', w.url, id, ...enterprise.args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${id}: REFUSED`);
    expect(r.stdout).toMatch(new RegExp(`step 1 reviewer.*: refuse by .*, reason ${JSON.stringify(reason).replace(/[()]/g, '\\$&')}`));
    const json = JSON.parse((await runCli(['status', '--url', w.url, id, ...enterprise.args, '--json'])).stdout) as SubmissionView;
    expect(json.approval.steps[0]!.countersignature).toMatchObject({ decision: 'refuse', reason });
    expect(json.history.at(-1)).toMatchObject({ kind: 'submission.refused', detail: { reason } });
  });

  it('exits 1 with the code for an officer outside the jurisdiction, and 64 without a credential', async () => {
    const r = await runCli(['status', '--url', w.url, id, ...outsider.args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_AUTH_FORBIDDEN');
    expect((await runCli(['status', '--url', w.url, id])).code).toBe(64);
  });
});
