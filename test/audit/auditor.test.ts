import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyWriter, initCopy, writeCopyCheckpoint, type CopiedEntry } from '../../src/audit/auditor/copy.js';
import { copySource, verifyLog, type VerifyResult } from '../../src/audit/auditor/verify.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { LogBuilder, type BuiltEntry } from '../../src/audit/log-builder.js';
import { CompactRange, hashLeaf } from '../../src/audit/merkle.js';
import { verifierOf } from '../../src/audit/note.js';
import { ed25519SignerFromSeed } from '../../src/crypto/ed25519.js';
import { testEntry } from './helpers.js';

const ORIGIN = 'audit.test/log';
const signer = ed25519SignerFromSeed(ORIGIN, Buffer.alloc(32, 7));
const otherSigner = ed25519SignerFromSeed(ORIGIN, Buffer.alloc(32, 8));
const verifier = verifierOf(ORIGIN, signer.publicKey);

function buildLog(n: number, tag = 'x'): BuiltEntry[] {
  const builder = new LogBuilder(() => new Date('2025-05-05T05:05:05.000Z'));
  return Array.from({ length: n }, (_, i) => builder.append(testEntry(`${tag}-${i % 5}`, { i, tag })));
}

function rootOf(entries: readonly BuiltEntry[]): Buffer {
  const tree = new CompactRange();
  for (const e of entries) tree.append(e.leafHash);
  return tree.root();
}

async function note(entries: readonly BuiltEntry[], key = signer, origin = ORIGIN): Promise<string> {
  return signCheckpoint(key, origin, { origin, size: entries.length, root: rootOf(entries) });
}

const served = (entries: readonly BuiltEntry[]): CopiedEntry[] =>
  entries.map((e) => ({ index: e.index, leafHash: e.leafHash, bytes: e.bytes }));

async function* batches(items: Array<CopiedEntry | undefined>): AsyncGenerator<Array<CopiedEntry | undefined>> {
  for (let i = 0; i < items.length; i += 16) yield items.slice(i, i + 16);
}

async function verify(items: Array<CopiedEntry | undefined>, checkpoint: string, trusted: string[] = []): Promise<VerifyResult> {
  return verifyLog({ verifier, checkpoint, source: batches(items), trusted: trusted.map((t, i) => ({ note: t, label: `trusted #${i}` })) });
}

function expectFault(result: VerifyResult, index: number | null, fault: string): void {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  if (!result.ok) expect({ index: result.failure.index, fault: result.failure.fault }).toEqual({ index, fault });
}

/** Replaces entry k's bytes by an edited JSON object; the leaf hash is recomputed only when asked. */
function edit(items: CopiedEntry[], k: number, change: (e: Record<string, unknown>) => void, rehash: boolean): CopiedEntry[] {
  const copy = [...items];
  const e = JSON.parse(copy[k]!.bytes.toString('utf8')) as Record<string, unknown>;
  change(e);
  const bytes = Buffer.from(canonicalJson(e), 'utf8');
  copy[k] = { index: k, leafHash: rehash ? hashLeaf(bytes) : copy[k]!.leafHash, bytes };
  return copy;
}

