import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeUscc } from '../../src/registry/uscc.js';
import { openssl } from '../ca/openssl.js';
import { copyPgliteTemplate } from '../helpers/db.js';
import { CHANCERY_BIN, runCli, startChild, type Child } from '../helpers/spawn.js';

/** The embedded database, a fixed passphrase, quiet logs. */
const ENV = { DATABASE_URL: '', CHANCERY_KEY_PASSPHRASE: 'cli test passphrase, not secret', LOG_LEVEL: 'warn' };
const USCC = completeUscc('9132010000060000');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const json = <T = any>(stdout: string): T => JSON.parse(stdout) as T;

describe('chancery init, keygen, csr, enterprise, officer, cert (real processes)', () => {
  const dataDir = copyPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-cli-')));
  const work = mkdtempSync(join(tmpdir(), 'chancery-cli-work-'));
  const direct = ['--data-dir', dataDir];

  it('init writes the hierarchy, the admin credential (0600) and the log key, and refuses to run twice', async () => {
    const first = await runCli(['init', '--data-dir', dataDir, '--json'], ENV);
    expect(first.code, first.stderr).toBe(0);
    const out = json(first.stdout);
    for (const file of ['ca/root.pem', 'ca/chain.pem', 'admin/admin.key.pem', 'admin/admin.cert.pem', 'log.vkey'])
      expect(existsSync(join(dataDir, file)), file).toBe(true);
    expect(statSync(join(dataDir, 'admin', 'admin.key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'keys', 'issuing-ca.key.pem'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    expect(out.root.sha256).toMatch(/^[0-9a-f]{64}$/);
    const chain = await openssl([
      'verify',
      '-CAfile',
      join(dataDir, 'ca', 'root.pem'),
      '-untrusted',
      join(dataDir, 'ca', 'chain.pem'),
      join(dataDir, 'admin', 'admin.cert.pem'),
    ]);
    expect(chain.code, chain.stderr).toBe(0);

    const second = await runCli(['init', '--data-dir', dataDir], ENV);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe('chancery: a CA hierarchy already exists in this database; refusing to replace it');
  });

  const key = join(work, 'ent.key');
  const csr = join(work, 'ent.csr');

  it('keygen and csr make a key (0600) and a request', async () => {
    const keygen = await runCli(['keygen', '--alg', 'ES256', '--out', key, '--json'], ENV);
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect((await runCli(['keygen', '--alg', 'ES256', '--out', key], ENV)).code).toBe(1); // never overwrites
    expect((await runCli(['keygen', '--alg', 'DSA1024', '--out', join(work, 'x.key')], ENV)).code).toBe(64);
    expect((await runCli(['csr', '--key', key, '--out', csr], ENV)).code).toBe(0);
    expect((await openssl(['req', '-in', csr, '-verify', '-noout'])).code).toBe(0);
  });

  it('enterprise register works directly on the data dir, and reports a bad check character', async () => {
    const registered = await runCli(['enterprise', 'register', ...direct, '--uscc', USCC, '--name', 'Nanjing CLI Co', '--json'], ENV);
    expect(registered.code, registered.stderr).toBe(0);
    expect(json(registered.stdout)).toMatchObject({ uscc: USCC, division: '320100', status: 'active' });
    const bad = await runCli(
      ['enterprise', 'register', ...direct, '--uscc', `${USCC.slice(0, 17)}${USCC[17] === '0' ? '1' : '0'}`, '--name', 'X'],
      ENV,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('check character');
  });

  it('cert issue and cert show work directly on the data dir', async () => {
    const cert = join(work, 'ent.pem');
    const issued = await runCli(
      ['cert', 'issue', ...direct, '--profile', 'enterprise-signing', '--uscc', USCC, '--csr', csr, '--out', cert, '--chain', '--json'],
      ENV,
    );
    expect(issued.code, issued.stderr).toBe(0);
    const serial = json(issued.stdout).serial as string;
    const verified = await openssl(['verify', '-CAfile', join(dataDir, 'ca', 'root.pem'), '-untrusted', cert, cert]);
    expect(verified.code, verified.stderr).toBe(0);
    const shown = await runCli(['cert', 'show', ...direct, '--serial', serial.toUpperCase(), '--json'], ENV);
    expect(json(shown.stdout)).toMatchObject({ serial, status: 'good', profile: 'enterprise-signing' });
  });

  describe('against a running service', () => {
    let server: Child;
    let url: string;
    let remote: string[];
    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      remote = ['--url', url, '--credential', join(dataDir, 'admin')];
      server = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], {
        ...ENV,
        LOG_LEVEL: 'info',
      });
      await server.waitFor('chancery listening');
    });
    afterAll(async () => {
      server.process.kill('SIGTERM');
      await server.finished;
    });

    it('logs in with the admin credential, registers an officer, and issues and revokes its certificate', async () => {
      const officer = await runCli(
        [
          'officer',
          'register',
          ...remote,
          '--id',
          'js-07',
          '--name',
          'Zhou Min',
          '--role',
          'approver',
          '--jurisdiction',
          '320000',
          '--json',
        ],
        ENV,
      );
      expect(officer.code, officer.stderr).toBe(0);
      expect(json(officer.stdout)).toMatchObject({ id: 'js-07', role: 'approver', jurisdiction: '320000' });

      const key = join(work, 'officer.key');
      expect((await runCli(['keygen', '--alg', 'EdDSA', '--out', key], ENV)).code).toBe(0);
      expect((await runCli(['csr', '--key', key, '--out', join(work, 'officer.csr')], ENV)).code).toBe(0);
      const issued = await runCli(
        ['cert', 'issue', ...remote, '--profile', 'officer', '--officer', 'js-07', '--csr', join(work, 'officer.csr'), '--json'],
        ENV,
      );
      expect(issued.code, issued.stderr).toBe(0);
      const serial = json(issued.stdout).serial as string;

      const revoked = await runCli(['cert', 'revoke', ...remote, '--serial', serial, '--reason', 'affiliationChanged', '--json'], ENV);
      expect(json(revoked.stdout)).toMatchObject({ status: 'revoked', revocationReason: 'affiliationChanged' });
      const twice = await runCli(['cert', 'revoke', ...remote, '--serial', serial], ENV);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('already revoked');
    });

    it('shows, revokes and deregisters enterprises, and lists them by status', async () => {
      const shown = await runCli(['enterprise', 'show', ...remote, '--uscc', USCC], ENV);
      expect(shown.stdout, shown.stderr).toContain('Nanjing CLI Co');
      const revokeEnterprise = await runCli(
        ['enterprise', 'revoke', ...remote, '--uscc', USCC, '--reason', 'licence revoked', '--json'],
        ENV,
      );
      expect(json(revokeEnterprise.stdout).revokedCertificates).toHaveLength(1);

      // A second enterprise closes at its own request: deregistered, not on the revoked list.
      const closing = completeUscc('9132010000060001');
      expect((await runCli(['enterprise', 'register', ...remote, '--uscc', closing, '--name', 'Nanjing Closing Co'], ENV)).code).toBe(0);
      const deregistered = await runCli(
        ['enterprise', 'deregister', ...remote, '--uscc', closing, '--reason', 'merged into Nanjing CLI Co', '--json'],
        ENV,
      );
      expect(deregistered.code, deregistered.stderr).toBe(0);
      expect(json(deregistered.stdout)).toMatchObject({
        enterprise: { uscc: closing, status: 'deregistered', statusReason: 'merged into Nanjing CLI Co' },
        revokedCertificates: [],
      });
      const twiceClosed = await runCli(['enterprise', 'deregister', ...remote, '--uscc', closing], ENV);
      expect(twiceClosed.code).toBe(1);
      expect(twiceClosed.stderr).toContain('already deregistered');
      const closedList = await runCli(['enterprise', 'list', ...remote, '--status', 'deregistered'], ENV);
      expect(closedList.stdout).toMatch(new RegExp(`^${closing}\\s+deregistered .*Nanjing Closing Co.*merged into Nanjing CLI Co`));

      const list = await runCli(['enterprise', 'list', ...remote, '--status', 'revoked', '--json'], ENV);
      expect(json(list.stdout).items.map((e: { uscc: string }) => e.uscc)).toEqual([USCC]);
    });

    it('refuses the direct mode while the server holds the database', async () => {
      const locked = await runCli(['enterprise', 'show', ...direct, '--uscc', USCC], ENV);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('is in use by process');
    });

    it('fails with one line when the credential is missing or the service is unreachable', async () => {
      const noCredential = await runCli(['enterprise', 'show', '--url', url, '--credential', work, '--uscc', USCC], ENV);
      expect(noCredential.code).toBe(1);
      expect(noCredential.stderr.trim().split('\n')).toHaveLength(1);
      expect(noCredential.stderr).toContain('no credential');
      const unreachable = await runCli(
        ['enterprise', 'show', '--url', 'http://127.0.0.1:9', '--credential', join(dataDir, 'admin'), '--uscc', USCC],
        ENV,
      );
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
      expect(unreachable.stderr).toContain('the service is not reachable at http://127.0.0.1:9 (');
      expect(unreachable.stderr).not.toContain('fetch failed');
    });
  });

  it('prints help for every command', async () => {
    for (const command of [
      ['init'],
      ['keygen'],
      ['csr'],
      ['enterprise', 'register'],
      ['enterprise', 'list'],
      ['officer', 'register'],
      ['cert', 'issue'],
      ['cert', 'revoke'],
      ['cert', 'show'],
    ]) {
      const help = await runCli([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain('Usage: chancery');
    }
  });
});
