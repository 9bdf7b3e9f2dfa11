import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveTimestamper, ARCHIVE_SUBJECT, type StoredArchiveTimestamp } from '../../src/audit/archive-timestamps.js';
import { openAudit, type AuditPart } from '../../src/audit/open.js';
import { readTreeHead } from '../../src/audit/store.js';
import { sha256Hex } from '../../src/crypto/digest.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { createLogger } from '../../src/log.js';
import { OID } from '../../src/oids.js';
import { RemoteTimeStamper } from '../../src/tsa/client.js';
import { encodeTimeStampQuery } from '../../src/tsa/protocol.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';
import { startOpensslTsa, type OpensslTsa } from '../helpers/openssl-tsa.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { testEntry } from './helpers.js';

const PASSPHRASE = 'test-only passphrase, not a secret';
const logger = createLogger('silent');

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `openssl ts -verify` of a token over the note's exact bytes, trusting `caFile`. */
function opensslVerifies(dir: string, note: string, token: Buffer, caFile: string, untrusted?: string): string {
  writeFileSync(join(dir, 'note.txt'), note);
  writeFileSync(join(dir, 'token.tst'), token);
  return execFileSync(
    'openssl',
    [
      'ts',
      '-verify',
      '-data',
      join(dir, 'note.txt'),
      '-in',
      join(dir, 'token.tst'),
      '-token_in',
      '-CAfile',
      caFile,
      ...(untrusted === undefined ? [] : ['-untrusted', untrusted]),
    ],
    { stdio: 'pipe' },
  ).toString();
}

describe.each(drivers())('archive time-stamps of checkpoints on $name', (driver) => {
  let tsa: OpensslTsa;
  let dir: string;
  const cleanup: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    tsa = await startOpensslTsa();
    dir = mkdtempSync(join(tmpdir(), 'chancery-archive-'));
  });
  afterAll(async () => {
    await tsa?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setUp(intervalMs: number, realClock = false) {
    const t: TestDatabase = await createMigrated(driver);
    cleanup.push(() => t.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'chancery-archive-audit-'));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const part: AuditPart = await openAudit({
      db: t.db,
      keyStore: new FileKeyStore(join(dataDir, 'keys'), PASSPHRASE),
      dataDir,
      logger,
      checkpointDelayMs: 20,
      checkpointPollMs: 100,
    });
    cleanup.push(() => part.close());
    let clock = Date.now();
    const failures: unknown[] = [];
    const stamps: StoredArchiveTimestamp[] = [];
    const archiver = new ArchiveTimestamper({
      db: t.db,
      log: part.log,
      stamper: new RemoteTimeStamper({ url: tsa.url }),
      logger,
      intervalMs,
      ...(realClock ? {} : { now: () => new Date(clock) }),
      onFailed: (e) => failures.push(e),
      onStamped: (s) => stamps.push(s),
    });
    part.checkpointer.archiveWith(archiver);
    const append = (tag: string) => part.log.record(async (_tx, a) => a(testEntry(`archive-test:${tag}`)));
    const rows = async () =>
      (await t.db.query<{ tree_size: number }>('SELECT tree_size FROM tsa_checkpoint_timestamps ORDER BY tree_size')).rows.map((r) =>
        Number(r.tree_size),
      );
    return { t, part, archiver, failures, stamps, append, rows, advance: (ms: number) => (clock += ms) };
  }

  it('a failing TSA blocks no checkpoint and is counted; the next checkpoint is time-stamped once the TSA answers', async () => {
    const s = await setUp(60_000);
    s.advance(61_000);
    tsa.mode = 'http-500';
    try {
      await s.append('a');
      await waitFor(() => (s.failures.length > 0 ? true : undefined));
      expect(String((s.failures[0] as Error).message)).toMatch(/HTTP 500/);
      // Checkpoints went on: the latest covers every entry, and nothing was stored for the failure.
      const head = await readTreeHead(s.t.db);
      await waitFor(async () => ((await s.part.reader.latestCheckpoint()).size === head.size ? true : undefined));
      expect(await s.rows()).toEqual([]);
    } finally {
      tsa.mode = 'normal';
    }
    await s.append('b');
    const stamp = await waitFor(() => s.stamps[0]);
    expect(await s.rows()).toEqual([stamp.treeSize]);
    // The token is over the note's exact bytes: openssl says so, trusting the outside TSA's root.
    expect(opensslVerifies(dir, stamp.note, stamp.token, tsa.caPem)).toContain('Verification: OK');
    // The stored note is the signed checkpoint of that size.
    const checkpoints = await s.t.db.query<{ note: string }>('SELECT note FROM audit_checkpoints WHERE size = $1', [stamp.treeSize]);
    expect(checkpoints.rows[0]!.note).toBe(stamp.note);
    // And it is recorded in the log: a checkpoint.timestamped entry naming the token and the note.
    const page = await s.part.reader.entries(stamp.logIndex, stamp.logIndex + 1);
    const entry = JSON.parse(page.entries[0]!.entry) as { kind: string; subject: string; data: Record<string, unknown> };
    expect(entry.kind).toBe('checkpoint.timestamped');
    expect(entry.subject).toBe(ARCHIVE_SUBJECT);
    expect(entry.data).toMatchObject({
      treeSize: stamp.treeSize,
      tokenSha256: sha256Hex(stamp.token),
      noteSha256: sha256Hex(stamp.note),
      genTime: stamp.genTime.toISOString(),
    });
    expect(stamp.logIndex).toBeGreaterThanOrEqual(stamp.treeSize);
  });

  it('time-stamps only the first checkpoint after each interval (on a fresh log, the first interval counts from start)', async () => {
    const s = await setUp(60_000);
    await s.append('early');
    const early = (await readTreeHead(s.t.db)).size;
    await waitFor(async () => ((await s.part.reader.latestCheckpoint()).size >= early ? true : undefined));
    await s.archiver.drain();
    expect(await s.rows()).toEqual([]);
    s.advance(61_000);
    await s.append('a');
    const first = await waitFor(() => s.stamps[0]);
    // New checkpoints within the interval (the entry recording the stamp makes one) get none.
    await s.append('b');
    const afterB = (await readTreeHead(s.t.db)).size;
    await waitFor(async () => ((await s.part.reader.latestCheckpoint()).size >= afterB ? true : undefined));
    await s.archiver.drain();
    expect(await s.rows()).toEqual([first.treeSize]);
    // Once the interval has passed, the next checkpoint is time-stamped.
    s.advance(61_000);
    await s.append('c');
    const second = await waitFor(() => s.stamps[1]);
    expect(second.treeSize).toBeGreaterThan(first.treeSize);
    expect(await s.rows()).toEqual([first.treeSize, second.treeSize]);
    expect(s.failures).toEqual([]);
  });

  it('a log that goes quiet still gets its head time-stamped, one interval after the checkpoint that was not due', async () => {
    const s = await setUp(300, true);
    await s.append('only');
    const head = (await readTreeHead(s.t.db)).size;
    // No further append: the checkpoint offered too early is offered again when the interval has passed.
    const stamp = await waitFor(() => s.stamps[0]);
    expect(stamp.treeSize).toBeGreaterThanOrEqual(head);
    expect(s.failures).toEqual([]);
  });
});

