import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogClient } from '../src/audit/auditor/client.js';
import { compareWithService, replayLog } from '../src/audit/auditor/replay.js';
import { remoteSource } from '../src/audit/auditor/verify.js';
import { parseCheckpoint } from '../src/audit/checkpoint.js';
import { parseNote, parseVerifierKey } from '../src/audit/note.js';
import { buildCsr } from '../src/ca/csr-builder.js';
import { loginOverHttp } from '../src/client/login.js';
import { generateUserKey, signerFromPem } from '../src/crypto/private-key-file.js';
import { completeUscc } from '../src/registry/uscc.js';
import { pgDriver, pgliteDriver } from '../test/helpers/db.js';
import { createWorld } from '../test/submissions/fixtures.js';
import { round } from './lib.js';

/**
 * `audit replay` against a real service over loopback HTTP, at two sizes in the same run, to show
 * how its comparison scales: N enterprises and N certificates (one in four revoked), an auditor
 * login. Log side (stream + verify + rebuild) and comparison side (API, OCSP, CRL, revoked list)
 * are timed apart. The service runs in this process (PostgreSQL when DATABASE_URL is set).
 */
const SIZES = (process.env['REPLAY_BENCH_SIZES'] ?? '100,300').split(',').map(Number);

export async function runReplayBench(): Promise<Record<string, unknown>> {
  const driver = process.env['DATABASE_URL'] ? pgDriver : pgliteDriver;
  const w = await createWorld(driver);
  try {
    const token = (await loginOverHttp(w.url, w.auditor.signer, w.auditor.chain)).token;
    const vkey = readFileSync(join(w.ts.dataDir, 'log.vkey'), 'utf8').trim();
    const runs: Array<Record<string, number>> = [];
    let made = 0;
    for (const size of SIZES) {
      for (; made < size; made++) {
        const uscc = completeUscc(`9111010590${String(made).padStart(6, '0')}`);
        await w.admin.json('POST', '/api/v1/enterprises', { uscc, name: `Bench Enterprise ${made} Co Ltd` });
        const csr = (await buildCsr(signerFromPem('bench', generateUserKey('P-256').privateKeyPem))).pem;
        const { serial } = await w.admin.json<{ serial: string }>('POST', '/api/v1/certificates', {
          profile: 'enterprise-signing',
          uscc,
          csr,
        });
        if (made % 4 === 0) await w.admin.json('POST', `/api/v1/certificates/${serial}/revoke`, { reason: 'superseded' });
      }
      await w.ts.service.auditPart.checkpointer.publish();
      const client = new LogClient(w.url);
      const checkpoint = await client.checkpoint();
      const entries = parseCheckpoint(parseNote(checkpoint).text).size;
      let t = performance.now();
      const { verify, state } = await replayLog({ verifier: parseVerifierKey(vkey), checkpoint, source: remoteSource(client, entries) });
      const logMs = performance.now() - t;
      t = performance.now();
      const result = await compareWithService(state, verify, { url: w.url, authorization: () => Promise.resolve(`Bearer ${token}`) });
      const compareMs = performance.now() - t;
      if (!result.ok) throw new Error(`bench: the clean service diverged: ${JSON.stringify(result.divergences)}`);
      const subjects = state.submissions.size + state.certificates.size + state.enterprises.size;
      runs.push({
        entries,
        subjects,
        logSeconds: round(logMs / 1000, 3),
        compareSeconds: round(compareMs / 1000, 2),
        compareMsPerSubject: round(compareMs / subjects, 2),
      });
    }
    const [a, b] = [runs[0]!, runs[runs.length - 1]!];
    return {
      driver: driver.name,
      runs,
      ratioCompareTimeToSubjects: round(b['compareSeconds']! / a['compareSeconds']! / (b['subjects']! / a['subjects']!), 2),
    };
  } finally {
    await w.stop();
  }
}
