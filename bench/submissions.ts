import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { buildCsr } from '../src/ca/csr-builder.js';
import { pemDecodeAll } from '../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { completeUscc } from '../src/registry/uscc.js';
import { signCms } from '../src/sign/cms.js';
import { ChanceryClient } from '../src/client/submissions.js';
import { annualReport, documentBytes } from '../src/submissions/samples.js';
import { createPgDatabase, dropPgDatabase } from '../test/helpers/db.js';
import { percentile, round, startServerProcess } from './lib.js';

/**
 * `npm run bench -- submissions`: end-to-end submissions over HTTP on loopback. The
 * server is `chancery serve` in its own process on real PostgreSQL (DATABASE_URL; without it the
 * bench is skipped with a note) with fsync on, in a database this bench creates and drops. 64 concurrent clients send
 * distinct envelopes signed before the load starts (CMS, ES256, annual reports: accepted on
 * verification alone) in one continuous closed loop: 1,500 to warm up, 8,000 measured, 500 more
 * so that all 64 clients stay busy until the measurement ends. Reported for the 8,000: accepted
 * submissions/s, p50/p99 latency, the ratio to GET /healthz requests/s measured by the baseline
 * in the same run, and CPU per accepted submission by process. Target ≥ 500/s, p99 ≤ 100 ms.
 * The whole load runs twice in the same run: against the default service (CHANCERY_AUGMENT=lt:
 * each accepted envelope gets a signature time-stamp and its CRLs and OCSP responses), whose
 * figures are the headline ones, and against one that keeps envelopes as submitted
 * (CHANCERY_AUGMENT=none); `augmentation` reports the second and the ratios.
 */
const CONNECTIONS = 64;
const WARMUP = 1500;
const MEASURED = 8000;
const COOLDOWN = 500;

export async function runSubmissionsBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const admin = process.env['DATABASE_URL'];
  if (admin === undefined || admin === '') {
    return {
      skipped:
        'DATABASE_URL is not set: the submissions target is for real PostgreSQL with fsync on (.ci/with-postgres npm run bench -- submissions)',
    };
  }
  const healthz = baseline['healthzRequestsPerSec']!;
  // The default service (B-LT: a signature time-stamp and the CRLs and OCSP responses on every
  // accepted annual report) gives the headline figures; the same load against a service that
  // keeps envelopes as submitted (CHANCERY_AUGMENT=none), in the same run, prices augmentation.
  const lt = await measureServer(admin, 'lt');
  const none = await measureServer(admin, 'none');
  const { figures, envelopeBytes, presignedPerSec, postgres } = lt;
  const cpu = (m: Measured): number | null => (m.figures['cpuMsPerAccepted'] as Record<string, number | null>)['total'] ?? null;
  const ltCpu = cpu(lt);
  const noneCpu = cpu(none);
  return {
    ...figures,
    vsHealthz: round((figures['acceptedPerSec'] as number) / healthz, 3),
    healthzRequestsPerSec: healthz,
    connections: CONNECTIONS,
    envelopeBytes,
    window: { warmup: WARMUP, measured: MEASURED, cooldown: COOLDOWN },
    presignedPerSec,
    postgres,
    target: { acceptedPerSec: 500, latencyP99Ms: 100 },
    augmentation: {
      level: 'lt (CHANCERY_AUGMENT default): signature time-stamp + CRLs + OCSP responses on each accepted envelope',
      storedEnvelopeBytes: lt.storedEnvelopeBytes,
      withoutAugmentation: { ...none.figures, storedEnvelopeBytes: none.storedEnvelopeBytes, level: 'none' },
      // Below 1: what B-LT costs in throughput; above 1: in CPU per accepted submission.
      acceptedPerSecLtVsNone: round((figures['acceptedPerSec'] as number) / (none.figures['acceptedPerSec'] as number), 3),
      latencyP50LtVsNone: round((figures['latencyP50Ms'] as number) / (none.figures['latencyP50Ms'] as number), 3),
      cpuMsPerAcceptedLtVsNone: ltCpu === null || noneCpu === null ? null : round(ltCpu / noneCpu, 3),
    },
  };
}

interface Measured {
  figures: Record<string, unknown>;
  envelopeBytes: number;
  presignedPerSec: number;
  postgres: { fsync: string; synchronousCommit: string };
  /** Average stored (augmented) envelope size of the accepted submissions. */
  storedEnvelopeBytes: number;
}

