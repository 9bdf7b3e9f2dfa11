import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReplayResult } from '../../src/audit/auditor/replay.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import type { Signer } from '../../src/crypto/signer.js';
import { openPg } from '../../src/db/pg.js';
import { pemDecodeAll, pemEncode } from '../../src/der/pem.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { countersignJws, signJws } from '../../src/sign/jws.js';
import { annualReport, documentBytes, foodBusinessLicence } from '../../src/submissions/samples.js';
import type { Decision } from '../../src/verify/cms-attributes.js';
import { expectIntactLog } from '../audit/helpers.js';
import { createPgDatabase, dropPgDatabase, pgOnly } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';
import { startNode, startThreeNodes, waitFor, type ServiceNode } from './service-nodes.js';

const pg = pgOnly();

interface Holder {
  id: string;
  signer: Signer;
  keyPem: string;
  certPem: string;
  chain: Buffer[];
  /** A login token (made on one node, accepted by all). */
  token: string;
}

/** What a node answered with 200/201: the transition it acknowledged. */
interface Ack {
  submission: string;
  kind: string;
  logIndex: number;
  /** The officer of a countersignature, undefined for the submission itself. */
  officer?: string;
}

let seq = 0;
const applicationId = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

/**
 * Submissions and officers' decisions on three `chancery serve` processes sharing one PostgreSQL:
 * every step of an application (submit, review, approval) goes to another node than the one
 * before; two officers race on one step at two nodes; then a stream of applications and
 * countersignatures runs through all three while one node is killed with SIGKILL. What every node
 * acknowledged is in the one log exactly once, no decision is doubled, every node serves the
 * same views, and the offline auditor (`audit verify`, `audit replay`) agrees with the service.
 */
