import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCsr } from '../src/ca/csr-builder.js';
import { buildOcspRequest } from '../src/ca/ocsp-request.js';
import { ChanceryClient } from '../src/client/submissions.js';
import { pemDecodeAll } from '../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { completeUscc } from '../src/registry/uscc.js';
import { signCms } from '../src/sign/cms.js';
import { annualReport, documentBytes } from '../src/submissions/samples.js';
import { createPgDatabase, dropPgDatabase } from '../test/helpers/db.js';
import { loadTest, round, startServerProcess, type LoadResult, type ServerProcess } from './lib.js';

/**
 * `npm run bench -- binding`: what checking rows against the log (src/audit/binding.ts) costs on
 * the hot paths, as a same-run ratio. Two `chancery serve` processes on real PostgreSQL (each its
 * own database): one checks, one runs with CHANCERY_BENCH_UNCHECKED_STATE=1 (bindings still
 * written, nothing read back). Rounds alternate between them, 32 connections, SECONDS each:
 * new submissions (distinct signed CMS envelopes), `GET /api/v1/submissions/{id}` (an enterprise
 * reading its own), and OCSP POST for one serial. Reported: requests/s per variant (median of
 * ROUNDS) and checked/unchecked.
 */
const ROUNDS = 3;
const SECONDS = 5;
const CONNECTIONS = 32;
const ENVELOPES_PER_ROUND = 3000;

interface Variant {
  name: 'checked' | 'unchecked';
  server: ServerProcess;
  databaseUrl: string;
  token: string;
  submissionId: string;
  ocspRequest: Buffer;
  envelopes: Buffer[];
  next: number;
}

export async function runBindingBench(): Promise<Record<string, unknown>> {
  const admin = process.env['DATABASE_URL'];
  if (admin === undefined || admin === '') return { skipped: 'DATABASE_URL is not set: run .ci/with-postgres npm run bench -- binding' };
  const variants: Variant[] = [];
  try {
    for (const name of ['checked', 'unchecked'] as const) {
      const databaseUrl = await createPgDatabase(admin);
      const server = await startServerProcess({
        DATABASE_URL: databaseUrl,
        ...(name === 'unchecked' ? { CHANCERY_BENCH_UNCHECKED_STATE: '1' } : {}),
      });
      const variant: Variant = {
        name,
        server,
        databaseUrl,
        token: '',
        submissionId: '',
        ocspRequest: Buffer.alloc(0),
        envelopes: [],
        next: 0,
      };
      variants.push(variant); // stopped in `finally` whatever happens next
      Object.assign(variant, await prepare(server));
    }
    const results: Record<string, Record<string, LoadResult[]>> = { checked: {}, unchecked: {} };
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        const add = (what: string, r: LoadResult): void => {
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`${v.name} ${what}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          (results[v.name]![what] ??= []).push(r);
        };
        add('submit', await submitLoad(v));
        add(
          'getSubmission',
          await loadTest({
            url: `${v.server.url}/api/v1/submissions/${v.submissionId}`,
            headers: { authorization: `Bearer ${v.token}` },
            connections: CONNECTIONS,
            durationSeconds: SECONDS,
          }),
        );
        add(
          'ocspPost',
          await loadTest({
            url: `${v.server.url}/ocsp`,
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: v.ocspRequest,
            connections: CONNECTIONS,
            durationSeconds: SECONDS,
          }),
        );
      }
    }
    const out: Record<string, unknown> = { rounds: ROUNDS, secondsPerWindow: SECONDS, connections: CONNECTIONS };
    for (const what of Object.keys(results['checked']!)) {
      const median = (rs: LoadResult[]): number => rs.map((r) => r.requestsPerSecond).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
      const checked = median(results['checked']![what]!);
      const unchecked = median(results['unchecked']![what]!);
      out[what] = {
        checkedPerSec: checked,
        uncheckedPerSec: unchecked,
        checkedVsUnchecked: round(checked / unchecked, 3),
        checkedP99Ms: results['checked']![what]!.map((r) => r.latencyP99Ms),
        uncheckedP99Ms: results['unchecked']![what]!.map((r) => r.latencyP99Ms),
        perRound: {
          checked: results['checked']![what]!.map((r) => r.requestsPerSecond),
          unchecked: results['unchecked']![what]!.map((r) => r.requestsPerSecond),
        },
      };
    }
    return out;
  } finally {
    for (const v of variants) {
      await v.server.stop();
      await dropPgDatabase(v.databaseUrl, admin);
    }
  }
}

/** An enterprise with a certificate, one accepted submission to read, the envelopes to submit. */
async function prepare(server: ServerProcess): Promise<Omit<Variant, 'name' | 'server' | 'databaseUrl' | 'next'>> {
  const operator = await ChanceryClient.login(
    server.url,
    signerFromPem('admin', readFileSync(join(server.dataDir, 'admin', 'admin.key.pem'))),
    pemDecodeAll(readFileSync(join(server.dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!,
  );
  const issuing = pemDecodeAll(readFileSync(join(server.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
  const uscc = completeUscc('9144030588000100');
  await operator.json('POST', '/api/v1/enterprises', { uscc, name: 'Binding Benchmark Co Ltd' });
  const signer = signerFromPem('e', generateUserKey('P-256').privateKeyPem);
  const cert = await operator.json<{ pem: string; serial: string }>('POST', '/api/v1/certificates', {
    profile: 'enterprise-signing',
    uscc,
    csr: (await buildCsr(signer)).pem,
  });
  const chain = [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing];
  const now = new Date();
  const envelopes: Buffer[] = [];
  for (let i = 0; i <= ROUNDS * ENVELOPES_PER_ROUND; i++) {
    envelopes.push(
      await signCms({ signer, chain, content: documentBytes(annualReport(uscc, `BIND-${i}`, now)), detached: false, time: now }),
    );
  }
  // Signing took a while: a kept-alive connection from before may have been closed by the server.
  const envelope = envelopes.pop()!;
  const first = await new ChanceryClient(server.url).submit(envelope).catch(() => new ChanceryClient(server.url).submit(envelope));
  if (first.kind !== 'created') throw new Error(`the first submission was ${first.kind}`);
  const enterprise = await ChanceryClient.login(server.url, signer, chain);
  return {
    token: enterprise.token!,
    submissionId: (first.body as { id: string }).id,
    ocspRequest: buildOcspRequest(issuing, cert.serial),
    envelopes,
  };
}

/** New submissions for SECONDS (distinct envelopes, each posted once). */
function submitLoad(v: Variant): Promise<LoadResult> {
  return loadTest({
    url: v.server.url,
    connections: CONNECTIONS,
    durationSeconds: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/submissions',
        headers: { 'content-type': 'application/cms' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: v.envelopes[v.next++ % v.envelopes.length] }),
      },
    ],
  });
}
