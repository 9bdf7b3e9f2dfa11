import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkPath, CopyWriter, initCopy, listChunks, writeCopyCheckpoint } from '../src/audit/auditor/copy.js';
import { signCheckpoint } from '../src/audit/checkpoint.js';
import { LogBuilder } from '../src/audit/log-builder.js';
import { nodeKey, rangeNodes } from '../src/audit/merkle.js';
import { formatVerifierKey, parseVerifierKey } from '../src/audit/note.js';
import { LogReader } from '../src/audit/reader.js';
import { GroupCommitLog } from '../src/audit/sequencer.js';
import type { LogKey } from '../src/audit/log-key.js';
import { proveLogAtStart } from '../src/audit/prove-start.js';
import { readNodes, storeCheckpoint } from '../src/audit/store.js';
import { createLogger } from '../src/log.js';
import type { NewEntry } from '../src/audit/types.js';
import { ed25519SignerFromSeed } from '../src/crypto/ed25519.js';
import { randomBytes } from '../src/crypto/digest.js';
import { migrate } from '../src/db/migrate.js';
import { openPg } from '../src/db/pg.js';
import { openPglite } from '../src/db/pglite.js';
import type { Database } from '../src/db/types.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { createPgDatabase, dropPgDatabase } from '../test/helpers/db.js';
import { percentile, round } from './lib.js';

/**
 * The audit log's figures:
 * - appends/s with 64 concurrent appenders on PostgreSQL (fsync on), group commit vs one
 *   commit per append measured in the same run (target ≥ 5,000/s);
 * - offline verification of 1,000,000 entries from a local copy, in a child process: time,
 *   peak RSS, and the ratio to raw SHA-256 over the same bytes (targets ≤ 30 s, < 200 MB);
 * - inclusion proof generation at 1,000,000 entries, in process: p50 (target ≤ 2 ms);
 * - `audit replay`'s log side (verify + rebuild the state) over the same copy, against verify alone;
 * - the start-up proof of the database's log: a new node's full re-hash vs a restart with the
 *   verified-size marker.
 * The 1M entries are built in memory (LogBuilder) and written directly: to the copy, and to the
 * database (PostgreSQL when DATABASE_URL is set, else PGlite) with bulk INSERTs.
 */
const ENTRIES = Number(process.env['AUDIT_BENCH_ENTRIES'] ?? 1_000_000);
const APPEND_SECONDS = 10;

export async function runAuditBench(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  results['appends'] = process.env['AUDIT_BENCH_SKIP_APPENDS'] === '1' ? { skipped: 'AUDIT_BENCH_SKIP_APPENDS=1' } : await benchAppends();
  const work = mkdtempSync(join(tmpdir(), 'chancery-audit-bench-'));
  let db: Database | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  try {
    ({ db, drop: dropDb } = await benchDatabase(work));
    const built = await buildMillion(work, db);
    results['build'] = built.figures;
    results['verify'] = await benchVerify(join(work, 'copy'), built.vkey);
    results['replayLog'] = await benchReplayLog(join(work, 'copy'), built.vkey);
    results['inclusionProof'] = await benchInclusion(db, ENTRIES);
    results['startProof'] = await benchStartProof(db, work, built.key);
  } finally {
    await db?.close();
    await dropDb?.();
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

/** A realistic mix: every fourth entry starts a new subject (a new submission), the rest continue one. */
function entryFor(worker: number, n: number): NewEntry {
  return {
    kind: n % 4 === 0 ? 'submission.pending' : 'submission.countersigned',
    actor: `officer:${1000 + (n % 17)}`,
    subject: `submission:${worker}-${Math.floor(n / 4)}`,
    data: {
      documentDigest: createHash('sha256').update(`${worker}/${n}`).digest('hex'),
      policy: 'food-business-licence',
      applicant: '91350100M000100Y43',
      decision: n % 4 === 3 ? 'approved' : 'review',
      step: n % 4,
    },
  };
}

async function benchAppends(): Promise<Record<string, unknown>> {
  const admin = process.env['DATABASE_URL'];
  if (admin === undefined || admin === '') {
    return {
      skipped: 'DATABASE_URL is not set: the append throughput target is for real PostgreSQL (.ci/with-postgres npm run bench -- audit)',
    };
  }
  const url = await createPgDatabase(admin);
  const db = await openPg(url, { max: 20 });
  try {
    await migrate(db);
    const settings = await db.query<{ fsync: string; synchronous_commit: string }>(
      "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit",
    );
    // One commit per append: 16 writers that each commit alone (maxBatch 1), 64 appenders.
    const single = Array.from({ length: 16 }, () => new GroupCommitLog({ db, maxBatch: 1 }));
    const perCommit = await appendLoad((w) => single[w % 16]!, 64, APPEND_SECONDS / 2, 'single');
    await Promise.all(single.map((l) => l.close()));
    // Group commit: one GroupCommitLog, 64 appenders.
    const grouped = new GroupCommitLog({ db });
    const group = await appendLoad(() => grouped, 64, APPEND_SECONDS, 'group');
    await grouped.close();
    return {
      database: { driver: 'pg', ...settings.rows[0] },
      concurrentAppenders: 64,
      groupCommitEntriesPerSec: group.perSec,
      groupCommitP99Ms: group.p99,
      oneCommitPerAppendEntriesPerSec: perCommit.perSec,
      ratioGroupToOneCommitPerAppend: round(group.perSec / perCommit.perSec, 2),
      targetEntriesPerSec: 5000,
    };
  } finally {
    await db.close();
    await dropPgDatabase(url, admin);
  }
}

async function appendLoad(
  logOf: (worker: number) => GroupCommitLog,
  workers: number,
  seconds: number,
  tag: string,
): Promise<{ perSec: number; p99: number }> {
  let count = 0;
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let n = 0; performance.now() < until; n++) {
        const t = performance.now();
        await logOf(w).record(async (_tx, append) => append(entryFor(w, n + (tag === 'group' ? 1_000_000 : 0))));
        latencies.push(performance.now() - t);
        count++;
      }
    }),
  );
  return { perSec: round(count / ((performance.now() - started) / 1000)), p99: round(percentile(latencies, 99), 2) };
}

