import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runArchiveBench } from './archive.js';
import { runAuditBench } from './audit.js';
import { runBaseline } from './baseline.js';
import { runBindingBench } from './binding.js';
import { runCaBench } from './ca.js';
import { runCrlBench } from './crl.js';
import { runNationalBench } from './national.js';
import { runEnvelopeBench } from './verify-envelope.js';
import { runPathBench } from './verify-path.js';
import { runReplayBench } from './replay.js';
import { runSubmissionsBench } from './submissions.js';
import { runTsaBench } from './tsa.js';

/**
 * `npm run bench [-- name…]`: runs the benchmarks (all, or those named) and prints one JSON
 * document. Every figure of a part is quoted next to a baseline measured in the same run, because
 * these machines are shared and noisy: compare ratios, not absolute numbers across runs. Each
 * benchmark runs in a child process of its own, so none inherits another's heap (the audit
 * benchmark's million entries made the path benchmark after it ~3× slower through GC alone).
 */
const BENCHES: Record<string, (baseline: Record<string, number>) => Promise<Record<string, unknown>>> = {
  archive: runArchiveBench,
  audit: runAuditBench,
  binding: runBindingBench,
  ca: runCaBench,
  crl: runCrlBench,
  envelope: runEnvelopeBench,
  national: runNationalBench,
  path: runPathBench,
  replay: runReplayBench,
  submissions: runSubmissionsBench,
  tsa: runTsaBench,
};

const CHILD = '--child';

async function main(): Promise<void> {
  if (process.argv[2] === CHILD) {
    // One benchmark, the baseline handed down by the parent; its result as JSON on stdout.
    const bench = BENCHES[process.argv[3]!]!;
    const baseline = JSON.parse(process.env['CHANCERY_BENCH_BASELINE']!) as Record<string, number>;
    process.stdout.write(JSON.stringify(await bench(baseline)));
    return;
  }
  const args = process.argv.slice(2);
  // `--scale X` (the national benchmark's size, default 0.05) reaches the child as an environment variable.
  const scaleAt = args.indexOf('--scale');
  if (scaleAt >= 0) {
    process.env['CHANCERY_BENCH_SCALE'] = args[scaleAt + 1];
    args.splice(scaleAt, 2);
  }
  const wanted = args;
  const unknown = wanted.filter((w) => !(w in BENCHES) && w !== 'baseline');
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: baseline, ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(64);
  }
  const started = new Date().toISOString();
  const baseline = await runBaseline();
  const results: Record<string, unknown> = { baseline };
  for (const name of Object.keys(BENCHES)) {
    // The national benchmark takes minutes and a PostgreSQL: only when named.
    if (wanted.length > 0 ? !wanted.includes(name) : name === 'national') continue;
    process.stderr.write(`bench: ${name}…\n`);
    const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), CHILD, name], {
      env: { ...process.env, CHANCERY_BENCH_BASELINE: JSON.stringify(baseline) },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 2 ** 20,
    });
    results[name] = JSON.parse(output.toString('utf8')) as unknown;
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  process.stdout.write(`${JSON.stringify({ started, machine, results }, null, 2)}\n`);
}

await main();
