import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import { readTreeHead } from '../../src/audit/store.js';
import { importEnterprises, type ImportOptions, type ImportReport } from '../../src/registry/import.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { expectIntactLog } from '../audit/helpers.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';

/** The n-th valid USCC of a run (distinct per `prefix` digit). */
function uscc(n: number, prefix = 1): string {
  return completeUscc(`91110105${String(prefix)}${String(n).padStart(7, '0')}`);
}

/** A wrong check character for a valid code. */
function withWrongCheck(code: string): string {
  const last = code[17] === '0' ? '1' : '0';
  return code.slice(0, 17) + last;
}

async function* chunks(text: string | Buffer, size = 997): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function csvOf(rows: string[][]): string {
  return ['uscc,name,division,status,revokedAt,reason', ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** Rows 0..n-1: every 5th revoked, every 7th deregistered, the rest active. */
function sampleRows(n: number, prefix = 1): string[][] {
  return Array.from({ length: n }, (_, i) => {
    const code = uscc(i, prefix);
    if (i % 5 === 0) return [code, `"Enterprise ${i}, Ltd."`, '110105', 'revoked', '2024-05-01T08:00:00Z', `"licence revoked, case ${i}"`];
    if (i % 7 === 0) return [code, `企业 ${i}`, '', 'deregistered', '2023-01-02T03:04:05+08:00', ''];
    return [code, `企业 ${i} 有限公司`, '110105', 'active', '', ''];
  });
}

for (const driver of drivers()) {
  describe(`enterprise import (${driver.name})`, () => {
    let t: TestDatabase;
    let audit: GroupCommitLog;
    const now = (): Date => new Date('2025-06-01T00:00:00.000Z');
    const run = (source: AsyncIterable<Uint8Array>, options: Partial<ImportOptions> = {}): Promise<ImportReport> =>
      importEnterprises({ db: t.db, audit, now }, source, { format: 'csv', batchSize: 100, ...options }, 'admin:01');
    const count = async (where = 'true'): Promise<number> =>
      Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM enterprises WHERE ${where}`)).rows[0]!.n);

    beforeAll(async () => {
      t = await createMigrated(driver);
      audit = new GroupCommitLog({ db: t.db });
    });
    afterAll(async () => {
      await audit.close();
      await t.drop();
    });

    it('imports CSV in batches: every record with its status, and its entries in an intact log', async () => {
      const rows = sampleRows(350);
      const progress: number[] = [];
      const report = await run(chunks(csvOf(rows)), { onProgress: (p) => progress.push(p.lines) });
      expect(report.errors).toEqual([]);
      expect(report).toMatchObject({
        complete: true,
        imported: 350,
        valid: 350,
        batches: 4,
        resumeFromLine: null,
        committedThroughLine: 351,
      });
      const revoked = rows.filter((r) => r[3] === 'revoked').length;
      const deregistered = rows.filter((r) => r[3] === 'deregistered').length;
      expect(report.revoked).toBe(revoked);
      expect(report.deregistered).toBe(deregistered);
      // Batches of 100 lines from the first record (line 2).
      expect(progress).toEqual([101, 201, 301, 351]);
      expect(await count("status = 'revoked'")).toBe(revoked);
      const { rows: stored } = await t.db.query<{ name: string; status: string; status_changed_at: Date | string; status_reason: string }>(
        'SELECT name, status, status_changed_at, status_reason FROM enterprises WHERE uscc = $1',
        [uscc(0)],
      );
      expect(stored[0]!.name).toBe('Enterprise 0, Ltd.');
      expect(new Date(stored[0]!.status_changed_at).toISOString()).toBe('2024-05-01T08:00:00.000Z');
      expect(stored[0]!.status_reason).toBe('licence revoked, case 0');
      const { rows: dereg } = await t.db.query<{ status_reason: string; status_changed_at: Date | string }>(
        'SELECT status_reason, status_changed_at FROM enterprises WHERE uscc = $1',
        [uscc(7)],
      );
      expect(dereg[0]!.status_reason).toBe('deregistered at its own request');
      expect(new Date(dereg[0]!.status_changed_at).toISOString()).toBe('2023-01-01T19:04:05.000Z');

      const entries = await expectIntactLog(t.db);
      expect(entries.length).toBe(350 + revoked + deregistered);
      const first = entries.filter((e) => e.subject === `enterprise:${uscc(0)}`);
      expect(first.map((e) => e.kind)).toEqual(['enterprise.registered', 'enterprise.revoked']);
      expect(first[0]!.data).toEqual({ uscc: uscc(0), name: 'Enterprise 0, Ltd.', division: '110105', checkOverridden: false });
      expect(first[1]!.data).toEqual({ uscc: uscc(0), reason: 'licence revoked, case 0', certificatesRevoked: 0 });
      expect(first.every((e) => e.actor === 'admin:01')).toBe(true);
      expect(entries.filter((e) => e.kind === 'enterprise.deregistered').length).toBe(deregistered);
    });

    it('imports JSON Lines (CRLF line ends, blank lines skipped)', async () => {
      const lines = [
        JSON.stringify({ uscc: uscc(1, 2), name: 'Json One' }),
        '',
        JSON.stringify({ uscc: uscc(2, 2), name: 'Json Two', status: 'revoked', revokedAt: '2024-01-01T00:00:00Z', reason: 'fraud' }),
        JSON.stringify({ uscc: uscc(3, 2), name: 'Json Three', division: '110105', status: 'active' }),
      ];
      const report = await run(chunks(lines.join('\r\n'), 7), { format: 'jsonl' });
      expect(report.errors).toEqual([]);
      expect(report).toMatchObject({ complete: true, imported: 3, revoked: 1, lines: 4 });
      expect(await count(`uscc IN ('${uscc(1, 2)}', '${uscc(2, 2)}', '${uscc(3, 2)}')`)).toBe(3);
    });

    it('stops at the first batch with a bad record, names its line, and resumes from the line it gives', async () => {
      const rows = sampleRows(250, 3);
      rows[130]![0] = withWrongCheck(rows[130]![0]!); // line 132, in the second batch (lines 102–201)
      const before = await count();
      const entriesBefore = (await expectIntactLog(t.db)).length;
      const report = await run(chunks(csvOf(rows)));
      expect(report.complete).toBe(false);
      expect(report.errors).toEqual([expect.objectContaining({ line: 132, code: 'ERR_REGISTRY_USCC_CHECK' })]);
      expect(report.imported).toBe(100);
      expect(report.committedThroughLine).toBe(101);
      expect(report.resumeFromLine).toBe(102);
      expect(await count()).toBe(before + 100);
      // Nothing of the refused batch: its good records are not in, and the log has only the first batch's entries.
      expect(await count(`uscc = '${rows[101]![0]}'`)).toBe(0);
      const firstBatchEntries = rows.slice(0, 100).reduce((n, r) => n + (r[3] === 'active' ? 1 : 2), 0);
      expect((await expectIntactLog(t.db)).length).toBe(entriesBefore + firstBatchEntries);

      rows[130]![0] = uscc(130, 3);
      const resumed = await run(chunks(csvOf(rows)), { fromLine: report.resumeFromLine! });
      expect(resumed.errors).toEqual([]);
      expect(resumed).toMatchObject({ complete: true, imported: 150, committedThroughLine: 251 });
      expect(await count()).toBe(before + 250);
      const entries = await expectIntactLog(t.db);
      const registered = entries.filter((e) => e.kind === 'enterprise.registered' && e.subject.startsWith('enterprise:9111010530'));
      expect(registered.length).toBe(250);
      expect(new Set(registered.map((e) => e.subject)).size).toBe(250);
    });

    it('reports duplicates within a batch and against the database with their lines, and commits nothing of that batch', async () => {
      const rows = sampleRows(5, 4);
      await run(chunks(csvOf(rows.slice(0, 2))));
      const before = await count();
      const again = [...rows.slice(1), rows[3]!];
      const report = await run(chunks(csvOf(again)));
      expect(report.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ line: 2, code: 'ERR_REGISTRY_ENTERPRISE_EXISTS', uscc: rows[1]![0] }),
          expect.objectContaining({
            line: 6,
            code: 'ERR_REGISTRY_IMPORT_DUPLICATE',
            uscc: rows[3]![0],
            message: expect.stringContaining('line 4'),
          }),
        ]),
      );
      expect(report.errors.length).toBe(2);
      expect(report).toMatchObject({ complete: false, imported: 0, resumeFromLine: 2, committedThroughLine: null });
      expect(await count()).toBe(before);
    });

    it('stops at a batch refused at commit (a USCC registered meanwhile); the lines read while it committed leave no trace', async () => {
      const taken = uscc(150, 7);
      await run(chunks(csvOf([[taken, 'Already there', '', '', '', '']])));
      const before = await count();
      const rows = Array.from({ length: 300 }, (_, i) => [uscc(i, 7), `Pipelined ${i}`, '', '', '', '']);
      rows[250]![0] = withWrongCheck(rows[250]![0]!); // line 252, in the third batch: read while the second commits
      const report = await run(chunks(csvOf(rows), 4096));
      // The second batch (lines 102–201) holds the taken USCC (line 152): refused by its INSERT, not beforehand.
      expect(report.errors).toEqual([expect.objectContaining({ line: 152, code: 'ERR_REGISTRY_ENTERPRISE_EXISTS', uscc: taken })]);
      expect(report).toMatchObject({
        complete: false,
        imported: 100,
        committedThroughLine: 101,
        resumeFromLine: 102,
        lines: 201,
        batches: 2,
      });
      expect(await count()).toBe(before + 100);
      expect(await count(`uscc = '${uscc(100, 7)}'`)).toBe(0);
      await expectIntactLog(t.db);
    });

    it('names the line of each kind of bad input and writes nothing of its batch', async () => {
      const good = (n: number): string => `${uscc(n, 5)},Good ${n},,,,`;
      const cases: Array<{ name: string; body: Buffer; code: string; line: number; options?: Partial<ImportOptions> }> = [
        {
          name: 'a line with too few fields',
          body: Buffer.from(`uscc,name,division,status,revokedAt,reason\n${good(1)}\n${uscc(2, 5)},Trunc\n`),
          code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
          line: 3,
        },
        {
          name: 'an unterminated quote',
          body: Buffer.from(`uscc,name,division,status,revokedAt,reason\n${good(1)}\n${uscc(2, 5)},"Cut off,,,,\n`),
          code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
          line: 3,
        },
        {
          name: 'a truncated JSON line',
          body: Buffer.from(`{"uscc":"${uscc(1, 5)}","name":"A"}\n{"uscc":"${uscc(2, 5)}","na`),
          code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
          line: 2,
          options: { format: 'jsonl' },
        },
        {
          name: 'a line that is not UTF-8',
          body: Buffer.concat([
            Buffer.from(`uscc,name\n${uscc(1, 5)},A\n${uscc(2, 5)},`),
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from('\n'),
          ]),
          code: 'ERR_REGISTRY_IMPORT_ENCODING',
          line: 3,
        },
        {
          name: 'a line that is too long',
          body: Buffer.from(`uscc,name\n${uscc(1, 5)},A\n${uscc(2, 5)},${'x'.repeat(5000)}\n`),
          code: 'ERR_REGISTRY_IMPORT_LINE_TOO_LONG',
          line: 3,
        },
        {
          name: 'a malformed USCC',
          body: Buffer.from(`uscc,name\n${uscc(1, 5)},A\n91110105ISOVZ,B\n`),
          code: 'ERR_REGISTRY_USCC_MALFORMED',
          line: 3,
        },
        {
          name: 'a revoked record without revokedAt',
          body: Buffer.from(`uscc,name,status\n${uscc(1, 5)},A,\n${uscc(2, 5)},B,revoked\n`),
          code: 'ERR_REGISTRY_INVALID',
          line: 3,
        },
        {
          name: 'a division that is not the USCC’s',
          body: Buffer.from(`uscc,name,division\n${uscc(1, 5)},A,\n${uscc(2, 5)},B,310000\n`),
          code: 'ERR_REGISTRY_INVALID',
          line: 3,
        },
        {
          name: 'an unknown status',
          body: Buffer.from(`uscc,name,status\n${uscc(1, 5)},A,\n${uscc(2, 5)},B,dormant\n`),
          code: 'ERR_REGISTRY_INVALID',
          line: 3,
        },
        {
          name: 'an input over the byte limit',
          body: Buffer.from(`uscc,name\n${uscc(1, 5)},A\n${uscc(2, 5)},B\n`),
          code: 'ERR_REGISTRY_IMPORT_TOO_LARGE',
          line: 2,
          options: { maxBytes: 20 },
        },
        {
          name: 'an unknown header column',
          body: Buffer.from(`uscc,name,colour\n${uscc(1, 5)},A,red\n`),
          code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
          line: 1,
        },
        { name: 'an empty CSV input', body: Buffer.alloc(0), code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED', line: 1 },
      ];
      for (const c of cases) {
        const before = await count();
        const size = (await readTreeHead(t.db)).size;
        const report = await run(chunks(c.body, 10), c.options);
        expect(report.complete, c.name).toBe(false);
        expect(report.errors[0], c.name).toMatchObject({ line: c.line, code: c.code });
        expect(report.imported, c.name).toBe(0);
        expect(await count(), c.name).toBe(before);
        expect((await readTreeHead(t.db)).size, c.name).toBe(size);
      }
    });

    it('checkOnly reports every bad line of the whole input and writes nothing', async () => {
      const rows = sampleRows(300, 6);
      rows[10]![0] = withWrongCheck(rows[10]![0]!);
      rows[150]![1] = '';
      rows[299]![3] = 'gone';
      const existing = uscc(0, 1); // imported by the first test
      rows[200]![0] = existing;
      const before = await count();
      const report = await run(chunks(csvOf(rows)), { checkOnly: true });
      expect(report.errors.map((e) => [e.line, e.code])).toEqual([
        [12, 'ERR_REGISTRY_USCC_CHECK'],
        [152, 'ERR_REGISTRY_INVALID'],
        [202, 'ERR_REGISTRY_ENTERPRISE_EXISTS'],
        [301, 'ERR_REGISTRY_INVALID'],
      ]);
      expect(report).toMatchObject({ complete: false, checkOnly: true, imported: 0, valid: 296, lines: 301, resumeFromLine: null });
      expect(await count()).toBe(before);
    });
  });
}
