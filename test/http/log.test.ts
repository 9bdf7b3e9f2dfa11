import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { CompactRange, hashLeaf, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { parseVerifierKey } from '../../src/audit/note.js';
import { testEntry } from '../audit/helpers.js';
import { drivers } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';

const APPENDED = 40;

describe.each(drivers())('GET /log/* on $name', (driver) => {
  let svc: TestService;
  /** The log's size after this test's appends (other parts log entries at start-up too). */
  let SIZE = 0;
  const roots: Buffer[] = [];
  const leaves: Buffer[] = [];

  beforeAll(async () => {
    svc = await startTestService(driver);
    for (let batch = 0; batch < 4; batch++) {
      await svc.service.audit.record(async (_tx, append) => {
        for (let i = 0; i < APPENDED / 4; i++) await append(testEntry(`http-${i % 4}`, { batch, i }));
      });
    }
    SIZE = await svc.service.auditPart.reader.treeSize();
    // The checkpoint follows the commits within a second.
    for (let i = 0; i < 100; i++) {
      if ((await svc.service.auditPart.reader.latestCheckpoint()).size === SIZE) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { rows } = await svc.service.db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq');
    const tree = new CompactRange();
    roots.push(tree.root());
    for (const row of rows) {
      leaves.push(hashLeaf(row.entry));
      tree.append(leaves[leaves.length - 1]!);
      roots.push(tree.root());
    }
  });
  afterAll(async () => {
    await svc.stop();
  });

  const get = (path: string): Promise<Response> => fetch(`${svc.url}${path}`);
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const problem = async (path: string, status = 400, code = 'ERR_AUDIT_RANGE'): Promise<void> => {
    const res = await get(path);
    expect(res.status, path).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { code: string }).code, path).toBe(code);
  };

  it('serves the verifier key that the data dir holds as log.vkey', async () => {
    const res = await get('/log/key');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const vkey = (await res.text()).trim();
    expect(vkey).toBe(readFileSync(join(svc.dataDir, 'log.vkey'), 'utf8').trim());
    expect(parseVerifierKey(vkey).name).toBe(svc.service.auditPart.logKey.origin);
  });

  it('serves the latest checkpoint as a text/plain signed note that verifies with that key', async () => {
    const res = await get('/log/checkpoint');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const vkey = (await (await get('/log/key')).text()).trim();
    const checkpoint = openCheckpoint(await res.text(), parseVerifierKey(vkey));
    expect(checkpoint.size).toBe(SIZE);
    expect(checkpoint.root.equals(roots[SIZE]!)).toBe(true);
  });

  it('serves entries with their index, leaf hash and exact canonical text', async () => {
    const page = await json<{
      treeSize: number;
      start: number;
      end: number;
      entries: Array<{ index: number; leafHash: string; entry: string }>;
    }>(`/log/entries?start=3&end=${SIZE}`);
    expect(page).toMatchObject({ treeSize: SIZE, start: 3, end: SIZE });
    expect(page.entries.map((e) => e.index)).toEqual(Array.from({ length: SIZE - 3 }, (_, i) => i + 3));
    for (const e of page.entries) expect(hashLeaf(Buffer.from(e.entry, 'utf8')).toString('hex')).toBe(e.leafHash);
  });

  it('serves inclusion proofs by index and by leaf hash, against the latest checkpoint by default', async () => {
    const byIndex = await json<{ index: number; treeSize: number; leafHash: string; proof: string[] }>(
      '/log/proof/inclusion?index=17&size=30',
    );
    verifyInclusion(
      17,
      30,
      leaves[17]!,
      byIndex.proof.map((h) => Buffer.from(h, 'hex')),
      roots[30]!,
    );
    const byHash = await json<{ index: number; treeSize: number; proof: string[] }>(
      `/log/proof/inclusion?leafHash=${leaves[9]!.toString('hex')}`,
    );
    expect(byHash).toMatchObject({ index: 9, treeSize: SIZE });
    verifyInclusion(
      9,
      SIZE,
      leaves[9]!,
      byHash.proof.map((h) => Buffer.from(h, 'hex')),
      roots[SIZE]!,
    );
  });

  it('serves consistency proofs', async () => {
    const p = await json<{ from: number; to: number; proof: string[] }>(`/log/proof/consistency?from=13&to=${SIZE}`);
    verifyConsistency(
      13,
      SIZE,
      p.proof.map((h) => Buffer.from(h, 'hex')),
      roots[13]!,
      roots[SIZE]!,
    );
  });

  it('answers malformed or out-of-range parameters with a 400 problem, an unknown leaf with 404', async () => {
    for (const path of [
      '/log/entries?start=0',
      '/log/entries?start=abc&end=2',
      '/log/entries?start=-1&end=2',
      '/log/entries?start=01&end=2',
      '/log/entries?start=1.5&end=2',
      '/log/entries?start=5&end=5',
      `/log/entries?start=0&end=${SIZE + 1}`,
      '/log/entries?start=0&start=1&end=2',
      '/log/entries?start=99999999999999999999&end=2',
      `/log/proof/inclusion?index=${SIZE}&size=${SIZE}`,
      '/log/proof/inclusion?index=0&size=0',
      `/log/proof/inclusion?index=0&size=${SIZE + 1}`,
      '/log/proof/inclusion?size=3',
      '/log/proof/inclusion?leafHash=zz&size=3',
      `/log/proof/inclusion?index=1&leafHash=${'0'.repeat(64)}`,
      '/log/proof/consistency?from=0&to=3',
      '/log/proof/consistency?from=4&to=3',
      `/log/proof/consistency?from=1&to=${SIZE + 1}`,
      '/log/proof/consistency?to=3',
    ]) {
      await problem(path);
    }
    await problem(`/log/proof/inclusion?leafHash=${'0'.repeat(64)}`, 404, 'ERR_AUDIT_NOT_FOUND');
  });

  it('allows only GET on the log routes', async () => {
    const res = await fetch(`${svc.url}/log/checkpoint`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
