import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { buildCsr } from '../src/ca/csr-builder.js';
import { buildOcspRequest } from '../src/ca/ocsp-request.js';
import { HttpAdminClient, readCredential } from '../src/client/admin.js';
import { loginOverHttp, RenewingLogin } from '../src/client/login.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { pemDecodeAll } from '../src/der/pem.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { completeUscc } from '../src/registry/uscc.js';
import { parseCertificate } from '../src/verify/certificate.js';
import { createPgDatabase, dropPgDatabase } from '../test/helpers/db.js';
import { loadTest, percentile, round, startServerProcess, type ServerProcess } from './lib.js';

/**
 * The registry at national scale, on PostgreSQL (DATABASE_URL; skipped with a note otherwise),
 * through the HTTP API of a `chancery serve` process:
 * - loads 9.7M × scale enterprises with the bulk import (enterprises/s), then marks revoked, in
 *   stages, up to 3.75M × scale of them (imported as revoked: the revoked-enterprise list);
 * - issues certificates for a sample of the active enterprises;
 * - at 10k, 100k, 1M and 3.75M revoked (× scale): per-revocation latency p50/p99 of an
 *   enterprise revocation (cascading to its certificate) and of a certificate revocation, every
 *   CRL the sample certificates name (size, fetch time right after a revocation: the signing
 *   cost when the service signs on demand), and the revoked list's first and a deep page;
 * - then OCSP requests/s for a good and a revoked serial, the log's size and the time of
 *   `chancery audit verify --url` over all of it, and the service's peak RSS (VmHWM).
 * Growth: p50 at the last checkpoint over p50 at the first. `--scale 1` is the full size.
 * CRLs are found generically (the URLs in the certificates' CRL distribution points, plus
 * /ca/issuing.crl), so the figures hold for one CRL or for partitioned ones.
 */
const FULL_ENTERPRISES = 9_700_000;
const FULL_REVOKED = 3_750_000;
const CHECKPOINTS = [10_000, 100_000, 1_000_000, 3_750_000];
const REVOCATIONS_PER_CHECKPOINT = 40;

