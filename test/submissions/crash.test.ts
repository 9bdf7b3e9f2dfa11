import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashLeaf } from '../../src/audit/merkle.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { signCms } from '../../src/sign/cms.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { readReceipt } from '../../src/submissions/receipts.js';
import { annualReport, documentBytes } from '../../src/submissions/samples.js';
import { createPgDatabase, dropPgDatabase, pgOnly } from '../helpers/db.js';
import { CHANCERY_BIN, runCli, startChild, type Child } from '../helpers/spawn.js';

/**
 * `kill -9` of the service during a load of submissions, on real PostgreSQL: after a
 * restart, every submission that got a 2xx has its record, its receipt and its log entry (at the
 * index and with the leaf hash its receipt names), and `chancery audit verify` passes.
 */
const pg = pgOnly();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(pg === undefined)('a crash during a load of submissions (PostgreSQL, separate process)', () => {
  it('keeps every acknowledged submission with its receipt and log entry, and the log verifies', { timeout: 240_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chancery-crash-'));
    const databaseUrl = await createPgDatabase();
    const env = { CHANCERY_KEY_PASSPHRASE: 'crash-test passphrase, not a secret', LOG_LEVEL: 'info' };
    const serve = async (): Promise<{ child: Child; url: string }> => {
      const port = await freePort();
      const child = startChild(
        process.execPath,
        [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir, '--database-url', databaseUrl],
        env,
      );
      await child.waitFor('chancery listening', 120_000);
      return { child, url: `http://127.0.0.1:${port}` };
    };
    let running: Child | undefined;
    try {
      const first = await serve();
      running = first.child;
      const admin = await ChanceryClient.login(
        first.url,
        signerFromPem('admin', readFileSync(join(dataDir, 'admin', 'admin.key.pem'))),
        pemDecodeAll(readFileSync(join(dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!,
      );
      const uscc = completeUscc('9144030500077000');
      await admin.json('POST', '/api/v1/enterprises', { uscc, name: 'Crash Test Foods Co Ltd' });
      const issuing = pemDecodeAll(readFileSync(join(dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
      const holder = async (body: Record<string, unknown>) => {
        const signer = signerFromPem('k', generateUserKey('P-256').privateKeyPem);
        const cert = await admin.json<{ pem: string }>('POST', '/api/v1/certificates', { ...body, csr: (await buildCsr(signer)).pem });
        return { signer, chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing] };
      };
      const enterprise = await holder({ profile: 'enterprise-signing', uscc });
      const auditor = await holder({ profile: 'auditor', name: 'Crash Auditor' });
      const envelopes = await Promise.all(
        Array.from({ length: 600 }, (_, i) =>
          signCms({
            signer: enterprise.signer,
            chain: enterprise.chain,
            content: documentBytes(annualReport(uscc, `CRASH-${i}`, new Date())),
            detached: false,
            time: new Date(),
          }),
        ),
      );

      // Load from 32 clients; kill -9 once 150 submissions were acknowledged.
      const acknowledged: Array<{ id: string; receipt: string }> = [];
      let next = 0;
      let killed = false;
      const worker = async (): Promise<void> => {
        while (next < envelopes.length) {
          const envelope = envelopes[next++]!;
          try {
            const outcome = await new ChanceryClient(first.url).submit(envelope);
            if (outcome.kind === 'rejected') throw new Error(`rejected under load: ${outcome.body.detail}`);
            acknowledged.push({ id: outcome.body.id, receipt: outcome.body.receipt });
            if (acknowledged.length >= 150 && !killed) {
              killed = true;
              first.child.process.kill('SIGKILL');
            }
          } catch (error) {
            if (!killed) throw error; // after the kill, failures are expected
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      expect(killed).toBe(true);
      await first.child.finished;

      const second = await serve();
      running = second.child;
      const client = await ChanceryClient.login(second.url, auditor.signer, auditor.chain);
      for (const { id, receipt } of acknowledged) {
        const payload = readReceipt(receipt).payload;
        const view = await client.status(id);
        expect(view.history[0]).toMatchObject({ logIndex: payload.logIndex, leafHash: payload.leafHash, status: payload.status });
        expect(await client.receipt(id)).toBe(receipt);
        const page = await client.json<{ entries: Array<{ index: number; leafHash: string; entry: string }> }>(
          'GET',
          `/log/entries?start=${payload.logIndex}&end=${payload.logIndex + 1}`,
        );
        expect(page.entries[0]!.leafHash).toBe(payload.leafHash);
        expect(hashLeaf(Buffer.from(page.entries[0]!.entry, 'utf8')).toString('hex')).toBe(payload.leafHash);
      }
      // Wait for a checkpoint of the whole log, then verify it as an auditor would.
      for (let i = 0; i < 50; i++) {
        const size = Number((await (await fetch(`${second.url}/log/checkpoint`)).text()).split('\n')[1]);
        const head = (await client.json<{ treeSize: number }>('GET', '/log/entries?start=0&end=1')).treeSize;
        if (size === head) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const verified = await runCli(['audit', 'verify', '--url', second.url, '--log-key', join(dataDir, 'log.vkey'), '--no-state']);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain('verified');
    } finally {
      running?.process.kill('SIGKILL');
      await running?.finished;
      await dropPgDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
