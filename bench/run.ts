import { cpus, totalmem } from 'node:os';
import { runAuditBench } from './audit.js';
import { runBaseline } from './baseline.js';
import { runCaBench } from './ca.js';
import { runEnvelopeBench } from './verify-envelope.js';
import { runPathBench } from './verify-path.js';
import { runSubmissionsBench } from './submissions.js';

/**
 * `npm run bench [-- name…]`: runs the benchmarks (all, or those named) and prints one JSON
 * document. Every figure of a part is quoted next to a baseline measured in the same run, because
 * these machines are shared and noisy: compare ratios, not absolute numbers across runs.
 */
const BENCHES: Record<string, (baseline: Record<string, number>) => Promise<Record<string, unknown>>> = {
  audit: runAuditBench,
  ca: runCaBench,
  envelope: runEnvelopeBench,
  path: runPathBench,
  submissions: runSubmissionsBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in BENCHES) && w !== 'baseline');
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: baseline, ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(64);
  }
  const started = new Date().toISOString();
  const baseline = await runBaseline();
  const results: Record<string, unknown> = { baseline };
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    results[name] = await bench(baseline);
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  process.stdout.write(`${JSON.stringify({ started, machine, results }, null, 2)}\n`);
}

await main();
