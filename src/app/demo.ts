import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogClient } from '../audit/auditor/client.js';
import { remoteSource, verifyLog } from '../audit/auditor/verify.js';
import { parseCheckpoint } from '../audit/checkpoint.js';
import { parseNote, parseVerifierKey } from '../audit/note.js';
import { buildCsr } from '../ca/csr-builder.js';
import { pemDecodeAll, pemEncode } from '../der/pem.js';
import { loadConfig } from '../config.js';
import { sha256Hex } from '../crypto/digest.js';
import { generateUserKey, signerFromPem } from '../crypto/private-key-file.js';
import type { Signer } from '../crypto/signer.js';
import { migrate, readMigrations } from '../db/migrate.js';
import { openPglite } from '../db/pglite.js';
import { createLogger } from '../log.js';
import { loadPolicies } from '../policy/policy.js';
import { completeUscc } from '../registry/uscc.js';
import { startService, type Service } from './server.js';
import { countersignCms, signCms } from '../sign/cms.js';
import { parseCertificate } from '../verify/certificate.js';
import { verifyEnvelope } from '../verify/envelope.js';
import { ChanceryClient } from '../client/submissions.js';
import { proveReceipt } from '../submissions/receipt-proof.js';
import { openEvidence } from '../submissions/evidence.js';
import { offlineChanceryRevocation } from '../submissions/receipts.js';
import { crlSource } from '../verify/crl.js';
import { documentBytes, foodBusinessLicence } from '../submissions/samples.js';
import type { DemoOptions } from '../cli/services.js';

/**
 * `chancery demo`: the whole story on an embedded instance in a temp dir, one short line
 * per step, each step checking that the service behaved as described. Everything goes through the
 * real HTTP API and the real clients (login, submit, countersign, receipts, auditor), exactly as
 * users and auditors would use them. Resolves true only when every step behaved.
 */

class DemoFailure extends Error {}

const STEPS = 11;