describe('offline audit verification (verifyLog)', () => {
  const log = buildLog(60);
  let good: string;

  it('accepts an intact log and reports its size and subjects', async () => {
    good = await note(log);
    const result = await verify(served(log), good);
    expect(result).toMatchObject({ ok: true, entries: 60, subjects: 5, checkpoint: { origin: ORIGIN, size: 60 } });
  });

  it('names an altered entry by its index: hash-mismatch', async () => {
    expectFault(
      await verify(
        edit(served(log), 17, (e) => ((e['data'] as Record<string, unknown>)['i'] = 999), false),
        good,
      ),
      17,
      'hash-mismatch',
    );
  });

  it('an altered entry whose served hash was recomputed too breaks the next link: broken-prev at the next index', async () => {
    expectFault(
      await verify(
        edit(served(log), 17, (e) => ((e['data'] as Record<string, unknown>)['i'] = 999), true),
        good,
      ),
      18,
      'broken-prev',
    );
  });

  it('names non-canonical bytes and unreadable entries', async () => {
    const items = served(log);
    const pretty = Buffer.from(JSON.stringify(JSON.parse(items[4]!.bytes.toString('utf8')), null, 1), 'utf8');
    items[4] = { index: 4, leafHash: hashLeaf(pretty), bytes: pretty };
    expectFault(await verify(items, good), 4, 'non-canonical');
    const garbage = served(log);
    garbage[9] = { index: 9, leafHash: hashLeaf(Buffer.from('{oops')), bytes: Buffer.from('{oops') };
    expectFault(await verify(garbage, good), 9, 'malformed-entry');
    const unreadable: Array<CopiedEntry | undefined> = served(log);
    unreadable[3] = undefined;
    expectFault(await verify(unreadable, good), 3, 'malformed-entry');
  });

  it('names a deleted entry: missing-entry', async () => {
    const items = served(log);
    items.splice(23, 1);
    expectFault(await verify(items, good), 23, 'missing-entry');
  });

  it('names the first of two swapped entries: seq-mismatch', async () => {
    const items = served(log);
    [items[30], items[41]] = [
      { ...items[41]!, index: 30 },
      { ...items[30]!, index: 41 },
    ];
    expectFault(await verify(items, good), 30, 'seq-mismatch');
  });

  it('names an inserted, well-formed forged entry: forged-entry at its index', async () => {
    const builder = new LogBuilder(() => new Date('2025-05-05T05:05:05.000Z'));
    const prefix = log.slice(0, 12);
    // The forger rebuilds entries 0..11 identically, then forges entry 12 that chains correctly.
    for (let i = 0; i < 12; i++) builder.append(testEntry(`x-${i % 5}`, { i, tag: 'x' }));
    const forged = builder.append(testEntry('forged', { approved: true }));
    const items: CopiedEntry[] = [
      ...served(prefix),
      { index: 12, leafHash: forged.leafHash, bytes: forged.bytes },
      ...served(log.slice(12)).map((e) => ({ ...e, index: e.index + 1 })),
    ];
    expectFault(await verify(items, good), 12, 'forged-entry');
  });

  it('names a broken subject chain: broken-subject-prev', async () => {
    const items = edit(served(log), 26, (e) => (e['subjectPrev'] = null), true);
    expectFault(await verify(items, good), 26, 'broken-subject-prev');
  });

  it('names a cut tail: missing-entry at the first missing index', async () => {
    expectFault(await verify(served(log.slice(0, 45)), good), 45, 'missing-entry');
  });

  it('refuses a checkpoint whose root the entries do not reach: root-mismatch at its last index', async () => {
    const wrong = await signCheckpoint(signer, ORIGIN, { origin: ORIGIN, size: 60, root: rootOf(buildLog(60, 'other')) });
    expectFault(await verify(served(log), wrong), 59, 'root-mismatch');
  });

  it('refuses a checkpoint not signed by the log key (bad-signature) or of another origin (bad-checkpoint)', async () => {
    expectFault(await verify(served(log), await note(log, otherSigner)), null, 'bad-signature');
    const otherOrigin = await signCheckpoint(signer, ORIGIN, { origin: 'another.log/x', size: 60, root: rootOf(log) });
    expectFault(await verify(served(log), otherOrigin), null, 'bad-checkpoint');
  });

  it('is consistent with a trusted checkpoint of an earlier size of the same history', async () => {
    const result = await verify(served(log), good, [await note(log.slice(0, 33))]);
    expect(result).toMatchObject({ ok: true, consistentWith: [33] });
  });

  it('names a checkpoint from a forked history: inconsistent-with-trusted where the trusted tree ends', async () => {
    // The auditor trusted size 30 of the real history; the log now presents a fork of size 40.
    const forkLog = new LogBuilder(() => new Date('2025-05-05T05:05:05.000Z'));
    const forked = [
      ...Array.from({ length: 20 }, (_, i) => forkLog.append(testEntry(`x-${i % 5}`, { i, tag: 'x' }))),
      ...Array.from({ length: 20 }, (_, i) => forkLog.append(testEntry(`fork-${i}`, { i }))),
    ];
    expect(forked[19]!.leafHash.equals(log[19]!.leafHash)).toBe(true); // same history up to 19, then it forks
    const result = await verify(served(forked), await note(forked), [await note(log.slice(0, 30))]);
    expectFault(result, 29, 'inconsistent-with-trusted');
  });

  it('names a log cut below a trusted checkpoint: inconsistent-with-trusted at its size', async () => {
    const short = log.slice(0, 40);
    expectFault(await verify(served(short), await note(short), [good]), 40, 'inconsistent-with-trusted');
  });
});

describe('the local copy format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chancery-copy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a log across several chunk files, and verifies from disk', async () => {
    const log = buildLog(50);
    const copy = join(dir, 'a');
    initCopy(copy, 'http://example.invalid');
    const writer = new CopyWriter(copy, 7);
    for (const e of log.slice(0, 30)) writer.add(e.index, e.leafHash.toString('hex'), e.bytes);
    writer.flush();
    // Resume: a new writer continues after the 30 lines (2 of the last chunk's 7 are there).
    const resumed = new CopyWriter(copy, 7, 30, []);
    expect(resumed.count).toBe(30);
    const again = new CopyWriter(copy, 7, 28, []);
    for (const e of log.slice(28)) again.add(e.index, e.leafHash.toString('hex'), e.bytes);
    again.flush();
    writeCopyCheckpoint(copy, 50, await note(log));
    const result = await verifyLog({ verifier, checkpoint: await note(log), source: copySource(copy) });
    expect(result).toMatchObject({ ok: true, entries: 50 });
  });

  it('keeps the line framing when an entry holds a raw newline, and names it non-canonical', async () => {
    const log = buildLog(10);
    const copy = join(dir, 'b');
    initCopy(copy, 'http://example.invalid');
    const writer = new CopyWriter(copy, 4096);
    log.forEach((e, i) => {
      const bytes = i === 6 ? Buffer.from(e.bytes.toString('utf8').replace('{', '{\n')) : e.bytes;
      writer.add(e.index, (i === 6 ? hashLeaf(bytes) : e.leafHash).toString('hex'), bytes);
    });
    writer.flush();
    const result = await verifyLog({ verifier, checkpoint: await note(log), source: copySource(copy) });
    expectFault(result, 6, 'non-canonical');
  });
});
