import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { signCms } from '../../src/sign/cms.js';
import { documentBytes, foodBusinessLicence } from '../../src/submissions/samples.js';
import { CHANCERY_BIN, DIST_SRC, startChild, type Child } from '../helpers/spawn.js';

/**
 * The service against a PostgreSQL that goes away: its backends killed (pg_terminate_backend)
 * and the whole server stopped without a shutdown (`pg_ctl -m immediate stop`), both under load.
 * The process must live through it, answer 503 problems and report not-ready while the database
 * is away, serve again once it is back, and every submission it acknowledged must be in the log.
 * Runs its own throwaway cluster (like .ci/with-postgres), so that it can stop and start it.
 */

const pgBin = ((): string | undefined => {
  for (const dir of ['/usr/local/bin', ...(existsSync('/usr/lib/postgresql') ? listPgBins() : [])])
    if (existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir;
  return undefined;
})();
function listPgBins(): string[] {
  return execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

const enabled = process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '' && pgBin !== undefined;
if (!enabled) process.stderr.write('note: connection-loss test skipped (needs DATABASE_URL and the PostgreSQL server binaries)\n');

const asRoot = process.getuid?.() === 0;
function asPg(command: string, args: string[]): string {
  const file = join(pgBin!, command);
  return asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { encoding: 'utf8' })
    : execFileSync(file, args, { encoding: 'utf8' });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'chancery-pgloss-'));
  constructor(readonly port: number) {
    chmodSync(this.dir, 0o755);
    if (asRoot) chownSync(this.dir, uidOf('postgres'), 0);
    asPg('initdb', ['-D', join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  start(): void {
    asPg('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=on`,
      'start',
    ]);
  }
  stopImmediate(): void {
    asPg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', 'stop']);
  }
  remove(): void {
    try {
      this.stopImmediate();
    } catch {
      /* not running */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

const USCC = completeUscc('9144030500010077');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(enabled)('chancery serve when PostgreSQL goes away', () => {
  let cluster: Cluster;
  let child: Child;
  let base: string;
  let dataDir: string;
  let enterprise: ChanceryClient;
  let sign: (content: Uint8Array) => Promise<Buffer>;
  /** Submissions the service acknowledged (201): id → the log index it named. */
  const acknowledged = new Map<string, number>();
  /** Answers other than 201, by status and code. */
  const refusals = new Map<string, number>();

  beforeAll(async () => {
    if (!existsSync(join(DIST_SRC, 'app', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    cluster = new Cluster(await freePort());
    cluster.start();
    dataDir = mkdtempSync(join(tmpdir(), 'chancery-pgloss-data-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], {
      DATABASE_URL: cluster.url,
      CHANCERY_KEY_PASSPHRASE: 'test-only passphrase, not a secret',
      LOG_LEVEL: 'warn',
    });
    for (let i = 0; i < 400 && !(await ready()); i++) {
      if (child.process.exitCode !== null) throw new Error(`chancery serve exited: ${child.stderr()}`);
      await sleep(250);
    }
    const adminSigner = signerFromPem('admin', readFileSync(join(dataDir, 'admin', 'admin.key.pem')));
    const adminChain = pemDecodeAll(readFileSync(join(dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;
    const admin = await ChanceryClient.login(base, adminSigner, adminChain);
    const issuing = pemDecodeAll(readFileSync(join(dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    await admin.json('POST', '/api/v1/enterprises', { uscc: USCC, name: 'Shenzhen Nanshan Fresh Foods Co Ltd' });
    const signer = signerFromPem('enterprise', generateUserKey('P-256').privateKeyPem);
    const cert = await admin.json<{ pem: string }>('POST', '/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc: USCC,
      csr: (await buildCsr(signer)).pem,
    });
    const chain = [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing];
    enterprise = await ChanceryClient.login(base, signer, chain);
    sign = (content) => signCms({ signer, chain, content, detached: false, time: new Date() });
  }, 180_000);

  afterAll(async () => {
    if (child !== undefined && child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.finished;
    }
    cluster?.remove();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  async function ready(): Promise<boolean> {
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }

  let counter = 0;
  /** `workers` clients submitting one application after another until `stop` is set. */
  function load(workers: number): { stop: () => Promise<void> } {
    let stopping = false;
    const worker = async (): Promise<void> => {
      while (!stopping) {
        const envelope = await sign(documentBytes(foodBusinessLicence(USCC, `FBL-LOSS-${process.pid}-${counter++}`, new Date())));
        let res: Response;
        try {
          res = await fetch(`${base}/api/v1/submissions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${enterprise.token}`, 'content-type': 'application/cms' },
            body: envelope,
          });
        } catch (error) {
          refusals.set(`network ${(error as Error).message}`, (refusals.get(`network ${(error as Error).message}`) ?? 0) + 1);
          await sleep(50);
          continue;
        }
        const body = (await res.json()) as { id?: string; logIndex?: number; code?: string };
        if (res.status === 201) {
          acknowledged.set(body.id!, body.logIndex!);
        } else {
          const key = `${res.status} ${body.code}`;
          refusals.set(key, (refusals.get(key) ?? 0) + 1);
          if (res.status === 503) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
          await sleep(20);
        }
      }
    };
    const running = Array.from({ length: workers }, () => worker());
    return {
      stop: async () => {
        stopping = true;
        await Promise.all(running);
      },
    };
  }

  it('survives pg_terminate_backend of all its connections under load, and serves on', async () => {
    const killer = new pg.Client({ connectionString: cluster.url });
    await killer.connect();
    const before = acknowledged.size;
    const running = load(6);
    try {
      for (let round = 0; round < 6; round++) {
        await sleep(300);
        await killer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
      }
      await sleep(500);
    } finally {
      await running.stop();
      await killer.end();
    }
    expect(child.process.exitCode, child.stderr()).toBeNull();
    expect(child.stderr()).not.toContain('Unhandled');
    expect(acknowledged.size).toBeGreaterThan(before);
    process.stderr.write(`backends killed: ${acknowledged.size - before} acknowledged, refused ${JSON.stringify([...refusals])}\n`);
    for (const key of refusals.keys()) expect(key, `unexpected answer while backends were killed: ${key}`).toMatch(/^503 ERR_/);
    expect(await ready()).toBe(true);
  }, 120_000);

  it('survives `pg_ctl -m immediate stop`: 503 problems and not-ready while away, serving again once it is back', async () => {
    refusals.clear();
    const running = load(4);
    try {
      await sleep(500);
      cluster.stopImmediate();
      await sleep(1500);
      expect(child.process.exitCode, child.stderr()).toBeNull();
      const readyz = await fetch(`${base}/readyz`);
      expect(readyz.status).toBe(503);
      const problem = (await readyz.json()) as { code: string };
      expect(problem.code).toMatch(/^ERR_/);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const during = await fetch(`${base}/api/v1/submissions`, { headers: { authorization: `Bearer ${enterprise.token}` } });
      expect(during.status).toBe(503);
      expect(((await during.json()) as { code: string }).code).toBe('ERR_DB_UNREACHABLE');
      cluster.start();
      let back = false;
      for (let i = 0; i < 80 && !back; i++) {
        back = await ready();
        if (!back) await sleep(250);
      }
      expect(back).toBe(true);
      const after = acknowledged.size;
      await sleep(1500);
      expect(acknowledged.size).toBeGreaterThan(after);
    } finally {
      await running.stop();
    }
    expect(child.process.exitCode, child.stderr()).toBeNull();
    expect(child.stderr()).not.toContain('Unhandled');
    process.stderr.write(`server stopped: ${acknowledged.size} acknowledged in all, refused ${JSON.stringify([...refusals])}\n`);
    for (const key of refusals.keys()) expect(key, `unexpected answer while the database was away: ${key}`).toMatch(/^503 ERR_/);
    expect(refusals.size).toBeGreaterThan(0);
  }, 120_000);

  it('lost no acknowledged submission: each is in the log at the index it was given', async () => {
    expect(acknowledged.size).toBeGreaterThan(0);
    const indexes = [...acknowledged.values()];
    const end = Math.max(...indexes) + 1;
    const subjects = new Map<number, string>();
    for (let start = 0; start < end;) {
      const page = (await (await fetch(`${base}/log/entries?start=${start}&end=${end}`)).json()) as {
        entries: Array<{ index: number; entry: string }>;
      };
      for (const e of page.entries) subjects.set(e.index, (JSON.parse(e.entry) as { subject: string }).subject);
      start += page.entries.length;
      if (page.entries.length === 0) break;
    }
    for (const [id, index] of acknowledged) expect(subjects.get(index), `submission ${id} at ${index}`).toContain(id);
    const list = await enterprise.list({ limit: 1 });
    expect(list.items.length).toBe(1);
  }, 60_000);
});