export async function runDemo(options: DemoOptions): Promise<boolean> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'chancery-demo-'));
  const out = join(dataDir, 'demo');
  let service: Service | undefined;
  let n = 0;
  const step = async <T>(name: string, run: () => Promise<{ value: T; line: string }>): Promise<T> => {
    n++;
    const started = performance.now();
    try {
      const { value, line } = await run();
      options.say(
        `[ok]   ${String(n).padStart(2)}/${STEPS} ${name.padEnd(12)} ${line}  (${((performance.now() - started) / 1000).toFixed(2)} s)`,
      );
      return value;
    } catch (error) {
      options.say(`[FAIL] ${String(n).padStart(2)}/${STEPS} ${name.padEnd(12)} ${(error as Error).message}`);
      throw new DemoFailure();
    }
  };
  const expect = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(what);
  };

  try {
    const started = performance.now();
    // 1. init
    service = await step('init', async () => {
      await prepareDatabase(dataDir, options.say);
      // The keys are protected as `chancery serve` would protect them here (CHANCERY_KEY_PASSPHRASE,
      // or the data dir's own generated passphrase), so a kept demo dir can be served as it is.
      const passphrase = process.env['CHANCERY_KEY_PASSPHRASE'];
      const config = loadConfig(passphrase === undefined ? {} : { CHANCERY_KEY_PASSPHRASE: passphrase }, {
        dataDir,
        host: '127.0.0.1',
        port: '0',
        logLevel: 'silent',
      });
      const s = await startService(config, createLogger('silent'));
      return { value: s, line: `CA hierarchy, OCSP responder, service seal and log key made; serving on 127.0.0.1:${s.server.port}` };
    });
    const url = `http://127.0.0.1:${service.server.port}`;
    mkdirSync(out, { recursive: true });
    const issuing = pemDecodeAll(readFileSync(join(dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    const root = pemDecodeAll(readFileSync(join(dataDir, 'ca', 'root.pem'), 'utf8'), ['CERTIFICATE'])![0]!;

    // 2. registry
    const uscc = completeUscc('9144030571234567');
    const revokedUscc = completeUscc('9144030571234999');
    const admin = await step('registry', async () => {
      const adminSigner = signerFromPem('admin', readFileSync(join(dataDir, 'admin', 'admin.key.pem')));
      const adminChain = pemDecodeAll(readFileSync(join(dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;
      const client = await ChanceryClient.login(url, adminSigner, adminChain);
      await client.json('POST', '/api/v1/enterprises', { uscc, name: 'Shenzhen Nanshan Fresh Foods Co Ltd' });
      await client.json('POST', '/api/v1/officers', {
        id: 'SZ-R-001',
        name: 'Wang Fang',
        authority: 'Shenzhen Market Regulation Administration',
        role: 'reviewer',
        jurisdiction: '440300',
      });
      await client.json('POST', '/api/v1/officers', {
        id: 'GD-A-001',
        name: 'Zhao Lei',
        authority: 'Guangdong Market Regulation Administration',
        role: 'approver',
        jurisdiction: '440000',
      });
      return {
        value: client,
        line: `operator logged in; enterprise ${uscc} registered, reviewer SZ-R-001 (440300) and approver GD-A-001 (440000)`,
      };
    });

    // 3. certificates from CSRs
    const holder = async (name: string, body: Record<string, unknown>): Promise<{ signer: Signer; chain: Buffer[]; serial: string }> => {
      const key = generateUserKey('P-256').privateKeyPem;
      const signer = signerFromPem(name, key);
      const cert = await admin.json<{ serial: string; pem: string }>('POST', '/api/v1/certificates', {
        ...body,
        csr: (await buildCsr(signer)).pem,
      });
      writeFileSync(join(out, `${name}.key.pem`), key, { mode: 0o600 });
      writeFileSync(join(out, `${name}.cert.pem`), cert.pem + pemEncode('CERTIFICATE', issuing));
      return { signer, chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing], serial: cert.serial };
    };
    const { enterprise, reviewer, approver } = await step('certificates', async () => {
      const [e, r, a] = await Promise.all([
        holder('enterprise', { profile: 'enterprise-signing', uscc }),
        holder('reviewer', { profile: 'officer', officerId: 'SZ-R-001' }),
        holder('approver', { profile: 'officer', officerId: 'GD-A-001' }),
      ]);
      return {
        value: { enterprise: e, reviewer: r, approver: a },
        line: `keys made here, CSRs signed with them, 3 certificates issued (enterprise ${e.serial.slice(0, 8)}…, officers ${r.serial.slice(0, 8)}…, ${a.serial.slice(0, 8)}…)`,
      };
    });

    // 4. the enterprise signs and submits
    const receipts: Array<{ what: string; jws: string }> = [];
    const applicationId = `FBL-${new Date().getUTCFullYear()}-000117`;
    const submitted = await step('submit', async () => {
      const document = documentBytes(foodBusinessLicence(uscc, applicationId, new Date()));
      const envelope = await signCms({
        signer: enterprise.signer,
        chain: enterprise.chain,
        content: document,
        detached: false,
        time: new Date(),
      });
      writeFileSync(join(out, 'application.json'), document);
      writeFileSync(join(out, 'application.p7s'), envelope);
      const outcome = await new ChanceryClient(url).submit(envelope);
      expect(
        outcome.kind === 'created',
        `expected a new submission, got ${outcome.kind}${outcome.kind === 'rejected' ? `: ${outcome.body.detail}` : ''}`,
      );
      const body = outcome.kind === 'rejected' ? undefined : outcome.body;
      expect(body?.status === 'pending' && body.nextStep?.role === 'reviewer', `expected pending at the reviewer, got ${body?.status}`);
      receipts.push({ what: 'pending', jws: body!.receipt });
      return {
        value: body!,
        line: `food-business-licence ${applicationId} signed (CMS, ES256) and submitted → pending, waiting for a reviewer`,
      };
    });
    const id = submitted.id;

    // 5. and 6. the officers countersign
    const countersign = async (who: typeof reviewer, decision: 'approve', expected: string): Promise<string> => {
      const client = await ChanceryClient.login(url, who.signer, who.chain);
      const queue = await client.list({ status: 'pending' });
      expect(
        queue.items.some((s) => s.id === id),
        "the submission is not in the officer's queue",
      );
      const current = await client.envelope(id);
      const countersigned = await countersignCms(current, { signer: who.signer, chain: who.chain, decision, time: new Date() });
      const body = await client.countersign(id, countersigned);
      expect(body.status === expected, `expected ${expected}, got ${body.status}`);
      receipts.push({ what: body.status, jws: body.receipt });
      return body.status;
    };
    await step('review', async () => {
      await countersign(reviewer, 'approve', 'pending');
      return {
        value: undefined,
        line: 'reviewer SZ-R-001 found it in the queue, countersigned (approve) → pending, waiting for an approver',
      };
    });
    await step('approve', async () => {
      await countersign(approver, 'approve', 'approved');
      const client = await ChanceryClient.login(url, enterprise.signer, enterprise.chain);
      const final = await client.envelope(id);
      writeFileSync(join(out, 'approved.p7s'), final);
      const report = await verifyEnvelope({
        envelope: final,
        anchors: [parseCertificate(root)],
        intermediates: [parseCertificate(issuing)],
        revocation: offlineChanceryRevocation(await client.caCrls()),
        policy: loadPolicies().get('food-business-licence'),
        time: new Date(),
      });
      expect(
        report.indication === 'TOTAL_PASSED' && report.signatures.length === 3,
        `the approved envelope does not verify offline: ${report.indication} (${[...report.checks, ...report.signatures.flatMap((s) => s.checks)].find((c) => c.result !== 'PASSED')?.message ?? ''})`,
      );
      return {
        value: undefined,
        line: 'approver GD-A-001 (a different officer) countersigned → approved; the envelope verifies offline with both countersignatures',
      };
    });

    // 7. a revoked enterprise
    await step('revoked', async () => {
      await admin.json('POST', '/api/v1/enterprises', { uscc: revokedUscc, name: 'Nanshan Night Market Snacks Co Ltd' });
      const other = await holder('revoked-enterprise', { profile: 'enterprise-signing', uscc: revokedUscc });
      const document = documentBytes(foodBusinessLicence(revokedUscc, `FBL-${new Date().getUTCFullYear()}-000118`, new Date()));
      const envelope = await signCms({ signer: other.signer, chain: other.chain, content: document, detached: false, time: new Date() });
      await admin.json('POST', `/api/v1/enterprises/${revokedUscc}/revoke`, {
        reason: 'business licence revoked for food-safety violations',
      });
      const outcome = await new ChanceryClient(url).submit(envelope);
      expect(outcome.kind === 'rejected', `expected a rejection, got ${outcome.kind}`);
      const body = outcome.kind === 'rejected' ? outcome.body : undefined;
      expect(body!.code === 'ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE', `expected ERR_SUBMISSION_ENTERPRISE_NOT_ACTIVE, got ${body!.code}`);
      receipts.push({ what: 'rejected', jws: body!.receipt });
      return {
        value: undefined,
        line: `${revokedUscc}'s licence revoked, then its application → rejected (${body!.code}): ${body!.detail.replace(/^the application was rejected: /, '').replace(/; the policy .*$/, '')}`,
      };
    });

    // 8. the receipts
    const vkey = readFileSync(join(dataDir, 'log.vkey'), 'utf8').trim();
    await step('receipts', async () => {
      const client = new LogClient(url);
      const crls = await new ChanceryClient(url).caCrls();
      const indexes: number[] = [];
      for (const [i, r] of receipts.entries()) {
        writeFileSync(join(out, `receipt-${i + 1}-${r.what}.jws`), `${r.jws}\n`);
        const proof = await proveReceipt({
          receipt: r.jws,
          trust: { anchors: [parseCertificate(root)], revocation: offlineChanceryRevocation(crls) },
          client,
          verifier: parseVerifierKey(vkey),
        });
        expect(proof.receipt.payload.status === r.what, `receipt ${i + 1} says ${proof.receipt.payload.status}, not ${r.what}`);
        indexes.push(proof.receipt.payload.logIndex);
      }
      return {
        value: undefined,
        line: `${receipts.length} receipts (${receipts.map((r) => r.what).join(', ')}): seal signature and chain verified, each entry proven in a signed checkpoint (log ${indexes.join(', ')})`,
      };
    });

    // 9. audit verify
    await step('audit', async () => {
      const client = new LogClient(url);
      const checkpoint = await client.checkpoint();
      const size = parseCheckpoint(parseNote(checkpoint).text).size;
      const result = await verifyLog({ verifier: parseVerifierKey(vkey), checkpoint, source: remoteSource(client, size) });
      expect(result.ok, result.ok ? '' : `audit verify failed at ${result.failure.index}: ${result.failure.message}`);
      return {
        value: undefined,
        line: `audit verify over the whole log: ${result.ok ? result.entries : 0} entries, both hash chains, the Merkle root and the checkpoint signature check out with the log key alone`,
      };
    });

    // 10. the evidence container, validated offline ten years on on the log's proofs of existence
    await step('evidence', async () => {
      const client = await ChanceryClient.login(url, enterprise.signer, enterprise.chain);
      const container = await client.bytes(`/api/v1/submissions/${encodeURIComponent(id)}/evidence`);
      writeFileSync(join(out, 'evidence.asice'), container);
      const opened = openEvidence(container, { logKey: vkey });
      const tenYearsOn = new Date(Date.now() + 3653 * 86_400_000);
      const report = await verifyEnvelope({
        envelope: opened.envelope,
        content: opened.document,
        anchors: [parseCertificate(root)],
        revocation: crlSource(opened.crls),
        policies: loadPolicies(),
        proofsOfExistence: opened.proofsOfExistence,
        time: tenYearsOn,
      });
      expect(
        report.indication === 'TOTAL_PASSED',
        `the evidence does not validate ten years on: ${report.indication} (${[...report.checks, ...report.signatures.flatMap((s) => s.checks)].find((c) => c.result !== 'PASSED')?.message ?? ''})`,
      );
      return {
        value: undefined,
        line: `evidence.asice (ASiC-E: ${opened.entries.length} transitions proven into checkpoint ${opened.checkpointSize}, ${opened.crls.length} CRLs) validates offline at ${tenYearsOn.toISOString().slice(0, 10)}, every certificate expired, on the log's proofs of existence`,
      };
    });

    // 11. summary
    await step('done', async () => ({
      value: undefined,
      line: `the whole story in ${((performance.now() - started) / 1000).toFixed(1)} s${options.keep === true ? `; keys, envelopes and receipts are in ${out}; carry on with: chancery serve --data-dir ${dataDir}` : ''}`,
    }));
    return true;
  } catch (error) {
    if (!(error instanceof DemoFailure)) options.say(`[FAIL] ${(error as Error).message}`);
    return false;
  } finally {
    await service?.stop().catch(() => undefined);
    if (options.keep !== true && options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A new embedded database cluster takes PGlite several seconds to make and migrate; an empty,
 * migrated one is made once per machine and migration set (in the temp dir, named by the hash of
 * the migrations) and copied for each demo, which takes well under a second.
 */
async function prepareDatabase(dataDir: string, say: (line: string) => void): Promise<void> {
  if (existsSync(join(dataDir, 'pgdata'))) return;
  const migrations = readMigrations();
  const key = sha256Hex(migrations.map((m) => `${m.name}:${m.checksum}`).join('\n')).slice(0, 16);
  const template = join(tmpdir(), `chancery-demo-pglite-${key}`);
  if (!existsSync(join(template, 'pgdata', 'PG_VERSION'))) {
    say('       (first run of this version on this machine: making an empty embedded database to copy from; about 10 s, once)');
    const building = mkdtempSync(join(tmpdir(), 'chancery-demo-template-'));
    const db = await openPglite(building);
    try {
      await migrate(db, migrations);
    } finally {
      await db.close();
    }
    rmSync(join(building, 'pgdata.lock'), { force: true });
    try {
      renameSync(building, template);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another demo made it at the same time
    }
  }
  cpSync(join(template, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
}
