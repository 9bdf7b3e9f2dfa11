import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { loadPolicyText, PolicySet } from '../../src/policy/policy.js';
import { addCountersignatures } from '../../src/sign/cms.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { buildSubmissionService } from '../../src/app/parts.js';
import { readEnvelopeParts } from '../../src/submissions/envelope-parts.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICIES_DIR } from '../../src/paths.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
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
  type Holder,
  type World,
} from '../submissions/fixtures.js';

/**
 * Bad input and abuse: each a 4xx/422 with a specific code, never a 5xx, never a state
 * change without its entry; an audit entry wherever a decision was taken (`submission.rejected`
 * for a rejected application, `auth.denied` for a refused countersignature or caller).
 */
describe.each(drivers())('submission abuse on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  const post = (path: string, body: Uint8Array | string, type: string, token?: string): Promise<Response> =>
    fetch(`${w.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: typeof body === 'string' ? body : new Blob([body]),
    });

  /** A pending food licence of enterprise A; its id and current envelope. */
  async function pending(): Promise<{ id: string; envelope: Buffer }> {
    const envelope = await signCmsWith(w.a, foodDocument(w.a.uscc));
    const result = await new ChanceryClient(w.url).submit(envelope);
    if (result.kind === 'rejected') throw new Error(result.body.detail);
    return { id: result.body.id, envelope };
  }

  /** Uploads as `officer` and expects a refusal with `code`, an auth.denied entry, and no change. */
  async function refused(officer: Holder, id: string, envelope: Buffer, code: string, status: number): Promise<void> {
    const before = await treeSize(w.ts);
    const auditor = await w.as(w.auditor);
    const was = await auditor.status(id);
    const res = await post(
      `/api/v1/submissions/${id}/countersignatures`,
      envelope,
      envelope[0] === 0x30 ? 'application/cms' : 'application/jose+json',
      (await w.as(officer)).token,
    );
    const body = (await res.json()) as { code: string };
    expect({ status: res.status, code: body.code }).toEqual({ status, code });
    const entries = await entriesSince(w.ts, before);
    expect(entries.map((e) => [e.kind, e.data['code']])).toEqual([['auth.denied', code]]);
    const now = await auditor.status(id);
    expect({ status: now.status, history: now.history.length, envelope: now.currentEnvelopeSha256 }).toEqual({
      status: was.status,
      history: was.history.length,
      envelope: was.currentEnvelopeSha256,
    });
  }

  describe('submissions', () => {
    it('refuses junk that names no applicant with a plain 400 and no record or entry', async () => {
      const before = await treeSize(w.ts);
      const res = await post('/api/v1/submissions', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), 'application/cms');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('ERR_SUBMISSION_MALFORMED');
      const text = await post('/api/v1/submissions', 'hello', 'application/jose');
      expect(text.status).toBe(400);
      expect(await treeSize(w.ts)).toBe(before);
    });

    it('refuses a signed document without applicant, and a detached envelope without its document, as unidentified (422, no record)', async () => {
      const before = await treeSize(w.ts);
      const noApplicant = await signCmsWith(w.a, Buffer.from(JSON.stringify({ type: 'annual-report', applicationId: 'X-1' })));
      const r1 = await new ChanceryClient(w.url).fetch('POST', '/api/v1/submissions', { type: 'application/cms', bytes: noApplicant });
      expect([r1.status, ((await r1.json()) as { code: string }).code]).toEqual([422, 'ERR_SUBMISSION_UNIDENTIFIED']);
      const detached = await signCmsWith(w.a, annualDocument(w.a.uscc), { detached: true });
      const r2 = await new ChanceryClient(w.url).fetch('POST', '/api/v1/submissions', { type: 'application/cms', bytes: detached });
      expect([r2.status, ((await r2.json()) as { code: string }).code]).toEqual([422, 'ERR_SUBMISSION_UNIDENTIFIED']);
      expect(await treeSize(w.ts)).toBe(before);
    });

    it.each([
      [
        'an unknown document type',
        'ERR_SUBMISSION_UNKNOWN_TYPE',
        (uscc: string) =>
          Buffer.from(
            JSON.stringify({
              type: 'fishing-licence',
              applicant: uscc,
              applicationId: nextApplicationId('U'),
              createdAt: '2026-01-01T00:00:00Z',
            }),
          ),
      ],
      [
        'a document failing its schema',
        'ERR_SUBMISSION_DOCUMENT_INVALID',
        (uscc: string) =>
          Buffer.from(
            JSON.stringify({
              type: 'annual-report',
              applicant: uscc,
              applicationId: nextApplicationId('S'),
              createdAt: '2026-01-01T00:00:00Z',
              reportYear: 'last year',
            }),
          ),
      ],
    ])('rejects %s: 422 with its code, a rejected record, a submission.rejected entry and a receipt', async (_what, code, document) => {
      const before = await treeSize(w.ts);
      const outcome = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, document(w.a.uscc)));
      expect(outcome.kind).toBe('rejected');
      if (outcome.kind !== 'rejected') return;
      expect(outcome.body.code).toBe(code);
      const entries = await entriesSince(w.ts, before);
      expect(entries.map((e) => [e.kind, e.subject, e.data['code']])).toEqual([
        ['submission.rejected', `submission:${outcome.body.submission.id}`, code],
      ]);
      const view = await (await w.as(w.a)).status(outcome.body.submission.id);
      expect(view.status).toBe('rejected');
      expect(view.rejection?.code).toBe(code);
      expect(outcome.body.logIndex).toBe(entries[0]!.index);
    });

    it('rejects a document type of 100 KB as unknown, recording it bounded, never a 5xx', async () => {
      const document = Buffer.from(
        JSON.stringify({
          type: 'x'.repeat(100_000),
          applicant: w.a.uscc,
          applicationId: nextApplicationId('BIG'),
          createdAt: '2026-01-01T00:00:00Z',
        }),
      );
      const outcome = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, document));
      expect(outcome.kind === 'rejected' && outcome.body.code).toBe('ERR_SUBMISSION_UNKNOWN_TYPE');
      expect(outcome.kind === 'rejected' && outcome.body.submission.type).toHaveLength(64);
    });

    it('rejects an envelope signed by an officer instead of an enterprise', async () => {
      const outcome = await new ChanceryClient(w.url).submit(await signCmsWith(w.reviewer, foodDocument(w.a.uscc)));
      expect(outcome.kind === 'rejected' && outcome.body.code).toBe('ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE');
    });

    it("rejects B's signature on A's application, and that rejection does not block A's own application with the same applicationId", async () => {
      const applicationId = nextApplicationId('FORGED');
      const forged = await new ChanceryClient(w.url).submit(await signCmsWith(w.b, foodDocument(w.a.uscc, applicationId)));
      expect(forged.kind === 'rejected' && forged.body.code).toBe('ERR_SUBMISSION_APPLICANT_MISMATCH');
      const real = await new ChanceryClient(w.url).submit(await signCmsWith(w.a, foodDocument(w.a.uscc, applicationId)));
      expect(real.kind).toBe('created');
    });

    it('answers the same rejected request again with the same record, not a second one', async () => {
      const envelope = await signCmsWith(w.reviewer, annualDocument(w.a.uscc));
      const first = await new ChanceryClient(w.url).submit(envelope);
      const before = await treeSize(w.ts);
      const second = await new ChanceryClient(w.url).submit(envelope);
      expect(first.kind === 'rejected' && second.kind === 'rejected' && second.body.submission.id === first.body.submission.id).toBe(true);
      expect(await treeSize(w.ts)).toBe(before);
    });

    it("refuses enterprise B's token on A's application (403, audited) and other roles' tokens", async () => {
      const before = await treeSize(w.ts);
      const envelope = await signCmsWith(w.a, annualDocument(w.a.uscc));
      const asB = await post('/api/v1/submissions', envelope, 'application/cms', (await w.as(w.b)).token);
      expect([asB.status, ((await asB.json()) as { code: string }).code]).toEqual([403, 'ERR_SUBMISSION_NOT_APPLICANT']);
      const asAuditor = await post('/api/v1/submissions', envelope, 'application/cms', (await w.as(w.auditor)).token);
      expect([asAuditor.status, ((await asAuditor.json()) as { code: string }).code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
      expect((await entriesSince(w.ts, before)).map((e) => e.kind)).toEqual(['auth.denied', 'auth.denied']);
    });

    it('never answers 5xx to random bytes or to a valid envelope with one byte changed (fast-check, fixed seed)', async () => {
      const valid = await signCmsWith(w.a, annualDocument(w.a.uscc));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => ({ body: Buffer.from(b), type: 'application/cms' })),
            fc.json().map((j) => ({ body: Buffer.from(j), type: 'application/jose+json' })),
            fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
              const body = Buffer.from(valid);
              body[i] = body[i]! ^ x;
              return { body, type: 'application/cms' };
            }),
          ),
          async ({ body, type }) => {
            const res = await post('/api/v1/submissions', body, type);
            await res.arrayBuffer();
            expect(res.status).toBeLessThan(500);
          },
        ),
        { seed: 606, numRuns: 60 },
      );
    });

    it('answers a wrong content type with 415 and a malformed multipart form with 400', async () => {
      expect((await post('/api/v1/submissions', '{}', 'application/json')).status).toBe(415);
      const bad = await post(
        '/api/v1/submissions',
        '--x\r\nContent-Disposition: form-data; name="other"\r\n\r\nzz\r\n--x--',
        'multipart/form-data; boundary=x',
      );
      expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'ERR_HTTP_BAD_REQUEST']);
    });

    it('names the right media type when the body contradicts the one declared, and records nothing', async () => {
      const entries = async (): Promise<number> =>
        Number((await w.ts.service.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_entries')).rows[0]!.n);
      const before = await entries();
      const jsonAsCms = await post('/api/v1/submissions', '{"payload":"e30","signatures":[]}', 'application/cms');
      const problem = (await jsonAsCms.json()) as { code: string; detail: string };
      expect([jsonAsCms.status, problem.code]).toEqual([415, 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE']);
      expect(problem.detail).toContain('send a JWS as application/jose+json');
      const derAsJws = await post('/api/v1/submissions', Buffer.from([0x30, 0x82, 0x01, 0x00, 0x06]), 'application/jose+json');
      expect([derAsJws.status, ((await derAsJws.json()) as { detail: string }).detail]).toEqual([
        415,
        expect.stringContaining('send it as application/cms'),
      ]);
      const verify = await fetch(`${w.url}/api/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/cms' },
        body: '{"a":1}',
      });
      expect(verify.status).toBe(415);
      expect(await entries()).toBe(before);
    });
  });

  describe('countersignatures', () => {
    it('refuses a countersignature made over a different submission', async () => {
      const x = await pending();
      const y = await pending();
      await refused(
        w.reviewer,
        y.id,
        await countersignWith(w.reviewer, x.envelope, 'approve'),
        'ERR_SUBMISSION_COUNTERSIGNATURE_FOREIGN',
        422,
      );
    });

    it('refuses to countersign a refused application again', async () => {
      const { id, envelope } = await pending();
      await (await w.as(w.reviewer)).countersign(id, await countersignWith(w.reviewer, envelope, 'refuse'));
      const current = await (await w.as(w.auditor)).envelope(id);
      await refused(w.reviewer, id, await countersignWith(w.reviewer, current, 'approve'), 'ERR_SUBMISSION_CLOSED', 409);
    });

    it('refuses a refusal without a signed reason (CMS and JWS), and an approval with one: 422, nothing recorded', async () => {
      const cms = await pending();
      await refused(
        w.reviewer,
        cms.id,
        await countersignWith(w.reviewer, cms.envelope, 'refuse', new Date(), null),
        'ERR_SUBMISSION_REASON_REQUIRED',
        422,
      );
      const jwsEnvelope = await signJwsWith(w.a, foodDocument(w.a.uscc));
      const jws = await new ChanceryClient(w.url).submit(jwsEnvelope);
      if (jws.kind === 'rejected') throw new Error(jws.body.detail);
      await refused(
        w.reviewer,
        jws.body.id,
        await countersignWith(w.reviewer, jwsEnvelope, 'refuse', new Date(), null),
        'ERR_SUBMISSION_REASON_REQUIRED',
        422,
      );
      await refused(
        w.reviewer,
        cms.id,
        await countersignWith(w.reviewer, cms.envelope, 'approve', new Date(), 'Approved on condition of a new inspection'),
        'ERR_SUBMISSION_REASON_NOT_ALLOWED',
        422,
      );
    });

    it('refuses a countersignature by the applicant itself', async () => {
      const { id, envelope } = await pending();
      await refused(w.reviewer, id, await countersignWith(w.a, envelope, 'approve'), 'ERR_SUBMISSION_COUNTERSIGNER_IS_APPLICANT', 403);
    });

    it('refuses a replayed countersignature', async () => {
      const { id, envelope } = await pending();
      const countersigned = await countersignWith(w.reviewer, envelope, 'approve');
      await (await w.as(w.reviewer)).countersign(id, countersigned);
      await refused(w.reviewer, id, countersigned, 'ERR_SUBMISSION_COUNTERSIGNATURE_REPLAYED', 409);
    });

    it('refuses an upload with no new countersignature, and one with two', async () => {
      const { id, envelope } = await pending();
      await refused(w.reviewer, id, envelope, 'ERR_SUBMISSION_COUNTERSIGNATURE_MISSING', 422);
      const twice = await countersignWith(w.reviewer, await countersignWith(w.reviewer, envelope, 'approve'), 'approve');
      await refused(w.reviewer, id, twice, 'ERR_SUBMISSION_COUNTERSIGNATURE_AMBIGUOUS', 422);
    });

    it("refuses the wrong role, an officer outside the jurisdiction, another officer's countersignature, and a review decision on an approver step", async () => {
      const { id, envelope } = await pending();
      await refused(w.approver, id, await countersignWith(w.approver, envelope, 'approve'), 'ERR_SUBMISSION_WRONG_ROLE', 403);
      await refused(w.outsider, id, await countersignWith(w.outsider, envelope, 'approve'), 'ERR_SUBMISSION_OUT_OF_JURISDICTION', 403);
      await refused(w.approver, id, await countersignWith(w.reviewer, envelope, 'approve'), 'ERR_SUBMISSION_COUNTERSIGNER_NOT_CALLER', 403);
      await (await w.as(w.reviewer)).countersign(id, await countersignWith(w.reviewer, envelope, 'review'));
      const current = await (await w.as(w.auditor)).envelope(id);
      await refused(w.approver, id, await countersignWith(w.approver, current, 'review'), 'ERR_SUBMISSION_DECISION_INVALID', 422);
    });

    it('refuses a revoked officer: the token from before the revocation stops working, and a countersignature by the revoked certificate is refused under another valid login', async () => {
      await w.admin.json('POST', '/api/v1/officers', {
        id: 'SZ-R-REVOKED',
        name: 'Former Reviewer',
        authority: 'Market Regulation Administration',
        role: 'reviewer',
        jurisdiction: '440300',
      });
      const holder = async (name: string): Promise<Holder> => {
        const keyPem = generateUserKey('P-256').privateKeyPem;
        const signer = signerFromPem(name, keyPem);
        const cert = await w.admin.json<{ serial: string; pem: string }>('POST', '/api/v1/certificates', {
          profile: 'officer',
          officerId: 'SZ-R-REVOKED',
          csr: (await buildCsr(signer)).pem,
        });
        return {
          name,
          signer,
          keyPem,
          certPem: cert.pem,
          chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, w.issuing],
          serial: cert.serial,
        };
      };
      const officer = await holder('revoked officer');
      const secondCertificate = await holder('the same officer, another certificate');
      await w.as(officer); // logs in while still valid
      await w.admin.json('POST', `/api/v1/certificates/${officer.serial}/revoke`, { reason: 'keyCompromise' });
      const { id, envelope } = await pending();
      const countersigned = await countersignWith(officer, envelope, 'approve');
      await refused(officer, id, countersigned, 'ERR_AUTH_TOKEN_INVALID', 401);
      await refused(secondCertificate, id, countersigned, 'ERR_SUBMISSION_COUNTERSIGNER_REVOKED', 422);
    });

    it('refuses a second step by the same officer when the policy wants distinct officers', async () => {
      // A policy with two reviewer steps, the second distinct: the only way one officer could sign twice.
      const yaml = readFileSync(join(POLICIES_DIR, 'annual-report.yaml'), 'utf8').replace(
        /^approval: \[\]$/m,
        'approval:\n  - role: reviewer\n    jurisdiction: applicant\n  - role: reviewer\n    jurisdiction: applicant\n    distinctOfficers: true',
      );
      const policies = new PolicySet([loadPolicyText(Buffer.from(yaml), 'annual-report.yaml')]);
      const service = buildSubmissionService({ ...w.ts.service.parts, db: w.ts.service.db, audit: w.ts.service.audit }, policies);
      const ctx = { method: 'POST', path: '/test' };
      const submitted = await service.submit({ envelope: await signCmsWith(w.a, annualDocument(w.a.uscc)) }, undefined, ctx);
      expect(submitted.submission.status).toBe('pending');
      const principal: Principal = {
        role: 'officer',
        actor: `officer:${w.reviewer.id}`,
        certificateSerial: w.reviewer.serial,
        name: 'Wang Fang',
        officer: { id: w.reviewer.id, role: 'reviewer', jurisdiction: '440300' },
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      };
      const id = submitted.submission.id;
      const first = await service.countersign(
        id,
        { envelope: await countersignWith(w.reviewer, (await service.envelope(id, principal, ctx)).bytes, 'approve') },
        principal,
        ctx,
      );
      expect(first.submission.nextStep).toEqual({ index: 1, role: 'reviewer' });
      const again = await countersignWith(w.reviewer, (await service.envelope(id, principal, ctx)).bytes, 'approve');
      await expectCode(() => service.countersign(id, { envelope: again }, principal, ctx), 'ERR_SUBMISSION_OFFICER_ALREADY_SIGNED');
    });

    it('merges a countersignature made over an older envelope into the current one', async () => {
      // The approver countersigned the envelope as first submitted (without the reviewer's):
      // the service keeps every countersignature.
      const { id, envelope } = await pending();
      await (await w.as(w.reviewer)).countersign(id, await countersignWith(w.reviewer, envelope, 'approve'));
      const approved = await (await w.as(w.approver)).countersign(id, await countersignWith(w.approver, envelope, 'approve'));
      expect(approved.status).toBe('approved');
      const parts = readEnvelopeParts(await (await w.as(w.auditor)).envelope(id));
      expect(parts.countersignatures).toHaveLength(2);
      // And an envelope with a countersignature grafted from elsewhere is still one new countersignature.
      expect(addCountersignatures(envelope, [parts.countersignatures[0]!.bytes]).length).toBeGreaterThan(envelope.length);
    });
  });
});
