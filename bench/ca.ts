import { withComposedParts } from './composed.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginOverHttp } from '../src/client/login.js';
import { buildCsr } from '../src/ca/csr-builder.js';
import { buildOcspRequest } from '../src/ca/ocsp-request.js';
import { pemDecodeAll } from '../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { completeUscc } from '../src/registry/uscc.js';
import { loadTest, round, startServerProcess } from './lib.js';

/**
 * The CA's benchmarks:
 * - issuance from a CSR in process, including the database row and the audit entry, with 32
 *   concurrent requests (target ≥ 500/s), on the embedded database and on PostgreSQL when
 *   DATABASE_URL is set; quoted against raw ECDSA P-256 verifies/s;
 * - OCSP responses over HTTP for a known serial, server in its own process, 64 connections
 *   (target ≥ 2,000/s), POST and GET; quoted against GET /healthz requests/s.
 */
export async function runCaBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const pglite = await issuance('pglite');
  out['issuancePgliteCertsPerSec'] = pglite;
  out['issuancePgliteVsEcdsaVerify'] = round(pglite / baseline['ecdsaP256VerifyPerSec']!, 4);
  if (process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '') {
    const pg = await issuance('pg');
    out['issuancePgCertsPerSec'] = pg;
    out['issuancePgVsEcdsaVerify'] = round(pg / baseline['ecdsaP256VerifyPerSec']!, 4);
  }
  Object.assign(out, await ocsp(baseline));
  return out;
}

const CONCURRENCY = 32;
const SECONDS = 5;

async function issuance(driver: 'pglite' | 'pg'): Promise<number> {
  return withComposedParts(driver, 'ca', 20, async ({ audit, parts: services }) => {
    const uscc = completeUscc('9135010000099900');
    await services.registry.registerEnterprise({ uscc, name: 'Benchmark Trading Co Ltd' }, 'system');
    const csrs: string[] = [];
    for (let i = 0; i < 64; i++) csrs.push((await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem);
    let issued = 0;
    const run = async (until: number, count: boolean): Promise<void> => {
      const worker = async (w: number): Promise<void> => {
        for (let i = w; performance.now() < until; i += CONCURRENCY) {
          await services.ca.issue({ profile: 'enterprise-signing', uscc, csr: csrs[i % csrs.length] }, 'system');
          if (count) issued++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    };
    await run(performance.now() + 1000, false);
    const start = performance.now();
    await run(start + SECONDS * 1000, true);
    const rate = issued / ((performance.now() - start) / 1000);
    services.stop();
    await audit.close();
    return round(rate);
  });
}

async function ocsp(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  // The embedded database: the figure is the responder's, not a shared PostgreSQL's.
  const server = await startServerProcess({ DATABASE_URL: '' });
  try {
    const signer = signerFromPem('admin', readFileSync(join(server.dataDir, 'admin', 'admin.key.pem')));
    const chain = pemDecodeAll(readFileSync(join(server.dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;
    const { token } = await loginOverHttp(server.url, signer, chain);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const uscc = completeUscc('9135010000099901');
    await fetch(`${server.url}/api/v1/enterprises`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ uscc, name: 'OCSP Benchmark Co Ltd' }),
    });
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const cert = (await (
      await fetch(`${server.url}/api/v1/certificates`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ profile: 'enterprise-signing', uscc, csr }),
      })
    ).json()) as { serial: string };
    const issuing = pemDecodeAll(readFileSync(join(server.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    const request = buildOcspRequest(issuing, cert.serial);
    const post = await loadTest({
      url: `${server.url}/ocsp`,
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: request,
      connections: 64,
      durationSeconds: SECONDS,
    });
    const get = await loadTest({
      url: `${server.url}/ocsp/${encodeURIComponent(request.toString('base64'))}`,
      connections: 64,
      durationSeconds: SECONDS,
    });
    const withNonce = await loadTest({
      url: `${server.url}/ocsp`,
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: buildOcspRequest(issuing, cert.serial, { nonce: true }),
      connections: 64,
      durationSeconds: SECONDS,
    });
    for (const [name, r] of Object.entries({ post, get, withNonce })) {
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`OCSP ${name} load had ${r.non2xx} non-2xx and ${r.errors} errors`);
    }
    const healthz = baseline['healthzRequestsPerSec']!;
    return {
      ocspPostPerSec: post.requestsPerSecond,
      ocspPostP99Ms: post.latencyP99Ms,
      ocspPostVsHealthz: round(post.requestsPerSecond / healthz, 3),
      ocspGetPerSec: get.requestsPerSecond,
      ocspGetVsHealthz: round(get.requestsPerSecond / healthz, 3),
      ocspNoncePerSec: withNonce.requestsPerSecond,
      ocspNonceVsHealthz: round(withNonce.requestsPerSecond / healthz, 3),
    };
  } finally {
    await server.stop();
  }
}