/** One `chancery serve` with CHANCERY_AUGMENT=`augment`, in its own database, under the closed-loop load. */
async function measureServer(admin: string, augment: 'lt' | 'none'): Promise<Measured> {
  const databaseUrl = await createPgDatabase(admin);
  const server = await startServerProcess({ DATABASE_URL: databaseUrl, CHANCERY_AUGMENT: augment });
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
      const cert = await operator.json<{ pem: string }>('POST', '/api/v1/certificates', {
        profile: 'enterprise-signing',
        uscc,
        csr: (await buildCsr(signer)).pem,
      });
      signers.push({ uscc, signer, chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing] });
    }
    const signStart = performance.now();
    const envelopes: Buffer[] = [];
    const now = new Date();
    for (let i = 0; i < WARMUP + MEASURED + COOLDOWN; i++) {
      const s = signers[i % signers.length]!;
      envelopes.push(
        await signCms({
          signer: s.signer,
          chain: s.chain,
          content: documentBytes(annualReport(s.uscc, `BENCH-${i}`, now)),
          detached: false,
          time: now,
        }),
      );
    }
    const signSeconds = (performance.now() - signStart) / 1000;

    const meter = new CpuMeter(new URL(databaseUrl).pathname.slice(1), server.child.pid!);
    const measured = await load(server.url, envelopes, { from: WARMUP, to: WARMUP + MEASURED }, meter);
    const cpuMs = meter.msPer(measured.created, measured.seconds);
    const { accepted, averageEnvelopeBytes } = await countAccepted(databaseUrl);
    if (measured.non2xx > 0 || measured.errors > 0)
      process.stderr.write(`submissions bench (${augment}): ${measured.non2xx} non-2xx, ${measured.errors} errors\n`);
    return {
      figures: {
        acceptedPerSec: measured.perSecond,
        latencyP50Ms: measured.p50,
        latencyP99Ms: measured.p99,
        requests: measured.count,
        created201: measured.created,
        non2xx: measured.non2xx,
        errors: measured.errors,
        acceptedRowsInDatabase: accepted,
        cpuMsPerAccepted: cpuMs,
      },
      envelopeBytes: envelopes[0]!.length,
      presignedPerSec: round(envelopes.length / signSeconds),
      postgres: { fsync, synchronousCommit },
      storedEnvelopeBytes: averageEnvelopeBytes,
    };
  } finally {
    await server.stop();
    await dropPgDatabase(databaseUrl, admin);
  }
}

interface LoadOutcome {
  /** Responses in the measured window. */
  count: number;
  created: number;
  /** Over the whole run. */
  non2xx: number;
  errors: number;
  perSecond: number;
  seconds: number;
  p50: number;
  p99: number;
}

/**
 * Posts each envelope once from CONNECTIONS keep-alive clients (autocannon, in this process) in
 * one continuous closed-loop run, and measures its steady state: the responses numbered
 * [from, to) in order of completion. The ones before warm the service up and let the clients'
 * synchronized first burst pass; the ones after keep every client busy until the window closes
 * (autocannon gives each client an equal share, so a run ends with fewer and fewer clients).
 */
async function load(url: string, envelopes: Buffer[], window: { from: number; to: number }, meter: CpuMeter): Promise<LoadOutcome> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (
    opts: unknown,
    cb: (err: Error | null, result: AutocannonResult) => void,
  ) => { on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): unknown };
  let next = 0;
  let completed = 0;
  let created = 0;
  let opened = 0;
  let closed = 0;
  const latencies: number[] = [];
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
    ).on('response', (_client, status, _bytes, ms) => {
      const i = completed++;
      if (i < window.from || i >= window.to) return;
      if (i === window.from) {
        opened = performance.now();
        meter.open();
      }
      latencies.push(ms);
      if (status === 201) created++;
      if (i === window.to - 1) {
        closed = performance.now();
        meter.close();
      }
    });
  });
  // From the first to the last response of the window (n - 1 intervals for n responses).
  const seconds = (closed - opened) / 1000;
  return {
    count: latencies.length,
    created,
    non2xx: result.non2xx,
    errors: result.errors,
    perSecond: round((created * (latencies.length - 1)) / latencies.length / seconds),
    seconds,
    p50: round(percentile(latencies, 50), 2),
    p99: round(percentile(latencies, 99), 2),
  };
}

