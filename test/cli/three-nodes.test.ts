import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { crlPartitionOf } from '../../src/ca/crl-publisher.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { loginOverHttp } from '../../src/client/login.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { openPg } from '../../src/db/pg.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { expectIntactLog } from '../audit/helpers.js';
import { parseOcspResponse } from '../ca/ocsp-parse.js';
import { createPgDatabase, dropPgDatabase, pgOnly } from '../helpers/db.js';
import { startNode, startThreeNodes, waitFor, type ServiceNode } from './service-nodes.js';

const pg = pgOnly();

const uscc = (n: number): string => completeUscc(`91330100${String(n).padStart(8, '0')}`);

/**
 * Scale-out as an operator does it: three `chancery serve` processes on one PostgreSQL, each with
 * its own port and data dir holding the same keys (a copy of the first node's data dir), behind
 * nothing. Requests are spread round-robin; one node is killed with SIGKILL under load. The CRL
 * partition count chosen when the first node initialized the CA is the one every node issues with.
 */
describe.skipIf(pg === undefined)('three service nodes on one PostgreSQL', () => {
  const work = mkdtempSync(join(tmpdir(), 'chancery-3nodes-'));
  let databaseUrl: string | undefined;
  const nodes: ServiceNode[] = [];
  afterAll(async () => {
    for (const n of nodes) n.child.process.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.child.finished));
    if (databaseUrl !== undefined) await dropPgDatabase(databaseUrl);
    rmSync(work, { recursive: true, force: true });
  });

  it('one log, one CRL, agreeing OCSP and tokens, and no lost or duplicated decision after a SIGKILL', { timeout: 300_000 }, async () => {
    databaseUrl = await createPgDatabase();
    // The first node initializes the CA with 16 CRL partitions; the others are started without a count.
    await startThreeNodes(work, databaseUrl, nodes, { CHANCERY_CRL_PARTITIONS: '16' });
    const admin = join(work, 'a', 'admin');
    const signer = signerFromPem('admin', readFileSync(join(admin, 'admin.key.pem')));
    const chain = pemDecodeAll(readFileSync(join(admin, 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;

    // Logins on every node; every token works on every node.
    const tokens = await Promise.all(nodes.map((n) => loginOverHttp(n.url, signer, chain).then((t) => t.token)));
    for (const token of tokens) {
      for (const n of nodes) {
        const res = await fetch(`${n.url}/api/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, n.name).toBe(200);
        expect(((await res.json()) as { role: string }).role).toBe('admin');
      }
    }
    const post = (i: number, path: string, body: unknown): Promise<Response> =>
      fetch(`${nodes[i % 3]!.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i % 3]!}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // Registrations, issuance and revocations spread over the nodes.
    const csr = (await buildCsr(signerFromPem('k', generateUserKey('P-256').privateKeyPem))).pem;
    const serials: string[] = [];
    for (let i = 0; i < 12; i++) {
      expect((await post(i, '/api/v1/enterprises', { uscc: uscc(i), name: `Hangzhou ${i} Co` })).status).toBe(201);
      const issued = await post(i + 1, '/api/v1/certificates', { profile: 'enterprise-signing', uscc: uscc(i), csr });
      expect(issued.status).toBe(201);
      serials.push(((await issued.json()) as { serial: string }).serial);
    }
    for (let i = 0; i < 6; i++) {
      const res =
        i % 2 === 0
          ? await post(i, `/api/v1/certificates/${serials[i]}/revoke`, { reason: 'keyCompromise' })
          : await post(i, `/api/v1/enterprises/${uscc(i)}/revoke`, {});
      expect(res.status).toBe(200);
    }
    // Every node issued into the 16 partitions stored at init.
    const partitions = await openPg(databaseUrl, { max: 1 });
    try {
      const { rows } = await partitions.query<{ serial: string; crl_partition: number | null }>(
        'SELECT serial, crl_partition FROM certificates WHERE serial = ANY($1)',
        [serials],
      );
      expect(rows).toHaveLength(12);
      for (const row of rows) expect(row.crl_partition, row.serial).toBe(crlPartitionOf(row.serial, 16));
    } finally {
      await partitions.close();
    }
    // A node started with another count refuses to start rather than issue into other partitions.
    cpSync(join(work, 'a'), join(work, 'd'), { recursive: true, filter: (src) => !src.endsWith('.tmp') });
    await expect(startNode('d', join(work, 'd'), databaseUrl, { CHANCERY_CRL_PARTITIONS: '64' })).rejects.toThrow(
      'CHANCERY_CRL_PARTITIONS (--crl-partitions) is 64, but this CA was initialized with 16 CRL partitions',
    );

    // A second revocation of the same serial, on another node, is refused as on one node.
    expect((await post(1, `/api/v1/certificates/${serials[0]}/revoke`, {})).status).toBe(409);

    // OCSP: every node answers the same status for every serial.
    const issuing = pemDecodeAll(readFileSync(join(work, 'a', 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    for (const [i, serial] of serials.entries()) {
      const statuses = new Set<string>();
      for (const n of nodes) {
        const res = await fetch(`${n.url}/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: buildOcspRequest(issuing, serial),
        });
        const parsed = parseOcspResponse(Buffer.from(await res.arrayBuffer()));
        expect(parsed.signatureValid).toBe(true);
        statuses.add(parsed.singles[0]!.status);
      }
      expect([...statuses], serial).toEqual([i < 6 ? 'revoked' : 'good']);
    }

    // One CRL sequence: every CRL a certificate names (and the issuing CA's) is the same document on every node.
    const crlPaths = new Set<string>(['/ca/issuing.crl']);
    const certPem = (
      (await (
        await fetch(`${nodes[0]!.url}/api/v1/certificates/${serials[11]}`, { headers: { authorization: `Bearer ${tokens[0]!}` } })
      ).json()) as { pem: string }
    ).pem;
    for (const m of pemDecodeAll(certPem, ['CERTIFICATE'])![0]!
      .toString('latin1')
      .matchAll(/https?:\/\/[\x21-\x7e]+?\.crl/g))
      crlPaths.add(new URL(m[0]).pathname);
    await waitFor(async () => {
      for (const path of crlPaths) {
        const bodies = await Promise.all(
          nodes.map(async (n) => Buffer.from(await (await fetch(`${n.url}${path}`)).arrayBuffer()).toString('hex')),
        );
        if (new Set(bodies).size !== 1) return false;
      }
      return true;
    }, 'the same CRLs on every node');

    // Load on all three nodes; node b is killed with SIGKILL in the middle of it.
    const acknowledged = new Set<string>();
    let n = 1000;
    let stop = false;
    const workers = Array.from({ length: 9 }, async (_, w) => {
      while (!stop) {
        const code = uscc(n++);
        const res = await post(w, '/api/v1/enterprises', { uscc: code, name: `Load ${code}` }).catch(() => undefined);
        if (res === undefined) {
          if (w % 3 === 1) await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        if (res.status === 201) acknowledged.add(code);
        else expect(res.status, await res.text()).toBeLessThan(500);
        await res.arrayBuffer().catch(() => undefined);
      }
    });
    await new Promise((r) => setTimeout(r, 3000));
    nodes[1]!.child.process.kill('SIGKILL');
    await nodes[1]!.child.finished;
    await new Promise((r) => setTimeout(r, 3000));
    stop = true;
    await Promise.all(workers);
    expect(acknowledged.size).toBeGreaterThan(20);

    const db = await openPg(databaseUrl, { max: 2 });
    try {
      const entries = await expectIntactLog(db);
      const registered = new Map<string, number>();
      for (const e of entries) if (e.kind === 'enterprise.registered') registered.set(e.subject, (registered.get(e.subject) ?? 0) + 1);
      for (const code of acknowledged) expect(registered.get(`enterprise:${code}`), code).toBe(1);
      expect([...registered.values()].every((c) => c === 1)).toBe(true);
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM enterprises WHERE uscc LIKE $1', ['91330100%']);
      // Every enterprise in the table has its entry, and the other way round.
      expect(Number(rows[0]!.n)).toBe(registered.size);
      const size = entries.length;
      // One log: the surviving nodes publish the same checkpoint of the whole tree.
      await waitFor(async () => {
        const notes = await Promise.all([nodes[0]!, nodes[2]!].map(async (node) => (await fetch(`${node.url}/log/checkpoint`)).text()));
        return notes.every((t) => Number(t.split('\n')[1]) === size) && new Set(notes.map((t) => t.split('\n')[2])).size === 1;
      }, 'the same checkpoint on the surviving nodes');
    } finally {
      await db.close();
    }
    // The killed node restarts on the same database and agrees.
    nodes[1] = await startNode('b', join(work, 'b'), databaseUrl);
    await waitFor(async () => {
      const notes = await Promise.all(nodes.map(async (node) => (await fetch(`${node.url}/log/checkpoint`)).text()));
      return new Set(notes.map((t) => t.split('\n').slice(1, 3).join(' '))).size === 1;
    }, 'one checkpoint root on all three nodes');
  });
});