describe.each(drivers())('GET /api/v1/log/timestamps on $name', (driver) => {
  let svc: TestService;
  let dir: string;
  beforeAll(async () => {
    // Chancery's own TSA; a short interval so that a test sees more than one.
    svc = await startTestService(driver, { CHANCERY_ARCHIVE_TIMESTAMP_INTERVAL: '0.3' });
    dir = mkdtempSync(join(tmpdir(), 'chancery-archive-route-'));
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async (query: string) => {
    const r = await fetch(`${svc.url}/api/v1/log/timestamps${query}`);
    return { status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as Record<string, unknown> };
  };

  it('serves the time-stamped checkpoint at or after a size, with its note and token, verifiable by openssl', async () => {
    // Once the first interval has passed, something to log (a POST /tsa token) makes a checkpoint to time-stamp.
    await new Promise((r) => setTimeout(r, 400));
    const query = encodeTimeStampQuery({ hashAlgorithm: OID.sha256, digest: Buffer.alloc(32, 1), certReq: true });
    const stamped = await fetch(`${svc.url}/tsa`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: query,
    });
    expect(stamped.status).toBe(200);
    const latest = await waitFor(async () => {
      const r = await get('');
      return r.status === 200 ? r.body : undefined;
    });
    const size = latest['treeSize'] as number;
    const covering = await get(`?size=${size}`);
    expect(covering.status).toBe(200);
    expect(covering.body['treeSize']).toBe(size);
    const fromZero = await get('?size=0');
    expect(fromZero.status).toBe(200);
    expect(fromZero.body['treeSize'] as number).toBeLessThanOrEqual(size);
    const token = Buffer.from(latest['token'] as string, 'base64');
    const untrusted = join(dir, 'untrusted.pem');
    writeFileSync(untrusted, readFileSync(join(svc.dataDir, 'ca', 'chain.pem')));
    expect(opensslVerifies(dir, latest['note'] as string, token, join(svc.dataDir, 'ca', 'root.pem'), untrusted)).toContain(
      'Verification: OK',
    );
    expect(latest['genTime']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(latest['tsaCertificateSha256']).toMatch(/^[0-9a-f]{64}$/);
    // Operators watch the failures (none here: Chancery's own TSA answered).
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^chancery_archive_timestamp_failures_total 0$/m);
  });

  it('answers 404 for a size no time-stamped checkpoint covers yet, 400 for a size that is not a number', async () => {
    const beyond = await get('?size=999999999');
    expect(beyond.status).toBe(404);
    expect(beyond.type).toContain('application/problem+json');
    expect(beyond.body['code']).toBe('ERR_AUDIT_NOT_FOUND');
    for (const bad of ['?size=abc', '?size=-1', '?size=1&size=2']) {
      const r = await get(bad);
      expect(r.status).toBe(400);
      expect(r.body['code']).toBe('ERR_AUDIT_RANGE');
    }
  });
});
