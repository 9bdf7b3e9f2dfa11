import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { buildCsr } from '../src/ca/csr-builder.js';
import { pemDecodeAll } from '../src/ca/pem.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { completeUscc } from '../src/registry/uscc.js';
import { signCms } from '../src/sign/cms.js';
import { ChanceryClient } from '../src/submissions/client.js';
import { annualReport, documentBytes } from '../src/submissions/samples.js';
import { percentile, round, startServerProcess } from './lib.js';

/**
 * `npm run bench -- submissions` (issue 6): end-to-end submissions over HTTP on loopback. The
 * server is `chancery serve` in its own process on real PostgreSQL (DATABASE_URL, or the dev
 * server) with fsync on, in a database this bench creates and drops. 64 concurrent clients send
 * distinct envelopes signed before the load starts (CMS, ES256, annual reports: accepted on
 * verification alone). Reported: accepted submissions/s, p50/p99 latency, and the ratio to
 * GET /healthz requests/s measured by the baseline in the same run. Target ≥ 500/s, p99 ≤ 100 ms.
 */
const CONNECTIONS = 64;
const WARMUP = 1500;
const MEASURED = 8000;
const DEV_DATABASE = 'postgres://postgres@127.0.0.1:55432/postgres';

export async function runSubmissionsBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const admin = process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '' ? process.env['DATABASE_URL'] : DEV_DATABASE;
  const databaseUrl = await createDatabase(admin);
  const server = await startServerProcess({ DATABASE_URL: databaseUrl });
  try {
    const fsync = await pgSetting(databaseUrl, 'fsync');
    const synchronousCommit = await pgSetting(databaseUrl, 'synchronous_commit');
    const operator = await ChanceryClient.login(
      server.url,
      signerFromPem('admin', readFileSync(join(server.dataDir, 'admin', 'admin.key.pem'))),
      pemDecodeAll(readFileSync(join(server.dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!,
    );
    const issuing = pemDecodeAll(readFileSync(join(server.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    // A few enterprises, so the load is not one applicant's.
    const signers = [];
    for (let e = 0; e < 4; e++) {
      const uscc = completeUscc(`91440305${String(8800_0000 + e).padStart(8, '0')}`);
      await operator.json('POST', '/api/v1/enterprises', { uscc, name: `Benchmark Trading Co ${e} Ltd` });
      const signer = signerFromPem(`e${e}`, generateUserKey('P-256').privateKeyPem);
      const cert = await operator.json<{ pem: string }>('POST', '/api/v1/certificates', { profile: 'enterprise-signing', uscc, csr: (await buildCsr(signer)).pem });
      signers.push({ uscc, signer, chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing] });
    }
    const signStart = performance.now();
    const envelopes: Buffer[] = [];
    const now = new Date();
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      const s = signers[i % signers.length]!;
      envelopes.push(await signCms({ signer: s.signer, chain: s.chain, content: documentBytes(annualReport(s.uscc, `BENCH-${i}`, now)), detached: false, time: now }));
    }
    const signSeconds = (performance.now() - signStart) / 1000;

    await load(server.url, envelopes.slice(0, WARMUP));
    const cpu = await CpuMeter.start(databaseUrl, server.child.pid!);
    const measured = await load(server.url, envelopes.slice(WARMUP));
    const cpuMs = await cpu.msPer(measured.created, measured.seconds);
    const accepted = await countAccepted(databaseUrl);
    const healthz = baseline['healthzRequestsPerSec']!;
    if (measured.non2xx > 0 || measured.errors > 0) process.stderr.write(`submissions bench: ${measured.non2xx} non-2xx, ${measured.errors} errors\n`);
    return {
      acceptedPerSec: measured.perSecond,
      latencyP50Ms: measured.p50,
      latencyP99Ms: measured.p99,
      vsHealthz: round(measured.perSecond / healthz, 3),
      healthzRequestsPerSec: healthz,
      requests: measured.count,
      created201: measured.created,
      non2xx: measured.non2xx,
      errors: measured.errors,
      acceptedRowsInDatabase: accepted,
      connections: CONNECTIONS,
      envelopeBytes: envelopes[0]!.length,
      presignedPerSec: round((WARMUP + MEASURED) / signSeconds),
      cpuMsPerAccepted: cpuMs,
      postgres: { fsync, synchronousCommit },
      target: { acceptedPerSec: 500, latencyP99Ms: 100 },
    };
  } finally {
    await server.stop();
    await dropDatabase(admin, databaseUrl);
  }
}

interface LoadOutcome {
  count: number;
  created: number;
  non2xx: number;
  errors: number;
  perSecond: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** Each envelope once, from CONNECTIONS keep-alive clients (autocannon, in this process). */
async function load(url: string, envelopes: Buffer[]): Promise<LoadOutcome> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (opts: unknown, cb: (err: Error | null, result: AutocannonResult) => void) => { on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): unknown };
  let next = 0;
  const latencies: number[] = [];
  let lastResponse = 0;
  const started = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        pipelining: 1,
        amount: envelopes.length,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/submissions',
            headers: { 'content-type': 'application/cms' },
            setupRequest: (req: Record<string, unknown>) => ({ ...req, body: envelopes[next++ % envelopes.length] }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ).on('response', (_client, _status, _bytes, ms) => {
      latencies.push(ms);
      lastResponse = performance.now();
    });
  });
  // Up to the last response: autocannon notices that `amount` is reached only on its next
  // 1-second sample tick, which would round the duration up to whole seconds.
  const seconds = (lastResponse - started) / 1000;
  const created = Number(result.statusCodeStats?.['201']?.count ?? 0);
  return {
    count: envelopes.length,
    created,
    non2xx: result.non2xx,
    errors: result.errors,
    perSecond: round(created / seconds),
    seconds,
    p50: latencies.length > 0 ? round(percentile(latencies, 50), 2) : result.latency.p50,
    p99: latencies.length > 0 ? round(percentile(latencies, 99), 2) : result.latency.p99,
  };
}