async function benchDatabase(work: string): Promise<{ db: Database; drop: () => Promise<void> }> {
  const admin = process.env['DATABASE_URL'];
  if (admin !== undefined && admin !== '') {
    const url = await createPgDatabase(admin);
    const db = await openPg(url);
    await migrate(db);
    return { db, drop: () => dropPgDatabase(url, admin) };
  }
  mkdirSync(join(work, 'pglite'), { recursive: true });
  const db = await openPglite(join(work, 'pglite'));
  await migrate(db);
  return { db, drop: async () => undefined };
}

/**
 * Builds ENTRIES entries in memory and writes them, as they are made, to a local copy (the
 * format `audit fetch` writes) and to the database (bulk INSERTs of entries and subtrees, then
 * the tree head), plus a signed checkpoint for the copy.
 */
async function buildMillion(work: string, db: Database): Promise<{ vkey: string; key: LogKey; figures: Record<string, unknown> }> {
  const started = performance.now();
  const origin = 'bench.invalid/log';
  const signer = ed25519SignerFromSeed(origin, randomBytes(32));
  const copy = join(work, 'copy');
  initCopy(copy, 'http://bench.invalid');
  const writer = new CopyWriter(copy, 4096);
  const builder = new LogBuilder(() => new Date('2025-06-01T00:00:00.000Z'));
  const CHUNK = 10_000;
  let rows: { seq: number[]; leaf: string[]; kind: string[]; subject: string[]; entry: string[] } = {
    seq: [],
    leaf: [],
    kind: [],
    subject: [],
    entry: [],
  };
  let nodes: { level: number[]; idx: number[]; hash: string[] } = { level: [], idx: [], hash: [] };
  let bytes = 0;
  let dbMs = 0;
  const flush = async (): Promise<void> => {
    const t = performance.now();
    await db.query(
      `INSERT INTO audit_entries (seq, leaf_hash, kind, subject, entry)
       SELECT s, decode(l, 'hex'), k, j, convert_to(e, 'UTF8') FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(s, l, k, j, e)`,
      [rows.seq, rows.leaf, rows.kind, rows.subject, rows.entry],
    );
    if (nodes.level.length > 0) {
      await db.query(
        `INSERT INTO audit_nodes (level, idx, hash) SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS u(l, i, h)`,
        [nodes.level, nodes.idx, nodes.hash],
      );
    }
    dbMs += performance.now() - t;
    rows = { seq: [], leaf: [], kind: [], subject: [], entry: [] };
    nodes = { level: [], idx: [], hash: [] };
  };
  const workers = 200;
  for (let i = 0; i < ENTRIES; i++) {
    const entry = entryFor(i % workers, Math.floor(i / workers));
    const built = builder.append(entry, (level, index, hash) => {
      nodes.level.push(level);
      nodes.idx.push(index);
      nodes.hash.push(hash.toString('hex'));
    });
    const leafHex = built.leafHash.toString('hex');
    writer.add(built.index, leafHex, built.bytes);
    bytes += built.bytes.length;
    rows.seq.push(built.index);
    rows.leaf.push(leafHex);
    rows.kind.push(entry.kind);
    rows.subject.push(entry.subject);
    rows.entry.push(built.bytes.toString('utf8'));
    if (rows.seq.length === CHUNK) await flush();
  }
  if (rows.seq.length > 0) await flush();
  writer.flush();
  const root = builder.root();
  // The tree head: size, root, compact range, last leaf.
  const frontierIds = rangeNodes({ begin: 0, end: ENTRIES });
  const frontierNodes = await readNodes(db, frontierIds);
  const frontier = Buffer.concat(frontierIds.map((id) => frontierNodes.get(nodeKey(id))!));
  await db.query(
    `UPDATE audit_tree SET size = $1::bigint, root = $2, frontier = $3, last_leaf = (SELECT leaf_hash FROM audit_entries WHERE seq = $1::bigint - 1) WHERE id`,
    [ENTRIES, root, frontier],
  );
  const dbRoot = (await db.query<{ r: Buffer }>('SELECT audit_root_at($1) AS r', [ENTRIES])).rows[0]!.r;
  if (!dbRoot.equals(root)) throw new Error('bench: the database root differs from the built root');
  const note = await signCheckpoint(signer, origin, { origin, size: ENTRIES, root });
  writeCopyCheckpoint(copy, ENTRIES, note);
  await storeCheckpoint(db, { size: ENTRIES, root, note });
  const vkey = formatVerifierKey(origin, signer.publicKey);
  return {
    vkey,
    key: { signer, origin, vkey, verifier: parseVerifierKey(vkey) },
    figures: {
      entries: ENTRIES,
      entryBytes: bytes,
      meanEntryBytes: Math.round(bytes / ENTRIES),
      seconds: round((performance.now() - started) / 1000),
      databaseSeconds: round(dbMs / 1000),
      driver: db.driver,
    },
  };
}

