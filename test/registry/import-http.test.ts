import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOKEN_LIFETIME_SECONDS } from '../../src/auth/tokens.js';
import { HttpAdminClient } from '../../src/client/admin.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { expectIntactLog } from '../audit/helpers.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { loginOverHttp } from '../../src/client/login.js';
import { signerFromPem } from '../../src/crypto/private-key-file.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { readFileSync } from 'node:fs';

const uscc = (n: number, prefix: number): string => completeUscc(`91440300${prefix}${String(n).padStart(7, '0')}`);

function csv(n: number, prefix: number, edit: (rows: string[], i: number) => void = () => undefined): string {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(
      i % 4 === 0
        ? `${uscc(i, prefix)},Shenzhen ${i} Co,440300,revoked,2024-02-02T00:00:00Z,licence revoked`
        : `${uscc(i, prefix)},Shenzhen ${i} Co,,,,`,
    );
    edit(rows, i);
  }
  return `uscc,name,division,status,revokedAt,reason\n${rows.join('\n')}\n`;
}

for (const driver of drivers()) {
  describe(`POST /api/v1/enterprises/import (${driver.name})`, () => {
    let svc: TestService;
    let client: HttpAdminClient;
    let token: string;
    const work = mkdtempSync(join(tmpdir(), 'chancery-import-http-'));
    const file = (name: string, text: string | Buffer): string => {
      const path = join(work, name);
      writeFileSync(path, text);
      return path;
    };
    const count = async (prefix: number): Promise<number> =>
      Number(
        (await svc.service.db.query<{ n: string }>(`SELECT count(*) AS n FROM enterprises WHERE uscc LIKE $1`, [`91440300${prefix}%`]))
          .rows[0]!.n,
      );

    beforeAll(async () => {
      svc = await startTestService(driver);
      client = await HttpAdminClient.login(svc.url, join(svc.dataDir, 'admin'));
      const admin = join(svc.dataDir, 'admin');
      ({ token } = await loginOverHttp(
        svc.url,
        signerFromPem('admin', readFileSync(join(admin, 'admin.key.pem'))),
        pemDecodeAll(readFileSync(join(admin, 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!,
      ));
    });
    afterAll(async () => {
      await svc.stop();
    });

    it('streams a file in parts: every record in, line numbers of the whole file, each audited', async () => {
      const report = await client.importEnterprises({ path: file('a.csv', csv(700, 1)), format: 'csv', partLines: 250, batchSize: 100 });
      expect(report.errors).toEqual([]);
      expect(report).toMatchObject({ complete: true, imported: 700, revoked: 175, committedThroughLine: 701 });
      expect(await count(1)).toBe(700);
      const revokedPage = (await (await fetch(`${svc.url}/api/v1/enterprises?status=revoked&limit=500`)).json()) as { items: unknown[] };
      expect(revokedPage.items.length).toBeGreaterThanOrEqual(175);
      const entries = await expectIntactLog(svc.service.db);
      expect(entries.filter((e) => e.kind === 'enterprise.registered' && e.subject.startsWith('enterprise:914403001')).length).toBe(700);
      expect(entries.filter((e) => e.kind === 'enterprise.revoked' && e.subject.startsWith('enterprise:914403001')).length).toBe(175);
    });

    it('answers a bad record with 422 naming its line in the file, keeps the committed batches, and resumes', async () => {
      const text = csv(600, 2, (rows, i) => {
        if (i === 420) rows[i] = rows[i]!.replace(/^(.{17})./, (_m, head: string) => head + (rows[i]![17] === '0' ? '1' : '0'));
      });
      const path = file('b.csv', text);
      const report = await client.importEnterprises({ path, format: 'csv', partLines: 250, batchSize: 100 });
      expect(report.complete).toBe(false);
      // Line 422 of the file (header on line 1), sent in the second request.
      expect(report.errors).toEqual([expect.objectContaining({ line: 422, code: 'ERR_REGISTRY_USCC_CHECK' })]);
      // Parts are lines 1–250 and 251–500; the second part's batches are 251–350 and 351–450.
      expect(report.committedThroughLine).toBe(350);
      expect(report.resumeFromLine).toBe(351);
      expect(await count(2)).toBe(349);

      const direct = await fetch(`${svc.url}/api/v1/enterprises/import?check=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: text,
      });
      expect(direct.status).toBe(422);
      const problem = (await direct.json()) as { code: string; errors: Array<{ line: number; code: string }> };
      expect(problem.code).toBe('ERR_REGISTRY_IMPORT_REJECTED');
      // With check, the 349 already in are duplicates now (the report lists the first 100), and line 422 is still bad.
      expect(problem.errors.filter((e) => e.code === 'ERR_REGISTRY_ENTERPRISE_EXISTS').length).toBe(99);
      expect(problem.errors.find((e) => e.code === 'ERR_REGISTRY_USCC_CHECK')?.line).toBe(422);

      writeFileSync(path, csv(600, 2));
      const resumed = await client.importEnterprises({ path, format: 'csv', partLines: 250, batchSize: 100, fromLine: 351 });
      expect(resumed.errors).toEqual([]);
      expect(resumed).toMatchObject({ complete: true, imported: 251, committedThroughLine: 601 });
      expect(await count(2)).toBe(600);
    });

    it('JSON Lines, a non-UTF-8 line and a truncated last line: 4xx problems naming the line, nothing of their batch', async () => {
      const ok = `{"uscc":"${uscc(1, 3)}","name":"A"}\n{"uscc":"${uscc(2, 3)}","name":"B","status":"deregistered","revokedAt":"2020-01-01T00:00:00Z"}\n`;
      const good = await fetch(`${svc.url}/api/v1/enterprises/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: ok,
      });
      expect(good.status).toBe(200);
      expect(await good.json()).toMatchObject({ complete: true, imported: 2, deregistered: 1 });
      for (const [body, code, line] of [
        [
          Buffer.concat([
            Buffer.from(`{"uscc":"${uscc(3, 3)}","name":"C"}\n{"uscc":"${uscc(4, 3)}","name":"`),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('"}\n'),
          ]),
          'ERR_REGISTRY_IMPORT_ENCODING',
          2,
        ],
        [Buffer.from(`{"uscc":"${uscc(5, 3)}","name":"E"}\n{"uscc":"${uscc(6, 3)}","name":"F`), 'ERR_REGISTRY_IMPORT_LINE_MALFORMED', 2],
      ] as const) {
        const res = await fetch(`${svc.url}/api/v1/enterprises/import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
          body,
        });
        expect(res.status).toBe(422);
        const problem = (await res.json()) as { code: string; errors: Array<{ line: number; code: string }>; imported: number };
        expect(problem.code).toBe('ERR_REGISTRY_IMPORT_REJECTED');
        expect(problem.errors[0]).toMatchObject({ line, code });
        expect(problem.imported).toBe(0);
      }
      expect(await count(3)).toBe(2);
    });

    it('renews its token when it is about to expire, so a long import is not cut off at the token lifetime', async () => {
      const longRunning = await HttpAdminClient.login(svc.url, join(svc.dataDir, 'admin'));
      // Only Date moves (timers run as usual): the service and the client, in this process, are
      // now past the lifetime of every token issued so far.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (TOKEN_LIFETIME_SECONDS + 60) * 1000 });
      try {
        const stale = await fetch(`${svc.url}/api/v1/enterprises/${uscc(0, 1)}`, { headers: { authorization: `Bearer ${token}` } });
        expect(stale.status).toBe(401);
        const report = await longRunning.importEnterprises({ path: file('renew.csv', csv(30, 9)), format: 'csv', partLines: 10 });
        expect(report).toMatchObject({ complete: true, imported: 30 });
        expect(await count(9)).toBe(30);
      } finally {
        vi.useRealTimers();
      }
    });

    it('refuses a wrong content type (415), a declared body over the limit (413), no token (401), bad parameters (400)', async () => {
      const post = (headers: Record<string, string>, body = 'x', query = ''): Promise<Response> =>
        fetch(`${svc.url}/api/v1/enterprises/import${query}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, ...headers },
          body,
        });
      expect((await post({ 'content-type': 'application/json' })).status).toBe(415);
      expect((await post({})).status).toBe(415);
      expect(
        (await fetch(`${svc.url}/api/v1/enterprises/import`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'x' }))
          .status,
      ).toBe(401);
      for (const q of ['?line=0', '?fromLine=x', '?batch=100000', '?check=maybe']) {
        const res = await post({ 'content-type': 'text/csv' }, 'uscc,name\n', q);
        expect(res.status, q).toBe(400);
        expect(((await res.json()) as { code: string }).code).toBe('ERR_REGISTRY_INVALID');
      }
      // A declared 3 GB body is refused before anything is read.
      const status = await new Promise<{ status: number; code: string }>((resolve, reject) => {
        const req = request(
          `${svc.url}/api/v1/enterprises/import`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': String(3 * 2 ** 30) },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(text) as { code: string }).code }));
          },
        );
        req.on('error', reject);
        req.write('uscc,name\n');
      });
      expect(status).toEqual({ status: 413, code: 'ERR_REGISTRY_IMPORT_TOO_LARGE' });
    });
  });
}
