import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANCERY_BIN, runCli, startChild } from '../helpers/spawn.js';

/** `chancery demo` as a real process: every step behaves, one line each, exit 0. */
describe('chancery demo', () => {
  it('runs the whole story and exits 0 with eleven [ok] steps', { timeout: 180_000 }, async () => {
    // The demo is embedded by definition: a DATABASE_URL in the environment must not change that.
    const r = await runCli(['demo'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const steps = r.stdout.split('\n').filter((l) => /^\[(ok|FAIL)\]/.test(l));
    expect(steps).toHaveLength(11);
    expect(steps.every((l) => l.startsWith('[ok]'))).toBe(true);
    expect(r.stdout).toMatch(/review .*→ pending/);
    expect(r.stdout).toMatch(/approve .*→ approved/);
    expect(r.stdout).toMatch(/revoked .*→ rejected \(ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE\)/);
    expect(r.stdout).toMatch(/receipts .*4 receipts/);
    expect(r.stdout).toMatch(/audit .*check out/);
    expect(r.stdout).toMatch(/evidence .*evidence\.asice .*validates offline at \d{4}-\d{2}-\d{2}, every certificate expired/);
  });

  it("leaves a kept data dir that `chancery serve` serves as it is, with the demo's history", { timeout: 180_000 }, async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'chancery-demo-kept-')), 'demo-data');
    const env = { DATABASE_URL: '', CHANCERY_KEY_PASSPHRASE: '' };
    const r = await runCli(['demo', '--data-dir', dataDir], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`carry on with: chancery serve --data-dir ${dataDir}`);
    const port = await freePort();
    const server = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], env);
    try {
      await server.waitFor('chancery listening');
      const checkpoint = await (await fetch(`http://127.0.0.1:${port}/log/checkpoint`)).text();
      // The demo's own entries are there: the service opened its keys and its log.
      expect(Number(checkpoint.split('\n')[1])).toBeGreaterThan(10);
    } finally {
      server.process.kill('SIGTERM');
      await server.finished;
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
