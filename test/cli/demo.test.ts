import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/spawn.js';

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
});
