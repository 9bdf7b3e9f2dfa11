import { generateKeyPairSync, sign, verify, createHash } from 'node:crypto';
import { loadTest, opsPerSecond, startServerProcess } from './lib.js';

/**
 * Baselines every other benchmark is quoted against, measured in the same run: raw
 * `crypto.verify` ECDSA P-256, raw SHA-256 of 1 KiB, and GET /healthz through the real server.
 */
export async function runBaseline(): Promise<Record<string, number>> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(256, 7);
  const signature = sign('sha256', message, privateKey);
  const ecdsaP256VerifyPerSec = await opsPerSecond(() => {
    if (!verify('sha256', message, publicKey, signature)) throw new Error('baseline signature failed');
  });
  const kib = Buffer.alloc(1024, 1);
  const sha256OneKibPerSec = await opsPerSecond(() => createHash('sha256').update(kib).digest());

  const server = await startServerProcess();
  try {
    const load = await loadTest({ url: `${server.url}/healthz`, connections: 64, durationSeconds: 5 });
    if (load.non2xx > 0 || load.errors > 0) throw new Error(`healthz load had ${load.non2xx} non-2xx and ${load.errors} errors`);
    return {
      ecdsaP256VerifyPerSec,
      sha256OneKibPerSec,
      healthzRequestsPerSec: load.requestsPerSecond,
      healthzP99Ms: load.latencyP99Ms,
    };
  } finally {
    await server.stop();
  }
}
