import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPath } from '../../src/audit/auditor/copy.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { formatVerifierKey } from '../../src/audit/note.js';
import { ed25519SignerFromSeed } from '../../src/crypto/ed25519.js';
import { testEntry } from '../audit/helpers.js';
import { pgliteDriver } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { runCli } from '../helpers/spawn.js';

describe('chancery audit fetch|verify|prove against a running service', () => {
  let svc: TestService;
  let work: string;
  let vkeyFile: string;
  let state: string;

  const append = async (n: number, tag: string): Promise<void> => {
    await svc.service.audit.record(async (_tx, add) => {
      for (let i = 0; i < n; i++) await add(testEntry(`cli-${tag}-${i % 3}`, { i }));
    });
    const size = await svc.service.auditPart.reader.treeSize();
    for (let i = 0; i < 100 && (await svc.service.auditPart.reader.latestCheckpoint()).size < size; i++)
      await new Promise((r) => setTimeout(r, 50));
  };
  const audit = (args: string[]) => runCli(['audit', ...args], { XDG_STATE_HOME: join(work, 'xdg') });

  beforeAll(async () => {
    svc = await startTestService(pgliteDriver);
    work = mkdtempSync(join(tmpdir(), 'chancery-audit-cli-'));
    vkeyFile = join(svc.dataDir, 'log.vkey');
    state = join(work, 'state.json');
    await append(25, 'a');
  });
  afterAll(async () => {
    await svc.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('fetches a copy, verifies it offline with the pinned key, and records the checkpoint in its state', async () => {
    const fetched = await audit(['fetch', '--url', svc.url, '--out', join(work, 'copy'), '--json']);
    expect(fetched.code, fetched.stderr).toBe(0);
    const size = await svc.service.auditPart.reader.treeSize();
    expect(JSON.parse(fetched.stdout)).toMatchObject({ checkpointSize: size, entries: size, downloaded: size });
    const verified = await audit(['verify', '--dir', join(work, 'copy'), '--log-key', vkeyFile, '--state', state]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`size ${size}`);
    expect(verified.stderr).toBe(''); // no progress bar when stderr is not a terminal
    expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ size });
  });

  it('resumes a fetch with only the new entries, and verifies the longer log as consistent with the trusted state', async () => {
    await append(12, 'b');
    const fetched = await audit(['fetch', '--url', svc.url, '--out', join(work, 'copy'), '--json']);
    expect(JSON.parse(fetched.stdout)).toMatchObject({ downloaded: 12 });
    const verified = await audit(['verify', '--dir', join(work, 'copy'), '--log-key', vkeyFile, '--state', state, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const result = JSON.parse(verified.stdout) as {
      ok: boolean;
      consistentWith: number[];
      stateUpdated: boolean;
      checkpoint: { size: number };
    };
    expect(result.ok).toBe(true);
    expect(result.consistentWith).toHaveLength(1);
    expect(result.stateUpdated).toBe(true);
  });

  it('verifies the log straight from its URL, with the default state location', async () => {
    const verified = await audit(['verify', '--url', svc.url, '--log-key', readFileSync(vkeyFile, 'utf8').trim()]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('auditor state');
    expect(existsSync(join(work, 'xdg', 'chancery', 'audit'))).toBe(true);
  });

  it('proves an entry by index and by leaf hash against a verified checkpoint', async () => {
    const byIndex = await audit(['prove', '--index', '7', '--url', svc.url, '--log-key', vkeyFile, '--state', state, '--json']);
    expect(byIndex.code, byIndex.stderr).toBe(0);
    const proof = JSON.parse(byIndex.stdout) as { index: number; leafHash: string; consistentWith: number };
    expect(proof.index).toBe(7);
    expect(proof.consistentWith).toBeGreaterThan(0);
    const byHash = await audit(['prove', '--leaf-hash', proof.leafHash, '--url', svc.url, '--log-key', vkeyFile, '--no-state']);
    expect(byHash.code, byHash.stderr).toBe(0);
    expect(byHash.stdout).toContain('entry 7');
    const unknown = await audit(['prove', '--leaf-hash', 'ab'.repeat(32), '--url', svc.url, '--log-key', vkeyFile, '--no-state']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404');
  });

  it('names the first bad index of a tampered copy, exits 1, and leaves the trusted state alone', async () => {
    const chunk = chunkPath(join(work, 'copy'), 0);
    const original = readFileSync(chunk, 'utf8');
    const lines = original.split('\n');
    lines[5] = lines[5]!.replace('"actor":"system"', '"actor":"mallory"');
    writeFileSync(chunk, lines.join('\n'));
    const before = readFileSync(state, 'utf8');
    try {
      const verified = await audit(['verify', '--dir', join(work, 'copy'), '--log-key', vkeyFile, '--state', state]);
      expect(verified.code).toBe(1);
      expect(verified.stdout).toMatch(/^FAILED at index 5: hash-mismatch: /);
      const json = await audit(['verify', '--dir', join(work, 'copy'), '--log-key', vkeyFile, '--state', state, '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, failure: { index: 5, fault: 'hash-mismatch' } });
      expect(readFileSync(state, 'utf8')).toBe(before);
    } finally {
      writeFileSync(chunk, original);
    }
  });

  it('refuses a checkpoint signed by a key other than the pinned one', async () => {
    const other = ed25519SignerFromSeed('x', Buffer.alloc(32, 3));
    const origin = svc.service.auditPart.logKey.origin;
    const otherKey = join(work, 'other.vkey');
    writeFileSync(otherKey, formatVerifierKey(origin, other.publicKey));
    const verified = await audit(['verify', '--url', svc.url, '--log-key', otherKey, '--no-state']);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^FAILED: bad-signature/);
    // And a forged "trusted" checkpoint is refused as not signed by the key, before any entry.
    const forged = join(work, 'forged.note');
    writeFileSync(forged, await signCheckpoint(other, origin, { origin, size: 1, root: Buffer.alloc(32) }));
    const withForged = await audit(['verify', '--url', svc.url, '--log-key', vkeyFile, '--no-state', '--trusted', forged]);
    expect(withForged.code).toBe(1);
    expect(withForged.stdout).toContain('bad-signature');
  });

  it('exits 64 on usage errors', async () => {
    expect((await audit(['verify', '--log-key', vkeyFile])).code).toBe(64);
    expect((await audit(['verify', '--dir', work, '--url', svc.url, '--log-key', vkeyFile])).code).toBe(64);
    expect((await audit(['verify', '--url', svc.url, '--log-key', 'not-a-key'])).code).toBe(64);
    expect((await audit(['prove', '--url', svc.url, '--log-key', vkeyFile])).code).toBe(64);
    expect((await audit(['prove', '--index', '-1', '--url', svc.url, '--log-key', vkeyFile])).code).toBe(64);
    expect((await audit(['verify', '--dir', join(work, 'empty'), '--log-key', vkeyFile])).code).toBe(64);
    const help = await audit(['fetch', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--out');
  });
});
