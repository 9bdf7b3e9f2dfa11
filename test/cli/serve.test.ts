import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyMigratedPgliteTemplate, copyPgliteTemplate } from '../helpers/db.js';
import { CHANCERY_BIN, runCli, startChild } from '../helpers/spawn.js';

/** These tests are about the embedded database: never inherit the suite's DATABASE_URL. */
const EMBEDDED = { DATABASE_URL: '' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Asserts a start-up failure: non-zero exit, exactly one line on stderr, no stack trace. */
function expectOneLineFailure(result: { code: number | null; stderr: string }, text: string): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('chancery serve (a real process)', () => {
  it('serves /healthz on the embedded database and stops cleanly on SIGTERM', async () => {
    const dataDir = copyPgliteTemplate();
    const port = await freePort();
    const child = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], EMBEDDED);
    await child.waitFor('chancery listening');
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(existsSync(join(dataDir, 'pgdata.lock'))).toBe(true);

    child.process.kill('SIGTERM');
    const done = await child.finished;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('chancery stopped');
    expect(existsSync(join(dataDir, 'pgdata.lock'))).toBe(false);
  });

  it(
    'binds its port only once it can answer: the first connection accepted gets 200, not a hang or a 503',
    { timeout: 180_000 },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'chancery-serve-fresh-'));
      const port = await freePort();
      const child = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], EMBEDDED);
      try {
        // Poll /healthz until a request gets an answer (a fresh data dir: the slowest start). A
        // refused connection means "not listening yet"; so does a reset, which the port probe at
        // the very start can cause for a connection that lands in its few-millisecond window.
        // What must never happen is an accepted request that hangs or is answered 503.
        const deadline = Date.now() + 120_000;
        let res: Response;
        let started: number;
        for (;;) {
          started = Date.now();
          try {
            res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(30_000) });
            break;
          } catch (error) {
            if (error instanceof Error && error.name === 'TimeoutError')
              throw new Error('an accepted /healthz request hung for 30 s', { cause: error });
          }
          if (Date.now() > deadline || child.process.exitCode !== null) throw new Error(`never listened:\n${child.stderr()}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        expect(res.status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
        // Answered by a running event loop, not after start-up finally let go of it.
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        child.process.kill('SIGTERM');
        await child.finished;
      }
    },
  );

  it('prints its version and help for every command', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--database-url');
  });

  it('exits 64 on an unknown command', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('refuses a bad PORT with one line naming it', async () => {
    expectOneLineFailure(await runCli(['serve'], { PORT: 'eighty' }), 'PORT: "eighty" is not a port number');
  });

  it('refuses a port that is in use with one line', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const dataDir = copyMigratedPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-')));
      expectOneLineFailure(
        await runCli(['serve', '--data-dir', dataDir], { ...EMBEDDED, PORT: String(port) }),
        `127.0.0.1:${port} is already in use`,
      );
      expect(existsSync(join(dataDir, 'pgdata.lock'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('refuses a data dir it cannot create or that is not a directory', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chancery-')), 'plain-file');
    writeFileSync(file, 'x');
    expectOneLineFailure(await runCli(['serve', '--data-dir', join(file, 'sub')], EMBEDDED), 'CHANCERY_DATA_DIR: cannot create');
    expectOneLineFailure(await runCli(['serve'], { ...EMBEDDED, CHANCERY_DATA_DIR: file }), 'is not a directory');
  });

  it('refuses a DATABASE_URL that does not answer with one line, without its password', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'chancery-'));
    const result = await runCli(['serve', '--data-dir', dataDir], { DATABASE_URL: `postgres://app:topsecret@127.0.0.1:${port}/x` });
    expectOneLineFailure(result, `DATABASE_URL: cannot connect to postgres://app:***@127.0.0.1:${port}/x`);
    expect(result.stderr).not.toContain('topsecret');
  });

  it('refuses a second process on the same embedded database while the first runs', async () => {
    // Migrated already, so the first is up sooner (the first test starts on an empty database).
    const dataDir = copyMigratedPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-')));
    const port = await freePort();
    const first = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], EMBEDDED);
    await first.waitFor('chancery listening');
    try {
      expectOneLineFailure(
        await runCli(['serve', '--port', String(await freePort()), '--data-dir', dataDir], EMBEDDED),
        'is in use by process',
      );
    } finally {
      first.process.kill('SIGTERM');
      await first.finished;
    }
  });
});