export async function runNationalBench(): Promise<Record<string, unknown>> {
  const admin = process.env['DATABASE_URL'];
  if (admin === undefined || admin === '')
    return { skipped: 'DATABASE_URL is not set: the national benchmark needs PostgreSQL (.ci/with-postgres npm run bench -- national)' };
  const scale = Number(process.env['CHANCERY_BENCH_SCALE'] ?? '0.05');
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale must be in (0, 1], not ${scale}`);
  const total = Math.round(FULL_ENTERPRISES * scale);
  const revokedTarget = Math.round(FULL_REVOKED * scale);
  const checkpoints = CHECKPOINTS.map((c) => Math.max(1, Math.round(c * scale)));
  const sample = checkpoints.length * REVOCATIONS_PER_CHECKPOINT * 2 + 20;
  const work = mkdtempSync(join(tmpdir(), 'chancery-national-'));
  const url = await createPgDatabase(admin);
  let server: ServerProcess | undefined;
  let peakRss = 0;
  const results: Record<string, unknown> = { scale, enterprises: total, revokedTarget, certificateSample: sample };
  try {
    server = await startServerProcess({ DATABASE_URL: url });
    const pid = server.child.pid!;
    const sampleRss = (): void => {
      peakRss = Math.max(peakRss, vmHwm(pid));
    };
    const credential = join(server.dataDir, 'admin');
    const client = await HttpAdminClient.login(server.url, credential);
    // The admin's own requests, on a login renewed as it nears expiry: at full scale an import outlasts a token.
    const { keyPem, certificates } = readCredential(credential);
    const adminSigner = signerFromPem('admin', keyPem);
    const session = await RenewingLogin.start(() => loginOverHttp(server!.url, adminSigner, certificates));
    const headers = async (): Promise<Record<string, string>> => ({
      authorization: await session.authorization(),
      'content-type': 'application/json',
    });

    // 1. The active registry (everything not revoked later), through the bulk import.
    const activeCount = total - revokedTarget;
    const activeFile = join(work, 'active.csv');
    await writeCsv(activeFile, activeCount, (i) => `${activeUscc(i)},Enterprise ${i} Co Ltd,,,,`);
    const dbName = new URL(url).pathname.slice(1);
    const cpuBefore = cpuSeconds(pid) + backendCpuSeconds(dbName);
    const started = performance.now();
    const imported = await client.importEnterprises({ path: activeFile, format: 'csv' });
    const importSeconds = (performance.now() - started) / 1000;
    const importCpu = cpuSeconds(pid) + backendCpuSeconds(dbName) - cpuBefore;
    if (!imported.complete) throw new Error(`import failed: ${JSON.stringify(imported.errors.slice(0, 3))}`);
    sampleRss();
    results['import'] = {
      enterprises: imported.imported,
      seconds: round(importSeconds, 2),
      perSecond: Math.round(imported.imported / importSeconds),
      // CPU time of the service process and of its PostgreSQL backends: on a shared machine the
      // wall-clock rate depends on the load, this much less.
      cpuSeconds: round(importCpu, 2),
      perCpuSecond: Math.round(imported.imported / importCpu),
      loadAverage1m: round(loadavg()[0]!, 2),
    };
    rmSync(activeFile);

    // 2. Certificates for a sample of active enterprises (one key: issuance cost, not keygen, matters here).
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const certs: Array<{ serial: string; uscc: string; pem: string }> = [];
    const issueStarted = performance.now();
    for (let i = 0; i < sample; i += 8) {
      const batch = Array.from({ length: Math.min(8, sample - i) }, (_, k) => activeUscc(i + k));
      const issued = await Promise.all(
        batch.map(async (uscc) => {
          const res = await fetch(`${server!.url}/api/v1/certificates`, {
            method: 'POST',
            headers: await headers(),
            body: JSON.stringify({ profile: 'enterprise-signing', uscc, csr }),
          });
          if (res.status !== 201 && res.status !== 200) throw new Error(`issue ${uscc}: HTTP ${res.status} ${await res.text()}`);
          const body = (await res.json()) as { serial: string; pem: string };
          return { serial: body.serial, uscc, pem: body.pem };
        }),
      );
      certs.push(...issued);
    }
    results['issuance'] = { certificates: certs.length, perSecond: Math.round(certs.length / ((performance.now() - issueStarted) / 1000)) };
    const crlUrls = crlUrlsOf(
      certs.map((c) => c.pem),
      server.url,
    );
    const issuing = pemDecodeAll(readFileSync(join(server.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;

    // 3. Revoked in stages; at each checkpoint, revocations and the public read routes measured.
    let revoked = 0;
    let next = 0; // the next sample certificate to use
    const stages: Array<Record<string, unknown>> = [];
    for (const checkpoint of checkpoints) {
      if (checkpoint > revoked) {
        const file = join(work, `revoked-${checkpoint}.csv`);
        const from = revoked;
        await writeCsv(
          file,
          checkpoint - revoked,
          (i) => `${revokedUscc(from + i)},Revoked ${from + i} Co Ltd,,revoked,2024-01-01T00:00:00Z,licence revoked`,
        );
        const r = await client.importEnterprises({ path: file, format: 'csv' });
        if (!r.complete) throw new Error(`revoked import failed: ${JSON.stringify(r.errors.slice(0, 3))}`);
        revoked = checkpoint;
        rmSync(file);
      }
      const enterpriseMs: number[] = [];
      const certificateMs: number[] = [];
      let failures = 0;
      for (let k = 0; k < REVOCATIONS_PER_CHECKPOINT; k++) {
        const e = certs[next++]!;
        // Taken before the clock starts: a renewal (a login) is not the revocation's cost.
        const auth = await headers();
        let t = performance.now();
        let res = await fetch(`${server.url}/api/v1/enterprises/${e.uscc}/revoke`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ reason: 'bench' }),
        });
        enterpriseMs.push(performance.now() - t);
        if (!res.ok) failures++;
        await res.arrayBuffer();
        const c = certs[next++]!;
        t = performance.now();
        res = await fetch(`${server.url}/api/v1/certificates/${c.serial}/revoke`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ reason: 'keyCompromise' }),
        });
        certificateMs.push(performance.now() - t);
        if (!res.ok) failures++;
        await res.arrayBuffer();
      }
      revoked += REVOCATIONS_PER_CHECKPOINT;
      sampleRss();
      const crls = await measureCrls(crlUrls);
      const firstPage = await timed(() => fetch(`${server!.url}/api/v1/enterprises?status=revoked&limit=100`));
      const deep = revokedUscc(Math.floor(checkpoint * 0.9));
      const deepPage = await timed(() => fetch(`${server!.url}/api/v1/enterprises?status=revoked&limit=100&after=${deep}`));
      sampleRss();
      stages.push({
        revokedEnterprises: revoked,
        revokedCertificates: next,
        enterpriseRevocation: { p50Ms: round(percentile(enterpriseMs, 50), 2), p99Ms: round(percentile(enterpriseMs, 99), 2) },
        certificateRevocation: { p50Ms: round(percentile(certificateMs, 50), 2), p99Ms: round(percentile(certificateMs, 99), 2) },
        failures,
        crls,
        revokedListFirstPageMs: round(firstPage, 2),
        revokedListDeepPageMs: round(deepPage, 2),
      });
      process.stderr.write(`national: ${JSON.stringify(stages[stages.length - 1])}\n`);
    }
    results['checkpoints'] = stages;
    const p50 = (s: Record<string, unknown>, key: string): number => (s[key] as { p50Ms: number }).p50Ms;
    const first = stages[0]!;
    const last = stages[stages.length - 1]!;
    results['growth'] = {
      enterpriseRevocationP50LastOverFirst: round(p50(last, 'enterpriseRevocation') / p50(first, 'enterpriseRevocation'), 2),
      certificateRevocationP50LastOverFirst: round(p50(last, 'certificateRevocation') / p50(first, 'certificateRevocation'), 2),
    };

    // 4. OCSP for a good and a revoked serial.
    const good = certs[certs.length - 1]!;
    const bad = certs[1]!; // revoked at the first checkpoint
    const ocsp: Record<string, unknown> = {};
    for (const [name, serial] of [
      ['good', good.serial],
      ['revoked', bad.serial],
    ] as const) {
      const r = await loadTest({
        url: `${server.url}/ocsp`,
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: buildOcspRequest(issuing, serial),
        connections: 16,
        durationSeconds: 5,
      });
      ocsp[name] = { perSecond: r.requestsPerSecond, p99Ms: r.latencyP99Ms, non2xx: r.non2xx, errors: r.errors };
      sampleRss();
    }
    results['ocsp'] = ocsp;

    // 5. The log: its size, and an auditor verifying all of it over HTTP.
    const checkpointText = await (await fetch(`${server.url}/log/checkpoint`)).text();
    const logSize = Number(checkpointText.split('\n')[1]);
    const verifyStarted = performance.now();
    const verify = await run(process.execPath, [
      join(PROJECT_ROOT, 'bin', 'chancery.js'),
      'audit',
      'verify',
      '--url',
      server.url,
      '--log-key',
      join(server.dataDir, 'log.vkey'),
      '--no-state',
      '--json',
    ]);
    results['log'] = {
      entries: logSize,
      auditVerifySeconds: round((performance.now() - verifyStarted) / 1000, 2),
      auditVerifyExit: verify.code,
    };
    sampleRss();
    results['serviceRssPeakMiB'] = Math.round(peakRss / 1024);
  } finally {
    await server?.stop();
    await dropPgDatabase(url, admin);
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

/** Active enterprises: division 110105; revoked ones: division 310115 (distinct, ordered by n). */
const activeUscc = (n: number): string => completeUscc(`91110105${String(n).padStart(8, '0')}`);
const revokedUscc = (n: number): string => completeUscc(`91310115${String(n).padStart(8, '0')}`);

async function writeCsv(path: string, n: number, row: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  out.write('uscc,name,division,status,revokedAt,reason\n');
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    chunk.push(row(i));
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
}

/** Every CRL URL the certificates name in their CRL distribution points, on this server, plus the issuing CA's. */
function crlUrlsOf(pems: string[], base: string): string[] {
  const urls = new Set<string>([`${base}/ca/issuing.crl`]);
  for (const pem of pems) {
    const der = pemDecodeAll(pem, ['CERTIFICATE'])?.[0];
    if (der === undefined) continue;
    for (const dp of parseCertificate(der).crlDistributionPoints ?? []) {
      for (const name of dp.distributionPoint?.fullName ?? []) {
        if (name.type === 'uri') urls.add(`${base}${new URL(name.value).pathname}`);
      }
    }
  }
  return [...urls].slice(0, 65);
}

async function measureCrls(urls: string[]): Promise<Record<string, unknown>> {
  let largest = 0;
  let totalBytes = 0;
  let slowest = 0;
  let found = 0;
  for (const u of urls) {
    const t = performance.now();
    const res = await fetch(u);
    const body = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - t;
    if (!res.ok) continue;
    found++;
    largest = Math.max(largest, body.length);
    totalBytes += body.length;
    slowest = Math.max(slowest, ms);
  }
  return { crls: found, largestBytes: largest, totalBytes, slowestFetchMs: round(slowest, 2) };
}

async function timed(fn: () => Promise<Response>): Promise<number> {
  const t = performance.now();
  const res = await fn();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return performance.now() - t;
}

/** User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL backends connected to this database (found by their process title). */
function backendCpuSeconds(database: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) total += cpuSeconds(Number(entry));
    } catch {
      /* gone */
    }
  }
  return total;
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { maxBuffer: 64 * 2 ** 20, env: { ...process.env, LOG_LEVEL: 'warn' } }, (error, stdout) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout }),
    );
  });
}