describe.skipIf(pg === undefined)('submissions and countersignatures across three nodes on one PostgreSQL', () => {
  const work = mkdtempSync(join(tmpdir(), 'chancery-3nodes-sub-'));
  let databaseUrl: string | undefined;
  const nodes: ServiceNode[] = [];
  afterAll(async () => {
    for (const n of nodes) n.child.process.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.child.finished));
    if (databaseUrl !== undefined) await dropPgDatabase(databaseUrl);
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'spreads every step over the nodes, settles races, and loses or doubles nothing when a node is killed',
    { timeout: 120_000 },
    async () => {
      databaseUrl = await createPgDatabase();
      await startThreeNodes(work, databaseUrl, nodes);
      const url = (i: number): string => nodes[((i % 3) + 3) % 3]!.url;
      const adminDir = join(work, 'a', 'admin');
      const admin = await ChanceryClient.login(
        url(0),
        signerFromPem('admin', readFileSync(join(adminDir, 'admin.key.pem'))),
        pemDecodeAll(readFileSync(join(adminDir, 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!,
      );
      const adminAt = (i: number): ChanceryClient => new ChanceryClient(url(i), admin.token);
      const issuing = pemDecodeAll(readFileSync(join(work, 'a', 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;

      // The registry, its officers and their certificates, each made on another node.
      const enterprises = Array.from({ length: 6 }, (_, i) => completeUscc(`914403050009${String(i).padStart(4, '0')}`));
      for (const [i, uscc] of enterprises.entries())
        await adminAt(i).json('POST', '/api/v1/enterprises', { uscc, name: `Shenzhen Nanshan Kitchen ${i} Co Ltd` });
      const officers = [
        { id: 'SZ-R-001', name: 'Wang Fang', role: 'reviewer', jurisdiction: '440300' },
        { id: 'SZ-R-002', name: 'Liu Yang', role: 'reviewer', jurisdiction: '440300' },
        { id: 'GD-A-001', name: 'Zhao Lei', role: 'approver', jurisdiction: '440000' },
        { id: 'GD-A-002', name: 'Sun Mei', role: 'approver', jurisdiction: '440000' },
      ];
      for (const [i, o] of officers.entries())
        await adminAt(i).json('POST', '/api/v1/officers', { ...o, authority: 'Market Regulation Administration' });
      let made = 0;
      const holder = async (id: string, body: Record<string, unknown>): Promise<Holder> => {
        const i = made++;
        const keyPem = generateUserKey('P-256').privateKeyPem;
        const signer = signerFromPem(id, keyPem);
        const cert = await adminAt(i).json<{ pem: string }>('POST', '/api/v1/certificates', { ...body, csr: (await buildCsr(signer)).pem });
        const chain = [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing];
        // Logged in on yet another node: the token is good on all of them.
        const token = (await ChanceryClient.login(url(i + 1), signer, chain)).token!;
        return { id, signer, keyPem, certPem: cert.pem, chain, token };
      };
      const applicants = await Promise.all(enterprises.map((uscc) => holder(uscc, { profile: 'enterprise-signing', uscc })));
      const [reviewer1, reviewer2, approver1, approver2] = await Promise.all(
        officers.map((o) => holder(o.id, { profile: 'officer', officerId: o.id })),
      );
      const auditor = await holder('auditor', { profile: 'auditor', name: 'Independent Auditor' });
      const as = (h: Holder, i: number): ChanceryClient => new ChanceryClient(url(i), h.token);

      const envelopeFor = async (i: number, kind: 'food' | 'annual'): Promise<Buffer> => {
        const applicant = applicants[i % applicants.length]!;
        const document = documentBytes(
          kind === 'food'
            ? foodBusinessLicence(applicant.id, applicationId('FBL'), new Date())
            : annualReport(applicant.id, applicationId('AR'), new Date()),
        );
        if (i % 2 === 0)
          return signCms({ signer: applicant.signer, chain: applicant.chain, content: document, detached: false, time: new Date() });
        const jws = await signJws({ signer: applicant.signer, chain: applicant.chain, payload: document, time: new Date() });
        return Buffer.from(JSON.stringify(jws), 'utf8');
      };
      // A refusal carries the officer's signed reason, as the workflow requires.
      const countersigned = async (officer: Holder, envelope: Buffer, decision: Decision): Promise<Buffer> => {
        const options = {
          signer: officer.signer,
          chain: officer.chain,
          decision,
          time: new Date(),
          ...(decision === 'refuse' ? { reason: 'the premises plan does not match the site' } : {}),
        };
        return envelope[0] === 0x30
          ? countersignCms(envelope, options)
          : Buffer.from(JSON.stringify(await countersignJws(envelope, options)));
      };

      const acks: Ack[] = [];
      const submit = async (envelope: Buffer, i: number): Promise<string> => {
        const outcome = await new ChanceryClient(url(i)).submit(envelope);
        if (outcome.kind === 'rejected') throw new Error(`rejected: ${outcome.body.detail}`);
        expect(outcome.kind).toBe('created');
        acks.push({ submission: outcome.body.id, kind: `submission.${outcome.body.status}`, logIndex: outcome.body.logIndex });
        return outcome.body.id;
      };
      /** The officer downloads the envelope from one node and uploads its countersignature to the next. */
      const decide = async (officer: Holder, id: string, decision: Decision, i: number): Promise<void> => {
        const upload = await countersigned(officer, await as(officer, i).envelope(id), decision);
        const body = await as(officer, i + 1).countersign(id, upload);
        acks.push({
          submission: id,
          kind: `submission.${body.status === 'pending' ? 'countersigned' : body.status}`,
          logIndex: body.logIndex,
          officer: officer.id,
        });
      };

      // 1. Each application's steps on three different nodes: submitted, reviewed, approved or refused.
      const settled = new Map<string, string>();
      for (let i = 0; i < 6; i++) {
        const id = await submit(await envelopeFor(i, 'food'), i);
        await decide(i % 2 === 0 ? reviewer1! : reviewer2!, id, 'approve', i + 1);
        const refuse = i === 4;
        await decide(i % 2 === 0 ? approver1! : approver2!, id, refuse ? 'refuse' : 'approve', i + 2);
        settled.set(id, refuse ? 'refused' : 'approved');
      }
      // An annual report needs no officer: accepted on verification by whichever node gets it.
      for (let i = 0; i < 3; i++) settled.set(await submit(await envelopeFor(i, 'annual'), i), 'accepted');

      // 2. Two officers race on one step at two different nodes: one transition, the other a 409.
      const losses: Array<{ submission: string; officer: string; code: string }> = [];
      const race = async (id: string, step: [Holder, Holder], i: number): Promise<void> => {
        const current = await as(step[0], i).envelope(id);
        const uploads = await Promise.all(step.map((o) => countersigned(o, current, 'approve')));
        const outcomes = await Promise.allSettled(step.map((o, k) => as(o, i + k).countersign(id, uploads[k]!)));
        const won = outcomes.flatMap((o, k) => (o.status === 'fulfilled' ? [{ body: o.value, officer: step[k]! }] : []));
        const lost = outcomes.flatMap((o, k) =>
          o.status === 'rejected' ? [{ reason: o.reason as { code: string; detail: { status: number } }, officer: step[k]! }] : [],
        );
        expect(won, JSON.stringify(lost.map((l) => l.reason.code))).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const body = won[0]!.body;
        // Both read the step before either committed: 409 STEP_TAKEN (or CLOSED, once the last step
        // ended the workflow). A loser whose node read the submission only after the winner's commit
        // finds the next step's role, not its own, and is told so (403 WRONG_ROLE): still refused,
        // still audited, nothing recorded twice.
        const { code, detail } = lost[0]!.reason;
        if (code === 'ERR_SUBMISSION_WRONG_ROLE' && body.status === 'pending') expect(detail.status).toBe(403);
        else {
          expect(detail.status, code).toBe(409);
          expect(['ERR_SUBMISSION_STEP_TAKEN', 'ERR_SUBMISSION_CLOSED']).toContain(code);
        }
        acks.push({
          submission: id,
          kind: `submission.${body.status === 'pending' ? 'countersigned' : body.status}`,
          logIndex: body.logIndex,
          officer: won[0]!.officer.id,
        });
        losses.push({ submission: id, officer: lost[0]!.officer.id, code: lost[0]!.reason.code });
      };
      for (let i = 0; i < 3; i++) {
        const id = await submit(await envelopeFor(i, 'food'), i);
        await race(id, [reviewer1!, reviewer2!], i + 1);
        await race(id, [approver1!, approver2!], i + 2);
        settled.set(id, 'approved');
      }

      // 3. A stream of applications and decisions through all three nodes; node b is killed with -9 in the middle.
      const uncertain: Array<{ submission: string; kind: string; officer?: string }> = [];
      let stop = false;
      let failures = 0;
      /**
       * One write, retried on the next node while the node it went to does not answer (killed):
       * an answer lost with the connection is uncertain, and its retry tells whether it committed.
       */
      const write = async <T>(i: number, send: (node: number) => Promise<T>, onAlreadyDone: () => void): Promise<T | undefined> => {
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            return await send(i + attempt);
          } catch (error) {
            const e = error as { code?: string; detail?: { status?: number } };
            // No answer: the node is down, or died with the request (the answer's body cut off).
            if (e.code === 'ERR_CLIENT_UNREACHABLE' || error instanceof TypeError) {
              failures++;
              continue;
            }
            if (attempt > 0 && (e.code === 'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED' || e.code === 'ERR_SUBMISSION_CLOSED')) {
              onAlreadyDone();
              return undefined;
            }
            throw error;
          }
        }
        return undefined;
      };
      const streamed: string[] = [];
      const worker = async (w: number): Promise<void> => {
        for (let round = 0; !stop; round++) {
          const i = w + round * 3;
          const kind = round % 4 === 3 ? 'annual' : 'food';
          const envelope = await envelopeFor(i, kind);
          const submitted = await write(
            i,
            (node) => new ChanceryClient(url(node)).submit(envelope),
            () => undefined,
          );
          if (submitted === undefined || submitted.kind === 'rejected') {
            expect(submitted?.kind).not.toBe('rejected');
            continue;
          }
          const id = submitted.body.id;
          // A retried submission of the same envelope is answered with the record the lost answer made.
          acks.push({ submission: id, kind: `submission.${submitted.body.status}`, logIndex: submitted.body.logIndex });
          streamed.push(id);
          if (kind === 'annual') continue;
          for (const [step, officer, decision] of [
            [0, w % 2 === 0 ? reviewer1! : reviewer2!, 'approve'],
            [1, w % 2 === 0 ? approver1! : approver2!, round % 5 === 4 ? 'refuse' : 'approve'],
          ] as const) {
            const at = i + 1 + step;
            let envelopeNow: Buffer | undefined;
            for (let k = 0; k < 3 && envelopeNow === undefined; k++)
              envelopeNow = await as(officer, at + k)
                .envelope(id)
                .catch((error: { code?: string }) => {
                  if (error.code !== 'ERR_CLIENT_UNREACHABLE' && !(error instanceof TypeError)) throw error;
                  return undefined;
                });
            if (envelopeNow === undefined) break;
            const upload = await countersigned(officer, envelopeNow, decision);
            const kindIfDone =
              step === 0 ? 'submission.countersigned' : decision === 'refuse' ? 'submission.refused' : 'submission.approved';
            const body = await write(
              at,
              (node) => as(officer, node).countersign(id, upload),
              () => uncertain.push({ submission: id, kind: kindIfDone, officer: officer.id }),
            );
            if (body === undefined) break;
            acks.push({ submission: id, kind: kindIfDone, logIndex: body.logIndex, officer: officer.id });
            expect(`submission.${body.status === 'pending' ? 'countersigned' : body.status}`).toBe(kindIfDone);
          }
        }
      };
      const workers = Array.from({ length: 6 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 2500));
      nodes[1]!.child.process.kill('SIGKILL');
      await nodes[1]!.child.finished;
      await new Promise((r) => setTimeout(r, 2500));
      stop = true;
      await Promise.all(workers);
      expect(streamed.length).toBeGreaterThan(10);
      expect(failures).toBeGreaterThan(0);

      // 4. The log: intact, every acknowledged transition in it exactly once at the index it was acknowledged with.
      const db = await openPg(databaseUrl, { max: 2 });
      let size: number;
      try {
        const entries = await expectIntactLog(db);
        size = entries.length;
        const bySubject = new Map<string, typeof entries>();
        for (const e of entries)
          if (e.subject.startsWith('submission:')) bySubject.set(e.subject, [...(bySubject.get(e.subject) ?? []), e]);
        for (const ack of acks) {
          const matching = (bySubject.get(`submission:${ack.submission}`) ?? []).filter((e) => e.kind === ack.kind);
          expect(matching, `${ack.kind} of ${ack.submission}`).toHaveLength(1);
          expect(matching[0]!.seq).toBe(ack.logIndex);
          if (ack.officer !== undefined) expect(matching[0]!.data['officer']).toBe(ack.officer);
        }
        for (const u of uncertain) {
          const matching = (bySubject.get(`submission:${u.submission}`) ?? []).filter((e) => e.kind === u.kind);
          expect(matching, `${u.kind} of ${u.submission} (answer lost, retry said done)`).toHaveLength(1);
        }
        // No decision doubled: each application's history is one of the lifecycle's paths, each step once.
        const paths = new Set([
          'submission.accepted',
          'submission.pending',
          'submission.pending submission.countersigned',
          'submission.pending submission.countersigned submission.approved',
          'submission.pending submission.countersigned submission.refused',
        ]);
        for (const [subject, list] of bySubject) expect(paths, subject).toContain(list.map((e) => e.kind).join(' '));
        const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM submissions WHERE status <> 'rejected'");
        expect(Number(rows.rows[0]!.n)).toBe(bySubject.size);
        // Each race's loser is refused on the record too.
        for (const loss of losses) {
          const denied = entries.filter(
            (e) => e.kind === 'auth.denied' && JSON.stringify(e.data).includes(loss.submission) && e.data['code'] === loss.code,
          );
          expect(denied.length, `denial of ${loss.officer} on ${loss.submission}`).toBeGreaterThanOrEqual(1);
        }
      } finally {
        await db.close();
      }

      // 5. The killed node restarts; all three serve the same checkpoint and the same view of every application.
      nodes[1] = await startNode('b', join(work, 'b'), databaseUrl);
      await waitFor(async () => {
        const notes = await Promise.all(nodes.map(async (node) => (await fetch(`${node.url}/log/checkpoint`)).text()));
        return (
          notes.every((t) => Number(t.split('\n')[1]) >= size) && new Set(notes.map((t) => t.split('\n').slice(1, 3).join(' '))).size === 1
        );
      }, 'one checkpoint of the whole log on all three nodes');
      const ids = [...new Set(acks.map((a) => a.submission))];
      for (const id of ids) {
        const views = await Promise.all([0, 1, 2].map((n) => as(auditor, n).status(id)));
        for (const view of views.slice(1)) expect(view, id).toEqual(views[0]);
        const expected = settled.get(id);
        if (expected !== undefined) expect(views[0]!.status, id).toBe(expected);
        const history = views[0]!.history.map((h) => h.kind);
        for (const ack of acks.filter((a) => a.submission === id)) expect(history).toContain(ack.kind);
      }
      const pendingLists = await Promise.all([0, 1, 2].map((n) => as(approver1!, n).list({ status: 'pending', limit: 500 })));
      for (const list of pendingLists.slice(1)) expect(list.items.map((s) => s.id)).toEqual(pendingLists[0]!.items.map((s) => s.id));

      // 6. The auditor's own tools: the log verifies from each node, and replaying it finds no divergence.
      const vkey = join(work, 'a', 'log.vkey');
      const credential = join(work, 'auditor');
      mkdirSync(credential);
      writeFileSync(join(credential, 'key.pem'), auditor.keyPem, { mode: 0o600 });
      writeFileSync(join(credential, 'cert.pem'), auditor.certPem + pemEncode('CERTIFICATE', issuing));
      const verified = await Promise.all(
        [0, 2].map((n) => runCli(['audit', 'verify', '--url', url(n), '--log-key', vkey, '--json'], { HOME: work })),
      );
      for (const v of verified) expect(v.code, v.stderr + v.stdout).toBe(0);
      const replay = await runCli(['audit', 'replay', '--url', url(1), '--log-key', vkey, '--credential', credential, '--json'], {
        HOME: work,
      });
      const result = JSON.parse(replay.stdout) as ReplayResult;
      expect(result.divergences, JSON.stringify(result.divergences)).toEqual({});
      expect(replay.code, replay.stderr).toBe(0);
      expect(result.compared.submissions).toBeGreaterThanOrEqual(ids.length);
    },
  );
});
