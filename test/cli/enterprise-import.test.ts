import { mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeUscc } from '../../src/registry/uscc.js';
import { copyPgliteTemplate } from '../helpers/db.js';
import { CHANCERY_BIN, runCli, startChild, type Child } from '../helpers/spawn.js';

/** The embedded database, a fixed passphrase, quiet logs. */
const ENV = { DATABASE_URL: '', CHANCERY_KEY_PASSPHRASE: 'cli test passphrase, not secret', LOG_LEVEL: 'warn' };
const uscc = (n: number, prefix: number): string => completeUscc(`91320100${prefix}${String(n).padStart(7, '0')}`);
const json = <T = any>(stdout: string): T => JSON.parse(stdout) as T;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function csv(n: number, prefix: number, bad?: number): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const code = uscc(i, prefix);
    const shown = i === bad ? code.slice(0, 17) + (code[17] === '0' ? '1' : '0') : code;
    return i % 3 === 0 ? `${shown},"Nanjing ${i}, Ltd",320100,revoked,2024-03-01T00:00:00Z,` : `${shown},南京 ${i},,active,,`;
  });
  return `uscc,name,division,status,revokedAt,reason\n${rows.join('\n')}\n`;
}

describe('chancery enterprise import (real processes)', { timeout: 120_000 }, () => {
  const dataDir = copyPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-cli-import-')));
  const work = mkdtempSync(join(tmpdir(), 'chancery-cli-import-work-'));
  const direct = ['--data-dir', dataDir];
  const file = (name: string, text: string | Buffer): string => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };
  let server: Child | undefined;
  afterAll(() => {
    server?.process.kill('SIGKILL');
  });

  it('imports a CSV file directly on the data dir, and the revoked ones are on the revoked list', async () => {
    expect((await runCli(['init', ...direct], ENV)).code).toBe(0);
    const r = await runCli(['enterprise', 'import', ...direct, '--in', file('a.csv', csv(1200, 1)), '--batch', '500', '--json'], ENV);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ complete: true, imported: 1200, revoked: 400, batches: 3, committedThroughLine: 1201 });
    const shown = await runCli(['enterprise', 'show', ...direct, '--uscc', uscc(0, 1), '--json'], ENV);
    expect(json(shown.stdout)).toMatchObject({ status: 'revoked', name: 'Nanjing 0, Ltd', statusReason: 'licence revoked' });
    const list = await runCli(['enterprise', 'list', ...direct, '--status', 'revoked', '--limit', '500', '--json'], ENV);
    expect(json<{ items: unknown[] }>(list.stdout).items.length).toBe(400);
  });

  it('stops at a bad line with exit 1 naming it and where to resume; --from-line finishes the file', async () => {
    const path = file('b.csv', csv(900, 2, 650));
    const r = await runCli(['enterprise', 'import', ...direct, '--in', path, '--batch', '300'], ENV);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('line 652: ERR_REGISTRY_USCC_CHECK');
    expect(r.stdout).toContain('every record through line 601 is committed');
    expect(r.stdout).toContain('--from-line 602');
    const check = await runCli(['enterprise', 'import', ...direct, '--in', path, '--check', '--json'], ENV);
    expect(check.code).toBe(1);
    const checked = json<{ errors: Array<{ line: number; code: string }>; imported: number }>(check.stdout);
    expect(checked.imported).toBe(0);
    expect(checked.errors.some((e) => e.line === 652 && e.code === 'ERR_REGISTRY_USCC_CHECK')).toBe(true);
    writeFileSync(path, csv(900, 2));
    const resumed = await runCli(['enterprise', 'import', ...direct, '--in', path, '--batch', '300', '--from-line', '602', '--json'], ENV);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout)).toMatchObject({ complete: true, imported: 300 });
    const again = await runCli(['enterprise', 'import', ...direct, '--in', path, '--json'], ENV);
    expect(again.code).toBe(1);
    expect(json<{ errors: Array<{ line: number; code: string }> }>(again.stdout).errors[0]).toMatchObject({
      line: 2,
      code: 'ERR_REGISTRY_ENTERPRISE_EXISTS',
    });
  });

  it('a 2 GB file without line breaks and a non-UTF-8 file: one clear error naming the line, nothing written', async () => {
    const huge = join(work, 'huge.csv');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 2 * 2 ** 30); // sparse: 2 GB of NUL bytes, no line break
    closeSync(fd);
    const started = Date.now();
    const r = await runCli(['enterprise', 'import', ...direct, '--in', huge, '--json'], ENV);
    expect(r.code).toBe(1);
    expect(json<{ errors: Array<{ line: number; code: string }> }>(r.stdout).errors).toEqual([
      expect.objectContaining({ line: 1, code: 'ERR_REGISTRY_IMPORT_LINE_TOO_LONG' }),
    ]);
    expect(Date.now() - started).toBeLessThan(30_000); // it stops reading at once
    const latin1 = Buffer.concat([Buffer.from(`uscc,name\n${uscc(1, 3)},`), Buffer.from('Soci\xe9t\xe9', 'latin1'), Buffer.from('\n')]);
    const bad = await runCli(['enterprise', 'import', ...direct, '--in', file('latin1.csv', latin1)], ENV);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('line 2: ERR_REGISTRY_IMPORT_ENCODING');
    expect((await runCli(['enterprise', 'show', ...direct, '--uscc', uscc(1, 3)], ENV)).code).toBe(1);
    expect((await runCli(['enterprise', 'import', ...direct, '--in', file('x.txt', 'uscc,name\n')], ENV)).code).toBe(64);
  });

  it('imports JSON Lines over HTTP in parts with the admin credential', async () => {
    const port = await freePort();
    server = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], ENV);
    for (let i = 0; ; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (res) => res.ok,
        () => false,
      );
      if (up) break;
      if (i > 600 || server.process.exitCode !== null) throw new Error(`serve did not start: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lines = Array.from({ length: 450 }, (_, i) =>
      JSON.stringify(
        i % 2 === 0
          ? { uscc: uscc(i, 4), name: `Json ${i}` }
          : { uscc: uscc(i, 4), name: `Json ${i}`, status: 'deregistered', revokedAt: '2022-02-02T02:02:02Z' },
      ),
    );
    const remote = ['--url', `http://127.0.0.1:${port}`, '--credential', join(dataDir, 'admin')];
    const r = await runCli(
      ['enterprise', 'import', ...remote, '--in', file('c.jsonl', lines.join('\n')), '--part-lines', '200', '--json'],
      ENV,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ complete: true, imported: 450, deregistered: 225, committedThroughLine: 450 });
    const shown = await runCli(['enterprise', 'show', ...remote, '--uscc', uscc(449, 4), '--json'], ENV);
    expect(json(shown.stdout)).toMatchObject({ status: 'deregistered' });
    server.process.kill('SIGTERM');
    expect((await server.finished).code).toBe(0);
    server = undefined;
  });
});