/**
 * CPU time per accepted submission during the measured load, by process: the server, the
 * PostgreSQL backends of the bench database (its pool), PostgreSQL's shared WAL writer,
 * checkpointer and background writer (other databases' load counts there too), and this process
 * (the load generator). Read from /proc (Linux, PostgreSQL on this host); a figure that cannot be
 * read is null.
 */
class CpuMeter {
  private constructor(
    private readonly url: string,
    private readonly serverPid: number,
    private readonly before: { server: number | null; self: NodeJS.CpuUsage; postgres: Map<number, { kind: string; seconds: number | null }> },
  ) {}

  static async start(url: string, serverPid: number): Promise<CpuMeter> {
    const postgres = await postgresCpu(url);
    return new CpuMeter(url, serverPid, { server: procCpuSeconds(serverPid), self: process.cpuUsage(), postgres });
  }

  /** Per accepted submission; `wallSeconds` is the load's duration (for `wallMs`). */
  async msPer(count: number, wallSeconds: number): Promise<Record<string, number | null>> {
    const self = process.cpuUsage(this.before.self);
    const server = procCpuSeconds(this.serverPid);
    const after = await postgresCpu(this.url);
    const sum = (kind: 'backend' | 'shared'): number | null => {
      let total = 0;
      for (const [pid, now] of after) {
        if ((now.kind === 'client backend') !== (kind === 'backend')) continue;
        if (now.seconds === null) return null;
        // A backend that started during the load counts from zero.
        total += now.seconds - (this.before.postgres.get(pid)?.seconds ?? 0);
      }
      return total;
    };
    const per = (seconds: number | null): number | null => (seconds === null || count === 0 ? null : round((seconds * 1000) / count, 3));
    const backends = sum('backend');
    const shared = sum('shared');
    const serverSeconds = server === null || this.before.server === null ? null : server - this.before.server;
    const loadSeconds = (self.user + self.system) / 1e6;
    return {
      server: per(serverSeconds),
      postgresBackends: per(backends),
      postgresShared: per(shared),
      loadGenerator: per(loadSeconds),
      total: serverSeconds === null || backends === null || shared === null ? null : per(serverSeconds + backends + shared + loadSeconds),
      wallMs: per(wallSeconds),
    };
  }
}

/** The CPU seconds of the bench database's backends and of PostgreSQL's shared writers, by pid. */
async function postgresCpu(url: string): Promise<Map<number, { kind: string; seconds: number | null }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; backend_type: string }>(
      `SELECT pid, backend_type FROM pg_stat_activity
        WHERE (datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid())
           OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
    );
    return new Map(rows.map((r) => [r.pid, { kind: r.backend_type, seconds: procCpuSeconds(r.pid) }]));
  } finally {
    await client.end();
  }
}

/** utime + stime of a process from /proc/PID/stat (clock ticks of 1/100 s), or null. */
function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

interface AutocannonResult {
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  statusCodeStats?: Record<string, { count: number | string }>;
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `chancery_bench_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function pgSetting(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return ((await client.query<{ setting: string }>('SELECT setting FROM pg_settings WHERE name = $1', [name])).rows[0]?.setting ?? 'unknown');
  } finally {
    await client.end();
  }
}

async function countAccepted(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM submissions WHERE status = 'accepted'")).rows[0]!.n);
  } finally {
    await client.end();
  }
}