/** Verifies the copy in a child process (so its peak RSS is the verifier's alone), then hashes the same bytes raw. */
async function benchVerify(copy: string, vkey: string): Promise<Record<string, unknown>> {
  const dist = join(PROJECT_ROOT, 'dist', 'src', 'audit');
  const script = `
    const { verifyLog, copySource } = await import(${JSON.stringify(join(dist, 'auditor', 'verify.js'))});
    const { copyCheckpoint } = await import(${JSON.stringify(join(dist, 'auditor', 'fetch.js'))});
    const { parseVerifierKey } = await import(${JSON.stringify(join(dist, 'note.js'))});
    const started = performance.now();
    const result = await verifyLog({ verifier: parseVerifierKey(${JSON.stringify(vkey)}), checkpoint: copyCheckpoint(${JSON.stringify(copy)}), source: copySource(${JSON.stringify(copy)}) });
    const ms = performance.now() - started;
    // VmHWM is this process's own peak; getrusage's maxRSS also counts the parent's at fork on Linux.
    const { readFileSync } = await import('node:fs');
    const status = readFileSync('/proc/self/status', 'utf8');
    const at = status.indexOf('VmHWM:');
    const maxRssKiB = at < 0 ? process.resourceUsage().maxRSS : Number.parseInt(status.slice(at + 6).trim(), 10);
    process.stdout.write(JSON.stringify({ ok: result.ok, entries: result.ok ? result.entries : result.entriesChecked, failure: result.ok ? undefined : result.failure, ms, maxRssKiB }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const verified = JSON.parse(out) as { ok: boolean; entries: number; ms: number; maxRssKiB: number };

  // Raw SHA-256 over the same bytes (every chunk file), read the same way.
  const started = performance.now();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const chunk of listChunks(copy)) {
    const data = readFileSync(chunkPath(copy, chunk));
    bytes += data.length;
    hash.update(data);
  }
  hash.digest();
  const shaMs = performance.now() - started;
  return {
    ok: verified.ok,
    entries: verified.entries,
    seconds: round(verified.ms / 1000, 2),
    peakRssMiB: round(verified.maxRssKiB / 1024),
    copyBytes: bytes,
    rawSha256Seconds: round(shaMs / 1000, 3),
    ratioToRawSha256: round(verified.ms / shaMs, 1),
    targets: { seconds: 30, peakRssMiB: 200 },
  };
}

/**
 * The start-up proof over the whole log: a new node (no checkpoint file, no verified-size marker)
 * re-hashes every entry and subtree; a restart with the marker re-hashes none. Same run, same database.
 */
async function benchStartProof(db: Database, work: string, key: LogKey): Promise<Record<string, unknown>> {
  const dir = join(work, 'node');
  mkdirSync(dir, { recursive: true });
  const logger = createLogger('silent');
  let t = performance.now();
  const full = await proveLogAtStart(db, key, dir, logger);
  const fullMs = performance.now() - t;
  t = performance.now();
  const restart = await proveLogAtStart(db, key, dir, logger);
  const restartMs = performance.now() - t;
  return {
    driver: db.driver,
    treeSize: full.size,
    newNodeSeconds: round(fullMs / 1000, 2),
    newNodeRehashed: full.rehashed,
    restartWithMarkerMs: round(restartMs, 1),
    restartRehashed: restart.rehashed,
    ratioNewNodeToRestart: round(fullMs / restartMs, 1),
  };
}

/**
 * `audit replay`'s log side over the same copy, in a child process: verification plus the state
 * rebuilt from every entry (submissions and their transitions held in memory). Its ratio to plain
 * verification is the replay's own cost; the comparison with the service adds requests per subject.
 */
async function benchReplayLog(copy: string, vkey: string): Promise<Record<string, unknown>> {
  const dist = join(PROJECT_ROOT, 'dist', 'src', 'audit');
  const script = `
    const { copySource, verifyLog } = await import(${JSON.stringify(join(dist, 'auditor', 'verify.js'))});
    const { replayLog } = await import(${JSON.stringify(join(dist, 'auditor', 'replay.js'))});
    const { copyCheckpoint } = await import(${JSON.stringify(join(dist, 'auditor', 'fetch.js'))});
    const { parseVerifierKey } = await import(${JSON.stringify(join(dist, 'note.js'))});
    const options = () => ({ verifier: parseVerifierKey(${JSON.stringify(vkey)}), checkpoint: copyCheckpoint(${JSON.stringify(copy)}), source: copySource(${JSON.stringify(copy)}) });
    let t = performance.now();
    const plain = await verifyLog(options());
    const verifyMs = performance.now() - t;
    t = performance.now();
    const { verify, state } = await replayLog(options());
    const replayMs = performance.now() - t;
    const { readFileSync } = await import('node:fs');
    const status = readFileSync('/proc/self/status', 'utf8');
    const at = status.indexOf('VmHWM:');
    process.stdout.write(JSON.stringify({ ok: plain.ok && verify.ok, verifyMs, replayMs, submissions: state.submissions.size, maxRssKiB: Number.parseInt(status.slice(at + 6).trim(), 10) }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const r = JSON.parse(out) as { ok: boolean; verifyMs: number; replayMs: number; submissions: number; maxRssKiB: number };
  return {
    ok: r.ok,
    entries: ENTRIES,
    submissionsRebuilt: r.submissions,
    replaySeconds: round(r.replayMs / 1000, 2),
    verifyOnlySeconds: round(r.verifyMs / 1000, 2),
    ratioReplayToVerify: round(r.replayMs / r.verifyMs, 2),
    peakRssMiB: round(r.maxRssKiB / 1024),
  };
}

async function benchInclusion(db: Database, size: number): Promise<Record<string, unknown>> {
  const reader = new LogReader(db);
  for (let i = 0; i < 50; i++) await reader.inclusionProof(Math.floor(Math.random() * size), size); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const index = Math.floor(Math.random() * size);
    const t = performance.now();
    await reader.inclusionProof(index, size);
    samples.push(performance.now() - t);
  }
  return {
    driver: db.driver,
    treeSize: size,
    samples: samples.length,
    p50Ms: round(percentile(samples, 50), 3),
    p99Ms: round(percentile(samples, 99), 3),
    targetP50Ms: 2,
  };
}
