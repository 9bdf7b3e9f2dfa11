import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { PROJECT_ROOT } from '../src/paths.js';

/**
 * Calls `fn` repeatedly for about `ms` milliseconds (after a short warm-up) and returns the rate.
 * `fn` may be async; calls are sequential.
 */
export async function opsPerSecond(fn: () => unknown, ms = 2000): Promise<number> {
  const warmUntil = performance.now() + Math.min(300, ms / 4);
  while (performance.now() < warmUntil) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) await fn();
    n += 16;
    now = performance.now();
  }
  return round(n / ((now - start) / 1000));
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Percentile of a list of samples (milliseconds), nearest-rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `chancery serve` as a separate process on a free loopback port and a temp data dir. It
 * uses the embedded database unless `env.DATABASE_URL` names one: an inherited DATABASE_URL is
 * ignored, so a benchmark never migrates a shared database by accident.
 */
export async function startServerProcess(env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chancery-bench-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin', 'chancery.js'), 'serve', '--port', String(port), '--data-dir', dataDir],
    {
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', CHANCERY_KEY_PASSPHRASE: 'bench-only passphrase, not a secret', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || i > 600) throw new Error(`bench server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

/** HTTP load from this process (autocannon) against a server in another process. */
export async function loadTest(options: {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  requests?: unknown[];
}): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (
    opts: unknown,
    cb: (err: Error | null, result: AutocannonResult) => void,
  ) => void;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon({ ...options, duration: options.durationSeconds, pipelining: 1 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return {
    requestsPerSecond: round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