/**
 * CPU time per accepted submission in the measured window, by process: the server (and its main
 * thread, the one that limits it), the PostgreSQL backends of the bench database (its pool),
 * PostgreSQL's shared WAL writer, checkpointer and background writer (other databases' load
 * counts there too), and this process (the load generator). Read from /proc when the window
 * opens and closes (Linux, PostgreSQL on this host, found by process title); a figure that
 * cannot be read is null.
 */
class CpuMeter {
  #opened: CpuSnapshot | undefined;
  #closed: CpuSnapshot | undefined;

  constructor(
    private readonly database: string,
    private readonly serverPid: number,
  ) {}

  open(): void {
    this.#opened = this.#snapshot();
  }

  close(): void {
    this.#closed = this.#snapshot();
  }

  /** Per accepted submission; `wallSeconds` is the window's duration (for `wallMs`). */
  msPer(count: number, wallSeconds: number): Record<string, number | null> {
    const a = this.#opened;
    const b = this.#closed;
    const per = (seconds: number | null): number | null => (seconds === null || count === 0 ? null : round((seconds * 1000) / count, 3));
    if (a === undefined || b === undefined)
      return {
        server: null,
        serverMainThread: null,
        postgresBackends: null,
        postgresShared: null,
        loadGenerator: null,
        total: null,
        wallMs: per(wallSeconds),
      };
    const delta = (x: number | null, y: number | null): number | null => (x === null || y === null ? null : y - x);
    const postgres = (kind: 'backend' | 'shared'): number | null => {
      let total = 0;
      for (const [pid, now] of b.postgres) {
        if (now.kind !== kind) continue;
        // A backend that started during the window counts from zero.
        total += now.seconds - (a.postgres.get(pid)?.seconds ?? 0);
      }
      return b.postgres.size === 0 ? null : total;
    };
    const server = delta(a.server, b.server);
    const backends = postgres('backend');
    const shared = postgres('shared');
    const load = b.self - a.self;
    return {
      server: per(server),
      // The event loop's thread alone (the rest: libuv's pool, GC and compiler threads).
      serverMainThread: per(delta(a.serverMain, b.serverMain)),
      postgresBackends: per(backends),
      postgresShared: per(shared),
      loadGenerator: per(load),
      total: server === null || backends === null || shared === null ? null : per(server + backends + shared + load),
      wallMs: per(wallSeconds),
    };
  }

  #snapshot(): CpuSnapshot {
    const postgres = new Map<number, { kind: 'backend' | 'shared'; seconds: number }>();
    for (const entry of safeReaddir('/proc')) {
      if (!/^[0-9]+$/.test(entry)) continue;
      const pid = Number(entry);
      let title: string;
      try {
        title = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      if (!title.startsWith('postgres: ')) continue;
      const kind = title.includes(` ${this.database} `)
        ? 'backend'
        : /^postgres: (walwriter|checkpointer|background writer)/.test(title)
          ? 'shared'
          : undefined;
      const seconds = kind === undefined ? null : procCpuSeconds(pid);
      if (kind !== undefined && seconds !== null) postgres.set(pid, { kind, seconds });
    }
    const self = process.cpuUsage();
    return {
      server: procCpuSeconds(this.serverPid),
      serverMain: procCpuSeconds(this.serverPid, this.serverPid),
      self: (self.user + self.system) / 1e6,
      postgres,
    };
  }
}

interface CpuSnapshot {
  server: number | null;
  serverMain: number | null;
  /** This process, seconds. */
  self: number;
  postgres: Map<number, { kind: 'backend' | 'shared'; seconds: number }>;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** utime + stime of a process (or of one of its threads) from /proc (clock ticks of 1/100 s), or null. */
function procCpuSeconds(pid: number, thread?: number): number | null {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
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

async function pgSetting(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (
      (await client.query<{ setting: string }>('SELECT setting FROM pg_settings WHERE name = $1', [name])).rows[0]?.setting ?? 'unknown'
    );
  } finally {
    await client.end();
  }
}

async function countAccepted(url: string): Promise<{ accepted: number; averageEnvelopeBytes: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row = (
      await client.query<{ n: string; bytes: string | null }>(
        "SELECT count(*) AS n, round(avg(octet_length(COALESCE(envelope, original_envelope)))) AS bytes FROM submissions WHERE status = 'accepted'",
      )
    ).rows[0]!;
    return { accepted: Number(row.n), averageEnvelopeBytes: Number(row.bytes ?? 0) };
  } finally {
    await client.end();
  }
}
